//! The node: admission of transactions into the mempool, the block producer, and the
//! handle the API and CLI use.
//!
//! Single-validator mode: a producer thread turns the mempool into blocks every
//! `block_interval`, or as soon as `max_block_txs` are waiting, through [`Chain`]'s
//! build → commit path with a one-signature finalization certificate.

use std::{
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;
use tokio::sync::broadcast;
use weft_crypto::{Keypair, SignatureError, tx_hash, verify_transactions_parallel};
use weft_execution::{BlockContext, ExecError, check_transaction, next_nonce};
use weft_storage::Store;
use weft_types::{
    AccountId, Block, Bounded, ErrorCode, Finalization, Genesis, Hash, Receipt, SignedTransaction,
    TxError,
};

use crate::{
    chain::{Chain, ChainError, ExecutedBlock},
    mempool::{Mempool, MempoolLimits},
    private::{PrivateConfig, Vault, VaultError},
};

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: std::path::PathBuf,
    pub genesis: Genesis,
    /// This node's validator key; without it the node only serves reads.
    pub validator_key: Option<Keypair>,
    /// Longest a pending transaction waits for a block.
    pub block_interval: Duration,
    /// Most transactions per block; reaching it triggers a block at once.
    pub max_block_txs: usize,
    pub mempool: MempoolLimits,
    /// Where and for whom this node keeps confidential payloads; `None` keeps none.
    pub private: Option<PrivateConfig>,
}

impl NodeConfig {
    /// Defaults for a data dir and genesis.
    pub fn new(data_dir: impl Into<std::path::PathBuf>, genesis: Genesis) -> Self {
        Self {
            data_dir: data_dir.into(),
            genesis,
            validator_key: None,
            block_interval: Duration::from_millis(200),
            max_block_txs: 20_000,
            mempool: MempoolLimits::default(),
            private: None,
        }
    }
}

/// Where a transaction is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxLookup {
    /// Waiting in the mempool.
    Pending,
    /// In a committed block.
    Committed {
        height: u64,
        index: u32,
        receipt: Receipt,
    },
    /// Neither pending nor committed.
    Unknown,
}

/// Announced to subscribers after each commit.
#[derive(Debug, Clone, Serialize)]
pub struct CommittedBlock {
    pub height: u64,
    pub hash: Hash,
    pub timestamp_ms: u64,
    pub tx_count: u32,
    pub failed_count: u32,
    pub state_root: Hash,
    pub tx_hashes: Vec<Hash>,
}

struct Inner {
    chain: Chain,
    genesis: Genesis,
    mempool: Mutex<Mempool>,
    wake: Condvar,
    blocks: broadcast::Sender<Arc<CommittedBlock>>,
    stop: AtomicBool,
    fatal: Mutex<Option<String>>,
    producer: Mutex<Option<JoinHandle<()>>>,
    validator: Option<Keypair>,
    vault: Option<Vault>,
}

/// A running node; cheap to clone.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("chain_id", self.inner.chain.chain_id())
            .finish()
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("the validator key {0} is not in the validator set")]
    NotAValidator(AccountId),
    #[error("private store: {0}")]
    Vault(#[from] VaultError),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the data as consistent as the panicking code
    // left it; the mempool has no invariant a half-finished insert could break.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn sig_error(e: &SignatureError) -> TxError {
    match e {
        SignatureError::MissingSigner(_) => {
            TxError::new(ErrorCode::MissingSignature, e.to_string())
        }
        _ => TxError::new(ErrorCode::BadSignature, e.to_string()),
    }
}

