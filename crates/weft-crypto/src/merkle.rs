//! Binary Merkle trees over transaction and receipt hashes, with inclusion proofs.
//!
//! The tree itself is `rs_merkle`'s; we only choose the hashing: RFC 6962 domain separation
//! (leaves are `H(0x00 || item)`, nodes `H(0x01 || left || right)`) so a leaf can never pass
//! for an inner node, and an odd node is promoted unchanged to the next level.

use rs_merkle::{Hasher, MerkleTree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use weft_types::{Hash, limits::MAX_BLOCK_TXS};

#[derive(Clone, Debug)]
struct DomainSha256;

impl Hasher for DomainSha256 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => {
                let mut h = Sha256::new();
                h.update([1u8]);
                h.update(left);
                h.update(right);
                h.finalize().into()
            }
            None => *left,
        }
    }
}

fn leaf(item: &Hash) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(item.as_bytes());
    h.finalize().into()
}

/// Root over `items` in order; [`Hash::ZERO`] for no items.
pub fn merkle_root(items: &[Hash]) -> Hash {
    if items.is_empty() {
        return Hash::ZERO;
    }
    let leaves: Vec<[u8; 32]> = items.iter().map(leaf).collect();
    MerkleTree::<DomainSha256>::from_leaves(&leaves)
        .root()
        .map_or(Hash::ZERO, Hash)
}

/// Proof that one item sits at `index` among `total` items under a root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    pub index: u32,
    pub total: u32,
    pub siblings: Vec<Hash>,
}

/// The inclusion proof for `items[index]`, or `None` when out of range.
pub fn merkle_proof(items: &[Hash], index: usize) -> Option<MerkleProof> {
    if index >= items.len() {
        return None;
    }
    let leaves: Vec<[u8; 32]> = items.iter().map(leaf).collect();
    let proof = MerkleTree::<DomainSha256>::from_leaves(&leaves).proof(&[index]);
    Some(MerkleProof {
        index: u32::try_from(index).ok()?,
        total: u32::try_from(items.len()).ok()?,
        siblings: proof.proof_hashes().iter().copied().map(Hash).collect(),
    })
}

impl MerkleProof {
    /// Whether `item` is at `self.index` under `root`. Malformed proofs simply fail.
    pub fn verify(&self, root: &Hash, item: &Hash) -> bool {
        let (index, total) = (self.index as usize, self.total as usize);
        if index >= total || total > MAX_BLOCK_TXS || self.siblings.len() > 64 {
            return false;
        }
        let hashes = self.siblings.iter().map(|h| h.0).collect();
        rs_merkle::MerkleProof::<DomainSha256>::new(hashes).verify(
            root.0,
            &[index],
            &[leaf(item)],
            total,
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn items(n: usize) -> Vec<Hash> {
        (0..n).map(|i| crate::sha256(&i.to_le_bytes())).collect()
    }

    #[test]
    fn single_and_empty_trees() {
        assert_eq!(merkle_root(&[]), Hash::ZERO);
        let one = items(1);
        assert_eq!(merkle_root(&one), Hash(leaf(&one[0])));
    }

    #[test]
    fn leaves_cannot_pose_as_nodes() {
        let two = items(2);
        let root = merkle_root(&two);
        // The root of two leaves must not be provable as a single leaf of a one-item tree.
        let fake = MerkleProof {
            index: 0,
            total: 1,
            siblings: vec![],
        };
        assert!(!fake.verify(&root, &root));
    }

    proptest! {
        #[test]
        fn every_item_proves_and_tampering_fails(n in 1usize..70, pick in 0usize..70, flip in 0usize..32) {
            let xs = items(n);
            let i = pick % n;
            let root = merkle_root(&xs);
            let proof = merkle_proof(&xs, i).unwrap();
            prop_assert!(proof.verify(&root, &xs[i]));
            let mut other = xs[i];
            other.0[flip] ^= 0x40;
            prop_assert!(!proof.verify(&root, &other));
            if n > 1 {
                let mut moved = proof.clone();
                moved.index = ((i + 1) % n) as u32;
                prop_assert!(!moved.verify(&root, &xs[i]));
            }
            if let Some(first) = proof.siblings.first() {
                let mut bad = proof.clone();
                bad.siblings[0] = Hash([first.0[0] ^ 1; 32]);
                prop_assert!(!bad.verify(&root, &xs[i]));
            }
        }
    }
}
