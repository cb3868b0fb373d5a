//! Crash safety of the real `weft` binary: SIGKILL the node repeatedly while it commits under
//! load, restart it on the same data dir, and check that
//!
//! - every transaction the API acknowledged as committed is still committed, at the same
//!   height and index, inside the stored block at that position;
//! - heights are contiguous from genesis to the head and every block names its parent;
//! - `weft node replay` recomputes, from the stored blocks alone, the state root the node
//!   reported for its head.
//!
//! Transactions that were only pending when the node died may be lost (the mempool is not
//! durable); only acknowledged commits must survive.

#![cfg(unix)]

use std::{
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use weft_client::{Client, ClientError, Keypair, TxBuilder};
use weft_types::{
    AccountId, Amount, DefineToken, ErrorCode, Hash, Mint, Name, Operation, RegisterAccount,
    Transfer, TxStatus,
};

const WEFT: &str = env!("CARGO_BIN_EXE_weft");
const CHAIN: &str = "crash-test";
const TOKEN: &str = "crash";
/// How long a node may take to answer `/health` after a (re)start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn name(s: &str) -> Name {
    Name::new(s).expect("valid name")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// The last `lines` lines of a log file, for failure messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A scratch chain: `$WEFT_HOME` with the validator key, a genesis file and a data dir.
struct Env {
    dir: tempfile::TempDir,
    port: u16,
    /// The peer port, when `weft node run` has one (`--p2p`, default 7701, which parallel
    /// tests would fight over).
    p2p_port: Option<u16>,
    validator: Keypair,
    starts: u32,
}

/// Whether `weft node run` takes a `--p2p` listen address.
fn supports_p2p() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let help = Command::new(WEFT)
            .args(["node", "run", "--help"])
            .output()
            .expect("run weft");
        String::from_utf8_lossy(&help.stdout).contains("--p2p")
    })
}

