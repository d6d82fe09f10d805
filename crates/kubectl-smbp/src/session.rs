//! What every command runs with: the client built from kubeconfig flags (as kubectl resolves
//! them), the namespace, the clock, and the terminal — output, error output, whether colour is
//! on, and the input confirmations are read from (absent when stdin is not a terminal).

use crate::cli::Global;
use crate::clock::Clock;
use crate::error::{Error, Result};
use std::io::{BufRead, Write};
use std::sync::Arc;

/// The User-Agent of every request the plugin makes (audit logs tell its requests apart).
pub const USER_AGENT: &str = concat!("kubectl-smbp/", env!("CARGO_PKG_VERSION"));

/// Where a command writes and reads.
pub struct Io {
    /// Standard output.
    pub out: Box<dyn Write + Send>,
    /// Standard error.
    pub err: Box<dyn Write + Send>,
    /// Confirmation answers; `None` when stdin is not a terminal (controls then need `--yes`).
    pub input: Option<Box<dyn BufRead + Send>>,
    /// Whether tables are coloured.
    pub colour: bool,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

impl Io {
    /// Writes `text` to standard output.
    pub fn print(&mut self, text: &str) -> Result<()> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|_| self.out.flush())
            .map_err(|e| Error::Failed(format!("cannot write to standard output: {e}")))
    }

    /// Writes `text` and a newline to standard error.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }
}

/// A connected command.
pub struct Session {
    /// The client.
    pub client: kube::Client,
    /// The namespace of `-n`, else the context's, else `default`.
    pub namespace: String,
    /// The global flags.
    pub global: Global,
}

impl Session {
    /// Connects as kubectl would: `--kubeconfig` (else `$KUBECONFIG` / `~/.kube/config`, else
    /// in-cluster) with `--context`.
    pub async fn connect(global: &Global) -> Result<Session> {
        let options = kube::config::KubeConfigOptions {
            context: global.context.clone(),
            ..Default::default()
        };
        let unusable = |e: &dyn std::fmt::Display| {
            Error::Failed(format!(
                "cannot load the cluster configuration: {e}; pass --kubeconfig or set KUBECONFIG"
            ))
        };
        let mut config = match &global.kubeconfig {
            Some(path) => {
                let file = kube::config::Kubeconfig::read_from(path).map_err(|e| unusable(&e))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| unusable(&e))?
            }
            None if global.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| unusable(&e))?,
            None => kube::Config::infer().await.map_err(|e| unusable(&e))?,
        };
        config.headers.push((
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        ));
        let namespace = global
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = kube::Client::try_from(config).map_err(|e| unusable(&e))?;
        Ok(Session {
            client,
            namespace,
            global: global.clone(),
        })
    }
}
