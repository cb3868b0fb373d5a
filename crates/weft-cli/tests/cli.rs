//! The `weft` binary end to end: a node process, transactions through `weft tx`, every
//! refusal with its code and exit status, proofs through `weft query --prove` and
//! `weft verify`, and `weft demo --exit --json`.

use std::{path::Path, process::Command};

use serde_json::Value;

mod common;

use common::{Env, WEFT, code_of, free_port, start};

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

#[test]
fn transactions_refusals_and_proofs_through_the_cli() {
    let env = start("cli-test");
    env.ok(&["keys", "new", "alice"]);
    env.ok(&["keys", "new", "bob"]);
    let alice = env.ok(&["keys", "show", "alice"])["account"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = env.ok(&["keys", "show", "bob"])["account"]
        .as_str()
        .unwrap()
        .to_owned();

    // Onboarding and issuance by the administrator.
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "register-org",
        "--id",
        "bank-a",
        "--name",
        "Bank A",
    ]);
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "register-account",
        "--account",
        "alice",
        "--org",
        "bank-a",
        "--role",
        "member",
    ]);
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "register-account",
        "--account",
        "bob",
        "--org",
        "bank-a",
        "--role",
        "member",
    ]);
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "define-token",
        "--symbol",
        "eur",
        "--name",
        "Euro",
        "--decimals",
        "2",
    ]);
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "mint",
        "--symbol",
        "eur",
        "--to",
        "alice",
        "--amount",
        "1000",
    ]);
    let paid = env.ok(&[
        "tx", "--key", "alice", "transfer", "--symbol", "eur", "--to", &bob, "--amount", "300",
    ]);
    assert_eq!(paid["status"], "committed");
    let tx_hash = paid["tx_hash"].as_str().unwrap().to_owned();

    let balances = |who: &str| env.ok(&["query", "account", who, "--as", who])["balances"].clone();
    let before = (balances("alice"), balances("bob"));
    // Reads are permissioned: unsigned, an account is not visible (exit 3, unauthenticated);
    // signed by the validator (an admin), visible.
    let (code, v) = env.json(&["query", "account", "alice"]);
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (3, Some("unauthenticated")),
        "{v}"
    );
    assert_eq!(
        env.ok(&["query", "account", "alice", "--as", "validator"])["balances"]["eur"],
        "700"
    );
    assert_eq!(before.0["eur"], "700");
    assert_eq!(before.1["eur"], "300");
    // Listing by prefix follows the same policy: the admin sees every balance of eur, alice
    // hers and her organization's (bob is a colleague), an anonymous reader none.
    let listed = |who: Option<&str>| -> Vec<String> {
        let mut args = vec!["query", "list", "balance/eur/"];
        if let Some(w) = who {
            args.extend(["--as", w]);
        }
        env.ok(&args)["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut both = vec![
        format!("balance/eur/{}", env.account("alice")),
        format!("balance/eur/{}", env.account("bob")),
    ];
    both.sort();
    assert_eq!(listed(Some("validator")), both);
    assert_eq!(listed(Some("alice")), both);
    assert!(listed(None).is_empty());

    // Each refusal: its code, exit status 3 (ledger refused) or 2 (refused before sending).
    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec![
                "tx", "--key", "alice", "transfer", "--symbol", "eur", "--to", &bob, "--amount",
                "999999",
            ],
            "insufficient_balance",
            3,
        ),
        (
            vec![
                "tx", "--key", "alice", "mint", "--symbol", "eur", "--to", &alice, "--amount", "1",
            ],
            "unauthorized",
            3,
        ),
        (
            vec![
                "tx", "--key", "alice", "--nonce", "0", "transfer", "--symbol", "eur", "--to",
                &bob, "--amount", "1",
            ],
            "replayed_nonce",
            3,
        ),
        (
            vec![
                "tx",
                "--key",
                "alice",
                "--ttl-blocks",
                "0",
                "transfer",
                "--symbol",
                "eur",
                "--to",
                &bob,
                "--amount",
                "1",
            ],
            "expired",
            3,
        ),
        (
            vec![
                "tx",
                "--key",
                "alice",
                "--chain-id",
                "other-chain",
                "transfer",
                "--symbol",
                "eur",
                "--to",
                &bob,
                "--amount",
                "1",
            ],
            "wrong_chain_id",
            3,
        ),
        (
            vec![
                "tx", "--key", "alice", "transfer", "--symbol", "gbp", "--to", &bob, "--amount",
                "1",
            ],
            "unknown_token",
            3,
        ),
    ];
    for (args, code, exit) in &cases {
        let (status, v) = env.json(args);
        assert_eq!((status, code_of(&v)), (*exit, *code), "{args:?}: {v}");
    }

    // Validator-set governance: the genesis admin (the validator key) governs alone, until it
    // makes alice a co-governor with a threshold of 2. The set itself stays as it is: this
    // single node must keep finalizing.
    let validator = env.account("validator");
    env.refused(
        &[
            "tx",
            "--key",
            "validator",
            "set-validators",
            "--validator",
            "validator",
        ],
        "invalid_argument",
    );
    env.refused(
        &[
            "tx",
            "--key",
            "alice",
            "set-validators",
            "--validator",
            "alice",
        ],
        "unauthorized",
    );
    let changed = env.ok(&[
        "tx",
        "--key",
        "validator",
        "set-governance",
        "--admin",
        "validator",
        "--admin",
        "alice",
        "--threshold",
        "2",
    ]);
    assert_eq!(
        changed["receipt"]["events"][0]["topic"],
        "consensus.governance_changed"
    );
    let v = env.refused(
        &[
            "tx",
            "--key",
            "validator",
            "set-validators",
            "--validator",
            "validator",
            "--validator",
            "bob",
        ],
        "unauthorized",
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs 2 admin approvals, has 1"),
        "{v}"
    );
    let governance = env.ok(&["query", "state", "meta/governance", "--as", "validator"]);
    assert!(governance.to_string().contains(&validator), "{governance}");
    assert!(governance.to_string().contains(&alice), "{governance}");

    // Signed transactions from files: missing and bad signatures, oversized, unknown operation.
    let alice_key: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("keys/alice.key")).unwrap())
            .unwrap();
    let key = weft_client::Keypair::from_secret_hex(alice_key["secret"].as_str().unwrap()).unwrap();
    let nonce = env.ok(&["query", "account", "alice", "--as", "alice"])["next_nonce"]
        .as_u64()
        .unwrap();
    let op = weft_types::Operation::Transfer(weft_types::Transfer {
        symbol: weft_types::Name::new("eur").unwrap(),
        to: bob.parse().unwrap(),
        amount: weft_types::Amount(1),
    });
    let good =
        weft_client::TxBuilder::new(weft_types::Name::new("cli-test").unwrap(), key.account())
            .nonce(nonce)
            .op(op)
            .sign(&[&key]);
    let mut unsigned = serde_json::to_value(&good).unwrap();
    unsigned["signatures"] = Value::Array(vec![]);
    let mut bad_sig = good.clone();
    bad_sig.signatures[0].signature.0[0] ^= 1;
    let mut unknown = serde_json::to_value(&good).unwrap();
    unknown["tx"]["operations"][0]["type"] = Value::from("teleport");
    let files: Vec<(&str, Vec<u8>, &str, i32)> = vec![
        (
            "unsigned.json",
            serde_json::to_vec(&unsigned).unwrap(),
            "missing_signature",
            3,
        ),
        (
            "bad-sig.json",
            serde_json::to_vec(&bad_sig).unwrap(),
            "bad_signature",
            3,
        ),
        (
            "unknown.json",
            serde_json::to_vec(&unknown).unwrap(),
            "unknown_operation",
            2,
        ),
        (
            "huge.bin",
            vec![0u8; weft_types::limits::MAX_TX_BYTES + 1],
            "oversized",
            2,
        ),
    ];
    for (name, bytes, code, exit) in files {
        let path = env.path(name);
        std::fs::write(&path, bytes).unwrap();
        let (status, v) = env.json(&["submit", path.to_str().unwrap()]);
        assert_eq!((status, code_of(&v)), (exit, code), "{name}: {v}");
    }
    assert_eq!(
        (balances("alice"), balances("bob")),
        before,
        "a refusal changed balances"
    );

    // The good transaction from a file commits.
    let good_path = env.path("good.json");
    write(&good_path, &serde_json::to_value(&good).unwrap());
    assert_eq!(
        env.ok(&["submit", good_path.to_str().unwrap()])["status"],
        "committed"
    );

    // Proofs: a state value and a transaction verify offline; tampering fails with exit 4.
    let genesis = env.path("genesis.json");
    let state_proof = env.path("state-proof.json");
    env.ok(&[
        "query",
        "state",
        &format!("balance/eur/{bob}"),
        "--as",
        "bob",
        "--prove",
        "--out",
        state_proof.to_str().unwrap(),
    ]);
    let verified = env.ok(&[
        "verify",
        state_proof.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert_eq!(verified["verified"], true);
    let tx_proof = env.path("tx-proof.json");
    env.ok(&[
        "query",
        "tx",
        &tx_hash,
        "--as",
        "alice",
        "--prove",
        "--out",
        tx_proof.to_str().unwrap(),
    ]);
    env.ok(&[
        "verify",
        tx_proof.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);

    let mut tampered: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_proof).unwrap()).unwrap();
    tampered["proof"]["value"] = Value::from("ff00000000000000000000000000000000");
    let tampered_path = env.path("tampered.json");
    write(&tampered_path, &tampered);
    let (status, v) = env.json(&[
        "verify",
        tampered_path.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert_eq!(status, 4, "{v}");
    let mut forged_tx: Value =
        serde_json::from_str(&std::fs::read_to_string(&tx_proof).unwrap()).unwrap();
    forged_tx["proof"]["transaction"]["tx"]["memo"] = Value::from("forged");
    write(&tampered_path, &forged_tx);
    assert_eq!(
        env.json(&[
            "verify",
            tampered_path.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap()
        ])
        .0,
        4
    );

    // Human output and errors read well too.
    let out = env.weft(&[
        "tx", "--key", "alice", "transfer", "--symbol", "eur", "--to", &bob, "--amount", "999999",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error [insufficient_balance]:"),
        "{stderr}"
    );
}

#[test]
fn unreachable_node_and_usage_errors_have_their_own_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        dir,
        url: format!("http://127.0.0.1:{}", free_port()),
        node: None,
    };
    let (status, v) = env.json(&["query", "status"]);
    assert_eq!(status, 5, "{v}");
    assert_eq!(v["error"]["kind"], "unreachable");
    let out = env.weft(&["tx", "--key", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.weft(&["query", "tx", "not-a-hash"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_exits_with_a_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(WEFT)
        .args([
            "demo",
            "--exit",
            "--json",
            "--api",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["chain_id"], "weft-demo");
    assert!(summary["height"].as_u64().unwrap() >= 4);
    let scenarios = summary["scenarios"].as_array().unwrap();
    // Every reference scenario, each passed, each with steps and at least one refusal.
    assert_eq!(scenarios.len(), weft_scenarios::SCENARIOS.len());
    for s in scenarios {
        assert_eq!(s["passed"], true, "{s}");
        assert!(s["transactions"].as_u64().unwrap() > 0, "{s}");
        assert!(
            s["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|step| step["refusal"] == true),
            "{s}"
        );
        assert!(!s["final_state"].as_str().unwrap().is_empty(), "{s}");
    }
    // Rerunning on the same data dir continues the same chain.
    let again = Command::new(WEFT)
        .args([
            "demo",
            "--exit",
            "--json",
            "--api",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let second: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(second["height"].as_u64().unwrap() > summary["height"].as_u64().unwrap());
}

#[test]
fn template_validate_checks_files_offline_and_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        dir,
        url: "http://127.0.0.1:1".into(),
        node: None,
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates");
    let good: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    assert!(good.len() >= 3);
    let mut args = vec!["template", "validate"];
    args.extend(good.iter().map(String::as_str));
    let report = env.ok(&args);
    assert_eq!(report["valid"], true);
    // A transition to a state that does not exist: exit 2, and the line of `to:`.
    let text = std::fs::read_to_string(format!("{root}/bank-guarantee.yaml")).unwrap();
    let broken = text.replacen("to: issued", "to: nowhere", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("to: nowhere"))
        .unwrap()
        + 1;
    let path = env.path("broken.yaml");
    std::fs::write(&path, broken).unwrap();
    let (status, v) = env.json(&["template", "validate", path.to_str().unwrap()]);
    assert_eq!(status, 2, "{v}");
    assert_eq!(v["valid"], false);
    assert_eq!(v["templates"][0]["errors"][0]["line"], line);
    let out = env.weft(&["template", "validate", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("broken.yaml:{line}:")), "{stderr}");
}

#[test]
fn pki_certificates_verify_only_while_their_binding_is_live() {
    let env = start("cli-test");
    for k in ["owner", "server", "ca1", "ca2"] {
        env.ok(&["keys", "new", k]);
    }
    let server = env.ok(&["keys", "show", "server"])["account"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&[
        "tx",
        "--key",
        "validator",
        "register-org",
        "--id",
        "pki",
        "--name",
        "PKI",
    ]);
    for (who, role) in [
        ("owner", "member"),
        ("ca1", "endorser"),
        ("ca2", "endorser"),
    ] {
        env.ok(&[
            "tx",
            "--key",
            "validator",
            "register-account",
            "--account",
            who,
            "--org",
            "pki",
            "--role",
            role,
        ]);
    }
    let name = "www.cli.example";
    let ops = |op: Value| {
        let path = env.path("ops.json");
        write(&path, &Value::Array(vec![op]));
        path
    };
    let bind = ops(serde_json::json!({
        "type": "bind_name", "name": name, "public_key": server, "endorsers_required": 2
    }));
    env.ok(&["tx", "--key", "owner", "raw", bind.to_str().unwrap()]);
    let endorse = ops(serde_json::json!({
        "type": "endorse_binding", "name": name, "public_key": server
    }));
    env.ok(&["tx", "--key", "ca1", "raw", endorse.to_str().unwrap()]);
    let cert = env.path("cert.pem");
    let cert = cert.to_str().unwrap();
    // Pending: no certificate yet.
    let (code, _) = env.json(&[
        "pki", "cert", "issue", "--name", name, "--key", "server", "--out", cert,
    ]);
    assert_ne!(code, 0, "issued for a pending binding");
    env.ok(&["tx", "--key", "ca2", "raw", endorse.to_str().unwrap()]);
    assert_eq!(env.ok(&["pki", "show", name])["live"]["public_key"], server);
    env.ok(&[
        "pki", "cert", "issue", "--name", name, "--key", "server", "--out", cert,
    ]);
    let v = env.ok(&["pki", "cert", "verify", cert]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["name"], name);

    let revoke = ops(serde_json::json!({
        "type": "revoke_binding", "name": name, "public_key": server, "reason": "retired"
    }));
    env.ok(&["tx", "--key", "owner", "raw", revoke.to_str().unwrap()]);
    let (code, v) = env.json(&["pki", "cert", "verify", cert]);
    assert_eq!(code, 4, "a revoked key's certificate verified: {v}");
}
