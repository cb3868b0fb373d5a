//! The node: admission of transactions into the mempool, the commit tail every finalized
//! block goes through, and the handle the API and CLI use.
//!
//! A node holding a validator key runs the consensus engine ([`crate::consensus`]), also
//! when it is the only validator: blocks are proposed, verified, finalized and committed
//! through one path whatever the size of the set.

use std::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures::channel::mpsc::UnboundedSender;
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
    consensus::{ConsensusConfig, ConsensusStatus},
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
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// The consensus engine's network, timeouts and block building (validators only).
    pub consensus: ConsensusConfig,
    /// Start the engine on its own thread over the authenticated network (the default).
    /// Off, a validator node waits for its embedder to run [`crate::consensus::start`] in
    /// its own runtime: the seeded simulation tests do that.
    pub run_engine: bool,
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
            max_block_txs: 20_000,
            consensus: ConsensusConfig::default(),
            run_engine: true,
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

pub(crate) struct Inner {
    pub(crate) chain: Chain,
    data_dir: std::path::PathBuf,
    genesis: Genesis,
    pub(crate) mempool: Mutex<Mempool>,
    blocks: broadcast::Sender<Arc<CommittedBlock>>,
    stop: AtomicBool,
    fatal: Mutex<Option<String>>,
    engine: Mutex<Option<JoinHandle<()>>>,
    consensus: std::sync::OnceLock<ConsensusStatus>,
    /// Where locally admitted transactions go to be gossiped to the other validators.
    gossip: Mutex<Option<UnboundedSender<Vec<SignedTransaction>>>>,
    validator: Option<Keypair>,
    vault: Option<Vault>,
}

impl Inner {
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Admission: limits, chain id, signatures (batch-verified in parallel), then the
    /// stateful checks, then the mempool. `gossip` sends what was admitted to the other
    /// validators (off for transactions that arrived by gossip).
    pub(crate) fn admit(
        &self,
        txs: Vec<SignedTransaction>,
        gossip: bool,
    ) -> Vec<Result<Hash, TxError>> {
        if self.validator.is_none() {
            let e = TxError::new(
                ErrorCode::ReadOnly,
                "this node follows a peer and does not accept transactions; submit to a validator",
            );
            return txs.iter().map(|_| Err(e.clone())).collect();
        }
        let started = Instant::now();
        let chain_id = self.chain.chain_id();
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
            .chain
            .store()
            .snapshot()
            .map_err(ChainError::from)
            .and_then(|s| Ok((s, self.chain.head()?)))
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
                && lock(&self.mempool).pending_for(&stx.tx.signer) == 0;
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
        let mut outgoing = Vec::new();
        {
            let mut pool = lock(&self.mempool);
            for (stx, hash, committed_nonce, result) in admitted {
                let copy = gossip.then(|| stx.clone());
                match pool.insert(stx, hash, committed_nonce, ctx.height) {
                    Ok(()) => {
                        if copy.is_some() {
                            pool.mark_local(&hash);
                        }
                        outgoing.extend(copy);
                    }
                    Err(e) => *result = Err(e),
                }
            }
            metrics::gauge!("weft_mempool_size").set(pool.len() as f64);
        }
        if !outgoing.is_empty()
            && let Some(outbox) = lock(&self.gossip).as_ref()
        {
            let _ = outbox.unbounded_send(outgoing);
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

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(crate) fn mempool_is_empty(&self) -> bool {
        lock(&self.mempool).is_empty()
    }

    /// Gossips again the transactions submitted here that are still pending after a while:
    /// their first gossip may have reached no peer (links still coming up, a partition), and
    /// a node that is not a leader, or not a validator yet, could otherwise hold them forever.
    pub(crate) fn regossip(&self) {
        let due = lock(&self.mempool).regossip_due(crate::consensus::gossip::MAX_BATCH_TXS);
        if !due.is_empty()
            && let Some(outbox) = lock(&self.gossip).as_ref()
        {
            metrics::counter!("weft_gossip_resent_total").increment(due.len() as u64);
            let _ = outbox.unbounded_send(due);
        }
    }

    pub(crate) fn set_gossip(&self, outbox: UnboundedSender<Vec<SignedTransaction>>) {
        *lock(&self.gossip) = Some(outbox);
    }

    /// Records a fatal error: the node stops committing and reports it on `/health`.
    pub(crate) fn fail(&self, message: &str) {
        tracing::error!(error = message, "block commits stopped");
        let mut fatal = lock(&self.fatal);
        if fatal.is_none() {
            *fatal = Some(message.to_owned());
        }
    }
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
    #[error("private store: {0}")]
    Vault(#[from] VaultError),
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
        // A key outside the current set is a validator to be: its node follows the chain
        // (verifying certificates) and votes from the epoch a governance change adds it in.
        if let Some(key) = &config.validator_key
            && !chain.validators()?.contains(&key.account())
        {
            tracing::warn!(
                account = %key.account(),
                "this validator key is not in the current validator set: following until it is added"
            );
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
            data_dir: config.data_dir.clone(),
            genesis: config.genesis.clone(),
            mempool: Mutex::new(Mempool::new(config.mempool.clone())),
            blocks,
            stop: AtomicBool::new(false),
            fatal: Mutex::new(None),
            engine: Mutex::new(None),
            consensus: std::sync::OnceLock::new(),
            gossip: Mutex::new(None),
            validator: config.validator_key.clone(),
            vault,
        });
        let head = inner.chain.head()?;
        metrics::gauge!("weft_height").set(head.height as f64);
        tracing::info!(chain_id = %inner.chain.chain_id(), height = head.height, "chain opened");
        let node = Self { inner };
        if let Some(key) = &node.inner.validator
            && config.run_engine
        {
            let mut consensus = config.consensus.clone();
            consensus.app.max_block_txs = config.max_block_txs;
            let (handle, status) = crate::consensus::spawn(
                node.clone(),
                key,
                consensus,
                config.data_dir.join("consensus"),
            )?;
            *lock(&node.inner.engine) = Some(handle);
            node.set_consensus(status);
        }
        if node.inner.vault.is_some() {
            let weak = Arc::downgrade(&node.inner);
            std::thread::Builder::new()
                .name("weft-vault".into())
                .spawn(move || sweep_vault(&weak))
                .map_err(|e| {
                    ChainError::Execution(format!("cannot start the vault sweeper: {e}"))
                })?;
        }
        Ok(node)
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Records the status of an engine started by the embedder (see
    /// [`NodeConfig::run_engine`]); the first one wins.
    pub fn set_consensus(&self, status: ConsensusStatus) {
        let _ = self.inner.consensus.set(status);
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

    /// The consensus engine's status (validators only).
    pub fn consensus(&self) -> Option<&ConsensusStatus> {
        self.inner.consensus.get()
    }

    /// Set when committing hit a fatal error and stopped.
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
        self.inner.admit(txs, true)
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
        commit_and_announce(&self.inner, executed, Some(finalization), started, built)
    }

    /// Stops the consensus engine and waits for it to exit. A block being committed lands
    /// whole or not at all (the store's commit is atomic), and the engine's journals replay
    /// at the next start.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = lock(&self.inner.engine).take() {
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

/// The common tail of every commit, whoever built the block: the atomic write, then
/// mempool pruning, metrics, logs and the announcement to subscribers.
pub(crate) fn commit_and_announce(
    inner: &Inner,
    executed: ExecutedBlock,
    finalization: Option<&Finalization>,
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
