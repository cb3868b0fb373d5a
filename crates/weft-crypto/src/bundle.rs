//! Proof bundles: everything needed to check a record offline, given only the chain id and
//! the validator set one trusts (from the genesis file).
//!
//! A bundle carries a block header, the validators' finalization certificate for it, and a
//! Merkle proof from the record to a root in that header. Verification checks, in order: the
//! chain id, the validator set the header must be finalized by (see below), the certificate
//! (more than two thirds of that set signed the consensus engine's finalize message for this
//! header's hash, under the chain's namespace, at the round the certificate names), and the
//! record's proof.
//!
//! # Validator-set changes
//!
//! The set in force after block `h` (the state key [`VALIDATORS_STATE_KEY`], holding the
//! canonical encoding of the sorted set) finalizes block `h + 1`, and every header's
//! `validator_set_hash` commits to the set finalizing it. A bundle for a block after the set
//! changed carries one [`SetHandoff`] per change since the trust anchor, oldest first: the
//! header of the block whose state names the next set, that block's finalization, the next set
//! and a state proof of it. Verification starts from the anchor's set and, for each handoff,
//! checks that its height is above the previous one and below the bundle's block, that it is on
//! the trusted chain, that its header names the current set and is finalized by it, that the
//! next set is well formed (non-empty, sorted, distinct, at most
//! [`MAX_VALIDATORS`](weft_types::limits::MAX_VALIDATORS)) and that the state proof shows that
//! set under the header's state root; the next set then becomes the current one. The bundle's
//! own header must name, and be finalized by, the set reached at the end. A bundle without
//! handoffs is checked against the anchor's set, as before handoffs existed.
//!
//! The blocks between changes are not needed. A bundle that leaves a change out fails: its
//! header (or the next handoff's) names a set the walk has not reached. As for any light
//! client that skips blocks, this trusts that a set no longer in force does not finalize a
//! conflicting history: a verifier holding an older anchor cannot tell such a fork from the
//! real chain.
//!
//! A transaction bundle also carries the transaction's canonical bytes: a verifier that cannot
//! rebuild them from JSON for every operation type (the browser explorer) hashes those, and
//! this check makes sure they are exactly the transaction the bundle shows.

use serde::{Deserialize, Serialize};
use weft_types::{
    AccountId, BlockHeader, ChainId, Finalization, Hash, Receipt, SignedTransaction, encode,
    limits::MAX_VALIDATORS,
};

use crate::{
    SignatureError, StateProof, block_hash, merkle::MerkleProof, receipt_hash, tx_hash,
    validator_set_hash, verify_finalization,
};

/// The record a bundle proves.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordProof {
    /// A state key's value (or absence) after the block.
    State {
        key: String,
        /// Hex of the value's bytes; `None` proves the key is absent.
        value: Option<String>,
        /// Hex of the Jellyfish Merkle proof.
        proof: String,
    },
    /// A transaction and its receipt at a position in the block.
    Transaction {
        tx_index: u32,
        transaction: Box<SignedTransaction>,
        receipt: Box<Receipt>,
        tx_proof: MerkleProof,
        receipt_proof: MerkleProof,
        /// Hex of the canonical encoding of `transaction.tx` (its hash is the tx id). Older
        /// bundles lack it; when present it must be exactly that encoding.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tx_bytes: Option<String>,
    },
}

/// The state key holding the validator set in force after a block: the canonical encoding
/// (`weft_types::encode`) of the sorted `Vec<AccountId>`.
///
/// This must equal the key weft-execution writes (`StateKey::Validators`, displayed
/// `meta/validators`, set at genesis and by governance). weft-crypto cannot depend on
/// weft-execution (the dependency runs the other way), so the name is repeated here.
pub const VALIDATORS_STATE_KEY: &str = "meta/validators";

/// One validator-set change between the trust anchor and the bundle's block: a finalized block
/// (by the set in force before it) whose state names the next set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SetHandoff {
    pub header: BlockHeader,
    pub finalization: Finalization,
    /// The set in force after `header`'s block.
    pub validators: Vec<AccountId>,
    /// Hex of the state proof of `meta/validators` = encode(validators) against header.state_root.
    pub proof: String,
}

/// A self-contained, offline-verifiable proof of one record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProofBundle {
    /// The record's `weft://` reference.
    pub reference: String,
    pub header: BlockHeader,
    pub finalization: Finalization,
    pub proof: RecordProof,
    /// The validator-set changes from the trust anchor to `header`, oldest first; empty while
    /// the anchor's set is still in force (and absent from older bundles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoffs: Vec<SetHandoff>,
}

/// What a verifier trusts a priori.
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    pub chain_id: ChainId,
    pub validators: Vec<AccountId>,
}

