//! Hashes of protocol objects. Every hash is SHA-256 over the canonical encoding.

use sha2::{Digest, Sha256};
use weft_types::{AccountId, BlockHeader, Hash, Receipt, Transaction, encode};

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

/// The transaction id: SHA-256 of the canonical encoding of the unsigned body.
pub fn tx_hash(tx: &Transaction) -> Hash {
    sha256(&encode(tx))
}

/// The block id: SHA-256 of the canonical encoding of the header.
pub fn block_hash(header: &BlockHeader) -> Hash {
    sha256(&encode(header))
}

/// Leaf of the receipts tree.
pub fn receipt_hash(receipt: &Receipt) -> Hash {
    sha256(&encode(receipt))
}

/// Hash of a validator set; the set is sorted first so order in a file does not matter.
pub fn validator_set_hash(validators: &[AccountId]) -> Hash {
    let mut sorted = validators.to_vec();
    sorted.sort();
    sorted.dedup();
    sha256(&encode(&sorted))
}

const TX_DOMAIN: &[u8] = b"weft/tx/v1\0";
const BLOCK_DOMAIN: &[u8] = b"weft/block/v1\0";

fn domain_message(domain: &[u8], hash: &Hash) -> [u8; 46] {
    debug_assert!(domain.len() <= 14);
    let mut msg = [0u8; 46];
    msg[..domain.len()].copy_from_slice(domain);
    msg[14..].copy_from_slice(hash.as_bytes());
    msg
}

/// The bytes an account signs for a transaction: a domain tag and the transaction id.
///
/// Signing the 32-byte id keeps verification cost independent of transaction size, and the
/// domain tag keeps a transaction signature from ever being valid as a block vote.
pub fn tx_signing_message(tx_hash: &Hash) -> [u8; 46] {
    domain_message(TX_DOMAIN, tx_hash)
}

/// The bytes a validator signs to finalize a block.
pub fn block_signing_message(block_hash: &Hash) -> [u8; 46] {
    domain_message(BLOCK_DOMAIN, block_hash)
}
