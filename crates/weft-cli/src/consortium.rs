//! Running validators as a consortium: the node config file (`weft node run --config`) and
//! `weft testnet`, which generates a consortium's keys, genesis and configs and runs every
//! validator as its own process on loopback.

use std::{
    collections::BTreeMap,
    net::{SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;
use weft_client::{Client, Keypair, consortium};
use weft_types::{AccountId, GenesisAccount, GenesisOrganization, GenesisValidator, Name};

use crate::{
    keys,
    local::shutdown_signal,
    output::{Failure, Out},
};

/// One validator's config file: everything `weft node run --config FILE` needs. Relative
/// paths are relative to the file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    /// The chain's genesis file (the same on every node).
    pub genesis: PathBuf,
    pub data_dir: PathBuf,
    /// This validator's key file (keep it readable by the node's user only).
    pub key: PathBuf,
    /// Client API address.
    pub api: SocketAddr,
    /// Where read replicas sync blocks from (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SocketAddr>,
    /// Where this validator accepts consensus connections from the other validators.
    pub consensus: SocketAddr,
    /// The other validators: account (public key hex) and consensus address (`host:port`).
    #[serde(default)]
    pub peers: Vec<PeerEntry>,
    /// Organizations whose confidential payloads this node keeps (default: none but its own
    /// validator's, see `weft node run --private-orgs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_orgs: Vec<String>,
}

/// A peer validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    pub account: AccountId,
    /// `host:port`; a host name is resolved once at start.
    pub address: String,
}

impl NodeFile {
    /// Reads and checks a config file; paths come back resolved against its directory.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut file: Self =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for p in [&mut file.genesis, &mut file.data_dir, &mut file.key] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(file)
    }

    /// The peers' consensus addresses, resolved.
    pub fn peer_addresses(&self) -> Result<BTreeMap<AccountId, SocketAddr>> {
        self.peers
            .iter()
            .map(|p| {
                let addr = p
                    .address
                    .to_socket_addrs()
                    .with_context(|| format!("resolving peer {}", p.address))?
                    .next()
                    .ok_or_else(|| anyhow!("peer {} resolves to no address", p.address))?;
                Ok((p.account, addr))
            })
            .collect()
    }
}

#[derive(Args)]
pub struct TestnetArgs {
    /// How many validators (one process each).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Where keys, genesis, configs, data and logs live. Run again on the same dir to resume
    /// the same chain.
    #[arg(long)]
    dir: PathBuf,
    /// First port: validator i uses base+10i (API), +1 (block sync), +2 (consensus).
    #[arg(long, default_value_t = 7800)]
    base_port: u16,
    #[arg(long, default_value = "weft-testnet")]
    chain_id: Name,
    /// Blocks per consensus epoch (a validator-set change takes effect after an epoch's last
    /// block). Only read when the dir is new.
    #[arg(long, default_value_t = weft_types::DEFAULT_EPOCH_LENGTH)]
    epoch_length: u64,
    /// Write keys, genesis and configs, print where, and exit without starting anything:
    /// each `node-*/node.toml` then runs with `weft node run --config` (one per machine in a
    /// real consortium).
    #[arg(long)]
    init_only: bool,
}

/// What `weft testnet` writes once and reads on every later run.
#[derive(Debug, Serialize, Deserialize)]
struct Layout {
    chain_id: Name,
    validators: usize,
    base_port: u16,
}

