//! The checks CI makes on an image archive: every blob matches its digest and size, the config
//! runs the entrypoint as the non-root user with the OCI labels set, the root filesystem holds no
//! shell, no other program and nothing setuid, and the binary runs from the extracted root
//! filesystem (`chroot`, as UID 65532) and prints the labelled version.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

use super::layer::sha256_hex;
use super::oci::{ENTRYPOINT, user};
use super::rootfs::{BINARY_PATH, NONROOT_UID};
use super::{Result, host};

/// Labels an image must carry, with a value.
const REQUIRED_LABELS: [&str; 6] = [
    "title", "version", "revision", "created", "source", "licenses",
];
/// File names that are shells (or carry one).
const SHELLS: [&str; 10] = [
    "sh", "bash", "dash", "ash", "zsh", "ksh", "csh", "tcsh", "fish", "busybox",
];

/// Checks the archive at `path`, prints a summary, and fails with every problem found.
pub fn verify(path: &Path) -> Result<()> {
    let files = archive_files(path)?;
    let manifest: ImageManifest = parse(&blob(&files, &index_manifest(&files)?)?)?;
    let config_bytes = blob(&files, manifest.config())?;
    let config: ImageConfiguration = parse(&config_bytes)?;
    let [layer] = manifest.layers().as_slice() else {
        return Err(format!(
            "expected one layer, found {}",
            manifest.layers().len()
        ));
    };
    let layer_tar = gunzip(&blob(&files, layer)?)?;
    let mut problems = config_problems(&config);
    problems.extend(diff_id_problems(&config, &layer_tar));
    problems.extend(rootfs_problems(&layer_tar)?);
    if !problems.is_empty() {
        return Err(format!(
            "{} problem(s):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        ));
    }
    let version = label(&config, "version").unwrap_or_default();
    let rootfs = extract(path, &layer_tar)?;
    let printed = run_version(&rootfs)?;
    if !printed.contains(&format!("smbp-operator {version}")) {
        return Err(format!(
            "`smbp-operator --version` printed {printed:?}, not version {version}"
        ));
    }
    println!("verified {}: {}", path.display(), printed.trim());
    println!(
        "  user {}, entrypoint {:?}, no shell, labels set",
        user(),
        ENTRYPOINT
    );
    Ok(())
}

/// Every regular file of the archive by path.
fn archive_files(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let bytes = host::read(path)?;
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut files = BTreeMap::new();
    for entry in archive
        .entries()
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        let mut entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        if entry.header().entry_type().is_file() {
            let name = entry
                .path()
                .map_err(|e| e.to_string())?
                .display()
                .to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
            files.insert(name, data);
        }
    }
    Ok(files)
}

fn index_manifest(files: &BTreeMap<String, Vec<u8>>) -> Result<Descriptor> {
    let layout = files
        .get("oci-layout")
        .ok_or("no oci-layout file: not an OCI archive")?;
    if !String::from_utf8_lossy(layout).contains("\"imageLayoutVersion\":\"1.0.0\"") {
        return Err("oci-layout is not imageLayoutVersion 1.0.0".into());
    }
    let index: ImageIndex = parse(files.get("index.json").ok_or("no index.json")?)?;
    match index.manifests().as_slice() {
        [manifest] => Ok(manifest.clone()),
        other => Err(format!(
            "index.json lists {} manifests, expected 1",
            other.len()
        )),
    }
}

/// The blob `descriptor` points at, after checking its digest and size.
fn blob(files: &BTreeMap<String, Vec<u8>>, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let digest = descriptor.digest().digest();
    let bytes = files
        .get(&format!("blobs/sha256/{digest}"))
        .ok_or_else(|| format!("blob sha256:{digest} is missing"))?;
    if sha256_hex(bytes) != digest || bytes.len() as u64 != descriptor.size() {
        return Err(format!(
            "blob sha256:{digest} does not match its digest or size"
        ));
    }
    Ok(bytes.clone())
}

fn config_problems(config: &ImageConfiguration) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(process) = config.config() else {
        return vec!["the image config has no process config".into()];
    };
    if process.user().as_deref() != Some(user().as_str()) {
        problems.push(format!(
            "user is {:?}, expected {:?} (non-root, numeric)",
            process.user(),
            user()
        ));
    }
    let expected: Vec<String> = ENTRYPOINT.map(String::from).to_vec();
    if process.entrypoint().as_ref() != Some(&expected) {
        problems.push(format!(
            "entrypoint is {:?}, expected {expected:?}",
            process.entrypoint()
        ));
    }
    for key in REQUIRED_LABELS {
        if label(config, key).is_none_or(|value| value.is_empty()) {
            problems.push(format!(
                "label org.opencontainers.image.{key} is missing or empty"
            ));
        }
    }
    problems
}

