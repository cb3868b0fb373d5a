//! Confidential data across real nodes (DESIGN §7; UC-09, UC-31): a validator operated for
//! the hospital and read replicas operated for a lab and for an unrelated organization, each
//! with its own encrypted private store, syncing blocks over the peer protocol and payloads
//! over signed, sealed replication requests.
//!
//! Must hold (issue 5): after a grant is revoked the next read is refused; the log shows
//! every read; after a purge no payload bytes remain on any node's disk while the commitment
//! still verifies; unauthenticated or wrongly authenticated clients get 401/403 and nothing.

use std::{collections::BTreeSet, path::Path, time::Duration};

use weft_client::{Client, ClientError, Keypair, TxBuilder, consortium, private::prepare};
use weft_credentials::commitment::{Commitment, verify};
use weft_node::{Node, NodeConfig, OrgScope, PrivateConfig};
use weft_types::{
    AccessPrivateRecord, CreatePrivateRecord, ErrorCode, Genesis, GenesisAccount,
    GenesisOrganization, GrantPrivateAccess, Hash, Name, Operation, PurgePrivateRecord,
    RevokePrivateAccess, TxStatus, UsagePolicy,
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

struct Running {
    node: Node,
    client: Client,
    dir: tempfile::TempDir,
}

async fn start_node(
    genesis: &Genesis,
    validator: Option<&Keypair>,
    follow: Option<std::net::SocketAddr>,
    scope: &[&str],
    operator: Option<&Keypair>,
    peers: Vec<String>,
) -> (Running, Option<std::net::SocketAddr>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("chain"), genesis.clone());
    config.validator_key = validator.cloned();
    config.private = Some(PrivateConfig {
        dir: dir.path().join("private"),
        scope: OrgScope::Only(scope.iter().map(|s| name(s)).collect::<BTreeSet<_>>()),
        operator: operator.cloned(),
        peers,
        // Short, so the test sees grants that lapse by time leave the store.
        sweep_interval: Duration::from_millis(200),
    });
    let node = Node::start(config).unwrap();
    let p2p = if validator.is_some() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(weft_node::peer::serve(node.clone(), listener));
        Some(addr)
    } else {
        None
    };
    if let Some(peer) = follow {
        tokio::spawn(weft_node::peer::follow(
            node.clone(),
            peer,
            Duration::from_millis(20),
        ));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_api::serve(
        node.clone(),
        listener,
        std::future::pending(),
    ));
    (
        Running {
            node,
            client: Client::new(url),
            dir,
        },
        p2p,
    )
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    hits
}

fn code<T>(r: &Result<T, ClientError>) -> Option<ErrorCode> {
    r.as_ref().err().and_then(ClientError::code)
}

async fn try_send(
    via: &Client,
    chain: &Name,
    keys: &[&Keypair],
    op: Operation,
) -> Result<(Hash, TxStatus), ClientError> {
    let client = via.as_member(keys[0]);
    let nonce = client.next_nonce(&keys[0].account()).await.unwrap();
    let tx = TxBuilder::new(chain.clone(), keys[0].account())
        .nonce(nonce)
        .op(op)
        .sign(keys);
    let hash = weft_crypto::tx_hash(&tx.tx);
    let done = client.submit_and_wait(&tx, Duration::from_secs(10)).await?;
    Ok((hash, done.receipt.status))
}

async fn send(via: &Client, chain: &Name, keys: &[&Keypair], op: Operation) -> (Hash, TxStatus) {
    let (hash, status) = try_send(via, chain, keys, op).await.unwrap();
    assert_eq!(status, TxStatus::Success);
    (hash, status)
}

/// The code a refused transaction gets, at admission or in its receipt.
async fn refusal(via: &Client, chain: &Name, keys: &[&Keypair], op: Operation) -> ErrorCode {
    match try_send(via, chain, keys, op).await {
        Err(e) => e.code().expect("a typed refusal"),
        Ok((_, TxStatus::Failed { code, .. })) => code,
        Ok((_, TxStatus::Success)) => panic!("expected a refusal"),
    }
}

