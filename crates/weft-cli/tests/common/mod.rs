//! The harness the `weft` binary's end-to-end tests share: a WEFT_HOME in a temp dir, a
//! validator node process on free ports, and runners for `weft` commands.
// Each test crate uses a different part of it.
#![allow(dead_code)]

use std::{
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

pub const WEFT: &str = env!("CARGO_BIN_EXE_weft");

pub struct Env {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub node: Option<Child>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut child) = self.node.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Env {
    pub fn weft(&self, args: &[&str]) -> Output {
        Command::new(WEFT)
            .args(args)
            .env("WEFT_HOME", self.dir.path())
            .env("WEFT_NODE", &self.url)
            .env_remove("WEFT_AS")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }

    /// Runs with `--json`; returns (exit code, parsed stdout).
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.weft(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
            panic!(
                "{args:?}: not JSON: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), value)
    }

    pub fn ok(&self, args: &[&str]) -> Value {
        let (code, v) = self.json(args);
        assert_eq!(code, 0, "{args:?} failed: {v}");
        v
    }

    /// Runs with `--json`, expects the ledger's refusal (exit 3) with `code`.
    pub fn refused(&self, args: &[&str], code: &str) -> Value {
        let (exit, v) = self.json(args);
        assert_eq!(exit, 3, "{args:?} was not refused: {v}");
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
        v
    }

    /// Runs in text mode, expects success; returns stdout.
    pub fn text(&self, args: &[&str]) -> Vec<u8> {
        let out = self.weft(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn account(&self, key: &str) -> String {
        self.ok(&["keys", "show", key])["account"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub fn start(chain_id: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut env = Env {
        dir,
        url: format!("http://127.0.0.1:{port}"),
        node: None,
    };
    env.ok(&["keys", "new", "validator"]);
    let genesis = env.path("genesis.json");
    env.ok(&[
        "genesis",
        "init",
        "--chain-id",
        chain_id,
        "--validator",
        "validator",
        "--out",
        genesis.to_str().unwrap(),
    ]);
    // `weft node run` keeps a private store for every organization by default.
    let child = Command::new(WEFT)
        .args([
            "node",
            "run",
            "--genesis",
            genesis.to_str().unwrap(),
            "--data-dir",
        ])
        .arg(env.path("data"))
        .args([
            "--key",
            "validator",
            "--api",
            &format!("127.0.0.1:{port}"),
            "--p2p",
            "127.0.0.1:0",
            "--consensus",
            "127.0.0.1:0",
        ])
        .env("WEFT_HOME", env.dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    env.node = Some(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.json(&["query", "status"]).0 != 0 {
        assert!(Instant::now() < deadline, "node did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    env
}

/// The error code of a refused `--json` command.
pub fn code_of(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}