impl Node {
    /// Opens (or initializes) the chain in `config.data_dir` and starts producing blocks if
    /// this node holds a validator key.
    pub fn start(config: NodeConfig) -> Result<Self, NodeError> {
        let store = Store::open(&config.data_dir).map_err(ChainError::from)?;
        let chain = Chain::open(store, &config.genesis)?;
        if let Some(key) = &config.validator_key
            && !chain.validators()?.contains(&key.account())
        {
            return Err(NodeError::NotAValidator(key.account()));
        }
        let vault = config.private.clone().map(Vault::open).transpose()?;
        if let Some(v) = &vault {
            // Repairs a crash between a commit that narrowed access and its shredding.
            let snapshot = chain.store().snapshot().map_err(ChainError::from)?;
            let now = snapshot.head().map_or(0, |h| h.timestamp_ms);
            v.reconcile(&snapshot, None, now)?;
        }
        let (blocks, _) = broadcast::channel(1024);
        let inner = Arc::new(Inner {
            chain,
            genesis: config.genesis.clone(),
            mempool: Mutex::new(Mempool::new(config.mempool.clone())),
            wake: Condvar::new(),
            blocks,
            stop: AtomicBool::new(false),
            fatal: Mutex::new(None),
            producer: Mutex::new(None),
            validator: config.validator_key.clone(),
            vault,
        });
        let head = inner.chain.head()?;
        metrics::gauge!("weft_height").set(head.height as f64);
        tracing::info!(chain_id = %inner.chain.chain_id(), height = head.height, "chain opened");
        if inner.validator.is_some() {
            let producer_inner = Arc::clone(&inner);
            let interval = config.block_interval;
            let max = config.max_block_txs;
            let handle = std::thread::Builder::new()
                .name("weft-producer".into())
                .spawn(move || produce(&producer_inner, interval, max))
                .map_err(|e| ChainError::Execution(format!("cannot start producer: {e}")))?;
            *lock(&inner.producer) = Some(handle);
        }
        if inner.vault.is_some() {
            let weak = Arc::downgrade(&inner);
            std::thread::Builder::new()
                .name("weft-vault".into())
                .spawn(move || sweep_vault(&weak))
                .map_err(|e| {
                    ChainError::Execution(format!("cannot start the vault sweeper: {e}"))
                })?;
        }
        Ok(Self { inner })
    }

    /// The chain, for queries.
    pub fn chain(&self) -> &Chain {
        &self.inner.chain
    }

    /// The genesis document this node runs.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The confidential-data vault, when this node keeps payloads.
    pub fn vault(&self) -> Option<&Vault> {
        self.inner.vault.as_ref()
    }

    /// Transactions waiting.
    pub fn mempool_len(&self) -> usize {
        lock(&self.inner.mempool).len()
    }

    /// Set when the producer hit a fatal error and stopped.
    pub fn fatal_error(&self) -> Option<String> {
        lock(&self.inner.fatal).clone()
    }