async fn synced(follower: &Node, leader: &Node) {
    let target = leader.chain().head().unwrap().height;
    for _ in 0..500 {
        if follower.chain().head().unwrap().height >= target {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("follower did not reach height {target}");
}

struct Cast {
    chain: Name,
    genesis: Genesis,
    admin: Keypair,
    hospital: Keypair,
    patient: Keypair,
    lab: Keypair,
    lab_node: Keypair,
    other_node: Keypair,
    auditor: Keypair,
}

/// A hospital operates the validator; a lab and an unrelated organization each run a node
/// under an operator account; a patient (citizen) and a data-protection authority (auditor).
fn cast() -> Cast {
    let [admin, hospital, patient, lab, lab_node, other_node, auditor] =
        [1u8, 2, 3, 4, 5, 6, 7].map(|n| Keypair::from_seed([n; 32]));
    let chain = name("private-test");
    let mut genesis =
        consortium::genesis(chain.clone(), &admin, name("hospital"), 1_700_000_000_000);
    for org in ["citizens", "lab", "other", "dpa"] {
        genesis.organizations.push(GenesisOrganization {
            id: name(org),
            display_name: org.into(),
        });
    }
    for (key, org, role) in [
        (&hospital, "hospital", "member"),
        (&patient, "citizens", "citizen"),
        (&lab, "lab", "member"),
        (&lab_node, "lab", "member"),
        (&other_node, "other", "member"),
        (&auditor, "dpa", "auditor"),
    ] {
        genesis.accounts.push(GenesisAccount {
            account: key.account(),
            organization: name(org),
            roles: vec![name(role)],
        });
    }
    Cast {
        chain,
        genesis,
        admin,
        hospital,
        patient,
        lab,
        lab_node,
        other_node,
        auditor,
    }
}

/// Creates `id` about the patient (treatment and research) and uploads `payload` to `via`.
async fn record_payload(
    via: &Client,
    c: &Cast,
    id: &str,
    payload: &[u8],
) -> weft_client::private::Sealed {
    let sealed = prepare(payload).unwrap();
    send(
        via,
        &c.chain,
        &[&c.hospital, &c.patient],
        Operation::CreatePrivateRecord(CreatePrivateRecord {
            id: name(id),
            data_type: name("lab-result"),
            subject: Some(c.patient.account()),
            commitment: sealed.commitment,
            size: sealed.size,
            policy: UsagePolicy {
                purposes: vec![name("treatment"), name("research")],
                retain_until_ms: None,
                onward_grants: false,
            },
        }),
    )
    .await;
    via.as_member(&c.hospital)
        .upload_private_payload(id, &sealed.salt, payload)
        .await
        .unwrap();
    sealed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_reach_only_authorized_nodes_and_a_purge_leaves_no_bytes() {
    let Cast {
        chain,
        genesis,
        admin,
        hospital,
        patient,
        lab,
        lab_node,
        other_node,
        auditor,
    } = cast();
    let (a, p2p) = start_node(&genesis, Some(&admin), None, &["hospital"], None, vec![]).await;
    let a_url = a.client.base().to_owned();
    let (b, _) = start_node(
        &genesis,
        None,
        p2p,
        &["lab"],
        Some(&lab_node),
        vec![a_url.clone()],
    )
    .await;
    let (c, _) = start_node(
        &genesis,
        None,
        p2p,
        &["other"],
        Some(&other_node),
        vec![a_url.clone()],
    )
    .await;

    // A lab result about the patient: unique bytes so the disk scans cannot be fooled.
    let payload: Vec<u8> = format!(
        "LAB-RESULT patient=3 hba1c=6.1% ldl=2.4mmol/L marker={}",
        "Zq7!".repeat(64)
    )
    .into_bytes();
    let sealed = prepare(&payload).unwrap();
    let (_, status) = send(
        &a.client,
        &chain,
        &[&hospital, &patient],
        Operation::CreatePrivateRecord(CreatePrivateRecord {
            id: name("lab-0001"),
            data_type: name("lab-result"),
            subject: Some(patient.account()),
            commitment: sealed.commitment,
            size: sealed.size,
            policy: UsagePolicy {
                purposes: vec![name("treatment"), name("research")],
                retain_until_ms: None,
                onward_grants: false,
            },
        }),
    )
    .await;
    assert_eq!(status, TxStatus::Success);

    // Uploads: only a party, only matching bytes, only to a node that may hold them.
    let up = a
        .client
        .as_member(&lab)
        .upload_private_payload("lab-0001", &sealed.salt, &payload)
        .await;
    assert_eq!(code(&up), Some(ErrorCode::Forbidden));
    let mut forged = payload.clone();
    forged[0] ^= 1;
    let up = a
        .client
        .as_member(&hospital)
        .upload_private_payload("lab-0001", &sealed.salt, &forged)
        .await;
    assert_eq!(code(&up), Some(ErrorCode::InvalidArgument));
    let up = a
        .client
        .upload_private_payload("lab-0001", &sealed.salt, &payload)
        .await;
    assert_eq!(code(&up), Some(ErrorCode::Unauthenticated));
    synced(&b.node, &a.node).await;
    let up = b
        .client
        .as_member(&hospital)
        .upload_private_payload("lab-0001", &sealed.salt, &payload)
        .await;
    assert_eq!(
        code(&up),
        Some(ErrorCode::Forbidden),
        "the lab's node may not hold it yet"
    );
    a.client
        .as_member(&hospital)
        .upload_private_payload("lab-0001", &sealed.salt, &payload)
        .await
        .unwrap();
    assert!(a.node.vault().unwrap().store().contains("lab-0001"));
    assert!(
        files_containing(a.dir.path(), &payload[..40]).is_empty(),
        "plaintext at rest"
    );

    // The lab reads through its own node, which fetches the payload from the hospital's.
    let (_, status) = send(
        &a.client,
        &chain,
        &[&hospital],
        Operation::GrantPrivateAccess(GrantPrivateAccess {
            id: name("lab-0001"),
            grantee: lab.account(),
            purposes: vec![name("treatment")],
            expires_at_ms: None,
        }),
    )
    .await;
    assert_eq!(status, TxStatus::Success);
    let access = |purpose: &str| {
        Operation::AccessPrivateRecord(AccessPrivateRecord {
            id: name("lab-0001"),
            purpose: name(purpose),
        })
    };
    let (read1, status) = send(&a.client, &chain, &[&lab], access("treatment")).await;
    assert_eq!(status, TxStatus::Success);
    synced(&b.node, &a.node).await;
    assert!(!b.node.vault().unwrap().store().contains("lab-0001"));
    let got = b
        .client
        .as_member(&lab)
        .read_private_payload("lab-0001", &read1)
        .await
        .unwrap();
    assert_eq!(got.payload, payload);
    assert!(
        b.node.vault().unwrap().store().contains("lab-0001"),
        "kept after the fetch"
    );
    // One delivery per logged access.
    let again = b
        .client
        .as_member(&lab)
        .read_private_payload("lab-0001", &read1)
        .await;
    assert_eq!(code(&again), Some(ErrorCode::AccessUsed));
    // Someone else presenting the lab's access gets nothing.
    let stolen = b
        .client
        .as_member(&hospital)
        .read_private_payload("lab-0001", &read1)
        .await;
    assert_eq!(code(&stolen), Some(ErrorCode::Forbidden));
    let anon = b.client.read_private_payload("lab-0001", &read1).await;
    assert_eq!(code(&anon), Some(ErrorCode::Unauthenticated));

    // An unrelated organization's node is refused by the holder, and its member's access by
    // the ledger.
    synced(&c.node, &a.node).await;
    assert_eq!(
        refusal(&a.client, &chain, &[&other_node], access("treatment")).await,
        ErrorCode::Unauthorized
    );
    let key_hex = hex::encode([9u8; 32]);
    let replicate = format!("/v1/private/lab-0001/replicate?transfer_key={key_hex}");
    let r: Result<serde_json::Value, _> = a
        .client
        .as_member(&other_node)
        .post_json(&replicate, &serde_json::json!({}))
        .await;
    assert_eq!(code(&r), Some(ErrorCode::Forbidden));
    let r: Result<serde_json::Value, _> =
        a.client.post_json(&replicate, &serde_json::json!({})).await;
    assert_eq!(code(&r), Some(ErrorCode::Unauthenticated));
    let r: Result<serde_json::Value, _> = a
        .client
        .as_member(&lab_node)
        .post_json(
            "/v1/private/lab-0001/replicate?transfer_key=zz",
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(code(&r), Some(ErrorCode::Malformed));
    assert!(!c.node.vault().unwrap().store().contains("lab-0001"));

    // The lab logs a second access, then the patient revokes its grant: the read is refused
    // and the lab's node shreds its copy as soon as it applies the revocation.
    let (read2, status) = send(&a.client, &chain, &[&lab], access("treatment")).await;
    assert_eq!(status, TxStatus::Success);
    let (_, status) = send(
        &a.client,
        &chain,
        &[&patient],
        Operation::RevokePrivateAccess(RevokePrivateAccess {
            id: name("lab-0001"),
            grantee: lab.account(),
        }),
    )
    .await;
    assert_eq!(status, TxStatus::Success);
    synced(&b.node, &a.node).await;
    let after = b
        .client
        .as_member(&lab)
        .read_private_payload("lab-0001", &read2)
        .await;
    assert_eq!(code(&after), Some(ErrorCode::Unauthorized));
    assert_eq!(
        refusal(&a.client, &chain, &[&lab], access("treatment")).await,
        ErrorCode::Unauthorized
    );
    assert!(
        !b.node.vault().unwrap().store().contains("lab-0001"),
        "revoked copy shredded"
    );

    // The log shows every read; the auditor sees it, not the data.
    let record = a
        .client
        .as_member(&auditor)
        .private_record("lab-0001")
        .await
        .unwrap();
    let reads: Vec<&serde_json::Value> = record["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "accessed")
        .collect();
    assert_eq!(reads.len(), 2, "{record}");
    assert!(
        reads
            .iter()
            .all(|e| e["actor"] == serde_json::json!(lab.account()))
    );
    assert_eq!(
        refusal(&a.client, &chain, &[&auditor], access("treatment")).await,
        ErrorCode::Unauthorized
    );
    let r = a
        .client
        .as_member(&other_node)
        .private_record("lab-0001")
        .await;
    assert_eq!(code(&r), Some(ErrorCode::Forbidden));
    let r = a.client.private_record("lab-0001").await;
    assert_eq!(code(&r), Some(ErrorCode::Unauthenticated));

    // Erasure: capture the ciphertext at rest first, then purge and scan every node's disk.
    let mut at_rest = Vec::new();
    for entry in std::fs::read_dir(a.dir.path().join("private/records"))
        .unwrap()
        .flatten()
    {
        at_rest.push(std::fs::read(entry.path()).unwrap());
    }
    assert_eq!(at_rest.len(), 1);
    let ciphertext_tail = at_rest[0][at_rest[0].len() - 64..].to_vec();
    let (_, status) = send(
        &a.client,
        &chain,
        &[&patient],
        Operation::PurgePrivateRecord(PurgePrivateRecord {
            id: name("lab-0001"),
            reason: "erasure request".into(),
        }),
    )
    .await;
    assert_eq!(status, TxStatus::Success);
    synced(&b.node, &a.node).await;
    synced(&c.node, &a.node).await;
    for (label, n) in [("hospital", &a), ("lab", &b), ("other", &c)] {
        assert!(
            !n.node.vault().unwrap().store().contains("lab-0001"),
            "{label}"
        );
        assert!(
            files_containing(n.dir.path(), &payload[..40]).is_empty(),
            "{label}: plaintext"
        );
        assert!(
            files_containing(n.dir.path(), &ciphertext_tail).is_empty(),
            "{label}: ciphertext"
        );
    }
    let r = a
        .client
        .as_member(&patient)
        .private_record("lab-0001")
        .await
        .unwrap();
    assert_eq!(r["stored_here"], false);
    let commitment: Hash = serde_json::from_value(r["record"]["commitment"].clone()).unwrap();
    assert!(
        verify(&payload, &sealed.salt, &Commitment(commitment)),
        "the commitment still verifies"
    );
    assert_eq!(
        refusal(&a.client, &chain, &[&patient], access("treatment")).await,
        ErrorCode::Purged
    );
    // An access logged before the purge delivers nothing any more.
    let r = a
        .client
        .as_member(&lab)
        .read_private_payload("lab-0001", &read2)
        .await;
    assert_eq!(code(&r), Some(ErrorCode::Purged));
}

/// A grant that lapses by block time alone: no block names the record, and the lab's node
/// still drops its copy (the sweeper), while the reads stop at the expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_grant_takes_the_copy_off_the_grantees_node() {
    let c = cast();
    let (a, p2p) = start_node(
        &c.genesis,
        Some(&c.admin),
        None,
        &["hospital"],
        None,
        vec![],
    )
    .await;
    let a_url = a.client.base().to_owned();
    let (b, _) = start_node(
        &c.genesis,
        None,
        p2p,
        &["lab"],
        Some(&c.lab_node),
        vec![a_url],
    )
    .await;
    let payload = b"HbA1c 6.1% for the lapsing grant".to_vec();
    record_payload(&a.client, &c, "lab-lapse", &payload).await;
    let head_ms = a.node.chain().head().unwrap().timestamp_ms;
    let expires = head_ms + 1_500;
    send(
        &a.client,
        &c.chain,
        &[&c.hospital],
        Operation::GrantPrivateAccess(GrantPrivateAccess {
            id: name("lab-lapse"),
            grantee: c.lab.account(),
            purposes: vec![name("treatment")],
            expires_at_ms: Some(expires),
        }),
    )
    .await;
    let (read, _) = send(
        &a.client,
        &c.chain,
        &[&c.lab],
        Operation::AccessPrivateRecord(AccessPrivateRecord {
            id: name("lab-lapse"),
            purpose: name("treatment"),
        }),
    )
    .await;
    synced(&b.node, &a.node).await;
    let got = b
        .client
        .as_member(&c.lab)
        .read_private_payload("lab-lapse", &read)
        .await
        .unwrap();
    assert_eq!(got.payload, payload);
    assert!(b.node.vault().unwrap().store().contains("lab-lapse"));
    // Blocks carry time forward; unrelated transactions make them.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while b.node.chain().head().unwrap().timestamp_ms <= expires
        || b.node.vault().unwrap().store().contains("lab-lapse")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the lapsed copy was not swept"
        );
        send(
            &a.client,
            &c.chain,
            &[&c.patient],
            Operation::AccessPrivateRecord(AccessPrivateRecord {
                id: name("lab-lapse"),
                purpose: name("own-copy"),
            }),
        )
        .await;
        synced(&b.node, &a.node).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(files_containing(b.dir.path(), &payload).is_empty());
    // The hospital's own node keeps it: its organization is the controller's.
    assert!(a.node.vault().unwrap().store().contains("lab-lapse"));
    assert_eq!(
        refusal(
            &a.client,
            &c.chain,
            &[&c.lab],
            Operation::AccessPrivateRecord(AccessPrivateRecord {
                id: name("lab-lapse"),
                purpose: name("treatment"),
            })
        )
        .await,
        ErrorCode::Unauthorized
    );
}

/// A crash between a commit that ended a node's right to a payload and the shredding, or a
/// copy left from before: the node's start reconciles the store with the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_starts_by_shredding_copies_the_ledger_does_not_allow() {
    let admin = Keypair::from_seed([1; 32]);
    let genesis = consortium::genesis(
        name("private-start"),
        &admin,
        name("hospital"),
        1_700_000_000_000,
    );
    let dir = tempfile::tempdir().unwrap();
    let payload = b"orphaned payload bytes that must not survive a restart".to_vec();
    let sealed = prepare(&payload).unwrap();
    {
        let store = weft_private::PrivateStore::open(&dir.path().join("private")).unwrap();
        store
            .put(
                "ghost",
                &Commitment(sealed.commitment),
                &sealed.salt,
                &payload,
            )
            .unwrap();
        assert!(store.contains("ghost"));
    }
    let mut config = NodeConfig::new(dir.path().join("chain"), genesis);
    config.private = Some(PrivateConfig {
        dir: dir.path().join("private"),
        scope: OrgScope::All,
        operator: None,
        peers: vec![],
        sweep_interval: weft_node::private::SWEEP_INTERVAL,
    });
    let node = Node::start(config).unwrap();
    assert!(!node.vault().unwrap().store().contains("ghost"));
    assert!(files_containing(dir.path(), &payload[..24]).is_empty());
}
