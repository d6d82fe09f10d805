//! Which release each component runs while the build renders it. Outside an upgrade both
//! components run `spec.version` ([`Rollout::steady`]); during one the upgrade planner
//! ([`crate::upgrade`]) holds a component on the previous release, steps the store's partition and
//! asks for a migration Job.

use super::ValidatedBigPeer;
use crate::catalogue;
use semver::Version;
use smbp_api::v1alpha1::BigPeerSpec;

/// A release and the image reference (by digest) that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseImage {
    /// The product version.
    pub version: String,
    /// The image reference, by digest.
    pub image: String,
}

impl ReleaseImage {
    /// The image of `version` for this spec: the catalogue's image, with `spec.image.repository`
    /// (a mirror) applied, and `spec.image.digest` only when `version` is `spec.version` (the pin
    /// belongs to that release). `None` when the catalogue does not know the version.
    pub fn of(version: &str, spec: &BigPeerSpec) -> Option<Self> {
        let catalogue = catalogue::builtin();
        let parsed = Version::parse(version).ok()?;
        let release = catalogue.releases().iter().find(|r| r.version == parsed)?;
        let overrides = spec.image.as_ref();
        let digest = overrides
            .and_then(|i| i.digest.as_deref())
            .filter(|_| version == spec.version);
        let image = catalogue.image(
            release,
            overrides.and_then(|i| i.repository.as_deref()),
            digest,
        );
        Some(ReleaseImage {
            version: version.to_string(),
            image: image.by_digest(),
        })
    }
}

/// Whether a migration Job expands (before any pod changes) or contracts (after every pod runs
/// the new release).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationPhase {
    /// `--phase pre`: compatible with both releases.
    Pre,
    /// `--phase post`: only once no pod runs the previous release.
    Post,
}

impl MigrationPhase {
    /// The value of the `--phase` argument.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationPhase::Pre => "pre",
            MigrationPhase::Post => "post",
        }
    }
}

/// One migration Job to run (or to keep until the upgrade's status records its outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Expand or contract.
    pub phase: MigrationPhase,
    /// The release whose migration it is, and its image.
    pub release: ReleaseImage,
    /// How many upgrades ended before the one it belongs to (see [`super::Names::migration`]).
    pub attempt: u32,
}

/// What the store and sync pods run, how far the store's rolling update has gone, and which
/// migration Jobs exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The release of the store StatefulSet's pod template.
    pub store: ReleaseImage,
    /// The StatefulSet's update partition: pods with a lower ordinal keep their revision.
    pub store_partition: i32,
    /// The release of the sync Deployment's pod template.
    pub sync: ReleaseImage,
    /// Migration Jobs, at most one per phase.
    pub migrations: Vec<Migration>,
}

impl Rollout {
    /// Both components on `spec.version`, no partition, no migration.
    pub fn steady(bigpeer: &ValidatedBigPeer) -> Self {
        let release = ReleaseImage {
            version: bigpeer.spec.version.clone(),
            image: bigpeer.image.by_digest(),
        };
        Rollout {
            store: release.clone(),
            store_partition: 0,
            sync: release,
            migrations: Vec::new(),
        }
    }
}
