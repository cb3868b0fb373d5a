//! `weft demo`: a local ledger with a small consortium, the reference scenarios played
//! through the real API, then the API served until Ctrl-C.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use weft_client::{
    Client, ClientError, Keypair, RecordProof, TrustAnchor, TxBuilder, verify_bundle,
};
use weft_types::{
    AccountId, Amount, AnchorDocument, AssignRole, CaptureEpcisEvent, CreateInstance, DefineToken,
    DeployTemplate, EpcisAction, EpcisKind, ErrorCode, Genesis, Mint, Name, Operation, PostReading,
    RegisterAccount, RegisterAsset, RegisterFeed, RegisterOrganization, SetThreshold, SignDocument,
    Transfer, TransferAsset, Transition as WorkflowTransition, TxStatus,
};

use crate::{
    consortium, keys,
    local::{LocalNode, LocalOptions, shutdown_signal},
    output::{Failure, Out},
};

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the ledger here (default: a fresh temporary directory, removed on exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Client API address.
    #[arg(long, default_value = "127.0.0.1:7700")]
    api: SocketAddr,
    /// Exit after the scenarios instead of serving the API.
    #[arg(long)]
    exit: bool,
    /// Run only this scenario.
    #[arg(long)]
    scenario: Option<String>,
}

/// The scenarios `weft demo` knows.
const SCENARIOS: &[&str] = &["payment", "cold-chain", "bank-guarantee"];

#[derive(Serialize)]
struct Step {
    name: String,
    passed: bool,
    detail: String,
}

#[derive(Serialize)]
struct ScenarioReport {
    name: String,
    passed: bool,
    transactions: u32,
    steps: Vec<Step>,
}

struct Scenario {
    report: ScenarioReport,
}

impl Scenario {
    fn new(name: &str) -> Self {
        Self {
            report: ScenarioReport {
                name: name.into(),
                passed: true,
                transactions: 0,
                steps: vec![],
            },
        }
    }
    /// Sends `ops` signed by `key`; the step passes if the transaction commits successfully.
    async fn commit(
        &mut self,
        actor: &Actor<'_>,
        key: &Keypair,
        label: &str,
        ops: Vec<Operation>,
    ) -> Result<()> {
        let status = actor.send(key, ops).await?;
        self.report.transactions += 1;
        self.step(label, status == TxStatus::Success, format!("{status:?}"));
        Ok(())
    }

    /// Sends `ops` signed by `key`; the step passes only if the ledger refuses it with `code`.
    async fn refused(
        &mut self,
        actor: &Actor<'_>,
        key: &Keypair,
        label: &str,
        code: ErrorCode,
        ops: Vec<Operation>,
    ) {
        let result = actor.send(key, ops).await;
        let refused = matches!(&result, Err(e) if e.code() == Some(code));
        self.step(label, refused, describe(&result));
    }

    fn step(&mut self, name: &str, passed: bool, detail: impl Into<String>) {
        self.report.passed &= passed;
        self.report.steps.push(Step {
            name: name.into(),
            passed,
            detail: detail.into(),
        });
    }
}

/// The demo consortium's keys, kept in `<data-dir>/keys` so a rerun reuses the same chain.
struct Cast {
    operator: Keypair,
    issuer: Keypair,
    alice: Keypair,
    bob: Keypair,
    manufacturer: Keypair,
    clinic: Keypair,
    exporter: Keypair,
    /// A temperature logger's key: it signs its readings, and is no account of its own.
    sensor: Keypair,
}

fn load_or_create(dir: &Path, name: &str) -> Result<Keypair> {
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        return keys::read(&path);
    }
    let key = Keypair::generate()?;
    keys::write(&path, &key)?;
    Ok(key)
}

fn name(s: &str) -> Name {
    Name::new(s).expect("demo names are valid")
}

