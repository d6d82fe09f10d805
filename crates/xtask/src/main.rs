//! `cargo xtask`: the project's build tasks that need more than cargo. The operator's OCI
//! image: `image build` packs it without a container daemon or a base image, reproducibly, and
//! `image verify` makes the checks CI makes on the archive. See docs/install.md ("The image").
//! The OLM bundle and catalog: `bundle` generates them from the Helm chart and validates them
//! (`--check` fails when the committed ones are stale). See docs/install.md ("OLM / OperatorHub").

mod bundle;
mod image;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The project's build tasks.
#[derive(Parser)]
#[command(about, name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The operator's OCI image.
    #[command(subcommand)]
    Image(image::Command),
    /// The OLM bundle (bundle/) and file-based catalog entry (catalog/smbp-operator/),
    /// generated from the Helm chart and validated.
    Bundle(bundle::BundleArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Image(command) => image::run(command),
        Command::Bundle(args) => bundle::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace this xtask was built in (crates/xtask/../..).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask sits two levels below the workspace root")
        .to_path_buf()
}
