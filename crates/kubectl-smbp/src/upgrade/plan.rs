//! `kubectl smbp upgrade plan NAME --to VERSION`: the path through the release catalogue with
//! its required stops, the migrations each hop runs, every pre-flight check evaluated now against
//! the live cluster (with the operator's own code: `smbp_core::upgrade::preflight` on the world
//! `smbp_core::upgrade::observe` builds), the steps in the order pods roll, and how long it may
//! take with the BigPeer's rollout settings. Exit 6 when a check fails.

use crate::error::{Error, Result, is_not_found};
use crate::output::{self, Table, Tone, toned};
use crate::session::{Io, Session};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DynamicObject, ListParams};
use semver::Version;
use serde::Serialize;
use smbp_api::v1alpha1::{BigPeer, UpgradeStrategy};
use smbp_core::build::{ChildKind, Names, ReleaseImage};
use smbp_core::catalogue;
use smbp_core::upgrade::steps::{self, StepKind};
use smbp_core::upgrade::{CHECKS, Inputs, observe, preflight};

/// What `upgrade plan` shows; `-o json|yaml` prints it as is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The BigPeer.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The release every pod runs now.
    pub from: String,
    /// The target.
    pub to: String,
    /// Each release rolled out, in order.
    pub hops: Vec<Hop>,
    /// Every pre-flight check, evaluated now.
    pub preflight: Vec<Check>,
    /// Every step, in the order the operator takes them.
    pub steps: Vec<PlanStep>,
    /// How long it may take.
    pub duration: Estimate,
    /// `RollingUpdate` or `Manual`.
    pub strategy: String,
    /// Things to know before starting (paused, maintenance window, an upgrade under way).
    pub notes: Vec<String>,
}

/// One hop of the path.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    /// The release.
    pub version: String,
    /// Whether it is a required stop (not the target).
    pub required_stop: bool,
    /// The image the pods will run.
    pub image: Option<String>,
    /// The expand migration Job.
    pub pre_migration_job: String,
    /// The contract migration Job.
    pub post_migration_job: String,
}

/// One pre-flight check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Its name.
    pub name: String,
    /// Whether it passes now.
    pub passed: bool,
    /// What it verifies, or why it fails.
    pub detail: String,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// Its name (what an approval names).
    pub id: String,
    /// What it does.
    pub action: String,
}

/// The duration estimate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    /// The least it takes: every store step waits minReadySeconds (pod start-up and migrations
    /// come on top).
    pub at_least_seconds: u64,
    /// The most it may take before a step times out: both migrations at migrationTimeout and
    /// every pod at podReadyTimeout, per hop.
    pub at_most_seconds: u64,
}

/// Runs `upgrade plan`.
pub async fn run(session: &Session, io: &mut Io, name: &str, to: &str) -> Result<()> {
    let bigpeer = super::bigpeer(session, name).await?;
    let plan = build(session, &bigpeer, to, io.clock.now()).await?;
    match output::structured(session.global.output, &plan)? {
        Some(text) => io.print(&text)?,
        None => {
            let text = render(&plan, io.colour);
            io.print(&text)?;
        }
    }
    let failed: Vec<&str> = plan
        .preflight
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::ChecksFailed(format!(
            "pre-flight checks failing now: {}; the operator would hold the upgrade until they pass",
            failed.join(", ")
        )))
    }
}

