//! Which release an image is: version and description from Cargo metadata, the git commit, and
//! the creation time from `SOURCE_DATE_EPOCH` (or the commit's time), so that the same commit
//! gives the same image. These become the `org.opencontainers.image.*` labels.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Result, host};

/// Where the chart's default image lives (charts/smbp-operator/values.yaml `image`).
const REPOSITORY_PREFIX: &str = "registry.smbp.dev/smbp";

/// What an image says about itself.
pub struct Identity {
    /// The image's (and binary's) name.
    pub title: String,
    /// The crate version, e.g. `0.1.0`.
    pub version: String,
    /// The crate description.
    pub description: String,
    /// The commit, with `-dirty` when the work tree has uncommitted changes.
    pub revision: String,
    /// The repository URL.
    pub source: String,
    /// The SPDX license expression.
    pub license: String,
    /// Creation time, seconds since the epoch.
    created: i64,
}

impl Identity {
    /// Reads the identity of `package` from `cargo metadata`, git and the environment.
    pub fn of_workspace(workspace: &Path, package: &str) -> Result<Self> {
        let metadata = host::output(
            workspace,
            "cargo",
            &["metadata", "--locked", "--no-deps", "--format-version", "1"],
        )?;
        let metadata: serde_json::Value =
            serde_json::from_str(&metadata).map_err(|e| format!("cargo metadata: {e}"))?;
        let crate_info = metadata["packages"]
            .as_array()
            .and_then(|packages| packages.iter().find(|p| p["name"] == package))
            .ok_or_else(|| format!("cargo metadata lists no package {package}"))?;
        let field = |name: &str| crate_info[name].as_str().unwrap_or_default().to_string();
        Ok(Self {
            title: package.to_string(),
            version: field("version"),
            description: field("description"),
            revision: revision(workspace)?,
            source: field("repository"),
            license: field("license"),
            created: created_epoch(workspace)?,
        })
    }

    /// Creation time, seconds since the epoch (also every file's mtime in the image).
    pub fn created_epoch(&self) -> u64 {
        self.created.max(0) as u64
    }

    /// Creation time as RFC 3339, e.g. `2026-12-02T10:00:00Z`.
    pub fn created_rfc3339(&self) -> String {
        jiff::Timestamp::from_second(self.created)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
    }

    /// The `org.opencontainers.image.*` labels (annotation keys of the OCI image spec).
    pub fn labels(&self) -> BTreeMap<String, String> {
        let docs = format!("{}/blob/{}/docs/install.md", self.source, self.commit());
        [
            ("title", self.title.clone()),
            ("description", self.description.clone()),
            ("version", self.version.clone()),
            ("revision", self.revision.clone()),
            ("created", self.created_rfc3339()),
            ("source", self.source.clone()),
            ("url", self.source.clone()),
            ("documentation", docs),
            ("licenses", self.license.clone()),
            ("vendor", "SMBP".to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("org.opencontainers.image.{key}"), value))
        .collect()
    }

    /// The name the chart pulls by default: `registry.smbp.dev/smbp/<title>:<version>`.
    pub fn reference(&self) -> String {
        format!("{REPOSITORY_PREFIX}/{}:{}", self.title, self.version)
    }

    fn commit(&self) -> &str {
        self.revision.trim_end_matches("-dirty")
    }
}

fn revision(workspace: &Path) -> Result<String> {
    let commit = host::output(workspace, "git", &["rev-parse", "HEAD"])?;
    let changes = host::output(
        workspace,
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
    )?;
    let dirty = if changes.trim().is_empty() {
        ""
    } else {
        "-dirty"
    };
    Ok(format!("{}{dirty}", commit.trim()))
}

/// `SOURCE_DATE_EPOCH` when set (reproducible-builds.org), else the commit's time.
fn created_epoch(workspace: &Path) -> Result<i64> {
    let text = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value,
        Err(_) => host::output(workspace, "git", &["log", "-1", "--format=%ct", "HEAD"])?,
    };
    text.trim().parse().map_err(|e| {
        format!(
            "SOURCE_DATE_EPOCH {:?} is not a number of seconds: {e}",
            text.trim()
        )
    })
}
