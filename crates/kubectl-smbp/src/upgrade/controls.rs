//! The upgrade controls, written as the operator already understands them (docs/upgrades.md
//! "Controls"): `start` sets `spec.version`, `pause`/`resume` set `spec.upgrade.paused`,
//! `approve` sets the `smbp.dev/approve-step` annotation, `retry` the `smbp.dev/retry-upgrade`
//! annotation. Each is a server-side apply of that one field under a field manager of the
//! plugin's own, one per control (`kubectl-smbp-pause`, ...): a manager owns exactly the field it
//! sets, so a later control never removes an earlier one's field (server-side apply drops the
//! fields a manager stops applying). A field another manager set (a GitOps controller, `kubectl
//! apply`) is a conflict: the command says who owns it, and takes it over only with
//! `--force-conflicts`. Every control says what will happen and asks before doing it, unless
//! `--yes`.

use crate::cli::Confirm;
use crate::error::{Error, Result};
use crate::session::{Io, Session};
use kube::api::{Api, Patch, PatchParams};
use semver::Version;
use serde_json::{Value, json};
use smbp_api::v1alpha1::{BigPeer, UpgradePhase, UpgradeStrategy};
use smbp_core::catalogue;
use smbp_core::upgrade::{APPROVE_ANNOTATION, RETRY_ANNOTATION};
use std::io::Write;

/// The field-manager prefix of the plugin's writes.
pub const FIELD_MANAGER: &str = "kubectl-smbp";

/// `upgrade start NAME --to VERSION`.
pub async fn start(
    session: &Session,
    io: &mut Io,
    name: &str,
    to: &str,
    confirm: &Confirm,
) -> Result<()> {
    let bigpeer = super::bigpeer(session, name).await?;
    let target = Version::parse(to)
        .map_err(|e| Error::Usage(format!("--to {to:?} is not a version ({e})")))?;
    // The checks the admission webhook and the reconciler run, on the spec as it would be.
    let mut spec = bigpeer.spec.clone();
    spec.version = target.to_string();
    let running = running(&bigpeer).and_then(|v| Version::parse(&v).ok());
    let report = smbp_core::validation::validate(name, &spec, running.as_ref());
    if !report.is_valid() {
        let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
        return Err(Error::ChecksFailed(format!(
            "spec.version {to} would be refused: {}",
            errors.join("; ")
        )));
    }
    for warning in report.warnings() {
        io.note(&format!("warning: {warning}"));
    }
    let route = match &running {
        Some(from) => catalogue::builtin()
            .upgrade_path(from, &target)
            .map(|path| path.to_string())
            .unwrap_or_default(),
        None => format!("install {to}"),
    };
    if bigpeer.spec.version == to {
        io.print(&format!(
            "BigPeer {}/{name} already asks for {to} (spec.version); nothing to change.\n",
            session.namespace
        ))?;
        return Ok(());
    }
    let describe = format!(
        "Set spec.version of BigPeer {}/{name} from {} to {to}: the operator upgrades along {route}, \
running the pre-flight checks first (see `kubectl smbp upgrade plan {name} --to {to}`).",
        session.namespace, bigpeer.spec.version
    );
    let patch = json!({"spec": {"version": to}});
    write(session, io, name, "start", patch, &describe, confirm).await?;
    io.print(&format!(
        "spec.version set to {to}. Follow it with `kubectl smbp status {name}`.\n"
    ))
}

/// `upgrade pause NAME` and `upgrade resume NAME`.
pub async fn set_paused(
    session: &Session,
    io: &mut Io,
    name: &str,
    paused: bool,
    confirm: &Confirm,
) -> Result<()> {
    let bigpeer = super::bigpeer(session, name).await?;
    let now = bigpeer.spec.upgrade.as_ref().is_some_and(|u| u.paused);
    let verb = if paused { "paused" } else { "resumed" };
    if now == paused {
        io.print(&format!(
            "BigPeer {}/{name}: upgrades are already {verb} (spec.upgrade.paused={paused}); nothing to change.\n",
            session.namespace
        ))?;
        return Ok(());
    }
    let under_way = active_phase(&bigpeer);
    let describe = match (paused, under_way) {
        (true, Some(phase)) => format!(
            "Pause the upgrade of BigPeer {}/{name} (now {}): the step in flight finishes, then the operator stops before the next one and holds the store partition where it is.",
            session.namespace,
            phase.as_str()
        ),
        (true, None) => format!(
            "Pause upgrades of BigPeer {}/{name}: no upgrade is under way; the next one waits in Pending until resumed.",
            session.namespace
        ),
        (false, _) => format!(
            "Resume upgrades of BigPeer {}/{name}: the operator continues with the next step.",
            session.namespace
        ),
    };
    let patch = json!({"spec": {"upgrade": {"paused": paused}}});
    write(session, io, name, "pause", patch, &describe, confirm).await?;
    io.print(&format!("Upgrades of {name} {verb}.\n"))
}

