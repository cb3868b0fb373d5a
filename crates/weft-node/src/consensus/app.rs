//! The application the engine drives: building proposals from the mempool, verifying peers'
//! proposals, and committing finalized blocks in order.
//!
//! Execution runs on the committed head ([`Chain::build`] / [`Chain::verify`]), so a proposal
//! or a verification for height h+1 first waits until h is committed locally. A wait never
//! answers `false`: the engine's `false` is permanent, so it is kept for blocks no data or time
//! can fix (a broken rule, or a parent that lost to another finalized block).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, UNIX_EPOCH},
};

use commonware_consensus::{
    Application, Heightable,
    marshal::{Update, ancestry::Ancestry, core::Mailbox, standard::Standard},
    simplex::types::Context,
    types::Height,
};
use commonware_cryptography::{Digested, Digestible, ed25519::PublicKey, sha256::Digest};
use commonware_runtime::{Clock, Metrics, Spawner};
use commonware_utils::{Acknowledgement, acknowledgement::Exact};
use futures::{StreamExt, channel::mpsc};
use weft_execution::next_nonce;
use weft_types::Hash;

use super::{
    Scheme, account_of,
    block::{ConsensusBlock, hash},
    certificate::to_finalization,
    evidence::Evidence,
};
use crate::{
    chain::{ChainError, ExecutedBlock},
    node::{Inner, commit_and_announce, lock},
};

/// The engine's per-view context.
pub type Ctx = Context<Digest, PublicKey>;

/// Tunables of block building.
#[derive(Clone, Copy, Debug)]
pub struct AppConfig {
    /// Most transactions a proposer puts in one block.
    pub max_block_txs: usize,
    /// How long a leader with an empty mempool waits for a transaction before it declines to
    /// propose (the view then changes, and the next leader waits in turn). Below the leader
    /// timeout. An idle chain therefore grows no blocks: each block moves the state root
    /// (the height is part of the state), and an idle ledger should not.
    pub idle_wait: Duration,
    /// Propose an empty block after this long instead of declining, so block time keeps
    /// moving on an idle chain (deadlines and retention periods lapse without a transaction).
    /// Off by default.
    pub empty_block_interval: Option<Duration>,
    /// How far a proposal's timestamp may lead the local clock; beyond it, verify waits.
    pub max_future: Duration,
    /// How long a proposal or verification waits for its parent to be committed before it
    /// executes on the uncommitted parent instead (and re-executes at commit).
    pub speculate_after: Duration,
    /// Byzantine tests: propose blocks whose state root is wrong (execution is honest, the
    /// header lies), so honest validators must refuse them.
    #[cfg(feature = "byzantine-testing")]
    pub lie_about_state_roots: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            max_block_txs: weft_types::limits::MAX_BLOCK_TXS,
            idle_wait: Duration::from_millis(1_500),
            empty_block_interval: None,
            max_future: Duration::from_millis(500),
            speculate_after: Duration::from_millis(250),
            #[cfg(feature = "byzantine-testing")]
            lie_about_state_roots: false,
        }
    }
}

/// Executed proposals, by block hash, until one of them is committed.
type Executed = Arc<Mutex<BTreeMap<Hash, Arc<ExecutedBlock>>>>;

/// How deep a proposal or verification may build on blocks not yet committed.
const MAX_UNCOMMITTED: usize = 32;

/// The marshal `Application` around the node. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ChainApp {
    pub(crate) node: Arc<Inner>,
    pub(crate) executed: Executed,
    pub(crate) cfg: AppConfig,
    pub(crate) evidence: Evidence,
}

fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where the local chain stands relative to a parent block.
enum ParentState {
    Committed,
    Pending,
    /// Another block is committed at the parent's height: a child of it can never be final.
    Lost,
}

impl ChainApp {
    fn parent_state(&self, parent: &ConsensusBlock) -> Result<ParentState, ChainError> {
        let chain = &self.node.chain;
        let height = parent.block().header.height;
        if chain.head()?.height < height {
            return Ok(ParentState::Pending);
        }
        Ok(match chain.store().block_height(&parent.hash())? {
            Some(h) if h == height => ParentState::Committed,
            _ => ParentState::Lost,
        })
    }

