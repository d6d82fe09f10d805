//! The `kubectl-smbp` binary: parses the command line, wires the real terminal and clock, runs
//! the command and exits with its documented code (`kubectl smbp --help` lists them).

use clap::Parser;
use kubectl_smbp::clock::SystemClock;
use kubectl_smbp::session::Io;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = kubectl_smbp::cli::Cli::parse();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut io = Io {
        out: Box::new(std::io::stdout()),
        err: Box::new(std::io::stderr()),
        colour: std::io::stdout().is_terminal() && !no_color,
        input: std::io::stdin().is_terminal().then(|| {
            Box::new(std::io::BufReader::new(std::io::stdin())) as Box<dyn std::io::BufRead + Send>
        }),
        clock: Arc::new(SystemClock),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(kubectl_smbp::run(cli, &mut io)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            error.into()
        }
    }
}
