//! The release catalogue: which Big Peer versions exist, their images (by tag and digest), and
//! which upgrades are allowed — through which required stops. The data file
//! `data/releases.yaml` is compiled into the binary, so an air-gapped operator needs no network to
//! know its releases.

use semver::Version;
use serde::Deserialize;
use std::fmt;
use std::sync::LazyLock;

/// The catalogue compiled into this build.
pub fn builtin() -> &'static Catalogue {
    static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| {
        Catalogue::from_yaml(include_str!("../data/releases.yaml"))
            .expect("data/releases.yaml is checked by the crate's tests")
    });
    &BUILTIN
}

/// A set of releases sharing one image repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    repository: String,
    releases: Vec<Release>,
}

/// One product release.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Release {
    /// The product version.
    pub version: Version,
    /// The image tag, for people and for mirroring tools that copy by tag.
    pub tag: String,
    /// The image digest (`sha256:…`); what the operator actually runs.
    pub digest: String,
    /// Whether an upgrade crossing this version must land on it first.
    #[serde(default)]
    pub required_stop: bool,
    /// Why this release must not be installed, when it must not.
    #[serde(default)]
    pub withdrawn: Option<String>,
}

/// A fully resolved image: repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository, after any override.
    pub repository: String,
    /// The release's tag.
    pub tag: String,
    /// The digest to run.
    pub digest: String,
}

impl ImageRef {
    /// The reference pods run: `repository@digest`, immune to tag moves.
    pub fn by_digest(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }

    /// The reference by tag, for mirroring lists.
    pub fn by_tag(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }
}

/// The releases an upgrade passes through, in order; the last one is the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradePath {
    /// The version upgraded from.
    pub from: Version,
    /// Each version to roll out, in order: the required stops, then the target.
    pub hops: Vec<Version>,
}

impl UpgradePath {
    /// The required stops before the target.
    pub fn stops(&self) -> &[Version] {
        &self.hops[..self.hops.len().saturating_sub(1)]
    }
}

impl fmt::Display for UpgradePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.from)?;
        for hop in &self.hops {
            write!(f, " → {hop}")?;
        }
        Ok(())
    }
}

/// Why an upgrade, or a version, is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// The version is not a release of this catalogue.
    #[error("{version} is not a known Big Peer release; known releases: {known}")]
    UnknownVersion {
        /// The version asked for.
        version: Version,
        /// Every installable release, comma-separated.
        known: String,
    },
    /// The release was withdrawn.
    #[error("{version} was withdrawn: {reason}")]
    Withdrawn {
        /// The withdrawn version.
        version: Version,
        /// Why.
        reason: String,
    },
    /// The target is older than the running version.
    #[error("downgrade from {from} to {to} is not supported; stay on {from} or upgrade")]
    Downgrade {
        /// The running version.
        from: Version,
        /// The older target.
        to: Version,
    },
}

/// Why a catalogue file is not valid.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueFileError {
    /// The YAML does not parse.
    #[error("release catalogue does not parse: {0}")]
    Parse(#[from] serde_yaml::Error),
    /// The data breaks an invariant.
    #[error("release catalogue is invalid: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    repository: String,
    releases: Vec<Release>,
}

impl Catalogue {
    /// Parses and checks a catalogue: releases strictly ascending, digests well-formed, no
    /// withdrawn required stop, a repository without tag or digest.
    pub fn from_yaml(text: &str) -> Result<Self, CatalogueFileError> {
        let file: CatalogueFile = serde_yaml::from_str(text)?;
        let invalid = |m: String| Err(CatalogueFileError::Invalid(m));
        if file.repository.is_empty() || file.repository.contains('@') {
            return invalid(format!(
                "repository {:?} must be a bare repository",
                file.repository
            ));
        }
        if file.releases.is_empty() {
            return invalid("it lists no release".into());
        }
        for pair in file.releases.windows(2) {
            if pair[0].version >= pair[1].version {
                return invalid(format!(
                    "releases must be listed in ascending order without repeats: {} before {}",
                    pair[0].version, pair[1].version
                ));
            }
        }
        for release in &file.releases {
            if !is_sha256_digest(&release.digest) {
                return invalid(format!(
                    "{}: digest {:?} is not sha256:<64 hex>",
                    release.version, release.digest
                ));
            }
            if release.tag.is_empty() {
                return invalid(format!("{}: empty tag", release.version));
            }
            if release.required_stop && release.withdrawn.is_some() {
                return invalid(format!(
                    "{}: a required stop cannot be withdrawn",
                    release.version
                ));
            }
        }
        Ok(Self {
            repository: file.repository,
            releases: file.releases,
        })
    }

    /// Every release, oldest first (withdrawn ones included).
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// The newest installable release.
    pub fn latest(&self) -> &Release {
        self.releases
            .iter()
            .rev()
            .find(|r| r.withdrawn.is_none())
            .unwrap_or(&self.releases[self.releases.len() - 1])
    }

