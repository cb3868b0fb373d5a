//! Output and exit codes: text for people, `--json` for scripts; failures are typed.
//!
//! Exit codes: 1 other errors, 2 usage (clap's too), 3 the ledger refused the transaction
//! or it failed, 4 a proof did not verify, 5 the node could not be reached.

use std::process::ExitCode;

use serde_json::{Value, json};
use weft_client::ClientError;

#[derive(Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn print(&self, value: &Value, text: &str) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }

    pub fn fail(&self, failure: &Failure) -> ExitCode {
        if failure.reported {
            return ExitCode::from(failure.exit);
        }
        if self.json {
            println!(
                "{}",
                json!({"error": {"kind": failure.kind, "code": failure.code, "message": failure.message}})
            );
        } else {
            let code = failure
                .code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            eprintln!("error{code}: {}", failure.message);
        }
        ExitCode::from(failure.exit)
    }
}

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub code: Option<String>,
    pub message: String,
    pub exit: u8,
    /// The command already printed its own report; only the exit code remains.
    pub reported: bool,
}

impl Failure {
    pub fn other(e: anyhow::Error) -> Self {
        Self {
            kind: "error",
            code: None,
            message: format!("{e:#}"),
            exit: 1,
            reported: false,
        }
    }
    pub fn usage(message: String) -> Self {
        Self {
            kind: "usage",
            code: None,
            message,
            exit: 2,
            reported: false,
        }
    }
    pub fn refused(code: &str, message: String) -> Self {
        Self {
            kind: "refused",
            code: Some(code.to_owned()),
            message,
            exit: 3,
            reported: false,
        }
    }
    /// The input is invalid before it reaches the ledger (same codes as the ledger's).
    pub fn invalid(code: &str, message: String) -> Self {
        Self {
            kind: "invalid",
            code: Some(code.to_owned()),
            message,
            exit: 2,
            reported: false,
        }
    }
    pub fn verification(message: String) -> Self {
        Self {
            kind: "verification_failed",
            code: None,
            message,
            exit: 4,
            reported: false,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::other(e)
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Refused { code, message, .. } => {
                Self::refused(code.as_str(), message.clone())
            }
            ClientError::Transport { .. } => Self {
                kind: "unreachable",
                code: None,
                message: e.to_string(),
                exit: 5,
                reported: false,
            },
            ClientError::Timeout(_) => Self {
                kind: "timeout",
                code: None,
                message: e.to_string(),
                exit: 1,
                reported: false,
            },
        }
    }
}
