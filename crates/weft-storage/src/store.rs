//! The store: opening, committing blocks atomically, and block/receipt/event queries.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::{KeyHash, storage::TreeUpdateBatch};
use redb::{Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, Table};
use serde::{Deserialize, Serialize};
use weft_crypto::{sha256, state_key_hash};
use weft_types::{AccountId, Block, Event, Finalization, Hash, Receipt, encode, state::WriteSet};

use crate::{
    Snapshot, StorageError,
    tables::{
        self, BLOCK_HASHES, BLOCKS, EVENTS_BY_ACCOUNT, EVENTS_BY_TOPIC, FINALIZATIONS, FORMAT,
        JMT_NODES, JMT_STALE, JMT_VALUES, META, META_FORMAT, META_HEAD, PREIMAGES_V1, RECEIPTS,
        STATE_KEYS, STATE_ROOTS, TX_INDEX, decode,
    },
    tree::{self, TreeView},
};

/// A state key with a value, and its tree hash.
type LiveKey = (Vec<u8>, [u8; 32]);

/// The file inside the data directory.
const DB_FILE: &str = "weft.redb";

/// The latest committed block, as recorded by the same transaction that wrote it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct ChainHead {
    pub height: u64,
    pub block_hash: Hash,
    /// State root after this block (= the header's `state_root`).
    pub state_root: Hash,
    pub timestamp_ms: u64,
}

/// A new state version computed by [`Store::prepare_state`] and not yet written.
///
/// It holds the tree nodes and values that [`Store::commit`] writes. It is only valid in the
/// store that prepared it and on top of the head it was prepared on: its new nodes point at
/// that store's existing nodes. Commit refuses it once the head has moved (its version is no
/// longer the next height); handing it to another store is a bug the checks cannot catch.
pub struct PreparedState {
    /// The state version, equal to the height of the block it belongs to.
    pub version: u64,
    /// The state root after applying the writes.
    pub root: Hash,
    batch: TreeUpdateBatch,
    /// Written keys with their tree positions and whether they now hold a value, for the
    /// key index.
    keys: Vec<(KeyHash, Vec<u8>, bool)>,
}

impl fmt::Debug for PreparedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedState")
            .field("version", &self.version)
            .field("root", &self.root)
            .field("nodes", &self.batch.node_batch.nodes().len())
            .field("values", &self.batch.node_batch.values().len())
            .field("stale", &self.batch.stale_node_index_batch.len())
            .finish()
    }
}

/// Everything one block commit writes.
#[derive(Debug)]
pub struct BlockCommit<'a> {
    pub block: &'a Block,
    /// Hash of `block.header` (checked).
    pub block_hash: Hash,
    /// The certificate, when the block is committed together with it.
    pub finalization: Option<&'a Finalization>,
    /// One receipt per transaction, in block order.
    pub receipts: &'a [Receipt],
    /// The block's state, from [`Store::prepare_state`].
    pub state: PreparedState,
}

/// An event with its position in the chain; the item of the event indexes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub height: u64,
    pub tx_index: u32,
    pub event_index: u32,
    pub tx_hash: Hash,
    pub event: Event,
}

/// Weft's on-disk store: one redb database at `<dir>/weft.redb`.
///
/// Writers are serialized by redb (one write transaction at a time); readers never block and
/// see a consistent committed state.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

pub(crate) fn read_head(txn: &ReadTransaction) -> Result<Option<ChainHead>, StorageError> {
    let meta = txn.open_table(META)?;
    meta.get(META_HEAD)?
        .map(|v| decode::<ChainHead>("head", v.value()))
        .transpose()
}

/// The height the next block must have.
fn next_height(head: Option<&ChainHead>) -> u64 {
    // A head at u64::MAX cannot be followed; saturating makes the NotNext check refuse.
    head.map_or(0, |h| h.height.saturating_add(1))
}

fn u32_index(i: usize) -> Result<u32, StorageError> {
    // Blocks hold at most MAX_BLOCK_TXS transactions and receipts MAX_EVENTS events, so this
    // only fails for inputs no valid block has.
    u32::try_from(i).map_err(|_| StorageError::Corrupt(format!("index {i} exceeds u32")))
}