    /// Committed blocks as they land.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CommittedBlock>> {
        self.inner.blocks.subscribe()
    }

    /// Admits one transaction; see [`Node::submit_many`].
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash, TxError> {
        self.submit_many(vec![tx])
            .pop()
            .unwrap_or_else(|| Err(TxError::new(ErrorCode::Internal, "no result")))
    }

    /// Admits transactions: limits, chain id, signatures (batch-verified in parallel), then
    /// the stateful checks (nonce, and a dry run when the transaction is next in line), then
    /// the mempool. Each result is the transaction hash or the reason it was refused;
    /// a refused transaction changes nothing.
    pub fn submit_many(&self, txs: Vec<SignedTransaction>) -> Vec<Result<Hash, TxError>> {
        if self.inner.validator.is_none() {
            let e = TxError::new(
                ErrorCode::ReadOnly,
                "this node follows a peer and does not accept transactions; submit to a validator",
            );
            return txs.iter().map(|_| Err(e.clone())).collect();
        }
        let started = Instant::now();
        let chain_id = self.inner.chain.chain_id();
        let mut results: Vec<Result<Hash, TxError>> = txs
            .iter()
            .map(|stx| {
                stx.check_limits()
                    .map_err(|e| TxError::new(ErrorCode::Oversized, e.to_string()))?;
                if stx.tx.chain_id != *chain_id {
                    return Err(TxError::new(
                        ErrorCode::WrongChainId,
                        format!("signed for chain {}, this is {chain_id}", stx.tx.chain_id),
                    ));
                }
                Ok(tx_hash(&stx.tx))
            })
            .collect();
        for (r, v) in results.iter_mut().zip(verify_transactions_parallel(&txs)) {
            if r.is_ok()
                && let Err(e) = v
            {
                *r = Err(sig_error(&e));
            }
        }
        let (snapshot, head) = match self
            .inner
            .chain
            .store()
            .snapshot()
            .map_err(ChainError::from)
            .and_then(|s| Ok((s, self.inner.chain.head()?)))
        {
            Ok(v) => v,
            Err(e) => {
                let err = TxError::new(ErrorCode::Internal, e.to_string());
                return txs.iter().map(|_| Err(err.clone())).collect();
            }
        };
        let ctx = BlockContext {
            chain_id: chain_id.clone(),
            height: head.height + 1,
            timestamp_ms: now_ms().max(head.timestamp_ms + 1),
        };
        let mut admitted = Vec::new();
        for (stx, result) in txs.into_iter().zip(results.iter_mut()) {
            let Ok(hash) = *result else { continue };
            let committed_nonce = match next_nonce(&snapshot, &stx.tx.signer) {
                Ok(n) => n,
                Err(e) => {
                    *result = Err(TxError::new(ErrorCode::Internal, e.to_string()));
                    continue;
                }
            };
            let first_in_line = stx.tx.nonce == committed_nonce
                && lock(&self.inner.mempool).pending_for(&stx.tx.signer) == 0;
            if first_in_line {
                match check_transaction(&snapshot, &ctx, &stx) {
                    Ok(()) => {}
                    Err(ExecError::Tx(e)) => {
                        *result = Err(e);
                        continue;
                    }
                    Err(ExecError::Fatal(e)) => {
                        *result = Err(TxError::new(ErrorCode::Internal, e));
                        continue;
                    }
                }
            }
            admitted.push((stx, hash, committed_nonce, result));
        }
        {
            let mut pool = lock(&self.inner.mempool);
            for (stx, hash, committed_nonce, result) in admitted {
                if let Err(e) = pool.insert(stx, hash, committed_nonce, ctx.height) {
                    *result = Err(e);
                }
            }
            metrics::gauge!("weft_mempool_size").set(pool.len() as f64);
            self.inner.wake.notify_one();
        }
        for r in &results {
            match r {
                Ok(_) => metrics::counter!("weft_txs_admitted_total").increment(1),
                Err(e) => metrics::counter!("weft_txs_rejected_total", "code" => e.code.as_str())
                    .increment(1),
            }
        }
        metrics::histogram!("weft_admission_seconds").record(started.elapsed().as_secs_f64());
        results
    }

    /// Where a transaction is.
    pub fn lookup(&self, hash: &Hash) -> Result<TxLookup, ChainError> {
        if lock(&self.inner.mempool).contains(hash) {
            return Ok(TxLookup::Pending);
        }
        let store = self.inner.chain.store();
        let Some((height, index)) = store.tx_location(hash)? else {
            return Ok(TxLookup::Unknown);
        };
        let receipt = store.receipt(height, index)?.ok_or_else(|| {
            ChainError::Storage(weft_storage::StorageError::Corrupt(format!(
                "receipt {height}/{index} missing"
            )))
        })?;
        Ok(TxLookup::Committed {
            height,
            index,
            receipt,
        })
    }

    /// Whether this node produces blocks (holds a validator key).
    pub fn is_validator(&self) -> bool {
        self.inner.validator.is_some()
    }

    /// Applies a finalized block received from a peer: full verification and re-execution,
    /// then the same commit as a locally built block. A refused block changes nothing.
    pub fn apply_finalized(
        &self,
        block: Block,
        finalization: &Finalization,
    ) -> Result<(), ChainError> {
        let started = Instant::now();
        let executed = self.inner.chain.verify(block)?;
        let built = started.elapsed();
        commit_and_announce(&self.inner, executed, finalization, started, built)
    }

    /// Stops the producer and waits for the block in progress to land.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
        if let Some(handle) = lock(&self.inner.producer).take() {
            let _ = handle.join();
        }
    }
}

/// Checks every kept private payload against the ledger every sweep interval
/// ([`crate::PrivateConfig::sweep_interval`]), off the commit path: grants and retention periods
/// lapse by block time without a block naming the record. Ends with the node.
fn sweep_vault(node: &std::sync::Weak<Inner>) {
    let slice = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    loop {
        std::thread::sleep(slice);
        let Some(inner) = node.upgrade() else {
            return;
        };
        if inner.stop.load(Ordering::SeqCst) {
            return;
        }
        let Some(vault) = &inner.vault else {
            return;
        };
        waited += slice;
        if waited < vault.sweep_interval() {
            continue;
        }
        waited = Duration::ZERO;
        let Ok(snapshot) = inner.chain.store().snapshot() else {
            continue;
        };
        let now = snapshot.head().map_or(0, |h| h.timestamp_ms);
        if let Err(e) = vault.reconcile(&snapshot, None, now) {
            tracing::error!(error = %e, "private store sweep failed");
        }
    }
}

