//! Real-network run: validators as separate OS processes on 127.0.0.1, each a tokio runtime
//! with `p2p::authenticated::lookup` (static key → address map, SAKE handshake +
//! ChaCha20-Poly1305), committing blocks through the same adapter as the simulation.
//!
//! `testnet run  [--validators N] [--port P] [--dir D] [--height H] [--tps T] [--timeout S]`
//!   spawns N `testnet node` children, waits until every node committed height H, checks that
//!   they agree on digest and state root at every height, prints blocks/s and tx/s, kills them.
//! `testnet node --index I [same flags]` runs one validator and prints
//!   `COMMIT <i> <height> <digest> <state_root> <txs>` for each committed block.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use bytes::Bytes;
use commonware_cryptography::{
    ChaCha20Poly1305, Signer as _,
    ed25519::{PrivateKey, PublicKey},
};
use commonware_p2p::{Address, AddressableManager as _, authenticated::lookup};
use commonware_runtime::{Clock, Quota, Runner as _, Spawner as _, Supervisor as _, tokio};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, NZUsize, ordered::Map};
use consensus_spike::{
    app::AppConfig,
    gossip,
    validator::{self, CHANNELS, Channels, NodeConfig, Shared, Timing},
};

#[derive(Clone, Debug)]
struct Args {
    mode: String,
    index: usize,
    validators: usize,
    port: u16,
    dir: String,
    height: u64,
    tps: u64,
    timeout: u64,
    /// `run` only: SIGKILL the last validator at half the target height, restart it this
    /// many seconds later on the same data dir.
    crash_one: Option<u64>,
}

fn parse() -> Args {
    let mut a = Args {
        mode: std::env::args().nth(1).unwrap_or_else(|| "run".into()),
        index: 0,
        validators: 4,
        port: 30400,
        dir: std::env::temp_dir()
            .join("weft-consensus-spike")
            .display()
            .to_string(),
        height: 20,
        tps: 500,
        timeout: 120,
        crash_one: None,
    };
    let args: Vec<String> = std::env::args().skip(2).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--index" => a.index = v.parse().unwrap(),
            "--validators" => a.validators = v.parse().unwrap(),
            "--port" => a.port = v.parse().unwrap(),
            "--dir" => a.dir = v,
            "--height" => a.height = v.parse().unwrap(),
            "--tps" => a.tps = v.parse().unwrap(),
            "--timeout" => a.timeout = v.parse().unwrap(),
            "--crash-one" => a.crash_one = Some(v.parse().unwrap()),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn keys(n: usize) -> Vec<PrivateKey> {
    let mut keys: Vec<PrivateKey> = (0..n as u64)
        .map(|i| PrivateKey::from_seed(1000 + i))
        .collect();
    keys.sort_by_key(|k| k.public_key());
    keys
}

fn addr(port: u16, i: usize) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port + i as u16)
}

fn node(a: Args) {
    let keys = keys(a.validators);
    let validators: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
    let signer = keys[a.index].clone();
    let dir = format!("{}/node-{}", a.dir, a.index);
    let runner = tokio::Runner::new(
        tokio::Config::new()
            .with_storage_directory(dir)
            .with_tcp_nodelay(Some(true)),
    );
    runner.start(|ctx| async move {
        let app = AppConfig::default();
        let max_message = validator::max_message_size(a.validators as u32, &app.block);
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: signer.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let p2p_cfg = lookup::Config::local(
            handshake,
            b"weft-spike-p2p",
            addr(a.port, a.index),
            NZUsize!(a.validators),
            max_message,
            NZUsize!(1024),
        );
        let (mut network, mut oracle) = lookup::Network::new(ctx.child("network"), p2p_cfg);
        // The static peer set (index = epoch 0): key → address.
        let peers: Vec<(PublicKey, Address)> = validators
            .iter()
            .enumerate()
            .map(|(i, pk)| (pk.clone(), addr(a.port, i).into()))
            .collect();
        oracle.track(0, Map::try_from(peers).unwrap());
        let quota = Quota::per_second(NZU32!(4096));
        let mut pairs: Vec<_> = CHANNELS
            .iter()
            .map(|ch| network.register(*ch, quota))
            .collect();
        let (mut tx_sender, tx_receiver) = network.register(gossip::CH_TXS, quota);
        network.start();
        let mut it = pairs.drain(..);
        let channels = Channels {
            votes: it.next().unwrap(),
            certs: it.next().unwrap(),
            simplex_resolver: it.next().unwrap(),
            blocks: it.next().unwrap(),
            backfill: it.next().unwrap(),
        };
        let mut shared = Shared::new(&validators);
        // The commit log is durable (fsynced before each ack), as Weft's store will be.
        shared.log = consensus_spike::app::CommitLog::open(std::path::Path::new(&format!(
            "{}/node-{}-commits.log",
            a.dir, a.index
        )))
        .expect("commit log");
        gossip::start_receiver(
            ctx.child("tx_gossip"),
            tx_receiver,
            shared.mempool.clone(),
            app.block,
        );
        let cfg = NodeConfig {
            chain_id: b"weft-spike-tcp".to_vec(),
            namespace: b"weft-spike-consensus".to_vec(),
            signer,
            validators: validators.clone(),
            app,
            timing: Timing::default(),
            partition: "weft".into(),
            mailbox_size: 1024,
            view_retention: 256,
        };
        let engine = validator::start(
            ctx.child("validator"),
            cfg,
            shared.clone(),
            channels,
            oracle.clone(),
            oracle,
        )
        .await;

        // Client load: `tps` txs/s generated here, admitted locally and gossiped to peers.
        let mempool = shared.mempool.clone();
        let (index, tps) = (a.index, a.tps);
        ctx.child("load").spawn(move |ctx| async move {
            let per_tick = (tps / 10).max(1);
            let mut k = 0u64;
            loop {
                let batch: Vec<Bytes> = (0..per_tick)
                    .map(|_| {
                        k += 1;
                        Bytes::from(format!("n{index}-tx-{k:010}"))
                    })
                    .collect();
                for tx in &batch {
                    mempool.submit(tx.clone());
                }
                gossip::broadcast(&mut tx_sender, &batch);
                ctx.sleep(Duration::from_millis(100)).await;
            }
        });

        // Report commits on stdout for the parent.
        let log = shared.log.clone();
        ctx.child("report").spawn(move |ctx| async move {
            let mut printed = 0u64;
            loop {
                let new: Vec<u64> = log
                    .inner()
                    .blocks
                    .range(printed + 1..)
                    .map(|(h, _)| *h)
                    .collect();
                for h in new {
                    let c = log.get(h).unwrap();
                    let view = c
                        .finalization
                        .as_ref()
                        .map_or(0, |f| f.proposal.round.view().get());
                    println!(
                        "COMMIT {index} {h} {} {} {} {view}",
                        c.digest, c.state_root, c.tx_count
                    );
                    printed = h;
                }
                ctx.sleep(Duration::from_millis(50)).await;
            }
        });
        let _ = engine.await;
    });
}

