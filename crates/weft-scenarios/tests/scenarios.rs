//! Every reference scenario, played through the REST API of a real node (its own chain in a
//! temporary directory): the whole lifecycle must pass, and every scenario must include at
//! least one illegal step that the ledger refuses with its specific error, leaving the state
//! root unchanged (checked by the harness in `Scenario::refused`).

use std::time::Duration;

use weft_client::{Client, Keypair, consortium};
use weft_node::{Node, NodeConfig};
use weft_scenarios::{Cast, Ctx, SCENARIOS, name, now_ms};

async fn play(scenario: &str) {
    let dir = tempfile::tempdir().unwrap();
    let operator = Keypair::generate().unwrap();
    let genesis = consortium::genesis(name("weft-test"), &operator, name("operator"), now_ms());
    let mut config = NodeConfig::new(dir.path().join("chain"), genesis.clone());
    config.validator_key = Some(operator.clone());
    // As in `weft demo`: the one node keeps every organization's confidential payloads.
    config.private = Some(weft_node::PrivateConfig {
        dir: dir.path().join("private"),
        scope: weft_node::OrgScope::All,
        operator: None,
        peers: vec![],
        sweep_interval: weft_node::private::SWEEP_INTERVAL,
    });
    let node = tokio::task::spawn_blocking(move || Node::start(config))
        .await
        .unwrap()
        .unwrap();
    let listener = weft_api::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(weft_api::serve(node.clone(), listener, async move {
        let _ = stopped.await;
    }));

    let ctx = Ctx::new(Client::new(url), genesis, Cast::ephemeral(operator));
    let report = weft_scenarios::run(scenario, &ctx)
        .await
        .expect("known scenario");
    // Twice on the same chain: scenarios must be rerunnable (`weft demo --data-dir`).
    let again = weft_scenarios::run(scenario, &ctx)
        .await
        .expect("known scenario");

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    tokio::task::spawn_blocking(move || node.shutdown())
        .await
        .unwrap();

    for report in [&report, &again] {
        let failed: Vec<_> = report.steps.iter().filter(|s| !s.passed).collect();
        assert!(
            report.passed && failed.is_empty(),
            "scenario {scenario} failed:\n{}",
            serde_json::to_string_pretty(&report).unwrap()
        );
        assert!(
            report.refusals() >= 1,
            "scenario {scenario} tries no illegal step"
        );
        assert!(!report.final_state.is_empty(), "{scenario}: no final state");
    }
}

macro_rules! scenario_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                play($name).await;
            }
        )*

        #[test]
        fn every_scenario_has_a_test() {
            let tested = [$($name),*];
            for info in SCENARIOS {
                assert!(tested.contains(&info.name), "{} has no test", info.name);
            }
            assert_eq!(tested.len(), SCENARIOS.len());
        }
    };
}

scenario_tests! {
    payment => "payment",
    e_mortgage => "e-mortgage",
    letter_of_credit => "letter-of-credit",
    bank_guarantee => "bank-guarantee",
    vaccine_supply => "vaccine-supply",
    carbon_removal => "carbon-removal",
    energy_trading => "energy-trading",
    reverse_logistics => "reverse-logistics",
    public_lending => "public-lending",
    trubudget => "trubudget",
    petitions => "petitions",
    identity => "identity",
    pki => "pki",
    data_accountability => "data-accountability",
}
