//! A consortium of four validators, each its own `weft node run --config` process, configured
//! exactly as README "Run a consortium" describes (the files `weft testnet --init-only`
//! writes): they commit and agree; one killed with SIGKILL leaves the others running and
//! catches up on restart; two down halt the chain without divergence and one back resumes it
//! without losing an acknowledged transaction. A fifth organization's node follows the chain
//! until a governance transaction adds it, then votes. `weft testnet` itself runs the same
//! chain again on the same directory.

#![cfg(unix)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use weft_client::{Client, Keypair, TxBuilder};
use weft_types::{Hash, Name, Operation, RegisterAccount, SetValidators};

const WEFT: &str = env!("CARGO_BIN_EXE_weft");

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// A base for ten ports per validator, below the kernel's ephemeral range (32768 and up), so
/// no outgoing connection can take one of them between this check and the node's bind; each
/// test of this binary gets its own block of a hundred ports.
fn free_base(validators: usize) -> u16 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64)
        ^ u64::from(std::process::id());
    for _ in 0..1000 {
        let slot = (seed + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) % 120;
        let base = 20_000 + slot as u16 * 100;
        let free = (0..validators as u16 * 10)
            .all(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no free block of ports below 32000");
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

struct Consortium {
    dir: tempfile::TempDir,
    configs: Vec<PathBuf>,
    clients: Vec<Client>,
    admins: Vec<Keypair>,
    procs: Vec<Option<Child>>,
    chain: Name,
}

impl Drop for Consortium {
    fn drop(&mut self) {
        for child in self.procs.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_key(path: &Path) -> Keypair {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Keypair::from_secret_hex(v["secret"].as_str().unwrap()).unwrap()
}

impl Consortium {
    fn init(n: usize) -> Self {
        Self::init_with(n, &[])
    }

    /// `weft testnet --init-only` for `n` validators, with `extra` arguments.
    fn init_with(n: usize, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("net");
        let out = Command::new(WEFT)
            .args(["--json", "testnet", "--init-only", "--validators"])
            .arg(n.to_string())
            .arg("--dir")
            .arg(&net)
            .args([
                "--base-port",
                &free_base(n).to_string(),
                "--chain-id",
                "consortium-test",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut configs = Vec::new();
        let mut clients = Vec::new();
        let mut admins = Vec::new();
        for node in v["validators"].as_array().unwrap() {
            configs.push(PathBuf::from(node["config"].as_str().unwrap()));
            clients.push(Client::new(node["api"].as_str().unwrap()));
            admins.push(read_key(Path::new(node["key"].as_str().unwrap())));
        }
        assert_eq!(configs.len(), n);
        Self {
            dir,
            procs: (0..n).map(|_| None).collect(),
            configs,
            clients,
            admins,
            chain: name("consortium-test"),
        }
    }

    /// Rewrites the genesis all configs share (before any node has started).
    fn edit_genesis(&self, edit: impl FnOnce(&mut Value)) {
        let path = self.dir.path().join("net").join("genesis.json");
        let mut genesis: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut genesis);
        std::fs::write(&path, serde_json::to_string_pretty(&genesis).unwrap()).unwrap();
    }

    /// Validator `i`'s API address, from its config file.
    fn configs_api(&self, i: usize) -> String {
        let text = std::fs::read_to_string(&self.configs[i]).unwrap();
        let file: toml::Value = toml::from_str(&text).unwrap();
        file["api"].as_str().unwrap().to_owned()
    }

    async fn consensus(&self, i: usize) -> Value {
        self.clients[i].get("/v1/consensus").await.unwrap()
    }

    fn log(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node-{i}.log"))
    }

    /// Starts validator `i` exactly as an operator would: `weft node run --config FILE`.
    fn start(&mut self, i: usize) {
        assert!(self.procs[i].is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .unwrap();
        let child = Command::new(WEFT)
            .args(["node", "run", "--config"])
            .arg(&self.configs[i])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[i] = Some(child);
    }

    fn kill9(&mut self, i: usize) {
        let mut child = self.procs[i].take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    async fn wait_up(&mut self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.clients[i].status().await.is_err() {
            if let Some(child) = self.procs[i].as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("validator {i} exited ({status}):\n{}", tail(&self.log(i)));
            }
            assert!(
                Instant::now() < deadline,
                "validator {i} did not start:\n{}",
                tail(&self.log(i))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn height(&self, i: usize) -> u64 {
        self.clients[i].status().await.unwrap()["height"]
            .as_u64()
            .unwrap()
    }

    async fn wait_height(&self, i: usize, target: u64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.height(i).await < target {
            assert!(
                Instant::now() < deadline,
                "validator {i} stuck below height {target}:\n{}",
                tail(&self.log(i))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Registers a fresh account, signed by admin `who`, submitted through validator `via`.
    async fn submit(&self, who: usize, via: usize, nonce: u64) -> Hash {
        let member = Keypair::generate().unwrap();
        let tx = TxBuilder::new(self.chain.clone(), self.admins[who].account())
            .nonce(nonce)
            .op(Operation::RegisterAccount(RegisterAccount {
                account: member.account(),
                organization: name(&format!("org-{}", who + 1)),
                roles: vec![name("member")],
            }))
            .sign(&[&self.admins[who]]);
        self.clients[via].submit(&tx).await.unwrap()
    }

    async fn committed(&self, i: usize, hash: &Hash) -> bool {
        self.clients[i]
            .transaction(hash, false)
            .await
            .map(|v| v["status"] == "committed")
            .unwrap_or(false)
    }

    async fn wait_committed(&self, nodes: &[usize], hashes: &[Hash], secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        for &i in nodes {
            for h in hashes {
                while !self.committed(i, h).await {
                    assert!(
                        Instant::now() < deadline,
                        "{h} not committed on validator {i}:\n{}",
                        tail(&self.log(i))
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Same block hash and state root at every height the given nodes all have.
    async fn assert_agree(&self, nodes: &[usize]) -> u64 {
        let mut common = u64::MAX;
        for &i in nodes {
            common = common.min(self.height(i).await);
        }
        let mut from = 0;
        while from <= common {
            let to = (from + 199).min(common);
            let mut first: Option<Vec<(Value, Value)>> = None;
            for &i in nodes {
                let v: Value = self.clients[i]
                    .get(&format!("/v1/blocks?from={from}&to={to}"))
                    .await
                    .unwrap();
                let ids: Vec<(Value, Value)> = v["blocks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| (b["hash"].clone(), b["header"]["state_root"].clone()))
                    .collect();
                assert_eq!(ids.len() as u64, to - from + 1);
                match &first {
                    None => first = Some(ids),
                    Some(f) => assert_eq!(f, &ids, "validator {i} diverges in {from}..={to}"),
                }
            }
            from = to + 1;
        }
        common
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_commit_survive_crashes_and_never_diverge() {
    let mut c = Consortium::init(4);
    for i in 0..4 {
        c.start(i);
    }
    for i in 0..4 {
        c.wait_up(i).await;
    }
    // Every validator accepts transactions; gossip brings them to the leaders.
    let mut nonces = [0u64; 4];
    let mut acked = Vec::new();
    for (who, nonce) in nonces.iter_mut().enumerate() {
        for _ in 0..3 {
            acked.push(c.submit(who, who, *nonce).await);
            *nonce += 1;
        }
    }
    c.wait_committed(&[0, 1, 2, 3], &acked, 120).await;
    let h = c.assert_agree(&[0, 1, 2, 3]).await;
    assert!(h >= 1);
    let consensus: Value = c.clients[0].get("/v1/consensus").await.unwrap();
    assert_eq!(consensus["validator"], true);
    assert_eq!(
        consensus["summary"]["validators"].as_array().unwrap().len(),
        4
    );
    assert!(consensus["summary"]["finalized_view"].as_u64().unwrap() >= 1);
    assert_eq!(
        consensus["faults"].as_array().unwrap().len(),
        0,
        "{consensus}"
    );

    // One of four killed: the others go on.
    c.kill9(3);
    let before = c.height(0).await;
    for (who, nonce) in nonces.iter_mut().enumerate().take(3) {
        acked.push(c.submit(who, who, *nonce).await);
        *nonce += 1;
    }
    c.wait_committed(&[0, 1, 2], &acked, 120).await;
    c.wait_height(0, before + 1, 120).await;
    // Restarted on its data dir: it catches up and agrees.
    c.start(3);
    c.wait_up(3).await;
    let target = c.height(0).await;
    c.wait_height(3, target, 180).await;
    c.wait_committed(&[3], &acked, 60).await;
    c.assert_agree(&[0, 1, 2, 3]).await;

    // Two of four down: no progress, no divergence.
    c.kill9(2);
    c.kill9(3);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stalled = c.height(0).await;
    let pending = c.submit(0, 0, nonces[0]).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        c.height(0).await <= stalled + 1,
        "progress without a quorum"
    );
    assert!(
        c.height(1).await <= stalled + 1,
        "progress without a quorum"
    );
    c.assert_agree(&[0, 1]).await;
    // One back: progress resumes, nothing acknowledged is lost.
    c.start(2);
    c.wait_up(2).await;
    acked.push(pending);
    c.wait_committed(&[0, 1, 2], &acked, 180).await;
    c.assert_agree(&[0, 1, 2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_testnet_runs_and_resumes_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let base = free_base(2).to_string();
    let run = |log: &str| {
        let log = std::fs::File::create(dir.path().join(log)).unwrap();
        Command::new(WEFT)
            .args(["--json", "testnet", "--validators", "2", "--dir"])
            .arg(&net)
            .args(["--base-port", &base])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    let first_line = |child: &mut Child| -> Value {
        use std::io::BufRead as _;
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    };
    let mut child = run("first.log");
    let v = tokio::task::block_in_place(|| first_line(&mut child));
    let apis: Vec<Client> = v["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| Client::new(n["api"].as_str().unwrap()))
        .collect();
    assert_eq!(apis.len(), 2);
    // An idle chain grows no blocks: give it a transaction, through the second validator.
    let admin = read_key(&net.join("node-0/validator.key"));
    let register = |nonce: u64| {
        TxBuilder::new(name("weft-testnet"), admin.account())
            .nonce(nonce)
            .op(Operation::RegisterAccount(RegisterAccount {
                account: Keypair::generate().unwrap().account(),
                organization: name("org-1"),
                roles: vec![name("member")],
            }))
            .sign(&[&admin])
    };
    let first = apis[1]
        .submit_and_wait(&register(0), Duration::from_secs(120))
        .await
        .unwrap();
    let reached = first.height;
    assert!(reached >= 1, "{first:?}");
    let first_hash = apis[1].block("1").await.unwrap()["hash"].clone();
    // Ctrl-C equivalent: SIGTERM stops every validator and the command.
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(status.success(), "testnet exited with {status}");
    assert!(
        apis[0].status().await.is_err(),
        "a validator outlived the testnet"
    );

    // Same dir: the same chain, resumed.
    let mut again = run("second.log");
    let v2 = tokio::task::block_in_place(|| first_line(&mut again));
    assert_eq!(v2["chain_id"], v["chain_id"]);
    assert!(apis[0].status().await.unwrap()["height"].as_u64().unwrap() >= reached);
    apis[0]
        .submit_and_wait(&register(1), Duration::from_secs(120))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while apis[1].status().await.unwrap()["height"].as_u64().unwrap() <= reached {
        assert!(Instant::now() < deadline, "validator 1 did not follow");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(apis[0].block("1").await.unwrap()["hash"], first_hash);
    Command::new("kill")
        .arg("-TERM")
        .arg(again.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::block_in_place(|| again.wait()).unwrap();
    assert!(status.success(), "testnet exited with {status}");
}

/// Five organizations' processes; the genesis set is the first four. The fifth node follows
/// (verifying every certificate) until three of the five admins co-sign its addition; from the
/// next epoch it votes: with validator 0 killed, the remaining four of five include it, and
/// they alone still make a quorum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_organization_joins_by_governance_and_votes() {
    let mut c = Consortium::init_with(5, &["--epoch-length", "8"]);
    c.edit_genesis(|g| g["validators"].as_array_mut().unwrap().truncate(4));
    for i in 0..5 {
        c.start(i);
    }
    for i in 0..5 {
        c.wait_up(i).await;
    }
    let first = c.submit(0, 0, 0).await;
    c.wait_committed(&[0, 1, 2, 3, 4], &[first], 120).await;
    let follower = c.consensus(4).await;
    assert_eq!(follower["summary"]["voting"], false, "{follower}");

    let set: Vec<_> = c.admins.iter().map(Keypair::account).collect();
    let tx = TxBuilder::new(c.chain.clone(), c.admins[1].account())
        .nonce(0)
        .op(Operation::SetValidators(SetValidators { validators: set }))
        .sign(&[&c.admins[1], &c.admins[2], &c.admins[3]]);
    let change = c.clients[1].submit(&tx).await.unwrap();
    c.wait_committed(&[0, 1, 2, 3, 4], &[change], 120).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = c.consensus(4).await;
        if v["summary"]["voting"] == true {
            assert_eq!(v["summary"]["validators"].as_array().unwrap().len(), 5);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 4 never became a voting validator: {v}\n{}",
            tail(&c.log(4))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    c.kill9(0);
    let after = c.submit(2, 2, 0).await;
    c.wait_committed(&[1, 2, 3, 4], &[after], 180).await;
    c.assert_agree(&[1, 2, 3, 4]).await;

    // Finalized by the new set, the transaction still verifies offline from the genesis file
    // alone: the bundle carries the change's certificate and the proof of the new set.
    let net = c.dir.path().join("net");
    let bundle = c.dir.path().join("after.json");
    let node = format!("http://{}", c.configs_api(2));
    let query = Command::new(WEFT)
        .args([
            "--json",
            "query",
            "tx",
            &after.to_string(),
            "--prove",
            "--out",
        ])
        .arg(&bundle)
        .args(["--node", &node, "--as"])
        .arg(net.join("node-2").join("validator.key"))
        .output()
        .unwrap();
    assert!(
        query.status.success(),
        "{}",
        String::from_utf8_lossy(&query.stderr)
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(
        written["handoffs"].as_array().map(Vec::len),
        Some(1),
        "{written}"
    );
    let verify = |path: &Path| {
        Command::new(WEFT)
            .args(["--json", "verify"])
            .arg(path)
            .arg("--genesis")
            .arg(net.join("genesis.json"))
            .output()
            .unwrap()
    };
    let ok = verify(&bundle);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let mut stripped = written.clone();
    stripped.as_object_mut().unwrap().remove("handoffs");
    let stripped_path = c.dir.path().join("stripped.json");
    std::fs::write(&stripped_path, stripped.to_string()).unwrap();
    assert_eq!(verify(&stripped_path).status.code(), Some(4));
}
