//! The Jellyfish Merkle tree over redb: `jmt`'s `TreeReader` on a read transaction, and the
//! code that turns a write set into a new root without touching the disk.

use std::panic::{AssertUnwindSafe, catch_unwind};

use jmt::{
    JellyfishMerkleTree, KeyHash, OwnedValue, Version,
    storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch},
};
use redb::{ReadOnlyTable, ReadTransaction};
use weft_crypto::StateHasher;

use crate::{
    StorageError,
    tables::{self, JMT_NODES, JMT_VALUES, decode},
};

pub(crate) type Jmt<'a, R> = JellyfishMerkleTree<'a, R, StateHasher>;

/// Read access to the committed tree as of one redb read transaction.
pub(crate) struct TreeView {
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl TreeView {
    pub(crate) fn new(txn: &ReadTransaction) -> Result<Self, StorageError> {
        Ok(Self {
            nodes: txn.open_table(JMT_NODES)?,
            values: txn.open_table(JMT_VALUES)?,
        })
    }

    /// The newest value of `key_hash` at a version `<= max_version`; `None` when the key was
    /// never written or its newest write is a deletion.
    pub(crate) fn value(
        &self,
        key_hash: &KeyHash,
        max_version: Version,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let lo = tables::value_key(&key_hash.0, 0);
        let hi = tables::value_key(&key_hash.0, max_version);
        // Reverse scan: the last entry in [lo, hi] is the newest version not after max_version.
        let mut range = self.values.range(lo.as_slice()..=hi.as_slice())?;
        match range.next_back() {
            None => Ok(None),
            Some(entry) => {
                let (_, v) = entry?;
                decode::<Option<Vec<u8>>>("state value", v.value())
            }
        }
    }

    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StorageError> {
        match self.nodes.get(tables::node_key(node_key).as_slice())? {
            None => Ok(None),
            Some(bytes) => decode::<Node>("tree node", bytes.value()).map(Some),
        }
    }
}

impl TreeReader for TreeView {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value(&key_hash, max_version)?)
    }

    /// Only `jmt::restore` (rebuilding a tree from a chunked snapshot) calls this, to resume an
    /// interrupted restore; `TreeCache::new_overwrite` also does, but only with jmt's
    /// `migration` feature, which we do not enable. This store never runs a restore, so there is
    /// never a partially restored tree to resume, and "none" is the true answer. A future state
    /// sync built on `jmt::restore` must revisit this.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

/// Runs a `jmt` call, turning both its errors and its internal panics (it asserts on tree
/// invariants that damaged stored nodes could break) into [`StorageError`]s.
pub(crate) fn guarded<T>(f: impl FnOnce() -> anyhow::Result<T>) -> Result<T, StorageError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(StorageError::from_tree),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(StorageError::Tree(format!("jmt panicked: {msg}")))
        }
    }
}

/// Applies `value_set` as `version` on top of the committed tree, in memory.
///
/// `value_set` must be sorted by key hash and free of duplicates.
pub(crate) fn apply(
    view: &TreeView,
    version: Version,
    value_set: Vec<(KeyHash, Option<OwnedValue>)>,
) -> Result<(jmt::RootHash, TreeUpdateBatch), StorageError> {
    let tree = Jmt::new(view);
    let only_upserts = value_set.iter().all(|(_, v)| v.is_some());
    let (root, batch) = if only_upserts && !value_set.is_empty() {
        // The batch path rebuilds each touched subtree once and hashes every new internal
        // node once, where `put_value_set` re-hashes the path to the root for every key. It
        // takes no deletions and no empty sets, hence the fallback below. Both give the same
        // root: a JMT's shape is a function of its key set alone (tested against each other).
        let upserts = value_set
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        guarded(|| {
            let (mut roots, batch) = tree.batch_put_value_sets(vec![upserts], None, version)?;
            let root = roots
                .pop()
                .ok_or_else(|| anyhow::anyhow!("jmt returned no root"))?;
            Ok((root, batch))
        })?
    } else {
        guarded(|| tree.put_value_set(value_set, version))?
    };
    // jmt writes a root node for every version, even for an empty value set (its tree cache
    // copies the previous root forward); reads and proofs at `version` rely on that.
    let has_root = batch
        .node_batch
        .nodes()
        .keys()
        .any(|k| k.version() == version && k.nibble_path().num_nibbles() == 0);
    if !has_root {
        return Err(StorageError::Tree(format!(
            "jmt produced no root node for version {version}"
        )));
    }
    Ok((root, batch))
}
