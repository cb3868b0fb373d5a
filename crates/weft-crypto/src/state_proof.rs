//! The authenticated state's hashing and offline verification of state proofs.
//!
//! The state is a Jellyfish Merkle tree (`jmt`); this module gives it SHA-256 through our own
//! `sha2` and checks its proofs without any storage.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use weft_types::Hash;

/// SHA-256 as `jmt` wants it.
#[derive(Clone, Debug, Default)]
pub struct StateHasher(Sha256);

impl jmt::SimpleHasher for StateHasher {
    fn new() -> Self {
        Self(Sha256::new())
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The tree position of a state key.
pub fn state_key_hash(key: &[u8]) -> jmt::KeyHash {
    jmt::KeyHash::with::<StateHasher>(key)
}

/// A proof that a state key holds a value (or nothing) under a state root.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateProof(pub jmt::proof::SparseMerkleProof<StateHasher>);

impl StateProof {
    /// Checks the proof for `key` → `value` (`None`: proves absence) under `root`.
    pub fn verify(&self, root: &Hash, key: &[u8], value: Option<&[u8]>) -> bool {
        self.0
            .verify(jmt::RootHash(root.0), state_key_hash(key), value)
            .is_ok()
    }

    /// Canonical bytes of the proof.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(&self.0).expect("encoding into a Vec is infallible")
    }

    /// Decodes proof bytes from an untrusted bundle (bounded).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        // 256 levels of 32-byte siblings plus the leaf is the largest honest proof.
        if bytes.len() > 257 * 33 + 128 {
            return None;
        }
        borsh::from_slice(bytes).ok().map(Self)
    }
}
