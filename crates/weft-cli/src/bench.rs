//! `weft bench`: pre-signed transfers through the API of a local node, measured against the
//! machine's own batch signature-verification rate from the same run.

#![allow(clippy::float_arithmetic)] // rates and percentiles are reporting, not execution

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use weft_client::{Client, Keypair};
use weft_crypto::{
    PreparedKeys, sign_transaction, tx_hash, tx_signing_message, verify_prehashed_parallel,
    verify_prepared_parallel, verify_transactions_parallel,
};
use weft_types::{
    Amount, GenesisAccount, GenesisOrganization, GenesisToken, Hash, Name, Operation,
    SignedTransaction, Transaction, Transfer,
};

use crate::{
    local::{LocalNode, LocalOptions},
    output::{Failure, Out},
};

/// What `weft bench` measures.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Plain token transfers.
    Transfers,
    /// Transfers, then the same number of template transitions (each moving a token through
    /// a workflow effect) on the same node, to compare the two.
    Templates,
}

#[derive(Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value = "transfers")]
    workload: Workload,
    /// Transfers to submit.
    #[arg(long, default_value_t = 100_000)]
    txs: usize,
    /// Distinct sending accounts.
    #[arg(long, default_value_t = 2_000)]
    accounts: usize,
    /// Transactions per API request.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// API requests in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Most transactions submitted but not yet committed (keep below the mempool's 200,000).
    #[arg(long, default_value_t = 60_000)]
    window: usize,
    #[arg(long, default_value_t = 20_000)]
    max_block_txs: usize,
    /// Validators of the local chain, each a full node with its own consensus engine on
    /// loopback; transactions go to the first and are finalized by all.
    #[arg(long, default_value_t = 1)]
    validators: usize,
    /// Give up waiting for commits after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

fn name(s: &str) -> Name {
    Name::new(s).expect("bench names are valid")
}

/// `n` loopback addresses that were free a moment ago (the OS picks them).
fn free_loopback_addrs(n: usize) -> Result<Vec<std::net::SocketAddr>, Failure> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::other(e.into()))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map_err(|e| Failure::other(e.into())))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Signs in parallel on every core.
fn sign_all(
    bodies: Vec<Transaction>,
    keys: &[Keypair],
    index_of: &BTreeMap<weft_types::AccountId, usize>,
) -> Vec<SignedTransaction> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = bodies.len().div_ceil(threads).max(1);
    let mut out = Vec::with_capacity(bodies.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|t| sign_transaction(t.clone(), &[&keys[index_of[&t.signer]]]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            out.extend(h.join().unwrap_or_default());
        }
    });
    out
}