fn diff_id_problems(config: &ImageConfiguration, layer_tar: &[u8]) -> Vec<String> {
    let expected = format!("sha256:{}", sha256_hex(layer_tar));
    match config.rootfs().diff_ids().as_slice() {
        [diff_id] if *diff_id == expected => Vec::new(),
        other => vec![format!(
            "rootfs.diff_ids {other:?} do not match the layer ({expected})"
        )],
    }
}

/// Shells, programs other than the entrypoint and the loader, and setuid/setgid files.
fn rootfs_problems(layer_tar: &[u8]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut archive = tar::Archive::new(layer_tar);
    let mut saw_binary = false;
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .display()
            .to_string();
        let mode = entry.header().mode().map_err(|e| e.to_string())?;
        let is_file = entry.header().entry_type().is_file();
        let name = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        saw_binary |= path == BINARY_PATH;
        if SHELLS.contains(&name) {
            problems.push(format!("{path} is a shell"));
        }
        if is_file && mode & 0o111 != 0 && path != BINARY_PATH && !name.starts_with("ld-linux") {
            problems.push(format!(
                "{path} is executable: only the operator and the loader may be"
            ));
        }
        if mode & 0o6000 != 0 {
            problems.push(format!("{path} is setuid or setgid"));
        }
    }
    if !saw_binary {
        problems.push(format!("{BINARY_PATH} is missing"));
    }
    Ok(problems)
}

/// Unpacks the layer next to the archive (`<archive stem>-rootfs/`), owners and modes kept.
fn extract(archive: &Path, layer_tar: &[u8]) -> Result<PathBuf> {
    let stem = archive
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("image");
    let root = archive.with_file_name(format!("{}-rootfs", stem.trim_end_matches(".oci.tar")));
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    let mut layer = tar::Archive::new(layer_tar);
    layer.set_preserve_permissions(true);
    layer.set_preserve_ownerships(effective_uid() == Some(0));
    layer
        .unpack(&root)
        .map_err(|e| format!("cannot extract the root filesystem: {e}"))?;
    Ok(root)
}

/// `smbp-operator --version` inside `rootfs`: `chroot` as UID 65532 when root, else in a user
/// namespace (`unshare --map-root-user`).
fn run_version(rootfs: &Path) -> Result<String> {
    let root = rootfs
        .to_str()
        .ok_or("the root filesystem's path is not UTF-8")?;
    let binary = format!("/{BINARY_PATH}");
    let userspec = format!("--userspec={NONROOT_UID}:{NONROOT_UID}");
    match effective_uid() {
        Some(0) => host::output(rootfs, "chroot", &[&userspec, root, &binary, "--version"]),
        _ => host::output(
            rootfs,
            "unshare",
            &["--map-root-user", "chroot", root, &binary, "--version"],
        ),
    }
}

/// The effective UID of this process, from /proc (Linux).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn label(config: &ImageConfiguration, key: &str) -> Option<String> {
    let labels = config.config().as_ref()?.labels().as_ref()?;
    labels
        .get(&format!("org.opencontainers.image.{key}"))
        .cloned()
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut tar = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .map_err(|e| format!("the layer is not gzip: {e}"))?;
    Ok(tar)
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| format!("invalid OCI JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::layer::tar_of;
    use crate::image::rootfs::Entry;

    fn file(path: &str, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            data: Some(vec![1]),
            mode,
            owner: 0,
        }
    }

    #[test]
    fn a_shell_another_program_or_a_setuid_file_is_a_problem() {
        let tar = tar_of(
            &[
                file(BINARY_PATH, 0o755),
                file("lib64/ld-linux-x86-64.so.2", 0o755),
                file("bin/sh", 0o755),
                file("usr/bin/curl", 0o755),
                file("etc/passwd", 0o4644),
            ],
            0,
        )
        .unwrap();
        let problems = rootfs_problems(&tar).unwrap();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("bin/sh is a shell"));
        assert!(problems[1].contains("bin/sh is executable"));
        assert!(problems[2].contains("usr/bin/curl is executable"));
        assert!(problems[3].contains("etc/passwd is setuid"));
    }

    #[test]
    fn the_binary_and_the_loader_alone_are_fine() {
        let tar = tar_of(
            &[
                file(BINARY_PATH, 0o755),
                file("lib64/ld-linux-x86-64.so.2", 0o755),
            ],
            0,
        )
        .unwrap();
        assert!(rootfs_problems(&tar).unwrap().is_empty());
        let no_binary = tar_of(&[file("etc/passwd", 0o644)], 0).unwrap();
        assert_eq!(
            rootfs_problems(&no_binary).unwrap(),
            [format!("{BINARY_PATH} is missing")]
        );
    }
}
