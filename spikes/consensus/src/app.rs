//! The adapter: mempool, block building and verification (marshal `Application`), and the
//! in-order commit of finalized blocks (marshal `Update` reporter).

use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, UNIX_EPOCH},
};

use bytes::Bytes;
use commonware_consensus::{
    Application, Heightable,
    marshal::{Update, ancestry::Ancestry, core::Mailbox, standard::Standard},
    simplex::{scheme::ed25519, types::Finalization},
    types::Height,
};
use commonware_cryptography::{Digested, Digestible, Hasher as _, sha256::Digest};
use commonware_runtime::{Clock, Spawner};
use commonware_utils::{Acknowledgement, acknowledgement::Exact};
use futures::{StreamExt, channel::mpsc};

use crate::block::{BlockCfg, Ctx, WeftBlock, apply, tx_hash};

/// The signing scheme: attributable ed25519 certificates (signer bitmap + signatures).
pub type Scheme = ed25519::Scheme;
/// A finalization certificate over a block digest.
pub type Cert = Finalization<Scheme, Digest>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A simple FIFO mempool, deduplicated by transaction hash. Transactions leave it only when a
/// block carrying them is committed, so a nullified proposal loses nothing.
#[derive(Clone, Default)]
pub struct Mempool(Arc<Mutex<MempoolInner>>);

#[derive(Default)]
struct MempoolInner {
    queue: VecDeque<(Digest, Bytes)>,
    index: HashSet<Digest>,
}

impl Mempool {
    /// Admits a transaction; false if it is already waiting.
    pub fn submit(&self, tx: Bytes) -> bool {
        let h = tx_hash(&tx);
        let mut m = lock(&self.0);
        if !m.index.insert(h) {
            return false;
        }
        m.queue.push_back((h, tx));
        true
    }

    /// Up to `max` waiting transactions, oldest first, skipping those in `exclude`.
    pub fn select(&self, max: usize, exclude: &HashSet<Digest>) -> Vec<Bytes> {
        lock(&self.0)
            .queue
            .iter()
            .filter(|(h, _)| !exclude.contains(h))
            .take(max)
            .map(|(_, tx)| tx.clone())
            .collect()
    }

