//! Consistent read views of the authenticated state.

use std::fmt;

use redb::{ReadOnlyTable, ReadTransaction};
use weft_crypto::{StateProof, state_key_hash};
use weft_types::{
    Hash,
    state::{StateReadError, StateReader},
};

use crate::{
    ChainHead, StorageError,
    store::read_head,
    tables::{self, STATE_KEYS, STATE_ROOTS},
    tree::{self, Jmt, TreeView},
};

/// The state as of the head when the snapshot was taken, with all earlier versions.
///
/// Backed by a redb read transaction: commits made afterwards are invisible to it, and it
/// never blocks them. Drop it when done, since it pins the pages it can see.
pub struct Snapshot {
    head: Option<ChainHead>,
    tree: TreeView,
    roots: ReadOnlyTable<&'static [u8], &'static [u8]>,
    keys: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("head", &self.head)
            .finish()
    }
}

impl Snapshot {
    pub(crate) fn new(txn: &ReadTransaction) -> Result<Self, StorageError> {
        Ok(Self {
            head: read_head(txn)?,
            tree: TreeView::new(txn)?,
            roots: txn.open_table(STATE_ROOTS)?,
            keys: txn.open_table(STATE_KEYS)?,
        })
    }

    /// The head this snapshot sees; `None` before genesis.
    pub fn head(&self) -> Option<&ChainHead> {
        self.head.as_ref()
    }

    /// The state version this snapshot reads (the head's height); `None` before genesis.
    pub fn version(&self) -> Option<u64> {
        self.head.map(|h| h.height)
    }

    fn check_version(&self, version: u64) -> Result<(), StorageError> {
        match self.version() {
            Some(latest) if version <= latest => Ok(()),
            latest => Err(StorageError::UnknownVersion {
                requested: version,
                latest,
            }),
        }
    }

    /// The current value under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.version() {
            None => Ok(None),
            Some(v) => self.tree.value(&state_key_hash(key), v),
        }
    }

    /// The value under `key` after block `version`.
    pub fn get_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.check_version(version)?;
        self.tree.value(&state_key_hash(key), version)
    }

    /// The value under `key` after block `version`, with a proof against that block's
    /// `state_root` (of presence, or of absence when the value is `None`).
    pub fn get_with_proof(
        &self,
        key: &[u8],
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StorageError> {
        self.check_version(version)?;
        let tree = Jmt::new(&self.tree);
        let (value, proof) = tree::guarded(|| tree.get_with_proof(state_key_hash(key), version))?;
        Ok((value, StateProof(proof)))
    }

    /// Up to `limit` keys that hold a value at the head and start with `prefix`, in key
    /// order, after `after` (exclusive) when given. Listing is of the head only.
    pub fn keys_with_prefix(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut out = Vec::new();
        let start = match after {
            Some(a) if a >= prefix => a,
            _ => prefix,
        };
        for entry in self.keys.range(start..)? {
            let (key, _) = entry?;
            let key = key.value();
            if !key.starts_with(prefix) || out.len() >= limit {
                break;
            }
            if after == Some(key) {
                continue;
            }
            out.push(key.to_vec());
        }
        Ok(out)
    }

    /// The state root after block `version`; `None` if that version is not committed.
    pub fn state_root(&self, version: u64) -> Result<Option<Hash>, StorageError> {
        if self.check_version(version).is_err() {
            return Ok(None);
        }
        // Every committed version has its own entry; taking the latest at or below `version`
        // keeps this correct should a version ever share its predecessor's root.
        let hi = tables::height_key(version);
        let mut range = self.roots.range(..=hi.as_slice())?;
        match range.next_back() {
            None => Ok(None),
            Some(entry) => {
                let (_, v) = entry?;
                tables::parse_hash(v.value()).map(Some)
            }
        }
    }
}

impl StateReader for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        Snapshot::get(self, key).map_err(StateReadError::from)
    }
}