    /// The release of `version`, when it exists and is installable.
    pub fn installable(&self, version: &Version) -> Result<&Release, CatalogueError> {
        let release = self
            .releases
            .iter()
            .find(|r| &r.version == version)
            .ok_or_else(|| CatalogueError::UnknownVersion {
                version: version.clone(),
                known: self.known_versions(),
            })?;
        match &release.withdrawn {
            Some(reason) => Err(CatalogueError::Withdrawn {
                version: version.clone(),
                reason: reason.clone(),
            }),
            None => Ok(release),
        }
    }

    /// The image of `release`, with the repository replaced by `repository_override` (a mirror)
    /// and the digest by `digest_override` (a pinned hotfix) when given.
    pub fn image(
        &self,
        release: &Release,
        repository_override: Option<&str>,
        digest_override: Option<&str>,
    ) -> ImageRef {
        ImageRef {
            repository: repository_override.unwrap_or(&self.repository).to_string(),
            tag: release.tag.clone(),
            digest: digest_override.unwrap_or(&release.digest).to_string(),
        }
    }

    /// Whether `from` → `to` is allowed, and through which required stops. `from` may be a
    /// withdrawn release (a cluster may still run one); `to` and every stop must be installable.
    /// `from == to` is an empty path.
    pub fn upgrade_path(
        &self,
        from: &Version,
        to: &Version,
    ) -> Result<UpgradePath, CatalogueError> {
        if !self.releases.iter().any(|r| &r.version == from) {
            return Err(CatalogueError::UnknownVersion {
                version: from.clone(),
                known: self.known_versions(),
            });
        }
        if to < from {
            return Err(CatalogueError::Downgrade {
                from: from.clone(),
                to: to.clone(),
            });
        }
        self.installable(to)?;
        let hops = self
            .releases
            .iter()
            .filter(|r| r.required_stop && &r.version > from && &r.version < to)
            .map(|r| r.version.clone())
            .chain((from != to).then(|| to.clone()))
            .collect();
        Ok(UpgradePath {
            from: from.clone(),
            hops,
        })
    }

    /// Every upgrade allowed from `from`, with its path, oldest target first.
    pub fn upgrade_targets(&self, from: &Version) -> Vec<UpgradePath> {
        self.releases
            .iter()
            .filter(|r| &r.version > from)
            .filter_map(|r| self.upgrade_path(from, &r.version).ok())
            .collect()
    }

