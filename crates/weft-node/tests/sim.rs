//! Seeded simulations of a validator set: real nodes (stores, execution, mempool, the consensus
//! adapter) on the engine's deterministic runtime and simulated network, with crashes,
//! partitions and Byzantine peers from the engine's own mocks. Same seed, same run.

use std::{collections::BTreeMap, time::Duration};

use bytes::Bytes;
use commonware_consensus::simplex::mocks;
use commonware_cryptography::{Sha256, ed25519::PublicKey};
use commonware_p2p::{
    Recipients, Sender as _,
    simulated::{self, Link, Oracle},
    utils::mux::Muxer,
};
use commonware_runtime::{
    Clock, Handle, Quota, Runner as _, Spawner as _, Storage as _, Supervisor as _, deterministic,
};
use commonware_utils::{NZU32, NZUsize, probability};
use rand_core::Rng as _;
use weft_crypto::{Keypair, block_hash, sign_transaction};
use weft_node::{
    ConsensusConfig, Node, NodeConfig, TxLookup,
    consensus::{self, Channels, EngineParams, Scheme, block::BlockCfg},
};
use weft_types::{
    AccountId, Amount, Genesis, GenesisAccount, GenesisOrganization, GenesisToken,
    GenesisValidator, Hash, Name, Operation, Transaction, Transfer,
};

const QUOTA: Quota = Quota::per_second(NZU32!(8192));
const LINK: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(5),
    success_rate: probability!(1.0),
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

type Net = Oracle<PublicKey, deterministic::Context>;

struct Cluster {
    ctx: deterministic::Context,
    oracle: Net,
    keys: Vec<Keypair>,
    pks: Vec<PublicKey>,
    genesis: Genesis,
    dirs: Vec<tempfile::TempDir>,
    nodes: Vec<Option<Node>>,
    handles: Vec<Option<Handle<()>>>,
    users: Vec<Keypair>,
    nonces: Vec<u64>,
    submitted: Vec<Hash>,
}

