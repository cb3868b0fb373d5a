//! Sign, verify, hash and prove: thin wrappers over audited crates, never our own primitives.
//!
//! - Ed25519 via `ed25519-dalek` (strict verification; batch verification across cores with rayon).
//! - SHA-256 via `sha2`.
//! - Binary Merkle trees over transaction and receipt hashes via `rs_merkle`, with RFC 6962
//!   leaf/node domain separation.
//! - The key registry's RFC 9162 transparency log via `ct-merkle` (inclusion and consistency
//!   proofs).
//! - The state tree's hasher for `jmt` and offline verification of its proofs.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod bundle;
mod hash;
mod keys;
mod merkle;
mod request_auth;
mod state_proof;
mod translog;
mod verify;

pub use bundle::{
    BundleError, ProofBundle, RecordProof, SetHandoff, TrustAnchor, VALIDATORS_STATE_KEY,
    VerifiedRecord, verify_bundle,
};
pub use hash::{
    block_hash, consensus_namespace, finalize_message, receipt_hash, sha256, tx_hash,
    tx_signing_message, validator_set_hash,
};
pub use keys::{KeyError, Keypair, sign_transaction};
pub use merkle::{MerkleProof, merkle_proof, merkle_root};
pub use request_auth::{RequestAuthError, RequestSigner, sign_request, verify_request};
pub use state_proof::{StateHasher, StateProof, state_key_hash};
pub use translog::{
    LogProofError, log_consistency_proof, log_inclusion_proof, log_leaf_hash, log_root,
    verify_log_consistency, verify_log_inclusion,
};
pub use verify::{
    PreparedKeys, SignatureError, is_valid_public_key, quorum, verify_finalization,
    verify_prehashed_parallel, verify_prepared_parallel, verify_signature, verify_transaction,
    verify_transactions_parallel,
};
