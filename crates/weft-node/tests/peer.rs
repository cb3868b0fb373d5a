//! Block sync between peers: a read replica catches up through the peer port and agrees on
//! every hash and root; it refuses transactions; a hostile peer cannot corrupt it.

use std::{collections::BTreeMap, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use weft_crypto::{Keypair, sign_transaction};
use weft_node::{
    Node, NodeConfig,
    peer::{FinalizedBlock, PeerError, PeerRequest, PeerResponse, serve, sync_once},
};
use weft_types::{
    Amount, ErrorCode, Genesis, GenesisAccount, GenesisOrganization, GenesisToken,
    GenesisValidator, Name, Operation, Transaction, Transfer, encode,
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn genesis(validator: &Keypair, alice: &Keypair) -> Genesis {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    Genesis {
        chain_id: name("peer-test"),
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            account: validator.account(),
            organization: name("ops"),
        }],
        organizations: vec![GenesisOrganization {
            id: name("ops"),
            display_name: "Ops".into(),
        }],
        accounts: vec![
            GenesisAccount {
                account: validator.account(),
                organization: name("ops"),
                roles: vec![name("admin")],
            },
            GenesisAccount {
                account: alice.account(),
                organization: name("ops"),
                roles: vec![name("admin")],
            },
        ],
        roles,
        tokens: vec![GenesisToken {
            symbol: name("t"),
            display_name: "T".into(),
            decimals: 0,
            issuer: validator.account(),
            max_supply: None,
            balances: [(alice.account(), Amount(1000))].into_iter().collect(),
        }],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}

fn transfer(alice: &Keypair, to: &Keypair, nonce: u64) -> weft_types::SignedTransaction {
    let tx = Transaction {
        chain_id: name("peer-test"),
        signer: alice.account(),
        nonce,
        expiry_height: 10_000,
        operations: vec![Operation::Transfer(Transfer {
            symbol: name("t"),
            to: to.account(),
            amount: Amount(1),
        })],
        memo: String::new(),
    };
    sign_transaction(tx, &[alice])
}

fn start(dir: &std::path::Path, g: &Genesis, key: Option<Keypair>) -> Node {
    let mut config = NodeConfig::new(dir, g.clone());
    config.validator_key = key;
    config.max_block_txs = 3;
    Node::start(config).unwrap()
}

async fn wait_height(node: &Node, height: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while node.chain().head().unwrap().height < height {
        assert!(tokio::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_replica_catches_up_and_agrees() {
    let validator = Keypair::from_seed([1; 32]);
    let alice = Keypair::from_seed([2; 32]);
    let g = genesis(&validator, &alice);
    let (dir_v, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let producer = start(dir_v.path(), &g, Some(validator.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(producer.clone(), listener));
    for n in 0..12 {
        producer.submit(transfer(&alice, &validator, n)).unwrap();
    }
    wait_height(&producer, 4).await;
    while producer.mempool_len() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let follower = start(dir_f.path(), &g, None);
    let mut events = follower.subscribe();
    let applied = sync_once(&follower, addr).await.unwrap();
    let head = producer.chain().head().unwrap();
    assert_eq!(applied, head.height);
    assert_eq!(follower.chain().head().unwrap(), head);
    // Subscribers of the replica see the synced blocks too.
    assert_eq!(events.recv().await.unwrap().height, 1);
    // Nothing more to do once in step.
    assert_eq!(sync_once(&follower, addr).await.unwrap(), 0);
    // A read replica does not take transactions.
    let refused = follower
        .submit(transfer(&alice, &validator, 12))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::ReadOnly);
    producer.shutdown();
}

/// A fake peer that answers Status honestly and Blocks with `blocks`.
async fn hostile_peer(
    status: PeerResponse,
    blocks: Vec<FinalizedBlock>,
    garbage: Option<Vec<u8>>,
) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        loop {
            let mut len = [0u8; 4];
            if stream.read_exact(&mut len).await.is_err() {
                return;
            }
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            stream.read_exact(&mut body).await.unwrap();
            let request: PeerRequest = borsh::from_slice(&body).unwrap();
            let bytes = match (request, &garbage) {
                (PeerRequest::Status, _) => encode(&status),
                (PeerRequest::Blocks { .. }, Some(g)) => g.clone(),
                (PeerRequest::Blocks { .. }, None) => encode(&PeerResponse::Blocks(blocks.clone())),
            };
            let len = if garbage.is_some() && bytes == *garbage.as_ref().unwrap() && bytes.len() < 4
            {
                u32::MAX
            } else {
                bytes.len() as u32
            };
            stream.write_all(&len.to_be_bytes()).await.unwrap();
            let _ = stream.write_all(&bytes).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_cannot_corrupt_a_replica() {
    let validator = Keypair::from_seed([1; 32]);
    let alice = Keypair::from_seed([2; 32]);
    let g = genesis(&validator, &alice);
    let (dir_v, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let producer = start(dir_v.path(), &g, Some(validator.clone()));
    producer.submit(transfer(&alice, &validator, 0)).unwrap();
    wait_height(&producer, 1).await;
    producer.shutdown();
    let store = producer.chain().store();
    let good = FinalizedBlock {
        block: store.block(1).unwrap().unwrap(),
        finalization: store.finalization(1).unwrap().unwrap(),
    };
    let status = PeerResponse::Status {
        chain_id: name("peer-test"),
        height: 1,
        block_hash: good.finalization.block_hash,
    };

    let follower = start(dir_f.path(), &g, None);
    let before = follower.chain().head().unwrap();

    // A block whose state root was altered (certificate then no longer matches either).
    let mut forged = good.clone();
    forged.block.header.state_root.0[0] ^= 1;
    // A valid block with a certificate signed by someone outside the validator set.
    let mut impostor = good.clone();
    let outsider = Keypair::from_seed([9; 32]);
    let f = &good.finalization;
    impostor.finalization.signatures =
        vec![outsider.sign_finalize(&g.chain_id, f.epoch, f.view, f.parent_view, &f.block_hash)];
    // A transaction swapped for another signed by the same account.
    let mut swapped = good.clone();
    swapped.block.transactions[0] = transfer(&alice, &alice, 0);
    for bad in [forged, impostor, swapped] {
        let addr = hostile_peer(status.clone(), vec![bad], None).await;
        let err = sync_once(&follower, addr).await.unwrap_err();
        assert!(matches!(err, PeerError::BadBlock(_)), "{err}");
        assert_eq!(follower.chain().head().unwrap(), before);
    }
    // Garbage and an oversized frame announcement.
    let addr = hostile_peer(status.clone(), vec![], Some(vec![7, 7, 7, 7, 7])).await;
    assert!(matches!(
        sync_once(&follower, addr).await.unwrap_err(),
        PeerError::Malformed(_)
    ));
    let addr = hostile_peer(status.clone(), vec![], Some(vec![1])).await;
    assert!(matches!(
        sync_once(&follower, addr).await.unwrap_err(),
        PeerError::Oversized(_)
    ));
    // Another chain's peer.
    let other = PeerResponse::Status {
        chain_id: name("other"),
        height: 5,
        block_hash: good.finalization.block_hash,
    };
    let addr = hostile_peer(other, vec![], None).await;
    assert!(matches!(
        sync_once(&follower, addr).await.unwrap_err(),
        PeerError::WrongChain { .. }
    ));
    assert_eq!(follower.chain().head().unwrap(), before);

    // The honest block still applies afterwards.
    let addr = hostile_peer(status, vec![good], None).await;
    assert_eq!(sync_once(&follower, addr).await.unwrap(), 1);
    assert_eq!(
        follower.chain().head().unwrap(),
        producer.chain().head().unwrap()
    );
}