fn genesis(validators: &[Keypair], users: &[Keypair]) -> Genesis {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(name("member"), vec!["token.transfer".to_owned()]);
    let mut accounts: Vec<GenesisAccount> = validators
        .iter()
        .map(|k| GenesisAccount {
            account: k.account(),
            organization: name("ops"),
            roles: vec![name("admin")],
        })
        .collect();
    accounts.extend(users.iter().map(|u| GenesisAccount {
        account: u.account(),
        organization: name("ops"),
        roles: vec![name("member")],
    }));
    Genesis {
        chain_id: name("sim-chain"),
        // The deterministic runtime's clock starts at the Unix epoch.
        genesis_time_ms: 1_000,
        validators: validators
            .iter()
            .map(|k| GenesisValidator {
                account: k.account(),
                organization: name("ops"),
            })
            .collect(),
        organizations: vec![GenesisOrganization {
            id: name("ops"),
            display_name: "Ops".into(),
        }],
        accounts,
        roles,
        tokens: vec![GenesisToken {
            symbol: name("t"),
            display_name: "T".into(),
            decimals: 0,
            issuer: validators[0].account(),
            max_supply: None,
            balances: users
                .iter()
                .map(|u| (u.account(), Amount(1_000_000)))
                .collect(),
        }],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}

fn public_key(account: &AccountId) -> PublicKey {
    consensus::public_key(account).unwrap()
}

impl Cluster {
    async fn new(ctx: deterministic::Context, n: usize) -> Self {
        Self::with_set(ctx, n, n, weft_types::DEFAULT_EPOCH_LENGTH).await
    }

    /// `n` nodes of which the first `validators` form the genesis set (every node's key is an
    /// admin account), with epochs of `epoch_length` blocks.
    async fn with_set(
        ctx: deterministic::Context,
        n: usize,
        validators: usize,
        epoch_length: u64,
    ) -> Self {
        let keys: Vec<Keypair> = (0..n)
            .map(|i| Keypair::from_seed([i as u8 + 1; 32]))
            .collect();
        let users: Vec<Keypair> = (0..4).map(|i| Keypair::from_seed([100 + i; 32])).collect();
        let pks: Vec<PublicKey> = keys.iter().map(|k| public_key(&k.account())).collect();
        let max_size = consensus::max_message_size(n as u32, &BlockCfg::default());
        let (network, oracle) = simulated::Network::new_with_peers(
            ctx.child("network"),
            simulated::Config {
                max_size,
                max_peers_per_set: NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            pks.clone(),
        )
        .await;
        network.start();
        for a in &pks {
            for b in &pks {
                if a != b {
                    oracle.add_link(a.clone(), b.clone(), LINK).await.unwrap();
                }
            }
        }
        let mut genesis = genesis(&keys, &users);
        genesis.validators.truncate(validators);
        genesis.epoch_length = epoch_length;
        Self {
            genesis,
            ctx,
            oracle,
            dirs: (0..n).map(|_| tempfile::tempdir().unwrap()).collect(),
            nodes: (0..n).map(|_| None).collect(),
            handles: (0..n).map(|_| None).collect(),
            nonces: vec![0; users.len()],
            keys,
            pks,
            users,
            submitted: Vec::new(),
        }
    }

    fn n(&self) -> usize {
        self.keys.len()
    }

    fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("node is running")
    }

    async fn channels(
        &self,
        i: usize,
    ) -> Channels<
        simulated::Sender<PublicKey, deterministic::Context>,
        simulated::Receiver<PublicKey>,
    > {
        let control = self.oracle.control(self.pks[i].clone());
        Channels {
            votes: control.register(consensus::CH_VOTES, QUOTA).await.unwrap(),
            certificates: control
                .register(consensus::CH_CERTIFICATES, QUOTA)
                .await
                .unwrap(),
            simplex_resolver: control
                .register(consensus::CH_SIMPLEX_RESOLVER, QUOTA)
                .await
                .unwrap(),
            blocks: control.register(consensus::CH_BLOCKS, QUOTA).await.unwrap(),
            backfill: control
                .register(consensus::CH_BACKFILL, QUOTA)
                .await
                .unwrap(),
            txs: control.register(consensus::CH_TXS, QUOTA).await.unwrap(),
        }
    }

    /// Opens validator `i`'s node on its data dir (reopening it after a crash) and starts its
    /// engine.
    async fn start(&mut self, i: usize) {
        self.start_with(i, false).await;
    }

    /// Starts every node and waits until a first transaction is committed on all of them.
    async fn start_all_and_commit_one(&mut self) {
        for i in 0..self.n() {
            self.start(i).await;
        }
        let first = self.submit(0);
        self.run_until("first commit", 120, |c| {
            (0..c.n()).all(|i| c.committed(i, &first))
        })
        .await;
    }

    /// Starts validator `i`, lying about its proposals' state roots when `byzantine`.
    async fn start_with(&mut self, i: usize, byzantine: bool) {
        assert!(self.handles[i].is_none());
        let mut config = NodeConfig::new(self.dirs[i].path(), self.genesis.clone());
        config.validator_key = Some(self.keys[i].clone());
        config.run_engine = false;
        let node = Node::start(config).unwrap();
        let params = EngineParams {
            signer: consensus::private_key_of(&self.keys[i]).unwrap(),
            cfg: {
                let mut cfg = ConsensusConfig {
                    view_retention: 64,
                    ..ConsensusConfig::default()
                };
                cfg.app.lie_about_state_roots = byzantine;
                cfg
            },
            partition_prefix: format!("v{i}-"),
        };
        let channels = self.channels(i).await;
        let provider = self.oracle.manager();
        let blocker = self.oracle.control(self.pks[i].clone());
        let engine_node = node.clone();
        let handle = self
            .ctx
            .child("validator")
            .with_attribute("index", i)
            .spawn(move |ctx| async move {
                let (engine, status) =
                    consensus::start(ctx, &engine_node, params, channels, provider, blocker)
                        .await
                        .unwrap();
                engine_node.set_consensus(status);
                let _ = engine.await;
            });
        self.nodes[i] = Some(node);
        self.handles[i] = Some(handle);
    }

    /// Crashes validator `i`: every engine task is aborted and its node dropped; what is on
    /// disk (the store, the engine's journals) stays.
    async fn crash(&mut self, i: usize) {
        let handle = self.handles[i].take().expect("running");
        handle.abort();
        let _ = handle.await;
        if let Some(node) = self.nodes[i].take() {
            node.shutdown();
        }
        // Let aborted tasks release the store before it is reopened.
        self.ctx.sleep(Duration::from_millis(10)).await;
    }

    /// Submits one transfer from a user, round robin over users, to validator `via`.
    fn submit(&mut self, via: usize) -> Hash {
        self.try_submit(via).unwrap()
    }

    /// As [`Cluster::submit`], returning the refusal.
    fn try_submit(&mut self, via: usize) -> Result<Hash, weft_types::TxError> {
        let u = self.submitted.len() % self.users.len();
        let to = self.users[(u + 1) % self.users.len()].account();
        let tx = Transaction {
            chain_id: self.genesis.chain_id.clone(),
            signer: self.users[u].account(),
            nonce: self.nonces[u],
            expiry_height: 100_000,
            operations: vec![Operation::Transfer(Transfer {
                symbol: name("t"),
                to,
                amount: Amount(1),
            })],
            memo: String::new(),
        };
        let hash = self
            .node(via)
            .submit(sign_transaction(tx, &[&self.users[u]]))?;
        self.nonces[u] += 1;
        self.submitted.push(hash);
        Ok(hash)
    }

    /// A governance transaction setting the validators to `set` (node indices), signed by
    /// the admin keys of `approvers` (the first is the signer).
    fn set_validators(&self, set: &[usize], approvers: &[usize]) -> weft_types::SignedTransaction {
        let signer = &self.keys[approvers[0]];
        let snapshot = self.node(set[0]).chain().store().snapshot().unwrap();
        let tx = Transaction {
            chain_id: self.genesis.chain_id.clone(),
            signer: signer.account(),
            nonce: weft_execution::next_nonce(&snapshot, &signer.account()).unwrap(),
            expiry_height: 100_000,
            operations: vec![Operation::SetValidators(weft_types::SetValidators {
                validators: set.iter().map(|&i| self.keys[i].account()).collect(),
            })],
            memo: String::new(),
        };
        let keys: Vec<&Keypair> = approvers.iter().map(|&i| &self.keys[i]).collect();
        sign_transaction(tx, &keys)
    }

    fn epoch(&self, i: usize) -> consensus::EpochStatus {
        self.node(i).consensus().expect("engine status").epoch()
    }

    /// The users' next nonces as committed on the most advanced validator (after a crash lost
    /// what was pending).
    fn resync_nonces(&mut self) {
        let snapshot = self
            .node(self.highest())
            .chain()
            .store()
            .snapshot()
            .unwrap();
        for (u, user) in self.users.iter().enumerate() {
            self.nonces[u] = weft_execution::next_nonce(&snapshot, &user.account()).unwrap();
        }
    }

    /// The validator with the highest committed height.
    fn highest(&self) -> usize {
        (0..self.n()).max_by_key(|&i| self.height(i)).unwrap()
    }

    fn height(&self, i: usize) -> u64 {
        self.node(i).chain().head().unwrap().height
    }

    async fn run_until(&self, what: &str, secs: u64, mut done: impl FnMut(&Self) -> bool) {
        let deadline = self.ctx.current() + Duration::from_secs(secs);
        while !done(self) {
            assert!(
                self.ctx.current() < deadline,
                "{what}: not reached within {secs} simulated seconds"
            );
            self.ctx.sleep(Duration::from_millis(100)).await;
        }
    }

    fn committed(&self, i: usize, hash: &Hash) -> bool {
        matches!(
            self.node(i).lookup(hash).unwrap(),
            TxLookup::Committed { .. }
        )
    }

    /// Every pair of the given nodes has the same block hash and state root at every height
    /// both have.
    fn assert_agree(&self, nodes: &[usize]) -> u64 {
        let common = nodes.iter().map(|&i| self.height(i)).min().unwrap();
        for h in 0..=common {
            let mut seen = None;
            for &i in nodes {
                let b = self.node(i).chain().store().block(h).unwrap().unwrap();
                let id = (block_hash(&b.header), b.header.state_root);
                if let Some(prev) = seen {
                    assert_eq!(prev, id, "node {i} diverges at height {h}");
                }
                seen = Some(id);
            }
        }
        common
    }

    fn chain(&self, i: usize, up_to: u64) -> Vec<(Hash, Hash)> {
        (0..=up_to)
            .map(|h| {
                let b = self.node(i).chain().store().block(h).unwrap().unwrap();
                (block_hash(&b.header), b.header.state_root)
            })
            .collect()
    }

    fn faults_against(&self, i: usize, j: usize) -> Vec<String> {
        let offender = hex::encode(self.keys[j].account().0);
        self.node(i)
            .consensus()
            .expect("engine status")
            .evidence
            .faults()
            .into_iter()
            .filter(|f| f.offender == offender)
            .map(|f| f.kind)
            .collect()
    }

    fn blocked_by_all(&self) -> impl std::future::Future<Output = Vec<(PublicKey, PublicKey)>> {
        let oracle = self.oracle.clone();
        async move { oracle.blocked().await.unwrap() }
    }
}

fn runner(seed: u64, secs: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(secs))),
    )
}