/// `weft` with `$WEFT_HOME` at `home`.
fn weft(home: &Path) -> Command {
    let mut cmd = Command::new(WEFT);
    cmd.env("WEFT_HOME", home)
        .env_remove("WEFT_NODE")
        .env(
            "RUST_LOG",
            std::env::var("CRASH_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null());
    cmd
}

/// Runs `weft args...`, which must succeed.
fn weft_ok(home: &Path, args: &[&str]) {
    let out = weft(home).args(args).output().expect("run weft");
    assert!(
        out.status.success(),
        "weft {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Env {
    /// `weft keys new validator` and `weft genesis init` in a fresh `$WEFT_HOME`.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path();
        let genesis = home.join("genesis.json");
        weft_ok(home, &["keys", "new", "validator"]);
        let out = genesis.to_str().expect("utf-8 path");
        let args = [
            "genesis",
            "init",
            "--chain-id",
            CHAIN,
            "--validator",
            "validator",
            "--out",
            out,
        ];
        weft_ok(home, &args);
        let key_file = home.join("keys").join("validator.key");
        let key: Value =
            serde_json::from_str(&std::fs::read_to_string(&key_file).expect("read key file"))
                .expect("key file is JSON");
        let validator = Keypair::from_secret_hex(key["secret"].as_str().expect("secret"))
            .expect("valid secret");
        assert_eq!(
            key["account"].as_str(),
            Some(validator.account().to_string().as_str())
        );
        let p2p_port = supports_p2p().then(free_port);
        Self {
            dir,
            port: free_port(),
            p2p_port,
            validator,
            starts: 0,
        }
    }

    fn genesis(&self) -> PathBuf {
        self.dir.path().join("genesis.json")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn command(&self) -> Command {
        weft(self.dir.path())
    }

    /// Starts `weft node run` on the data dir and waits until it answers `/health`.
    async fn start(&mut self) -> NodeProcess {
        self.starts += 1;
        let log = self.dir.path().join(format!("node-{}.log", self.starts));
        let file = File::create(&log).expect("create log");
        let mut cmd = self.command();
        cmd.args(["node", "run", "--genesis"])
            .arg(self.genesis())
            .arg("--data-dir")
            .arg(self.data())
            .args(["--key", "validator", "--api"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["--consensus", "127.0.0.1:0"]);
        if let Some(p2p) = self.p2p_port {
            cmd.arg("--p2p").arg(format!("127.0.0.1:{p2p}"));
        }
        let child = cmd
            .stdout(file.try_clone().expect("clone log handle"))
            .stderr(file)
            .spawn()
            .expect("spawn weft node run");
        let mut node = NodeProcess { child, log };
        node.wait_healthy(&Client::new(self.url())).await;
        node
    }

    /// Runs `weft node replay --json`; the node must be stopped.
    fn replay(&self) -> Value {
        let out = self
            .command()
            .args(["node", "replay", "--genesis"])
            .arg(self.genesis())
            .arg("--data-dir")
            .arg(self.data())
            .arg("--json")
            .output()
            .expect("run weft node replay");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "weft node replay failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .expect("a JSON line");
        serde_json::from_str(line).expect("replay prints JSON")
    }
}

/// A running `weft node run`; killed (SIGKILL) and reaped on drop, so a failing test never
/// leaves a node behind.
struct NodeProcess {
    child: Child,
    log: PathBuf,
}

impl NodeProcess {
    async fn wait_healthy(&mut self, client: &Client) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "the node exited during startup ({status}); log {}:\n{}",
                    self.log.display(),
                    tail(&self.log, 40)
                );
            }
            if let Ok(h) = client.get::<Value>("/health").await
                && h["status"] == "ok"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the node did not become healthy within {START_TIMEOUT:?}; log:\n{}",
                tail(&self.log, 40)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, then reap.
    fn sigkill(&mut self) {
        // `Child::kill` sends SIGKILL on unix.
        self.child.kill().expect("SIGKILL the node");
        let status = self.child.wait().expect("reap the node");
        assert!(
            !status.success(),
            "the node exited cleanly instead of being killed"
        );
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- node log {} (tail) ---\n{}",
                self.log.display(),
                tail(&self.log, 30)
            );
        }
    }
}

/// Submits one transaction signed by `key` and waits for it; it must succeed.
async fn send(client: &Client, key: &Keypair, nonce: u64, ops: Vec<Operation>) -> (u64, u32) {
    let stx = TxBuilder::new(name(CHAIN), key.account())
        .nonce(nonce)
        .ops(ops)
        .sign(&[key]);
    let committed = client
        .submit_and_wait(&stx, Duration::from_secs(20))
        .await
        .expect("setup transaction commits");
    assert_eq!(
        committed.receipt.status,
        TxStatus::Success,
        "setup transaction failed"
    );
    (committed.height, committed.index)
}

/// Registers `members`, defines the token and mints to each, all signed by the admin.
async fn setup(client: &Client, admin: &Keypair, members: &[Keypair]) {
    let mut nonce = client
        .next_nonce(&admin.account())
        .await
        .expect("admin nonce");
    let register = members
        .iter()
        .map(|m| {
            Operation::RegisterAccount(RegisterAccount {
                account: m.account(),
                organization: name("operator"),
                roles: vec![name("member")],
            })
        })
        .collect();
    send(client, admin, nonce, register).await;
    nonce += 1;
    let define = Operation::DefineToken(DefineToken {
        symbol: name(TOKEN),
        display_name: "Crash test token".into(),
        decimals: 0,
        max_supply: None,
        controller: None,
        holder_role: None,
    });
    send(client, admin, nonce, vec![define]).await;
    nonce += 1;
    let mint = members
        .iter()
        .map(|m| {
            Operation::Mint(Mint {
                symbol: name(TOKEN),
                to: m.account(),
                amount: Amount(1_000_000),
            })
        })
        .collect();
    send(client, admin, nonce, mint).await;
}