    /// The uncommitted blocks a child of `parent` builds on, oldest first (empty when `parent`
    /// is the committed head), each executed. Waits `speculate_after` for `parent` to be
    /// committed: the common case, and the cheapest (no re-execution at commit). Past that, a
    /// parent that is certified but not final (after a crash, it may become final only
    /// through a descendant) is executed on top of its own uncommitted ancestors, so the
    /// chain can always grow. `None` when an ancestor lost to another final block, the chain
    /// is deeper than [`MAX_UNCOMMITTED`], or the node is stopping.
    async fn ancestors<E>(
        &self,
        runtime: &E,
        parent: &ConsensusBlock,
        ancestry: &mut impl Ancestry<ConsensusBlock>,
    ) -> Option<Vec<Arc<ExecutedBlock>>>
    where
        E: Clock + Spawner,
    {
        let since = runtime.current();
        loop {
            if self.node.stopping() {
                return None;
            }
            match self.parent_state(parent) {
                Ok(ParentState::Committed) => return Some(Vec::new()),
                Ok(ParentState::Lost) => return None,
                Ok(ParentState::Pending) => {}
                Err(e) => tracing::error!(error = %e, "cannot read the chain head"),
            }
            let waited = runtime.current().duration_since(since).unwrap_or_default();
            if waited >= self.cfg.speculate_after {
                break;
            }
            runtime.sleep(Duration::from_millis(2)).await;
        }
        // Walk back to the committed head.
        let mut chain = vec![parent.clone()];
        loop {
            let oldest = chain.last()?;
            let parent_hash = oldest.block().header.parent;
            let parent_height = oldest.block().header.height.checked_sub(1)?;
            match self.node.chain.store().block_height(&parent_hash) {
                Ok(Some(h)) if h == parent_height => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the chain");
                    return None;
                }
            }
            if chain.len() >= MAX_UNCOMMITTED {
                tracing::warn!(
                    depth = chain.len(),
                    "too many uncommitted ancestors to build on"
                );
                return None;
            }
            let next = ancestry.next().await?;
            if next.inner().hash() != parent_hash {
                return None;
            }
            chain.push(next.inner().clone());
        }
        chain.reverse();
        tracing::info!(
            depth = chain.len(),
            "building on blocks not yet committed here"
        );
        // Execute what is not cached, oldest first, each on the ones before it.
        let mut executed: Vec<Arc<ExecutedBlock>> = Vec::with_capacity(chain.len());
        for block in chain {
            let cached = lock(&self.executed).get(&block.hash()).cloned();
            let e = match cached {
                Some(e) => e,
                None => {
                    let node = Arc::clone(&self.node);
                    let before = executed.clone();
                    let owned = block.into_block();
                    let result = Self::blocking(runtime, "execute_ancestor", move || {
                        let refs: Vec<&ExecutedBlock> = before.iter().map(AsRef::as_ref).collect();
                        node.chain.verify_on(&refs, owned, |_, _| false)
                    })
                    .await?;
                    match result {
                        Ok(e) => {
                            let e = Arc::new(e);
                            self.keep(Arc::clone(&e));
                            e
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot execute an uncommitted ancestor");
                            return None;
                        }
                    }
                }
            };
            executed.push(e);
        }
        Some(executed)
    }

    /// Drops ancestors the head has since committed; `None` if one lost to another block.
    fn still_uncommitted(
        &self,
        ancestors: Vec<Arc<ExecutedBlock>>,
    ) -> Option<Vec<Arc<ExecutedBlock>>> {
        let store = self.node.chain.store();
        let mut kept = Vec::with_capacity(ancestors.len());
        let head = self.node.chain.head().ok()?.height;
        for a in ancestors {
            let height = a.block.header.height;
            if height <= head {
                if store.block_height(&a.hash).ok()? != Some(height) {
                    return None;
                }
            } else {
                kept.push(a);
            }
        }
        Some(kept)
    }

    /// Runs `f` where blocking is allowed, off the engine's async workers.
    async fn blocking<E, T, F>(runtime: &E, label: &'static str, f: F) -> Option<T>
    where
        E: Spawner,
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        runtime
            .child(label)
            .shared(true)
            .spawn(move |_| async move { f() })
            .await
            .ok()
    }

    fn keep(&self, executed: Arc<ExecutedBlock>) {
        let mut map = lock(&self.executed);
        // Bounded: an executed block stays only until its height is committed; a few views of
        // competing proposals at most.
        if map.len() >= 64
            && let Some(oldest) = map.keys().next().copied()
        {
            map.remove(&oldest);
        }
        map.insert(executed.hash, executed);
    }
}