/// Four validators, transactions through every node: all commit, every node holds the same
/// chain, and each certificate verifies with Weft's offline verifier.
fn all_online(seed: u64, n: usize, txs: usize) -> (Vec<(Hash, Hash)>, String) {
    runner(seed, 600).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), n).await;
        for i in 0..n {
            c.start(i).await;
        }
        let mut hashes = Vec::new();
        for k in 0..txs {
            hashes.push(c.submit(k % n));
            if k % 10 == 9 {
                ctx.sleep(Duration::from_millis(50)).await;
            }
        }
        c.run_until("every transaction committed everywhere", 300, |c| {
            (0..c.n()).all(|i| hashes.iter().all(|h| c.committed(i, h)))
        })
        .await;
        let common = c.assert_agree(&(0..n).collect::<Vec<_>>());
        assert!(common >= 1, "no block");
        let validators: Vec<AccountId> = c.keys.iter().map(Keypair::account).collect();
        for h in 1..=common {
            let store = c.node(0).chain().store();
            let block = store.block(h).unwrap().unwrap();
            if let Some(fin) = store.finalization(h).unwrap() {
                weft_crypto::verify_finalization(
                    &fin,
                    &c.genesis.chain_id,
                    &block_hash(&block.header),
                    &validators,
                )
                .unwrap();
            }
        }
        let chain = c.chain(0, common.min(8));
        (chain, ctx.auditor().state())
    })
}

