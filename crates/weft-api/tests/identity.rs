//! DID resolution, status lists and credential verification through the API of a real node:
//! W3C-shaped answers, history by height, the read policy, and every kind of refusal typed.

use std::time::Duration;

use serde_json::{Map, Value, json};
use weft_client::{Client, Keypair, TxBuilder, consortium};
use weft_credentials::{
    CredentialDraft, DidRecord, HolderBinding, KeyBindingParams, KeyId, StatusEntry,
    status_list::{BitstringStatusList, MIN_STATUS_LIST_BITS},
};
use weft_node::{Node, NodeConfig};
use weft_types::{
    CreateStatusList, ErrorCode, Genesis, GenesisAccount, Hash, Name, Operation, PublishCommitment,
    RegisterIssuer, SetCredentialStatus, TxStatus, UpdateDid,
    did::{Did, DidUpdate, KeyFormat, StatusPurpose},
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Harness {
    _node: Node,
    /// Anonymous: sees what the `public` role may read.
    anon: Client,
    http: reqwest::Client,
    genesis: Genesis,
    admin: Keypair,
    mno: Keypair,
    holder: Keypair,
    bank: Keypair,
    _dir: tempfile::TempDir,
}

async fn start() -> Harness {
    let admin = Keypair::from_seed([1; 32]);
    let mno = Keypair::from_seed([2; 32]);
    let holder = Keypair::from_seed([3; 32]);
    let bank = Keypair::from_seed([4; 32]);
    let mut genesis =
        consortium::genesis(name("id-test"), &admin, name("operator"), 1_700_000_000_000);
    for (key, role) in [
        (&mno, "credential-issuer"),
        (&holder, "member"),
        (&bank, "member"),
    ] {
        genesis.accounts.push(GenesisAccount {
            account: key.account(),
            organization: name("operator"),
            roles: vec![name(role)],
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), genesis.clone());
    config.validator_key = Some(admin.clone());
    let node = Node::start(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_api::serve(
        node.clone(),
        listener,
        std::future::pending(),
    ));
    Harness {
        _node: node,
        anon: Client::new(url),
        http: reqwest::Client::new(),
        genesis,
        admin,
        mno,
        holder,
        bank,
        _dir: dir,
    }
}

impl Harness {
    fn did(&self, key: &Keypair) -> Did {
        Did::new(self.genesis.chain_id.clone(), key.account())
    }

    async fn send(&self, keys: &[&Keypair], ops: Vec<Operation>) -> TxStatus {
        let client = self.anon.as_member(keys[0]);
        let nonce = client.next_nonce(&keys[0].account()).await.unwrap();
        let tx = TxBuilder::new(self.genesis.chain_id.clone(), keys[0].account())
            .nonce(nonce)
            .ops(ops)
            .sign(keys);
        client
            .submit_and_wait(&tx, Duration::from_secs(10))
            .await
            .unwrap()
            .receipt
            .status
    }

    async fn height(&self) -> u64 {
        self.anon.status().await.unwrap()["height"]
            .as_u64()
            .unwrap()
    }

    async fn verify(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/credentials/verify", self.anon.base()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn code(r: &Result<Value, weft_client::ClientError>) -> Option<ErrorCode> {
    r.as_ref().err().and_then(|e| e.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dids_resolve_as_w3c_documents_at_any_height() {
    let h = start().await;
    let did = h.did(&h.holder);
    // Anonymous: DID documents are public in the standard consortium.
    let r = h.anon.resolve_did(&did.to_string(), None).await.unwrap();
    let key1 = format!("{did}#key-1");
    assert_eq!(r["didDocument"]["id"], did.to_string());
    assert_eq!(r["didDocument"]["authentication"], json!([key1]));
    assert_eq!(r["didDocument"]["assertionMethod"], json!([key1]));
    assert_eq!(
        r["didDocument"]["verificationMethod"][0]["type"],
        "Ed25519VerificationKey2020"
    );
    assert_eq!(r["didDocumentMetadata"]["versionId"], "1");
    assert_eq!(r["didDocumentMetadata"]["deactivated"], false);
    assert_eq!(
        r["didResolutionMetadata"]["contentType"],
        "application/did+ld+json"
    );

    let before = h.height().await;
    let phone = Keypair::from_seed([9; 32]);
    let status = h
        .send(
            &[&h.holder],
            vec![Operation::UpdateDid(UpdateDid {
                did: did.clone(),
                updates: vec![DidUpdate::AddKey {
                    public_key: phone.account(),
                    format: KeyFormat::JsonWebKey,
                    authentication: true,
                    assertion_method: false,
                }],
            })],
        )
        .await;
    assert_eq!(status, TxStatus::Success);
    let r = h.anon.resolve_did(&did.to_string(), None).await.unwrap();
    assert_eq!(r["didDocumentMetadata"]["versionId"], "2");
    assert_eq!(
        r["didDocument"]["authentication"],
        json!([key1, format!("{did}#key-2")])
    );
    assert_eq!(
        r["didDocument"]["verificationMethod"][1]["publicKeyJwk"]["kty"],
        "OKP"
    );
    // The stored record is readable as state too, and decodes to the same document.
    let stored = h
        .anon
        .state(&format!("did/{}", h.holder.account()), false, None)
        .await
        .unwrap();
    let record: DidRecord = serde_json::from_value(stored["value"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(record.document()).unwrap(),
        r["didDocument"]
    );
    // History: at the earlier height, one key.
    let old = h
        .anon
        .resolve_did(&did.to_string(), Some(before))
        .await
        .unwrap();
    assert_eq!(old["didDocumentMetadata"]["versionId"], "1");
    assert_eq!(old["didResolutionMetadata"]["height"], before);
    // Refusals.
    let head = h.height().await;
    assert_eq!(
        code(
            &h.anon
                .resolve_did(&did.to_string(), Some(head + 1000))
                .await
        ),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(&h.anon.resolve_did("did:weft:id-test:XYZ", None).await),
        Some(ErrorCode::Malformed)
    );
    assert_eq!(
        code(&h.anon.resolve_did("did:web:example.org", None).await),
        Some(ErrorCode::Malformed)
    );
    let elsewhere = Did::new(name("other-chain"), h.holder.account());
    assert_eq!(
        code(&h.anon.resolve_did(&elsewhere.to_string(), None).await),
        Some(ErrorCode::NotFound)
    );
    let nobody = h.did(&Keypair::from_seed([77; 32]));
    assert_eq!(
        code(&h.anon.resolve_did(&nobody.to_string(), None).await),
        Some(ErrorCode::NotFound)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_are_served_as_bitstring_status_list_credentials() {
    let h = start().await;
    let ops = vec![
        Operation::CreateStatusList(CreateStatusList {
            name: name("rev-1"),
            purpose: StatusPurpose::Revocation,
            entries: MIN_STATUS_LIST_BITS as u32,
        }),
        Operation::SetCredentialStatus(SetCredentialStatus {
            list: name("rev-1"),
            index: 42,
            value: true,
        }),
    ];
    assert_eq!(h.send(&[&h.mno], ops).await, TxStatus::Success);
    let by_hex = h
        .anon
        .status_list(&h.mno.account().to_string(), "rev-1")
        .await
        .unwrap();
    let by_did = h
        .anon
        .status_list(&h.did(&h.mno).to_string(), "rev-1")
        .await
        .unwrap();
    assert_eq!(by_hex["credentialSubject"], by_did["credentialSubject"]);
    assert_eq!(
        by_hex["id"],
        format!("weft://id-test/status-lists/{}/rev-1", h.mno.account())
    );
    assert_eq!(by_hex["issuer"], h.did(&h.mno).to_string());
    assert_eq!(
        by_hex["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(by_hex["credentialSubject"]["statusPurpose"], "revocation");
    let bits =
        BitstringStatusList::decode(by_hex["credentialSubject"]["encodedList"].as_str().unwrap())
            .unwrap();
    assert_eq!(bits.len(), MIN_STATUS_LIST_BITS);
    assert_eq!(bits.get(42), Ok(true));
    assert_eq!(bits.count_set(), 1);
    assert!(by_hex["validFrom"].as_str().unwrap().ends_with('Z'));

    let missing = h
        .anon
        .status_list(&h.mno.account().to_string(), "rev-2")
        .await;
    assert_eq!(code(&missing), Some(ErrorCode::NotFound));
    let bad = h.anon.status_list("not-hex", "rev-1").await;
    assert_eq!(code(&bad), Some(ErrorCode::InvalidArgument));
    let bad = h
        .anon
        .status_list(&h.mno.account().to_string(), "Bad_Name")
        .await;
    assert_eq!(code(&bad), Some(ErrorCode::InvalidArgument));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_are_for_members_only() {
    let h = start().await;
    let ops = vec![Operation::PublishCommitment(PublishCommitment {
        id: name("kyc-1"),
        commitment: Hash([7; 32]),
        attribute: "birth_date".into(),
    })];
    assert_eq!(h.send(&[&h.mno], ops).await, TxStatus::Success);
    let anon = h.anon.state("commitment/kyc-1", false, None).await;
    assert_eq!(code(&anon), Some(ErrorCode::Unauthenticated));
    let member = h
        .anon
        .as_member(&h.bank)
        .state("commitment/kyc-1", false, None)
        .await
        .unwrap();
    assert_eq!(member["value"]["attribute"], "birth_date");
    assert_eq!(member["value"]["publisher"], h.mno.account().to_string());
}

/// Issues the holder an identity credential with status entry `index` of `rev-1`.
fn issue(h: &Harness, index: u64) -> String {
    let issuer = DidRecord::new(h.did(&h.mno), 0);
    let mut claims = Map::new();
    claims.insert("given_name".into(), json!("Maria"));
    claims.insert("over_18".into(), json!(true));
    let now = now_s();
    let draft = CredentialDraft {
        id: None,
        issuer: h.did(&h.mno).key_url(KeyId(1)),
        subject: h.did(&h.holder),
        types: vec!["IdentityCredential".into()],
        claims,
        disclosable: vec!["/given_name".into(), "/over_18".into()],
        valid_from: now - 60,
        valid_until: Some(now + 3600),
        status: StatusEntry {
            purpose: StatusPurpose::Revocation,
            list: format!("weft://id-test/status-lists/{}/rev-1", h.mno.account()),
            index,
        },
        holder_binding: HolderBinding::SubjectDid,
        issued_at: now,
    };
    weft_credentials::issue(&draft, &issuer, &h.mno).unwrap()
}

fn present(credential: &str, disclose: &[&str], nonce: &str, holder: &Keypair) -> String {
    let params = KeyBindingParams {
        audience: "did:weft:id-test:bank",
        nonce,
        issued_at: now_s(),
        holder_key: Some(KeyId(1)),
    };
    weft_credentials::present(credential, disclose, Some((&params, holder))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presentations_are_verified_against_the_ledger() {
    let h = start().await;
    assert_eq!(
        h.send(
            &[&h.mno],
            vec![Operation::CreateStatusList(CreateStatusList {
                name: name("rev-1"),
                purpose: StatusPurpose::Revocation,
                entries: MIN_STATUS_LIST_BITS as u32,
            })]
        )
        .await,
        TxStatus::Success
    );
    let credential = issue(&h, 7);
    let shown = present(&credential, &["/over_18"], "n-1", &h.holder);
    let request = |presentation: &str, nonce: &str| json!({"presentation": presentation, "audience": "did:weft:id-test:bank", "nonce": nonce});

    // Not yet in the registry.
    let (status, answer) = h.verify(request(&shown, "n-1")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["verified"], false);
    assert_eq!(answer["error"]["reason"], "untrusted_issuer");
    assert_eq!(answer["error"]["code"], "unauthorized");

    let register = Operation::RegisterIssuer(RegisterIssuer {
        did: h.did(&h.mno),
        credential_types: vec!["IdentityCredential".into()],
    });
    // Only the registrar (here the admin) keeps the registry.
    let refused = {
        let client = h.anon.as_member(&h.mno);
        let nonce = client.next_nonce(&h.mno.account()).await.unwrap();
        let tx = TxBuilder::new(h.genesis.chain_id.clone(), h.mno.account())
            .nonce(nonce)
            .ops(vec![register.clone()])
            .sign(&[&h.mno]);
        client.submit(&tx).await
    };
    assert_eq!(
        refused.err().and_then(|e| e.code()),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(h.send(&[&h.admin], vec![register]).await, TxStatus::Success);

    // Verified, as an anonymous client and as a signed-in member.
    let (status, answer) = h.verify(request(&shown, "n-1")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], true, "{answer}");
    assert_eq!(answer["holder_bound"], true);
    assert_eq!(answer["issuer"], h.did(&h.mno).to_string());
    assert_eq!(answer["subject"], h.did(&h.holder).to_string());
    assert_eq!(answer["claims"], json!({"over_18": true}));
    let signed = h
        .anon
        .as_member(&h.bank)
        .verify_credential(&shown, Some(("did:weft:id-test:bank", "n-1")))
        .await
        .unwrap();
    assert_eq!(signed["verified"], true);

    // Each failure has its reason.
    let (_, answer) = h.verify(request(&shown, "n-2")).await;
    assert_eq!(answer["error"]["reason"], "wrong_nonce");
    let (_, answer) = h
        .verify(json!({"presentation": shown, "audience": "someone-else", "nonce": "n-1"}))
        .await;
    assert_eq!(answer["error"]["reason"], "wrong_audience");
    let (_, answer) = h.verify(json!({"presentation": credential})).await;
    assert_eq!(
        answer["verified"], true,
        "a bearer check without key binding"
    );
    let (_, answer) = h.verify(request(&credential, "n-1")).await;
    assert_eq!(answer["error"]["reason"], "missing_key_binding");
    // A signature changed by one character.
    let (jwt, rest) = shown.split_once('~').unwrap();
    let mut forged_jwt = jwt.to_string();
    let last = forged_jwt.pop().unwrap();
    forged_jwt.push(if last == 'A' { 'B' } else { 'A' });
    let (_, answer) = h
        .verify(request(&format!("{forged_jwt}~{rest}"), "n-1"))
        .await;
    assert_eq!(answer["verified"], false);
    assert!(
        ["bad_signature", "malformed"].contains(&answer["error"]["reason"].as_str().unwrap()),
        "{answer}"
    );
    // Bound by a key that is not the holder's.
    let thief = Keypair::from_seed([66; 32]);
    let stolen = present(&credential, &["/over_18"], "n-1", &thief);
    let (_, answer) = h.verify(request(&stolen, "n-1")).await;
    assert_eq!(answer["error"]["reason"], "key_binding_signature");

    // Revocation: the issuer sets the bit; the same presentation fails from now on.
    assert_eq!(
        h.send(
            &[&h.mno],
            vec![Operation::SetCredentialStatus(SetCredentialStatus {
                list: name("rev-1"),
                index: 7,
                value: true,
            })]
        )
        .await,
        TxStatus::Success
    );
    let fresh = present(&credential, &["/over_18"], "n-3", &h.holder);
    let (status, answer) = h.verify(request(&fresh, "n-3")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["verified"], false);
    assert_eq!(answer["error"]["reason"], "revoked");
    // A credential whose index is still clear keeps verifying.
    let other = present(&issue(&h, 8), &["/over_18"], "n-4", &h.holder);
    let (_, answer) = h.verify(request(&other, "n-4")).await;
    assert_eq!(answer["verified"], true, "{answer}");

    // Bad requests are errors, not verification answers.
    let (status, answer) = h
        .verify(json!({"presentation": fresh, "audience": "x"}))
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (422, Some("invalid_argument"))
    );
    let (status, answer) = h.verify(json!({"presentation": 5})).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("malformed")));
    let (status, answer) = h.verify(json!({"presentation": "x".repeat(200_000)})).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("oversized")));
    // A half-signed request is refused before anything is read.
    let resp = h
        .http
        .post(format!("{}/v1/credentials/verify", h.anon.base()))
        .header("content-type", "application/json")
        .header("signature", "sig1=:AAAA:")
        .body(request(&fresh, "n-3").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_identity_routes_and_operations() {
    let doc = weft_api::openapi_document();
    for path in [
        "/v1/dids/{did}",
        "/v1/status-lists/{issuer}/{name}",
        "/v1/credentials/verify",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let ops = doc["components"]["schemas"]["SignedTransaction"]["properties"]["tx"]["properties"]
        ["operations"]["items"]["properties"]["type"]["enum"]
        .clone();
    for op in [
        "update_did",
        "register_issuer",
        "remove_issuer",
        "create_status_list",
        "set_credential_status",
        "publish_commitment",
        "withdraw_commitment",
    ] {
        assert!(ops.as_array().unwrap().contains(&json!(op)), "{op}");
    }
}
