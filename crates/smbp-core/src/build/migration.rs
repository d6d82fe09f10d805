//! Migration Jobs: the product image run to completion with the workload contract's migration
//! command and `--phase pre` (expand, before any pod changes) or `--phase post` (contract, after
//! every pod runs the new release). Same configuration, TLS and transaction-log access as the
//! sync pods; no probes; never restarted in place (the Job retries with a new pod, twice); the
//! Job itself ends after `spec.upgrade.migrationTimeout` (`activeDeadlineSeconds`).

use super::meta::Context;
use super::pod::{self, PodParts};
use super::rollout::Migration;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use smbp_api::defaults;
use std::collections::BTreeMap;

const COMPONENT: &str = "migration";
/// The label naming the phase (`pre` or `post`) of a migration Job and its pods.
pub const MIGRATION_PHASE_LABEL: &str = "smbp.dev/migration-phase";
/// Retries of a failed migration pod before the Job fails.
const BACKOFF_LIMIT: i32 = 2;

/// The Job of each requested migration.
pub fn jobs(
    ctx: &Context,
    checksums: &BTreeMap<String, String>,
    migrations: &[Migration],
) -> Vec<Job> {
    migrations.iter().map(|m| job(ctx, checksums, m)).collect()
}

fn job(ctx: &Context, checksums: &BTreeMap<String, String>, migration: &Migration) -> Job {
    let phase = migration.phase.as_str();
    let upgrade = ctx.spec().upgrade.clone().unwrap_or_default();
    let deadline = crate::duration::parse(&upgrade.migration_timeout)
        .map_or(1800, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut template = pod::template(
        ctx,
        PodParts {
            component: COMPONENT,
            release: &migration.release,
            resources: ctx
                .spec()
                .sync
                .resources
                .clone()
                .unwrap_or_else(defaults::sync_resources),
            scheduling: ctx.spec().sync.scheduling.as_ref(),
            overrides: None,
            checksums,
            extra_mounts: Vec::new(),
        },
    );
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.insert(MIGRATION_PHASE_LABEL.into(), phase.into());
    }
    if let Some(spec) = template.spec.as_mut() {
        spec.restart_policy = Some("Never".into());
        for container in &mut spec.containers {
            let mut args = ctx.workload.migration_command.clone();
            args.extend(["--phase".to_string(), phase.to_string()]);
            args.push(format!(
                "--config={}/{}",
                super::config::CONFIG_DIR,
                super::CONFIG_FILE
            ));
            container.args = Some(args);
            container.ports = None;
            container.startup_probe = None;
            container.liveness_probe = None;
            container.readiness_probe = None;
        }
    }
    let mut metadata = ctx.meta(
        ctx.names
            .migration(phase, &migration.release.version, migration.attempt),
        COMPONENT,
    );
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(MIGRATION_PHASE_LABEL.into(), phase.into());
        labels.insert(
            super::meta::VERSION_LABEL.into(),
            migration.release.version.clone(),
        );
    }
    Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(BACKOFF_LIMIT),
            active_deadline_seconds: Some(deadline),
            template,
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}
