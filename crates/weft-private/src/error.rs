//! Typed refusals of the store and of the envelope. None of them carries secret bytes.

use std::path::PathBuf;

use weft_types::ErrorCode;

use crate::{MAX_PAYLOAD_BYTES, MAX_RECORD_ID_BYTES};

/// Why the private store refused or failed. A refusal changes nothing on disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateStoreError {
    /// The record id is empty or longer than 128 bytes.
    #[error("a record id has 1 to {MAX_RECORD_ID_BYTES} bytes, not {0}")]
    InvalidRecordId(usize),
    /// The payload is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("the payload has {0} bytes; at most {MAX_PAYLOAD_BYTES} are kept")]
    PayloadTooLarge(usize),
    /// `put` was given a payload and salt that do not open the commitment.
    #[error("the payload and salt do not open the commitment")]
    CommitmentMismatch,
    /// `get` asked for a commitment other than the one the stored copy was kept under (the
    /// ledger and the store disagree about which payload this record holds).
    #[error("the stored copy of record {record:?} was kept under another commitment")]
    WrongCommitment {
        /// The record asked for.
        record: String,
    },
    /// The file at a record's name authenticates as another record's: it was renamed or
    /// swapped.
    #[error("{path} holds another record than its name says")]
    Misplaced {
        /// The file.
        path: PathBuf,
    },
    /// A file's header or body does not authenticate under the master key: it was tampered
    /// with, or it was written under another master key.
    #[error("{path} does not authenticate: tampered with, or written under another master key")]
    Unauthentic {
        /// The file.
        path: PathBuf,
    },
    /// A file is not in the store's format (wrong magic, unknown version, truncated...).
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A file is larger than any record can be; it was not read.
    #[error("{path} has {len} bytes, more than any record; not read")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// The master key file exists but is not a master key. It is never replaced silently:
    /// every stored record depends on it.
    #[error("master key file {path} is unusable: {reason}")]
    MasterKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another `PrivateStore` (in this or another process) has the directory open.
    #[error("private store {0} is already open elsewhere")]
    Locked(PathBuf),
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Entropy(String),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl PrivateStoreError {
    /// The stable code to report: the caller's mistakes are its own codes, anything wrong
    /// with the node's disk is `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRecordId(_) | Self::CommitmentMismatch | Self::WrongCommitment { .. } => {
                ErrorCode::InvalidArgument
            }
            Self::PayloadTooLarge(_) => ErrorCode::Oversized,
            Self::Misplaced { .. }
            | Self::Unauthentic { .. }
            | Self::Corrupt { .. }
            | Self::FileTooLarge { .. }
            | Self::MasterKey { .. }
            | Self::Locked(_)
            | Self::Entropy(_)
            | Self::Io { .. } => ErrorCode::Internal,
        }
    }
}

/// Why an envelope could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The record id is empty or longer than 128 bytes.
    #[error("a record id has 1 to {MAX_RECORD_ID_BYTES} bytes, not {0}")]
    InvalidRecordId(usize),
    /// The payload is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("the payload has {0} bytes; at most {MAX_PAYLOAD_BYTES} are sent")]
    PayloadTooLarge(usize),
    /// The sender's payload and salt do not open the commitment; nothing was sealed.
    #[error("the payload and salt do not open the commitment")]
    CommitmentMismatch,
    /// The recipient's public key is not a usable X25519 key.
    #[error("the recipient key is not a usable X25519 public key")]
    BadRecipientKey,
    /// The envelope's parts have impossible lengths.
    #[error("the envelope is malformed: {0}")]
    Malformed(&'static str),
    /// The envelope does not open with this key for this record and commitment: sealed to
    /// another key, for another record or commitment, or tampered with.
    #[error("the envelope does not open for this key, record and commitment")]
    Unopenable,
    /// The envelope opened, but what the sender sealed does not open the commitment on the
    /// ledger: the sender lied.
    #[error("the sender's payload does not open the commitment")]
    Forged,
    /// HPKE refused to seal (it only does for an all-zero shared secret or a failed random
    /// source).
    #[error("sealing failed")]
    Seal,
}

impl TransferError {
    /// The stable code to report.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRecordId(_)
            | Self::CommitmentMismatch
            | Self::BadRecipientKey
            | Self::Forged => ErrorCode::InvalidArgument,
            Self::PayloadTooLarge(_) => ErrorCode::Oversized,
            Self::Malformed(_) | Self::Unopenable => ErrorCode::Malformed,
            Self::Seal => ErrorCode::Internal,
        }
    }
}