#[test]
fn four_validators_commit_and_agree() {
    all_online(1, 4, 40);
}

#[test]
fn one_validator_runs_the_same_engine_path() {
    all_online(2, 1, 10);
}

#[test]
fn the_same_seed_replays_the_same_chain() {
    let (a, audit_a) = all_online(7, 4, 20);
    let (b, audit_b) = all_online(7, 4, 20);
    assert_eq!(a, b, "same seed, different chain");
    assert_eq!(audit_a, audit_b, "same seed, different execution");
}

/// One of four crashes; the others go on; it restarts on its data dir, catches up and agrees.
#[test]
fn a_crashed_validator_restarts_and_catches_up() {
    runner(3, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut early = Vec::new();
        for k in 0..8 {
            early.push(c.submit(k % 4));
        }
        c.run_until("early transactions committed", 120, |c| {
            early.iter().all(|h| c.committed(3, h))
        })
        .await;
        c.crash(3).await;
        let at_crash = c.height(0);
        let mut late = Vec::new();
        for k in 0..12 {
            late.push(c.submit(k % 3));
        }
        c.run_until("progress without validator 3", 300, |c| {
            late.iter().all(|h| c.committed(0, h))
        })
        .await;
        assert!(c.height(0) > at_crash);
        c.start(3).await;
        let target = c.height(0);
        c.run_until("validator 3 caught up", 300, |c| c.height(3) >= target)
            .await;
        c.assert_agree(&[0, 1, 2, 3]);
        assert!(late.iter().all(|h| c.committed(3, h)));
    });
}

/// Two of four down: no progress and no divergence; one back: progress resumes and no
/// admitted transaction is lost.
#[test]
fn two_down_halts_then_one_back_resumes_without_loss() {
    runner(4, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        c.start_all_and_commit_one().await;
        c.crash(2).await;
        c.crash(3).await;
        ctx.sleep(Duration::from_secs(5)).await;
        let stalled = c.height(0);
        let pending = c.submit(0);
        ctx.sleep(Duration::from_secs(30)).await;
        assert_eq!(c.height(0), stalled, "progressed without a quorum");
        assert_eq!(c.height(1), stalled, "progressed without a quorum");
        assert!(!c.committed(0, &pending) && !c.committed(1, &pending));
        c.assert_agree(&[0, 1]);
        c.start(2).await;
        c.run_until("progress with a quorum again", 300, |c| {
            c.committed(0, &pending) && c.committed(1, &pending) && c.committed(2, &pending)
        })
        .await;
        c.assert_agree(&[0, 1, 2]);
        let all = c.submitted.clone();
        assert!(
            all.iter().all(|h| c.committed(0, h)),
            "a transaction was lost"
        );
    });
}