fn prepare(data_dir: &Path) -> Result<(Genesis, Cast)> {
    let key_dir = data_dir.join("keys");
    let cast = Cast {
        operator: load_or_create(&key_dir, "operator")?,
        issuer: load_or_create(&key_dir, "central-bank")?,
        alice: load_or_create(&key_dir, "alice")?,
        bob: load_or_create(&key_dir, "bob")?,
        manufacturer: load_or_create(&key_dir, "manufacturer")?,
        clinic: load_or_create(&key_dir, "clinic")?,
        exporter: load_or_create(&key_dir, "exporter")?,
        sensor: load_or_create(&key_dir, "sensor")?,
    };
    let genesis_path = data_dir.join("genesis.json");
    let genesis = if genesis_path.exists() {
        serde_json::from_str(&std::fs::read_to_string(&genesis_path)?)
            .with_context(|| format!("{} is not a genesis file", genesis_path.display()))?
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let g = consortium::genesis(name("weft-demo"), &cast.operator, name("operator"), now);
        std::fs::write(&genesis_path, serde_json::to_string_pretty(&g)? + "\n")?;
        g
    };
    Ok((genesis, cast))
}

pub async fn run(args: DemoArgs, out: Out) -> Result<(), Failure> {
    let selected: Vec<&str> = match &args.scenario {
        None => SCENARIOS.to_vec(),
        Some(s) if SCENARIOS.contains(&s.as_str()) => vec![s.as_str()],
        Some(s) => {
            return Err(Failure::usage(format!(
                "unknown scenario {s:?}; known: {}",
                SCENARIOS.join(", ")
            )));
        }
    };
    let temp;
    let data_dir = match &args.data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("weft-demo-")
                .tempdir()
                .context("creating a temporary data dir")?;
            temp.path().to_path_buf()
        }
    };
    let (genesis, cast) = prepare(&data_dir)?;
    let options = LocalOptions {
        block_interval: Duration::from_millis(50),
        ..LocalOptions::default()
    };
    let node = LocalNode::start(
        &data_dir.join("chain"),
        genesis.clone(),
        Some(cast.operator.clone()),
        args.api,
        options,
    )
    .await?;
    let client = Client::new(node.url());
    if !out.json {
        println!(
            "Weft demo: chain {} — API {} — data {}",
            genesis.chain_id,
            node.url(),
            data_dir.display()
        );
    }
    let mut reports = Vec::new();
    for scenario in selected {
        let report = match scenario {
            "payment" => payment(&client, &genesis, &cast).await,
            "cold-chain" => cold_chain(&client, &genesis, &cast).await,
            "bank-guarantee" => bank_guarantee(&client, &genesis, &cast).await,
            _ => unreachable_scenario(scenario),
        };
        if !out.json {
            print_report(&report);
        }
        reports.push(report);
    }
    let head = node
        .node
        .chain()
        .head()
        .map_err(|e| Failure::other(e.into()))?;
    let all_passed = reports.iter().all(|r| r.passed);
    let summary = json!({
        "chain_id": genesis.chain_id,
        "height": head.height,
        "state_root": head.state_root,
        "api": node.url(),
        "data_dir": data_dir,
        "scenarios": reports,
    });
    if out.json {
        println!("{summary}");
    } else {
        println!("\nheight {} · state root {}", head.height, head.state_root);
    }
    if !args.exit {
        if !out.json {
            println!(
                "\nServing the API at {} — try `curl {}/v1/status`. Ctrl-C to stop.",
                node.url(),
                node.url()
            );
        }
        shutdown_signal().await;
    }
    node.stop().await?;
    if all_passed {
        Ok(())
    } else {
        Err(Failure::other(anyhow::anyhow!("a demo scenario failed")))
    }
}

fn unreachable_scenario(name: &str) -> ScenarioReport {
    // `run` only passes names from SCENARIOS, each of which has a branch above.
    let mut s = Scenario::new(name);
    s.step("dispatch", false, "scenario has no implementation");
    s.report
}

fn print_report(report: &ScenarioReport) {
    println!(
        "\nscenario {} — {} ({} transactions)",
        report.name,
        if report.passed { "PASSED" } else { "FAILED" },
        report.transactions
    );
    for step in &report.steps {
        println!(
            "  {} {:<48} {}",
            if step.passed { "✓" } else { "✗" },
            step.name,
            step.detail
        );
    }
}

struct Actor<'a> {
    client: &'a Client,
    chain_id: Name,
}

