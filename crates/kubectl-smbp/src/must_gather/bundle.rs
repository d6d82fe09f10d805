//! The support bundle being assembled: files in memory, each redacted as it is added, a manifest
//! of what was collected and what could not be (and why), optional hashing of namespace and
//! object names, and the final `tar.gz`, written to a new file (never over an existing one).

use super::redact;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// One item that could not be collected.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Missing {
    /// What it is.
    pub what: String,
    /// Why it is missing: `forbidden: ...`, `not served by this cluster`, `not found`, ...
    pub reason: String,
}

/// What the bundle holds, written as `manifest.json`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// When it was made.
    pub created_at: String,
    /// The plugin that made it.
    pub plugin: String,
    /// The namespaces gathered (hashed with --redact-names), or `all`.
    pub scope: Vec<String>,
    /// The log and Event window.
    pub since: String,
    /// Whether names were hashed.
    pub redacted_names: bool,
    /// What redaction did (always on).
    pub redaction: String,
    /// Every file, by path.
    pub collected: Vec<String>,
    /// Everything that could not be collected, with the reason.
    pub missing: Vec<Missing>,
}

/// A bundle being filled.
pub struct Bundle {
    root: String,
    files: BTreeMap<String, Vec<u8>>,
    /// The manifest so far.
    pub manifest: Manifest,
    names: Option<Names>,
}

/// Namespace and object names and their hashes (`--redact-names`).
struct Names {
    salt: u64,
    known: Vec<String>,
}

impl Bundle {
    /// An empty bundle whose files live under `root/`.
    pub fn new(root: &str, manifest: Manifest, redact_names: bool) -> Self {
        let names = redact_names.then(|| Names {
            salt: random_salt(),
            known: Vec::new(),
        });
        Bundle {
            root: root.to_string(),
            files: BTreeMap::new(),
            manifest,
            names,
        }
    }

    /// Registers a namespace or object name to hash everywhere (with `--redact-names`).
    pub fn sensitive_name(&mut self, name: &str) {
        if let Some(names) = &mut self.names
            && !name.is_empty()
            && !names.known.iter().any(|n| n == name)
        {
            names.known.push(name.to_string());
            // Longest first, so `edge-store` is replaced before `edge`.
            names.known.sort_by_key(|n| std::cmp::Reverse(n.len()));
        }
    }

    /// Adds Kubernetes objects (or any JSON) as YAML, redacted.
    pub fn yaml(&mut self, path: &str, mut value: Value) {
        redact_all(&mut value);
        let text = serde_yaml::to_string(&value).unwrap_or_else(|e| format!("# {e}\n"));
        self.raw(path, text);
    }

    /// Adds JSON, redacted.
    pub fn json(&mut self, path: &str, mut value: Value) {
        redact_all(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
        self.raw(path, text);
    }

    /// Adds text (logs, metrics), redacted line by line.
    pub fn text(&mut self, path: &str, text: &str) {
        self.raw(path, redact::text(text));
    }

    /// Records something that could not be collected.
    pub fn missing(&mut self, what: impl Into<String>, reason: impl Into<String>) {
        self.manifest.missing.push(Missing {
            what: what.into(),
            reason: reason.into(),
        });
    }

    fn raw(&mut self, path: &str, text: String) {
        self.files.insert(path.to_string(), text.into_bytes());
    }

    /// Writes the bundle as a gzip-compressed tar at `path`, which must not exist yet.
    pub fn write(mut self, path: &Path) -> Result<()> {
        self.manifest.collected = self.files.keys().cloned().collect();
        self.manifest.collected.push("manifest.json".into());
        let manifest = serde_json::to_value(&self.manifest).unwrap_or_default();
        self.json("manifest.json", manifest);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                Error::Failed(format!(
                    "cannot create {}: {e} (an existing bundle is never overwritten)",
                    path.display()
                ))
            })?;
        let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut tar = tar::Builder::new(gzip);
        let root = self.hide(&self.root);
        for (name, bytes) in &self.files {
            let name = self.hide(name);
            let bytes = match std::str::from_utf8(bytes) {
                Ok(text) if self.names.is_some() => self.hide(text).into_bytes(),
                _ => bytes.clone(),
            };
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            tar.append_data(&mut header, format!("{root}/{name}"), bytes.as_slice())
                .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
        }
        tar.into_inner()
            .and_then(|gzip| gzip.finish())
            .and_then(|mut file| file.flush())
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))
    }

    /// `text` with every registered name replaced by its hash (where it stands as a whole name
    /// or a name's prefix, as in `edge-store-0`).
    fn hide(&self, text: &str) -> String {
        let Some(names) = &self.names else {
            return text.to_string();
        };
        let mut out = text.to_string();
        for name in &names.known {
            out = replace_name(&out, name, &hashed(names.salt, name));
        }
        out
    }
}

fn redact_all(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(redact::object),
        other => redact::object(other),
    }
}

/// A name's stand-in: `h-` and 10 hex digits of a salted SHA-256.
fn hashed(salt: u64, name: &str) -> String {
    let digest = Sha256::digest(format!("{salt}:{name}").as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("h-{hex}")
}

/// A per-bundle salt, so hashes of short names cannot be looked up in a dictionary.
fn random_salt() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Replaces `name` in `text` where it is not part of a longer word (a DNS-name character
/// other than `-` and `.` on either side keeps it).
fn replace_name(text: &str, name: &str, with: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if word(before) || word(after) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_as_whole_names_and_prefixes_only() {
        assert_eq!(
            replace_name("pod edge-store-0 of edge in knowledge", "edge", "h-1"),
            "pod h-1-store-0 of h-1 in knowledge"
        );
        assert_eq!(
            replace_name("fleet/edge.txt", "fleet", "h-2"),
            "h-2/edge.txt"
        );
        assert_ne!(hashed(1, "edge"), hashed(2, "edge"));
    }
}
