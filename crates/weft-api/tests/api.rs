//! The API end to end on a real node: every bad input gets its own typed error and changes
//! nothing; proofs fetched through the API verify offline; the OpenAPI document covers the
//! routes; SSE streams committed blocks.

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;
use weft_client::{Client, Keypair, RecordProof, TrustAnchor, TxBuilder, verify_bundle};
use weft_node::{Node, NodeConfig};
use weft_types::{
    Amount, DefineToken, ErrorCode, Genesis, GenesisAccount, GenesisOrganization, GenesisValidator,
    Mint, Name, Operation, SignedTransaction, Transfer, encode,
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

struct Harness {
    node: Node,
    client: Client,
    http: reqwest::Client,
    genesis: Genesis,
    admin: Keypair,
    alice: Keypair,
    bob: Keypair,
    /// A member of another organization.
    carol: Keypair,
    /// An auditor (`read.*`) in its own organization.
    dave: Keypair,
    _dir: tempfile::TempDir,
}

async fn start() -> Harness {
    let admin = Keypair::from_seed([1; 32]);
    let alice = Keypair::from_seed([2; 32]);
    let bob = Keypair::from_seed([3; 32]);
    let carol = Keypair::from_seed([4; 32]);
    let dave = Keypair::from_seed([5; 32]);
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(name("member"), vec!["token.transfer".to_owned()]);
    roles.insert(name("auditor"), vec!["read.*".to_owned()]);
    roles.insert(
        name("public"),
        vec!["read.token".to_owned(), "read.meta".to_owned()],
    );
    let genesis = Genesis {
        chain_id: name("api-test"),
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            account: admin.account(),
            organization: name("ops"),
        }],
        organizations: vec![
            GenesisOrganization {
                id: name("ops"),
                display_name: "Ops".into(),
            },
            GenesisOrganization {
                id: name("other"),
                display_name: "Other".into(),
            },
            GenesisOrganization {
                id: name("audit"),
                display_name: "Audit".into(),
            },
        ],
        accounts: vec![
            GenesisAccount {
                account: admin.account(),
                organization: name("ops"),
                roles: vec![name("admin")],
            },
            GenesisAccount {
                account: alice.account(),
                organization: name("ops"),
                roles: vec![name("member")],
            },
            GenesisAccount {
                account: bob.account(),
                organization: name("ops"),
                roles: vec![name("member")],
            },
            GenesisAccount {
                account: carol.account(),
                organization: name("other"),
                roles: vec![name("member")],
            },
            GenesisAccount {
                account: dave.account(),
                organization: name("audit"),
                roles: vec![name("auditor")],
            },
        ],
        roles,
        tokens: vec![],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    };
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
        node,
        // The admin reads everything; tests of the read policy use other clients.
        client: Client::new(url).as_member(&admin),
        http: reqwest::Client::new(),
        genesis,
        admin,
        alice,
        bob,
        carol,
        dave,
        _dir: dir,
    }
}

impl Harness {
    async fn tx(&self, key: &Keypair, ops: Vec<Operation>) -> SignedTransaction {
        let nonce = self.client.next_nonce(&key.account()).await.unwrap();
        let height = self.client.status().await.unwrap()["height"]
            .as_u64()
            .unwrap();
        TxBuilder::new(self.genesis.chain_id.clone(), key.account())
            .nonce(nonce)
            .expiry_height(height + 50)
            .ops(ops)
            .sign(&[key])
    }