impl<E> Application<E> for ChainApp
where
    E: Clock + Spawner + Metrics + Send + Sync + 'static,
{
    type SigningScheme = Scheme;
    type Context = Ctx;
    type Block = ConsensusBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, Ctx),
        mut ancestry: impl Ancestry<ConsensusBlock>,
        _input: (),
    ) -> Option<Digested<ConsensusBlock>> {
        // The parent the engine names, which may be certified but not yet final.
        let parent = ancestry.next().await?;
        let mut ancestors = self
            .ancestors(&runtime, parent.inner(), &mut ancestry)
            .await?;
        // Wait for something to include. The runtime's clock, not the wall clock: the
        // simulation must replay the same way from the same seed.
        let since = runtime.current();
        let waited = |now: std::time::SystemTime| now.duration_since(since).unwrap_or_default();
        // A scheduled validator-set change takes effect at the epoch's last block: the chain
        // must reach it even with nothing to carry, so empty blocks are due.
        let set_change_due = self
            .node
            .chain
            .consensus_params()
            .is_ok_and(|p| p.pending.is_some());
        let allow_empty = self.cfg.empty_block_interval.is_some() || set_change_due;
        let limit = if set_change_due {
            Duration::ZERO
        } else {
            self.cfg.empty_block_interval.unwrap_or(self.cfg.idle_wait)
        };
        while self.node.mempool_is_empty() && waited(runtime.current()) < limit {
            if self.node.stopping() {
                return None;
            }
            runtime.sleep(Duration::from_millis(2)).await;
        }
        if self.node.mempool_is_empty() && !allow_empty {
            return None;
        }
        let max = self.cfg.max_block_txs;
        let proposer = account_of(&context.leader);
        let built = loop {
            let now = now_ms(&runtime);
            let node = Arc::clone(&self.node);
            let before = ancestors.clone();
            let attempt = Self::blocking(&runtime, "build", move || {
                let refs: Vec<&ExecutedBlock> = before.iter().map(AsRef::as_ref).collect();
                let next_height = refs
                    .last()
                    .map(|a| a.block.header.height + 1)
                    .map_or_else(|| Ok(node.chain.head()?.height + 1), Ok::<u64, ChainError>)?;
                // Nonces as of the parent, so transactions the uncommitted ancestors carry are
                // not taken again.
                let txs = {
                    let snapshot = node.chain.store().snapshot()?;
                    let state = crate::Chain::state_on(&snapshot, &refs);
                    let mut pool = lock(&node.mempool);
                    pool.select(max, next_height, |a| {
                        next_nonce(&state, a).unwrap_or(u64::MAX)
                    })
                };
                // What waits may all be unselectable (carried by an uncommitted ancestor, or
                // behind a nonce gap): no block for it. An empty block would still move the
                // state root (the height is state), on an idle chain.
                if txs.is_empty() && !allow_empty {
                    return Ok(None);
                }
                node.chain.build_on(&refs, txs, now, proposer).map(Some)
            })
            .await?;
            match attempt {
                Err(ChainError::StaleAncestry) => {
                    ancestors = self.still_uncommitted(ancestors)?;
                }
                Ok(None) => {
                    if waited(runtime.current()) >= limit || self.node.stopping() {
                        return None;
                    }
                    runtime.sleep(Duration::from_millis(5)).await;
                    ancestors = self.still_uncommitted(ancestors)?;
                }
                Ok(Some(e)) => break Ok(e),
                Err(e) => break Err(e),
            }
        };
        let executed = match built {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "cannot build a proposal");
                return None;
            }
        };
        #[cfg(feature = "byzantine-testing")]
        if self.cfg.lie_about_state_roots {
            let mut forged = executed.block.clone();
            forged.header.state_root.0[0] ^= 0xff;
            let block = ConsensusBlock::new(forged);
            let digest = block.digest();
            return Some(Digested::precomputed(block, digest));
        }
        let block = ConsensusBlock::new(executed.block.clone());
        tracing::debug!(
            height = executed.block.header.height,
            txs = executed.block.header.tx_count,
            view = context.round.view().get(),
            "proposing"
        );
        self.keep(Arc::new(executed));
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, Ctx),
        mut ancestry: impl Ancestry<ConsensusBlock>,
    ) -> bool {
        // The candidate first, then its parent.
        let Some(candidate) = ancestry.next().await else {
            return false;
        };
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        let view = context.round.view().get();
        let leader = context.leader.clone();
        let refuse = |reason: String| {
            self.evidence.invalid_block(&leader, view, &reason);
            false
        };
        let block = candidate.inner();
        let header = &block.block().header;
        if header.parent != parent.inner().hash()
            || header.height != parent.inner().block().header.height + 1
        {
            return refuse("parent link or height".into());
        }
        if header.proposer != account_of(&context.leader) {
            return refuse("the proposer is not the view's leader".into());
        }
        // Time fixes a timestamp that is ahead of our clock: wait, never refuse.
        let max_future = self.cfg.max_future.as_millis() as u64;
        if header.timestamp_ms > now_ms(&runtime) + max_future {
            let at = UNIX_EPOCH + Duration::from_millis(header.timestamp_ms - max_future);
            runtime.sleep_until(at).await;
        }
        let Some(mut ancestors) = self
            .ancestors(&runtime, parent.inner(), &mut ancestry)
            .await
        else {
            // Stopping, too deep, or a lost ancestor: no vote either way would be justified
            // for the first two; the third can never be final.
            return false;
        };
        let verified = loop {
            let node = Arc::clone(&self.node);
            let owned = block.clone().into_block();
            let before = ancestors.clone();
            let Some(attempt) = Self::blocking(&runtime, "verify", move || {
                let refs: Vec<&ExecutedBlock> = before.iter().map(AsRef::as_ref).collect();
                // Transactions that reached this node by gossip were checked at admission: their
                // signatures, exactly as the pool holds them, need no second check. The pool's lock
                // is held only while collecting them, not during execution.
                let known: std::collections::HashMap<Hash, Vec<weft_types::TxSignature>> = {
                    let pool = lock(&node.mempool);
                    owned
                        .transactions
                        .iter()
                        .filter_map(|t| {
                            let hash = weft_crypto::tx_hash(&t.tx);
                            pool.holds_verified(&hash, t)
                                .then(|| (hash, t.signatures.clone()))
                        })
                        .collect()
                };
                node.chain.verify_on(&refs, owned, |hash, tx| {
                    known.get(hash).is_some_and(|sigs| *sigs == tx.signatures)
                })
            })
            .await
            else {
                return false;
            };
            match attempt {
                Err(ChainError::StaleAncestry) => match self.still_uncommitted(ancestors) {
                    Some(kept) => ancestors = kept,
                    None => return false,
                },
                other => break other,
            }
        };
        match verified {
            Ok(executed) => {
                self.keep(Arc::new(executed));
                true
            }
            Err(ChainError::InvalidBlock(reason)) => refuse(reason),
            Err(e) => {
                // Not the proposer's fault (local storage or execution failure): refuse to vote
                // without recording evidence against it.
                tracing::error!(error = %e, view, "cannot verify a proposal");
                false
            }
        }
    }
}

