//! Test support shared by weft-crypto's integration tests: an in-memory Jellyfish Merkle
//! tree, for real state proofs (weft-storage's tree is not a dependency of this crate), and a
//! finalized chain whose validator set changes by governance. Each test crate uses part of it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use jmt::{
    JellyfishMerkleIterator, JellyfishMerkleTree, KeyHash, OwnedValue, Version,
    storage::{LeafNode, Node, NodeKey, TreeReader},
};
use weft_crypto::{
    Keypair, ProofBundle, RecordProof, SetHandoff, StateHasher, StateProof, TrustAnchor,
    VALIDATORS_STATE_KEY, block_hash, quorum, sha256, state_key_hash, validator_set_hash,
};
use weft_types::{AccountId, BlockHeader, Finalization, Hash, Name, encode};

// jmt's storage traits speak `anyhow::Result`, and anyhow is no dependency of this crate; the
// error type is taken from a jmt API that returns it instead of being named.
pub trait ResultParts {
    type Err;
}
impl<T, E> ResultParts for Result<T, E> {
    type Err = E;
}
pub type JmtError = <<JellyfishMerkleIterator<MemTree> as Iterator>::Item as ResultParts>::Err;

#[derive(Default)]
pub struct MemTree {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
}

impl TreeReader for MemTree {
    fn get_node_option(&self, key: &NodeKey) -> Result<Option<Node>, JmtError> {
        Ok(self.nodes.get(key).cloned())
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key: KeyHash,
    ) -> Result<Option<OwnedValue>, JmtError> {
        Ok(self
            .values
            .range((key, 0)..=(key, max_version))
            .next_back()
            .and_then(|(_, v)| v.clone()))
    }

    fn get_rightmost_leaf(&self) -> Result<Option<(NodeKey, LeafNode)>, JmtError> {
        Ok(None)
    }
}

impl MemTree {
    /// Writes one version (`None` deletes) and returns its root.
    pub fn commit(&mut self, version: Version, writes: &[(String, Option<Vec<u8>>)]) -> Hash {
        let set: BTreeMap<KeyHash, Option<Vec<u8>>> = writes
            .iter()
            .map(|(k, v)| (state_key_hash(k.as_bytes()), v.clone()))
            .collect();
        let (root, batch) = JellyfishMerkleTree::<_, StateHasher>::new(&*self)
            .put_value_set(set, version)
            .unwrap();
        for (key, node) in batch.node_batch.nodes() {
            self.nodes.insert(key.clone(), node.clone());
        }
        for ((v, key), value) in batch.node_batch.values() {
            self.values.insert((*key, *v), value.clone());
        }
        Hash(root.0)
    }

    pub fn prove(&self, key: &str, version: Version) -> (Option<Vec<u8>>, StateProof) {
        let (value, proof) = JellyfishMerkleTree::<_, StateHasher>::new(self)
            .get_with_proof(state_key_hash(key.as_bytes()), version)
            .unwrap();
        (value, StateProof(proof))
    }
}

// ---- a chain whose validator set changed twice ------------------------------------------

/// The blocks after which the validator set changed: the set in force after block 2 (named
/// in its state) finalizes block 3, and so on.
pub const CHANGES: [u64; 2] = [2, 4];
/// The last block of the governed chain.
pub const TIP: u64 = 6;
/// The state key every block of the governed chain writes, so each has a record to prove.
pub const RECORD_KEY: &str = "balance/usd/alice";

/// A finalized chain whose genesis set (`sets[0]`, the trust anchor) handed off to `sets[1]`
/// after block 2, which handed off to `sets[2]` after block 4. Block `h`'s state is the tree at
/// version `h`.
pub struct Governed {
    pub chain: Name,
    pub sets: [Vec<Keypair>; 3],
    pub tree: MemTree,
    roots: Vec<Hash>,
}

/// The validators' accounts, sorted: the set as the state holds it.
pub fn accounts(keys: &[Keypair]) -> Vec<AccountId> {
    let mut accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    accounts.sort();
    accounts
}

