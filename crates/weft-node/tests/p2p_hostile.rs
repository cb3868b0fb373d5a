//! A Byzantine validator on the real authenticated, encrypted network: three honest validators
//! run the production engine path (`Node::start` with `run_engine`), and the fourth is a
//! legitimate, authenticated peer (its key is in the genesis set, it completes the handshake)
//! whose network allows messages far beyond the honest limit. It floods every channel with
//! frames over the honest nodes' `max_message_size`, random garbage, and garbage behind a valid
//! epoch-0 mux prefix that reaches the engine's decoders. The honest three must keep
//! committing (three of four is a quorum, so any progress is theirs), agree on every block hash
//! and state root, record no fatal error, panic nowhere, and shut out the hostile peer.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    num::NonZeroUsize,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use commonware_codec::{Encode as _, varint::UInt};
use commonware_cryptography::{Signer as _, ed25519::PublicKey};
use commonware_p2p::{Address, AddressableManager as _, Recipients, Sender as _, authenticated};
use commonware_runtime::{Clock as _, Quota, Runner as _, Supervisor as _, tokio};
use commonware_utils::{NZU32, NZUsize, ordered::Map};
use rand_core::Rng as _;
use weft_crypto::{Keypair, block_hash, sign_transaction};
use weft_node::{
    ConsensusConfig, Node, NodeConfig, TxLookup,
    consensus::{self, block::BlockCfg},
};
use weft_types::{
    Amount, Genesis, GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, Hash,
    Name, Operation, Transaction, Transfer,
};

const CHAIN: &str = "p2p-hostile";
/// The hostile validator's index in the set.
const HOSTILE: usize = 3;
/// How long every wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(90);

/// Panics anywhere in the process (an engine task, a network actor, the hostile runtime).
static PANICS: AtomicU64 = AtomicU64::new(0);

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
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
        chain_id: name(CHAIN),
        genesis_time_ms: 1_700_000_000_000,
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

/// A block of four free ports below the kernel's ephemeral range (32768 and up), so no
/// outgoing connection takes one between this check and the bind; away from the 20000-31999
/// blocks the CLI's consortium tests use.
fn free_ports() -> [u16; 4] {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()))
        ^ u64::from(std::process::id());
    for k in 0..500u64 {
        let base = 14_000 + ((seed + k * 7) % 500) as u16 * 10;
        let ports = [base, base + 1, base + 2, base + 3];
        if ports
            .iter()
            .all(|&p| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok())
        {
            return ports;
        }
    }
    panic!("no free block of ports in 14000-18999");
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// What the hostile validator did, counted from its side.
#[derive(Default)]
struct Flood {
    /// Frames over the honest limit handed to the network, and how many connected peers each
    /// went to.
    oversized: AtomicU64,
    oversized_to_peers: AtomicU64,
    /// Random bytes (small, or large but within the limit).
    garbage: AtomicU64,
    garbage_to_peers: AtomicU64,
    /// Garbage behind a valid mux prefix (epoch 0, sometimes a later one), on the consensus
    /// channels.
    muxed: AtomicU64,
    muxed_to_peers: AtomicU64,
}

impl Flood {
    fn count(&self, sent: &AtomicU64, to: &AtomicU64, peers: usize) {
        sent.fetch_add(1, Ordering::Relaxed);
        to.fetch_add(peers as u64, Ordering::Relaxed);
    }

    fn report(&self) -> String {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "oversized {} (to {} peers), garbage {} (to {}), mux-prefixed garbage {} (to {})",
            l(&self.oversized),
            l(&self.oversized_to_peers),
            l(&self.garbage),
            l(&self.garbage_to_peers),
            l(&self.muxed),
            l(&self.muxed_to_peers),
        )
    }
}

/// Switches the hostile validator's behaviour.
#[derive(Default)]
struct Control {
    /// Add garbage to the oversized frames. Garbage gets the peer blocked, after which nothing
    /// it sends reaches the honest nodes, so it sends only oversized frames until the test has
    /// seen every honest node refuse them.
    garbage: AtomicBool,
    stop: AtomicBool,
}