/// The plan of upgrading `bigpeer` to `to`, checked against the cluster at `now`.
pub async fn build(
    session: &Session,
    bigpeer: &BigPeer,
    to: &str,
    now: jiff::Timestamp,
) -> Result<Plan> {
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let status = bigpeer.status.clone().unwrap_or_default();
    // An upgrade under way ends on its target; a new one starts from there.
    let in_flight = status
        .upgrade
        .as_ref()
        .filter(|u| u.phase.is_some_and(|p| !p.is_terminal()))
        .and_then(|u| u.to.clone());
    let from = in_flight
        .clone()
        .or_else(|| status.version.as_ref().and_then(|v| v.current.clone()))
        .ok_or_else(|| {
            Error::ChecksFailed(format!(
                "BigPeer {}/{name} has no running version yet (status.version.current): nothing to upgrade from until its first rollout completes",
                session.namespace
            ))
        })?;
    let target = Version::parse(to).map_err(|e| {
        Error::Usage(format!(
            "--to {to:?} is not a version ({e}); for example --to {}",
            catalogue::builtin().latest().version
        ))
    })?;
    if from == target.to_string() {
        return Err(Error::ChecksFailed(format!(
            "BigPeer {}/{name} already runs {from}: nothing to upgrade",
            session.namespace
        )));
    }
    let path = Version::parse(&from)
        .ok()
        .and_then(|f| catalogue::builtin().upgrade_path(&f, &target).ok());
    let hop_names: Vec<String> = path
        .as_ref()
        .map(|p| p.hops.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let upgrade_status = status.upgrade.clone();
    let attempt =
        upgrade_status.as_ref().map_or(0, |u| u.finished_upgrades) + u32::from(in_flight.is_some());
    let names = Names::new(&name);
    let hops = hop_names
        .iter()
        .enumerate()
        .map(|(i, hop)| Hop {
            version: hop.clone(),
            required_stop: i + 1 < hop_names.len(),
            image: ReleaseImage::of(hop, &bigpeer.spec).map(|r| r.image),
            pre_migration_job: names.migration("pre", hop, attempt),
            post_migration_job: names.migration("post", hop, attempt),
        })
        .collect::<Vec<_>>();

    let world = observe_world(session, bigpeer, now).await?;
    let annotations = bigpeer.metadata.annotations.clone().unwrap_or_default();
    let current_image = status.version.as_ref().and_then(|v| v.image.clone());
    let inputs = Inputs {
        name: &name,
        spec: &bigpeer.spec,
        annotations: &annotations,
        current: Some(&from),
        current_image: current_image.as_deref(),
        status: upgrade_status.as_ref(),
        world: &world,
        now,
    };
    let failures = preflight::run(&inputs, &from, to);
    let checks = CHECKS
        .iter()
        .map(
            |(check, verifies)| match failures.iter().find(|f| f.check == *check) {
                Some(failure) => Check {
                    name: check.to_string(),
                    passed: false,
                    detail: failure.message.clone(),
                },
                None => Check {
                    name: check.to_string(),
                    passed: true,
                    detail: verifies.to_string(),
                },
            },
        )
        .collect();

    let settings = bigpeer.spec.upgrade.clone().unwrap_or_default();
    let replicas = bigpeer.spec.store.replicas;
    let planned = steps::planned(&hop_names, replicas, settings.max_unavailable);
    let store_steps = planned
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Store { .. }))
        .count() as u64;
    let window =
        preflight::upgrade_window(&settings, hop_names.len(), replicas + world.sync_replicas);
    let plan_steps = planned
        .iter()
        .map(|s| PlanStep {
            id: s.id.clone(),
            action: action(&name, &names, &hops, s),
        })
        .collect();
    Ok(Plan {
        name: name.clone(),
        namespace: session.namespace.clone(),
        from,
        to: to.to_string(),
        hops,
        preflight: checks,
        steps: plan_steps,
        duration: Estimate {
            at_least_seconds: store_steps * settings.min_ready_seconds.max(0) as u64,
            at_most_seconds: window.as_secs().max(0) as u64,
        },
        strategy: format!("{:?}", settings.strategy),
        notes: notes(bigpeer, &name),
    })
}

/// What a step does, in words.
fn action(name: &str, names: &Names, hops: &[Hop], step: &steps::PlannedStep) -> String {
    let hop = hops.iter().find(|h| h.version == step.hop);
    let job = |post: bool| {
        hop.map(|h| {
            if post {
                h.post_migration_job.clone()
            } else {
                h.pre_migration_job.clone()
            }
        })
        .unwrap_or_default()
    };
    match &step.kind {
        StepKind::PreMigration => format!(
            "run Job {} (migrate --phase pre: expand, readable by both releases)",
            job(false)
        ),
        StepKind::Store {
            partition,
            ordinals,
        } => {
            let pods: Vec<String> = ordinals
                .iter()
                .map(|o| format!("{name}-store-{o}"))
                .collect();
            format!(
                "replace {} with {} (partition {partition})",
                pods.join(", "),
                step.hop
            )
        }
        StepKind::Sync => format!(
            "roll Deployment {} to {} (surge, no pod unavailable)",
            names.sync(),
            step.hop
        ),
        StepKind::PostMigration => format!(
            "run Job {} (migrate --phase post: contract; no rollback past this step)",
            job(true)
        ),
    }
}

