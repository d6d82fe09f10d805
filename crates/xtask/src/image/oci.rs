//! The OCI image around one layer: image config (user, entrypoint, env, labels), manifest and
//! index (image-spec v1.1), written as an OCI layout directory and as a deterministic archive of
//! it (`skopeo copy oci-archive:…`, `docker load`, `crane push` read it). JSON is written with
//! sorted keys, because the OCI types keep labels in hash maps.

use std::path::Path;
use std::str::FromStr;

use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, Digest, HistoryBuilder,
    ImageConfigurationBuilder, ImageIndexBuilder, ImageManifestBuilder, MediaType, Os,
    PlatformBuilder, RootFsBuilder,
};
use serde::Serialize;

use super::Result;
use super::identity::Identity;
use super::layer::{Layer, sha256_hex, tar_of};
use super::rootfs::{BINARY_PATH, CA_BUNDLE, Entry, NONROOT_UID};

/// The process the image runs: `smbp-operator run` (flags come from SMBP_* variables).
pub const ENTRYPOINT: [&str; 2] = ["/usr/local/bin/smbp-operator", "run"];
/// The user the image runs as, numeric so that `runAsNonRoot` can check it.
pub fn user() -> String {
    format!("{NONROOT_UID}:{NONROOT_UID}")
}

/// An assembled image: its blobs by digest, its index, and the manifest's digest.
pub struct Image {
    /// `(hex digest, bytes)` of the layer, the config and the manifest.
    blobs: Vec<(String, Vec<u8>)>,
    /// `index.json`.
    index: Vec<u8>,
    /// `sha256:…` of the manifest: the image's digest, as a registry reports it.
    pub manifest_digest: String,
}

impl Image {
    /// Builds config, manifest and index for `layer`, labelled with `identity`.
    pub fn assemble(identity: &Identity, layer: &Layer) -> Result<Self> {
        let layer_digest = sha256_hex(&layer.gzip);
        let config = canonical_json(&image_config(identity, &sha256_hex(&layer.tar))?)?;
        let config_digest = sha256_hex(&config);
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(descriptor(
                MediaType::ImageConfig,
                &config_digest,
                config.len(),
            )?)
            .layers(vec![descriptor(
                MediaType::ImageLayerGzip,
                &layer_digest,
                layer.gzip.len(),
            )?])
            .annotations(
                identity
                    .labels()
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            )
            .build()
            .map_err(oci_error)?;
        let manifest = canonical_json(&manifest)?;
        let manifest_digest = sha256_hex(&manifest);
        let index = canonical_json(&image_index(identity, &manifest_digest, manifest.len())?)?;
        Ok(Self {
            blobs: vec![
                (layer_digest, layer.gzip.clone()),
                (config_digest, config),
                (manifest_digest.clone(), manifest),
            ],
            index,
            manifest_digest: format!("sha256:{manifest_digest}"),
        })
    }

    /// Writes `<out>/<name>/` (OCI layout), `<out>/<name>.oci.tar` and `<out>/<name>.digest`.
    pub fn write(&self, out: &Path, name: &str, mtime: u64) -> Result<()> {
        let entries = self.layout_entries();
        let layout = out.join(name);
        if layout.exists() {
            std::fs::remove_dir_all(&layout).map_err(|e| format!("{}: {e}", layout.display()))?;
        }
        for entry in &entries {
            write_entry(&layout, entry)?;
        }
        write_file(
            &out.join(format!("{name}.oci.tar")),
            &tar_of(&entries, mtime)?,
        )?;
        write_file(
            &out.join(format!("{name}.digest")),
            format!("{}\n", self.manifest_digest).as_bytes(),
        )
    }

