//! Proof bundles: everything needed to check a record offline, given only the chain id and
//! the validator set one trusts (from the genesis file).
//!
//! A bundle carries a block header, the validators' finalization certificate for it, and a
//! Merkle proof from the record to a root in that header. Verification checks, in order: the
//! chain id, that the header's validator set is the trusted one, the certificate (more than
//! two thirds of that set signed the consensus engine's finalize message for this header's
//! hash, under the chain's namespace, at the round the certificate names), and the record's
//! proof.
//!
//! A transaction bundle also carries the transaction's canonical bytes: a verifier that cannot
//! rebuild them from JSON for every operation type (the browser explorer) hashes those, and
//! this check makes sure they are exactly the transaction the bundle shows.

use serde::{Deserialize, Serialize};
use weft_types::{
    AccountId, BlockHeader, ChainId, Finalization, Hash, Receipt, SignedTransaction, encode,
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

/// A self-contained, offline-verifiable proof of one record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProofBundle {
    /// The record's `weft://` reference.
    pub reference: String,
    pub header: BlockHeader,
    pub finalization: Finalization,
    pub proof: RecordProof,
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
    if header.validator_set_hash != validator_set_hash(&anchor.validators) {
        return Err(BundleError::UntrustedValidatorSet);
    }
    if bundle.finalization.height != header.height {
        return Err(BundleError::HeightMismatch {
            got: bundle.finalization.height,
            expected: header.height,
        });
    }
    let hash = block_hash(header);
    verify_finalization(
        &bundle.finalization,
        &header.chain_id,
        &hash,
        &anchor.validators,
    )?;
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