impl Store {
    /// Opens the store in `dir`, creating the directory and an empty database if missing.
    ///
    /// Opening also recovers from a crash: redb rolls back to the last durable commit.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DB_FILE);
        let db = Database::create(&path)?;
        let store = Self { db, path };
        store.init()?;
        Ok(store)
    }

    /// Creates every table (so readers can open them) and checks the format version.
    fn init(&self) -> Result<(), StorageError> {
        let migrate = self.v1_live_keys()?;
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut meta = txn.open_table(META)?;
            let found = meta
                .get(META_FORMAT)?
                .map(|v| {
                    <[u8; 4]>::try_from(v.value())
                        .map(u32::from_be_bytes)
                        .map_err(|_| StorageError::Corrupt("format marker".into()))
                })
                .transpose()?;
            match (found, &migrate) {
                (Some(FORMAT), _) => {}
                (Some(1), Some(live)) => {
                    let mut index = txn.open_table(STATE_KEYS)?;
                    for (key, key_hash) in live {
                        index.insert(key.as_slice(), key_hash.as_slice())?;
                    }
                    drop(index);
                    txn.delete_table(PREIMAGES_V1)?;
                    meta.insert(META_FORMAT, FORMAT.to_be_bytes().as_slice())?;
                }
                (Some(found), _) => {
                    return Err(StorageError::UnsupportedFormat {
                        found,
                        supported: FORMAT,
                    });
                }
                (None, _) => {
                    meta.insert(META_FORMAT, FORMAT.to_be_bytes().as_slice())?;
                }
            }
            txn.open_table(BLOCKS)?;
            txn.open_table(BLOCK_HASHES)?;
            txn.open_table(FINALIZATIONS)?;
            txn.open_table(RECEIPTS)?;
            txn.open_table(TX_INDEX)?;
            txn.open_table(EVENTS_BY_ACCOUNT)?;
            txn.open_table(EVENTS_BY_TOPIC)?;
            txn.open_table(JMT_NODES)?;
            txn.open_table(JMT_VALUES)?;
            txn.open_table(JMT_STALE)?;
            txn.open_table(STATE_ROOTS)?;
            txn.open_table(STATE_KEYS)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// For a format-1 store: its keys that hold a value at the head, with their hashes
    /// (format 1 kept every key ever written, in hash order); `None` for any other store.
    fn v1_live_keys(&self) -> Result<Option<Vec<LiveKey>>, StorageError> {
        let txn = self.db.begin_read()?;
        let format = match txn.open_table(META) {
            Ok(meta) => meta.get(META_FORMAT)?.map(|v| v.value().to_vec()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if format.as_deref() != Some(1u32.to_be_bytes().as_slice()) {
            return Ok(None);
        }
        let Some(head) = read_head(&txn)? else {
            return Ok(Some(Vec::new()));
        };
        let view = TreeView::new(&txn)?;
        let mut live = Vec::new();
        for entry in txn.open_table(PREIMAGES_V1)?.iter()? {
            let (hash, key) = entry?;
            let hash: [u8; 32] = hash
                .value()
                .try_into()
                .map_err(|_| StorageError::Corrupt("preimage key".into()))?;
            if view.value(&KeyHash(hash), head.height)?.is_some() {
                live.push((key.value().to_vec(), hash));
            }
        }
        Ok(Some(live))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The latest committed block; `None` before genesis is committed.
    pub fn head(&self) -> Result<Option<ChainHead>, StorageError> {
        read_head(&self.db.begin_read()?)
    }

    /// Computes the state root of applying `writes` as version `version` (the block height)
    /// on top of the latest committed state, without writing anything.
    ///
    /// Deterministic: the same committed state and writes give the same root on every node.
    /// `version` must be the next height (0 before genesis); an empty write set is allowed and
    /// keeps the previous root.
    pub fn prepare_state(
        &self,
        version: u64,
        writes: &WriteSet,
    ) -> Result<PreparedState, StorageError> {
        let txn = self.db.begin_read()?;
        let expected = next_height(read_head(&txn)?.as_ref());
        if version != expected {
            return Err(StorageError::NotNext {
                expected,
                got: version,
            });
        }
        let view = TreeView::new(&txn)?;
        let mut value_set: Vec<(KeyHash, Option<Vec<u8>>)> = Vec::with_capacity(writes.len());
        let mut keys = Vec::with_capacity(writes.len());
        for (key, value) in writes {
            let key_hash = state_key_hash(key);
            value_set.push((key_hash, value.clone()));
            keys.push((key_hash, key.clone(), value.is_some()));
        }
        // Tree order, so the in-memory updates happen in the same order on every node.
        value_set.sort_unstable_by_key(|(key_hash, _)| *key_hash);
        let (root, batch) = tree::apply(&view, version, value_set)?;
        Ok(PreparedState {
            version,
            root: Hash(root.0),
            batch,
            keys,
        })
    }

    /// Writes a block and everything derived from it in ONE durable transaction: the block,
    /// the hash index, the finalization, the receipts, the transaction index, the event
    /// indexes, the new state version and the head.
    ///
    /// Refuses, writing nothing, a block that is not the head's child (`NotNext`,
    /// `ParentMismatch`), whose hash, state or receipts do not match it (`BlockHashMismatch`,
    /// `VersionMismatch`, `RootMismatch`, `ReceiptCountMismatch`) or whose finalization names
    /// another block (`FinalizationMismatch`).
    pub fn commit(&self, commit: BlockCommit<'_>) -> Result<(), StorageError> {
        let BlockCommit {
            block,
            block_hash,
            finalization,
            receipts,
            state,
        } = commit;
        let header = &block.header;

        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut meta = txn.open_table(META)?;
        let head = meta
            .get(META_HEAD)?
            .map(|v| decode::<ChainHead>("head", v.value()))
            .transpose()?;

        // Checks, cheapest and most telling first. Returning drops the transaction, which
        // aborts it: nothing is written.
        let expected = next_height(head.as_ref());
        if header.height != expected {
            return Err(StorageError::NotNext {
                expected,
                got: header.height,
            });
        }
        let expected_parent = head.map_or(Hash::ZERO, |h| h.block_hash);
        if header.parent != expected_parent {
            return Err(StorageError::ParentMismatch {
                expected: expected_parent,
                got: header.parent,
            });
        }
        let computed = weft_crypto::block_hash(header);
        if computed != block_hash {
            return Err(StorageError::BlockHashMismatch {
                given: block_hash,
                computed,
            });
        }
        if state.version != header.height {
            return Err(StorageError::VersionMismatch {
                height: header.height,
                version: state.version,
            });
        }
        if state.root != header.state_root {
            return Err(StorageError::RootMismatch {
                header: header.state_root,
                computed: state.root,
            });
        }
        if receipts.len() != block.transactions.len() {
            return Err(StorageError::ReceiptCountMismatch {
                transactions: block.transactions.len(),
                receipts: receipts.len(),
            });
        }
        if let Some(fin) = finalization
            && (fin.height != header.height || fin.block_hash != block_hash)
        {
            return Err(StorageError::FinalizationMismatch {
                height: fin.height,
                block_hash: fin.block_hash,
            });
        }

        let height = header.height;
        let hk = tables::height_key(height);
        txn.open_table(BLOCKS)?
            .insert(hk.as_slice(), encode(block).as_slice())?;
        txn.open_table(BLOCK_HASHES)?
            .insert(block_hash.as_bytes().as_slice(), hk.as_slice())?;
        if let Some(fin) = finalization {
            txn.open_table(FINALIZATIONS)?
                .insert(hk.as_slice(), encode(fin).as_slice())?;
        }
        write_receipts(&txn, block, receipts)?;
        write_state(&txn, state)?;

        let new_head = ChainHead {
            height,
            block_hash,
            state_root: header.state_root,
            timestamp_ms: header.timestamp_ms,
        };
        meta.insert(META_HEAD, encode(&new_head).as_slice())?;
        drop(meta);
        txn.commit()?;
        Ok(())
    }

    /// A consistent read view of the state (and its history) at the current head.
    pub fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let txn = self.db.begin_read()?;
        Snapshot::new(&txn)
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        let txn = self.db.begin_read()?;
        let blocks = txn.open_table(BLOCKS)?;
        blocks
            .get(tables::height_key(height).as_slice())?
            .map(|v| decode::<Block>("block", v.value()))
            .transpose()
    }

    /// The height of the block with this hash.
    pub fn block_height(&self, hash: &Hash) -> Result<Option<u64>, StorageError> {
        let txn = self.db.begin_read()?;
        let hashes = txn.open_table(BLOCK_HASHES)?;
        hashes
            .get(hash.as_bytes().as_slice())?
            .map(|v| tables::parse_u64(v.value()))
            .transpose()
    }

    /// The block with this hash.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, StorageError> {
        // Two read transactions: a block is never removed once written, so the height found
        // by the first is still valid in the second.
        match self.block_height(hash)? {
            Some(height) => self.block(height),
            None => Ok(None),
        }
    }

    /// The finalization certificate stored with the block at `height`.
    pub fn finalization(&self, height: u64) -> Result<Option<Finalization>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FINALIZATIONS)?;
        table
            .get(tables::height_key(height).as_slice())?
            .map(|v| decode::<Finalization>("finalization", v.value()))
            .transpose()
    }

    /// The receipts of the block at `height`, in transaction order (empty if no such block).
    pub fn receipts(&self, height: u64) -> Result<Vec<Receipt>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(RECEIPTS)?;
        let lo = tables::location_key(height, 0);
        let hi = tables::location_key(height, u32::MAX);
        let mut out = Vec::new();
        for entry in table.range(lo.as_slice()..=hi.as_slice())? {
            let (_, v) = entry?;
            out.push(decode::<Receipt>("receipt", v.value())?);
        }
        Ok(out)
    }

    /// The receipt of transaction `index` of the block at `height`.
    pub fn receipt(&self, height: u64, index: u32) -> Result<Option<Receipt>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(RECEIPTS)?;
        table
            .get(tables::location_key(height, index).as_slice())?
            .map(|v| decode::<Receipt>("receipt", v.value()))
            .transpose()
    }

    /// Where a committed transaction is: `(height, index in block)`.
    pub fn tx_location(&self, tx_hash: &Hash) -> Result<Option<(u64, u32)>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TX_INDEX)?;
        table
            .get(tx_hash.as_bytes().as_slice())?
            .map(|v| tables::parse_location(v.value()))
            .transpose()
    }

    /// Up to `limit` events concerning `account`, from `from_height` on, oldest first.
    pub fn events_by_account(
        &self,
        account: &AccountId,
        from_height: u64,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StorageError> {
        self.events(EVENTS_BY_ACCOUNT, account.as_bytes(), from_height, limit)
    }

    /// Up to `limit` events with exactly this `topic`, from `from_height` on, oldest first.
    pub fn events_by_topic(
        &self,
        topic: &str,
        from_height: u64,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StorageError> {
        self.events(EVENTS_BY_TOPIC, &topic_prefix(topic), from_height, limit)
    }

    fn events(
        &self,
        index: redb::TableDefinition<&'static [u8], ()>,
        prefix: &[u8; 32],
        from_height: u64,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(index)?;
        let receipts = txn.open_table(RECEIPTS)?;
        let lo = tables::event_key(prefix, from_height, 0, 0);
        let hi = tables::event_key(prefix, u64::MAX, u32::MAX, u32::MAX);
        let mut out = Vec::new();
        // Consecutive hits often come from the same receipt; decode it once.
        let mut cached: Option<((u64, u32), Receipt)> = None;
        for entry in table.range(lo.as_slice()..=hi.as_slice())?.take(limit) {
            let (k, _) = entry?;
            let (height, tx_index, event_index) = tables::parse_event_key(k.value())?;
            let receipt = match &cached {
                Some((loc, r)) if *loc == (height, tx_index) => r,
                _ => {
                    let bytes = receipts
                        .get(tables::location_key(height, tx_index).as_slice())?
                        .ok_or_else(|| {
                            StorageError::Corrupt(format!(
                                "event index points at missing receipt {height}/{tx_index}"
                            ))
                        })?;
                    let r = decode::<Receipt>("receipt", bytes.value())?;
                    &cached.insert(((height, tx_index), r)).1
                }
            };
            let event = receipt.events.get(event_index as usize).ok_or_else(|| {
                StorageError::Corrupt(format!(
                    "event index points at missing event {height}/{tx_index}/{event_index}"
                ))
            })?;
            out.push(EventRecord {
                height,
                tx_index,
                event_index,
                tx_hash: receipt.tx_hash,
                event: event.clone(),
            });
        }
        Ok(out)
    }
}

/// Topics are free-form strings; their SHA-256 gives the index a fixed-size, prefix-free key.
fn topic_prefix(topic: &str) -> [u8; 32] {
    sha256(topic.as_bytes()).0
}

/// Receipts, the transaction index and both event indexes of one block.
fn write_receipts(
    txn: &redb::WriteTransaction,
    block: &Block,
    receipts: &[Receipt],
) -> Result<(), StorageError> {
    let height = block.header.height;
    let mut receipt_table = txn.open_table(RECEIPTS)?;
    let mut tx_index = txn.open_table(TX_INDEX)?;
    let mut by_account = txn.open_table(EVENTS_BY_ACCOUNT)?;
    let mut by_topic = txn.open_table(EVENTS_BY_TOPIC)?;
    for (i, (stx, receipt)) in block.transactions.iter().zip(receipts).enumerate() {
        let index = u32_index(i)?;
        let loc = tables::location_key(height, index);
        receipt_table.insert(loc.as_slice(), encode(receipt).as_slice())?;
        // The id of record is the hash of the body in the block, not whatever the receipt
        // says; a duplicate (impossible with nonces) keeps its first location.
        let hash = weft_crypto::tx_hash(&stx.tx);
        if tx_index.get(hash.as_bytes().as_slice())?.is_none() {
            tx_index.insert(hash.as_bytes().as_slice(), loc.as_slice())?;
        }
        for (j, event) in receipt.events.iter().enumerate() {
            let ev = u32_index(j)?;
            let topic = topic_prefix(&event.topic);
            by_topic.insert(tables::event_key(&topic, height, index, ev).as_slice(), ())?;
            // An account listed twice maps to the same key, so it is indexed once.
            for account in &event.accounts {
                by_account.insert(
                    tables::event_key(account.as_bytes(), height, index, ev).as_slice(),
                    (),
                )?;
            }
        }
    }
    Ok(())
}

/// The tree nodes, versioned values, stale-node records, root and key index of a version.
fn write_state(txn: &redb::WriteTransaction, state: PreparedState) -> Result<(), StorageError> {
    let PreparedState {
        version,
        root,
        batch,
        keys,
    } = state;
    let mut nodes = txn.open_table(JMT_NODES)?;
    for (key, node) in batch.node_batch.nodes() {
        nodes.insert(tables::node_key(key).as_slice(), encode(node).as_slice())?;
    }
    let mut values = txn.open_table(JMT_VALUES)?;
    for ((v, key_hash), value) in batch.node_batch.values() {
        values.insert(
            tables::value_key(&key_hash.0, *v).as_slice(),
            encode(value).as_slice(),
        )?;
    }
    // Kept for a later pruner: a node stale since version v is unreachable from roots >= v.
    let mut stale: Table<&[u8], ()> = txn.open_table(JMT_STALE)?;
    for s in &batch.stale_node_index_batch {
        stale.insert(
            tables::stale_key(s.stale_since_version, &s.node_key).as_slice(),
            (),
        )?;
    }
    txn.open_table(STATE_ROOTS)?.insert(
        tables::height_key(version).as_slice(),
        root.as_bytes().as_slice(),
    )?;
    let mut index = txn.open_table(STATE_KEYS)?;
    for (key_hash, key, present) in keys {
        if !present {
            index.remove(key.as_slice())?;
        } else if index.get(key.as_slice())?.is_none() {
            // Most writes touch existing keys; skipping them avoids rewriting their pages.
            index.insert(key.as_slice(), key_hash.0.as_slice())?;
        }
    }
    Ok(())
}
