//! The plugin's errors and the exit codes a script can rely on (docs/kubectl-plugin.md lists
//! them): each error knows its code, and its message says what went wrong and what to do.

use std::process::ExitCode;

/// Every way a command can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or a flag's value is wrong (exit 2, as clap's own usage errors).
    #[error("{0}")]
    Usage(String),
    /// The object asked for does not exist (exit 3).
    #[error("{0}")]
    NotFound(String),
    /// The identity may not do what the command needs (exit 4).
    #[error("{0}")]
    Forbidden(String),
    /// A change was not confirmed (exit 5).
    #[error("{0}")]
    NotConfirmed(String),
    /// The command ran, and what it checks failed: a diagnose finding, a failing pre-flight
    /// check, incompatible versions, an upgrade control that does not apply now (exit 6).
    #[error("{0}")]
    ChecksFailed(String),
    /// A server-side apply conflicted with another field manager (exit 7).
    #[error("{0}")]
    Conflict(String),
    /// The cluster could not be reached or answered with an error, or a local file could not be
    /// written (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code of this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Failed(_) => 1,
            Error::Usage(_) => 2,
            Error::NotFound(_) => 3,
            Error::Forbidden(_) => 4,
            Error::NotConfirmed(_) => 5,
            Error::ChecksFailed(_) => 6,
            Error::Conflict(_) => 7,
        }
    }

    /// The error of a failed API request about `what`, sorted by its HTTP status.
    pub fn kube(what: impl std::fmt::Display, error: kube::Error) -> Self {
        match &error {
            kube::Error::Api(status) if status.code == 404 => {
                Error::NotFound(format!("{what}: not found"))
            }
            kube::Error::Api(status) if status.code == 403 => Error::Forbidden(format!(
                "{what}: forbidden: {}; see docs/kubectl-plugin.md \"Permissions\" for the RBAC each command needs",
                status.message
            )),
            kube::Error::Api(status) if status.code == 409 => {
                Error::Conflict(format!("{what}: {}", status.message))
            }
            _ => Error::Failed(format!("{what}: {error}")),
        }
    }
}

impl From<Error> for ExitCode {
    fn from(error: Error) -> Self {
        ExitCode::from(error.exit_code())
    }
}

/// The result of a command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a kube error is a 404.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if s.code == 404)
}

/// Whether a kube error is a 403.
pub fn is_forbidden(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if s.code == 403)
}
