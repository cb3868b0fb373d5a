//! EPCIS 2.0-shaped supply-chain events over the asset registry: capture rules, packing
//! and unpacking, provenance trails, and refusals.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{EpcisRecord, EpcisTrail},
};
use weft_types::{
    CaptureEpcisEvent, EpcisAction, EpcisKind, ErrorCode, Genesis, GenesisAccount,
    GenesisOrganization, GenesisValidator, Name, NewAsset, Operation, RegisterAsset, RetireAsset,
    SensorReport, Transaction, TransformAssets, TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

const T0: u64 = 1_700_000_000_000;

struct World {
    state: State,
    height: u64,
    maker: Keypair,
    carrier: Keypair,
    outsider: Keypair,
    nonces: BTreeMap<weft_types::AccountId, u64>,
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

impl World {
    fn new() -> Self {
        let maker = Keypair::from_seed([1; 32]);
        let carrier = Keypair::from_seed([2; 32]);
        let outsider = Keypair::from_seed([3; 32]);
        let mut roles = BTreeMap::new();
        roles.insert(
            name("manufacturer"),
            vec!["asset.*".to_owned(), "epcis.capture".to_owned()],
        );
        roles.insert(name("carrier"), vec!["epcis.capture".to_owned()]);
        roles.insert(name("viewer"), vec![]);
        let acct = |k: &Keypair, role: &str| GenesisAccount {
            account: k.account(),
            organization: name("org"),
            roles: vec![name(role)],
        };
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: T0,
            validators: vec![GenesisValidator {
                account: maker.account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts: vec![
                acct(&maker, "manufacturer"),
                acct(&carrier, "carrier"),
                acct(&outsider, "viewer"),
            ],
            roles,
            tokens: vec![],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        let mut w = Self {
            state,
            height: 0,
            maker,
            carrier,
            outsider,
            nonces: BTreeMap::new(),
        };
        let maker = w.maker.clone();
        for id in [
            "pallet-1", "pallet-2", "case-1", "case-2", "case-3", "bulk-1",
        ] {
            let class = if id.starts_with("pallet") {
                "pallet"
            } else {
                "vaccine"
            };
            let op = Operation::RegisterAsset(RegisterAsset {
                id: name(id),
                class: name(class),
                owner: maker.account(),
                attributes: vec![],
            });
            assert_eq!(w.run(&maker, vec![op]), TxStatus::Success);
        }
        w
    }

    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> TxStatus {
        let nonce = *self.nonces.get(&who.account()).unwrap_or(&0);
        let tx = sign_transaction(
            Transaction {
                chain_id: name("t"),
                signer: who.account(),
                nonce,
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            &[who],
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: T0 + (self.height + 1) * 1000,
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(who.account(), nonce + 1);
        out.receipts.into_iter().next().unwrap().status
    }

    fn trail(&self, asset: &str) -> Vec<String> {
        self.state
            .get(&StateKey::EpcisTrail(name(asset)).to_bytes())
            .map(|v| {
                borsh::from_slice::<EpcisTrail>(v)
                    .unwrap()
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn parent(&self, child: &str) -> Option<String> {
        self.state
            .get(&StateKey::ContainedIn(name(child)).to_bytes())
            .map(|v| borsh::from_slice::<Name>(v).unwrap().to_string())
    }
}

fn event(id: &str, kind: EpcisKind, biz_step: &str) -> Operation {
    Operation::CaptureEpcisEvent(CaptureEpcisEvent {
        event_id: name(id),
        kind,
        event_time_ms: T0,
        event_time_zone_offset: "+00:00".into(),
        biz_step: biz_step.into(),
        disposition: "in_progress".into(),
        read_point: "urn:epc:id:sgln:0614141.00777.0".into(),
        biz_location: "urn:epc:id:sgln:0614141.00888.0".into(),
        biz_transactions: vec![],
        sensor_reports: vec![SensorReport {
            kind: "gs1:Temperature".into(),
            value: 50,
            scale: 1,
            uom: "CEL".into(),
        }],
    })
}

fn object(action: EpcisAction, ids: &[&str]) -> EpcisKind {
    EpcisKind::ObjectEvent {
        action,
        epc_list: ids.iter().map(|i| name(i)).collect(),
    }
}

fn aggregation(action: EpcisAction, parent: &str, children: &[&str]) -> EpcisKind {
    EpcisKind::AggregationEvent {
        action,
        parent_id: name(parent),
        child_epcs: children.iter().map(|i| name(i)).collect(),
    }
}

fn code(s: &TxStatus) -> Option<ErrorCode> {
    match s {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

#[test]
fn a_shipment_is_packed_moved_and_unpacked_with_a_trail_per_asset() {
    let mut w = World::new();
    let (maker, carrier) = (w.maker.clone(), w.carrier.clone());
    assert_eq!(
        w.run(
            &maker,
            vec![event(
                "e1",
                object(EpcisAction::Add, &["case-1", "case-2"]),
                "commissioning"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(
        w.run(
            &maker,
            vec![event(
                "e2",
                aggregation(EpcisAction::Add, "pallet-1", &["case-1", "case-2"]),
                "packing"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(w.parent("case-1").as_deref(), Some("pallet-1"));
    // The carrier, who owns nothing, records observations along the way.
    assert_eq!(
        w.run(
            &carrier,
            vec![event(
                "e3",
                object(EpcisAction::Observe, &["pallet-1"]),
                "shipping"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(
        w.run(
            &carrier,
            vec![event(
                "e4",
                aggregation(EpcisAction::Observe, "pallet-1", &["case-2"]),
                "receiving"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(
        w.run(
            &maker,
            vec![event(
                "e5",
                aggregation(EpcisAction::Delete, "pallet-1", &["case-1"]),
                "unpacking"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(w.parent("case-1"), None);
    assert_eq!(w.parent("case-2").as_deref(), Some("pallet-1"));
    assert_eq!(w.trail("case-1"), vec!["e1", "e2", "e5"]);
    assert_eq!(w.trail("case-2"), vec!["e1", "e2", "e4"]);
    assert_eq!(w.trail("pallet-1"), vec!["e2", "e3", "e4", "e5"]);
    let record: EpcisRecord =
        borsh::from_slice(&w.state[&StateKey::EpcisEvent(name("e3")).to_bytes()]).unwrap();
    assert_eq!(
        (record.recorder, record.event.biz_step.as_str()),
        (carrier.account(), "shipping")
    );
}

#[test]
fn transformations_name_the_inputs_the_asset_module_consumed() {
    let mut w = World::new();
    let maker = w.maker.clone();
    let transform = Operation::TransformAssets(TransformAssets {
        inputs: vec![name("bulk-1")],
        outputs: vec![NewAsset {
            id: name("vial-1"),
            class: name("vaccine"),
            attributes: vec![],
        }],
        process: "fill-finish".into(),
    });
    let kind = EpcisKind::TransformationEvent {
        transformation_id: Some(name("tx-1")),
        input_epc_list: vec![name("bulk-1")],
        output_epc_list: vec![name("vial-1")],
    };
    // Both in one transaction: the outputs exist and the input is retired when the event is checked.
    assert_eq!(
        w.run(&maker, vec![transform, event("e1", kind, "transforming")]),
        TxStatus::Success
    );
    assert_eq!(w.trail("bulk-1"), vec!["e1"]);
    assert_eq!(w.trail("vial-1"), vec!["e1"]);
}

#[test]
fn each_bad_event_is_refused_with_its_code_and_changes_nothing() {
    let mut w = World::new();
    let (maker, outsider) = (w.maker.clone(), w.outsider.clone());
    assert_eq!(
        w.run(
            &maker,
            vec![event(
                "e1",
                aggregation(EpcisAction::Add, "pallet-1", &["case-1"]),
                "packing"
            )]
        ),
        TxStatus::Success
    );
    assert_eq!(
        w.run(
            &maker,
            vec![Operation::RetireAsset(RetireAsset {
                id: name("case-3"),
                reason: "destroyed".into()
            })]
        ),
        TxStatus::Success
    );
    let future = {
        let Operation::CaptureEpcisEvent(mut e) =
            event("f", object(EpcisAction::Observe, &["case-2"]), "shipping")
        else {
            unreachable!()
        };
        e.event_time_ms = T0 + 10 * 60 * 1000 + 100_000;
        Operation::CaptureEpcisEvent(e)
    };
    let cases: Vec<(Operation, &Keypair, ErrorCode)> = vec![
        (
            event("e1", object(EpcisAction::Observe, &["case-2"]), "x"),
            &maker,
            ErrorCode::AlreadyExists,
        ),
        (
            event("n1", object(EpcisAction::Observe, &["ghost"]), "x"),
            &maker,
            ErrorCode::NotFound,
        ),
        (
            event("n2", object(EpcisAction::Observe, &[]), "x"),
            &maker,
            ErrorCode::InvalidArgument,
        ),
        (
            event(
                "n3",
                object(EpcisAction::Observe, &["case-2", "case-2"]),
                "x",
            ),
            &maker,
            ErrorCode::InvalidArgument,
        ),
        (
            event(
                "n4",
                aggregation(EpcisAction::Add, "pallet-2", &["case-1"]),
                "packing",
            ),
            &maker,
            ErrorCode::InvalidArgument,
        ),
        (
            event(
                "n5",
                aggregation(EpcisAction::Delete, "pallet-2", &["case-1"]),
                "unpacking",
            ),
            &maker,
            ErrorCode::InvalidArgument,
        ),
        (
            event("n6", object(EpcisAction::Add, &["case-3"]), "x"),
            &maker,
            ErrorCode::InvalidArgument,
        ),
        (
            event("n7", object(EpcisAction::Observe, &["case-2"]), "x"),
            &outsider,
            ErrorCode::Unauthorized,
        ),
        (future, &maker, ErrorCode::InvalidArgument),
    ];
    for (op, who, expected) in cases {
        let before = w.state.clone();
        let status = w.run(who, vec![op]);
        assert_eq!(code(&status), Some(expected), "{status:?}");
        let changed: Vec<String> = w
            .state
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .filter(|k| k != "meta/height" && !k.starts_with("nonce/"))
            .collect();
        assert!(changed.is_empty(), "{expected}: {changed:?}");
    }
    // What happened to a retired asset can still be recorded.
    assert_eq!(
        w.run(
            &maker,
            vec![event(
                "ok",
                object(EpcisAction::Observe, &["case-3"]),
                "destroying"
            )]
        ),
        TxStatus::Success
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random packing and unpacking: containment always matches a model (each case in at most
    /// one pallet), refusals are exactly the invalid moves, and each trail lists exactly the
    /// accepted events naming its asset, in order.
    #[test]
    fn containment_and_trails_match_a_model(moves in prop::collection::vec((any::<bool>(), 0usize..2, 0usize..3), 1..40)) {
        let mut w = World::new();
        let maker = w.maker.clone();
        let pallets = ["pallet-1", "pallet-2"];
        let cases = ["case-1", "case-2", "case-3"];
        let mut inside: BTreeMap<&str, &str> = BTreeMap::new();
        let mut trails: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, (pack, p, c)) in moves.into_iter().enumerate() {
            let (pallet, case) = (pallets[p], cases[c]);
            let id = format!("ev-{i}");
            let action = if pack { EpcisAction::Add } else { EpcisAction::Delete };
            let status = w.run(&maker, vec![event(&id, aggregation(action, pallet, &[case]), "packing")]);
            let valid = if pack { !inside.contains_key(case) } else { inside.get(case) == Some(&pallet) };
            prop_assert_eq!(status == TxStatus::Success, valid, "{:?}", status);
            if valid {
                if pack { inside.insert(case, pallet); } else { inside.remove(case); }
                trails.entry(pallet).or_default().push(id.clone());
                trails.entry(case).or_default().push(id);
            }
            for case in cases {
                let parent = w.parent(case);
                prop_assert_eq!(parent.as_deref(), inside.get(case).copied());
            }
        }
        for asset in pallets.iter().chain(cases.iter()) {
            prop_assert_eq!(w.trail(asset), trails.get(asset).cloned().unwrap_or_default());
        }
    }
}
