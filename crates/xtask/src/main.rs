//! `cargo xtask`: the project's build tasks that need more than cargo. Today the operator's OCI
//! image: `image build` packs it without a container daemon or a base image, reproducibly, and
//! `image verify` makes the checks CI makes on the archive. See docs/install.md ("The image").

mod image;

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
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Image(command) => image::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
