//! The canonical encoding: round trips, golden vectors, and hostile bytes.
//!
//! Golden vectors pin the bytes and hashes of sample transactions and blocks in
//! `fixtures/golden.json`. A mismatch means the wire or hash format changed: that is a
//! protocol change, to be made on purpose by regenerating with `WEFT_BLESS=1` and reviewed.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, block_hash, merkle_root, receipt_hash, sign_transaction, tx_hash};
use weft_types::{
    AcceptQuote, BuyAsset, CancelOrder, ClearMarket, CloseRfq, OfferAsset, OpenMarket, PlaceOrder,
    RequestQuote, Side, SubmitQuote,
};
use weft_types::{
    AccessPrivateRecord, CreatePrivateRecord, GrantPrivateAccess, PurgePrivateRecord,
    RevokePrivateAccess, SetPrivateConsent, UsagePolicy,
};
use weft_types::{
    AccountId, AmendDocument, Amount, AnchorDocument, AssignRole, Block, BlockHeader, Burn,
    CancelHold, CaptureEpcisEvent, DecodeError, DefineToken, EpcisAction, EpcisKind, ErrorCode,
    Event, Finalization, Hash, Hold, MergeAssets, Mint, MultiTransfer, Name, NewAsset, Operation,
    Receipt, RegisterAccount, RegisterAsset, RegisterOrganization, ReleaseHold, RetireAsset,
    RevokeRole, SensorReport, SetAssetAttributes, SetFrozen, SignDocument, SignedTransaction,
    SplitAsset, Transaction, Transfer, TransferAsset, TransferLeg, TransformAssets, TxStatus,
    decode_bounded, encode, limits,
};
use weft_types::{BindName, DnsName, EndorseBinding, RevokeBinding, RotateBinding};
use weft_types::{CreateInstance, DeployTemplate, Transition as WorkflowTransition};
use weft_types::{
    CreateStatusList, PublishCommitment, RegisterIssuer, RemoveIssuer, SetCredentialStatus,
    UpdateDid, WithdrawCommitment,
    did::{Did, DidUpdate, KeyFormat, KeyId, Service, StatusPurpose},
};
use weft_types::{FeedIssuance, PostReading, RegisterFeed, RemoveThreshold, SetThreshold};
use weft_types::{SetGovernance, SetValidators};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn sample_tx() -> SignedTransaction {
    let a = Keypair::from_seed([1; 32]);
    let b = Keypair::from_seed([2; 32]);
    let tx = Transaction {
        chain_id: name("golden-chain"),
        signer: a.account(),
        nonce: 7,
        expiry_height: 1000,
        operations: vec![
            Operation::RegisterOrganization(RegisterOrganization {
                id: name("bank-a"),
                display_name: "Bank A".into(),
            }),
            Operation::RegisterAccount(RegisterAccount {
                account: b.account(),
                organization: name("bank-a"),
                roles: vec![name("member")],
            }),
            Operation::AssignRole(AssignRole {
                account: b.account(),
                role: name("issuer"),
            }),
            Operation::RevokeRole(RevokeRole {
                account: b.account(),
                role: name("issuer"),
            }),
            Operation::DefineToken(DefineToken {
                symbol: name("usd"),
                display_name: "US Dollar".into(),
                decimals: 2,
                max_supply: Some(Amount(10u128.pow(20))),
                controller: None,
                holder_role: None,
            }),
            Operation::Mint(Mint {
                symbol: name("usd"),
                to: b.account(),
                amount: Amount(500),
            }),
            Operation::Transfer(Transfer {
                symbol: name("usd"),
                to: a.account(),
                amount: Amount(1),
            }),
            Operation::Burn(Burn {
                symbol: name("usd"),
                amount: Amount(2),
            }),
        ],
        memo: "golden".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

/// A transaction with every application-module operation (added after the core format was
/// pinned: the core sample's bytes above must not change).
fn sample_app_tx() -> SignedTransaction {
    let a = Keypair::from_seed([1; 32]);
    let b = Keypair::from_seed([2; 32]);
    let attrs = vec![("gtin".to_owned(), "09506000134352".to_owned())];
    let new_asset = |id: &str| NewAsset {
        id: name(id),
        class: name("vaccine-pack"),
        attributes: attrs.clone(),
    };
    let tx = Transaction {
        chain_id: name("golden-chain"),
        signer: a.account(),
        nonce: 8,
        expiry_height: 2000,
        operations: vec![
            Operation::Hold(Hold {
                id: name("h1"),
                symbol: name("usd"),
                amount: Amount(5),
                beneficiary: b.account(),
                arbiter: Some(a.account()),
                expires_at_height: Some(99),
            }),
            Operation::ReleaseHold(ReleaseHold { id: name("h1") }),
            // The token policies, pinned where both are set.
            Operation::DefineToken(DefineToken {
                symbol: name("emtg-depo"),
                display_name: "Depo units".into(),
                decimals: 0,
                max_supply: None,
                controller: Some(name("e-mortgage-depository")),
                holder_role: Some(name("kyc")),
            }),
            Operation::CancelHold(CancelHold { id: name("h2") }),
            Operation::SetFrozen(SetFrozen {
                symbol: name("usd"),
                account: b.account(),
                frozen: true,
            }),
            Operation::MultiTransfer(MultiTransfer {
                legs: vec![TransferLeg {
                    symbol: name("usd"),
                    from: a.account(),
                    to: b.account(),
                    amount: Amount(3),
                }],
            }),
            Operation::RegisterAsset(RegisterAsset {
                id: name("lot-1"),
                class: name("vaccine-lot"),
                owner: a.account(),
                attributes: attrs.clone(),
            }),
            Operation::TransferAsset(TransferAsset {
                id: name("lot-1"),
                to: b.account(),
            }),
            Operation::SplitAsset(SplitAsset {
                id: name("lot-1"),
                parts: vec![new_asset("p-1"), new_asset("p-2")],
            }),
            Operation::MergeAssets(MergeAssets {
                inputs: vec![name("p-1"), name("p-2")],
                output: new_asset("lot-2"),
            }),
            Operation::TransformAssets(TransformAssets {
                inputs: vec![name("lot-2")],
                outputs: vec![new_asset("doses-1")],
                process: "fill-finish".into(),
            }),
            Operation::SetAssetAttributes(SetAssetAttributes {
                id: name("doses-1"),
                set: attrs.clone(),
                remove: vec!["old".into()],
            }),
            Operation::RetireAsset(RetireAsset {
                id: name("doses-1"),
                reason: "administered".into(),
            }),
            Operation::AnchorDocument(AnchorDocument {
                id: name("doc-1"),
                hash: Hash([7; 32]),
                media_type: "application/pdf".into(),
                uri: "vault://doc-1".into(),
                parties: vec![a.account(), b.account()],
                required_signatures: 2,
            }),
            Operation::AmendDocument(AmendDocument {
                id: name("doc-1"),
                hash: Hash([8; 32]),
                uri: "vault://doc-1/2".into(),
            }),
            Operation::SignDocument(SignDocument {
                id: name("doc-1"),
                version: 2,
                hash: Hash([8; 32]),
            }),
            Operation::RegisterFeed(RegisterFeed {
                id: name("fridge-1"),
                kind: name("temperature"),
                unit: "Cel".into(),
                scale: 1,
                device: b.account(),
                issues: None,
            }),
            Operation::RegisterFeed(RegisterFeed {
                id: name("meter-1"),
                kind: name("energy-exported"),
                unit: "kWh".into(),
                scale: 1,
                device: b.account(),
                issues: Some(FeedIssuance {
                    token: name("kwh"),
                    to: a.account(),
                }),
            }),
            Operation::PostReading(PostReading {
                feed: name("fridge-1"),
                value: -15,
                observed_at_ms: 1_700_000_000_000,
            }),
            Operation::SetThreshold(SetThreshold {
                feed: name("fridge-1"),
                name: name("cold-chain"),
                min: Some(20),
                max: Some(80),
            }),
            Operation::RemoveThreshold(RemoveThreshold {
                feed: name("fridge-1"),
                name: name("cold-chain"),
            }),
            Operation::CaptureEpcisEvent(CaptureEpcisEvent {
                event_id: name("ev-1"),
                kind: EpcisKind::AggregationEvent {
                    action: EpcisAction::Add,
                    parent_id: name("pallet-1"),
                    child_epcs: vec![name("p-1")],
                },
                event_time_ms: 1_700_000_000_000,
                event_time_zone_offset: "+01:00".into(),
                biz_step: "packing".into(),
                disposition: "in_progress".into(),
                read_point: "urn:epc:id:sgln:0614141.00777.0".into(),
                biz_location: "urn:epc:id:sgln:0614141.00888.0".into(),
                biz_transactions: vec![(
                    "po".into(),
                    "urn:epc:id:gdti:0614141.00001.1618034".into(),
                )],
                sensor_reports: vec![SensorReport {
                    kind: "gs1:Temperature".into(),
                    value: 45,
                    scale: 1,
                    uom: "CEL".into(),
                }],
            }),
            Operation::RequestQuote(RequestQuote {
                id: name("rfq-1"),
                want_symbol: name("kwh"),
                want_quantity: Amount(40),
                pay_symbol: name("usd"),
                deadline_height: 120,
            }),
            Operation::SubmitQuote(SubmitQuote {
                rfq: name("rfq-1"),
                quote: name("q-1"),
                unit_price: Amount(7),
            }),
            Operation::AcceptQuote(AcceptQuote {
                rfq: name("rfq-1"),
                quote: name("q-1"),
            }),
            Operation::CloseRfq(CloseRfq { rfq: name("rfq-1") }),
            Operation::OpenMarket(OpenMarket {
                id: name("energy"),
                base: name("kwh"),
                quote: name("usd"),
                interval_blocks: 4,
            }),
            Operation::PlaceOrder(PlaceOrder {
                market: name("energy"),
                order: name("o-1"),
                side: Side::Sell,
                quantity: Amount(10),
                limit_price: Amount(3),
            }),
            Operation::CancelOrder(CancelOrder {
                market: name("energy"),
                order: name("o-1"),
            }),
            Operation::ClearMarket(ClearMarket {
                market: name("energy"),
            }),
            Operation::OfferAsset(OfferAsset {
                asset: name("crc-1"),
                pay_symbol: name("nori"),
                price: Amount(1500),
                fee_bps: 250,
                fee_account: Some(a.account()),
                buyer: None,
                deadline_height: 200,
            }),
            Operation::BuyAsset(BuyAsset {
                asset: name("crc-1"),
                price: Amount(1500),
            }),
            Operation::DeployTemplate(DeployTemplate {
                source: "id: t\nversion: 1\n".into(),
            }),
            Operation::CreateInstance(CreateInstance {
                instance: name("g-1"),
                template: name("t"),
                version: 1,
                parties: vec![(name("applicant"), b.account())],
                params: vec![(name("max_amount"), "100".into())],
            }),
            Operation::Transition(WorkflowTransition {
                instance: name("g-1"),
                transition: name("issue"),
                args: vec![(name("amount"), "100".into())],
            }),
        ],
        memo: "golden-app".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

/// Every identity and credential operation, and every kind of DID update.
fn sample_identity_tx() -> SignedTransaction {
    let a = Keypair::from_seed([31; 32]);
    let b = Keypair::from_seed([32; 32]);
    let did = Did::new(name("weft-test"), a.account());
    let tx = Transaction {
        chain_id: name("weft-test"),
        signer: a.account(),
        nonce: 3,
        expiry_height: 900,
        operations: vec![
            Operation::UpdateDid(UpdateDid {
                did: did.clone(),
                updates: vec![
                    DidUpdate::AddKey {
                        public_key: b.account(),
                        format: KeyFormat::JsonWebKey,
                        authentication: true,
                        assertion_method: false,
                    },
                    DidUpdate::RemoveKey { id: KeyId(1) },
                    DidUpdate::SetRelationships {
                        id: KeyId(2),
                        authentication: true,
                        assertion_method: true,
                    },
                    DidUpdate::AddController {
                        controller: Did::new(name("weft-test"), b.account()),
                    },
                    DidUpdate::RemoveController {
                        controller: Did::new(name("weft-test"), b.account()),
                    },
                    DidUpdate::AddService {
                        service: Service {
                            id: name("hub"),
                            service_type: "LinkedDomains".into(),
                            endpoint: "https://operator.example".into(),
                        },
                    },
                    DidUpdate::RemoveService { id: name("hub") },
                    DidUpdate::Deactivate,
                ],
            }),
            Operation::RegisterIssuer(RegisterIssuer {
                did: did.clone(),
                credential_types: vec!["IdentityCredential".into()],
            }),
            Operation::RemoveIssuer(RemoveIssuer { did }),
            Operation::CreateStatusList(CreateStatusList {
                name: name("revocation-1"),
                purpose: StatusPurpose::Revocation,
                entries: 131_072,
            }),
            Operation::SetCredentialStatus(SetCredentialStatus {
                list: name("revocation-1"),
                index: 94_567,
                value: true,
            }),
            Operation::PublishCommitment(PublishCommitment {
                id: name("c-1"),
                commitment: Hash([0x5a; 32]),
                attribute: "birth_date".into(),
            }),
            Operation::WithdrawCommitment(WithdrawCommitment { id: name("c-1") }),
        ],
        memo: "golden-identity".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

/// The key registry's operations (tags 90-93).
fn sample_registry_tx() -> SignedTransaction {
    let a = Keypair::from_seed([5; 32]);
    let b = Keypair::from_seed([6; 32]);
    let www = DnsName::new("www.example.com").unwrap();
    let tx = Transaction {
        chain_id: name("weft-test"),
        signer: a.account(),
        nonce: 9,
        expiry_height: 500,
        operations: vec![
            Operation::BindName(BindName {
                name: www.clone(),
                public_key: b.account(),
                endorsers_required: 2,
            }),
            Operation::EndorseBinding(EndorseBinding {
                name: www.clone(),
                public_key: b.account(),
            }),
            Operation::RotateBinding(RotateBinding {
                name: www.clone(),
                public_key: a.account(),
            }),
            Operation::RevokeBinding(RevokeBinding {
                name: www,
                public_key: a.account(),
                reason: "key compromise".into(),
            }),
        ],
        memo: "golden-registry".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

fn sample_private_tx() -> SignedTransaction {
    let a = Keypair::from_seed([21; 32]);
    let b = Keypair::from_seed([22; 32]);
    let id = name("lab-2026-0001");
    let tx = Transaction {
        chain_id: name("weft-test"),
        signer: a.account(),
        nonce: 10,
        expiry_height: 600,
        operations: vec![
            Operation::CreatePrivateRecord(CreatePrivateRecord {
                id: id.clone(),
                data_type: name("lab-result"),
                subject: Some(b.account()),
                commitment: Hash([0x5a; 32]),
                size: 4096,
                policy: UsagePolicy {
                    purposes: vec![name("treatment"), name("research")],
                    retain_until_ms: Some(1_900_000_000_000),
                    onward_grants: true,
                },
            }),
            Operation::GrantPrivateAccess(GrantPrivateAccess {
                id: id.clone(),
                grantee: a.account(),
                purposes: vec![name("research")],
                expires_at_ms: Some(1_850_000_000_000),
            }),
            Operation::RevokePrivateAccess(RevokePrivateAccess {
                id: id.clone(),
                grantee: a.account(),
            }),
            Operation::SetPrivateConsent(SetPrivateConsent {
                id: id.clone(),
                purposes: vec![name("treatment")],
            }),
            Operation::AccessPrivateRecord(AccessPrivateRecord {
                id: id.clone(),
                purpose: name("treatment"),
            }),
            Operation::PurgePrivateRecord(PurgePrivateRecord {
                id,
                reason: "erasure request".into(),
            }),
        ],
        memo: "golden-private".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

fn sample_consensus_tx() -> SignedTransaction {
    let a = Keypair::from_seed([31; 32]);
    let b = Keypair::from_seed([32; 32]);
    let c = Keypair::from_seed([33; 32]);
    let tx = Transaction {
        chain_id: name("weft-test"),
        signer: a.account(),
        nonce: 3,
        expiry_height: 700,
        operations: vec![
            Operation::SetValidators(SetValidators {
                validators: vec![a.account(), b.account(), c.account()],
            }),
            Operation::SetGovernance(SetGovernance {
                admins: vec![a.account(), b.account()],
                threshold: 2,
            }),
        ],
        memo: "golden-consensus".into(),
    };
    sign_transaction(tx, &[&a, &b])
}

fn sample_block() -> (Block, Receipt, Finalization) {
    let stx = sample_tx();
    let th = tx_hash(&stx.tx);
    let receipt = Receipt {
        tx_hash: th,
        status: TxStatus::Failed {
            code: ErrorCode::InsufficientBalance,
            operation: Some(7),
            message: "no".into(),
        },
        events: vec![Event {
            topic: "token.transfer".into(),
            accounts: vec![stx.tx.signer],
            attributes: vec![("amount".into(), "1".into())],
        }],
        writes: 3,
    };
    let header = BlockHeader {
        chain_id: name("golden-chain"),
        height: 42,
        parent: Hash([3; 32]),
        timestamp_ms: 1_700_000_000_123,
        proposer: Keypair::from_seed([9; 32]).account(),
        tx_count: 1,
        tx_root: merkle_root(&[th]),
        state_root: Hash([4; 32]),
        receipts_root: merkle_root(&[receipt_hash(&receipt)]),
        validator_set_hash: Hash([5; 32]),
    };
    let bh = block_hash(&header);
    // A view above 127 and an epoch above 0, so the varints in the signed message take
    // more than one byte.
    let fin = Finalization {
        height: 42,
        block_hash: bh,
        epoch: 3,
        view: 300,
        parent_view: 298,
        signatures: vec![Keypair::from_seed([9; 32]).sign_finalize(
            &header.chain_id,
            3,
            300,
            298,
            &bh,
        )],
    };
    (
        Block {
            header,
            transactions: vec![stx],
        },
        receipt,
        fin,
    )
}

fn vectors() -> BTreeMap<String, String> {
    let stx = sample_tx();
    let (block, receipt, fin) = sample_block();
    let mut v = BTreeMap::new();
    v.insert("signed_tx.bytes".into(), hex::encode(encode(&stx)));
    v.insert("tx.hash".into(), tx_hash(&stx.tx).to_hex());
    v.insert("block.bytes".into(), hex::encode(encode(&block)));
    v.insert("block.hash".into(), block_hash(&block.header).to_hex());
    v.insert("receipt.bytes".into(), hex::encode(encode(&receipt)));
    v.insert("receipt.hash".into(), receipt_hash(&receipt).to_hex());
    v.insert("finalization.bytes".into(), hex::encode(encode(&fin)));
    v.insert(
        "merkle_root.3".into(),
        merkle_root(&[Hash([1; 32]), Hash([2; 32]), Hash([3; 32])]).to_hex(),
    );
    v.insert(
        "signed_tx.json".into(),
        serde_json::to_string(&stx).unwrap(),
    );
    let app = sample_app_tx();
    v.insert("app_tx.bytes".into(), hex::encode(encode(&app)));
    v.insert("app_tx.hash".into(), tx_hash(&app.tx).to_hex());
    v.insert("app_tx.json".into(), serde_json::to_string(&app).unwrap());
    let identity = sample_identity_tx();
    v.insert("identity_tx.bytes".into(), hex::encode(encode(&identity)));
    v.insert("identity_tx.hash".into(), tx_hash(&identity.tx).to_hex());
    v.insert(
        "identity_tx.json".into(),
        serde_json::to_string(&identity).unwrap(),
    );
    let registry = sample_registry_tx();
    v.insert("registry_tx.bytes".into(), hex::encode(encode(&registry)));
    v.insert("registry_tx.hash".into(), tx_hash(&registry.tx).to_hex());
    v.insert(
        "registry_tx.json".into(),
        serde_json::to_string(&registry).unwrap(),
    );
    let private = sample_private_tx();
    v.insert("private_tx.bytes".into(), hex::encode(encode(&private)));
    v.insert("private_tx.hash".into(), tx_hash(&private.tx).to_hex());
    v.insert(
        "private_tx.json".into(),
        serde_json::to_string(&private).unwrap(),
    );
    let consensus = sample_consensus_tx();
    v.insert("consensus_tx.bytes".into(), hex::encode(encode(&consensus)));
    v.insert("consensus_tx.hash".into(), tx_hash(&consensus.tx).to_hex());
    v.insert(
        "consensus_tx.json".into(),
        serde_json::to_string(&consensus).unwrap(),
    );
    v
}

#[test]
fn golden_vectors_hold() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden.json");
    let current = vectors();
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&current).unwrap() + "\n").unwrap();
    }
    let text =
        std::fs::read_to_string(path).expect("fixtures/golden.json (create with WEFT_BLESS=1)");
    let pinned: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        pinned, current,
        "the canonical format changed; see this file's header"
    );
    // And the pinned bytes decode back to the same values.
    let bytes = hex::decode(&pinned["signed_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_tx()
    );
    let bytes = hex::decode(&pinned["block.bytes"]).unwrap();
    assert_eq!(decode_bounded::<Block>(&bytes).unwrap(), sample_block().0);
    let bytes = hex::decode(&pinned["app_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_app_tx()
    );
    let bytes = hex::decode(&pinned["identity_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_identity_tx()
    );
    let bytes = hex::decode(&pinned["registry_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_registry_tx()
    );
    let bytes = hex::decode(&pinned["private_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_private_tx()
    );
    let bytes = hex::decode(&pinned["consensus_tx.bytes"]).unwrap();
    assert_eq!(
        decode_bounded::<SignedTransaction>(&bytes).unwrap(),
        sample_consensus_tx()
    );
}

#[test]
fn json_operation_types_are_the_published_names() {
    // Every operation of both samples, as JSON, carries one of Operation::type_names().
    let names = Operation::type_names();
    let mut seen = std::collections::BTreeSet::new();
    for stx in [
        sample_tx(),
        sample_app_tx(),
        sample_identity_tx(),
        sample_registry_tx(),
        sample_private_tx(),
        sample_consensus_tx(),
    ] {
        for op in serde_json::to_value(&stx).unwrap()["tx"]["operations"]
            .as_array()
            .unwrap()
        {
            let t = op["type"].as_str().unwrap().to_owned();
            assert!(names.contains(&t), "{t} is not in {names:?}");
            seen.insert(t);
        }
    }
    // The samples cover every operation, so the golden vectors pin every encoding.
    assert_eq!(
        seen.len(),
        names.len(),
        "samples miss some operations: {names:?} vs {seen:?}"
    );
}

#[test]
fn hostile_bytes_get_typed_errors() {
    let good = encode(&sample_tx());
    // Trailing garbage.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        decode_bounded::<SignedTransaction>(&trailing),
        Err(DecodeError::Malformed(_))
    ));
    // Truncation at every point.
    for cut in 0..good.len() {
        assert!(decode_bounded::<SignedTransaction>(&good[..cut]).is_err());
    }
    // Oversized input is refused before decoding.
    let huge = vec![0u8; limits::MAX_TX_BYTES + 1];
    assert!(matches!(
        decode_bounded::<SignedTransaction>(&huge),
        Err(DecodeError::Oversized { .. })
    ));
    // An unknown operation tag is named as such.
    let stx = sample_tx();
    let mut unknown = encode(&stx.tx.chain_id);
    unknown.extend(encode(&stx.tx.signer));
    unknown.extend(encode(&1u64));
    unknown.extend(encode(&1u64));
    unknown.extend(encode(&1u32));
    unknown.push(200);
    assert_eq!(
        decode_bounded::<SignedTransaction>(&unknown),
        Err(DecodeError::UnknownOperation(200))
    );
    // A vector length prefix claiming 4 billion operations does not allocate them.
    let mut lying = encode(&stx.tx.chain_id);
    lying.extend(encode(&stx.tx.signer));
    lying.extend(encode(&1u64));
    lying.extend(encode(&1u64));
    lying.extend(u32::MAX.to_le_bytes());
    assert!(decode_bounded::<SignedTransaction>(&lying).is_err());
    // Too many operations, within the byte limit, is a limit error.
    let mut many = stx.clone();
    many.tx.operations = vec![stx.tx.operations[7].clone(); limits::MAX_OPERATIONS + 1];
    assert!(matches!(
        decode_bounded::<SignedTransaction>(&encode(&many)),
        Err(DecodeError::LimitExceeded(_))
    ));
    // An invalid name inside is malformed.
    let mut bad_name = encode(&"UPPER".to_owned());
    bad_name.extend(&good[encode(&stx.tx.chain_id).len()..]);
    assert!(decode_bounded::<SignedTransaction>(&bad_name).is_err());
}

fn arb_name() -> impl Strategy<Value = Name> {
    "[a-z0-9._-]{1,20}".prop_map(|s| Name::new(s).unwrap())
}
fn arb_account() -> impl Strategy<Value = AccountId> {
    any::<[u8; 32]>().prop_map(AccountId)
}
fn arb_op() -> impl Strategy<Value = Operation> {
    prop_oneof![
        (arb_name(), ".{0,20}").prop_map(|(id, d)| Operation::RegisterOrganization(
            RegisterOrganization {
                id,
                display_name: d
            }
        )),
        (
            arb_account(),
            arb_name(),
            prop::collection::vec(arb_name(), 0..3)
        )
            .prop_map(|(account, organization, roles)| Operation::RegisterAccount(
                RegisterAccount {
                    account,
                    organization,
                    roles
                }
            )),
        (arb_account(), arb_name())
            .prop_map(|(account, role)| Operation::AssignRole(AssignRole { account, role })),
        (
            arb_name(),
            ".{0,20}",
            0u8..=36,
            any::<Option<u128>>(),
            prop::option::of(arb_name()),
            prop::option::of(arb_name())
        )
            .prop_map(
                |(symbol, display_name, decimals, max, controller, holder_role)| {
                    Operation::DefineToken(DefineToken {
                        symbol,
                        display_name,
                        decimals,
                        max_supply: max.map(Amount),
                        controller,
                        holder_role,
                    })
                }
            ),
        (arb_name(), arb_account(), any::<u128>()).prop_map(|(symbol, to, a)| Operation::Transfer(
            Transfer {
                symbol,
                to,
                amount: Amount(a)
            }
        )),
        (arb_name(), any::<u128>()).prop_map(|(symbol, a)| Operation::Burn(Burn {
            symbol,
            amount: Amount(a)
        })),
        (
            arb_name(),
            arb_name(),
            any::<u128>(),
            arb_account(),
            any::<Option<u64>>()
        )
            .prop_map(
                |(id, symbol, a, beneficiary, expires_at_height)| Operation::Hold(Hold {
                    id,
                    symbol,
                    amount: Amount(a),
                    beneficiary,
                    arbiter: None,
                    expires_at_height
                })
            ),
        prop::collection::vec(
            (arb_name(), arb_account(), arb_account(), any::<u128>()),
            0..4
        )
        .prop_map(|legs| Operation::MultiTransfer(MultiTransfer {
            legs: legs
                .into_iter()
                .map(|(symbol, from, to, a)| TransferLeg {
                    symbol,
                    from,
                    to,
                    amount: Amount(a)
                })
                .collect()
        })),
        (
            arb_name(),
            arb_name(),
            arb_account(),
            prop::collection::vec(("[a-z]{1,8}", ".{0,12}"), 0..4)
        )
            .prop_map(|(id, class, owner, attributes)| Operation::RegisterAsset(
                RegisterAsset {
                    id,
                    class,
                    owner,
                    attributes
                }
            )),
        (
            arb_name(),
            any::<[u8; 32]>(),
            prop::collection::vec(arb_account(), 0..4),
            any::<u8>()
        )
            .prop_map(
                |(id, h, parties, required_signatures)| Operation::AnchorDocument(AnchorDocument {
                    id,
                    hash: Hash(h),
                    media_type: "text/plain".into(),
                    uri: String::new(),
                    parties,
                    required_signatures
                })
            ),
    ]
}

proptest! {
    #[test]
    fn transactions_round_trip(chain in arb_name(), signer in arb_account(), nonce: u64, expiry: u64,
                               ops in prop::collection::vec(arb_op(), 0..6), memo in ".{0,40}",
                               sigs in prop::collection::vec((arb_account(), any::<[u8; 32]>()), 0..4)) {
        let stx = SignedTransaction {
            tx: Transaction { chain_id: chain, signer, nonce, expiry_height: expiry, operations: ops, memo },
            signatures: sigs.into_iter().map(|(account, s)| {
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&s);
                weft_types::TxSignature { account, signature: weft_types::SignatureBytes(sig) }
            }).collect(),
        };
        let bytes = encode(&stx);
        prop_assert_eq!(decode_bounded::<SignedTransaction>(&bytes).unwrap(), stx.clone());
        let json = serde_json::to_string(&stx).unwrap();
        prop_assert_eq!(serde_json::from_str::<SignedTransaction>(&json).unwrap(), stx);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_bounded::<SignedTransaction>(&bytes);
        let _ = decode_bounded::<Block>(&bytes);
        let _ = decode_bounded::<BlockHeader>(&bytes);
        let _ = decode_bounded::<Finalization>(&bytes);
    }

    #[test]
    fn mutated_transactions_never_panic(pos in 0usize..4096, byte: u8) {
        let mut bytes = encode(&sample_tx());
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = decode_bounded::<SignedTransaction>(&bytes);
    }
}