fn transfer(
    key: &Keypair,
    to: AccountId,
    nonce: u64,
    memo: String,
) -> weft_types::SignedTransaction {
    TxBuilder::new(name(CHAIN), key.account())
        .nonce(nonce)
        .memo(memo)
        .op(Operation::Transfer(Transfer {
            symbol: name(TOKEN),
            to,
            amount: Amount(1),
        }))
        .sign(&[key])
}

/// A transaction the API reported as committed.
#[derive(Debug, Clone)]
struct Ack {
    hash: Hash,
    height: u64,
    index: u32,
    /// Number of kills before the acknowledgement.
    epoch: u64,
}

fn parse_ack(hash: Hash, doc: &Value, epoch: u64) -> Ack {
    let height = doc["height"].as_u64().expect("committed height");
    let index = doc["index"]
        .as_u64()
        .and_then(|i| u32::try_from(i).ok())
        .expect("index");
    Ack {
        hash,
        height,
        index,
        epoch,
    }
}

/// Shared state of the load generators and the killer.
struct Load {
    start: Instant,
    stop: AtomicBool,
    acked: AtomicU64,
    submitted: AtomicU64,
    refused: AtomicU64,
    /// Milliseconds since `start` of the latest admitted submission.
    last_submit_ms: AtomicU64,
    /// Kills so far.
    epoch: AtomicU64,
    /// Highest acknowledged height.
    highest: AtomicU64,
}

impl Load {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Transactions in flight per load generator.
const WINDOW: usize = 8;

/// Keeps submitting transfers from `key` to `to`, tracking its nonce locally, and returns
/// every acknowledged commit. Connection errors (the node is being killed) and lost pending
/// transactions are expected: it waits for the node, settles what it had in flight, and
/// resynchronizes its nonce from the committed state.
async fn generate(
    client: Client,
    key: Keypair,
    to: AccountId,
    id: usize,
    load: Arc<Load>,
) -> Vec<Ack> {
    let me = key.account();
    let mut acks = Vec::new();
    let mut pending: Vec<Hash> = Vec::new();
    let mut nonce: Option<u64> = None;
    let mut seq = 0u64;
    let mut unsettled_since: Option<Instant> = None;
    loop {
        let mut down = false;
        // Settle what is in flight.
        let mut still = Vec::with_capacity(pending.len());
        for hash in std::mem::take(&mut pending) {
            if down {
                still.push(hash);
                continue;
            }
            match client.transaction(&hash, false).await {
                Ok(doc) if doc["status"] == "committed" => {
                    let ack = parse_ack(hash, &doc, load.epoch.load(Ordering::SeqCst));
                    load.highest.fetch_max(ack.height, Ordering::SeqCst);
                    load.acked.fetch_add(1, Ordering::SeqCst);
                    acks.push(ack);
                }
                Ok(_) => still.push(hash),
                // Lost with the mempool of a killed node: allowed.
                Err(e) if e.code() == Some(ErrorCode::NotFound) => nonce = None,
                Err(_) => {
                    down = true;
                    nonce = None;
                    still.push(hash);
                }
            }
        }
        pending = still;
        let stopping = load.stop.load(Ordering::SeqCst);
        if stopping && pending.is_empty() {
            return acks;
        }
        // Resynchronize the nonce once nothing is in flight.
        if nonce.is_none() && pending.is_empty() && !down {
            match client.next_nonce(&me).await {
                Ok(n) => nonce = Some(n),
                Err(_) => down = true,
            }
        }
        if let Some(mut n) = nonce
            && !stopping
            && !down
        {
            while pending.len() < WINDOW {
                seq += 1;
                let stx = transfer(&key, to, n, format!("load-{id}-{seq}"));
                let hash = weft_crypto::tx_hash(&stx.tx);
                match client.submit(&stx).await {
                    Ok(h) => {
                        assert_eq!(h, hash, "the node hashes transactions like the SDK");
                        pending.push(h);
                        n += 1;
                        load.submitted.fetch_add(1, Ordering::SeqCst);
                        load.last_submit_ms.store(load.now_ms(), Ordering::SeqCst);
                    }
                    Err(ClientError::Transport { .. }) => {
                        // It may or may not have been admitted before the node died.
                        pending.push(hash);
                        down = true;
                        break;
                    }
                    Err(_) => {
                        load.refused.fetch_add(1, Ordering::SeqCst);
                        down = true;
                        break;
                    }
                }
            }
            nonce = if down { None } else { Some(n) };
        }
        if down || nonce.is_none() || stopping {
            let since = *unsettled_since.get_or_insert_with(Instant::now);
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "load generator {id} could not settle for 30 s ({} in flight)",
                pending.len()
            );
        } else {
            unsettled_since = None;
        }
        tokio::time::sleep(Duration::from_millis(if down { 20 } else { 3 })).await;
    }
}

