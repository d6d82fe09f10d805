//! The operator image, in stages: `compile` (the release binary), `rootfs` (what goes in the
//! image), `layer` (a deterministic tar + gzip), `oci` (config, manifest, index, layout archive),
//! and `verify` (the checks CI makes on an archive). `identity` says which release it is.

mod compile;
mod host;
mod identity;
mod layer;
mod oci;
mod rootfs;
mod verify;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

/// A task's failure, said in one line for the terminal.
pub type Result<T> = std::result::Result<T, String>;

/// The image's name: the archive is `<out>/smbp-operator.oci.tar`.
const IMAGE_NAME: &str = "smbp-operator";

/// What `cargo xtask image` does.
#[derive(Subcommand)]
pub enum Command {
    /// Build the release binary and pack it into an OCI image archive (default target/oci/).
    Build(BuildArgs),
    /// Check an image archive: digests, config (non-root user, entrypoint, labels), no shell, and
    /// run `smbp-operator --version` from its extracted root filesystem.
    Verify(VerifyArgs),
}

/// Options of `image build`.
#[derive(Args)]
pub struct BuildArgs {
    /// Pack this binary instead of building one (it must be the workspace's smbp-operator).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Where the archive, the OCI layout and the digest file are written.
    #[arg(long, default_value = "target/oci")]
    out: PathBuf,
}

/// Options of `image verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The OCI archive to check.
    #[arg(default_value = "target/oci/smbp-operator.oci.tar")]
    archive: PathBuf,
}

/// Runs one image task from the workspace root.
pub fn run(command: Command) -> Result<()> {
    let workspace = crate::workspace_root();
    match command {
        Command::Build(args) => build(&workspace, args),
        Command::Verify(args) => verify::verify(&workspace.join(args.archive)),
    }
}

fn build(workspace: &Path, args: BuildArgs) -> Result<()> {
    let binary = match args.binary {
        Some(binary) => workspace.join(binary),
        None => compile::release_binary(workspace, IMAGE_NAME)?,
    };
    let identity = identity::Identity::of_workspace(workspace, IMAGE_NAME)?;
    let files = rootfs::operator_rootfs(&binary)?;
    let layer = layer::Layer::pack(&files, identity.created_epoch())?;
    let image = oci::Image::assemble(&identity, &layer)?;
    let out = workspace.join(args.out);
    image.write(&out, IMAGE_NAME, identity.created_epoch())?;
    println!(
        "{IMAGE_NAME} {} ({}): {} files, layer {} compressed / {} uncompressed",
        identity.version,
        image.manifest_digest,
        files.len(),
        human_size(layer.gzip.len()),
        human_size(layer.tar.len()),
    );
    println!(
        "wrote {}",
        out.join(format!("{IMAGE_NAME}.oci.tar")).display()
    );
    Ok(())
}

/// Bytes as MiB with one decimal, for the summary lines.
fn human_size(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
