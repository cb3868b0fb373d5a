//! Seeded deterministic simulations: deterministic runtime + simulated p2p network + the real
//! adapter (block, app, committer, evidence) + simplex/marshal; Byzantine peers from the
//! simplex mocks.

use std::{collections::BTreeSet, time::Duration};

use bytes::Bytes;
use commonware_consensus::simplex::mocks;
use commonware_cryptography::{
    Sha256, Signer as _,
    ed25519::{PrivateKey, PublicKey},
    sha256::Digest,
};
use commonware_p2p::{
    Recipients, Sender as _,
    simulated::{self, Link, Oracle},
};
use commonware_runtime::{
    Clock, Handle, Quota, Runner as _, Spawner as _, Supervisor as _, deterministic,
};
use commonware_utils::{NZU32, NZUsize, probability};
use consensus_spike::{
    app::{AppConfig, Scheme},
    block::BlockCfg,
    validator::{self, CHANNELS, Channels, NodeConfig, Shared, Timing},
};
use rand_core::Rng as _;

const QUOTA: Quota = Quota::per_second(NZU32!(4096));
const LINK: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(5),
    success_rate: probability!(1.0),
};

/// One simulated cluster.
struct Cluster {
    ctx: deterministic::Context,
    oracle: Oracle<PublicKey, deterministic::Context>,
    keys: Vec<PrivateKey>,
    validators: Vec<PublicKey>,
    shared: Vec<Shared>,
    handles: Vec<Option<Handle<()>>>,
    next_tx: u64,
    submitted: Vec<Bytes>,
}