fn port(base: u16, i: usize, offset: u16) -> Result<u16> {
    u16::try_from(i * 10)
        .ok()
        .and_then(|step| base.checked_add(step)?.checked_add(offset))
        .ok_or_else(|| anyhow!("--base-port {base} leaves no room for {} validators", i + 1))
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Creates the testnet's files in `dir` unless they exist; returns the layout in force.
fn prepare(args: &TestnetArgs) -> Result<Layout> {
    let layout_file = args.dir.join("testnet.json");
    if layout_file.exists() {
        let layout: Layout = serde_json::from_str(&std::fs::read_to_string(&layout_file)?)
            .with_context(|| format!("reading {}", layout_file.display()))?;
        return Ok(layout);
    }
    if !(1..=weft_types::limits::MAX_VALIDATORS).contains(&args.validators) {
        bail!(
            "--validators must be between 1 and {}",
            weft_types::limits::MAX_VALIDATORS
        );
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let keys: Vec<Keypair> = (0..args.validators)
        .map(|_| Keypair::generate())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("generating keys: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let org = |i: usize| Name::new(format!("org-{}", i + 1)).map_err(|e| anyhow!("{e}"));
    let mut genesis = consortium::genesis(args.chain_id.clone(), &keys[0], org(0)?, now);
    genesis.epoch_length = args.epoch_length;
    genesis.organizations[0].display_name = "Organization 1".into();
    for (i, key) in keys.iter().enumerate().skip(1) {
        genesis.validators.push(GenesisValidator {
            account: key.account(),
            organization: org(i)?,
        });
        genesis.organizations.push(GenesisOrganization {
            id: org(i)?,
            display_name: format!("Organization {}", i + 1),
        });
        genesis.accounts.push(GenesisAccount {
            account: key.account(),
            organization: org(i)?,
            roles: genesis.accounts[0].roles.clone(),
        });
    }
    weft_execution::genesis_writes(&genesis).map_err(|e| anyhow!("genesis: {}", e.0))?;
    std::fs::write(
        args.dir.join("genesis.json"),
        serde_json::to_string_pretty(&genesis)? + "\n",
    )?;
    for (i, key) in keys.iter().enumerate() {
        let node_dir = args.dir.join(format!("node-{i}"));
        std::fs::create_dir_all(&node_dir)?;
        keys::write(&node_dir.join("validator.key"), key)?;
        let peers = keys
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, k)| {
                Ok(PeerEntry {
                    account: k.account(),
                    address: loopback(port(args.base_port, j, 2)?).to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let file = NodeFile {
            genesis: PathBuf::from("../genesis.json"),
            data_dir: PathBuf::from("data"),
            key: PathBuf::from("validator.key"),
            api: loopback(port(args.base_port, i, 0)?),
            sync: Some(loopback(port(args.base_port, i, 1)?)),
            consensus: loopback(port(args.base_port, i, 2)?),
            peers,
            private_orgs: vec![org(i)?.as_str().to_owned()],
        };
        std::fs::write(node_dir.join("node.toml"), toml::to_string_pretty(&file)?)?;
    }
    let layout = Layout {
        chain_id: args.chain_id.clone(),
        validators: args.validators,
        base_port: args.base_port,
    };
    std::fs::write(&layout_file, serde_json::to_string_pretty(&layout)? + "\n")?;
    Ok(layout)
}

/// The validator processes; killed when dropped so none outlives the command.
struct Processes(Vec<(usize, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Processes {
    /// Asks every process to stop (SIGTERM), then kills what is left after `grace`.
    fn stop(&mut self, grace: Duration) {
        for (_, child) in &self.0 {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        let deadline = Instant::now() + grace;
        for (_, child) in &mut self.0 {
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

pub async fn run(args: TestnetArgs, out: Out) -> Result<(), Failure> {
    let layout = prepare(&args)?;
    if args.init_only {
        let mut validators = Vec::new();
        for i in 0..layout.validators {
            let config = args.dir.join(format!("node-{i}/node.toml"));
            let file = NodeFile::read(&config)?;
            validators.push(json!({
                "index": i,
                "config": config,
                "key": file.key,
                "api": format!("http://{}", file.api),
                "consensus": file.consensus.to_string(),
            }));
        }
        out.print(
            &json!({"chain_id": layout.chain_id, "genesis": args.dir.join("genesis.json"), "validators": validators}),
            &format!(
                "wrote genesis and {} validator configs in {}; run each with `weft node run --config {}/node-N/node.toml`",
                layout.validators,
                args.dir.display(),
                args.dir.display()
            ),
        );
        return Ok(());
    }
    let exe = std::env::current_exe().context("locating the weft binary")?;
    let mut procs = Processes(Vec::new());
    let mut nodes = Vec::new();
    for i in 0..layout.validators {
        let node_dir = args.dir.join(format!("node-{i}"));
        let config = node_dir.join("node.toml");
        let file = NodeFile::read(&config)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node_dir.join("node.log"))
            .context("opening the node log")?;
        let child = Command::new(&exe)
            .args(["--log-format", "json", "node", "run", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("opening the node log")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting validator {i}"))?;
        procs.0.push((i, child));
        let key = keys::read(&file.key)?;
        nodes.push((i, key.account(), file));
    }
    // Ready when every API answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    for (i, _, file) in &nodes {
        let client = Client::new(format!("http://{}", file.api));
        loop {
            if client.status().await.is_ok() {
                break;
            }
            if let Some((_, child)) = procs.0.iter_mut().find(|(j, _)| j == i)
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(Failure::other(anyhow!(
                    "validator {i} exited ({status}); see {}",
                    args.dir.join(format!("node-{i}/node.log")).display()
                )));
            }
            if Instant::now() > deadline {
                return Err(Failure::other(anyhow!(
                    "validator {i} did not answer on {} within 60 s",
                    file.api
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let list: Vec<_> = nodes
        .iter()
        .map(|(i, account, f)| {
            json!({"index": i, "account": account, "api": format!("http://{}", f.api), "consensus": f.consensus.to_string(), "log": args.dir.join(format!("node-{i}/node.log"))})
        })
        .collect();
    let mut text = format!(
        "testnet {} with {} validators in {} (Ctrl-C stops them all)\n",
        layout.chain_id,
        layout.validators,
        args.dir.display()
    );
    for (i, account, f) in &nodes {
        text.push_str(&format!(
            "  validator {i}: API http://{}  consensus {}  account {account}\n",
            f.api, f.consensus
        ));
    }
    text.push_str(&format!(
        "genesis: {}; admin keys: node-*/validator.key",
        args.dir.join("genesis.json").display()
    ));
    out.print(
        &json!({"chain_id": layout.chain_id, "dir": args.dir, "genesis": args.dir.join("genesis.json"), "validators": list}),
        &text,
    );
    // Runs until Ctrl-C; a validator that dies is reported, the others keep running.
    let mut reported = std::collections::BTreeSet::new();
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                for (i, child) in &mut procs.0 {
                    if let Ok(Some(status)) = child.try_wait()
                        && reported.insert(*i)
                    {
                        tracing::warn!(validator = *i, %status, "validator exited");
                        eprintln!("validator {i} exited ({status})");
                    }
                }
            }
        }
    }
    tokio::task::spawn_blocking(move || procs.stop(Duration::from_secs(10)))
        .await
        .map_err(|e| Failure::other(e.into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_file_round_trips_and_refuses_unknown_fields() {
        let file = NodeFile {
            genesis: "genesis.json".into(),
            data_dir: "data".into(),
            key: "validator.key".into(),
            api: loopback(7700),
            sync: None,
            consensus: loopback(7702),
            peers: vec![PeerEntry {
                account: AccountId([7; 32]),
                address: "127.0.0.1:7712".into(),
            }],
            private_orgs: vec![],
        };
        let text = toml::to_string_pretty(&file).unwrap();
        assert_eq!(toml::from_str::<NodeFile>(&text).unwrap(), file);
        assert!(toml::from_str::<NodeFile>(&format!("{text}\nlisten = \"x\"\n")).is_err());
        let addrs = file.peer_addresses().unwrap();
        assert_eq!(addrs[&AccountId([7; 32])], loopback(7712));
    }

    #[test]
    fn ports_do_not_overflow() {
        assert!(port(65_530, 1, 2).is_err());
        assert_eq!(port(7800, 3, 2).unwrap(), 7832);
    }
}
