//! The one failure type of the connector: a class (what the user or the runner should do) and
//! a message a person can act on. The classes map one to one onto the WIT's `failure-type` and
//! Airbyte's `failure_type`.

/// Failure classes shared by the protocol, the WIT interface and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureType {
    /// The user must act: fix the config, the key, the plan, the catalog or the state.
    Config,
    /// A later retry may succeed (network, server, rate limit).
    Transient,
    /// A bug or an answer the connector cannot handle.
    System,
}

impl FailureType {
    /// Airbyte's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureType::Config => "config_error",
            FailureType::Transient => "transient_error",
            FailureType::System => "system_error",
        }
    }
}

/// A request that ran out of retries or failed for good.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// Class.
    pub(crate) kind: FailureType,
    /// What happened and what to do.
    pub(crate) message: String,
}

impl Failure {
    /// A failure of a class.
    pub(crate) fn new(kind: FailureType, message: String) -> Failure {
        Failure { kind, message }
    }

    /// A failure the user must fix (config, catalog, state, command line).
    pub(crate) fn config(message: String) -> Failure {
        Failure {
            kind: FailureType::Config,
            message,
        }
    }
}
