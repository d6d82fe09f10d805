//! Writes the generated artefacts of the API — `config/crd/*.yaml` and `docs/api.md` — or, with
//! `--check`, fails when the checked-in copies differ from what the code generates (CI's drift
//! check).
//!
//! Usage: `cargo run -p smbp-api --bin crdgen [-- --check]`, from anywhere in the repository.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("crdgen: unknown argument {other:?}; usage: crdgen [--check]");
            return ExitCode::from(2);
        }
    };
    let root = repository_root();
    let crd = smbp_api::crd::bigpeer_crd();
    let artefacts = [
        (
            root.join("config/crd")
                .join(smbp_api::crd::BIGPEER_CRD_FILE),
            smbp_api::crd::bigpeer_crd_yaml(),
        ),
        (root.join("docs/api.md"), smbp_api::apidoc::render(&crd)),
    ];

    let mut stale = Vec::new();
    for (path, content) in &artefacts {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current == *content {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else if let Err(e) = write(path, content) {
            eprintln!("crdgen: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        } else {
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        eprintln!(
            "crdgen: generated files are stale: {}\nrun `cargo run -p smbp-api --bin crdgen` and commit the result",
            stale.join(", ")
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, content)
}

/// The workspace root: two levels above this crate's manifest.
fn repository_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}