/// The stored chain as the API serves it.
struct ChainView {
    head: u64,
    state_root: String,
    /// Transaction hashes of each block, by height.
    txs: Vec<Vec<String>>,
    total_txs: u64,
}

/// Reads the head and every block from genesis; checks heights are contiguous, each block
/// names its parent, and the last block is the head the status reports.
async fn read_chain(client: &Client) -> ChainView {
    let status = client.status().await.expect("status");
    let head = status["height"].as_u64().expect("status height");
    let state_root = status["state_root"]
        .as_str()
        .expect("status state_root")
        .to_owned();
    let mut txs = Vec::new();
    let mut total_txs = 0;
    let mut parent: Option<String> = None;
    for h in 0..=head {
        let block = client
            .block(&h.to_string())
            .await
            .unwrap_or_else(|e| panic!("block {h} of {head} is missing: {e}"));
        assert_eq!(
            block["header"]["height"].as_u64(),
            Some(h),
            "block {h} has the wrong height"
        );
        if let Some(parent) = &parent {
            assert_eq!(
                block["header"]["parent"].as_str(),
                Some(parent.as_str()),
                "block {h} does not name block {} as its parent",
                h - 1
            );
        }
        let hashes: Vec<String> = block["transactions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["tx_hash"].as_str().expect("tx_hash").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if h > 0 {
            total_txs += hashes.len() as u64;
        }
        txs.push(hashes);
        parent = Some(block["hash"].as_str().expect("block hash").to_owned());
        if h == head {
            assert_eq!(
                block["hash"], status["block_hash"],
                "the head block is not the status's"
            );
            assert_eq!(
                block["header"]["state_root"], status["state_root"],
                "the head block's state root is not the status's"
            );
        }
    }
    let beyond = client.block(&(head + 1).to_string()).await;
    assert!(
        matches!(&beyond, Err(e) if e.code() == Some(ErrorCode::NotFound)),
        "a block exists above the head {head}: {beyond:?}"
    );
    ChainView {
        head,
        state_root,
        txs,
        total_txs,
    }
}

