//! The rendered W3C DID document, pinned as golden JSON.
//!
//! `tests/fixtures/did_document.json` fixes what resolvers and wallets see for a record with
//! both key formats, a controller and a service. A mismatch means the document format
//! changed: regenerate with `WEFT_BLESS=1 cargo test -p weft-credentials --test did_document`
//! and review the diff like any protocol change.

use serde_json::json;
use weft_credentials::{
    Did, DidRecord, DidUpdate, KeyFormat, KeyId, Service,
    keys::{key_from_jwk, key_from_multibase},
};
use weft_crypto::Keypair;
use weft_types::Name;

fn did(n: u8) -> Did {
    Did::new(
        Name::new("weft-test").unwrap(),
        Keypair::from_seed([n; 32]).account(),
    )
}

fn sample() -> DidRecord {
    DidRecord::new(did(1), 5)
        .apply_all(
            &[
                DidUpdate::AddKey {
                    public_key: Keypair::from_seed([2; 32]).account(),
                    format: KeyFormat::JsonWebKey,
                    authentication: false,
                    assertion_method: true,
                },
                DidUpdate::AddController { controller: did(3) },
                DidUpdate::AddService {
                    service: Service {
                        id: Name::new("status").unwrap(),
                        service_type: "BitstringStatusList".into(),
                        endpoint: "weft://weft-test/status-lists/operator/revocation-1".into(),
                    },
                },
            ],
            9,
        )
        .unwrap()
}

#[test]
fn did_document_matches_golden_json() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/did_document.json"
    );
    // The text, not just the value, is pinned: key order is what a client sees.
    let current = serde_json::to_string_pretty(&sample().resolution()).unwrap() + "\n";
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let pinned = std::fs::read_to_string(path).expect("golden file (create with WEFT_BLESS=1)");
    assert_eq!(
        pinned, current,
        "the DID document format changed; see this file's header"
    );
}

#[test]
fn document_lists_current_keys_and_relationships() {
    let record = sample();
    let doc = serde_json::to_value(record.document()).unwrap();
    let id = did(1).to_string();
    assert_eq!(doc["id"], id);
    assert_eq!(
        doc["@context"],
        json!([
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
            "https://w3id.org/security/jwk/v1"
        ])
    );
    // The subject stays a controller when others are added.
    assert_eq!(doc["controller"], json!([id, did(3).to_string()]));
    assert_eq!(doc["authentication"], json!([format!("{id}#key-1")]));
    assert_eq!(
        doc["assertionMethod"],
        json!([format!("{id}#key-1"), format!("{id}#key-2")])
    );
    let methods = doc["verificationMethod"].as_array().unwrap();
    assert_eq!(methods[0]["type"], "Ed25519VerificationKey2020");
    assert_eq!(
        key_from_multibase(methods[0]["publicKeyMultibase"].as_str().unwrap()),
        Some(*did(1).account())
    );
    assert_eq!(methods[1]["type"], "JsonWebKey");
    assert_eq!(
        key_from_jwk(&methods[1]["publicKeyJwk"]),
        Some(Keypair::from_seed([2; 32]).account())
    );
    assert!(methods.iter().all(|m| m["controller"] == id));
    assert_eq!(doc["service"][0]["id"], format!("{id}#status"));

    let meta = serde_json::to_value(record.resolution()).unwrap();
    assert_eq!(meta["didDocumentMetadata"]["versionId"], "2");
    assert_eq!(meta["didDocumentMetadata"]["deactivated"], false);
    assert_eq!(meta["didDocumentMetadata"]["updatedHeight"], 9);
}

#[test]
fn rotation_changes_the_document_not_the_did() {
    let record = sample();
    let rotated = record
        .apply_all(
            &[
                DidUpdate::AddKey {
                    public_key: Keypair::from_seed([4; 32]).account(),
                    format: KeyFormat::Ed25519VerificationKey2020,
                    authentication: true,
                    assertion_method: true,
                },
                DidUpdate::RemoveKey { id: KeyId(1) },
            ],
            10,
        )
        .unwrap();
    let doc = rotated.document();
    assert_eq!(doc.id, did(1).to_string());
    let ids: Vec<_> = doc
        .verification_method
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        ids,
        [format!("{}#key-2", did(1)), format!("{}#key-3", did(1))]
    );
    assert_eq!(doc.authentication, [format!("{}#key-3", did(1))]);
}

#[test]
fn a_deactivated_did_renders_without_keys() {
    let dead = sample().apply(&DidUpdate::Deactivate, 12).unwrap();
    let resolution = serde_json::to_value(dead.resolution()).unwrap();
    assert_eq!(resolution["didDocumentMetadata"]["deactivated"], true);
    let doc = &resolution["didDocument"];
    assert_eq!(doc["verificationMethod"], json!([]));
    assert_eq!(doc["authentication"], json!([]));
    assert_eq!(doc["assertionMethod"], json!([]));
    assert!(doc.get("service").is_none());
    assert_eq!(doc["@context"], json!(["https://www.w3.org/ns/did/v1"]));
}