    /// The compatibility matrix as a Markdown table: for every release (rows) and every later
    /// one (columns), whether the upgrade is direct, through which required stops, or not
    /// allowed. docs/upgrades.md carries it; a test keeps the copy current.
    pub fn compatibility_matrix(&self) -> String {
        let mut out = String::from("| from \\ to |");
        for to in &self.releases {
            out.push_str(&format!(" {} |", to.version));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(self.releases.len()));
        out.push('\n');
        for from in &self.releases {
            let mark = if from.withdrawn.is_some() {
                " (withdrawn)"
            } else {
                ""
            };
            out.push_str(&format!("| **{}**{mark} |", from.version));
            for to in &self.releases {
                let cell = if to.version <= from.version {
                    String::new()
                } else {
                    match self.upgrade_path(&from.version, &to.version) {
                        Ok(path) if path.stops().is_empty() => "direct".to_string(),
                        Ok(path) => format!(
                            "via {}",
                            path.stops()
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Err(CatalogueError::Withdrawn { .. }) => "withdrawn".to_string(),
                        Err(_) => "no".to_string(),
                    }
                };
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out
    }

    fn known_versions(&self) -> String {
        self.releases
            .iter()
            .filter(|r| r.withdrawn.is_none())
            .map(|r| r.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn builtin_catalogue_parses_and_spans_three_minor_lines() {
        let releases = builtin().releases();
        assert!(releases.len() >= 5);
        let minors: std::collections::BTreeSet<_> = releases
            .iter()
            .map(|r| (r.version.major, r.version.minor))
            .collect();
        assert!(minors.len() >= 3, "{minors:?}");
        assert!(releases.iter().any(|r| r.required_stop));
    }

    #[test]
    fn patch_upgrade_within_a_line_is_direct() {
        let path = builtin().upgrade_path(&v("1.3.0"), &v("1.3.2")).unwrap();
        assert_eq!(path.hops, vec![v("1.3.2")]);
        assert!(path.stops().is_empty());
    }

    #[test]
    fn upgrade_across_a_required_stop_lands_on_it() {
        let path = builtin().upgrade_path(&v("1.3.1"), &v("1.5.1")).unwrap();
        assert_eq!(path.hops, vec![v("1.4.2"), v("1.5.1")]);
        assert_eq!(path.to_string(), "1.3.1 → 1.4.2 → 1.5.1");
    }

    #[test]
    fn upgrade_across_two_stops_visits_both_in_order() {
        let path = builtin().upgrade_path(&v("1.3.0"), &v("1.6.1")).unwrap();
        assert_eq!(path.stops(), &[v("1.4.2"), v("1.6.0")]);
    }

    #[test]
    fn upgrade_to_a_stop_itself_has_no_intermediate_stop() {
        let path = builtin().upgrade_path(&v("1.3.2"), &v("1.4.2")).unwrap();
        assert_eq!(path.hops, vec![v("1.4.2")]);
    }

    #[test]
    fn same_version_is_an_empty_path() {
        let path = builtin().upgrade_path(&v("1.5.0"), &v("1.5.0")).unwrap();
        assert!(path.hops.is_empty());
    }

    #[test]
    fn downgrade_is_rejected_with_both_versions() {
        let err = builtin()
            .upgrade_path(&v("1.5.0"), &v("1.4.2"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "downgrade from 1.5.0 to 1.4.2 is not supported; stay on 1.5.0 or upgrade"
        );
    }

    #[test]
    fn withdrawn_target_is_rejected_with_its_reason() {
        let err = builtin()
            .upgrade_path(&v("1.3.2"), &v("1.4.0"))
            .unwrap_err();
        assert!(matches!(err, CatalogueError::Withdrawn { .. }), "{err}");
        assert!(err.to_string().contains("SMBP-2231"));
    }

    #[test]
    fn a_withdrawn_running_version_can_still_upgrade() {
        assert!(builtin().upgrade_path(&v("1.4.0"), &v("1.4.1")).is_ok());
    }

    #[test]
    fn unknown_versions_list_the_known_ones() {
        let err = builtin().installable(&v("9.9.9")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("9.9.9 is not a known Big Peer release"),
            "{text}"
        );
        assert!(text.contains("1.5.1") && !text.contains("1.4.0,"), "{text}");
    }

    #[test]
    fn image_uses_the_digest_and_honours_overrides() {
        let catalogue = builtin();
        let release = catalogue.installable(&v("1.5.1")).unwrap();
        let image = catalogue.image(release, None, None);
        assert_eq!(
            image.by_digest(),
            format!("registry.smbp.dev/bigpeer/big-peer@{}", release.digest)
        );
        assert_eq!(image.by_tag(), "registry.smbp.dev/bigpeer/big-peer:1.5.1");
        let mirrored = catalogue.image(release, Some("mirror.local/bp"), None);
        assert_eq!(
            mirrored.by_digest(),
            format!("mirror.local/bp@{}", release.digest)
        );
        let pinned = catalogue.image(release, None, Some("sha256:ab"));
        assert!(pinned.by_digest().ends_with("@sha256:ab"));
    }

    #[test]
    fn latest_skips_withdrawn_releases() {
        let catalogue = Catalogue::from_yaml(
            "repository: r\nreleases:\n- {version: 1.0.0, tag: a, digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000'}\n- {version: 1.1.0, tag: b, digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000001', withdrawn: bad}\n",
        )
        .unwrap();
        assert_eq!(catalogue.latest().version, v("1.0.0"));
    }

    #[test]
    fn catalogue_files_breaking_invariants_are_rejected() {
        let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let cases = [
            format!(
                "repository: r\nreleases:\n- {{version: 1.1.0, tag: a, digest: '{digest}'}}\n- {{version: 1.0.0, tag: b, digest: '{digest}'}}\n"
            ),
            "repository: r\nreleases:\n- {version: 1.0.0, tag: a, digest: 'sha256:xyz'}\n"
                .to_string(),
            format!(
                "repository: r@sha256:1\nreleases:\n- {{version: 1.0.0, tag: a, digest: '{digest}'}}\n"
            ),
            format!(
                "repository: r\nreleases:\n- {{version: 1.0.0, tag: a, digest: '{digest}', requiredStop: true, withdrawn: x}}\n"
            ),
            "repository: r\nreleases: []\n".to_string(),
            format!(
                "repository: r\nreleases:\n- {{version: 1.0.0, tag: a, digest: '{digest}', typo: 1}}\n"
            ),
        ];
        for case in cases {
            assert!(Catalogue::from_yaml(&case).is_err(), "accepted: {case}");
        }
    }

    proptest! {
        /// For any two releases: the path is ascending, ends at the target, and visits every
        /// required stop strictly between them — and nothing else.
        #[test]
        fn paths_visit_exactly_the_stops_in_between(a in 0usize..10, b in 0usize..10) {
            let releases = builtin().releases();
            let (from, to) = (&releases[a % releases.len()], &releases[b % releases.len()]);
            match builtin().upgrade_path(&from.version, &to.version) {
                Ok(path) => {
                    prop_assert!(to.version >= from.version);
                    prop_assert!(path.hops.windows(2).all(|w| w[0] < w[1]));
                    let expected_stops: Vec<_> = releases.iter()
                        .filter(|r| r.required_stop && r.version > from.version && r.version < to.version)
                        .map(|r| r.version.clone()).collect();
                    prop_assert_eq!(path.stops(), expected_stops.as_slice());
                    if from.version != to.version {
                        prop_assert_eq!(path.hops.last(), Some(&to.version));
                    }
                }
                Err(CatalogueError::Downgrade { .. }) => prop_assert!(to.version < from.version),
                Err(CatalogueError::Withdrawn { .. }) => prop_assert!(to.withdrawn.is_some()),
                Err(e) => prop_assert!(false, "unexpected {}", e),
            }
        }
    }
}