    /// Drops committed transactions.
    pub fn remove(&self, txs: &[Bytes]) {
        let hashes: HashSet<Digest> = txs.iter().map(|t| tx_hash(t)).collect();
        let mut m = lock(&self.0);
        m.queue.retain(|(h, _)| !hashes.contains(h));
        for h in &hashes {
            m.index.remove(h);
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.0).queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the commit path recorded for one height.
#[derive(Clone, Debug)]
pub struct Committed {
    pub digest: Digest,
    pub parent: Digest,
    pub state_root: Digest,
    pub timestamp_ms: u64,
    pub proposer: commonware_cryptography::ed25519::PublicKey,
    pub tx_count: usize,
    /// The finalization certificate stored by marshal for exactly this height, if any. A block
    /// finalized only through a descendant's certificate has none of its own.
    pub finalization: Option<Cert>,
}

/// The committed chain, keyed by height (stands in for Weft's `Store`). Shared by the harness
/// across a simulated crash, like a durable store would be.
#[derive(Clone, Default)]
pub struct CommitLog(Arc<Mutex<CommitLogInner>>);

#[derive(Default)]
pub struct CommitLogInner {
    pub blocks: BTreeMap<u64, Committed>,
    /// Optional append-only file (one line per height, fsynced before the ack).
    file: Option<std::fs::File>,
    /// How many deliveries were redeliveries of an already committed height.
    pub redeliveries: u64,
    pub committed_txs: u64,
}

impl CommitLog {
    /// A log persisted in `path` (`height digest state_root tx_count` lines), reloaded on open.
    /// Entries loaded from the file carry no certificate (marshal's archive keeps those).
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        use std::io::BufRead;
        let mut blocks = BTreeMap::new();
        if let Ok(f) = std::fs::File::open(path) {
            for line in std::io::BufReader::new(f).lines() {
                let line = line?;
                let f: Vec<&str> = line.split_whitespace().collect();
                let [h, digest, parent, root, ts, proposer, txs] = f[..] else {
                    continue;
                };
                let hex32 = |s: &str| -> Digest {
                    let v = commonware_formatting::from_hex(s).expect("hex");
                    Digest::from(<[u8; 32]>::try_from(v.as_slice()).expect("32 bytes"))
                };
                let pk = commonware_formatting::from_hex(proposer).expect("hex");
                blocks.insert(
                    h.parse().unwrap(),
                    Committed {
                        digest: hex32(digest),
                        parent: hex32(parent),
                        state_root: hex32(root),
                        timestamp_ms: ts.parse().unwrap(),
                        proposer: commonware_codec::DecodeExt::decode(Bytes::from(pk))
                            .expect("key"),
                        tx_count: txs.parse().unwrap(),
                        finalization: None,
                    },
                );
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self(Arc::new(Mutex::new(CommitLogInner {
            blocks,
            file: Some(file),
            ..Default::default()
        }))))
    }

    pub fn inner(&self) -> MutexGuard<'_, CommitLogInner> {
        lock(&self.0)
    }

    /// Highest committed height (0 = only genesis or nothing).
    pub fn height(&self) -> u64 {
        lock(&self.0)
            .blocks
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }

    pub fn get(&self, height: u64) -> Option<Committed> {
        lock(&self.0).blocks.get(&height).cloned()
    }

    /// `(height, digest, state_root)` for every committed height.
    pub fn chain(&self) -> Vec<(u64, Digest, Digest)> {
        lock(&self.0)
            .blocks
            .iter()
            .map(|(h, c)| (*h, c.digest, c.state_root))
            .collect()
    }

    /// Idempotent commit: a redelivered height must carry the same block (else: safety
    /// violation, panic), and a new height must extend the previous one.
    fn commit(&self, block: &WeftBlock, finalization: Option<Cert>) -> bool {
        let mut log = lock(&self.0);
        if let Some(existing) = log.blocks.get_mut(&block.height) {
            assert_eq!(
                existing.digest,
                block.digest(),
                "divergence: height {} redelivered with another block",
                block.height
            );
            if existing.finalization.is_none() {
                existing.finalization = finalization;
            }
            log.redeliveries += 1;
            return false;
        }
        if block.height > 0
            && let Some(prev) = log.blocks.get(&(block.height - 1))
        {
            assert_eq!(
                prev.digest, block.parent,
                "committed block does not extend its parent"
            );
        }
        log.committed_txs += block.txs.len() as u64;
        if let Some(file) = log.file.as_mut() {
            use std::io::Write as _;
            writeln!(
                file,
                "{} {} {} {} {} {} {}",
                block.height,
                block.digest(),
                block.parent,
                block.state_root,
                block.timestamp_ms,
                block.proposer,
                block.txs.len()
            )
            .and_then(|()| file.sync_data())
            .expect("commit log write");
        }
        log.blocks.insert(
            block.height,
            Committed {
                digest: block.digest(),
                parent: block.parent,
                state_root: block.state_root,
                timestamp_ms: block.timestamp_ms,
                proposer: block.proposer.clone(),
                tx_count: block.txs.len(),
                finalization,
            },
        );
        true
    }
}

/// Tunables of the application.
#[derive(Clone, Copy, Debug)]
pub struct AppConfig {
    pub block: BlockCfg,
    /// Most transactions a proposer puts in a block (≤ `block.max_txs`).
    pub max_block_txs: usize,
    /// A block's timestamp may lead the local clock by at most this much; beyond it, verify
    /// waits (it never answers `false` for a condition that time can fix).
    pub max_future: Duration,
    /// How deep `propose` walks uncommitted ancestors to avoid re-including their txs.
    pub max_inflight_walk: usize,
    /// Spike-only Byzantine knob: propose blocks whose state root is wrong.
    pub byzantine_bad_state_root: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            block: BlockCfg::default(),
            max_block_txs: 500,
            max_future: Duration::from_millis(500),
            max_inflight_walk: 32,
            byzantine_bad_state_root: false,
        }
    }
}

/// The marshal `Application`: builds and verifies blocks. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub mempool: Mempool,
    pub log: CommitLog,
    pub cfg: AppConfig,
    /// Where refused proposals are recorded (leader, view, reason).
    pub evidence: crate::evidence::Evidence,
}

fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl<E> Application<E> for App
where
    E: Clock + Spawner + Send + Sync + 'static,
{
    type SigningScheme = Scheme;
    type Context = Ctx;
    type Block = WeftBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, Ctx),
        mut ancestry: impl Ancestry<WeftBlock>,
        _input: (),
    ) -> Option<Digested<WeftBlock>> {
        // The first item is the parent the engine asked us to build on (not the local head).
        let parent = ancestry.next().await?;
        // Leave out transactions already carried by uncommitted ancestors.
        let committed = self.log.height();
        let mut inflight = HashSet::new();
        let mut cursor = Some(parent.clone());
        let mut walked = 0;
        while let Some(b) = cursor {
            if b.height().get() <= committed || walked >= self.cfg.max_inflight_walk {
                break;
            }
            inflight.extend(b.inner().txs.iter().map(|t| tx_hash(t)));
            walked += 1;
            cursor = ancestry.next().await;
        }
        let txs = self.mempool.select(
            self.cfg.max_block_txs.min(self.cfg.block.max_txs),
            &inflight,
        );
        let p = parent.inner();
        let height = p.height + 1;
        let timestamp_ms = now_ms(&runtime).max(p.timestamp_ms + 1);
        let mut state_root = apply(&p.state_root, height, &txs);
        if self.cfg.byzantine_bad_state_root {
            state_root = commonware_cryptography::Sha256::hash(&[b"bad", state_root.as_ref()]);
        }
        let leader = context.leader.clone();
        let block = WeftBlock::new(
            context,
            parent.digest(),
            height,
            timestamp_ms,
            leader,
            txs,
            state_root,
        );
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, Ctx),
        mut ancestry: impl Ancestry<WeftBlock>,
    ) -> bool {
        // Ancestry yields the candidate first, then its parent.
        let Some(block) = ancestry.next().await else {
            return false;
        };
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        let (b, p) = (block.inner(), parent.inner());
        let verdict = self.check(&runtime, &context, b, p, parent.digest()).await;
        if let Err(reason) = verdict {
            self.evidence
                .invalid_block(context.leader.clone(), context.round.view().get(), reason);
        }
        verdict.is_ok()
    }
}

impl App {
    /// Weft's block rules on top of marshal's (which already checked parent digest and
    /// contiguous height). `Err` is permanent: only for what no later data or time can fix.
    async fn check(
        &self,
        runtime: &impl Clock,
        context: &Ctx,
        b: &WeftBlock,
        p: &WeftBlock,
        parent_digest: Digest,
    ) -> Result<(), &'static str> {
        if b.parent != parent_digest || b.height != p.height + 1 {
            return Err("parent link or height");
        }
        if b.context != *context || b.proposer != context.leader {
            return Err("context or proposer");
        }
        if b.txs.len() > self.cfg.block.max_txs
            || b.txs
                .iter()
                .any(|t| t.is_empty() || t.len() > self.cfg.block.max_tx_bytes)
        {
            return Err("limits");
        }
        let mut seen = HashSet::with_capacity(b.txs.len());
        if !b.txs.iter().all(|t| seen.insert(tx_hash(t))) {
            return Err("duplicate transaction");
        }
        if b.timestamp_ms <= p.timestamp_ms {
            return Err("timestamp not after parent");
        }
        // Too far ahead of our clock: wait until it is not (time fixes this; never say false).
        let max_future_ms = self.cfg.max_future.as_millis() as u64;
        if b.timestamp_ms > now_ms(runtime) + max_future_ms {
            let at = UNIX_EPOCH + Duration::from_millis(b.timestamp_ms - max_future_ms);
            runtime.sleep_until(at).await;
        }
        // Re-execute on the parent's post-state.
        if apply(&p.state_root, b.height, &b.txs) != b.state_root {
            return Err("state root differs from re-execution");
        }
        Ok(())
    }
}

/// The marshal reporter: receives finalized blocks in height order and hands them to the
/// committer task, which fetches the certificate, commits, prunes the mempool and acks.
#[derive(Clone)]
pub struct Finalized {
    tx: mpsc::UnboundedSender<(Digested<WeftBlock>, Exact)>,
}

impl commonware_consensus::Reporter for Finalized {
    type Activity = Update<WeftBlock>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        match activity {
            Update::Block(block, ack) => {
                if self.tx.unbounded_send((block, ack)).is_err() {
                    return commonware_actor::Feedback::Closed;
                }
            }
            Update::Tip(..) => {}
        }
        commonware_actor::Feedback::Ok
    }
}

/// The commit path (Weft: `Chain::commit(executed, finalization)`), run as one task so
/// commits are strictly ordered. Each block is acknowledged only after it is committed.
pub fn start_committer<E: Spawner>(
    context: E,
    marshal: Mailbox<Scheme, Standard<WeftBlock>>,
    log: CommitLog,
    mempool: Mempool,
) -> Finalized {
    let (tx, mut rx) = mpsc::unbounded::<(Digested<WeftBlock>, Exact)>();
    context.spawn(move |_| async move {
        while let Some((block, ack)) = rx.next().await {
            let height = block.height();
            let finalization = if height.is_zero() {
                None
            } else {
                marshal.get_finalization(Height::new(height.get())).await
            };
            if let Some(f) = &finalization {
                assert_eq!(
                    f.proposal.payload,
                    block.digest(),
                    "certificate for another block"
                );
            }
            log.commit(block.inner(), finalization);
            mempool.remove(&block.inner().txs);
            ack.acknowledge();
        }
    });
    Finalized { tx }
}