    fn layout_entries(&self) -> Vec<Entry> {
        let file = |path: String, data: Vec<u8>| Entry {
            path,
            data: Some(data),
            mode: 0o644,
            owner: 0,
        };
        let dir = |path: &str| Entry {
            path: path.into(),
            data: None,
            mode: 0o755,
            owner: 0,
        };
        let mut entries = vec![dir("blobs"), dir("blobs/sha256")];
        let mut blobs = self.blobs.clone();
        blobs.sort();
        for (digest, bytes) in blobs {
            entries.push(file(format!("blobs/sha256/{digest}"), bytes));
        }
        entries.push(file("index.json".into(), self.index.clone()));
        entries.push(file(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        entries
    }
}

fn image_config(identity: &Identity, diff_id: &str) -> Result<serde_json::Value> {
    let config = ConfigBuilder::default()
        .user(user())
        .entrypoint(ENTRYPOINT.map(String::from).to_vec())
        .env(vec![
            "PATH=/usr/local/bin".to_string(),
            format!("SSL_CERT_FILE=/{CA_BUNDLE}"),
        ])
        .exposed_ports(vec!["8080/tcp".to_string(), "9443/tcp".to_string()])
        .working_dir("/home/nonroot")
        .labels(
            identity
                .labels()
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .stop_signal("SIGTERM")
        .build()
        .map_err(oci_error)?;
    let history = HistoryBuilder::default()
        .created(identity.created_rfc3339())
        .created_by(format!(
            "cargo xtask image build ({BINARY_PATH} and its runtime files)"
        ))
        .build()
        .map_err(oci_error)?;
    let image = ImageConfigurationBuilder::default()
        .created(identity.created_rfc3339())
        .architecture(host_arch())
        .os(Os::Linux)
        .config(config)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![format!("sha256:{diff_id}")])
                .build()
                .map_err(oci_error)?,
        )
        .history(vec![history])
        .build()
        .map_err(oci_error)?;
    serde_json::to_value(image).map_err(|e| e.to_string())
}

fn image_index(
    identity: &Identity,
    manifest_digest: &str,
    size: usize,
) -> Result<serde_json::Value> {
    let mut manifest = descriptor(MediaType::ImageManifest, manifest_digest, size)?;
    manifest.set_platform(Some(
        PlatformBuilder::default()
            .architecture(host_arch())
            .os(Os::Linux)
            .build()
            .map_err(oci_error)?,
    ));
    // The tag (OCI), and the full name that containerd (`kind load`, `ctr import`) and
    // `docker load` give the image.
    manifest.set_annotations(Some(
        [
            (
                "org.opencontainers.image.ref.name".to_string(),
                identity.version.clone(),
            ),
            ("io.containerd.image.name".to_string(), identity.reference()),
        ]
        .into_iter()
        .collect(),
    ));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest])
        .build()
        .map_err(oci_error)?;
    serde_json::to_value(index).map_err(|e| e.to_string())
}

fn descriptor(media_type: MediaType, hex_digest: &str, size: usize) -> Result<Descriptor> {
    DescriptorBuilder::default()
        .media_type(media_type)
        .digest(Digest::from_str(&format!("sha256:{hex_digest}")).map_err(oci_error)?)
        .size(size as u64)
        .build()
        .map_err(oci_error)
}

/// The OCI architecture of the machine that builds the image (the binary is native).
fn host_arch() -> Arch {
    match std::env::consts::ARCH {
        "x86_64" => Arch::Amd64,
        "aarch64" => Arch::ARM64,
        other => Arch::Other(other.to_string()),
    }
}

/// JSON with object keys sorted at every level, whatever map type the value came from.
pub fn canonical_json(value: &impl Serialize) -> Result<Vec<u8>> {
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    serde_json::to_vec(&sorted(value)).map_err(|e| e.to_string())
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut pairs: Vec<_> = map.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => items.into_iter().map(sorted).collect(),
        other => other,
    }
}

fn write_entry(root: &Path, entry: &Entry) -> Result<()> {
    let path = root.join(&entry.path);
    match &entry.data {
        Some(data) => write_file(&path, data),
        None => std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display())),
    }
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn oci_error(error: impl std::fmt::Display) -> String {
    format!("OCI metadata: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = serde_json::json!({"b": 1, "a": {"z": [{"y": 1, "x": 2}], "c": 3}});
        assert_eq!(
            String::from_utf8(canonical_json(&value).unwrap()).unwrap(),
            r#"{"a":{"c":3,"z":[{"x":2,"y":1}]},"b":1}"#
        );
    }
}
