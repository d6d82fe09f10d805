//! Runs `kubectl smbp` commands in process against a simulated cluster, as the binary would
//! (the same argument parsing and exit codes), with the clock fixed and standard input either a
//! given answer or absent (not a terminal).

#![allow(dead_code)]

use clap::Parser;
use jiff::Timestamp;
use kubectl_smbp::cli::Cli;
use kubectl_smbp::clock::FixedClock;
use kubectl_smbp::session::Io;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A buffer the command writes into and the test reads.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// What was written.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code.
    pub code: u8,
    /// Standard output.
    pub out: String,
    /// Standard error (with the error message, as the binary prints it).
    pub err: String,
}

/// Runs `kubectl smbp ARGS` against the cluster of `kubeconfig`, at `now`, with `input` as the
/// answer typed on a terminal (None: stdin is not a terminal).
pub async fn run_at(
    kubeconfig: &Path,
    args: &[&str],
    input: Option<&str>,
    now: Timestamp,
) -> Outcome {
    let mut argv = vec![
        "kubectl-smbp".to_string(),
        "--kubeconfig".to_string(),
        kubeconfig.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            return Outcome {
                code: e.exit_code() as u8,
                out: String::new(),
                err: e.to_string(),
            };
        }
    };
    let (out, err) = (Captured::default(), Captured::default());
    let mut io = Io {
        out: Box::new(out.clone()),
        err: Box::new(err.clone()),
        input: input.map(|text| {
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))
                as Box<dyn std::io::BufRead + Send>
        }),
        colour: false,
        clock: Arc::new(FixedClock(now)),
    };
    let result = kubectl_smbp::run(cli, &mut io).await;
    let mut err_text = err.text();
    let code = match result {
        Ok(()) => 0,
        Err(error) => {
            err_text.push_str(&format!("error: {error}\n"));
            error.exit_code()
        }
    };
    Outcome {
        code,
        out: out.text(),
        err: err_text,
    }
}

/// Runs `kubectl smbp ARGS` at the cluster's current time with no terminal.
pub async fn run(sim: &smbp_sim::SimHandle, args: &[&str]) -> Outcome {
    run_at(sim.kubeconfig_path(), args, None, sim.now()).await
}

/// Like [`run`], asserting exit code `code`.
pub async fn expect(sim: &smbp_sim::SimHandle, code: u8, args: &[&str]) -> Outcome {
    let outcome = run(sim, args).await;
    assert_eq!(
        outcome.code, code,
        "kubectl smbp {args:?} exited {}:\n{}\n{}",
        outcome.code, outcome.out, outcome.err
    );
    outcome
}