/// Every acknowledged transaction is committed where it was acknowledged.
async fn check_acks(client: &Client, chain: &ChainView, acks: &[Ack]) {
    let mut lost = Vec::new();
    for ack in acks {
        let doc = client.transaction(&ack.hash, false).await;
        let stored = chain
            .txs
            .get(usize::try_from(ack.height).unwrap_or(usize::MAX))
            .and_then(|b| b.get(ack.index as usize));
        let ok = matches!(&doc, Ok(d) if d["status"] == "committed"
            && d["height"].as_u64() == Some(ack.height)
            && d["index"].as_u64() == Some(u64::from(ack.index)))
            && stored.map(String::as_str) == Some(ack.hash.to_string().as_str());
        if !ok {
            lost.push(format!(
                "{} acked at {}/{} after {} kills; now {doc:?}, block slot holds {stored:?}",
                ack.hash, ack.height, ack.index, ack.epoch
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged transactions are not where they were acknowledged (head {}):\n{}",
        lost.len(),
        acks.len(),
        chain.head,
        lost.join("\n")
    );
}

/// Kills the node and checks that replay rebuilds the head's state root from stored blocks.
fn check_replay(env: &Env, node: &mut NodeProcess, chain: &ChainView) {
    node.sigkill();
    let report = env.replay();
    println!("replay: {report}");
    assert_eq!(report["height"].as_u64(), Some(chain.head), "replay height");
    assert_eq!(
        report["blocks"].as_u64(),
        Some(chain.head),
        "replayed blocks"
    );
    assert_eq!(
        report["transactions"].as_u64(),
        Some(chain.total_txs),
        "replayed transactions"
    );
    assert_eq!(
        report["state_root"].as_str(),
        Some(chain.state_root.as_str()),
        "replay recomputed another state root than the node reported"
    );
}

const ROUNDS: u64 = 8;
const GENERATORS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_commit() {
    let started = Instant::now();
    let mut env = Env::new();
    let mut node = env.start().await;
    // The validator is the admin: it reads everything (permissioned reads).
    let client = Client::new(env.url()).as_member(&env.validator);
    let members: Vec<Keypair> = (0..GENERATORS)
        .map(|_| Keypair::generate().expect("generate key"))
        .collect();
    setup(&client, &env.validator, &members).await;

    let load = Arc::new(Load {
        start: Instant::now(),
        stop: AtomicBool::new(false),
        acked: AtomicU64::new(0),
        submitted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        last_submit_ms: AtomicU64::new(0),
        epoch: AtomicU64::new(0),
        highest: AtomicU64::new(0),
    });
    let generators: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let to = members[(i + 1) % members.len()].account();
            tokio::spawn(generate(
                Client::new(env.url()).as_member(&env.validator),
                key.clone(),
                to,
                i,
                Arc::clone(&load),
            ))
        })
        .collect();

    let mut mid_load_kills = 0;
    for round in 0..ROUNDS {
        // 300..900 ms, varied but reproducible.
        let delay = 300 + (round * 263 + 117) % 600;
        let acked_before = load.acked.load(Ordering::SeqCst);
        let submitted_before = load.submitted.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // Acknowledgements seen before this kill (a generator may be about to add one; that
        // one is checked at the end like every other).
        let acked_now = load.acked.load(Ordering::SeqCst);
        let since_submit = load
            .now_ms()
            .saturating_sub(load.last_submit_ms.load(Ordering::SeqCst));
        node.sigkill();
        load.epoch.fetch_add(1, Ordering::SeqCst);
        let mid_load = acked_now > acked_before && since_submit < 100;
        mid_load_kills += u32::from(mid_load);
        println!(
            "round {round}: SIGKILL after {delay} ms; {} submitted, {} acked this round; last submit {since_submit} ms before; mid-load: {mid_load}",
            load.submitted.load(Ordering::SeqCst) - submitted_before,
            acked_now - acked_before,
        );
        let t = Instant::now();
        node = env.start().await;
        // Read before the status: later acknowledgements come from the new incarnation.
        let highest_acked = load.highest.load(Ordering::SeqCst);
        let head = client.status().await.expect("status after restart")["height"]
            .as_u64()
            .expect("height");
        println!(
            "round {round}: restarted in {:?} at height {head}",
            t.elapsed()
        );
        // Early warning; the full per-transaction check runs at the end.
        assert!(
            head >= highest_acked,
            "round {round}: restarted at height {head}, below an acknowledged height {highest_acked}"
        );
        // The next kill must land on a node that is committing again. A validator killed
        // after journaling its vote on its own proposal comes back in that view and, by the
        // engine's rule, neither proposes nor votes in it again: it moves on when the view
        // times out (the leader timeout, 2 s). Without this wait, kills at shorter intervals
        // could keep it in that view for ever and never hit it under load.
        let resuming = Instant::now();
        loop {
            let now = client.status().await.expect("status")["height"]
                .as_u64()
                .expect("height");
            if now > head {
                break;
            }
            assert!(
                resuming.elapsed() < Duration::from_secs(20),
                "round {round}: no block committed within 20 s of the restart (head {head})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "round {round}: committing again {:?} after the restart",
            resuming.elapsed()
        );
    }
    // Let the last incarnation commit under load too, then drain.
    tokio::time::sleep(Duration::from_millis(400)).await;
    load.stop.store(true, Ordering::SeqCst);
    let mut acks = Vec::new();
    for g in generators {
        acks.extend(g.await.expect("load generator"));
    }
    let acked_total = acks.len();
    let max_acked = acks.iter().map(|a| a.height).max().unwrap_or(0);
    println!(
        "load: {} submitted, {acked_total} acknowledged (highest at height {max_acked}), {} refused",
        load.submitted.load(Ordering::SeqCst),
        load.refused.load(Ordering::SeqCst)
    );

    let chain = read_chain(&client).await;
    println!(
        "chain: head {} with {} transactions, state root {}",
        chain.head, chain.total_txs, chain.state_root
    );
    check_acks(&client, &chain, &acks).await;
    check_replay(&env, &mut node, &chain);

    assert!(
        acked_total > 50,
        "only {acked_total} transactions were acknowledged"
    );
    assert!(
        acks.iter().filter(|a| a.epoch < ROUNDS).count() > 25,
        "too few acknowledgements before the last kill"
    );
    assert!(
        mid_load_kills >= 3,
        "only {mid_load_kills} of {ROUNDS} kills hit the node under load"
    );
    println!("done in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_first_commit_then_restart_twice() {
    let mut env = Env::new();
    let mut node = env.start().await;
    // The validator is the admin: it reads everything (permissioned reads).
    let client = Client::new(env.url()).as_member(&env.validator);
    let members: Vec<Keypair> = (0..2)
        .map(|_| Keypair::generate().expect("generate key"))
        .collect();
    setup(&client, &env.validator, &members).await;

    let stx = transfer(&members[0], members[1].account(), 0, "first".into());
    let hash = client
        .submit(&stx)
        .await
        .expect("submit the first transfer");
    let deadline = Instant::now() + Duration::from_secs(20);
    let ack = loop {
        let doc = client
            .transaction(&hash, false)
            .await
            .expect("poll the transfer");
        if doc["status"] == "committed" {
            break parse_ack(hash, &doc, 0);
        }
        assert!(
            Instant::now() < deadline,
            "the first transfer did not commit"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    node.sigkill();
    println!(
        "killed right after {} committed at {}/{}",
        ack.hash, ack.height, ack.index
    );

    // Two quick restarts in a row, each ended by SIGKILL as soon as it is healthy.
    node = env.start().await;
    node.sigkill();
    node = env.start().await;

    let doc = client
        .transaction(&hash, false)
        .await
        .expect("the transfer after restarts");
    assert_eq!(
        doc["status"], "committed",
        "the acknowledged transfer was lost: {doc}"
    );
    assert_eq!(doc["height"].as_u64(), Some(ack.height));
    assert_eq!(doc["index"].as_u64(), Some(u64::from(ack.index)));
    assert_eq!(doc["receipt"]["status"], "success", "{doc}");

    // The restarted node still commits.
    let next = transfer(
        &members[0],
        members[1].account(),
        1,
        "after restarts".into(),
    );
    let committed = client
        .submit_and_wait(&next, Duration::from_secs(20))
        .await
        .expect("commit after restarts");
    assert!(committed.height > ack.height);

    let chain = read_chain(&client).await;
    check_acks(&client, &chain, std::slice::from_ref(&ack)).await;
    check_replay(&env, &mut node, &chain);
}