/// Why a bundle did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("bundle is for chain {got}, expected {expected}")]
    WrongChain { got: String, expected: String },
    #[error("header names a validator set other than the trusted one")]
    UntrustedValidatorSet,
    #[error(
        "the handoff at height {height} is not above the previous one and below the bundle's block"
    )]
    HandoffOutOfOrder { height: u64 },
    #[error("the handoff at height {height} is for another chain")]
    HandoffWrongChain { height: u64 },
    #[error("the handoff at height {height} names a validator set other than the one in force")]
    HandoffUntrustedSet { height: u64 },
    #[error("the handoff at height {height} has a finalization for height {got}")]
    HandoffHeightMismatch { height: u64, got: u64 },
    #[error("the handoff at height {height}: finalization: {error}")]
    HandoffFinalization { height: u64, error: SignatureError },
    #[error(
        "the handoff at height {height} names a validator set that is empty, unsorted, repeats a validator or is too large"
    )]
    InvalidHandoffSet { height: u64 },
    #[error(
        "the handoff at height {height}: the state proof does not show its validator set under the header's state root"
    )]
    HandoffProofFailed { height: u64 },
    #[error("finalization: {0}")]
    Finalization(#[from] SignatureError),
    #[error("finalization is for height {got}, header is {expected}")]
    HeightMismatch { got: u64, expected: u64 },
    #[error("the proof bytes are not a valid encoding")]
    MalformedProof,
    #[error("the state proof does not match the header's state root")]
    StateProofFailed,
    #[error("the transaction proof does not match the header's tx root")]
    TxProofFailed,
    #[error("the receipt proof does not match the header's receipts root")]
    ReceiptProofFailed,
    #[error("the receipt is for another transaction")]
    ReceiptMismatch,
    #[error("the transaction bytes are not the canonical encoding of the transaction shown")]
    TxBytesMismatch,
}

/// What a verified bundle established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRecord {
    pub height: u64,
    pub block_hash: Hash,
    pub timestamp_ms: u64,
}

/// Checks a bundle completely; see the module documentation for the steps.
pub fn verify_bundle(
    bundle: &ProofBundle,
    anchor: &TrustAnchor,
) -> Result<VerifiedRecord, BundleError> {
    let header = &bundle.header;
    if header.chain_id != anchor.chain_id {
        return Err(BundleError::WrongChain {
            got: header.chain_id.to_string(),
            expected: anchor.chain_id.to_string(),
        });
    }
    let validators = follow_handoffs(&bundle.handoffs, header.height, anchor)?;
    if header.validator_set_hash != validator_set_hash(validators) {
        return Err(BundleError::UntrustedValidatorSet);
    }
    if bundle.finalization.height != header.height {
        return Err(BundleError::HeightMismatch {
            got: bundle.finalization.height,
            expected: header.height,
        });
    }
    let hash = block_hash(header);
    verify_finalization(&bundle.finalization, &header.chain_id, &hash, validators)?;
    match &bundle.proof {
        RecordProof::State { key, value, proof } => {
            let proof_bytes = hex::decode(proof).map_err(|_| BundleError::MalformedProof)?;
            let proof = StateProof::from_bytes(&proof_bytes).ok_or(BundleError::MalformedProof)?;
            let value = match value {
                Some(v) => Some(hex::decode(v).map_err(|_| BundleError::MalformedProof)?),
                None => None,
            };
            if !proof.verify(&header.state_root, key.as_bytes(), value.as_deref()) {
                return Err(BundleError::StateProofFailed);
            }
        }
        RecordProof::Transaction {
            tx_index,
            transaction,
            receipt,
            tx_proof,
            receipt_proof,
            tx_bytes,
        } => {
            if let Some(tx_bytes) = tx_bytes {
                let bytes = hex::decode(tx_bytes).map_err(|_| BundleError::MalformedProof)?;
                if bytes != encode(&transaction.tx) {
                    return Err(BundleError::TxBytesMismatch);
                }
            }
            let th = tx_hash(&transaction.tx);
            if tx_proof.index != *tx_index || !tx_proof.verify(&header.tx_root, &th) {
                return Err(BundleError::TxProofFailed);
            }
            if receipt.tx_hash != th {
                return Err(BundleError::ReceiptMismatch);
            }
            if receipt_proof.index != *tx_index
                || !receipt_proof.verify(&header.receipts_root, &receipt_hash(receipt))
            {
                return Err(BundleError::ReceiptProofFailed);
            }
        }
    }
    Ok(VerifiedRecord {
        height: header.height,
        block_hash: hash,
        timestamp_ms: header.timestamp_ms,
    })
}

/// Walks the handoffs from the anchor's set; returns the set in force for a block at `height`
/// (above every handoff).
fn follow_handoffs<'a>(
    handoffs: &'a [SetHandoff],
    height: u64,
    anchor: &'a TrustAnchor,
) -> Result<&'a [AccountId], BundleError> {
    let mut current: &[AccountId] = &anchor.validators;
    let mut previous: Option<u64> = None;
    for handoff in handoffs {
        let h = &handoff.header;
        let at = h.height;
        if previous.is_some_and(|p| at <= p) || at >= height {
            return Err(BundleError::HandoffOutOfOrder { height: at });
        }
        previous = Some(at);
        if h.chain_id != anchor.chain_id {
            return Err(BundleError::HandoffWrongChain { height: at });
        }
        if h.validator_set_hash != validator_set_hash(current) {
            return Err(BundleError::HandoffUntrustedSet { height: at });
        }
        if handoff.finalization.height != at {
            return Err(BundleError::HandoffHeightMismatch {
                height: at,
                got: handoff.finalization.height,
            });
        }
        verify_finalization(&handoff.finalization, &h.chain_id, &block_hash(h), current)
            .map_err(|error| BundleError::HandoffFinalization { height: at, error })?;
        let next = &handoff.validators;
        if next.is_empty()
            || next.len() > MAX_VALIDATORS
            || !next.windows(2).all(|pair| pair[0] < pair[1])
        {
            return Err(BundleError::InvalidHandoffSet { height: at });
        }
        let proven = hex::decode(&handoff.proof)
            .ok()
            .and_then(|bytes| StateProof::from_bytes(&bytes))
            .is_some_and(|proof| {
                proof.verify(
                    &h.state_root,
                    VALIDATORS_STATE_KEY.as_bytes(),
                    Some(&encode(next)),
                )
            });
        if !proven {
            return Err(BundleError::HandoffProofFailed { height: at });
        }
        current = next;
    }
    Ok(current)
}
