//! The binary that goes in the image: `cargo build --profile image` (release, stripped), with the
//! workspace and cargo-home paths remapped so the binary is the same wherever it is built.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Result;

/// Builds `package`'s binary with the `image` profile and returns its path.
pub fn release_binary(workspace: &Path, package: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--locked", "--profile", "image", "-p", package])
        .env("CARGO_ENCODED_RUSTFLAGS", remapped_paths(workspace))
        .current_dir(workspace)
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build --profile image -p {package} failed ({status})"
        ));
    }
    Ok(target_dir(workspace).join("image").join(package))
}

/// Rust flags (0x1f-separated, as cargo wants them) that replace the local paths compiled into
/// panic messages by fixed ones: the workspace becomes `/smbp`, the cargo home `/cargo`.
fn remapped_paths(workspace: &Path) -> String {
    let mut flags = vec![format!("--remap-path-prefix={}=/smbp", workspace.display())];
    if let Some(home) = cargo_home() {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    flags.join("\x1f")
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
}

/// `CARGO_TARGET_DIR` when set, else the workspace's `target/`.
fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"))
}
