//! The reconciler's error type. Every error knows its category, which decides what happens next:
//! a transient error is retried with per-object exponential backoff; a bug is logged loudly and
//! retried the same way (a fixed binary may be rolled out meanwhile). A user's invalid spec is not
//! an error here: it becomes a condition and the reconciler waits for a change.

/// What went wrong during a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server answered with an error, or could not be reached.
    #[error("{action}: {source}")]
    Kube {
        /// What the operator was doing (`apply StatefulSet bp/edge-store`).
        action: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// An object the operator built or read could not be (de)serialized: a bug.
    #[error("{action}: {source}")]
    Serde {
        /// What the operator was doing.
        action: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

/// How an error is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Worth retrying: API unavailable, throttled, conflicts, timeouts.
    Transient,
    /// The operator's fault; retried, and logged as an error.
    Bug,
}

impl Category {
    /// The category as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Transient => "transient",
            Category::Bug => "bug",
        }
    }
}

impl Error {
    /// Wraps a client error with what the operator was doing.
    pub fn kube(action: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube {
            action: action.into(),
            source,
        }
    }

    /// The error's category.
    pub fn category(&self) -> Category {
        match self {
            Error::Kube { source, .. } => match source {
                kube::Error::Api(status) if status.code == 400 || status.code == 422 => {
                    Category::Bug
                }
                _ => Category::Transient,
            },
            Error::Serde { .. } => Category::Bug,
        }
    }
}

/// A reconcile's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether `error` is the API server's 404.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}