/// A Byzantine validator from the engine's mocks: honest nodes agree, progress, and record
/// signed evidence against that key only.
fn byzantine(seed: u64, conflicter: bool) {
    runner(seed, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 1..4 {
            c.start(i).await;
        }
        let namespace = weft_crypto::consensus_namespace(&c.genesis.chain_id);
        let set = consensus::ordered_set(&c.keys.iter().map(Keypair::account).collect::<Vec<_>>())
            .unwrap();
        let scheme = Scheme::signer(
            &namespace,
            set,
            consensus::private_key_of(&c.keys[0]).unwrap(),
        )
        .unwrap();
        // Consensus traffic is multiplexed by epoch: the mock speaks on epoch 0's subchannel.
        let votes = {
            let channels = c.channels(0).await;
            let (mux, mut handle) = Muxer::new(
                ctx.child("byzantine_mux"),
                channels.votes.0,
                channels.votes.1,
            );
            mux.start();
            handle.register(0).await.unwrap()
        };
        c.handles[0] = Some(if conflicter {
            let engine: mocks::conflicter::Conflicter<_, _, Sha256> =
                mocks::conflicter::Conflicter::new(
                    ctx.child("byzantine"),
                    mocks::conflicter::Config { scheme },
                );
            engine.start(votes)
        } else {
            let engine: mocks::nuller::Nuller<_, _, Sha256> = mocks::nuller::Nuller::new(
                ctx.child("byzantine"),
                mocks::nuller::Config { scheme },
            );
            engine.start(votes)
        });
        let mut txs = Vec::new();
        for k in 0..12 {
            txs.push(c.submit(1 + k % 3));
        }
        c.run_until("honest progress", 600, |c| {
            (1..4).all(|i| txs.iter().all(|h| c.committed(i, h)))
        })
        .await;
        c.assert_agree(&[1, 2, 3]);
        let kind = if conflicter {
            "conflicting_notarize"
        } else {
            "nullify_finalize"
        };
        c.run_until("evidence recorded", 120, |c| {
            (1..4).any(|i| c.faults_against(i, 0).iter().any(|k| k == kind))
        })
        .await;
        for i in 1..4 {
            for j in 1..4 {
                assert!(
                    c.faults_against(i, j).is_empty(),
                    "evidence against honest {j}"
                );
            }
        }
    });
}

#[test]
fn an_equivocating_validator_is_caught_and_changes_nothing() {
    byzantine(5, true);
}

#[test]
fn a_validator_that_nullifies_and_finalizes_is_caught() {
    byzantine(6, false);
}

/// A peer that sends random bytes of random sizes, up to the network's limit, on every
/// channel: no crash, progress, agreement, and the honest nodes block it.
#[test]
fn garbage_from_a_peer_is_refused_and_the_peer_blocked() {
    runner(8, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        for i in 1..4 {
            c.start(i).await;
        }
        let channels = c.channels(0).await;
        let max = consensus::max_message_size(4, &BlockCfg::default()) as usize;
        let mut senders = vec![
            channels.votes.0,
            channels.certificates.0,
            channels.simplex_resolver.0,
            channels.blocks.0,
            channels.backfill.0,
            channels.txs.0,
        ];
        c.handles[0] = Some(ctx.child("garbage").spawn(move |mut ctx| async move {
            loop {
                for s in &mut senders {
                    let len = if ctx.next_u32() % 8 == 0 {
                        (ctx.next_u32() as usize % max).max(1)
                    } else {
                        (ctx.next_u32() % 512) as usize + 1
                    };
                    let mut buf = vec![0u8; len];
                    ctx.fill_bytes(&mut buf);
                    let _ = s.send(Recipients::All, Bytes::from(buf), false);
                }
                ctx.sleep(Duration::from_millis(50)).await;
            }
        }));
        let mut txs = Vec::new();
        for k in 0..9 {
            txs.push(c.submit(1 + k % 3));
        }
        c.run_until("honest progress", 600, |c| {
            (1..4).all(|i| txs.iter().all(|h| c.committed(i, h)))
        })
        .await;
        c.assert_agree(&[1, 2, 3]);
        let blocked = c.blocked_by_all().await;
        let garbage = &c.pks[0];
        assert!(
            blocked.iter().any(|(_, b)| b == garbage),
            "nobody blocked the garbage sender"
        );
        assert!(
            blocked.iter().all(|(_, b)| b == garbage),
            "an honest node was blocked"
        );
    });
}

