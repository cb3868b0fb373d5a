//! Ed25519 key pairs.

use ed25519_dalek::{Signer, SigningKey};
use weft_types::{
    AccountId, ChainId, Hash, SignatureBytes, SignedTransaction, Transaction, TxSignature,
    ValidatorSignature,
};

use crate::hash::{finalize_message, tx_hash, tx_signing_message};

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Entropy(String),
    /// The secret key text was not 64 hex characters.
    #[error("secret key must be 64 hex characters")]
    BadSecret,
}

/// An account's signing key.
pub struct Keypair {
    signing: SigningKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.account())
    }
}

impl Clone for Keypair {
    fn clone(&self) -> Self {
        Self {
            signing: SigningKey::from_bytes(&self.signing.to_bytes()),
        }
    }
}

impl Keypair {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Entropy(e.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// The key whose 32-byte secret seed is `seed` (deterministic; for tests and imports).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Parses a hex-encoded 32-byte secret seed.
    pub fn from_secret_hex(text: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| KeyError::BadSecret)?;
        Ok(Self::from_seed(seed))
    }

    /// The secret seed as hex; handle with care.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.signing.to_bytes())
    }

    /// The account (public key) of this key.
    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    /// Signs arbitrary bytes.
    pub fn sign(&self, message: &[u8]) -> SignatureBytes {
        SignatureBytes(self.signing.sign(message).to_bytes())
    }

    /// This key's signature over a transaction body.
    pub fn sign_tx(&self, tx: &Transaction) -> TxSignature {
        let msg = tx_signing_message(&tx_hash(tx));
        TxSignature {
            account: self.account(),
            signature: self.sign(&msg),
        }
    }

    /// This validator's finalize vote for `block_hash`, finalized at `(epoch, view)` with its
    /// parent at `parent_view`: the signature the consensus engine makes over the same subject.
    pub fn sign_finalize(
        &self,
        chain_id: &ChainId,
        epoch: u64,
        view: u64,
        parent_view: u64,
        block_hash: &Hash,
    ) -> ValidatorSignature {
        ValidatorSignature {
            validator: self.account(),
            signature: self.sign(&finalize_message(
                chain_id,
                epoch,
                view,
                parent_view,
                block_hash,
            )),
        }
    }
}

/// Signs `tx` with each key in order (the transaction's signer first).
pub fn sign_transaction(tx: Transaction, keys: &[&Keypair]) -> SignedTransaction {
    let hash = tx_hash(&tx);
    let msg = tx_signing_message(&hash);
    let signatures = keys
        .iter()
        .map(|k| TxSignature {
            account: k.account(),
            signature: k.sign(&msg),
        })
        .collect();
    SignedTransaction { tx, signatures }
}

impl Keypair {
    /// Signs `tx` with this key alone.
    pub fn sign_transaction(&self, tx: Transaction) -> SignedTransaction {
        sign_transaction(tx, &[self])
    }
}