impl Cluster {
    async fn new(ctx: deterministic::Context, n: u64) -> Self {
        let mut keys: Vec<PrivateKey> = (0..n).map(|i| PrivateKey::from_seed(1000 + i)).collect();
        keys.sort_by_key(|k| k.public_key());
        let validators: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let max_size = validator::max_message_size(n as u32, &BlockCfg::default());
        let (network, mut oracle) = simulated::Network::new_with_peers(
            ctx.child("network"),
            simulated::Config {
                max_size,
                max_peers_per_set: NZUsize!(n as usize),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            validators.clone(),
        )
        .await;
        network.start();
        link_all(&mut oracle, &validators).await;
        let shared = (0..n).map(|_| Shared::new(&validators)).collect();
        Self {
            ctx,
            oracle,
            keys,
            validators,
            shared,
            handles: (0..n).map(|_| None).collect(),
            next_tx: 0,
            submitted: vec![],
        }
    }

    fn n(&self) -> usize {
        self.validators.len()
    }

    fn node_config(&self, i: usize) -> NodeConfig {
        NodeConfig {
            chain_id: b"weft-sim".to_vec(),
            namespace: b"weft-sim-consensus".to_vec(),
            signer: self.keys[i].clone(),
            validators: self.validators.clone(),
            app: AppConfig::default(),
            timing: Timing::default(),
            partition: format!("v{i}"),
            mailbox_size: 1024,
            view_retention: 10,
        }
    }

    async fn channels(
        &self,
        i: usize,
    ) -> Channels<
        simulated::Sender<PublicKey, deterministic::Context>,
        simulated::Receiver<PublicKey>,
    > {
        let control = self.oracle.control(self.validators[i].clone());
        let mut pairs = Vec::new();
        for ch in CHANNELS {
            pairs.push(control.register(ch, QUOTA).await.unwrap());
        }
        let mut it = pairs.into_iter();
        Channels {
            votes: it.next().unwrap(),
            certs: it.next().unwrap(),
            simplex_resolver: it.next().unwrap(),
            blocks: it.next().unwrap(),
            backfill: it.next().unwrap(),
        }
    }

    /// Starts (or restarts, on the same storage partitions) honest validator `i`.
    async fn start(&mut self, i: usize) {
        self.start_with(i, AppConfig::default()).await;
    }

    /// Starts validator `i` with a given application config (e.g. a Byzantine knob).
    async fn start_with(&mut self, i: usize, app: AppConfig) {
        assert!(self.handles[i].is_none());
        let mut cfg = self.node_config(i);
        cfg.app = app;
        let shared = self.shared[i].clone();
        let channels = self.channels(i).await;
        let provider = self.oracle.manager();
        let blocker = self.oracle.control(self.validators[i].clone());
        let handle = self
            .ctx
            .child("validator")
            .with_attribute("index", i)
            .spawn(move |ctx| async move {
                let engine = validator::start(ctx, cfg, shared, channels, provider, blocker).await;
                let _ = engine.await;
            });
        self.handles[i] = Some(handle);
    }

    /// Crashes validator `i`: aborts its task and, through the supervision tree, every
    /// component it started. Its storage partitions stay.
    async fn crash(&mut self, i: usize) {
        let handle = self.handles[i].take().expect("running");
        handle.abort();
        let _ = handle.await;
    }

    /// Validator `i` replaced by the simplex `Conflicter` mock (conflicting notarize/finalize).
    async fn start_conflicter(&mut self, i: usize) {
        let set = validator::validator_set(self.validators.clone());
        let scheme = Scheme::signer(b"weft-sim-consensus", set, self.keys[i].clone()).unwrap();
        let channels = self.channels(i).await;
        let engine: mocks::conflicter::Conflicter<_, _, Sha256> =
            mocks::conflicter::Conflicter::new(
                self.ctx.child("byzantine"),
                mocks::conflicter::Config { scheme },
            );
        self.handles[i] = Some(engine.start(channels.votes));
    }

    /// Validator `i` replaced by the simplex `Nuller` mock (nullify and finalize the same view).
    async fn start_nuller(&mut self, i: usize) {
        let set = validator::validator_set(self.validators.clone());
        let scheme = Scheme::signer(b"weft-sim-consensus", set, self.keys[i].clone()).unwrap();
        let channels = self.channels(i).await;
        let engine: mocks::nuller::Nuller<_, _, Sha256> = mocks::nuller::Nuller::new(
            self.ctx.child("byzantine"),
            mocks::nuller::Config { scheme },
        );
        self.handles[i] = Some(engine.start(channels.votes));
    }

    /// Validator `i` replaced by a node that sends random bytes of random sizes (up to the
    /// network's max message size) on every consensus channel, 20 times a second.
    async fn start_garbage(&mut self, i: usize) {
        let channels = self.channels(i).await;
        let max = validator::max_message_size(self.n() as u32, &BlockCfg::default()) as usize;
        let mut senders = vec![
            channels.votes.0,
            channels.certs.0,
            channels.simplex_resolver.0,
            channels.blocks.0,
            channels.backfill.0,
        ];
        let handle = self.ctx.child("garbage").spawn(move |mut ctx| async move {
            loop {
                for s in senders.iter_mut() {
                    let len = if ctx.next_u32() % 4 == 0 {
                        (ctx.next_u32() as usize % max).max(1)
                    } else {
                        (ctx.next_u32() % 256) as usize + 1
                    };
                    let mut buf = vec![0u8; len];
                    ctx.fill_bytes(&mut buf);
                    s.send(Recipients::All, Bytes::from(buf), false);
                }
                ctx.sleep(Duration::from_millis(50)).await;
            }
        });
        self.handles[i] = Some(handle);
    }

    /// Client load: `k` new transactions into every mempool (stands in for tx gossip).
    fn submit(&mut self, k: usize) {
        for _ in 0..k {
            let tx = Bytes::from(format!("tx-{:08}", self.next_tx));
            self.next_tx += 1;
            for s in &self.shared {
                s.mempool.submit(tx.clone());
            }
            self.submitted.push(tx);
        }
    }

    fn height(&self, i: usize) -> u64 {
        self.shared[i].log.height()
    }

    /// Sleeps in 100 ms steps, submitting `per_tick` txs each step, until `done` or `limit`.
    async fn run_until(
        &mut self,
        per_tick: usize,
        limit: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> bool {
        let start = self.ctx.current();
        loop {
            if done(self) {
                return true;
            }
            if self.ctx.current().duration_since(start).unwrap() > limit {
                return false;
            }
            self.submit(per_tick);
            self.ctx.sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every pair of the given nodes agrees on digest and state root at every common height,
    /// and each log is contiguous from genesis.
    fn assert_agree(&self, nodes: &[usize]) {
        for &i in nodes {
            let chain = self.shared[i].log.chain();
            for (k, (h, _, _)) in chain.iter().enumerate() {
                assert_eq!(*h, k as u64, "node {i} log has a gap");
            }
        }
        for &i in nodes {
            for &j in nodes {
                let a = self.shared[i].log.chain();
                let b = self.shared[j].log.chain();
                for (x, y) in a.iter().zip(b.iter()) {
                    assert_eq!(x, y, "nodes {i} and {j} diverge");
                }
            }
        }
    }

    /// Every transaction submitted so far was committed on node `i`.
    fn assert_all_committed(&self, i: usize) {
        let committed = self.committed_txs(i);
        for tx in &self.submitted {
            assert!(committed.contains(tx), "tx {tx:?} lost on node {i}");
        }
    }

    fn committed_txs(&self, i: usize) -> BTreeSet<Bytes> {
        // The log keeps digests only; re-derive from the mempool invariant instead: a tx is
        // committed iff it left the mempool. Check both directions through the mempool.
        let pending = self.shared[i]
            .mempool
            .select(usize::MAX, &Default::default());
        self.submitted
            .iter()
            .filter(|t| !pending.contains(t))
            .cloned()
            .collect()
    }
}

async fn link_all(oracle: &mut Oracle<PublicKey, deterministic::Context>, nodes: &[PublicKey]) {
    for a in nodes {
        for b in nodes {
            if a != b {
                oracle.add_link(a.clone(), b.clone(), LINK).await.unwrap();
            }
        }
    }
}

fn runner(seed: u64, max_secs: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(max_secs))),
    )
}

/// The final state of a run, to compare across runs.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    auditor: String,
    chain: Vec<(u64, Digest, Digest)>,
}