fn notes(bigpeer: &BigPeer, name: &str) -> Vec<String> {
    let settings = bigpeer.spec.upgrade.clone().unwrap_or_default();
    let mut notes = Vec::new();
    if settings.strategy == UpgradeStrategy::Manual {
        notes.push(format!(
            "strategy Manual: every step waits for `kubectl smbp upgrade approve {name} STEP`"
        ));
    }
    if settings.paused {
        notes.push(format!(
            "spec.upgrade.paused is set: nothing starts until `kubectl smbp upgrade resume {name}`"
        ));
    }
    if let Some(window) = &settings.maintenance_window {
        notes.push(format!(
            "maintenance window: starts only on {} from {} UTC for {}",
            if window.days.is_empty() {
                "any day".to_string()
            } else {
                window
                    .days
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            window.start,
            window.duration
        ));
    }
    let active = bigpeer
        .status
        .as_ref()
        .and_then(|s| s.upgrade.as_ref())
        .and_then(|u| u.phase.map(|p| (p, u.to.clone())))
        .filter(|(p, _)| !p.is_terminal());
    if let Some((phase, to)) = active {
        notes.push(format!(
            "an upgrade to {} is under way ({}): this plan starts when it ends, from its target",
            to.unwrap_or_default(),
            phase.as_str()
        ));
    }
    notes
}

/// Lists what the pre-flight checks look at and builds the operator's view of it.
pub async fn observe_world(
    session: &Session,
    bigpeer: &BigPeer,
    now: jiff::Timestamp,
) -> Result<smbp_core::upgrade::World> {
    let ns = &session.namespace;
    let client = &session.client;
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let names = Names::new(&name);
    let read = |what: String| move |e| Error::kube(what, e);
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&observe::pod_selector(&name)))
        .await
        .map_err(read(format!("list the pods of {ns}/{name}")))?;
    let jobs = Api::<Job>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&observe::migration_selector(&name)))
        .await
        .map_err(read(format!("list the migration Jobs of {ns}/{name}")))?;
    let sync = Api::<Deployment>::namespaced(client.clone(), ns)
        .get_opt(&names.sync())
        .await
        .map_err(read(format!("read Deployment {ns}/{}", names.sync())))?;
    let budget = Api::<PodDisruptionBudget>::namespaced(client.clone(), ns)
        .get_opt(&names.store())
        .await
        .map_err(read(format!(
            "read PodDisruptionBudget {ns}/{}",
            names.store()
        )))?;
    let managed = bigpeer
        .spec
        .tls
        .as_ref()
        .is_some_and(|t| t.cert_manager.is_some());
    let mut certificate = None;
    if managed {
        let resource = ChildKind::Certificate.api_resource();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource);
        match api.get(&names.certificate()).await {
            Ok(found) => certificate = Some(found.data),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::kube("read the Certificate", e)),
        }
    }
    let observed = observe::Observed {
        pods: &pods.items,
        jobs: &jobs.items,
        sync: sync.as_ref(),
        store_budget: budget.as_ref(),
        certificate: certificate.as_ref(),
    };
    Ok(observe::world(bigpeer, &observed, now))
}

/// The table form of a plan.
pub fn render(plan: &Plan, colour: bool) -> String {
    let mut out = format!(
        "Upgrade plan for BigPeer {}/{}: {} → {}\n",
        plan.namespace, plan.name, plan.from, plan.to
    );
    if plan.hops.is_empty() {
        out.push_str("Path:            none (see PathAllowed below)\n");
    } else {
        let path: Vec<String> = plan
            .hops
            .iter()
            .map(|h| {
                if h.required_stop {
                    format!("{} (required stop)", h.version)
                } else {
                    h.version.clone()
                }
            })
            .collect();
        out.push_str(&format!(
            "Path:            {} → {}\n",
            plan.from,
            path.join(" → ")
        ));
    }
    out.push_str(&format!("Strategy:        {}\n", plan.strategy));
    out.push_str(&format!(
        "Duration:        at least {} (minReadySeconds per store step, plus pod start-up and migrations); at most {} before a step times out\n",
        crate::clock::human(plan.duration.at_least_seconds),
        crate::clock::human(plan.duration.at_most_seconds)
    ));
    for note in &plan.notes {
        out.push_str(&format!("Note:            {note}\n"));
    }

    let mut hops = Table::new(&["HOP", "RELEASE", "IMAGE", "MIGRATIONS"]);
    for (i, h) in plan.hops.iter().enumerate() {
        hops.row(vec![
            (i + 1).to_string().into(),
            h.version.clone().into(),
            h.image.clone().unwrap_or_else(|| "-".into()).into(),
            format!("{}, {}", h.pre_migration_job, h.post_migration_job).into(),
        ]);
    }
    if !hops.is_empty() {
        out.push_str("\nHops:\n");
        out.push_str(&hops.render(colour));
    }

    let mut checks = Table::new(&["CHECK", "RESULT", "DETAIL"]);
    for c in &plan.preflight {
        checks.row(vec![
            c.name.clone().into(),
            toned(if c.passed { "pass" } else { "FAIL" }, Tone::of(c.passed)),
            c.detail.clone().into(),
        ]);
    }
    out.push_str("\nPre-flight checks (evaluated now):\n");
    out.push_str(&checks.render(colour));

    let mut steps = Table::new(&["#", "STEP", "ACTION"]);
    for (i, s) in plan.steps.iter().enumerate() {
        steps.row(vec![
            (i + 1).to_string().into(),
            s.id.clone().into(),
            s.action.clone().into(),
        ]);
    }
    if !steps.is_empty() {
        out.push_str("\nSteps, in order:\n");
        out.push_str(&steps.render(colour));
    }
    out
}