/// Runs the hostile validator on its own runtime thread until stopped: the production network
/// (same namespace, handshake and channels as `consensus::spawn`) with a message limit 8 MiB
/// above the honest one, flooding every channel every 100 ms.
fn hostile(
    key: &Keypair,
    peers: Vec<(PublicKey, Address)>,
    listen: SocketAddr,
    honest_max: u32,
    dir: PathBuf,
    control: Arc<Control>,
    flood: Arc<Flood>,
) -> std::thread::JoinHandle<()> {
    let signer = consensus::private_key_of(key).unwrap();
    let extra = 8 * 1024 * 1024;
    let own_max = honest_max + extra;
    std::thread::Builder::new()
        .name("hostile-validator".into())
        .spawn(move || {
            let runner = tokio::Runner::new(
                tokio::Config::new()
                    .with_storage_directory(dir)
                    .with_tcp_nodelay(Some(true)),
            );
            runner.start(|mut ctx| async move {
                // The production handshake and namespace: this peer is a legitimate validator.
                let handshake = consensus::handshake(&signer);
                let namespace = consensus::p2p_namespace(&Name::new(CHAIN).unwrap());
                let tracked = NonZeroUsize::new(peers.len()).unwrap();
                let cfg = authenticated::lookup::Config::local(
                    handshake,
                    &namespace,
                    listen,
                    tracked,
                    own_max,
                    NZUsize!(1024),
                );
                let (mut network, mut oracle) =
                    authenticated::lookup::Network::new(ctx.child("network"), cfg);
                let _ = oracle.track(0, Map::try_from(peers).unwrap());
                let quota = Quota::per_second(NZU32!(8192));
                let (mut senders, mut receivers) = (Vec::new(), Vec::new());
                for channel in [
                    consensus::CH_VOTES,
                    consensus::CH_CERTIFICATES,
                    consensus::CH_SIMPLEX_RESOLVER,
                    consensus::CH_BLOCKS,
                    consensus::CH_BACKFILL,
                    consensus::CH_TXS,
                ] {
                    let (s, r) = network.register(channel, quota);
                    senders.push((channel, s));
                    receivers.push(r);
                }
                network.start();

                // One pool of random bytes; every frame is a slice of it (no copy).
                let mut pool = vec![0u8; own_max as usize];
                ctx.fill_bytes(&mut pool);
                let pool = Bytes::from(pool);
                let honest = honest_max as usize;
                // Just over the payload limit (within the stream's frame allowance, so the
                // p2p decoder refuses it and counts an invalid message: half the time, as the
                // test waits to see one on every node), a KiB over (the stream refuses the
                // frame's header), and megabytes over.
                let oversized = [
                    honest + 1,
                    honest + 1,
                    honest + 1024,
                    honest + 4 * 1024 * 1024,
                ];
                let mut round = 0u64;
                while !control.stop.load(Ordering::SeqCst) {
                    round += 1;
                    let garbage_phase = control.garbage.load(Ordering::SeqCst);
                    for (channel, sender) in &mut senders {
                        if garbage_phase {
                            // Random garbage, mostly small, sometimes large but legal.
                            let len = if ctx.next_u32() % 8 == 0 {
                                (ctx.next_u32() as usize % (1024 * 1024)).max(1)
                            } else {
                                (ctx.next_u32() % 512) as usize + 8
                            };
                            let at = ctx.next_u32() as usize % (pool.len() - len);
                            let to = sender.send(Recipients::All, pool.slice(at..at + len), false);
                            flood.count(&flood.garbage, &flood.garbage_to_peers, to.len());
                            if *channel <= consensus::CH_SIMPLEX_RESOLVER {
                                // Epoch 0's subchannel (varint 0), then garbage: decoded by
                                // the running epoch's voter, batcher or resolver. On votes and
                                // certificates, now and then a later epoch's instead: the
                                // muxer's backup path, which hints marshal that this peer is
                                // ahead.
                                let epoch = if *channel < consensus::CH_SIMPLEX_RESOLVER
                                    && ctx.next_u32() % 4 == 0
                                {
                                    u64::from(ctx.next_u32()) + 1
                                } else {
                                    0
                                };
                                let len = (ctx.next_u32() % 512) as usize + 1;
                                let at = ctx.next_u32() as usize % (pool.len() - len);
                                // The mux's own prefix: the subchannel as a varint.
                                let mut msg = UInt(epoch).encode().to_vec();
                                msg.extend_from_slice(&pool[at..at + len]);
                                let to = sender.send(Recipients::All, Bytes::from(msg), false);
                                flood.count(&flood.muxed, &flood.muxed_to_peers, to.len());
                            }
                        }
                        // After the channel's garbage: the honest side drops the connection on
                        // an oversized frame, and what is queued behind it is lost.
                        let big = if garbage_phase {
                            ctx.next_u32() % 6 == 0
                        } else {
                            // One channel per round, in turn.
                            round % 6 == *channel
                        };
                        if big {
                            let len = oversized[ctx.next_u32() as usize % oversized.len()];
                            let at = ctx.next_u32() as usize % (pool.len() - len + 1);
                            let to = sender.send(Recipients::All, pool.slice(at..at + len), false);
                            flood.count(&flood.oversized, &flood.oversized_to_peers, to.len());
                        }
                    }
                    ctx.sleep(Duration::from_millis(100)).await;
                }
                drop(receivers);
            });
        })
        .unwrap()
}

