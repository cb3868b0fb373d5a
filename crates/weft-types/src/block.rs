//! Blocks, their headers and the finalization certificates that make them final.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    encoding::{Bounded, DecodeError, Limits, check_len},
    ids::{AccountId, ChainId, Hash, SignatureBytes},
    limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_VALIDATORS},
    transaction::SignedTransaction,
};

/// Everything a light client needs to check a record against a block.
///
/// `state_root` and `receipts_root` describe the state *after* this block's transactions,
/// so a value read at height `h` is proven against header `h` alone.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: ChainId,
    pub height: u64,
    /// Hash of the previous header; zero for genesis.
    pub parent: Hash,
    /// Milliseconds since the Unix epoch, strictly increasing; the only clock execution sees.
    pub timestamp_ms: u64,
    pub proposer: AccountId,
    pub tx_count: u32,
    /// Merkle root over the transaction hashes, in block order.
    pub tx_root: Hash,
    /// Jellyfish Merkle root of the state after this block.
    pub state_root: Hash,
    /// Merkle root over the receipt hashes, in block order.
    pub receipts_root: Hash,
    /// Hash of the validator set that must finalize this block.
    pub validator_set_hash: Hash,
}

/// A header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub transactions: Vec<SignedTransaction>,
}

/// A validator's signature in a finalization: ed25519 over the consensus engine's finalize
/// message for the block (`weft_crypto::finalize_message`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSignature {
    pub validator: AccountId,
    pub signature: SignatureBytes,
}

/// Proof that a quorum of the validator set finalized a block: the simplex engine's ed25519
/// finalization certificate. Each validator signed the engine's *finalize* subject (the round,
/// the parent's view and the block hash, under the chain's consensus namespace), so the
/// certificate verifies offline from the genesis file alone.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Finalization {
    pub height: u64,
    pub block_hash: Hash,
    /// Consensus epoch and view the block was finalized in, and its parent's view.
    pub epoch: u64,
    pub view: u64,
    pub parent_view: u64,
    pub signatures: Vec<ValidatorSignature>,
}

impl Bounded for Block {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("transactions", self.transactions.len(), MAX_BLOCK_TXS)?;
        if self.header.tx_count as usize != self.transactions.len() {
            return Err(DecodeError::LimitExceeded(format!(
                "tx_count {} does not match {} transactions",
                self.header.tx_count,
                self.transactions.len()
            )));
        }
        self.transactions.iter().try_for_each(Bounded::check_limits)
    }
}

impl Limits for Block {
    const MAX_BYTES: usize = MAX_BLOCK_BYTES;
}

impl Bounded for BlockHeader {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("tx_count", self.tx_count as usize, MAX_BLOCK_TXS)
    }
}

impl Limits for BlockHeader {
    const MAX_BYTES: usize = 1024;
}

impl Bounded for Finalization {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("signatures", self.signatures.len(), MAX_VALIDATORS)
    }
}

impl Limits for Finalization {
    const MAX_BYTES: usize = 16 * 1024;
}
