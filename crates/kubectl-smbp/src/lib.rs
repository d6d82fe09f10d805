//! `kubectl smbp`, the SMBP operator's kubectl plugin: `status`, `version`, `upgrade plan` and
//! the upgrade controls, `diagnose` and `must-gather`. A library so that tests run every command
//! in process against the simulated cluster, with the clock and the terminal injected; the
//! `kubectl-smbp` binary is a thin `main` around [`run`]. It shares the release catalogue, the
//! upgrade path, the pre-flight checks and the step names with the operator through `smbp-core`.

pub mod cli;
pub mod clock;
pub mod diagnose;
pub mod error;
pub mod events;
pub mod must_gather;
pub mod output;
pub mod session;
pub mod status;
pub mod upgrade;
pub mod version;

use cli::{Cli, Command};
use error::Result;
use session::{Io, Session};

/// Runs one command line.
pub async fn run(cli: Cli, io: &mut Io) -> Result<()> {
    let session = Session::connect(&cli.global).await?;
    match cli.command {
        Command::Status(args) => status::run(&session, io, args.name.as_deref(), args.events).await,
        Command::Version => version::run(&session, io).await,
        Command::Upgrade(command) => upgrade::run(&session, io, command).await,
        Command::Diagnose(args) => diagnose::run(&session, io, &args.name).await,
        Command::MustGather(args) => must_gather::run(&session, io, &args).await,
    }
}