/// Polls `done` every 100 ms until it holds, failing after [`PATIENCE`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn committed(node: &Node, hash: &Hash) -> bool {
    matches!(node.lookup(hash).unwrap(), TxLookup::Committed { .. })
}

/// Every node has the same block hash and state root at every height all of them have;
/// returns that common height.
fn assert_agree(nodes: &[Node]) -> u64 {
    let common = nodes
        .iter()
        .map(|n| n.chain().head().unwrap().height)
        .min()
        .unwrap();
    for h in 0..=common {
        let ids: Vec<(Hash, Hash)> = nodes
            .iter()
            .map(|n| {
                let b = n.chain().store().block(h).unwrap().unwrap();
                (block_hash(&b.header), b.header.state_root)
            })
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "the honest nodes diverge at height {h}: {ids:?}"
        );
    }
    common
}

/// The engine's own metrics (Prometheus text, refreshed every two seconds): the values of the
/// series whose name ends in `series` and whose labels include every one of `labels`.
fn metric(node: &Node, series: &str, labels: &[&str]) -> Vec<f64> {
    let text = node
        .consensus()
        .unwrap()
        .engine_metrics
        .lock()
        .unwrap()
        .clone();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, rest) = l.split_once('{')?;
            let (set, value) = rest.rsplit_once("} ")?;
            (name.ends_with(series) && labels.iter().all(|want| set.contains(want)))
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .collect()
}

/// How many messages from `peer` that did not decode `node`'s p2p layer refused, closing the
/// connection each time (here: payloads over the limit; the per-peer `invalid` count).
fn refused_from(node: &Node, peer: &str) -> f64 {
    metric(
        node,
        "messages_received_total",
        &[&format!("peer=\"{peer}\""), "message=\"invalid\""],
    )
    .iter()
    .sum()
}

/// Whether `node`'s network has blocked `peer` (the tracker's `blocked` gauge: one series per
/// blocked peer, valued at the block's expiry).
fn has_blocked(node: &Node, peer: &str) -> bool {
    !metric(
        node,
        "tracker_directory_blocked",
        &[&format!("peer=\"{peer}\"")],
    )
    .is_empty()
}

