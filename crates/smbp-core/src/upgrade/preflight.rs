//! Pre-flight checks: run before an upgrade changes anything. Each has a name, which becomes the
//! `Upgrading` condition's reason and the Event's subject when it fails; a failing check holds the
//! upgrade in Preflight (nothing to undo) until it passes.

use super::Inputs;
use crate::build::ReleaseImage;
use crate::catalogue;
use jiff::SignedDuration;
use semver::Version;
use smbp_api::v1alpha1::UpgradeSpec;

/// Every check, by name, with what it verifies (docs/upgrades.md lists these).
pub const CHECKS: [(&str, &str); 7] = [
    (
        "PodsReady",
        "every store pod exists and is Ready, and the sync tier has all its replicas available",
    ),
    (
        "NoUpgradeInProgress",
        "every pod runs the same release (no earlier rollout or rollback is still converging)",
    ),
    (
        "PathAllowed",
        "the release catalogue allows the upgrade, through its required stops",
    ),
    ("TransactionLogReady", "the transaction log is Ready"),
    (
        "CertificateValid",
        "the serving certificate stays valid for longer than the upgrade may take",
    ),
    (
        "DisruptionAllowed",
        "the store's PodDisruptionBudget allows a disruption now",
    ),
    (
        "ImagesResolvable",
        "every release on the path has an image in the catalogue",
    ),
];

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check's name (one of [`CHECKS`]).
    pub check: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// The longest an upgrade along `hops` may take with these settings: each hop's two migrations
/// at their timeout and every pod at its ready timeout.
pub fn upgrade_window(settings: &UpgradeSpec, hops: usize, pods: i32) -> SignedDuration {
    let secs = |text: &str| crate::duration::parse(text).map_or(0, |d| d.as_secs() as i64);
    let per_hop = 2 * secs(&settings.migration_timeout)
        + i64::from(pods.max(1)) * secs(&settings.pod_ready_timeout);
    SignedDuration::from_secs(per_hop * hops.max(1) as i64)
}

/// Runs every check for an upgrade from `from` to `to`; returns the failures, in [`CHECKS`]
/// order.
pub fn run(inputs: &Inputs, from: &str, to: &str) -> Vec<Failure> {
    let world = inputs.world;
    let spec = inputs.spec;
    let settings = spec.upgrade.clone().unwrap_or_default();
    let replicas = spec.store.replicas;
    let mut failures = Vec::new();
    let mut fail = |check: &'static str, message: String| failures.push(Failure { check, message });

    let store: Vec<_> = world
        .store_pods
        .iter()
        .filter(|p| p.ordinal.is_some_and(|o| o < replicas))
        .collect();
    let not_ready: Vec<String> = (0..replicas)
        .filter(|o| {
            !store
                .iter()
                .any(|p| p.ordinal == Some(*o) && p.ready_since.is_some() && !p.terminating)
        })
        .map(|o| format!("{}-store-{o}", inputs.name))
        .collect();
    let sync_ready = world
        .sync_pods
        .iter()
        .filter(|p| p.ready_since.is_some() && !p.terminating)
        .count() as i32;
    if !not_ready.is_empty() || sync_ready < world.sync_replicas {
        fail(
            "PodsReady",
            format!(
                "{} of {replicas} store pods and {sync_ready} of {} sync pods are Ready{}; the upgrade starts when all are",
                replicas - not_ready.len() as i32,
                world.sync_replicas,
                if not_ready.is_empty() {
                    String::new()
                } else {
                    format!(" (not Ready: {})", not_ready.join(", "))
                }
            ),
        );
    }

    let mut versions: Vec<&str> = store
        .iter()
        .map(|p| p.version.as_deref().unwrap_or("unknown"))
        .chain(
            world
                .sync_pods
                .iter()
                .map(|p| p.version.as_deref().unwrap_or("unknown")),
        )
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if versions.iter().any(|v| *v != from) {
        fail(
            "NoUpgradeInProgress",
            format!(
                "pods run {}, not only {from}; wait until the previous rollout or rollback settles",
                versions.join(", ")
            ),
        );
    }

    let path = Version::parse(from)
        .ok()
        .zip(Version::parse(to).ok())
        .map(|(f, t)| catalogue::builtin().upgrade_path(&f, &t));
    let hops = match path {
        Some(Ok(path)) => path.hops.iter().map(ToString::to_string).collect(),
        Some(Err(error)) => {
            fail("PathAllowed", error.to_string());
            Vec::new()
        }
        None => {
            fail(
                "PathAllowed",
                format!("{from} → {to} is not a pair of semantic versions"),
            );
            Vec::new()
        }
    };

    if let Some(reason) = &world.transaction_log_not_ready {
        fail("TransactionLogReady", reason.clone());
    }

    if let Some(not_after) = world.certificate_not_after {
        let window = upgrade_window(&settings, hops.len(), replicas + world.sync_replicas);
        if not_after < inputs.now + window {
            fail(
                "CertificateValid",
                format!(
                    "the certificate expires at {not_after}, before the upgrade could end (up to {:#} from now); renew it first",
                    window
                ),
            );
        }
    }

    match world.disruptions_allowed {
        Some(n) if n >= 1 => {}
        Some(_) => fail(
            "DisruptionAllowed",
            "the store PodDisruptionBudget allows no disruption now (a pod is already down, or a node drain is in progress)".into(),
        ),
        None => fail(
            "DisruptionAllowed",
            "the store PodDisruptionBudget has not reported its status yet".into(),
        ),
    }

    let unresolvable: Vec<&String> = hops
        .iter()
        .filter(|hop| ReleaseImage::of(hop, spec).is_none())
        .collect();
    if !unresolvable.is_empty() {
        fail(
            "ImagesResolvable",
            format!(
                "no image in the catalogue for {}",
                unresolvable
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    failures
}
