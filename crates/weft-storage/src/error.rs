//! The storage error type.

use weft_types::{Hash, state::StateReadError};

/// Why a storage operation failed.
///
/// The refusal variants (`NotNext` … `FinalizationMismatch`) are returned by
/// [`Store::commit`](crate::Store::commit) before anything is written; the others mean the
/// disk or the database is in trouble and are fatal for a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The data directory could not be created or read.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The database engine failed (disk full, file locked by another process, …).
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// Stored bytes do not decode or break an invariant of the store.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The database was written by an incompatible version of this crate.
    #[error("unsupported store format {found} (this build reads format {supported})")]
    UnsupportedFormat { found: u32, supported: u32 },
    /// The authenticated state tree failed (missing node, inconsistent tree).
    #[error("state tree error: {0}")]
    Tree(String),
    /// A block (or prepared state) is not for the height right after the head.
    #[error("expected height {expected}, got {got}")]
    NotNext { expected: u64, got: u64 },
    /// The block's parent is not the head block.
    #[error("parent {got} does not match the head block {expected}")]
    ParentMismatch { expected: Hash, got: Hash },
    /// The prepared state was computed for another version than the block's height.
    #[error("prepared state is for version {version}, block is at height {height}")]
    VersionMismatch { height: u64, version: u64 },
    /// The prepared state's root differs from the root the header commits to.
    #[error("state root {computed} does not match the header's {header}")]
    RootMismatch { header: Hash, computed: Hash },
    /// The supplied block hash is not the hash of the block's header.
    #[error("block hash {given} is not the header's hash {computed}")]
    BlockHashMismatch { given: Hash, computed: Hash },
    /// There must be exactly one receipt per transaction.
    #[error("{receipts} receipts for {transactions} transactions")]
    ReceiptCountMismatch {
        transactions: usize,
        receipts: usize,
    },
    /// The finalization certificate names another block or height.
    #[error("finalization is for height {height} block {block_hash}, not this block")]
    FinalizationMismatch { height: u64, block_hash: Hash },
    /// A state version that is not committed (yet) was asked for.
    #[error("state version {requested} is not available (latest: {latest:?})")]
    UnknownVersion { requested: u64, latest: Option<u64> },
}

/// Every redb error type converts into the umbrella `redb::Error`, so `?` works on all of them.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                Self::Db(e.into())
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<StorageError> for StateReadError {
    fn from(e: StorageError) -> Self {
        StateReadError(e.to_string())
    }
}

impl StorageError {
    /// Converts an error coming back out of `jmt`, recovering our own error when the tree
    /// failed because one of our reads did.
    pub(crate) fn from_tree(e: anyhow::Error) -> Self {
        match e.downcast::<StorageError>() {
            Ok(ours) => ours,
            Err(other) => Self::Tree(format!("{other:#}")),
        }
    }

    /// Whether this is one of the refusals of [`Store::commit`](crate::Store::commit), which
    /// leave the store untouched and usable.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::NotNext { .. }
                | Self::ParentMismatch { .. }
                | Self::VersionMismatch { .. }
                | Self::RootMismatch { .. }
                | Self::BlockHashMismatch { .. }
                | Self::ReceiptCountMismatch { .. }
                | Self::FinalizationMismatch { .. }
        )
    }
}