#[test]
fn a_hostile_validator_on_the_real_network_changes_nothing() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let began = Instant::now();

    let keys: Vec<Keypair> = (0..4u8).map(|i| Keypair::from_seed([i + 1; 32])).collect();
    let users: Vec<Keypair> = (0..3u8)
        .map(|i| Keypair::from_seed([100 + i; 32]))
        .collect();
    let genesis = genesis(&keys, &users);
    let ports = free_ports();
    let addrs: Vec<SocketAddr> = ports.iter().map(|&p| loopback(p)).collect();
    let honest_max = consensus::max_message_size(
        weft_types::limits::MAX_VALIDATORS as u32,
        &BlockCfg::default(),
    );
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();

    // The hostile validator comes up first, so the honest nodes meet it from their start.
    let control = Arc::new(Control::default());
    let flood = Arc::new(Flood::default());
    let peers = keys
        .iter()
        .zip(&addrs)
        .map(|(k, a)| {
            (
                consensus::public_key(&k.account()).unwrap(),
                Address::from(*a),
            )
        })
        .collect();
    let hostile_thread = hostile(
        &keys[HOSTILE],
        peers,
        addrs[HOSTILE],
        honest_max,
        dirs[HOSTILE].path().join("runtime"),
        Arc::clone(&control),
        Arc::clone(&flood),
    );
    let hostile_key = consensus::private_key_of(&keys[HOSTILE])
        .unwrap()
        .public_key()
        .to_string();

    let nodes: Vec<Node> = (0..HOSTILE)
        .map(|i| {
            let mut config = NodeConfig::new(dirs[i].path(), genesis.clone());
            config.validator_key = Some(keys[i].clone());
            config.run_engine = true;
            config.consensus = ConsensusConfig {
                listen: addrs[i],
                peers: keys
                    .iter()
                    .zip(&addrs)
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (k, a))| (k.account(), *a))
                    .collect(),
                ..ConsensusConfig::default()
            };
            Node::start(config).unwrap()
        })
        .collect();

    // Transfers, each user through its own validator, in waves while the flood goes on.
    let mut nonces = [0u64; 3];
    let mut submit = |wave: usize| -> Vec<Hash> {
        (0..3 * wave)
            .map(|k| {
                let u = k % 3;
                let tx = Transaction {
                    chain_id: genesis.chain_id.clone(),
                    signer: users[u].account(),
                    nonce: nonces[u],
                    expiry_height: 100_000,
                    operations: vec![Operation::Transfer(Transfer {
                        symbol: name("t"),
                        to: users[(u + 1) % 3].account(),
                        amount: Amount(1),
                    })],
                    memo: String::new(),
                };
                nonces[u] += 1;
                nodes[u].submit(sign_transaction(tx, &[&users[u]])).unwrap()
            })
            .collect()
    };
    let all_committed = |txs: &[Hash]| nodes.iter().all(|n| txs.iter().all(|h| committed(n, h)));
    let healthy = |when: &str| {
        for (i, n) in nodes.iter().enumerate() {
            assert_eq!(n.fatal_error(), None, "validator {i} failed {when}");
        }
        assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked {when}");
    };

    // While only oversized frames come: every honest node receives some, its p2p layer refuses
    // each and drops the connection, the hostile peer redials a second later and sends the
    // next; all three commit meanwhile.
    let first = submit(3);
    wait_until("the first transfers commit on all three", || {
        all_committed(&first)
    });
    eprintln!("first wave committed after {:?}", began.elapsed());
    wait_until("every honest node refuses three oversized payloads", || {
        nodes.iter().all(|n| refused_from(n, &hostile_key) >= 3.0)
    });
    eprintln!(
        "oversized payloads refused by all three after {:?}; flood: {}",
        began.elapsed(),
        flood.report()
    );
    healthy("under oversized frames");

    // Garbage on every channel, oversized frames now and then.
    control.garbage.store(true, Ordering::SeqCst);
    let second = submit(3);
    wait_until("the second transfers commit on all three", || {
        all_committed(&second)
    });
    healthy("under garbage");

    // Each honest node refuses the garbage and shuts the hostile peer out.
    wait_until("every honest node blocks the hostile validator", || {
        nodes.iter().all(|n| has_blocked(n, &hostile_key))
    });
    eprintln!(
        "hostile blocked by all three after {:?}; flood: {}",
        began.elapsed(),
        flood.report()
    );
    assert!(
        flood.garbage_to_peers.load(Ordering::Relaxed) > 0
            && flood.muxed_to_peers.load(Ordering::Relaxed) > 0,
        "no garbage went to a connected honest node: {}",
        flood.report()
    );

    // Still live afterwards.
    let third = submit(2);
    wait_until("the last transfers commit on all three", || {
        all_committed(&third)
    });
    control.stop.store(true, Ordering::SeqCst);
    hostile_thread.join().unwrap();

    let height = assert_agree(&nodes);
    healthy("at the end");
    for (i, n) in nodes.iter().enumerate() {
        let txs = first.iter().chain(&second).chain(&third);
        for h in txs {
            let TxLookup::Committed { receipt, .. } = n.lookup(h).unwrap() else {
                panic!("validator {i} lost {h:?}");
            };
            assert!(
                receipt.is_success(),
                "validator {i}: {h:?} failed: {receipt:?}"
            );
        }
    }
    for n in &nodes {
        n.shutdown();
    }
    eprintln!(
        "agreed through height {height}; {:?} in all; flood: {}",
        began.elapsed(),
        flood.report()
    );
}
