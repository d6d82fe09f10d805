//! `cargo xtask bundle`: the OLM bundle (`bundle/`) and the file-based catalog entry
//! (`catalog/smbp-operator/`), generated from the same sources as the Helm chart. The chart is
//! rendered with the values OLM needs (`render`), converted into a ClusterServiceVersion and the
//! other bundle manifests (`csv`, `manifests`), packed with the bundle metadata and the catalog
//! blobs (`catalog`), written or compared with the committed files (`--check`), and put through
//! the structural checks `operator-sdk bundle validate` makes (`validate`). docs/install.md
//! ("OLM / OperatorHub") says how it is installed and which checks run.

mod catalog;
mod csv;
mod descriptors;
mod manifests;
mod render;
mod validate;
mod yaml;

use std::path::{Path, PathBuf};

use clap::Args;

/// A task's failure, said in one line for the terminal.
pub type Result<T> = std::result::Result<T, String>;

/// The OLM package, and the base name of the CSV (`smbp-operator.v<version>`).
pub const PACKAGE: &str = "smbp-operator";
/// The channel every release is published in, and the package's default channel.
pub const CHANNEL: &str = "stable";
/// The operator's version: the workspace version, as the chart's appVersion.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Options of `cargo xtask bundle`.
#[derive(Args)]
pub struct BundleArgs {
    /// Fail when the committed bundle/ or catalog/ differ from what the sources generate (what CI
    /// runs), instead of writing them.
    #[arg(long)]
    check: bool,
    /// Pin the operator image to this digest (`sha256:` and 64 hex digits), as a release does;
    /// without it the image is referenced by the chart's tag.
    #[arg(long, value_name = "DIGEST")]
    operator_digest: Option<String>,
}

/// One generated file: its path under the workspace and its content.
pub struct Artefact {
    /// Relative to the workspace root.
    pub path: PathBuf,
    /// The full text.
    pub text: String,
}

/// Generates the bundle and catalog, validates them, then writes them or checks them.
pub fn run(args: BundleArgs) -> Result<()> {
    let workspace = crate::workspace_root();
    let rendered = render::render_chart(&workspace, args.operator_digest.as_deref())?;
    let bundle = manifests::Bundle::from_chart(&workspace, &rendered)?;
    let catalog = catalog::catalog(&workspace, &bundle)?;
    let checks = validate::validate(&bundle, &catalog)?;
    let mut artefacts = bundle.artefacts()?;
    artefacts.extend(catalog.artefacts);
    println!(
        "bundle {}: {} structural checks passed",
        bundle.csv_name(),
        checks
    );
    if args.check {
        check(&workspace, &artefacts)
    } else {
        write(&workspace, &artefacts)
    }
}

/// The directories that hold only generated files: anything else in them is stale. (catalog/
/// is not one: it keeps the blobs of earlier releases.)
const GENERATED_DIRS: [&str; 2] = ["bundle/manifests", "bundle/metadata"];

/// Fails naming every artefact whose committed copy differs or is missing, and every file of
/// the generated directories that is no longer generated.
fn check(workspace: &Path, artefacts: &[Artefact]) -> Result<()> {
    let mut stale: Vec<String> = artefacts
        .iter()
        .filter(|a| {
            std::fs::read_to_string(workspace.join(&a.path))
                .ok()
                .as_ref()
                != Some(&a.text)
        })
        .map(|a| a.path.display().to_string())
        .collect();
    stale.extend(
        leftovers(workspace, artefacts)?
            .iter()
            .map(|path| format!("{} (no longer generated)", path.display())),
    );
    if stale.is_empty() {
        println!("bundle/ and catalog/ are up to date");
        return Ok(());
    }
    Err(format!(
        "generated files are stale: {}\nrun `cargo xtask bundle` and commit the result",
        stale.join(", ")
    ))
}

/// Writes every artefact (creating directories), saying which changed.
fn write(workspace: &Path, artefacts: &[Artefact]) -> Result<()> {
    for artefact in artefacts {
        let path = workspace.join(&artefact.path);
        if std::fs::read_to_string(&path).ok().as_ref() == Some(&artefact.text) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, &artefact.text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", artefact.path.display());
    }
    for path in leftovers(workspace, artefacts)? {
        std::fs::remove_file(workspace.join(&path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("removed {}", path.display());
    }
    Ok(())
}

/// Files of the generated directories that no artefact writes.
fn leftovers(workspace: &Path, artefacts: &[Artefact]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(workspace.join(dir)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("{dir}: {e}"))?;
            let path = Path::new(dir).join(entry.file_name());
            if !artefacts.iter().any(|a| a.path == path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