fn kill_all(children: &mut [Child]) {
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn run(a: Args) {
    let _ = std::fs::remove_dir_all(&a.dir);
    let exe = std::env::current_exe().unwrap();
    type Seen = BTreeMap<u64, (String, String, u64, u64)>;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(vec![Seen::new(); a.validators]));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let spawn = |i: usize| -> Child {
        let mut child = Command::new(&exe)
            .args([
                "node",
                "--index",
                &i.to_string(),
                "--validators",
                &a.validators.to_string(),
                "--port",
                &a.port.to_string(),
                "--dir",
                &a.dir,
                "--tps",
                &a.tps.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().unwrap();
        let seen = seen.clone();
        let done = done_tx.clone();
        let target = a.height;
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() != 7 || f[0] != "COMMIT" {
                    continue;
                }
                let (node, h): (usize, u64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
                let mut s = seen.lock().unwrap();
                let entry = (
                    f[3].to_string(),
                    f[4].to_string(),
                    f[5].parse().unwrap(),
                    f[6].parse().unwrap(),
                );
                if let Some(old) = s[node].get(&h) {
                    // A restarted node reprints its durable log: it must not have changed.
                    assert!(
                        old.0 == entry.0 && old.1 == entry.1,
                        "node {node} changed height {h}"
                    );
                }
                s[node].insert(h, entry);
                if s.iter()
                    .all(|m| m.keys().next_back().copied().unwrap_or(0) >= target)
                {
                    let _ = done.send(());
                }
            }
        });
        child
    };
    let started = Instant::now();
    let mut children: Vec<Child> = (0..a.validators).map(&spawn).collect();
    if let Some(down_secs) = a.crash_one {
        let last = a.validators - 1;
        let half = a.height / 2;
        let deadline = Instant::now() + Duration::from_secs(a.timeout);
        while seen.lock().unwrap()[last]
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            < half
        {
            assert!(
                Instant::now() < deadline,
                "node {last} never reached {half}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = children[last].kill(); // SIGKILL
        let _ = children[last].wait();
        let at = seen.lock().unwrap()[last]
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0);
        eprintln!("killed node {last} (SIGKILL) at height {at}; restarting in {down_secs}s");
        std::thread::sleep(Duration::from_secs(down_secs));
        let others = seen.lock().unwrap()[0]
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0);
        eprintln!("restarting node {last}; node 0 is at height {others}");
        children[last] = spawn(last);
    }
    let ok = done_rx.recv_timeout(Duration::from_secs(a.timeout)).is_ok();
    let elapsed = started.elapsed().as_secs_f64();
    kill_all(&mut children);
    let s = seen.lock().unwrap();
    let heights: Vec<u64> = s
        .iter()
        .map(|m| m.keys().next_back().copied().unwrap_or(0))
        .collect();
    if !ok {
        eprintln!(
            "FAIL: not every node reached height {} in {}s: {heights:?}",
            a.height, a.timeout
        );
        std::process::exit(1);
    }
    for h in 1..=a.height {
        let first = &s[0][&h];
        for (i, m) in s.iter().enumerate() {
            // A restarted node reports only what it committed after the restart; a height it
            // committed before the kill is still in the map from the first run.
            let Some(mine) = m.get(&h) else {
                eprintln!("FAIL: node {i} never reported height {h}");
                std::process::exit(1);
            };
            if mine.0 != first.0 || mine.1 != first.1 {
                eprintln!("FAIL: node {i} diverges at height {h}: {mine:?} vs {first:?}");
                std::process::exit(1);
            }
        }
    }
    let txs: u64 = (1..=a.height).map(|h| s[0][&h].2).sum();
    let view = s[0][&a.height].3;
    println!(
        "OK: {} validators agree on {} blocks ({txs} txs) in {elapsed:.1}s wall (incl. startup): {:.1} blocks/s, {:.0} tx/s; heights {heights:?}; height {} finalized at view {view}",
        a.validators,
        a.height,
        a.height as f64 / elapsed,
        txs as f64 / elapsed,
        a.height
    );
}

fn main() {
    let a = parse();
    match a.mode.as_str() {
        "node" => node(a),
        "run" => run(a),
        m => panic!("unknown mode {m}"),
    }
}
