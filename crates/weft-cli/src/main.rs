//! `weft`: the command line of the Weft ledger.

mod bench;
mod consortium;
mod credential;
mod demo;
mod keys;
mod local;
mod output;
mod pki;
mod private;
mod tx;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use output::{Failure, Out};
use weft_client::{Client, Keypair, TrustAnchor, verify_bundle};
use weft_types::{Genesis, Name};

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Weft: a permissioned ledger for consortia",
    propagate_version = true
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Log format for node output.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create and inspect account keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Create a genesis file.
    #[command(subcommand)]
    Genesis(GenesisCmd),
    /// Run a node.
    #[command(subcommand)]
    Node(NodeCmd),
    /// Build, sign and submit a transaction.
    Tx(tx::TxArgs),
    /// Submit an already signed transaction from a file (JSON, or canonical bytes if `.bin`).
    Submit {
        file: PathBuf,
        /// Return once admitted instead of waiting for the receipt.
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Read blocks, transactions, accounts, state and events.
    #[command(subcommand)]
    Query(QueryCmd),
    /// Check a proof bundle offline against the genesis validator set.
    Verify {
        /// The bundle file (`-` for stdin), as written by `weft query ... --prove --out`.
        bundle: PathBuf,
        /// The chain's genesis file: the validators it names are the trust anchor.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// Work with use-case templates.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// Resolve did:weft DIDs.
    #[command(subcommand)]
    Did(credential::DidCmd),
    /// Issue, present and verify SD-JWT verifiable credentials.
    #[command(subcommand)]
    Credential(credential::CredentialCmd),
    /// The key registry: names, X.509 certificates for live bindings and their verification.
    #[command(subcommand)]
    Pki(pki::PkiCmd),
    /// Confidential data: records with a usage policy, grants, consent, logged reads, purge.
    #[command(subcommand)]
    Private(private::PrivateCmd),
    /// Start a local ledger with a small consortium, run the reference scenarios, serve the API.
    Demo(demo::DemoArgs),
    /// Measure committed throughput and latency against a local node.
    Bench(bench::BenchArgs),
    /// Run a local consortium: N validators, each its own process, on loopback ports.
    Testnet(consortium::TestnetArgs),
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Generate a new key and store it.
    New {
        /// Name of the key in the keys directory ($WEFT_HOME/keys, default ~/.weft/keys).
        name: String,
        /// Write to this file instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show a key's account.
    Show {
        /// Key name or file.
        key: String,
    },
}

#[derive(Subcommand)]
enum TemplateCmd {
    /// Check template files offline with the ledger's own validator; errors name file:line:column.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum GenesisCmd {
    /// Write a genesis file for a chain whose first validator is also its administrator.
    Init {
        #[arg(long, default_value = "weft-local")]
        chain_id: Name,
        /// The validator's key (name or file).
        #[arg(long)]
        validator: String,
        /// The operator organization's id.
        #[arg(long, default_value = "operator")]
        organization: Name,
        /// Blocks per consensus epoch: a validator set scheduled with `weft tx set-validators`
        /// takes over after the last block of the epoch (4 to 1000000).
        #[arg(long, default_value_t = weft_types::DEFAULT_EPOCH_LENGTH)]
        epoch_length: u64,
        #[arg(long, default_value = "genesis.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum NodeCmd {
    /// Run a validator node until Ctrl-C.
    Run(Box<NodeRunArgs>),
    /// Re-execute the stored chain from genesis and check every state root.
    Replay {
        #[arg(long)]
        genesis: PathBuf,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[derive(Args)]
struct NodeRunArgs {
    /// A validator's config file (genesis, data dir, key, addresses, peers): how a
    /// consortium member runs its node; see README "Run a consortium". Replaces the flags
    /// below that it sets.
    #[arg(long, conflicts_with_all = ["genesis", "data_dir", "key", "follow"])]
    config: Option<PathBuf>,
    #[arg(long, required_unless_present = "config")]
    genesis: Option<PathBuf>,
    #[arg(long, required_unless_present = "config")]
    data_dir: Option<PathBuf>,
    /// This validator's key (name or file); omit with --follow for a read replica.
    #[arg(long, required_unless_present_any = ["follow", "config"])]
    key: Option<String>,
    /// Client API address.
    #[arg(long, default_value = "127.0.0.1:7700")]
    api: SocketAddr,
    /// Block sync address for read replicas, separate from the client API.
    #[arg(long, default_value = "127.0.0.1:7701")]
    p2p: SocketAddr,
    /// Consensus address: where this validator accepts the other validators' authenticated,
    /// encrypted connections.
    #[arg(long, default_value = "127.0.0.1:7702")]
    consensus: SocketAddr,
    /// Another validator: `ACCOUNT@HOST:PORT` (its consensus address); repeat for each.
    #[arg(long = "peer", value_name = "ACCOUNT@HOST:PORT")]
    peers: Vec<String>,
    /// Follow this peer's p2p address as a read replica instead of producing blocks.
    #[arg(long, conflicts_with = "key")]
    follow: Option<SocketAddr>,
    /// Propose an empty block when nothing waited this long, so block time keeps moving on
    /// an idle chain (deadlines lapse without a transaction). Below the leader timeout (2 s).
    /// Default: an idle chain grows no blocks.
    #[arg(long)]
    empty_block_interval_ms: Option<u64>,
    /// Most transactions in one block.
    #[arg(long, default_value_t = 20_000)]
    max_block_txs: usize,
    /// Organizations whose confidential payloads this node keeps (comma-separated), or `*`
    /// for all: the single-node default. A consortium node names its own organization.
    #[arg(long, default_value = "*", value_delimiter = ',')]
    private_orgs: Vec<String>,
    /// Member key (name or file) this node fetches confidential payloads from its peers
    /// with; defaults to --key. Peers hand over only what its organization may hold.
    #[arg(long)]
    operator: Option<String>,
    /// Client API URL of a node to fetch confidential payloads from (repeatable).
    #[arg(long = "private-peer")]
    private_peers: Vec<String>,
}

#[derive(Args, Clone)]
pub(crate) struct NodeUrl {
    /// The node's API.
    #[arg(long, env = "WEFT_NODE", default_value = "http://127.0.0.1:7700")]
    pub node: String,
    /// Read as this member (key name or file): requests are signed with it, and the node
    /// shows what that member may see. Without it, only what the consortium made public.
    #[arg(long = "as", value_name = "KEY", env = "WEFT_AS")]
    pub as_key: Option<String>,
}

impl NodeUrl {
    /// A client for the node, signing reads with `--as` if given, else with `fallback`.
    pub(crate) fn client(&self, fallback: Option<&Keypair>) -> anyhow::Result<Client> {
        let client = Client::new(self.node.clone());
        Ok(match (&self.as_key, fallback) {
            (Some(k), _) => client.as_member(&keys::read(&keys::resolve(k))?),
            (None, Some(key)) => client.as_member(key),
            (None, None) => client,
        })
    }
}

#[derive(Subcommand)]
enum QueryCmd {
    /// Chain status.
    Status(NodeUrl),
    /// A block by height, hash, or `latest`.
    Block {
        id: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// A transaction's status and receipt.
    Tx {
        hash: String,
        /// Include a proof bundle.
        #[arg(long)]
        prove: bool,
        /// Write the proof bundle to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// An account: organization, roles, nonce, balances.
    Account {
        /// Account hex or key name.
        account: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// A state value by key path (e.g. balance/usd/<account>).
    State {
        key: String,
        #[arg(long)]
        height: Option<u64>,
        #[arg(long)]
        prove: bool,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Records by key prefix (e.g. `organization/`, `token/`, `instance/`), in key order,
    /// only those visible to the reader (`--as`).
    List {
        prefix: String,
        /// Resume after this key (the previous page's `next`).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Events by account and/or topic.
    Events {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        topic: Option<String>,
        #[arg(long, default_value_t = 0)]
        from_height: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        url: NodeUrl,
    },
}

fn init_tracing(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn read_genesis(path: &PathBuf) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading genesis {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid genesis file", path.display()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return out.fail(&Failure::other(anyhow::anyhow!(
                "cannot start the runtime: {e}"
            )));
        }
    };
    let default_log = match &cli.command {
        Command::Node(_) => "info",
        _ => "warn",
    };
    init_tracing(cli.log_format, default_log);
    match runtime.block_on(run(cli.command, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => out.fail(&failure),
    }
}

async fn run(command: Command, out: Out) -> Result<(), Failure> {
    match command {
        Command::Keys(KeysCmd::New { name, out: file }) => {
            let path = file.unwrap_or_else(|| keys::resolve(&name));
            let key = Keypair::generate().map_err(|e| Failure::other(e.into()))?;
            keys::write(&path, &key)?;
            out.print(
                &serde_json::json!({"name": name, "account": key.account(), "file": path}),
                &format!(
                    "created key {name}\n  account {}\n  file    {}",
                    key.account(),
                    path.display()
                ),
            );
        }
        Command::Keys(KeysCmd::Show { key }) => {
            let path = keys::resolve(&key);
            let k = keys::read(&path)?;
            out.print(
                &serde_json::json!({"account": k.account(), "file": path}),
                &k.account().to_string(),
            );
        }
        Command::Genesis(GenesisCmd::Init {
            chain_id,
            validator,
            organization,
            epoch_length,
            out: file,
        }) => {
            let key = keys::read(&keys::resolve(&validator))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let mut genesis = weft_client::consortium::genesis(chain_id, &key, organization, now);
            genesis.epoch_length = epoch_length;
            weft_execution::genesis_writes(&genesis).map_err(|e| Failure::other(e.into()))?;
            if file.exists() {
                return Err(Failure::other(anyhow::anyhow!(
                    "{} exists; refusing to overwrite a genesis",
                    file.display()
                )));
            }
            std::fs::write(
                &file,
                serde_json::to_string_pretty(&genesis).map_err(|e| Failure::other(e.into()))?
                    + "\n",
            )
            .with_context(|| format!("writing {}", file.display()))?;
            out.print(
                &serde_json::json!({"file": file, "chain_id": genesis.chain_id, "validator": key.account()}),
                &format!("wrote {} for chain {} (validator and admin {})", file.display(), genesis.chain_id, key.account()),
            );
        }
        Command::Node(NodeCmd::Run(args)) => node_run(*args, out).await?,
        Command::Node(NodeCmd::Replay { genesis, data_dir }) => {
            let genesis = read_genesis(&genesis)?;
            let scratch = tempfile::tempdir().context("creating a scratch dir")?;
            let report =
                tokio::task::spawn_blocking(move || -> Result<weft_node::replay::ReplayReport> {
                    let store = weft_storage::Store::open(&data_dir)?;
                    Ok(weft_node::replay::replay(&store, &genesis, scratch.path())?)
                })
                .await
                .map_err(|e| Failure::other(e.into()))??;
            out.print(
                &serde_json::json!({"height": report.height, "blocks": report.blocks, "transactions": report.transactions, "state_root": report.state_root}),
                &format!("replayed {} blocks ({} transactions) up to height {}: every state root matches ({})", report.blocks, report.transactions, report.height, report.state_root),
            );
        }
        Command::Tx(args) => tx::run(args, out).await?,
        Command::Submit { file, no_wait, url } => tx::submit_file(&file, no_wait, url, out).await?,
        Command::Query(q) => query(q, out).await?,
        Command::Verify { bundle, genesis } => verify(&bundle, &genesis, out)?,
        Command::Template(TemplateCmd::Validate { files }) => validate_templates(&files, out)?,
        Command::Did(cmd) => credential::did(cmd, out).await?,
        Command::Credential(cmd) => credential::credential(cmd, out).await?,
        Command::Pki(cmd) => pki::pki(cmd, out).await?,
        Command::Private(cmd) => private::private(cmd, out).await?,
        Command::Demo(args) => demo::run(args, out).await?,
        Command::Bench(args) => bench::run(args, out).await?,
        Command::Testnet(args) => consortium::run(args, out).await?,
    }
    Ok(())
}

fn private_scope(orgs: &[String]) -> Result<weft_node::OrgScope, Failure> {
    if orgs.iter().any(|o| o == "*") {
        return Ok(weft_node::OrgScope::All);
    }
    let mut set = std::collections::BTreeSet::new();
    for o in orgs {
        set.insert(
            weft_types::Name::new(o.as_str())
                .map_err(|e| Failure::other(anyhow::anyhow!("--private-orgs: {e}")))?,
        );
    }
    Ok(weft_node::OrgScope::Only(set))
}

fn parse_peer(text: &str) -> Result<(weft_types::AccountId, SocketAddr), Failure> {
    use std::net::ToSocketAddrs as _;
    let usage = || Failure::usage(format!("--peer {text}: expected ACCOUNT@HOST:PORT"));
    let (account, addr) = text.split_once('@').ok_or_else(usage)?;
    let account = keys::account(account).map_err(|_| usage())?;
    let addr = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(usage)?;
    Ok((account, addr))
}

async fn node_run(mut args: NodeRunArgs, out: Out) -> Result<(), Failure> {
    let mut peers = std::collections::BTreeMap::new();
    let mut key_path = args.key.as_deref().map(keys::resolve);
    if let Some(path) = &args.config {
        let file = consortium::NodeFile::read(path)?;
        args.genesis = Some(file.genesis.clone());
        args.data_dir = Some(file.data_dir.clone());
        key_path = Some(file.key.clone());
        args.api = file.api;
        args.consensus = file.consensus;
        if let Some(sync) = file.sync {
            args.p2p = sync;
        }
        if !file.private_orgs.is_empty() {
            args.private_orgs = file.private_orgs.clone();
        }
        peers = file.peer_addresses()?;
    }
    for p in &args.peers {
        let (account, addr) = parse_peer(p)?;
        peers.insert(account, addr);
    }
    let (Some(genesis_path), Some(data_dir)) = (args.genesis.clone(), args.data_dir.clone()) else {
        return Err(Failure::usage(
            "--genesis and --data-dir (or --config) are required".into(),
        ));
    };
    let genesis = read_genesis(&genesis_path)?;
    let key = match &key_path {
        Some(k) => Some(keys::read(k)?),
        None => None,
    };
    let mut consensus = weft_node::ConsensusConfig {
        listen: args.consensus,
        peers,
        ..weft_node::ConsensusConfig::default()
    };
    consensus.app.empty_block_interval = args.empty_block_interval_ms.map(Duration::from_millis);
    consensus.check().map_err(Failure::usage)?;
    let options = local::LocalOptions {
        consensus,
        max_block_txs: args
            .max_block_txs
            .clamp(1, weft_types::limits::MAX_BLOCK_TXS),
        p2p: Some(args.p2p),
        follow: args.follow,
        private_scope: private_scope(&args.private_orgs)?,
        operator: match &args.operator {
            Some(k) => Some(keys::read(&keys::resolve(k))?),
            None => None,
        },
        private_peers: args.private_peers.clone(),
    };
    let consensus_addr = args.consensus;
    let node = local::LocalNode::start(&data_dir, genesis, key, args.api, options).await?;
    let head = node
        .node
        .chain()
        .head()
        .map_err(|e| Failure::other(e.into()))?;
    out.print(
        &serde_json::json!({"api": node.url(), "p2p": node.p2p, "consensus": node.node.is_validator().then(|| consensus_addr.to_string()), "chain_id": node.node.chain().chain_id(), "height": head.height, "validator": node.node.is_validator(), "validators": node.node.consensus().map(|c| c.validators().len())}),
        &format!(
            "node running: chain {} at height {} ({}), API {}, block sync {}{}",
            node.node.chain().chain_id(),
            head.height,
            if node.node.is_validator() { "validator" } else { "read replica" },
            node.url(),
            node.p2p.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            node.node.consensus().map_or_else(String::new, |c| format!(
                ", consensus {consensus_addr} with {} validator(s)",
                c.validators().len()
            ))
        ),
    );
    local::shutdown_signal().await;
    tracing::info!("shutting down");
    node.stop().await?;
    Ok(())
}

async fn query(q: QueryCmd, out: Out) -> Result<(), Failure> {
    let show =
        |v: &serde_json::Value| out.print(v, &serde_json::to_string_pretty(v).unwrap_or_default());
    let write_proof = |v: &serde_json::Value, file: &Option<PathBuf>| -> Result<(), Failure> {
        if let (Some(file), Some(proof)) = (file, v.get("proof")) {
            std::fs::write(
                file,
                serde_json::to_string_pretty(proof).unwrap_or_default() + "\n",
            )
            .with_context(|| format!("writing {}", file.display()))?;
            if !out.json {
                eprintln!("proof bundle written to {}", file.display());
            }
        }
        Ok(())
    };
    match q {
        QueryCmd::Status(url) => show(&url.client(None)?.status().await?),
        QueryCmd::Block { id, url } => show(&url.client(None)?.block(&id).await?),
        QueryCmd::Tx {
            hash,
            prove,
            out: file,
            url,
        } => {
            let hash = hash
                .parse()
                .map_err(|e| Failure::usage(format!("bad transaction hash: {e}")))?;
            let v = url
                .client(None)?
                .transaction(&hash, prove || file.is_some())
                .await?;
            write_proof(&v, &file)?;
            show(&v);
        }
        QueryCmd::Account { account, url } => {
            let account = keys::account(&account)?;
            show(&url.client(None)?.account(&account).await?);
        }
        QueryCmd::State {
            key,
            height,
            prove,
            out: file,
            url,
        } => {
            let v = url
                .client(None)?
                .state(&key, prove || file.is_some(), height)
                .await?;
            write_proof(&v, &file)?;
            show(&v);
        }
        QueryCmd::List {
            prefix,
            after,
            limit,
            url,
        } => {
            let v = url
                .client(None)?
                .list_state(&prefix, after.as_deref(), limit)
                .await?;
            let mut text: Vec<String> = v["entries"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|e| e["key"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(next) = v["next"].as_str() {
                text.push(format!("(more: --after {next})"));
            }
            out.print(&v, &text.join("\n"));
        }
        QueryCmd::Events {
            account,
            topic,
            from_height,
            limit,
            url,
        } => {
            let mut path = format!("/v1/events?from_height={from_height}&limit={limit}");
            if let Some(a) = account {
                path.push_str(&format!("&account={}", keys::account(&a)?));
            }
            if let Some(t) = topic {
                path.push_str(&format!("&topic={t}"));
            }
            show(&url.client(None)?.get::<serde_json::Value>(&path).await?);
        }
    }
    Ok(())
}

fn validate_templates(files: &[PathBuf], out: Out) -> Result<(), Failure> {
    let mut reports = Vec::new();
    let mut invalid = 0usize;
    for file in files {
        let source =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        match weft_execution::workflow::parse_yaml(&source) {
            Ok(t) => {
                if !out.json {
                    println!(
                        "{}: ok — {} v{}: {} states, {} transitions, {} roles",
                        file.display(),
                        t.id,
                        t.version,
                        t.states.len(),
                        t.transitions.len(),
                        t.roles.len()
                    );
                }
                reports.push(serde_json::json!({"file": file, "valid": true, "id": t.id, "version": t.version}));
            }
            Err(errors) => {
                invalid += 1;
                if !out.json {
                    for e in &errors {
                        eprintln!(
                            "{}:{}:{}: {} (at {})",
                            file.display(),
                            e.line,
                            e.column,
                            e.message,
                            e.path
                        );
                    }
                }
                reports.push(serde_json::json!({"file": file, "valid": false, "errors": errors}));
            }
        }
    }
    if out.json {
        println!(
            "{}",
            serde_json::json!({"valid": invalid == 0, "templates": reports})
        );
    }
    if invalid > 0 {
        return Err(Failure {
            kind: "invalid",
            code: Some("invalid_template".into()),
            message: format!("{invalid} of {} templates are invalid", files.len()),
            exit: 2,
            reported: out.json,
        });
    }
    Ok(())
}

fn verify(bundle: &PathBuf, genesis: &PathBuf, out: Out) -> Result<(), Failure> {
    let text = if bundle.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the bundle from stdin")?
    } else {
        std::fs::read_to_string(bundle).with_context(|| format!("reading {}", bundle.display()))?
    };
    if text.len() > 16 * 1024 * 1024 {
        return Err(Failure::verification(
            "bundle file is larger than 16 MiB".into(),
        ));
    }
    // A proof bundle may be given bare or inside a query answer.
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure::verification(format!("not JSON: {e}")))?;
    let value = match value.get("header") {
        Some(_) => value,
        None => value.get("proof").cloned().unwrap_or(value),
    };
    let bundle: weft_client::ProofBundle = serde_json::from_value(value)
        .map_err(|e| Failure::verification(format!("not a proof bundle: {e}")))?;
    let genesis = read_genesis(genesis)?;
    let anchor = TrustAnchor {
        chain_id: genesis.chain_id.clone(),
        validators: genesis.validators.iter().map(|v| v.account).collect(),
    };
    let record =
        verify_bundle(&bundle, &anchor).map_err(|e| Failure::verification(e.to_string()))?;
    let what = match &bundle.proof {
        weft_client::RecordProof::State { key, value, .. } => match value {
            Some(v) => format!("state {key} = 0x{v}"),
            None => format!("state {key} is absent"),
        },
        weft_client::RecordProof::Transaction {
            tx_index, receipt, ..
        } => {
            format!(
                "transaction {} at index {tx_index} ({:?})",
                receipt.tx_hash, receipt.status
            )
        }
    };
    out.print(
        &serde_json::json!({"verified": true, "reference": bundle.reference, "height": record.height, "block_hash": record.block_hash, "timestamp_ms": record.timestamp_ms}),
        &format!("verified: {what}\n  at height {} in block {}\n  finalized by the genesis validator set of {}", record.height, record.block_hash, anchor.chain_id),
    );
    Ok(())
}