fn all_online(seed: u64, n: u64, target: u64) -> Outcome {
    runner(seed, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), n).await;
        for i in 0..c.n() {
            c.start(i).await;
        }
        let t0 = ctx.current();
        let ok = c
            .run_until(20, Duration::from_secs(120), |c| {
                (0..c.n()).all(|i| c.height(i) >= target)
            })
            .await;
        assert!(
            ok,
            "no progress to {target}: {:?}",
            (0..c.n()).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        let secs = ctx.current().duration_since(t0).unwrap().as_secs_f64();
        let all: Vec<usize> = (0..c.n()).collect();
        c.assert_agree(&all);
        // Stop load, drain, and check nothing was lost.
        let ok = c
            .run_until(0, Duration::from_secs(60), |c| {
                (0..c.n()).all(|i| c.shared[i].mempool.is_empty())
            })
            .await;
        assert!(ok, "mempools did not drain");
        for i in 0..c.n() {
            c.assert_all_committed(i);
            let height = c.height(i);
            let log = c.shared[i].log.inner();
            // Heights without a certificate of their own are final through a descendant's.
            let with_cert = log
                .blocks
                .values()
                .filter(|b| b.finalization.is_some())
                .count();
            println!(
                "node {i}: height {height} txs {} with_cert {with_cert} redeliveries {}",
                log.committed_txs, log.redeliveries
            );
        }
        c.assert_agree(&all);
        let h = c.height(0);
        let txs = c.shared[0].log.inner().committed_txs;
        println!(
            "simulated: {target} blocks in {secs:.1}s = {:.1} blocks/s; {txs} txs over {h} blocks",
            target as f64 / secs
        );
        let min = (0..c.n()).map(|i| c.height(i)).min().unwrap();
        Outcome {
            auditor: ctx.auditor().state(),
            chain: c.shared[0]
                .log
                .chain()
                .into_iter()
                .take(min as usize + 1)
                .collect(),
        }
    })
}

