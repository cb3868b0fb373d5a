//! `weft credential issue | present | verify` end to end against a real node process
//! (UC-26/27): a trusted issuer issues an SD-JWT credential, the holder discloses one claim
//! to a bank bound to its nonce, the bank verifies; a wrong nonce and, after the issuer
//! revokes it on its status list, the credential itself no longer verify (exit 4).

mod common;

use common::start;
use serde_json::json;

#[test]
fn a_credential_is_issued_presented_verified_and_revoked_with_the_cli() {
    let env = start("cred-cli-test");
    for k in ["mno", "holder"] {
        env.ok(&["keys", "new", k]);
    }
    let (mno, holder) = (env.account("mno"), env.account("holder"));
    let onboard = env.path("onboard.json");
    std::fs::write(
        &onboard,
        json!([
            {"type": "register_organization", "id": "mno", "display_name": "Mobile operator"},
            {"type": "register_organization", "id": "citizens", "display_name": "Citizens"},
            {"type": "register_account", "account": mno, "organization": "mno", "roles": ["credential-issuer"]},
            {"type": "register_account", "account": holder, "organization": "citizens", "roles": ["citizen"]},
            {"type": "register_issuer", "did": format!("did:weft:cred-cli-test:{mno}"), "credential_types": ["IdentityCredential"]},
        ])
        .to_string(),
    )
    .unwrap();
    env.ok(&["tx", "--key", "validator", "raw", onboard.to_str().unwrap()]);
    let list = env.path("list.json");
    std::fs::write(
        &list,
        json!([{"type": "create_status_list", "name": "revocations", "purpose": "revocation", "entries": 131072}]).to_string(),
    )
    .unwrap();
    env.ok(&["tx", "--key", "mno", "raw", list.to_str().unwrap()]);

    let claims = env.path("claims.json");
    std::fs::write(
        &claims,
        json!({"given_name": "Ada", "over_18": true, "phone": "+372 5555 0101"}).to_string(),
    )
    .unwrap();
    let credential = env.path("credential.txt");
    let issued = env.ok(&[
        "credential",
        "issue",
        "--key",
        "mno",
        "--subject",
        "holder",
        "--claims",
        claims.to_str().unwrap(),
        "--list",
        "revocations",
        "--index",
        "7",
        "--out",
        credential.to_str().unwrap(),
    ]);
    assert!(issued["bytes"].as_u64().unwrap() > 100, "{issued}");
    let presentation = env.path("presentation.txt");
    env.ok(&[
        "credential",
        "present",
        credential.to_str().unwrap(),
        "--key",
        "holder",
        "--disclose",
        "/over_18",
        "--audience",
        "bank",
        "--nonce",
        "n-1",
        "--out",
        presentation.to_str().unwrap(),
    ]);
    let p = presentation.to_str().unwrap();

    // The bank sees exactly the disclosed claim, from a trusted issuer, bound to its nonce.
    let v = env.ok(&[
        "credential",
        "verify",
        p,
        "--audience",
        "bank",
        "--nonce",
        "n-1",
    ]);
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["claims"]["over_18"], true, "{v}");
    assert!(
        v["claims"].get("given_name").is_none(),
        "undisclosed claims stay hidden: {v}"
    );
    assert!(v["claims"].get("phone").is_none(), "{v}");
    assert_eq!(v["holder_bound"], true, "{v}");

    // Replayed to another verifier (another nonce): refused, exit 4.
    let (code, v) = env.json(&[
        "credential",
        "verify",
        p,
        "--audience",
        "bank",
        "--nonce",
        "n-2",
    ]);
    assert_eq!(code, 4, "{v}");
    assert_eq!(v["error"]["reason"], "wrong_nonce", "{v}");

    // Someone else's key cannot present it: the key binding does not verify.
    let forged = env.path("forged.txt");
    env.ok(&[
        "credential",
        "present",
        credential.to_str().unwrap(),
        "--key",
        "mno",
        "--disclose",
        "/over_18",
        "--audience",
        "bank",
        "--nonce",
        "n-1",
        "--out",
        forged.to_str().unwrap(),
    ]);
    let (code, v) = env.json(&[
        "credential",
        "verify",
        forged.to_str().unwrap(),
        "--audience",
        "bank",
        "--nonce",
        "n-1",
    ]);
    assert_eq!(code, 4, "{v}");
    assert_eq!(v["error"]["reason"], "key_binding_signature", "{v}");

    // The issuer revokes it on its status list: it never verifies again.
    let revoke = env.path("revoke.json");
    std::fs::write(
        &revoke,
        json!([{"type": "set_credential_status", "list": "revocations", "index": 7, "value": true}]).to_string(),
    )
    .unwrap();
    env.ok(&["tx", "--key", "mno", "raw", revoke.to_str().unwrap()]);
    let (code, v) = env.json(&[
        "credential",
        "verify",
        p,
        "--audience",
        "bank",
        "--nonce",
        "n-1",
    ]);
    assert_eq!(code, 4, "{v}");
    assert_eq!(v["error"]["reason"], "revoked", "{v}");
}