impl Actor<'_> {
    /// Signs `ops` by `key`, submits, waits; returns the receipt status or the refusal.
    async fn send(&self, key: &Keypair, ops: Vec<Operation>) -> Result<TxStatus, ClientError> {
        self.send_signed(&[key], ops).await
    }

    /// Signed by `keys[0]` (whose nonce it uses) and co-signed by the others.
    async fn send_signed(
        &self,
        keys: &[&Keypair],
        ops: Vec<Operation>,
    ) -> Result<TxStatus, ClientError> {
        let key = keys[0];
        let nonce = self.client.next_nonce(&key.account()).await?;
        let stx = TxBuilder::new(self.chain_id.clone(), key.account())
            .nonce(nonce)
            .ops(ops)
            .sign(keys);
        let committed = self
            .client
            .submit_and_wait(&stx, Duration::from_secs(20))
            .await?;
        Ok(committed.receipt.status)
    }

    async fn registered(&self, who: &AccountId) -> bool {
        self.client
            .account(who)
            .await
            .is_ok_and(|a| a["registered"] == true)
    }
}

async fn balance(client: &Client, symbol: &str, who: &AccountId) -> u128 {
    client
        .state(&format!("balance/{symbol}/{who}"), false, None)
        .await
        .ok()
        .and_then(|v| v["value"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// A consortium onboards two banks and a central bank, which issues a token; a payment
/// moves between banks; an overdraft and an unauthorized mint are refused; a balance is
/// proven and verified offline against the genesis validator set.
async fn payment(client: &Client, genesis: &Genesis, cast: &Cast) -> ScenarioReport {
    let mut s = Scenario::new("payment");
    if let Err(e) = payment_steps(client, genesis, cast, &mut s).await {
        s.step("unexpected error", false, format!("{e:#}"));
    }
    s.report
}

/// The central bank, two banks and the `eur` token; idempotent so every scenario can rely on
/// it and the demo can be rerun on the same data dir.
async fn onboard_banks(actor: &Actor<'_>, cast: &Cast, s: &mut Scenario) -> Result<()> {
    if !actor.registered(&cast.issuer.account()).await {
        let mut ops = Vec::new();
        for (id, display) in [
            ("central-bank", "Central Bank"),
            ("bank-a", "Bank A"),
            ("bank-b", "Bank B"),
        ] {
            ops.push(Operation::RegisterOrganization(RegisterOrganization {
                id: name(id),
                display_name: display.into(),
            }));
        }
        for (who, org, role) in [
            (&cast.issuer, "central-bank", "issuer"),
            (&cast.alice, "bank-a", "member"),
            (&cast.bob, "bank-b", "member"),
        ] {
            ops.push(Operation::RegisterAccount(RegisterAccount {
                account: who.account(),
                organization: name(org),
                roles: vec![name(role)],
            }));
        }
        s.commit(
            actor,
            &cast.operator,
            "operator onboards 3 organizations",
            ops,
        )
        .await?;
        s.commit(
            actor,
            &cast.issuer,
            "central bank defines token eur",
            vec![Operation::DefineToken(DefineToken {
                symbol: name("eur"),
                display_name: "Digital euro (demo)".into(),
                decimals: 2,
                max_supply: Some(Amount(1_000_000_000)),
            })],
        )
        .await?;
    }
    Ok(())
}

async fn payment_steps(
    client: &Client,
    genesis: &Genesis,
    cast: &Cast,
    s: &mut Scenario,
) -> Result<()> {
    let actor = Actor {
        client,
        chain_id: genesis.chain_id.clone(),
    };
    let (alice, bob) = (cast.alice.account(), cast.bob.account());

    onboard_banks(&actor, cast, s).await?;
    let (a0, b0) = (
        balance(client, "eur", &alice).await,
        balance(client, "eur", &bob).await,
    );

    s.commit(
        &actor,
        &cast.issuer,
        "central bank mints 1000.00 eur to Bank A",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: alice,
            amount: Amount(100_000),
        })],
    )
    .await?;

    s.commit(
        &actor,
        &cast.alice,
        "Bank A pays 250.00 eur to Bank B",
        vec![Operation::Transfer(Transfer {
            symbol: name("eur"),
            to: bob,
            amount: Amount(25_000),
        })],
    )
    .await?;

    let (a1, b1) = (
        balance(client, "eur", &alice).await,
        balance(client, "eur", &bob).await,
    );
    s.step(
        "balances moved exactly",
        a1 == a0 + 75_000 && b1 == b0 + 25_000,
        format!("Bank A {a1}, Bank B {b1} (cents)"),
    );

    s.refused(
        &actor,
        &cast.alice,
        "overdraft is refused",
        ErrorCode::InsufficientBalance,
        vec![Operation::Transfer(Transfer {
            symbol: name("eur"),
            to: bob,
            amount: Amount(u128::from(u64::MAX)),
        })],
    )
    .await;

    s.refused(
        &actor,
        &cast.bob,
        "a member cannot mint",
        ErrorCode::Unauthorized,
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: bob,
            amount: Amount(1),
        })],
    )
    .await;

    let unchanged =
        balance(client, "eur", &alice).await == a1 && balance(client, "eur", &bob).await == b1;
    s.step("refusals changed nothing", unchanged, "balances unchanged");

    // Prove Bank B's balance and check it offline against the genesis validators.
    let answer = client
        .state(&format!("balance/eur/{bob}"), true, None)
        .await?;
    let bundle: weft_client::ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("proof bundle")?;
    let anchor = TrustAnchor {
        chain_id: genesis.chain_id.clone(),
        validators: genesis.validators.iter().map(|v| v.account).collect(),
    };
    let verified = verify_bundle(&bundle, &anchor);
    s.step(
        "balance proof verifies offline",
        verified.is_ok(),
        format!("{} at height {}", bundle.reference, bundle.header.height),
    );
    let mut tampered = bundle.clone();
    if let RecordProof::State { value, .. } = &mut tampered.proof {
        *value = Some(
            weft_types::encode(&Amount(b1 + 1_000_000))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
    }
    let tampered_fails = verify_bundle(&tampered, &anchor).is_err();
    s.step(
        "a tampered proof fails",
        tampered_fails,
        "value changed → state proof rejected",
    );
    Ok(())
}