/// `upgrade approve NAME [STEP]`.
pub async fn approve(
    session: &Session,
    io: &mut Io,
    name: &str,
    step: Option<&str>,
    confirm: &Confirm,
) -> Result<()> {
    let bigpeer = super::bigpeer(session, name).await?;
    let strategy = bigpeer
        .spec
        .upgrade
        .as_ref()
        .map(|u| u.strategy)
        .unwrap_or_default();
    if strategy != UpgradeStrategy::Manual {
        return Err(Error::ChecksFailed(format!(
            "BigPeer {}/{name} upgrades with strategy {strategy:?}: steps need no approval (set spec.upgrade.strategy to Manual for that)",
            session.namespace
        )));
    }
    let awaiting = bigpeer
        .status
        .as_ref()
        .and_then(|s| s.upgrade.as_ref())
        .and_then(|u| u.awaiting_approval.clone());
    let step = match (step, awaiting.as_deref()) {
        (Some(step), _) => step.to_string(),
        (None, Some(awaiting)) => awaiting.to_string(),
        (None, None) => {
            return Err(Error::ChecksFailed(format!(
                "no step of BigPeer {}/{name} awaits approval (status.upgrade.awaitingApproval is empty); name a STEP to approve it ahead",
                session.namespace
            )));
        }
    };
    let describe = match awaiting.as_deref() {
        Some(awaiting) if awaiting == step => format!(
            "Approve step {step} of BigPeer {}/{name}: the operator runs it, then waits for the next approval.",
            session.namespace
        ),
        Some(awaiting) => format!(
            "Approve step {step} of BigPeer {}/{name} ahead of time. Note: the step awaiting approval is {awaiting}, which this does NOT approve.",
            session.namespace
        ),
        None => format!(
            "Approve step {step} of BigPeer {}/{name} ahead of time: it runs without waiting when reached.",
            session.namespace
        ),
    };
    let patch = json!({"metadata": {"annotations": {APPROVE_ANNOTATION: step}}});
    write(session, io, name, "approve", patch, &describe, confirm).await?;
    io.print(&format!("Step {step} approved.\n"))
}

/// `upgrade retry NAME`.
pub async fn retry(session: &Session, io: &mut Io, name: &str, confirm: &Confirm) -> Result<()> {
    let bigpeer = super::bigpeer(session, name).await?;
    let upgrade = bigpeer.status.as_ref().and_then(|s| s.upgrade.as_ref());
    let phase = upgrade.and_then(|u| u.phase);
    if !matches!(phase, Some(UpgradePhase::RolledBack | UpgradePhase::Failed)) {
        return Err(Error::ChecksFailed(format!(
            "the upgrade of BigPeer {}/{name} is {}: only a RolledBack or Failed upgrade can be retried",
            session.namespace,
            phase.map_or("not started", |p| p.as_str())
        )));
    }
    let version = bigpeer.spec.version.clone();
    let cause = upgrade
        .and_then(|u| u.message.clone())
        .unwrap_or_else(|| "no cause recorded".into());
    let describe = format!(
        "Retry the upgrade of BigPeer {}/{name} to {version} with fresh migration Jobs. It {} because: {cause}. Fix that first.",
        session.namespace,
        phase.map_or("", |p| if p == UpgradePhase::Failed {
            "failed"
        } else {
            "rolled back"
        })
    );
    let patch = json!({"metadata": {"annotations": {RETRY_ANNOTATION: version}}});
    write(session, io, name, "retry", patch, &describe, confirm).await?;
    io.print(&format!(
        "Retry requested; the operator removes {RETRY_ANNOTATION} when the new attempt starts.\n"
    ))
}

fn running(bigpeer: &BigPeer) -> Option<String> {
    bigpeer.status.as_ref()?.version.as_ref()?.current.clone()
}

fn active_phase(bigpeer: &BigPeer) -> Option<UpgradePhase> {
    bigpeer
        .status
        .as_ref()?
        .upgrade
        .as_ref()?
        .phase
        .filter(|p| !p.is_terminal())
}

/// Asks for confirmation unless `--yes`; refuses when there is no terminal to ask on.
pub fn confirmed(io: &mut Io, describe: &str, confirm: &Confirm) -> Result<()> {
    io.note(describe);
    if confirm.yes {
        return Ok(());
    }
    let Some(input) = io.input.as_mut() else {
        return Err(Error::NotConfirmed(
            "standard input is not a terminal, so the change cannot be confirmed: pass --yes to make it".into(),
        ));
    };
    let _ = write!(io.err, "Proceed? [y/N] ");
    let _ = io.err.flush();
    let mut answer = String::new();
    input
        .read_line(&mut answer)
        .map_err(|e| Error::Failed(format!("cannot read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Error::NotConfirmed("not confirmed; nothing changed".into())),
    }
}

/// Confirms, then applies `patch` to the BigPeer under the control's field manager.
async fn write(
    session: &Session,
    io: &mut Io,
    name: &str,
    control: &str,
    mut patch: Value,
    describe: &str,
    confirm: &Confirm,
) -> Result<()> {
    confirmed(io, describe, confirm)?;
    patch["apiVersion"] = json!("smbp.dev/v1alpha1");
    patch["kind"] = json!("BigPeer");
    patch["metadata"]["name"] = json!(name);
    let manager = format!("{FIELD_MANAGER}-{control}");
    let mut params = PatchParams::apply(&manager);
    params.force = confirm.force_conflicts;
    let api: Api<BigPeer> = Api::namespaced(session.client.clone(), &session.namespace);
    match api.patch(name, &params, &Patch::Apply(&patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Err(Error::Conflict(format!(
            "another field manager owns this field: {}. Under GitOps change it in the source of truth instead; \
--force-conflicts takes it over (the other manager may set it back)",
            status.message
        ))),
        Err(e) => Err(Error::kube(
            format!("apply to BigPeer {}/{name}", session.namespace),
            e,
        )),
    }
}