/// (a) 4 validators commit; identical digests and state roots at every height; no tx lost.
#[test]
fn a_four_validators_agree() {
    let out = all_online(1, 4, 30);
    assert!(out.chain.len() > 30);
}

/// One validator: the same path (simplex + marshal + committer) with a quorum of one.
#[test]
fn single_validator_same_path() {
    let out = all_online(2, 1, 20);
    assert!(out.chain.len() > 20);
}

/// (f) The same seed twice gives the same auditor state and the same chain; another seed
/// gives another execution.
#[test]
fn f_determinism() {
    let a = all_online(7, 4, 10);
    let b = all_online(7, 4, 10);
    assert_eq!(a, b);
    let c = all_online(8, 4, 10);
    assert_ne!(a.auditor, c.auditor);
}

/// (b) One of 4 crashes; the others go on; it restarts on its storage, backfills and agrees.
#[test]
fn b_crash_restart_catch_up() {
    runner(3, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        assert!(
            c.run_until(10, Duration::from_secs(60), |c| c.height(3) >= 5)
                .await
        );
        c.crash(3).await;
        let at_crash = c.height(3);
        // The other three keep finalizing without it.
        assert!(
            c.run_until(10, Duration::from_secs(120), |c| c.height(0)
                >= at_crash + 20)
                .await
        );
        assert_eq!(c.height(3), at_crash, "a crashed node does not commit");
        c.start(3).await;
        let target = c.height(0) + 5;
        assert!(
            c.run_until(10, Duration::from_secs(120), |c| c.height(3) >= target)
                .await,
            "restarted node did not catch up: {} < {target}",
            c.height(3)
        );
        c.assert_agree(&[0, 1, 2, 3]);
        assert!(
            c.run_until(0, Duration::from_secs(60), |c| c.shared[3]
                .mempool
                .is_empty())
                .await
        );
        c.assert_all_committed(3);
        println!(
            "node 3: crashed at {at_crash}, caught up to {}, redeliveries {}",
            c.height(3),
            c.shared[3].log.inner().redeliveries
        );
    });
}

/// (c) Two of 4 down: no progress and no divergence; one returns: progress resumes and every
/// transaction submitted (acknowledged into a mempool) is committed.
#[test]
fn c_two_down_then_one_back() {
    runner(4, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        assert!(
            c.run_until(10, Duration::from_secs(60), |c| c.height(0) >= 5)
                .await
        );
        c.crash(2).await;
        c.crash(3).await;
        // Let in-flight finalizations land, then watch for 30 s: nothing may be committed.
        c.run_until(10, Duration::from_secs(5), |_| false).await;
        let stalled = [c.height(0), c.height(1)];
        c.run_until(10, Duration::from_secs(30), |_| false).await;
        assert_eq!(
            [c.height(0), c.height(1)],
            stalled,
            "progress without a quorum"
        );
        c.assert_agree(&[0, 1]);
        let nullified = c.shared[0].evidence.inner().nullified_views.len();
        println!("stalled at {stalled:?}; node 0 saw {nullified} nullifications before");
        c.start(2).await;
        let target = stalled[0] + 10;
        assert!(
            c.run_until(10, Duration::from_secs(180), |c| [0, 1, 2]
                .iter()
                .all(|&i| c.height(i) >= target))
                .await,
            "progress did not resume: {:?}",
            (0..3).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        c.assert_agree(&[0, 1, 2]);
        assert!(
            c.run_until(0, Duration::from_secs(120), |c| [0, 1, 2]
                .iter()
                .all(|&i| c.shared[i].mempool.is_empty()))
                .await
        );
        for i in 0..3 {
            c.assert_all_committed(i);
        }
    });
}