fn describe(result: &Result<TxStatus, ClientError>) -> String {
    match result {
        Ok(status) => format!("unexpectedly accepted: {status:?}"),
        Err(e) => e.to_string(),
    }
}

/// A vaccine lot is commissioned, its temperature logger registered with a 2–8 °C cold-chain
/// range, readings arrive signed by the logger, one excursion is recorded as a sticky
/// breach, the lot ships to a clinic, and each step leaves a GS1 EPCIS event on the lot's
/// provenance trail. Readings the logger did not sign, or that go back in time, are refused.
async fn cold_chain(client: &Client, genesis: &Genesis, cast: &Cast) -> ScenarioReport {
    let mut s = Scenario::new("cold-chain");
    if let Err(e) = cold_chain_steps(client, genesis, cast, &mut s).await {
        s.step("unexpected error", false, format!("{e:#}"));
    }
    s.report
}

fn epcis(
    id: &str,
    kind: EpcisKind,
    time_ms: u64,
    biz_step: &str,
    disposition: &str,
    location: &str,
) -> Operation {
    Operation::CaptureEpcisEvent(CaptureEpcisEvent {
        event_id: name(id),
        kind,
        event_time_ms: time_ms,
        event_time_zone_offset: "+00:00".into(),
        biz_step: biz_step.into(),
        disposition: disposition.into(),
        read_point: location.into(),
        biz_location: location.into(),
        biz_transactions: vec![],
        sensor_reports: vec![],
    })
}

