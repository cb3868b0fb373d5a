//! Hashes of protocol objects. Every hash is SHA-256 over the canonical encoding.

use sha2::{Digest, Sha256};
use weft_types::{AccountId, BlockHeader, ChainId, Hash, Receipt, Transaction, encode};

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
/// domain tag keeps a transaction signature from ever being valid as a finalize vote (that
/// message starts with a length byte of at most 78, never the tag's `w`, 0x77).
pub fn tx_signing_message(tx_hash: &Hash) -> [u8; 46] {
    domain_message(TX_DOMAIN, tx_hash)
}

const FINALIZE_SUFFIX: &[u8] = b"_FINALIZE";

/// The namespace the consensus engine signs under for `chain_id`: `"weft/" || chain_id`.
pub fn consensus_namespace(chain_id: &ChainId) -> Vec<u8> {
    [b"weft/".as_slice(), chain_id.as_str().as_bytes()].concat()
}

/// Appends `value` as an unsigned LEB128 varint (commonware-codec's `UInt`).
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // Truncation keeps the low seven bits, which the mask selects anyway.
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The bytes a validator signs to finalize a block: the simplex engine's *finalize* subject
/// as its ed25519 scheme frames it.
///
/// ```text
/// ns_f    = consensus_namespace(chain_id) || "_FINALIZE"
/// message = varint(len(ns_f)) || ns_f || varint(epoch) || varint(view) || varint(parent_view)
///           || block_hash
/// ```
///
/// (commonware's `union_unique(finalize_namespace, Proposal::encode())`, the proposal being
/// the round, the parent's view and the payload digest, which is the block hash.)
pub fn finalize_message(
    chain_id: &ChainId,
    epoch: u64,
    view: u64,
    parent_view: u64,
    block_hash: &Hash,
) -> Vec<u8> {
    let mut namespace = consensus_namespace(chain_id);
    namespace.extend_from_slice(FINALIZE_SUFFIX);
    let mut msg = Vec::with_capacity(1 + namespace.len() + 3 * 10 + 32);
    put_varint(&mut msg, namespace.len() as u64);
    msg.extend_from_slice(&namespace);
    put_varint(&mut msg, epoch);
    put_varint(&mut msg, view);
    put_varint(&mut msg, parent_view);
    msg.extend_from_slice(block_hash.as_bytes());
    msg
}

#[cfg(test)]
mod tests {
    use weft_types::Name;

    use super::*;

    fn varint(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        out
    }

    #[test]
    fn varints_are_leb128() {
        assert_eq!(varint(0), [0x00]);
        assert_eq!(varint(127), [0x7f]);
        assert_eq!(varint(128), [0x80, 0x01]);
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(varint(16_383), [0xff, 0x7f]);
        assert_eq!(varint(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn finalize_message_vector() {
        let chain = Name::new("test-chain").unwrap();
        assert_eq!(consensus_namespace(&chain), b"weft/test-chain");
        let msg = finalize_message(&chain, 0, 300, 299, &Hash([7; 32]));
        let mut expected = vec![0x18];
        expected.extend_from_slice(b"weft/test-chain_FINALIZE");
        expected.extend_from_slice(&[0x00, 0xac, 0x02, 0xab, 0x02]);
        expected.extend_from_slice(&[0x07; 32]);
        assert_eq!(msg, expected);
        // The same bytes written out, as the browser's copy of this function is checked.
        assert_eq!(
            hex::encode(&msg),
            concat!(
                "18",
                "776566742f746573742d636861696e5f46494e414c495a45",
                "00",
                "ac02",
                "ab02",
                "0707070707070707070707070707070707070707070707070707070707070707",
            )
        );
    }
}