fn byzantine(seed: u64, conflicter: bool) {
    runner(seed, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        if conflicter {
            c.start_conflicter(0).await;
        } else {
            c.start_nuller(0).await;
        }
        for i in 1..4 {
            c.start(i).await;
        }
        let ok = c
            .run_until(10, Duration::from_secs(180), |c| {
                (1..4).all(|i| c.height(i) >= 20)
            })
            .await;
        assert!(
            ok,
            "honest nodes stalled: {:?}",
            (1..4).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        c.assert_agree(&[1, 2, 3]);
        let byz = c.validators[0].clone();
        let mut kinds = BTreeSet::new();
        for i in 1..4 {
            let ev = c.shared[i].evidence.inner();
            for f in &ev.faults {
                assert_eq!(f.offender, byz, "an honest node was accused");
                assert!(!f.proof.is_empty());
                kinds.insert(f.kind);
            }
        }
        println!("evidence kinds against the Byzantine node: {kinds:?}");
        assert!(!kinds.is_empty(), "no evidence recorded");
        let blocked = c.oracle.blocked().await.unwrap();
        assert!(blocked.iter().all(|(_, b)| *b == byz));
        println!("blocked pairs: {}", blocked.len());
    });
}

/// (d) A conflicting voter (conflicting notarize/finalize): no divergence, evidence recorded.
#[test]
fn d_byzantine_conflicter() {
    byzantine(5, true);
}

/// (d) A nuller (nullify + finalize in one view): no divergence, evidence recorded.
#[test]
fn d_byzantine_nuller() {
    byzantine(6, false);
}

/// (d) A validator that proposes blocks with a wrong state root: honest nodes refuse them
/// (recorded), its views are nullified, no block of it is committed, and no divergence.
#[test]
fn d_byzantine_invalid_blocks() {
    runner(12, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        let bad = AppConfig {
            byzantine_bad_state_root: true,
            ..AppConfig::default()
        };
        c.start_with(0, bad).await;
        for i in 1..4 {
            c.start(i).await;
        }
        let ok = c
            .run_until(10, Duration::from_secs(300), |c| {
                (1..4).all(|i| c.height(i) >= 20)
            })
            .await;
        assert!(
            ok,
            "honest nodes stalled: {:?}",
            (1..4).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        c.assert_agree(&[0, 1, 2, 3]);
        let byz = c.validators[0].clone();
        for i in 0..4 {
            let log = c.shared[i].log.inner();
            // Height 0 is genesis (its nominal proposer is the first key); skip it.
            assert!(
                log.blocks.range(1..).all(|(_, b)| b.proposer != byz),
                "a block of the Byzantine proposer was committed on {i}"
            );
        }
        let mut refused = 0;
        for i in 1..4 {
            let ev = c.shared[i].evidence.inner();
            assert!(
                ev.invalid_blocks
                    .iter()
                    .all(|(leader, _, _)| *leader == byz)
            );
            refused += ev.invalid_blocks.len();
        }
        let nullified = c.shared[1].evidence.inner().nullified_views.len();
        println!("refused {refused} invalid proposals; node 1 saw {nullified} nullified views");
        assert!(refused > 0);
    });
}

/// (d) A peer sending garbage and large random messages on every channel: no crash, no
/// divergence, progress.
#[test]
fn d_garbage_sender() {
    runner(13, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        c.start_garbage(0).await;
        for i in 1..4 {
            c.start(i).await;
        }
        let ok = c
            .run_until(10, Duration::from_secs(300), |c| {
                (1..4).all(|i| c.height(i) >= 20)
            })
            .await;
        assert!(
            ok,
            "honest nodes stalled: {:?}",
            (1..4).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        c.assert_agree(&[1, 2, 3]);
        let blocked = c.oracle.blocked().await.unwrap();
        let byz = c.validators[0].clone();
        assert!(
            blocked.iter().all(|(_, b)| *b == byz),
            "an honest peer was blocked"
        );
        println!("{} honest nodes blocked the garbage sender", blocked.len());
    });
}