/// {0,1} | {2,3}: no quorum on either side, so no progress and no divergence; healed, the
/// chain moves on and all four agree.
#[test]
fn a_partition_heals_without_divergence() {
    runner(9, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        c.start_all_and_commit_one().await;
        let sides = [(0usize, 2usize), (0, 3), (1, 2), (1, 3)];
        for (a, b) in sides {
            c.oracle
                .remove_link(c.pks[a].clone(), c.pks[b].clone())
                .await
                .unwrap();
            c.oracle
                .remove_link(c.pks[b].clone(), c.pks[a].clone())
                .await
                .unwrap();
        }
        ctx.sleep(Duration::from_secs(5)).await;
        let cut = (0..4).map(|i| c.height(i)).max().unwrap();
        let pending = c.submit(1);
        ctx.sleep(Duration::from_secs(30)).await;
        assert!(
            (0..4).all(|i| c.height(i) <= cut),
            "a minority made progress"
        );
        assert!(
            (0..4).all(|i| !c.committed(i, &pending)),
            "committed without a quorum"
        );
        c.assert_agree(&[0, 1, 2, 3]);
        for (a, b) in sides {
            c.oracle
                .add_link(c.pks[a].clone(), c.pks[b].clone(), LINK)
                .await
                .unwrap();
            c.oracle
                .add_link(c.pks[b].clone(), c.pks[a].clone(), LINK)
                .await
                .unwrap();
        }
        c.run_until("healed", 600, |c| (0..4).all(|i| c.committed(i, &pending)))
            .await;
        c.assert_agree(&[0, 1, 2, 3]);
    });
}

/// A validator whose proposals carry a wrong state root: the honest three refuse every one
/// (recorded as `invalid_block` evidence against it), its views change, none of its blocks is
/// committed, and the chain moves on through the honest leaders.
#[test]
fn a_proposer_of_invalid_blocks_is_refused_and_recorded() {
    runner(10, 900).start(|ctx| async move {
        let mut c = Cluster::new(ctx.child("cluster"), 4).await;
        c.start_with(0, true).await;
        for i in 1..4 {
            c.start(i).await;
        }
        let mut txs = Vec::new();
        for round in 0..6 {
            for via in 0..4 {
                txs.push(c.submit(via));
            }
            ctx.sleep(Duration::from_secs(1 + round)).await;
        }
        c.run_until("honest progress", 600, |c| {
            (1..4).all(|i| txs.iter().all(|h| c.committed(i, h)))
        })
        .await;
        let top = c.assert_agree(&[0, 1, 2, 3]);
        let liar = c.keys[0].account();
        for h in 1..=top {
            let block = c.node(1).chain().store().block(h).unwrap().unwrap();
            assert_ne!(
                block.header.proposer, liar,
                "a forged block was committed at {h}"
            );
        }
        c.run_until("evidence recorded", 120, |c| {
            (1..4).any(|i| c.faults_against(i, 0).iter().any(|k| k == "invalid_block"))
        })
        .await;
        for i in 1..4 {
            for j in 1..4 {
                assert!(
                    c.faults_against(i, j).is_empty(),
                    "evidence against honest {j}"
                );
            }
        }
    });
}

/// Every validator crashes at once, mid-load, five times, at moments the seed picks (between
/// a notarization and its finalization among them): each time all restart from their data
/// dirs and the chain keeps growing, with every admitted transaction committed in the end
/// and all four in agreement.
#[test]
fn the_whole_set_crashing_mid_block_recovers_every_time() {
    whole_set_crashes(11, weft_types::DEFAULT_EPOCH_LENGTH, 5);
}

/// With four-block epochs the crashes land before, at and after epoch boundaries: mid-switch
/// from one engine to the next, every node restarts into the right epoch.
#[test]
fn the_whole_set_crashing_around_epoch_boundaries_recovers_every_time() {
    whole_set_crashes(13, 4, 8);
}