async fn cold_chain_steps(
    client: &Client,
    genesis: &Genesis,
    cast: &Cast,
    s: &mut Scenario,
) -> Result<()> {
    let actor = Actor {
        client,
        chain_id: genesis.chain_id.clone(),
    };
    if !actor.registered(&cast.manufacturer.account()).await {
        let mut ops = Vec::new();
        for (id, display) in [
            ("pharma", "Vaccine manufacturer"),
            ("clinic", "Vaccination clinic"),
        ] {
            ops.push(Operation::RegisterOrganization(RegisterOrganization {
                id: name(id),
                display_name: display.into(),
            }));
        }
        ops.push(Operation::RegisterAccount(RegisterAccount {
            account: cast.manufacturer.account(),
            organization: name("pharma"),
            roles: vec![name("custodian"), name("sensor-operator"), name("member")],
        }));
        ops.push(Operation::RegisterAccount(RegisterAccount {
            account: cast.clinic.account(),
            organization: name("clinic"),
            roles: vec![name("member")],
        }));
        s.commit(
            &actor,
            &cast.operator,
            "operator onboards manufacturer and clinic",
            ops,
        )
        .await?;
    }
    // Ids unique per run, so the demo can run again on the same ledger.
    let run = client.status().await?["height"].as_u64().unwrap_or(0);
    let (lot, feed) = (format!("lot-{run}"), format!("logger-{run}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let site = "urn:epc:id:sgln:0614141.00777.0";
    let clinic_site = "urn:epc:id:sgln:0614141.00999.0";

    s.commit(
        &actor,
        &cast.manufacturer,
        "manufacturer commissions the lot",
        vec![
            Operation::RegisterAsset(RegisterAsset {
                id: name(&lot),
                class: name("vaccine-lot"),
                owner: cast.manufacturer.account(),
                attributes: vec![
                    ("gtin".into(), "09506000134352".into()),
                    ("doses".into(), "500".into()),
                ],
            }),
            epcis(
                &format!("{lot}-commissioned"),
                EpcisKind::ObjectEvent {
                    action: EpcisAction::Add,
                    epc_list: vec![name(&lot)],
                },
                now,
                "commissioning",
                "active",
                site,
            ),
        ],
    )
    .await?;
    s.commit(
        &actor,
        &cast.manufacturer,
        "a logger guards 2.0–8.0 °C",
        vec![
            Operation::RegisterFeed(RegisterFeed {
                id: name(&feed),
                kind: name("temperature"),
                unit: "CEL".into(),
                scale: 1,
                device: cast.sensor.account(),
            }),
            Operation::SetThreshold(SetThreshold {
                feed: name(&feed),
                name: name("cold-chain"),
                min: Some(20),
                max: Some(80),
            }),
        ],
    )
    .await?;
    let reading = |value: i64, at: u64| {
        Operation::PostReading(PostReading {
            feed: name(&feed),
            value,
            observed_at_ms: at,
        })
    };
    let status = actor
        .send_signed(
            &[&cast.manufacturer, &cast.sensor],
            vec![reading(45, now + 1_000), reading(52, now + 2_000)],
        )
        .await?;
    s.report.transactions += 1;
    s.step(
        "logger reports 4.5 °C and 5.2 °C",
        status == TxStatus::Success,
        format!("{status:?}"),
    );
    s.refused(
        &actor,
        &cast.manufacturer,
        "a reading the logger did not sign is refused",
        ErrorCode::MissingSignature,
        vec![reading(40, now + 3_000)],
    )
    .await;
    let back_in_time = actor
        .send_signed(&[&cast.manufacturer, &cast.sensor], vec![reading(40, now)])
        .await;
    let refused = matches!(&back_in_time, Err(e) if e.code() == Some(ErrorCode::InvalidArgument));
    s.step(
        "a reading back in time is refused",
        refused,
        describe(&back_in_time),
    );
    let status = actor
        .send_signed(
            &[&cast.manufacturer, &cast.sensor],
            vec![reading(93, now + 4_000), reading(61, now + 5_000)],
        )
        .await?;
    s.report.transactions += 1;
    s.step(
        "an excursion to 9.3 °C, then back to 6.1 °C",
        status == TxStatus::Success,
        format!("{status:?}"),
    );

    let state = client.state(&format!("feed/{feed}"), true, None).await?;
    let breach = &state["value"]["thresholds"]["cold-chain"]["breach"];
    let sticky = breach["last_value"] == 93 && state["value"]["last"]["value"] == 61;
    s.step(
        "the breach is recorded and stays",
        sticky,
        format!("breach {breach}"),
    );
    let bundle: weft_client::ProofBundle =
        serde_json::from_value(state["proof"].clone()).context("proof bundle")?;
    let anchor = TrustAnchor {
        chain_id: genesis.chain_id.clone(),
        validators: genesis.validators.iter().map(|v| v.account).collect(),
    };
    s.step(
        "the breach record verifies offline",
        verify_bundle(&bundle, &anchor).is_ok(),
        bundle.reference.clone(),
    );

    s.commit(
        &actor,
        &cast.manufacturer,
        "the lot ships to the clinic",
        vec![
            Operation::TransferAsset(TransferAsset {
                id: name(&lot),
                to: cast.clinic.account(),
            }),
            epcis(
                &format!("{lot}-shipped"),
                EpcisKind::ObjectEvent {
                    action: EpcisAction::Observe,
                    epc_list: vec![name(&lot)],
                },
                now + 6_000,
                "shipping",
                "in_transit",
                site,
            ),
        ],
    )
    .await?;
    s.commit(
        &actor,
        &cast.clinic,
        "the clinic records receipt",
        vec![epcis(
            &format!("{lot}-received"),
            EpcisKind::ObjectEvent {
                action: EpcisAction::Observe,
                epc_list: vec![name(&lot)],
            },
            now + 7_000,
            "receiving",
            "in_progress",
            clinic_site,
        )],
    )
    .await?;
    let trail = client
        .state(&format!("epcis/trail/{lot}"), false, None)
        .await?;
    let steps = trail["value"].as_array().map_or(0, Vec::len);
    s.step(
        "the lot's provenance trail has 3 EPCIS events",
        steps == 3,
        format!("{}", trail["value"]),
    );
    let asset = client.state(&format!("asset/{lot}"), false, None).await?;
    let owner_ok = asset["value"]["owner"] == serde_json::json!(cast.clinic.account());
    s.step("the clinic owns the lot", owner_ok, "asset owner updated");
    Ok(())
}

const BANK_GUARANTEE: &str = include_str!("../../../templates/bank-guarantee.yaml");

/// UC-03 through the ledger's template engine: the reference `bank-guarantee` template is
/// deployed; the applicant and the guarantor co-sign the guarantee text; an instance binds
/// applicant, guarantor, beneficiary and the central bank as observer; a claim before the
/// guarantee is in force is refused; the guarantee enters into force, is claimed and paid
/// in the token; the instance's history is read back and proven offline.
async fn bank_guarantee(client: &Client, genesis: &Genesis, cast: &Cast) -> ScenarioReport {
    let mut s = Scenario::new("bank-guarantee");
    if let Err(e) = bank_guarantee_steps(client, genesis, cast, &mut s).await {
        s.step("unexpected error", false, format!("{e:#}"));
    }
    s.report
}

async fn bank_guarantee_steps(
    client: &Client,
    genesis: &Genesis,
    cast: &Cast,
    s: &mut Scenario,
) -> Result<()> {
    let actor = Actor {
        client,
        chain_id: genesis.chain_id.clone(),
    };
    onboard_banks(&actor, cast, s).await?;
    let (applicant, guarantor, beneficiary, observer) =
        (&cast.alice, &cast.bob, &cast.exporter, &cast.issuer);
    if !actor.registered(&beneficiary.account()).await {
        s.commit(
            &actor,
            &cast.operator,
            "operator onboards an exporter (the beneficiary)",
            vec![
                Operation::RegisterOrganization(RegisterOrganization {
                    id: name("exporter"),
                    display_name: "Exporter".into(),
                }),
                Operation::RegisterAccount(RegisterAccount {
                    account: beneficiary.account(),
                    organization: name("exporter"),
                    roles: vec![name("member")],
                }),
            ],
        )
        .await?;
    }
    // Every party acts through the template; grant the role once.
    let mut grants = Vec::new();
    for who in [applicant, guarantor, beneficiary, observer] {
        let account = client.account(&who.account()).await?;
        let has = account["roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x == "workflow-participant"));
        if !has {
            grants.push(Operation::AssignRole(AssignRole {
                account: who.account(),
                role: name("workflow-participant"),
            }));
        }
    }
    if !grants.is_empty() {
        s.commit(
            &actor,
            &cast.operator,
            "parties may act in workflows",
            grants,
        )
        .await?;
    }
    let deployed = client
        .state("template/bank-guarantee/1", false, None)
        .await?;
    if deployed["value"].is_null() {
        s.commit(
            &actor,
            &cast.operator,
            "operator deploys the bank-guarantee template v1",
            vec![Operation::DeployTemplate(DeployTemplate {
                source: BANK_GUARANTEE.to_owned(),
            })],
        )
        .await?;
    }
    let run = client.status().await?["height"].as_u64().unwrap_or(0);
    let (g, contract) = (format!("guarantee-{run}"), format!("guarantee-text-{run}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let text_hash =
        weft_crypto::sha256(format!("Guarantee {g}: up to 500.00 eur for the exporter").as_bytes());

    s.commit(
        &actor,
        applicant,
        "applicant anchors the guarantee text",
        vec![Operation::AnchorDocument(AnchorDocument {
            id: name(&contract),
            hash: text_hash,
            media_type: "text/plain".into(),
            uri: format!("vault://bank-b/{contract}"),
            parties: vec![applicant.account(), guarantor.account()],
            required_signatures: 2,
        })],
    )
    .await?;
    let status = actor
        .send_signed(
            &[applicant, guarantor],
            vec![Operation::SignDocument(SignDocument {
                id: name(&contract),
                version: 1,
                hash: text_hash,
            })],
        )
        .await?;
    s.report.transactions += 1;
    s.step(
        "applicant and guarantor co-sign it in one transaction",
        status == TxStatus::Success,
        format!("{status:?}"),
    );
    s.commit(
        &actor,
        observer,
        "central bank funds the guarantor with 1000.00 eur",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: guarantor.account(),
            amount: Amount(100_000),
        })],
    )
    .await?;
    let parties = vec![
        (name("applicant"), applicant.account()),
        (name("guarantor"), guarantor.account()),
        (name("beneficiary"), beneficiary.account()),
        (name("observer"), observer.account()),
    ];
    let params = vec![
        (name("currency"), "eur".to_owned()),
        (name("max_amount"), "50000".to_owned()),
        (name("claim_amount"), "30000".to_owned()),
        (name("effective_at"), now.to_string()),
        (name("expires_at"), (now + 24 * 3600 * 1000).to_string()),
        (name("contract"), contract.clone()),
    ];
    s.commit(
        &actor,
        applicant,
        "applicant requests the guarantee",
        vec![Operation::CreateInstance(CreateInstance {
            instance: name(&g),
            template: name("bank-guarantee"),
            version: 1,
            parties,
            params,
        })],
    )
    .await?;
    let step = |t: &str| {
        Operation::Transition(WorkflowTransition {
            instance: name(&g),
            transition: name(t),
        })
    };
    s.commit(
        &actor,
        guarantor,
        "guarantor issues it (the text is signed)",
        vec![step("issue")],
    )
    .await?;
    s.refused(
        &actor,
        beneficiary,
        "a claim before it is in force is refused",
        ErrorCode::InvalidArgument,
        vec![step("claim")],
    )
    .await;
    s.refused(
        &actor,
        observer,
        "the observer cannot take steps",
        ErrorCode::Unauthorized,
        vec![step("enter_into_force")],
    )
    .await;
    s.commit(
        &actor,
        guarantor,
        "the guarantee enters into force",
        vec![step("enter_into_force")],
    )
    .await?;
    let b0 = balance(client, "eur", &beneficiary.account()).await;
    s.commit(
        &actor,
        beneficiary,
        "the beneficiary claims 300.00 eur",
        vec![step("claim")],
    )
    .await?;
    s.commit(
        &actor,
        guarantor,
        "the guarantor pays the claim",
        vec![step("pay")],
    )
    .await?;
    let b1 = balance(client, "eur", &beneficiary.account()).await;
    s.step(
        "the beneficiary received exactly the claim",
        b1 == b0 + 30_000,
        format!("{b0} → {b1} (cents)"),
    );

    let answer = client.state(&format!("instance/{g}"), true, None).await?;
    let history: Vec<String> = answer["value"]["history"]
        .as_array()
        .map_or_else(Vec::new, |h| {
            h.iter()
                .filter_map(|e| e["transition"].as_str().map(str::to_owned))
                .collect()
        });
    let expected = ["issue", "enter_into_force", "claim", "pay"];
    s.step(
        "the instance is paid, its history complete",
        answer["value"]["state"] == "paid" && history == expected,
        history.join(" → "),
    );
    let bundle: weft_client::ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("proof bundle")?;
    let anchor = TrustAnchor {
        chain_id: genesis.chain_id.clone(),
        validators: genesis.validators.iter().map(|v| v.account).collect(),
    };
    s.step(
        "the instance record verifies offline",
        verify_bundle(&bundle, &anchor).is_ok(),
        bundle.reference.clone(),
    );
    Ok(())
}