/// The marshal reporter: finalized blocks in height order, handed to the committer task.
#[derive(Clone)]
pub(crate) struct Finalized {
    tx: mpsc::UnboundedSender<(Digested<ConsensusBlock>, Exact)>,
}

impl commonware_consensus::Reporter for Finalized {
    type Activity = Update<ConsensusBlock>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        if let Update::Block(block, ack) = activity
            && self.tx.unbounded_send((block, ack)).is_err()
        {
            return commonware_actor::Feedback::Closed;
        }
        commonware_actor::Feedback::Ok
    }
}

/// The one commit path: each finalized block is executed (or taken from the proposals already
/// executed), committed with its certificate, announced, and only then acknowledged to marshal.
/// A redelivered height is acknowledged without a second commit.
///
/// Each committed last block of an epoch is sent on `boundaries`, for the next epoch's engine.
pub(crate) fn start_committer<E>(
    runtime: E,
    app: ChainApp,
    marshal: Mailbox<Scheme, Standard<ConsensusBlock>>,
    epoch_length: u64,
    boundaries: mpsc::UnboundedSender<u64>,
) -> Finalized
where
    E: Clock + Spawner + Metrics + Send + Sync + 'static,
{
    let (tx, mut rx) = mpsc::unbounded::<(Digested<ConsensusBlock>, Exact)>();
    runtime.spawn(move |runtime| async move {
        while let Some((block, ack)) = rx.next().await {
            let height = block.height().get();
            let block_hash = hash(&block.digest());
            match commit_one(&runtime, &app, &marshal, block, height).await {
                Ok(()) => {
                    ack.acknowledge();
                    let ends_epoch = weft_execution::is_last_in_epoch(height, epoch_length);
                    if ends_epoch {
                        let _ = boundaries.unbounded_send(height);
                    }
                }
                Err(e) => {
                    // Without the ack marshal stops delivering: the node halts rather than
                    // continue past a block it could not commit.
                    app.node
                        .fail(&format!("cannot commit block {height} ({block_hash}): {e}"));
                    return;
                }
            }
        }
    });
    Finalized { tx }
}