/// (e) Partition {0,1} | {2,3}: neither side has a quorum; heal: progress, no divergence.
#[test]
fn e_partition_heals() {
    runner(9, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        assert!(
            c.run_until(10, Duration::from_secs(60), |c| (0..4)
                .all(|i| c.height(i) >= 5))
                .await
        );
        let v = c.validators.clone();
        for a in 0..4 {
            for b in 0..4 {
                if a != b && (a < 2) != (b < 2) {
                    c.oracle
                        .remove_link(v[a].clone(), v[b].clone())
                        .await
                        .unwrap();
                }
            }
        }
        c.run_until(10, Duration::from_secs(5), |_| false).await;
        let split: Vec<u64> = (0..4).map(|i| c.height(i)).collect();
        c.run_until(10, Duration::from_secs(30), |_| false).await;
        assert_eq!(
            (0..4).map(|i| c.height(i)).collect::<Vec<_>>(),
            split,
            "progress without quorum"
        );
        c.assert_agree(&[0, 1, 2, 3]);
        for a in 0..4 {
            for b in 0..4 {
                if a != b && (a < 2) != (b < 2) {
                    c.oracle
                        .add_link(v[a].clone(), v[b].clone(), LINK)
                        .await
                        .unwrap();
                }
            }
        }
        let target = split.iter().max().unwrap() + 10;
        assert!(
            c.run_until(10, Duration::from_secs(300), |c| (0..4)
                .all(|i| c.height(i) >= target))
                .await,
            "no progress after heal: {:?}",
            (0..4).map(|i| c.height(i)).collect::<Vec<_>>()
        );
        c.assert_agree(&[0, 1, 2, 3]);
        println!("partition at {split:?}, healed to {target}");
    });
}

/// Finalization certificates stored on the commit path verify offline with a verifier-only
/// scheme (what `weft verify` would do with the genesis validator set).
#[test]
fn certificates_verify_offline() {
    runner(11, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        assert!(
            c.run_until(5, Duration::from_secs(60), |c| c.height(0) >= 10)
                .await
        );
        let set = validator::validator_set(c.validators.clone());
        let verifier = Scheme::verifier(b"weft-sim-consensus", set);
        let log = c.shared[0].log.inner();
        let mut checked = 0;
        let mut rng = ctx.child("rng");
        for (h, b) in &log.blocks {
            if let Some(f) = &b.finalization {
                assert_eq!(f.proposal.payload, b.digest);
                assert!(
                    f.verify(&mut rng, &verifier, &commonware_parallel::Sequential),
                    "cert {h}"
                );
                checked += 1;
                // A certificate under another namespace must not verify.
                let wrong = Scheme::verifier(
                    b"other-chain",
                    validator::validator_set(c.validators.clone()),
                );
                assert!(!f.verify(&mut rng, &wrong, &commonware_parallel::Sequential));
            }
        }
        println!(
            "verified {checked} of {} certificates offline",
            log.blocks.len() - 1
        );
        assert!(checked > 0);
    });
}

/// Under saturating load the cluster keeps committing full blocks and agrees. Also prints the
/// throughput (run with `--nocapture`): blocks/s and tx/s in simulated time (consensus latency
/// with 20 ms links) and in wall-clock time (CPU cost of the 4-node cluster on one thread).
#[test]
fn saturating_load_commits_and_agrees() {
    let wall = std::time::Instant::now();
    runner(21, 3600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        assert!(c.run_until(1000, Duration::from_secs(60), |c| c.height(0) >= 3).await);
        let (h0, tx0, t0, w0) = (
            c.height(0),
            c.shared[0].log.inner().committed_txs,
            ctx.current(),
            std::time::Instant::now(),
        );
        assert!(c.run_until(1000, Duration::from_secs(600), |c| c.height(0) >= h0 + 20).await);
        let secs = ctx.current().duration_since(t0).unwrap().as_secs_f64();
        let wsecs = w0.elapsed().as_secs_f64();
        let blocks = (c.height(0) - h0) as f64;
        let txs = (c.shared[0].log.inner().committed_txs - tx0) as f64;
        c.assert_agree(&[0, 1, 2, 3]);
        println!(
            "simulated time: {:.1} blocks/s, {:.0} tx/s; wall clock: {:.1} blocks/s, {:.0} tx/s ({blocks} blocks, {txs} txs)",
            blocks / secs,
            txs / secs,
            blocks / wsecs,
            txs / wsecs
        );
    });
    println!("total wall {:.1}s", wall.elapsed().as_secs_f64());
}
