//! Confidential payloads (DESIGN §7): the node's private store and the transfer envelope.
//!
//! A payload that must not be on every node (a medical record, a mortgage file) never enters a
//! transaction: the ledger keeps its salted commitment
//! ([`weft_credentials::commitment`]), its policy and an access log. This crate owns the two
//! places where the payload itself exists off the ledger:
//!
//! - [`PrivateStore`]: one encrypted file per record in a directory of the node, under a
//!   per-record data key wrapped by the store's master key (XChaCha20-Poly1305), with the
//!   record id and commitment authenticated; [`PrivateStore::shred`] overwrites and unlinks
//!   the file so that a purge leaves no payload bytes in the store; [`PrivateStore::redeem`]
//!   makes an access transaction single-use.
//! - [`Envelope`]: the payload sealed with HPKE (RFC 9180) to a requester's ephemeral
//!   [`TransferKey`] when one authorized node hands it to another, bound to the record id
//!   and commitment.
//!
//! Both re-check the commitment on the way out, so neither a damaged store nor a lying sender
//! can hand over bytes other than the ones the ledger committed to.
//!
//! Decisions and limits: `docs/decisions/0011-confidential-payload-store.md`.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod plaintext;
mod store;
mod transfer;

pub use error::{PrivateStoreError, TransferError};
pub use store::PrivateStore;
pub use transfer::{Envelope, TransferKey, open_envelope, seal_for};
pub use weft_credentials::commitment::{Commitment, Salt};

/// Largest payload the store keeps or an envelope carries.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Longest record id, in bytes of UTF-8.
pub const MAX_RECORD_ID_BYTES: usize = 128;

/// Record ids are arbitrary UTF-8 of 1 to [`MAX_RECORD_ID_BYTES`] bytes; their length is
/// encoded in one byte wherever they are authenticated.
fn check_record_id(record: &str) -> Result<(), usize> {
    if record.is_empty() || record.len() > MAX_RECORD_ID_BYTES {
        Err(record.len())
    } else {
        Ok(())
    }
}
