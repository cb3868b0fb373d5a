//! The key registry's transparency log (UC-28): an append-only Merkle tree in the shape of
//! RFC 9162 (Certificate Transparency v2, §2.1), with its inclusion and consistency proofs
//! and their offline verification.
//!
//! The tree, the proofs and their verification are `ct-merkle`'s (rs_merkle has no
//! consistency proofs); the hashing is RFC 6962/9162's: a leaf is `SHA-256(0x00 || entry)`,
//! a node `SHA-256(0x01 || left || right)`, the empty tree's root `SHA-256("")`. A leaf's
//! `entry` is the canonical (borsh) bytes of one registry event.

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash, mem_backed_tree::MemoryBackedTree};
use sha2::{Digest, Sha256};
use weft_types::Hash;

/// Why a log proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogProofError {
    /// The sizes or the index do not describe a proof that can exist.
    #[error("invalid proof request: {0}")]
    BadRange(String),
    /// The proof does not lead to the given root(s).
    #[error("the proof does not verify: {0}")]
    Mismatch(String),
}

type Tree = MemoryBackedTree<Sha256, Vec<u8>>;

fn tree<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Tree {
    let mut t = Tree::new();
    for e in entries {
        t.push(e.to_vec());
    }
    t
}

fn to_hash(d: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(d);
    Hash(out)
}

fn root_of(root: &Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new(root.0.into(), size)
}

/// The leaf hash of one entry: `SHA-256(0x00 || entry)`.
pub fn log_leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    to_hash(&h.finalize())
}

/// The root of the tree over `entries`, in order (`SHA-256("")` for none).
pub fn log_root<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Hash {
    to_hash(tree(entries).root().as_bytes())
}

/// The inclusion proof of entry `index` in the tree of the first `size` entries: the
/// sibling hashes from the leaf up (RFC 9162 §2.1.3.1).
pub fn log_inclusion_proof(
    entries: &[Vec<u8>],
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogProofError> {
    if size == 0 || index >= size || size > entries.len() as u64 {
        return Err(LogProofError::BadRange(format!(
            "leaf {index} in a tree of {size} (the log has {})",
            entries.len()
        )));
    }
    let t = tree(entries[..size as usize].iter().map(Vec::as_slice));
    let proof = t.prove_inclusion(index as usize);
    Ok(proof.as_bytes().chunks(32).map(to_hash).collect())
}

/// The consistency proof that the tree of the first `to` entries extends the tree of the
/// first `from` entries (RFC 9162 §2.1.4.1); empty when `from == to`.
pub fn log_consistency_proof(
    entries: &[Vec<u8>],
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, LogProofError> {
    if from == 0 || from > to || to > entries.len() as u64 {
        return Err(LogProofError::BadRange(format!(
            "from {from} to {to} (the log has {}; from must be at least 1)",
            entries.len()
        )));
    }
    if from == to {
        return Ok(Vec::new());
    }
    let t = tree(entries[..to as usize].iter().map(Vec::as_slice));
    let proof = t.prove_consistency((to - from) as usize);
    Ok(proof.as_bytes().chunks(32).map(to_hash).collect())
}

/// Checks offline that `entry` is leaf `index` of the tree of `size` entries whose root is
/// `root`.
pub fn verify_log_inclusion(
    root: &Hash,
    size: u64,
    entry: &[u8],
    index: u64,
    proof: &[Hash],
) -> Result<(), LogProofError> {
    let bytes: Vec<u8> = proof.iter().flat_map(|h| h.0).collect();
    let proof = InclusionProof::<Sha256>::try_from_bytes(bytes)
        .map_err(|e| LogProofError::Mismatch(format!("{e:?}")))?;
    root_of(root, size)
        .verify_inclusion(&entry, index, &proof)
        .map_err(|e| LogProofError::Mismatch(format!("{e:?}")))
}

/// Checks offline that the tree of `new_size` entries with root `new_root` extends the tree
/// of `old_size` entries with root `old_root`.
pub fn verify_log_consistency(
    old_root: &Hash,
    old_size: u64,
    new_root: &Hash,
    new_size: u64,
    proof: &[Hash],
) -> Result<(), LogProofError> {
    if old_size == new_size {
        return if old_root == new_root && proof.is_empty() {
            Ok(())
        } else {
            Err(LogProofError::Mismatch(
                "equal sizes need equal roots and an empty proof".into(),
            ))
        };
    }
    let bytes: Vec<u8> = proof.iter().flat_map(|h| h.0).collect();
    let proof = ConsistencyProof::<Sha256>::try_from_bytes(bytes)
        .map_err(|e| LogProofError::Mismatch(format!("{e:?}")))?;
    root_of(new_root, new_size)
        .verify_consistency(&root_of(old_root, old_size), &proof)
        .map_err(|e| LogProofError::Mismatch(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    #[test]
    fn hashing_is_rfc_6962() {
        assert_eq!(log_root(std::iter::empty()), crate::sha256(b""));
        let e = entries(3);
        let leaf = |i: usize| log_leaf_hash(&e[i]);
        let node = |l: Hash, r: Hash| {
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(l.0);
            h.update(r.0);
            to_hash(&h.finalize())
        };
        assert_eq!(log_root(e[..1].iter().map(Vec::as_slice)), leaf(0));
        assert_eq!(
            log_root(e.iter().map(Vec::as_slice)),
            node(node(leaf(0), leaf(1)), leaf(2))
        );
    }

    #[test]
    fn every_proof_verifies_and_every_tampering_fails() {
        let e = entries(13);
        let roots: Vec<Hash> = (0..=e.len())
            .map(|n| log_root(e[..n].iter().map(Vec::as_slice)))
            .collect();
        for size in 1..=e.len() as u64 {
            for index in 0..size {
                let proof = log_inclusion_proof(&e, index, size).unwrap();
                let root = &roots[size as usize];
                verify_log_inclusion(root, size, &e[index as usize], index, &proof).unwrap();
                assert!(verify_log_inclusion(root, size, b"forged", index, &proof).is_err());
                assert!(
                    verify_log_inclusion(&roots[0], size, &e[index as usize], index, &proof)
                        .is_err()
                );
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = Hash([first.0[0] ^ 1; 32]);
                    assert!(
                        verify_log_inclusion(root, size, &e[index as usize], index, &bad).is_err()
                    );
                }
            }
            for from in 1..=size {
                let proof = log_consistency_proof(&e, from, size).unwrap();
                let (old, new) = (&roots[from as usize], &roots[size as usize]);
                verify_log_consistency(old, from, new, size, &proof).unwrap();
                if from < size {
                    assert!(verify_log_consistency(new, from, new, size, &proof).is_err());
                    let mut bad = proof.clone();
                    bad[0].0[31] ^= 1;
                    assert!(verify_log_consistency(old, from, new, size, &bad).is_err());
                }
            }
        }
        assert!(log_inclusion_proof(&e, 3, 3).is_err());
        assert!(log_inclusion_proof(&e, 0, 14).is_err());
        assert!(log_consistency_proof(&e, 0, 3).is_err());
        assert!(log_consistency_proof(&e, 4, 3).is_err());
    }
}