fn produce(inner: &Inner, interval: Duration, max_block_txs: usize) {
    let Some(key) = inner.validator.as_ref() else {
        return;
    };
    let proposer = key.account();
    loop {
        let txs = {
            let pool = lock(&inner.mempool);
            let (mut pool, _) = inner
                .wake
                .wait_timeout_while(pool, interval, |p| {
                    p.len() < max_block_txs && !inner.stop.load(Ordering::SeqCst)
                })
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if inner.stop.load(Ordering::SeqCst) {
                return;
            }
            if pool.is_empty() {
                continue;
            }
            let snapshot = match inner.chain.store().snapshot() {
                Ok(s) => s,
                Err(e) => return fail(inner, &e.to_string()),
            };
            let next_height = snapshot.head().map_or(1, |h| h.height + 1);
            pool.select(max_block_txs, next_height, |a| {
                next_nonce(&snapshot, a).unwrap_or(u64::MAX)
            })
        };
        if txs.is_empty() {
            // Only stranded transactions (nonce gaps, expiring) are waiting; do not spin on
            // a full pool of them, let pruning or their missing predecessors arrive.
            std::thread::sleep(interval);
            continue;
        }
        if let Err(e) = produce_block(inner, key, proposer, txs) {
            return fail(inner, &e.to_string());
        }
    }
}

fn fail(inner: &Inner, message: &str) {
    tracing::error!(error = message, "block production stopped");
    *lock(&inner.fatal) = Some(message.to_owned());
}

fn produce_block(
    inner: &Inner,
    key: &Keypair,
    proposer: AccountId,
    txs: Vec<SignedTransaction>,
) -> Result<(), ChainError> {
    let started = Instant::now();
    let executed = inner.chain.build(txs, now_ms(), proposer)?;
    let built = started.elapsed();
    let finalization = Finalization {
        height: executed.block.header.height,
        block_hash: executed.hash,
        signatures: vec![key.sign_block(&executed.hash)],
    };
    commit_and_announce(inner, executed, &finalization, started, built)
}

/// The common tail of every commit, whoever built the block: the atomic write, then
/// mempool pruning, metrics, logs and the announcement to subscribers.
fn commit_and_announce(
    inner: &Inner,
    executed: ExecutedBlock,
    finalization: &Finalization,
    started: Instant,
    built: Duration,
) -> Result<(), ChainError> {
    let hash = executed.hash;
    let header = executed.block.header.clone();
    let mut touched: Vec<AccountId> = executed
        .block
        .transactions
        .iter()
        .map(|t| t.tx.signer)
        .collect();
    touched.sort();
    touched.dedup();
    let tx_hashes: Vec<Hash> = executed.receipts.iter().map(|r| r.tx_hash).collect();
    let failed_count = executed.receipts.iter().filter(|r| !r.is_success()).count() as u32;
    let narrowed = crate::private::narrowed_records(&executed.receipts);
    inner.chain.commit(executed, finalization)?;
    let committed = started.elapsed();

    let snapshot = inner.chain.store().snapshot()?;
    if let Some(vault) = &inner.vault
        && !narrowed.is_empty()
    {
        // Only the records this block touched: the block is committed either way, and a
        // copy left behind here goes in the sweeper's next pass or at restart.
        if let Err(e) = vault.reconcile(&snapshot, Some(&narrowed), header.timestamp_ms) {
            tracing::error!(error = %e, height = header.height, "private store reconciliation failed");
        }
    }
    {
        let mut pool = lock(&inner.mempool);
        let next_height = header.height + 1;
        pool.prune_accounts(
            &touched,
            |a| next_nonce(&snapshot, a).unwrap_or(0),
            next_height,
        );
        // Expired transactions of accounts that sent nothing lately go in a periodic sweep.
        if header.height.is_multiple_of(64) {
            pool.prune(|a| next_nonce(&snapshot, a).unwrap_or(0), next_height);
        }
        metrics::gauge!("weft_mempool_size").set(pool.len() as f64);
    }
    metrics::gauge!("weft_height").set(header.height as f64);
    metrics::counter!("weft_blocks_committed_total").increment(1);
    metrics::counter!("weft_txs_committed_total").increment(u64::from(header.tx_count));
    metrics::histogram!("weft_block_execute_seconds").record(built.as_secs_f64());
    metrics::histogram!("weft_block_commit_seconds").record((committed - built).as_secs_f64());
    tracing::info!(
        height = header.height,
        txs = header.tx_count,
        failed = failed_count,
        execute_ms = built.as_millis() as u64,
        commit_ms = (committed - built).as_millis() as u64,
        "block committed"
    );
    let _ = inner.blocks.send(Arc::new(CommittedBlock {
        height: header.height,
        hash,
        timestamp_ms: header.timestamp_ms,
        tx_count: header.tx_count,
        failed_count,
        state_root: header.state_root,
        tx_hashes,
    }));
    Ok(())
}
