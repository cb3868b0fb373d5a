//! Weft's storage: everything a node keeps on disk, in one crash-safe database.
//!
//! This crate owns
//! - the **block store**: blocks by height and by hash, their finalization certificates and
//!   the receipts of their transactions;
//! - the **authenticated state store**: a Jellyfish Merkle tree (`jmt`, hashed with
//!   [`weft_crypto::StateHasher`]) whose root goes into every header, with every historical
//!   version readable and provable ([`Snapshot::get_with_proof`]);
//! - the **indexes**: transaction hash → location, events by account and by topic;
//! - **crash safety**: a block and everything derived from it are written by one redb write
//!   transaction with `Durability::Immediate` ([`Store::commit`]). After a crash the store holds
//!   either all of a block or none of it, and the head always names a complete block.
//!
//! It does not execute anything: execution hands over a [`WriteSet`](weft_types::state::WriteSet),
//! [`Store::prepare_state`] turns it into the new root (without writing, so a proposer can put
//! the root into a header first), and [`Store::commit`] writes the block with that prepared state.
//!
//! Stored bytes are trusted less than memory: any decode failure is
//! [`StorageError::Corrupt`], never a panic. The layout is described in `tables.rs`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod error;
mod snapshot;
mod store;
mod tables;
mod tree;

pub use error::StorageError;
pub use snapshot::Snapshot;
pub use store::{BlockCommit, ChainHead, EventRecord, PreparedState, Store};