    async fn commit(&self, key: &Keypair, ops: Vec<Operation>) -> Value {
        let tx = self.tx(key, ops).await;
        let c = self
            .client
            .submit_and_wait(&tx, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(c.receipt.is_success(), "{:?}", c.receipt);
        self.client
            .transaction(&c.receipt.tx_hash, true)
            .await
            .unwrap()
    }

    async fn post_raw(&self, body: Vec<u8>, content_type: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/transactions", self.client.base()))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Everything observable that a refused transaction must not change.
    async fn fingerprint(&self) -> (Value, Value, Value, usize) {
        let status = self.client.status().await.unwrap();
        let a = self.client.account(&self.alice.account()).await.unwrap();
        let b = self.client.account(&self.bob.account()).await.unwrap();
        (status["state_root"].clone(), a, b, self.node.mempool_len())
    }
}

fn transfer(to: &Keypair, amount: u128) -> Operation {
    Operation::Transfer(Transfer {
        symbol: name("usd"),
        to: to.account(),
        amount: Amount(amount),
    })
}

async fn setup_token(h: &Harness) {
    h.commit(
        &h.admin,
        vec![
            Operation::DefineToken(DefineToken {
                symbol: name("usd"),
                display_name: "USD".into(),
                decimals: 2,
                max_supply: None,
                controller: None,
                holder_role: None,
            }),
            Operation::Mint(Mint {
                symbol: name("usd"),
                to: h.alice.account(),
                amount: Amount(1000),
            }),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_is_refused_with_its_own_code_and_changes_nothing() {
    let h = start().await;
    setup_token(&h).await;
    // One good transfer, so there is a used nonce to replay.
    let used = h.tx(&h.alice, vec![transfer(&h.bob, 1)]).await;
    h.client
        .submit_and_wait(&used, Duration::from_secs(10))
        .await
        .unwrap();
    let before = h.fingerprint().await;

    let good = h.tx(&h.alice, vec![transfer(&h.bob, 5)]).await;
    let resign = |edit: &dyn Fn(&mut weft_types::Transaction)| {
        let mut t = good.tx.clone();
        edit(&mut t);
        weft_crypto::sign_transaction(t, &[&h.alice])
    };
    let mut cases: Vec<(&str, Vec<u8>, &str, ErrorCode, u16)> = Vec::new();
    let bin = "application/octet-stream";
    let json = "application/json";
    let wrong_chain = resign(&|t| t.chain_id = name("other-chain"));
    cases.push((
        "wrong chain id",
        encode(&wrong_chain),
        bin,
        ErrorCode::WrongChainId,
        400,
    ));
    let mut unsigned = good.clone();
    unsigned.signatures.clear();
    cases.push((
        "missing signature",
        encode(&unsigned),
        bin,
        ErrorCode::MissingSignature,
        400,
    ));
    let mut bad_sig = good.clone();
    bad_sig.signatures[0].signature.0[10] ^= 0xff;
    cases.push((
        "bad signature",
        encode(&bad_sig),
        bin,
        ErrorCode::BadSignature,
        400,
    ));
    cases.push((
        "replayed nonce",
        encode(&used),
        bin,
        ErrorCode::ReplayedNonce,
        409,
    ));
    let expired = resign(&|t| t.expiry_height = 1);
    cases.push(("expired", encode(&expired), bin, ErrorCode::Expired, 400));
    cases.push((
        "oversized",
        vec![0u8; weft_types::limits::MAX_TX_BYTES + 1],
        bin,
        ErrorCode::Oversized,
        413,
    ));
    let too_many = resign(&|t| {
        t.operations = vec![transfer(&h.bob, 1); weft_types::limits::MAX_OPERATIONS + 1]
    });
    cases.push((
        "too many operations",
        encode(&too_many),
        bin,
        ErrorCode::Oversized,
        413,
    ));
    // Unknown operation: the encoding of a transaction whose one operation has tag 250.
    let mut unknown = encode(&good.tx.chain_id);
    unknown.extend(encode(&good.tx.signer));
    unknown.extend(encode(&good.tx.nonce));
    unknown.extend(encode(&good.tx.expiry_height));
    unknown.extend(encode(&1u32));
    unknown.push(250);
    cases.push((
        "unknown operation (binary)",
        unknown,
        bin,
        ErrorCode::UnknownOperation,
        400,
    ));
    let mut json_unknown: Value = serde_json::to_value(&good).unwrap();
    json_unknown["tx"]["operations"][0]["type"] = Value::from("teleport");
    cases.push((
        "unknown operation (json)",
        serde_json::to_vec(&json_unknown).unwrap(),
        json,
        ErrorCode::UnknownOperation,
        400,
    ));
    let unauthorized = h
        .tx(
            &h.alice,
            vec![Operation::Mint(Mint {
                symbol: name("usd"),
                to: h.alice.account(),
                amount: Amount(1),
            })],
        )
        .await;
    cases.push((
        "unauthorized role",
        encode(&unauthorized),
        bin,
        ErrorCode::Unauthorized,
        403,
    ));
    let overdraft = h.tx(&h.alice, vec![transfer(&h.bob, 1_000_000)]).await;
    cases.push((
        "overdraft",
        encode(&overdraft),
        bin,
        ErrorCode::InsufficientBalance,
        422,
    ));
    let outsider = Keypair::from_seed([9; 32]);
    let stranger = TxBuilder::new(h.genesis.chain_id.clone(), outsider.account())
        .op(transfer(&h.bob, 1))
        .sign(&[&outsider]);
    cases.push((
        "unregistered signer",
        encode(&stranger),
        bin,
        ErrorCode::UnknownAccount,
        403,
    ));
    cases.push((
        "malformed bytes",
        vec![1, 2, 3],
        bin,
        ErrorCode::Malformed,
        400,
    ));
    cases.push((
        "malformed json",
        b"{\"tx\": 1}".to_vec(),
        json,
        ErrorCode::Malformed,
        400,
    ));

    for (what, body, content_type, code, http) in cases {
        let (status, answer) = h.post_raw(body, content_type).await;
        assert_eq!(answer["code"], code.as_str(), "{what}: {answer}");
        assert_eq!(status, http, "{what}: {answer}");
        assert_eq!(answer["number"], code.number(), "{what}");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(h.fingerprint().await, before, "{what} changed state");
    }
    // A duplicate of a pending transaction is refused too, and the original still commits.
    let fresh = h.tx(&h.alice, vec![transfer(&h.bob, 2)]).await;
    let hash = h.client.submit(&fresh).await.unwrap();
    let dup = h.client.submit(&fresh).await;
    assert!(matches!(
        dup.map_err(|e| e.code()),
        Err(Some(ErrorCode::Duplicate | ErrorCode::ReplayedNonce))
    ));
    h.client
        .wait_committed(&hash, Duration::from_secs(10))
        .await
        .unwrap();
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_from_the_api_verify_offline_and_tampering_fails() {
    let h = start().await;
    setup_token(&h).await;
    let doc = h.commit(&h.alice, vec![transfer(&h.bob, 250)]).await;
    let anchor = TrustAnchor {
        chain_id: h.genesis.chain_id.clone(),
        validators: h.genesis.validators.iter().map(|v| v.account).collect(),
    };
    // The transaction and its receipt.
    let bundle: weft_client::ProofBundle = serde_json::from_value(doc["proof"].clone()).unwrap();
    assert!(verify_bundle(&bundle, &anchor).is_ok());
    let mut forged = bundle.clone();
    if let RecordProof::Transaction { receipt, .. } = &mut forged.proof {
        receipt.writes += 1;
    }
    assert!(verify_bundle(&forged, &anchor).is_err());
    let mut moved = bundle.clone();
    moved.header.timestamp_ms += 1;
    assert!(verify_bundle(&moved, &anchor).is_err());

    // Every state value the chain holds for these accounts, and an absent one.
    for key in [
        format!("balance/usd/{}", h.bob.account()),
        format!("balance/usd/{}", h.alice.account()),
        format!("account/{}", h.alice.account()),
        format!("nonce/{}", h.alice.account()),
        "token/usd".to_owned(),
        "meta/validators".to_owned(),
        format!("balance/usd/{}", Keypair::from_seed([77; 32]).account()),
    ] {
        let answer = h.client.state(&key, true, None).await.unwrap();
        let bundle: weft_client::ProofBundle =
            serde_json::from_value(answer["proof"].clone()).unwrap();
        assert!(verify_bundle(&bundle, &anchor).is_ok(), "{key}");
        let mut tampered = bundle.clone();
        if let RecordProof::State { value, .. } = &mut tampered.proof {
            *value = Some(match value {
                Some(v) => format!("{v}00"),
                None => "01".to_owned(),
            });
        }
        assert!(verify_bundle(&tampered, &anchor).is_err(), "{key} tampered");
        let mut other_anchor = anchor.clone();
        other_anchor.validators = vec![h.bob.account()];
        assert!(
            verify_bundle(&bundle, &other_anchor).is_err(),
            "{key} with another validator set"
        );
    }
    // Historical reads are proven against their own height.
    let old = h
        .client
        .state(&format!("balance/usd/{}", h.alice.account()), true, Some(1))
        .await
        .unwrap();
    let bundle: weft_client::ProofBundle = serde_json::from_value(old["proof"].clone()).unwrap();
    assert_eq!(bundle.header.height, 1);
    assert!(verify_bundle(&bundle, &anchor).is_ok());
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_events_stream_metrics_and_openapi() {
    let h = start().await;
    // Subscribe before committing, then read one SSE block event.
    let mut sse = h
        .http
        .get(format!("{}/v1/stream/blocks", h.client.base()))
        .send()
        .await
        .unwrap();
    setup_token(&h).await;
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !buffer.contains("event: block") && tokio::time::Instant::now() < deadline {
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(1), sse.chunk()).await
        {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(
        buffer.contains("event: block") && buffer.contains("tx_hashes"),
        "{buffer}"
    );

    let events: Value = h
        .client
        .get(&format!("/v1/events?account={}", h.alice.account()))
        .await
        .unwrap();
    let topics: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, vec!["token.minted"]);
    let by_topic: Value = h
        .client
        .get("/v1/events?topic=token.defined")
        .await
        .unwrap();
    assert_eq!(by_topic["events"].as_array().unwrap().len(), 1);

    let block = h.client.block("latest").await.unwrap();
    let by_hash = h
        .client
        .block(block["hash"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(block, by_hash);
    assert!(h.client.block("999999").await.is_err());
    let account = h.client.account(&h.alice.account()).await.unwrap();
    assert_eq!(account["balances"]["usd"], "1000");

    let health: Value = h.client.get("/health").await.unwrap();
    assert_eq!(health["status"], "ok");
    let metrics = h
        .http
        .get(format!("{}/metrics", h.client.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("weft_blocks_committed_total"), "{metrics}");

    let doc: Value = h.client.get("/openapi.json").await.unwrap();
    for path in [
        "/v1/transactions",
        "/v1/transactions/batch",
        "/v1/transactions/{hash}",
        "/v1/blocks/{id}",
        "/v1/blocks",
        "/v1/blocks/latest",
        "/v1/accounts/{account}",
        "/v1/state/{key}",
        "/v1/state",
        "/v1/events",
        "/v1/stream/blocks",
        "/v1/private/{id}",
        "/v1/private/{id}/payload",
        "/v1/private/{id}/replicate",
        "/v1/status",
        "/health",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let missing = h.client.get::<Value>("/v1/nope").await.unwrap_err();
    assert_eq!(missing.code(), Some(ErrorCode::NotFound));
    let bad_key = h
        .client
        .state("balance/USD/zz", false, None)
        .await
        .unwrap_err();
    assert_eq!(bad_key.code(), Some(ErrorCode::InvalidArgument));
    h.node.shutdown();
}

impl Harness {
    /// GET `path` with optional raw signature headers; returns the status and body.
    async fn get_with(&self, path: &str, headers: &[(&str, String)]) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.client.base()));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn refused_code<T: std::fmt::Debug>(r: Result<T, weft_client::ClientError>) -> (ErrorCode, u16) {
    match r {
        Err(weft_client::ClientError::Refused {
            code, http_status, ..
        }) => (code, http_status),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_permissioned_per_record_and_per_member() {
    let h = start().await;
    setup_token(&h).await;
    // Alice pays Bob (same organization); Carol and Dave are not involved.
    let paid = h.commit(&h.alice, vec![transfer(&h.bob, 100)]).await;
    let paid_hash: weft_types::Hash = paid["tx_hash"].as_str().unwrap().parse().unwrap();
    let paid_height = paid["height"].as_u64().unwrap();
    let base = h.client.base().to_owned();
    let anonymous = Client::new(base.clone());
    let (alice, bob, carol, dave) = (
        anonymous.as_member(&h.alice),
        anonymous.as_member(&h.bob),
        anonymous.as_member(&h.carol),
        anonymous.as_member(&h.dave),
    );
    let balance = format!("balance/usd/{}", h.alice.account());

    // Public records need no signature; member data needs one (401, and no value).
    assert_eq!(
        anonymous.state("token/usd", false, None).await.unwrap()["value"]["supply"],
        "1000"
    );
    assert!(anonymous.status().await.is_ok());
    assert_eq!(
        refused_code(anonymous.state(&balance, false, None).await),
        (ErrorCode::Unauthenticated, 401)
    );
    assert_eq!(
        refused_code(anonymous.account(&h.alice.account()).await),
        (ErrorCode::Unauthenticated, 401)
    );
    let (status, body) = h.get_with(&format!("/v1/state/{balance}"), &[]).await;
    assert_eq!((status, body["number"].as_u64()), (401, Some(25)));
    assert!(body.get("value").is_none(), "{body}");

    // The account itself, its colleagues and auditors read it; another organization not.
    for reader in [&alice, &bob, &dave] {
        let v = reader.state(&balance, true, None).await.unwrap();
        assert_eq!(v["value"], "900");
    }
    assert_eq!(
        refused_code(carol.state(&balance, false, None).await),
        (ErrorCode::Forbidden, 403)
    );
    assert_eq!(
        refused_code(carol.account(&h.alice.account()).await),
        (ErrorCode::Forbidden, 403)
    );
    assert_eq!(
        refused_code(
            carol
                .state(
                    &format!("balance/usd/{}", h.alice.account()),
                    false,
                    Some(paid_height - 1)
                )
                .await
        ),
        (ErrorCode::Forbidden, 403),
        "history is protected like the head"
    );
    assert!(carol.account(&h.carol.account()).await.is_ok());
    assert_eq!(
        refused_code(
            carol
                .get::<Value>(&format!("/v1/events?account={}", h.alice.account()))
                .await
        ),
        (ErrorCode::Forbidden, 403)
    );
    // A topic query only returns the events that concern the caller.
    let by_topic: Value = carol.get("/v1/events?topic=token.transfer").await.unwrap();
    assert_eq!(by_topic["events"].as_array().unwrap().len(), 0);
    let by_topic: Value = dave.get("/v1/events?topic=token.transfer").await.unwrap();
    assert_eq!(by_topic["events"].as_array().unwrap().len(), 1);

    // Blocks: headers for everyone, the payment's body only for those it concerns.
    let height = paid_height.to_string();
    for (reader, sees) in [
        (&alice, true),
        (&dave, true),
        (&carol, false),
        (&anonymous, false),
    ] {
        let block = reader.block(&height).await.unwrap();
        let tx = &block["transactions"][0];
        assert_eq!(tx["tx_hash"], json_hash(&paid_hash));
        assert_eq!(tx.get("transaction").is_some(), sees, "{tx}");
        assert_eq!(tx["redacted"] == true, !sees, "{tx}");
        assert!(block["header"]["state_root"].is_string());
    }
    // The status of a known hash is visible, what it did only to those it concerns.
    let as_carol = carol.transaction(&paid_hash, false).await.unwrap();
    assert_eq!(as_carol["status"], "committed");
    assert_eq!(as_carol["events_redacted"], true);
    assert_eq!(as_carol["receipt"]["events"].as_array().unwrap().len(), 0);
    assert_eq!(
        refused_code(carol.transaction(&paid_hash, true).await),
        (ErrorCode::Forbidden, 403)
    );
    let as_bob = bob.transaction(&paid_hash, true).await.unwrap();
    assert!(!as_bob["receipt"]["events"].as_array().unwrap().is_empty());
    assert!(as_bob.get("events_redacted").is_none());

    // Authentication failures: each a 401 with no data.
    let path = format!("/v1/state/{balance}");
    let (input, signature) = weft_crypto::sign_request(&h.alice, "GET", &path, None, now_secs());
    let (status, body) = h
        .get_with(
            &path,
            &[
                ("signature-input", input.clone()),
                ("signature", signature.clone()),
            ],
        )
        .await;
    assert_eq!((status, body["value"].as_str()), (200, Some("900")));
    let other_path = format!("/v1/state/balance/usd/{}", h.bob.account());
    let mut flipped = signature.clone();
    flipped.replace_range(6..7, if &signature[6..7] == "A" { "B" } else { "A" });
    let (stale_input, stale_sig) =
        weft_crypto::sign_request(&h.alice, "GET", &path, None, now_secs() - 3_600);
    for (label, p, headers) in [
        (
            "signature replayed on another path",
            other_path.as_str(),
            vec![
                ("signature-input", input.clone()),
                ("signature", signature.clone()),
            ],
        ),
        (
            "tampered signature",
            path.as_str(),
            vec![("signature-input", input.clone()), ("signature", flipped)],
        ),
        (
            "stale",
            path.as_str(),
            vec![("signature-input", stale_input), ("signature", stale_sig)],
        ),
        (
            "half the headers",
            path.as_str(),
            vec![("signature-input", input.clone())],
        ),
        (
            "garbage",
            path.as_str(),
            vec![
                ("signature-input", "sig1=nonsense".to_owned()),
                ("signature", "x".to_owned()),
            ],
        ),
    ] {
        let (status, body) = h.get_with(p, &headers).await;
        assert_eq!(status, 401, "{label}: {body}");
        assert_eq!(body["code"], "unauthenticated", "{label}");
        assert!(body.get("value").is_none(), "{label}");
    }
    // A well-signed request by a key that is no member: 403.
    let stranger = anonymous.as_member(&Keypair::from_seed([99; 32]));
    assert_eq!(
        refused_code(stranger.state("token/usd", false, None).await),
        (ErrorCode::UnknownAccount, 403)
    );
}

fn json_hash(h: &weft_types::Hash) -> Value {
    serde_json::to_value(h).unwrap()
}

/// `GET /v1/state?prefix=`: records in key order, paged, each filtered by the read policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_listing_pages_by_prefix_and_shows_only_readable_records() {
    let h = start().await;
    let anon = Client::new(h.client.base());
    let keys = |v: &Value| -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].as_str().unwrap().to_owned())
            .collect()
    };
    // Every account record for the admin (read.*): five, in key order.
    let all: Value = h
        .client
        .get("/v1/state?prefix=account/&limit=200")
        .await
        .unwrap();
    let mut expected: Vec<String> = [&h.admin, &h.alice, &h.bob, &h.carol, &h.dave]
        .iter()
        .map(|k| format!("account/{}", k.account()))
        .collect();
    expected.sort();
    assert_eq!(keys(&all), expected);
    assert!(all["next"].is_null());
    assert!(all["entries"][0]["value"]["organization"].is_string());
    // Paging: two at a time, resuming after `next`, gives the same list.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/state?prefix=account/&limit=2&after={a}"),
            None => "/v1/state?prefix=account/&limit=2".to_owned(),
        };
        let page: Value = h.client.get(&path).await.unwrap();
        paged.extend(keys(&page));
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, expected);
    // Carol (organization "other") sees her own account record only; alice her
    // organization's three; the anonymous client none (accounts are not public).
    let carol: Value = h
        .client
        .as_member(&h.carol)
        .get("/v1/state?prefix=account/")
        .await
        .unwrap();
    assert_eq!(keys(&carol), [format!("account/{}", h.carol.account())]);
    let alice: Value = h
        .client
        .as_member(&h.alice)
        .get("/v1/state?prefix=account/")
        .await
        .unwrap();
    assert_eq!(keys(&alice).len(), 3);
    let none: Value = anon.get("/v1/state?prefix=account/").await.unwrap();
    assert!(keys(&none).is_empty());
    // Public records are listed for anyone.
    let roles: Value = anon.get("/v1/state?prefix=meta/").await.unwrap();
    assert!(keys(&roles).contains(&"meta/height".to_owned()));
    // Oversized input is refused.
    let long = "x".repeat(300);
    let r: Result<Value, _> = anon.get(&format!("/v1/state?prefix={long}")).await;
    assert_eq!(r.err().and_then(|e| e.code()), Some(ErrorCode::Oversized));
}

/// `GET /v1/blocks?from=&to=`: headers with their hashes, oldest first, bounded, public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_headers_come_in_ranges_with_their_hashes() {
    let h = start().await;
    setup_token(&h).await;
    h.commit(&h.alice, vec![transfer(&h.bob, 1)]).await;
    let anon = Client::new(h.client.base());
    let head = anon.status().await.unwrap()["height"].as_u64().unwrap();
    assert!(head >= 2);
    let all: Value = anon.get("/v1/blocks").await.unwrap();
    let blocks = all["blocks"].as_array().unwrap();
    assert_eq!(blocks.len() as u64, head + 1, "genesis to head by default");
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(b["header"]["height"], i as u64);
        let full: Value = anon.get(&format!("/v1/blocks/{i}")).await.unwrap();
        assert_eq!(b["hash"], full["hash"], "the listed hash is the block's");
    }
    let one: Value = anon
        .get(&format!("/v1/blocks?from={head}&to={head}"))
        .await
        .unwrap();
    assert_eq!(one["blocks"].as_array().unwrap().len(), 1);
    // Past the head is clipped, and a range never exceeds 200 headers.
    let clipped: Value = anon.get("/v1/blocks?from=1&to=999999").await.unwrap();
    assert_eq!(clipped["blocks"].as_array().unwrap().len() as u64, head);
    let bounded: Value = anon.get("/v1/blocks?from=0&to=0").await.unwrap();
    assert_eq!(bounded["blocks"][0]["header"]["height"], 0);
}