fn whole_set_crashes(seed: u64, epoch_length: u64, rounds: usize) {
    runner(seed, 3600).start(|mut ctx| async move {
        let mut c = Cluster::with_set(ctx.child("cluster"), 4, 4, epoch_length).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut committed_before = 0;
        for round in 0..rounds {
            let mut load = Vec::new(); // in flight when the set crashes
            for _ in 0..8 {
                // Blocks certified before the last crash may land late and move nonces.
                loop {
                    match c.try_submit(c.highest()) {
                        Ok(hash) => break load.push(hash),
                        Err(e) if e.code == weft_types::ErrorCode::ReplayedNonce => {
                            c.resync_nonces();
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            // Crash somewhere inside the next blocks' consensus rounds.
            let delay = 20 + u64::from(ctx.next_u32() % 400);
            ctx.sleep(Duration::from_millis(delay)).await;
            for i in 0..4 {
                c.crash(i).await;
            }
            for i in 0..4 {
                c.start(i).await;
            }
            // Mempools are not durable: what was only pending is gone. Continue from the
            // committed nonces, and the chain must move again.
            // (An idle chain grows no blocks, so a validator that missed the last certificate
            // before the crash learns of it from the next block: the probe below.)
            let probe = loop {
                // Blocks certified before the crash may still land: retry on a moved nonce.
                c.resync_nonces();
                let via = c.highest();
                match c.try_submit(via) {
                    Ok(hash) => break hash,
                    Err(e) if e.code == weft_types::ErrorCode::ReplayedNonce => {
                        ctx.sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            };
            c.run_until(&format!("round {round}: the chain moves again"), 300, |c| {
                (0..4).all(|i| c.committed(i, &probe))
            })
            .await;
            assert!(c.height(0) > committed_before);
            committed_before = c.height(0);
        }
        let last = c.submit(0);
        c.run_until("a final transaction commits everywhere", 300, |c| {
            (0..4).all(|i| c.committed(i, &last))
        })
        .await;
        c.assert_agree(&[0, 1, 2, 3]);
        let (epoch, _) = consensus::epoch::epoch_after(c.height(0), epoch_length);
        c.run_until("every node in the head's epoch", 60, |c| {
            (0..4).all(|i| c.epoch(i).epoch == epoch)
        })
        .await;
        if epoch_length <= 4 {
            assert!(epoch >= 2, "the crashes never met an epoch boundary");
        }
    });
}

/// Governance replaces validator 0 by node 4: a change approved by too few admins is refused,
/// one approved by a majority of them lands at the epoch's last block; node 4, a follower
/// until then, votes from the next epoch (with 0 and 1 down, no quorum forms without it), and
/// every certificate verifies against the set in force after its parent block.
#[test]
fn a_governance_change_swaps_a_validator_at_the_epoch_boundary() {
    runner(11, 1200).start(|ctx| async move {
        let mut c = Cluster::with_set(ctx.child("cluster"), 5, 4, 8).await;
        for i in 0..5 {
            c.start(i).await;
        }
        let first: Vec<Hash> = (0..6).map(|k| c.submit(k % 4)).collect();
        c.run_until("the follower has synced", 300, |c| {
            (0..5).all(|i| first.iter().all(|h| c.committed(i, h)))
        })
        .await;
        assert!(!c.epoch(4).voting, "node 4 is not a validator yet");
        assert!(c.epoch(0).voting);

        // Two approvals of four admins: the default threshold is a majority (three).
        let refused = c.node(0).submit(c.set_validators(&[1, 2, 3, 4], &[0, 1]));
        assert_eq!(
            refused.unwrap_err().code,
            weft_types::ErrorCode::Unauthorized
        );
        let change = c
            .node(0)
            .submit(c.set_validators(&[1, 2, 3, 4], &[0, 1, 2]))
            .unwrap();
        let mut new_set: Vec<AccountId> = (1..5).map(|i| c.keys[i].account()).collect();
        new_set.sort();
        c.run_until("every node in the new epoch", 600, |c| {
            (0..5).all(|i| c.committed(i, &change) && c.epoch(i).validators == new_set)
        })
        .await;
        assert!(c.epoch(4).voting, "node 4 votes in the new epoch");
        assert!(!c.epoch(0).voting, "node 0 only follows");
        let boundary = c.epoch(2).epoch * 8 - 1;
        assert_eq!(c.node(2).chain().validators_at(boundary).unwrap(), new_set);
        assert_ne!(
            c.node(2).chain().validators_at(boundary - 1).unwrap(),
            new_set
        );

        c.crash(0).await;
        c.crash(1).await;
        let more: Vec<Hash> = (0..4).map(|k| c.submit(2 + k % 3)).collect();
        c.run_until("the new set commits without nodes 0 and 1", 600, |c| {
            [2, 3, 4]
                .iter()
                .all(|&i| more.iter().all(|h| c.committed(i, h)))
        })
        .await;
        let top = c.assert_agree(&[2, 3, 4]);
        let store = c.node(2).chain().store();
        let mut signed_by_4 = 0;
        for h in 1..=top {
            let block = store.block(h).unwrap().unwrap();
            let Some(fin) = store.finalization(h).unwrap() else {
                continue;
            };
            let set = c.node(2).chain().validators_at(h - 1).unwrap();
            weft_crypto::verify_finalization(
                &fin,
                &c.genesis.chain_id,
                &block_hash(&block.header),
                &set,
            )
            .unwrap_or_else(|e| panic!("certificate of height {h}: {e}"));
            if h > boundary
                && fin
                    .signatures
                    .iter()
                    .any(|s| s.validator == c.keys[4].account())
            {
                signed_by_4 += 1;
            }
        }
        assert!(signed_by_4 > 0, "node 4 signed no certificate");

        // Offline, from the genesis set alone: a transaction finalized by the new set proves
        // through the bundle's record of the change.
        let Ok(weft_node::TxLookup::Committed { height, index, .. }) = c.node(2).lookup(&more[0])
        else {
            panic!("not committed");
        };
        assert!(height > boundary);
        let bundle = c.node(2).chain().prove_tx(height, index).unwrap().unwrap();
        assert_eq!(bundle.handoffs.len(), 1);
        assert_eq!(bundle.handoffs[0].header.height, boundary);
        let anchor = weft_crypto::TrustAnchor {
            chain_id: c.genesis.chain_id.clone(),
            validators: c.genesis.validators.iter().map(|v| v.account).collect(),
        };
        weft_crypto::verify_bundle(&bundle, &anchor).unwrap();
        let mut without = bundle.clone();
        without.handoffs.clear();
        assert!(weft_crypto::verify_bundle(&without, &anchor).is_err());
        // Asked after a later one, a bundle from before the change carries no handoff.
        let Ok(weft_node::TxLookup::Committed { height, index, .. }) = c.node(2).lookup(&first[0])
        else {
            panic!("not committed");
        };
        let early = c.node(2).chain().prove_tx(height, index).unwrap().unwrap();
        assert!(early.handoffs.is_empty());
        weft_crypto::verify_bundle(&early, &anchor).unwrap();
    });
}

/// A validator down for several epochs (each a new engine) restarts in the epoch it left, learns
/// from its peers' traffic that they are ahead, fetches each missed epoch's last block, and
/// catches up epoch by epoch until it votes in the current one.
#[test]
fn a_validator_down_for_several_epochs_catches_up() {
    runner(12, 1200).start(|ctx| async move {
        let mut c = Cluster::with_set(ctx.child("cluster"), 4, 4, 6).await;
        c.start_all_and_commit_one().await;
        c.crash(3).await;
        let mut sent = Vec::new();
        while c.height(0) < 6 * 4 {
            for k in 0..3 {
                sent.push(c.submit(k));
            }
            c.run_until("progress without validator 3", 120, |c| {
                sent.iter().all(|h| c.committed(0, h))
            })
            .await;
        }
        assert!(c.epoch(0).epoch >= 4, "{:?}", c.epoch(0));
        c.start(3).await;
        let more: Vec<Hash> = (0..3).map(|k| c.submit(k)).collect();
        c.run_until("validator 3 caught up", 600, |c| {
            sent.iter().chain(&more).all(|h| c.committed(3, h))
                && c.epoch(3).epoch == c.epoch(0).epoch
        })
        .await;
        assert!(c.epoch(3).voting);
        c.assert_agree(&[0, 1, 2, 3]);
        // Ended epochs' vote journals are removed as the node moves on; the current one stays.
        let now = c.epoch(3).epoch;
        for (epoch, kept) in [(0, false), (now - 2, false), (now, true)] {
            let blobs = ctx.scan(&format!("v3-simplex-epoch{epoch}")).await;
            assert_eq!(
                blobs.is_ok_and(|b| !b.is_empty()),
                kept,
                "journal of epoch {epoch} (now {now})"
            );
        }
        // It votes again: with another validator down, no quorum forms without it.
        c.crash(2).await;
        let last = c.submit(0);
        c.run_until("a quorum including validator 3", 300, |c| {
            [0, 1, 3].iter().all(|&i| c.committed(i, &last))
        })
        .await;
        c.assert_agree(&[0, 1, 3]);
    });
}

/// A transaction submitted to a node while it reaches no peer (here a follower, which never
/// proposes) is gossiped again once it has lingered, so it still commits when links return.
#[test]
fn a_transaction_submitted_while_cut_off_is_gossiped_again() {
    runner(14, 900).start(|ctx| async move {
        let mut c = Cluster::with_set(ctx.child("cluster"), 5, 4, 100).await;
        c.start_all_and_commit_one().await;
        let links = |c: &Cluster| {
            (0..4)
                .flat_map(|i| [(4, i), (i, 4)])
                .map(|(a, b)| (c.pks[a].clone(), c.pks[b].clone()))
                .collect::<Vec<_>>()
        };
        for (a, b) in links(&c) {
            c.oracle.remove_link(a, b).await.unwrap();
        }
        let stranded = c.submit(4);
        ctx.sleep(Duration::from_secs(2)).await;
        for (a, b) in links(&c) {
            c.oracle.add_link(a, b, LINK).await.unwrap();
        }
        c.run_until("the stranded transaction commits", 300, |c| {
            (0..5).all(|i| c.committed(i, &stranded))
        })
        .await;
        c.assert_agree(&[0, 1, 2, 3, 4]);
    });
}
