//! `weft private` end to end against a real node process: a hospital (controller) records a
//! patient's (subject's) lab result with the patient co-signing, a lab reads it under a
//! grant and gets the exact bytes, loses it on revocation, the patient narrows consent and
//! finally purges; refusals come back with the ledger's codes.

use serde_json::{Value, json};
use weft_credentials::commitment::{Commitment, Salt, verify};

mod common;

use common::start;

fn events(show: &Value) -> Vec<String> {
    show["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_private_record_through_its_lifecycle_with_the_cli() {
    let env = start("private-cli-test");
    for k in ["hospital", "patient", "lab", "broker"] {
        env.ok(&["keys", "new", k]);
    }
    let (hospital, patient, lab) = (
        env.account("hospital"),
        env.account("patient"),
        env.account("lab"),
    );
    let broker = env.account("broker");
    let onboard = env.path("onboard.json");
    let org = |id: &str| json!({"type": "register_organization", "id": id, "display_name": id});
    let account = |a: &str, org: &str, role: &str| json!({"type": "register_account", "account": a, "organization": org, "roles": [role]});
    std::fs::write(
        &onboard,
        json!([
            org("st-mary"),
            org("citizens"),
            org("city-lab"),
            org("adtech"),
            account(&hospital, "st-mary", "member"),
            account(&patient, "citizens", "citizen"),
            account(&lab, "city-lab", "member"),
            account(&broker, "adtech", "member"),
        ])
        .to_string(),
    )
    .unwrap();
    env.ok(&["tx", "--key", "validator", "raw", onboard.to_str().unwrap()]);

    // Binary content, so any text mangling on the way would show.
    let payload: Vec<u8> = b"HbA1c 6.1%\nLDL 2.4 mmol/L\n\x00\x01\xfe\xff end"
        .iter()
        .copied()
        .chain((0..=255u8).rev())
        .collect();
    let file = env.path("result.bin");
    std::fs::write(&file, &payload).unwrap();
    let file = file.to_str().unwrap();

    // Too large a payload is refused before anything is signed.
    let big = env.path("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let (code, v) = env.json(&[
        "private",
        "create",
        "--id",
        "too-big",
        "--file",
        big.to_str().unwrap(),
        "--data-type",
        "scan",
        "--purpose",
        "treatment",
        "--key",
        "hospital",
    ]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["error"]["code"], "oversized", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("16 MiB"),
        "{v}"
    );

    let created = env.ok(&[
        "private",
        "create",
        "--id",
        "lab-1",
        "--file",
        file,
        "--data-type",
        "lab-result",
        "--purpose",
        "treatment",
        "--purpose",
        "research",
        "--subject",
        "patient",
        "--key",
        "hospital",
    ]);
    assert_eq!(created["id"], "lab-1");
    assert_eq!(created["size"], payload.len() as u64);
    assert_eq!(created["subject"], patient.as_str());
    assert!(
        created["tx_hash"].as_str().is_some_and(|h| h.len() == 64),
        "{created}"
    );
    // The printed salt opens the printed commitment over the file's bytes.
    let salt: Salt = serde_json::from_value(created["salt"].clone()).unwrap();
    let commitment: weft_types::Hash =
        serde_json::from_value(created["commitment"].clone()).unwrap();
    assert!(verify(&payload, &salt, &Commitment(commitment)));
    env.refused(
        &[
            "private",
            "create",
            "--id",
            "lab-1",
            "--file",
            file,
            "--data-type",
            "lab-result",
            "--purpose",
            "treatment",
            "--key",
            "hospital",
        ],
        "already_exists",
    );

    let shown = env.ok(&["private", "show", "lab-1", "--as", "hospital"]);
    assert_eq!(shown["record"]["controller"], hospital.as_str());
    assert_eq!(shown["record"]["subject"], patient.as_str());
    assert_eq!(shown["record"]["commitment"], created["commitment"]);
    assert_eq!(shown["record"]["consent"], json!(["treatment", "research"]));
    assert_eq!(shown["stored_here"], true, "the payload was not uploaded");
    assert_eq!(events(&shown), ["created"]);
    let text =
        String::from_utf8(env.text(&["private", "show", "lab-1", "--as", "hospital"])).unwrap();
    assert!(text.contains(&format!("controller  {hospital}")), "{text}");
    assert!(text.contains(&format!("subject     {patient}")), "{text}");
    assert!(text.contains("purposes    treatment, research"), "{text}");
    assert!(text.contains("log (1 entries)"), "{text}");
    assert!(text.contains(&format!("{hospital}  created")), "{text}");
    env.refused(&["private", "show", "lab-1", "--as", "broker"], "forbidden");

    // No grant, no read; a grant for treatment covers treatment only.
    let got = env.path("got.bin");
    let got_s = got.to_str().unwrap();
    env.refused(
        &[
            "private",
            "read",
            "lab-1",
            "--purpose",
            "treatment",
            "--key",
            "lab",
            "--out",
            got_s,
        ],
        "unauthorized",
    );
    let granted = env.ok(&[
        "private",
        "grant",
        "lab-1",
        "--to",
        "lab",
        "--purpose",
        "treatment",
        "--key",
        "hospital",
    ]);
    assert_eq!(granted["status"], "committed", "{granted}");
    env.refused(
        &[
            "private",
            "read",
            "lab-1",
            "--purpose",
            "research",
            "--key",
            "lab",
            "--out",
            got_s,
        ],
        "unauthorized",
    );
    assert!(!got.exists(), "a refused read wrote a file");
    let (code, v) = env.json(&[
        "private",
        "read",
        "lab-1",
        "--purpose",
        "treatment",
        "--key",
        "lab",
    ]);
    assert_eq!(code, 2, "--json without --out spent an access: {v}");
    let read = env.ok(&[
        "private",
        "read",
        "lab-1",
        "--purpose",
        "treatment",
        "--key",
        "lab",
        "--out",
        got_s,
    ]);
    assert_eq!(std::fs::read(&got).unwrap(), payload);
    assert_eq!(read["size"], payload.len() as u64);
    assert_eq!(read["commitment"], created["commitment"]);
    assert_eq!(read["purpose"], "treatment");
    let shown = env.ok(&["private", "show", "lab-1", "--as", "lab"]);
    assert_eq!(shown["log"][2]["event"], "accessed");
    assert_eq!(shown["log"][2]["actor"], lab.as_str());
    assert_eq!(shown["log"][2]["purpose"], "treatment");
    assert_eq!(shown["log"][2]["height"], read["height"]);

    env.ok(&[
        "private",
        "revoke",
        "lab-1",
        "--grantee",
        "lab",
        "--key",
        "hospital",
    ]);
    std::fs::remove_file(&got).unwrap();
    env.refused(
        &[
            "private",
            "read",
            "lab-1",
            "--purpose",
            "treatment",
            "--key",
            "lab",
            "--out",
            got_s,
        ],
        "unauthorized",
    );
    assert!(!got.exists());

    // Only the subject sets consent; narrowing it to treatment is logged.
    env.refused(
        &[
            "private",
            "consent",
            "lab-1",
            "--purpose",
            "treatment",
            "--key",
            "hospital",
        ],
        "unauthorized",
    );
    env.ok(&[
        "private",
        "consent",
        "lab-1",
        "--purpose",
        "treatment",
        "--key",
        "patient",
    ]);
    // The subject reads its own data, raw to stdout.
    assert_eq!(
        env.text(&[
            "private",
            "read",
            "lab-1",
            "--purpose",
            "research",
            "--key",
            "patient"
        ]),
        payload
    );

    env.ok(&[
        "private",
        "purge",
        "lab-1",
        "--reason",
        "erasure requested",
        "--key",
        "patient",
    ]);
    let shown = env.ok(&["private", "show", "lab-1", "--as", "hospital"]);
    assert_eq!(shown["record"]["purged"]["by"], patient.as_str());
    assert_eq!(shown["record"]["consent"], json!([]));
    assert_eq!(shown["record"]["commitment"], created["commitment"]);
    assert_eq!(
        events(&shown),
        [
            "created", "granted", "accessed", "revoked", "consent", "accessed", "purged"
        ]
    );
    let text =
        String::from_utf8(env.text(&["private", "show", "lab-1", "--as", "hospital"])).unwrap();
    assert!(text.contains("purged      at height"), "{text}");
    assert!(text.contains("erasure requested"), "{text}");
    assert!(text.contains("log (7 entries)"), "{text}");
    assert!(text.contains(&format!("revoked  from {lab}")), "{text}");
    env.refused(
        &[
            "private",
            "read",
            "lab-1",
            "--purpose",
            "treatment",
            "--key",
            "patient",
            "--out",
            got_s,
        ],
        "purged",
    );
}
