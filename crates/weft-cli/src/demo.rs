//! `weft demo`: a local ledger with a small consortium, the reference scenarios
//! (`weft-scenarios`) played through the real API, a summary table, then the API served
//! until Ctrl-C.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use weft_client::{Client, Keypair, consortium};
use weft_scenarios::{Cast, Ctx, SCENARIOS, ScenarioReport, name, now_ms};
use weft_types::Genesis;

use crate::{
    keys,
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
    /// Run only this scenario (see the list in `weft demo --help`): payment, e-mortgage,
    /// letter-of-credit, bank-guarantee, vaccine-supply, carbon-removal, energy-trading,
    /// reverse-logistics, public-lending, trubudget, petitions, identity, pki.
    #[arg(long)]
    scenario: Option<String>,
    /// Show every step of every scenario, not only the summary.
    #[arg(long, short)]
    verbose: bool,
}

/// Loads the key `name` from `dir`, creating it on first use, so a rerun on the same data
/// dir acts as the same parties.
fn load_or_create(dir: &Path, name: &str) -> Result<Keypair> {
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        return keys::read(&path);
    }
    let key = Keypair::generate()?;
    keys::write(&path, &key)?;
    Ok(key)
}

fn prepare(data_dir: &Path) -> Result<(Genesis, Cast)> {
    let key_dir = data_dir.join("keys");
    let operator = load_or_create(&key_dir, "operator")?;
    let cast = Cast::with_source(move |name| load_or_create(&key_dir, name));
    cast.insert("operator", operator.clone());
    let genesis_path = data_dir.join("genesis.json");
    let genesis = if genesis_path.exists() {
        serde_json::from_str(&std::fs::read_to_string(&genesis_path)?)
            .with_context(|| format!("{} is not a genesis file", genesis_path.display()))?
    } else {
        let g = consortium::genesis(name("weft-demo"), &operator, name("operator"), now_ms());
        std::fs::write(&genesis_path, serde_json::to_string_pretty(&g)? + "\n")?;
        g
    };
    Ok((genesis, cast))
}

pub async fn run(args: DemoArgs, out: Out) -> Result<(), Failure> {
    let selected: Vec<&str> = match &args.scenario {
        None => SCENARIOS.iter().map(|s| s.name).collect(),
        Some(s) if weft_scenarios::find(s).is_some() => vec![s.as_str()],
        Some(s) => {
            let known: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
            return Err(Failure::usage(format!(
                "unknown scenario {s:?}; known: {}",
                known.join(", ")
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
    let options = LocalOptions::default();
    let operator = cast.operator()?;
    let node = LocalNode::start(
        &data_dir.join("chain"),
        genesis.clone(),
        Some(operator),
        args.api,
        options,
    )
    .await?;
    if !out.json {
        println!(
            "Weft demo: chain {} — API {} — data {}",
            genesis.chain_id,
            node.url(),
            data_dir.display()
        );
    }
    let ctx = Ctx::new(Client::new(node.url()), genesis.clone(), cast);
    let mut reports = Vec::new();
    for scenario in selected {
        let Some(report) = weft_scenarios::run(scenario, &ctx).await else {
            continue;
        };
        if !out.json && (args.verbose || !report.passed) {
            print_steps(&report);
        }
        reports.push(report);
    }
    let head = node
        .node
        .chain()
        .head()
        .map_err(|e| Failure::other(e.into()))?;
    let all_passed = reports.iter().all(|r| r.passed);
    if out.json {
        let summary = json!({
            "chain_id": genesis.chain_id,
            "height": head.height,
            "state_root": head.state_root,
            "api": node.url(),
            "data_dir": data_dir,
            "scenarios": reports,
        });
        println!("{summary}");
    } else {
        print_table(&reports);
        println!("\nheight {} · state root {}", head.height, head.state_root);
    }
    if !args.exit {
        if !out.json {
            println!(
                "\nExplorer: {}/ (sign in with a key from {}/keys)\nAPI: {}/v1/status, {}/openapi.json. Ctrl-C to stop.",
                node.url(),
                data_dir.display(),
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

fn print_steps(report: &ScenarioReport) {
    println!(
        "\nscenario {} ({}) — {}",
        report.name,
        report.use_case,
        if report.passed { "PASSED" } else { "FAILED" }
    );
    for step in &report.steps {
        println!(
            "  {} {}{:<56} {}",
            if step.passed { "✓" } else { "✗" },
            if step.refusal { "[refusal] " } else { "" },
            step.name,
            step.detail
        );
    }
}

/// One row per scenario: what it is, how much it did, where it ended, and whether it passed.
fn print_table(reports: &[ScenarioReport]) {
    println!(
        "\n{:<18} {:<6} {:>5} {:>4} {:>9}  {:<40} result",
        "scenario", "case", "steps", "txs", "refusals", "final state"
    );
    for r in reports {
        let mut final_state = r.final_state.clone();
        if final_state.chars().count() > 40 {
            final_state = final_state.chars().take(39).collect::<String>() + "…";
        }
        println!(
            "{:<18} {:<6} {:>5} {:>4} {:>9}  {:<40} {}",
            r.name,
            r.use_case,
            r.steps.len(),
            r.transactions,
            r.refusals(),
            final_state,
            if r.passed { "passed" } else { "FAILED" }
        );
    }
}