impl Governed {
    /// Builds the chain from the three sets' key seeds.
    pub fn new(chain: &str, seeds: [&[u8]; 3]) -> Self {
        let sets = seeds.map(|s| s.iter().map(|&b| Keypair::from_seed([b; 32])).collect());
        let mut tree = MemTree::default();
        let mut roots = Vec::new();
        let validators = |set: &Vec<Keypair>| {
            (
                VALIDATORS_STATE_KEY.to_owned(),
                Some(encode(&accounts(set))),
            )
        };
        // Enough keys that proofs run several levels deep.
        let mut genesis: Vec<(String, Option<Vec<u8>>)> = (0..32u8)
            .map(|i| {
                (
                    format!("filler/{i:03}"),
                    Some(vec![i; usize::from(i % 3) + 1]),
                )
            })
            .collect();
        genesis.push(validators(&sets[0]));
        roots.push(tree.commit(0, &genesis));
        for height in 1..=TIP {
            let mut writes = vec![(RECORD_KEY.to_owned(), Some(encode(&(1_000 + height))))];
            if let Some(i) = CHANGES.iter().position(|&c| c == height) {
                writes.push(validators(&sets[i + 1]));
            }
            roots.push(tree.commit(height, &writes));
        }
        Self {
            chain: Name::new(chain).unwrap(),
            sets,
            tree,
            roots,
        }
    }

    /// Which of `sets` finalizes block `height`.
    pub fn set_index(height: u64) -> usize {
        CHANGES.iter().filter(|&&c| c < height).count()
    }

    pub fn anchor(&self) -> TrustAnchor {
        TrustAnchor {
            chain_id: self.chain.clone(),
            validators: accounts(&self.sets[0]),
        }
    }

    /// Block `height`'s header, naming the set that finalizes it.
    pub fn header(&self, height: u64) -> BlockHeader {
        let set = &self.sets[Self::set_index(height)];
        BlockHeader {
            chain_id: self.chain.clone(),
            height,
            parent: sha256(&height.to_le_bytes()),
            timestamp_ms: 1_700_000_000_000 + height * 1_000,
            proposer: set[0].account(),
            tx_count: 0,
            tx_root: Hash([0; 32]),
            state_root: self.roots[usize::try_from(height).unwrap()],
            receipts_root: Hash([0; 32]),
            validator_set_hash: validator_set_hash(&accounts(set)),
        }
    }

    /// A finalization of `header` by `signers`, at a round derived from its height.
    pub fn finalize_by(header: &BlockHeader, signers: &[Keypair]) -> Finalization {
        let hash = block_hash(header);
        let (epoch, view, parent_view) = (0, 10 * header.height, 10 * header.height - 1);
        Finalization {
            height: header.height,
            block_hash: hash,
            epoch,
            view,
            parent_view,
            signatures: signers
                .iter()
                .map(|k| k.sign_finalize(&header.chain_id, epoch, view, parent_view, &hash))
                .collect(),
        }
    }

    /// Exactly a quorum of the set finalizing `header` signs it.
    pub fn finalize(&self, header: &BlockHeader) -> Finalization {
        let set = &self.sets[Self::set_index(header.height)];
        Self::finalize_by(header, &set[..quorum(set.len())])
    }

    /// The handoff at block `height`: the set in force after it, proven from its state.
    pub fn handoff(&self, height: u64) -> SetHandoff {
        let header = self.header(height);
        let (value, proof) = self.tree.prove(VALIDATORS_STATE_KEY, height);
        let validators = accounts(&self.sets[Self::set_index(height + 1)]);
        assert_eq!(value, Some(encode(&validators)));
        SetHandoff {
            finalization: self.finalize(&header),
            header,
            validators,
            proof: hex::encode(proof.to_bytes()),
        }
    }

    /// A bundle proving [`RECORD_KEY`] at block `height`, carrying `handoffs`.
    pub fn bundle_with(&self, height: u64, handoffs: Vec<SetHandoff>) -> ProofBundle {
        let header = self.header(height);
        let (value, proof) = self.tree.prove(RECORD_KEY, height);
        ProofBundle {
            reference: format!("weft://{}/{height}/state/{RECORD_KEY}", self.chain),
            finalization: self.finalize(&header),
            header,
            proof: RecordProof::State {
                key: RECORD_KEY.to_owned(),
                value: value.map(hex::encode),
                proof: hex::encode(proof.to_bytes()),
            },
            handoffs,
        }
    }

    /// A bundle for block `height` carrying every change before it.
    pub fn bundle(&self, height: u64) -> ProofBundle {
        let handoffs = CHANGES
            .iter()
            .filter(|&&c| c < height)
            .map(|&c| self.handoff(c))
            .collect();
        self.bundle_with(height, handoffs)
    }
}
