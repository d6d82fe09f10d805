//! Logging: tracing with an `EnvFilter` level, as JSON lines (one object per event, with the
//! fields of every enclosing span, so each line of a reconcile carries `bigpeer=<ns>/<name>`)
//! or human-readable text.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

/// Installs the process's subscriber writing to `writer`; `level` is an `EnvFilter` directive
/// such as `info` or `info,smbp_operator=debug`.
pub fn init<W>(format: LogFormat, level: &str, writer: W) -> Result<(), String>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level).map_err(|e| format!("--log-level {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    result.map_err(|e| format!("cannot install the logger: {e}"))
}