pub async fn run(args: BenchArgs, out: Out) -> Result<(), Failure> {
    let accounts = args.accounts.max(2);
    let total = args.txs.max(1);
    let validator = Keypair::generate().map_err(|e| Failure::other(e.into()))?;
    let n_validators = args.validators.clamp(1, weft_types::limits::MAX_VALIDATORS);
    let others: Vec<Keypair> = (1..n_validators)
        .map(|_| Keypair::generate())
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::other(e.into()))?;
    let keys: Vec<Keypair> = (0..accounts)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            seed[31] = 0xbe;
            Keypair::from_seed(seed)
        })
        .collect();
    let index_of: BTreeMap<_, _> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.account(), i))
        .collect();
    let mut genesis = weft_client::consortium::genesis(
        name("weft-bench"),
        &validator,
        name("operator"),
        1_700_000_000_000,
    );
    genesis.organizations.push(GenesisOrganization {
        id: name("bench"),
        display_name: "Bench".into(),
    });
    genesis
        .validators
        .extend(others.iter().map(|k| weft_types::GenesisValidator {
            account: k.account(),
            organization: name("operator"),
        }));
    // Both phases of the templates workload spend from the same balances.
    let per_account_txs = 2 * total.div_ceil(accounts) as u128;
    genesis.roles.insert(
        name("bench"),
        vec![
            "token.transfer".to_owned(),
            "workflow.transition".to_owned(),
        ],
    );
    genesis.accounts.extend(keys.iter().map(|k| GenesisAccount {
        account: k.account(),
        organization: name("bench"),
        roles: vec![name("bench")],
    }));
    genesis.tokens.push(GenesisToken {
        symbol: name("bench"),
        display_name: "Bench token".into(),
        decimals: 0,
        issuer: validator.account(),
        max_supply: None,
        balances: keys
            .iter()
            .map(|k| (k.account(), Amount(per_account_txs + 1)))
            .collect(),
    });

    // Round-major order: every account's nonce r before any account's nonce r+1.
    let bodies: Vec<Transaction> = (0..total)
        .map(|i| {
            let (round, who) = (i / accounts, i % accounts);
            Transaction {
                chain_id: genesis.chain_id.clone(),
                signer: keys[who].account(),
                nonce: round as u64,
                expiry_height: u64::MAX,
                operations: vec![Operation::Transfer(Transfer {
                    symbol: name("bench"),
                    to: keys[(who + 1) % accounts].account(),
                    amount: Amount(1),
                })],
                memo: String::new(),
            }
        })
        .collect();
    if !out.json {
        eprintln!("signing {total} transfers from {accounts} accounts…");
    }
    let txs = sign_all(bodies, &keys, &index_of);
    let hashes: Vec<Hash> = txs.iter().map(|t| tx_hash(&t.tx)).collect();

    // The ceiling: bare ed25519 batch verification of the very same signatures on all cores,
    // messages pre-hashed and keys pre-decoded, so only signature arithmetic is timed. This is
    // the strictest reference (the node caches decoded keys too). The rate with a key decode
    // per signature is reported beside it.
    let messages: Vec<[u8; 46]> = hashes.iter().map(tx_signing_message).collect();
    let signatures: Vec<_> = txs.iter().map(|t| t.signatures[0].signature).collect();
    let signers: Vec<_> = txs.iter().map(|t| t.tx.signer).collect();
    let prepared = PreparedKeys::new(&signers)
        .ok_or_else(|| Failure::other(anyhow::anyhow!("bench keys are invalid")))?;
    // Warm the thread pool and caches so the timed passes measure steady state.
    let warm = total.min(4096);
    verify_prehashed_parallel(&messages[..warm], &signatures[..warm], &signers[..warm]);
    let started = Instant::now();
    if !verify_prepared_parallel(&messages, &signatures, &prepared) {
        return Err(Failure::other(anyhow::anyhow!(
            "bench signatures failed verification"
        )));
    }
    let verify_ceiling_tps = total as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    verify_prehashed_parallel(&messages, &signatures, &signers);
    let decoding_ceiling_tps = total as f64 / started.elapsed().as_secs_f64();
    // What admission actually does per transaction: decode-level checks, hashing, batch verify.
    let started = Instant::now();
    let verified = verify_transactions_parallel(&txs);
    let admission_verify_tps = total as f64 / started.elapsed().as_secs_f64();
    if verified.iter().any(Result::is_err) {
        return Err(Failure::other(anyhow::anyhow!(
            "bench transactions failed verification"
        )));
    }

    let dir = tempfile::Builder::new()
        .prefix("weft-bench-")
        .tempdir()
        .context("temp dir")?;
    let all_validators: Vec<Keypair> = std::iter::once(validator.clone())
        .chain(others.iter().cloned())
        .collect();
    let consensus_addrs = free_loopback_addrs(all_validators.len())?;
    let loopback_any: std::net::SocketAddr = "127.0.0.1:0"
        .parse()
        .map_err(|e: std::net::AddrParseError| Failure::other(e.into()))?;
    let options_for = |i: usize| {
        let mut consensus = weft_node::ConsensusConfig {
            listen: consensus_addrs[i],
            ..weft_node::ConsensusConfig::default()
        };
        consensus.peers = all_validators
            .iter()
            .zip(&consensus_addrs)
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (k, a))| (k.account(), *a))
            .collect();
        LocalOptions {
            consensus,
            max_block_txs: args.max_block_txs,
            ..LocalOptions::default()
        }
    };
    let genesis_for_templates = genesis.chain_id.clone();
    let validator_key = validator.clone();
    // The other validators first: the first one's API is what the bench drives.
    let mut peers = Vec::new();
    for (i, key) in others.iter().enumerate() {
        peers.push(
            LocalNode::start(
                &dir.path().join(format!("validator-{}", i + 1)),
                genesis.clone(),
                Some(key.clone()),
                loopback_any,
                options_for(i + 1),
            )
            .await?,
        );
    }
    let node = LocalNode::start(
        &dir.path().join("validator-0"),
        genesis,
        Some(validator.clone()),
        loopback_any,
        options_for(0),
    )
    .await?;
    // Measure the consortium once its validators reach each other: a transaction admitted
    // while a peer is still unreachable is gossiped to nobody, so only its own node could
    // propose it, and the run would open with view changes that are about start-up, not
    // throughput. Every validator having seen a view end (a quorum certificate) means the
    // links are up; an idle chain ends views by nullification, within the idle wait.
    let warmup = Instant::now();
    if n_validators > 1 {
        let settled = |n: &LocalNode| {
            n.node
                .consensus()
                .is_some_and(|c| c.evidence.current_view() >= 2)
        };
        while !(settled(&node) && peers.iter().all(settled)) {
            if warmup.elapsed() > Duration::from_secs(60) {
                return Err(Failure::other(anyhow::anyhow!(
                    "the validators did not connect within 60 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let warmup_ms = warmup.elapsed().as_millis() as u64;
    let client = Client::new(node.url()).as_member(&validator);
    let phase = drive(&node, &client, &txs, &hashes, &args, !out.json).await?;
    let (committed, rejected, block_count, elapsed) =
        (phase.committed, phase.rejected, phase.blocks, phase.seconds);
    let latencies_ms = phase.latencies_ms;
    let committed_tps = phase.committed as f64 / elapsed;
    let templates = if args.workload == Workload::Templates {
        let template_phase = templates_phase(
            &node,
            &client,
            &genesis_for_templates,
            &validator_key,
            &keys,
            &index_of,
            total,
            &args,
            out,
        )
        .await?;
        Some(json!({
            "transfer_tps": committed_tps.round(),
            "template_tps": template_phase.tps().round(),
            "template_to_transfer": (template_phase.tps() / committed_tps * 1000.0).round() / 1000.0,
            "template_p50_ms": percentile(&template_phase.latencies_ms, 50.0).round(),
            "template_p99_ms": percentile(&template_phase.latencies_ms, 99.0).round(),
            "template_blocks": template_phase.blocks,
        }))
    } else {
        None
    };
    let report = json!({
        "txs": total,
        "warmup_ms": warmup_ms,
        "accounts": accounts,
        "committed": committed,
        "rejected": rejected,
        "blocks": block_count,
        "seconds": elapsed,
        "committed_tps": committed_tps.round(),
        "p50_ms": percentile(&latencies_ms, 50.0).round(),
        "p99_ms": percentile(&latencies_ms, 99.0).round(),
        "verify_ceiling_tps": verify_ceiling_tps.round(),
        "ratio_to_ceiling": (committed_tps / verify_ceiling_tps * 1000.0).round() / 1000.0,
        "verify_with_key_decoding_tps": decoding_ceiling_tps.round(),
        "admission_verify_tps": admission_verify_tps.round(),
        "durable": true,
        "workload": if args.workload == Workload::Templates { "templates" } else { "transfers" },
        "transfer_tps": templates.as_ref().map(|t| t["transfer_tps"].clone()),
        "template_tps": templates.as_ref().map(|t| t["template_tps"].clone()),
        "templates": templates,
        "cores": std::thread::available_parallelism().map_or(1, usize::from),
        "validators": n_validators,
    });
    node.stop().await?;
    for peer in peers {
        peer.stop().await?;
    }
    out.print(
        &report,
        &(format!(
            "committed {committed}/{total} transfers in {elapsed:.2}s over {block_count} blocks ({rejected} rejected), {n_validators} validator(s)\n  committed_tps      {:.0}\n  p50 / p99 latency  {:.0} ms / {:.0} ms (submit → committed)\n  verify ceiling     {:.0} sig/s (ed25519 batch verification of the same signatures, all cores, keys pre-decoded)\n  ratio              {:.1}% of the ceiling\n  with key decoding  {:.0} sig/s\n  admission checks   {:.0} tx/s (hash + structure + batch verify, key cache)",
            committed_tps,
            percentile(&latencies_ms, 50.0),
            percentile(&latencies_ms, 99.0),
            verify_ceiling_tps,
            committed_tps / verify_ceiling_tps * 100.0,
            decoding_ceiling_tps,
            admission_verify_tps,
        ) + &report["templates"].as_object().map_or_else(String::new, |t| {
            format!(
                "\n  template_tps       {} ({}× transfer_tps; p50 / p99 {} ms / {} ms)",
                t["template_tps"], t["template_to_transfer"], t["template_p50_ms"], t["template_p99_ms"]
            )
        })),
    );
    Ok(())
}

/// What one measured phase achieved.
struct Phase {
    committed: usize,
    rejected: usize,
    blocks: u64,
    seconds: f64,
    /// Submit → committed, sorted.
    latencies_ms: Vec<f64>,
}

impl Phase {
    fn tps(&self) -> f64 {
        self.committed as f64 / self.seconds
    }
}

/// Submits pre-signed `txs` through the API within the in-flight window and waits for their
/// commits, timing each from submission to the block that holds it.
async fn drive(
    node: &LocalNode,
    client: &Client,
    txs: &[SignedTransaction],
    hashes: &[Hash],
    args: &BenchArgs,
    show_progress: bool,
) -> Result<Phase, Failure> {
    let mut blocks = node.node.subscribe();
    let total = txs.len();

    let progress = if !show_progress {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} committed {pos}/{len} [{bar:40}] {per_sec} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    };

    let submit_times: std::sync::Arc<std::sync::Mutex<HashMap<Hash, Instant>>> = Default::default();
    let start = Instant::now();
    let batches: Vec<(Vec<SignedTransaction>, Vec<Hash>)> = txs
        .chunks(args.batch.max(1))
        .zip(hashes.chunks(args.batch.max(1)))
        .map(|(t, h)| (t.to_vec(), h.to_vec()))
        .collect();
    // Keep at most `window` transactions in flight (submitted, not yet committed), well
    // below the mempool's capacity: a refused transaction would leave a nonce gap that
    // strands its account's later transactions.
    let window = args.window.max(args.batch);
    let committed_shared = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let feeder = {
        let committed_shared = committed_shared.clone();
        let client = client.clone();
        let submit_times = submit_times.clone();
        let concurrency = args.concurrency.max(1);
        tokio::spawn(async move {
            let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
            let mut submitted = 0usize;
            let mut submitters = Vec::new();
            for (batch, batch_hashes) in batches {
                while submitted
                    .saturating_sub(committed_shared.load(std::sync::atomic::Ordering::Relaxed))
                    + batch.len()
                    > window
                {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                submitted += batch.len();
                let Ok(permit) = semaphore.clone().acquire_owned().await else {
                    break;
                };
                let client = client.clone();
                let times = submit_times.clone();
                submitters.push(tokio::spawn(async move {
                    let now = Instant::now();
                    {
                        let mut t = times
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        for h in &batch_hashes {
                            t.insert(*h, now);
                        }
                    }
                    let result = client.submit_batch(&batch).await;
                    drop(permit);
                    result.map(|rs| rs.into_iter().filter(Result::is_err).count())
                }));
            }
            let mut rejected = 0;
            for handle in submitters {
                rejected += handle
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?
                    .map_err(|e| anyhow::anyhow!(e))?;
            }
            Ok::<usize, anyhow::Error>(rejected)
        })
    };

    let mut latencies_ms: Vec<f64> = Vec::with_capacity(total);
    let mut committed = 0usize;
    let mut last_commit = start;
    let deadline = start + Duration::from_secs(args.timeout_secs);
    let mut block_count = 0u64;
    let mut rejected = 0usize;
    let mut feeder = Some(feeder);
    let stall_limit = Duration::from_secs(30);
    while committed + rejected < total {
        if feeder
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished)
            && let Some(handle) = feeder.take()
        {
            rejected += handle.await.map_err(|e| Failure::other(e.into()))??;
            continue;
        }
        if feeder.is_none() && last_commit.elapsed() > stall_limit {
            return Err(Failure::other(anyhow::anyhow!(
                "stalled: {} transactions neither committed nor refused after {}s without a block",
                total - committed - rejected,
                stall_limit.as_secs()
            )));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        match tokio::time::timeout(remaining.min(Duration::from_millis(200)), blocks.recv()).await {
            Ok(Ok(block)) => {
                let now = Instant::now();
                block_count += 1;
                let times = submit_times
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for h in &block.tx_hashes {
                    if let Some(t) = times.get(h) {
                        latencies_ms.push(now.duration_since(*t).as_secs_f64() * 1000.0);
                        committed += 1;
                    }
                }
                last_commit = now;
                committed_shared.store(committed, std::sync::atomic::Ordering::Relaxed);
                progress.set_position(committed as u64);
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                return Err(Failure::other(anyhow::anyhow!(
                    "bench fell {n} blocks behind the node's notifications"
                )));
            }
            Ok(Err(e)) => return Err(Failure::other(e.into())),
            Err(_) => {}
        }
    }
    progress.finish_and_clear();
    let seconds = last_commit.duration_since(start).as_secs_f64().max(1e-9);
    latencies_ms.sort_by(f64::total_cmp);
    if committed + rejected < total {
        return Err(Failure::other(anyhow::anyhow!(
            "only {committed} of {total} transactions committed before the timeout"
        )));
    }
    Ok(Phase {
        committed,
        rejected,
        blocks: block_count,
        seconds,
        latencies_ms,
    })
}

/// A payment loop: the payer's `pay` transition moves one unit to the payee through a
/// workflow effect, guarded by a CEL expression: the template path end to end.
const BENCH_TEMPLATE: &str = "id: bench-pay
version: 1
title: Bench payment loop
roles:
  payer: pays
  payee: is paid
parameters:
  currency: token
  unit: amount
states:
  - name: active
    initial: true
  - name: closed
    final: true
transitions:
  - name: pay
    from: active
    to: active
    by: payer
    guard: unit > 0u
    effects:
      - transfer: { token: $currency, from: payer, to: payee, amount: $unit }
  - name: close
    from: active
    to: closed
    by: payer
visibility:
  roles: [payer, payee]
";

/// Deploys the bench template, opens one instance per account (not timed), then measures as
/// many `pay` transitions as the transfer phase had transfers.
#[allow(clippy::too_many_arguments)]
async fn templates_phase(
    node: &LocalNode,
    client: &Client,
    chain_id: &Name,
    validator: &Keypair,
    keys: &[Keypair],
    index_of: &BTreeMap<weft_types::AccountId, usize>,
    total: usize,
    args: &BenchArgs,
    out: Out,
) -> Result<Phase, Failure> {
    let accounts = keys.len();
    let mut setup = vec![vec![Operation::DeployTemplate(
        weft_types::DeployTemplate {
            source: BENCH_TEMPLATE.to_owned(),
        },
    )]];
    let creates: Vec<Operation> = (0..accounts)
        .map(|who| {
            Operation::CreateInstance(weft_types::CreateInstance {
                instance: name(&format!("pay-{who}")),
                template: name("bench-pay"),
                version: 1,
                parties: vec![
                    (name("payer"), keys[who].account()),
                    (name("payee"), keys[(who + 1) % accounts].account()),
                ],
                params: vec![
                    (name("currency"), "bench".to_owned()),
                    (name("unit"), "1".to_owned()),
                ],
            })
        })
        .collect();
    setup.extend(
        creates
            .chunks(weft_types::limits::MAX_OPERATIONS)
            .map(<[Operation]>::to_vec),
    );
    if !out.json {
        eprintln!("deploying the bench template and opening {accounts} instances…");
    }
    for (nonce, ops) in setup.into_iter().enumerate() {
        let stx = weft_client::TxBuilder::new(chain_id.clone(), validator.account())
            .nonce(nonce as u64)
            .ops(ops)
            .sign(&[validator]);
        let done = client
            .submit_and_wait(&stx, Duration::from_secs(60))
            .await?;
        if !done.receipt.is_success() {
            return Err(Failure::other(anyhow::anyhow!(
                "bench setup failed: {:?}",
                done.receipt.status
            )));
        }
    }
    // Each account continues from the nonce after its transfers.
    let first_nonce = |who: usize| (total / accounts + usize::from(who < total % accounts)) as u64;
    let bodies: Vec<Transaction> = (0..total)
        .map(|i| {
            let (round, who) = (i / accounts, i % accounts);
            Transaction {
                chain_id: chain_id.clone(),
                signer: keys[who].account(),
                nonce: first_nonce(who) + round as u64,
                expiry_height: u64::MAX,
                operations: vec![Operation::Transition(weft_types::Transition {
                    instance: name(&format!("pay-{who}")),
                    transition: name("pay"),
                    args: vec![],
                })],
                memo: String::new(),
            }
        })
        .collect();
    if !out.json {
        eprintln!("signing {total} template transitions…");
    }
    let txs = sign_all(bodies, keys, index_of);
    let hashes: Vec<Hash> = txs.iter().map(|t| tx_hash(&t.tx)).collect();
    let phase = drive(node, client, &txs, &hashes, args, !out.json).await?;
    if phase.rejected > 0 {
        return Err(Failure::other(anyhow::anyhow!(
            "{} template transitions were refused",
            phase.rejected
        )));
    }
    Ok(phase)
}