async fn commit_one<E>(
    runtime: &E,
    app: &ChainApp,
    marshal: &Mailbox<Scheme, Standard<ConsensusBlock>>,
    block: Digested<ConsensusBlock>,
    height: u64,
) -> Result<(), ChainError>
where
    E: Clock + Spawner + Metrics,
{
    let block = block.inner().clone();
    let block_hash = block.hash();
    let chain = &app.node.chain;
    if chain.store().block_height(&block_hash)? == Some(height) {
        return Ok(());
    }
    let head = chain.head()?;
    if height <= head.height {
        return Err(ChainError::InvalidBlock(format!(
            "divergence: the engine finalized {block_hash} at height {height}, another block is committed there"
        )));
    }
    if height != head.height + 1 {
        return Err(ChainError::InvalidBlock(format!(
            "gap: finalized height {height} follows committed height {}",
            head.height
        )));
    }
    let certificate = marshal.get_finalization(Height::new(height)).await;
    let finalization = match certificate {
        Some(c) => {
            // Signed by the set in force after the parent (the committed head): the bitmap
            // indexes it in the engine's order.
            let validators: Vec<PublicKey> = super::ordered_set(&chain.validators()?)
                .map_err(ChainError::InvalidFinalization)?
                .iter()
                .cloned()
                .collect();
            Some(
                to_finalization(&c, height, &validators)
                    .map_err(ChainError::InvalidFinalization)?,
            )
        }
        None => {
            // Final through a descendant's certificate only; the header chain proves it.
            tracing::warn!(height, "finalized without a certificate of its own");
            None
        }
    };
    // The proposal or verification already executed it on the committed head: commit that.
    // A speculative execution (on uncommitted ancestors) is redone on the head.
    let cached = lock(&app.executed)
        .remove(&block_hash)
        .and_then(|e| Arc::try_unwrap(e).ok());
    let executed = match cached {
        Some(e) if !e.is_speculative() && e.block.header.parent == head.block_hash => Some(e),
        _ => None,
    };
    let node = Arc::clone(&app.node);
    let started = Instant::now();
    let result = ChainApp::blocking(runtime, "commit", move || {
        let executed = match executed {
            Some(e) => e,
            None => node.chain.verify(block.into_block())?,
        };
        let built = started.elapsed();
        commit_and_announce(&node, executed, finalization.as_ref(), started, built)
    })
    .await
    .ok_or_else(|| ChainError::Execution("the commit task was cancelled".into()))?;
    result?;
    lock(&app.executed).retain(|_, e| e.block.header.height > height);
    Ok(())
}
