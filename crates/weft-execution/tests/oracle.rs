//! The oracle module against an in-memory state: feeds, device-signed readings with monotone
//! timestamps, thresholds with sticky breaches, every refusal (with its code and no state
//! change), and the feed invariants under random reading sequences.
//!
//! A reading the feed's device did not sign is refused with `MissingSignature`: the required
//! signature is absent (the submitting account itself may well be authorized).
//!
//! The oracle hooks: a first breach takes the `on_breach` transitions of the instances
//! watching the feed (in id order, each undone and reported on its own if it fails), and a
//! meter feed issues exactly its counter's increase of a token nobody may mint directly.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, ExecError, check_transaction, execute_block, genesis_writes,
    keys::StateKey,
    model::{
        Breach, Feed, Instance, MeterIssuance, ParamValue, Reading, StepCause, Threshold, Token,
    },
};
use weft_types::{
    AccountId, Amount, CreateInstance, DeployTemplate, ErrorCode, Event, FeedIssuance, Genesis,
    GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, MAX_FEED_SCALE, Mint,
    Name, Operation, PostReading, Receipt, RegisterFeed, RemoveThreshold, SetThreshold,
    SignedTransaction, Transaction, Transition, TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const T0: u64 = 1_700_000_000_000;
const SKEW: u64 = 5 * 60 * 1000;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

struct World {
    state: State,
    height: u64,
    /// The next block's timestamp.
    now_ms: u64,
    nonces: BTreeMap<AccountId, u64>,
    /// Owns feeds (role sensor-operator: `oracle.*`).
    owner: Keypair,
    /// Another sensor operator, owner of nothing.
    other: Keypair,
    /// Submits readings its devices co-sign (`oracle.post` only).
    gateway: Keypair,
    /// A sensor key, not registered: it only co-signs.
    device: Keypair,
    /// A meter registered as an account with `oracle.post`: it signs alone.
    meter: Keypair,
    /// Registered, no oracle permission.
    viewer: Keypair,
}

impl World {
    fn new() -> Self {
        let admin = Keypair::from_seed([1; 32]);
        let owner = Keypair::from_seed([2; 32]);
        let other = Keypair::from_seed([3; 32]);
        let gateway = Keypair::from_seed([4; 32]);
        let device = Keypair::from_seed([5; 32]);
        let meter = Keypair::from_seed([6; 32]);
        let viewer = Keypair::from_seed([7; 32]);
        let mut roles = BTreeMap::new();
        roles.insert(name("admin"), vec!["*".to_owned()]);
        roles.insert(name("sensor-operator"), vec!["oracle.*".to_owned()]);
        roles.insert(name("gateway"), vec!["oracle.post".to_owned()]);
        roles.insert(name("viewer"), vec!["document.sign".to_owned()]);
        let account = |k: &Keypair, role: &str| GenesisAccount {
            account: k.account(),
            organization: name("carrier"),
            roles: vec![name(role)],
        };
        let genesis = Genesis {
            chain_id: name("oracle-chain"),
            genesis_time_ms: T0,
            validators: vec![GenesisValidator {
                account: admin.account(),
                organization: name("carrier"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("carrier"),
                display_name: "Cold carrier".into(),
            }],
            accounts: vec![
                account(&admin, "admin"),
                account(&owner, "sensor-operator"),
                account(&other, "sensor-operator"),
                account(&gateway, "gateway"),
                account(&meter, "gateway"),
                account(&viewer, "viewer"),
            ],
            roles,
            tokens: vec![],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        Self {
            state,
            height: 0,
            now_ms: T0 + 1_000,
            nonces: BTreeMap::new(),
            owner,
            other,
            gateway,
            device,
            meter,
            viewer,
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: name("oracle-chain"),
            height: self.height + 1,
            timestamp_ms: self.now_ms,
        }
    }

    /// A transaction by `signers[0]`, co-signed by the others, with the next nonce.
    fn tx(&self, signers: &[&Keypair], ops: Vec<Operation>) -> SignedTransaction {
        let signer = signers[0].account();
        sign_transaction(
            Transaction {
                chain_id: name("oracle-chain"),
                signer,
                nonce: *self.nonces.get(&signer).unwrap_or(&0),
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            signers,
        )
    }

    /// Runs one transaction in its own block; the clock then moves on by a second.
    fn run(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> Receipt {
        let tx = self.tx(signers, ops);
        let signer = tx.tx.signer;
        let out = execute_block(&self.state, &self.ctx(), &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.now_ms += 1_000;
        *self.nonces.entry(signer).or_insert(0) += 1;
        out.receipts.into_iter().next().unwrap()
    }

    fn ok(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> Vec<Event> {
        let receipt = self.run(signers, ops);
        assert_eq!(receipt.status, TxStatus::Success, "{:?}", receipt.status);
        receipt.events
    }

    /// Checks that the transaction is refused with `expected`, both by the admission check and
    /// in a block, with no event and no state change besides the nonce and the height.
    fn refused(&mut self, what: &str, signers: &[&Keypair], op: Operation, expected: ErrorCode) {
        let tx = self.tx(signers, vec![op.clone()]);
        match check_transaction(&self.state, &self.ctx(), &tx) {
            Err(ExecError::Tx(e)) => assert_eq!(e.code, expected, "{what}: {e}"),
            other => panic!("{what}: expected {expected}, got {other:?}"),
        }
        let before = self.state.clone();
        let receipt = self.run(signers, vec![op]);
        assert_eq!(code(&receipt.status), Some(expected), "{what}");
        assert!(receipt.events.is_empty(), "{what}");
        for key in changed_keys(&before, &self.state) {
            assert!(
                key == "meta/height" || key.starts_with("nonce/"),
                "{what}: {key} changed"
            );
        }
    }

    fn feed(&self, id: &str) -> Feed {
        borsh::from_slice(&self.state[&StateKey::Feed(name(id)).to_bytes()]).unwrap()
    }

    /// Registers `id` for `device`, owned by `owner`, temperature in tenths of a degree.
    fn register(&mut self, id: &str, device: &AccountId) {
        let owner = self.owner.clone();
        self.ok(&[&owner], vec![register_feed(id, device)]);
    }

    /// Posts a reading through the gateway with the device co-signing.
    fn post(&mut self, feed: &str, value: i64, at: u64) -> Receipt {
        let (gateway, device) = (self.gateway.clone(), self.device.clone());
        self.run(&[&gateway, &device], vec![reading(feed, value, at)])
    }
}

fn changed_keys(before: &State, after: &State) -> Vec<String> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .chain(
            before
                .keys()
                .filter(|k| !after.contains_key(*k))
                .map(|k| String::from_utf8_lossy(k).into_owned()),
        )
        .collect()
}

fn code(s: &TxStatus) -> Option<ErrorCode> {
    match s {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

fn register_feed(id: &str, device: &AccountId) -> Operation {
    Operation::RegisterFeed(RegisterFeed {
        id: name(id),
        kind: name("temperature"),
        unit: "Cel".into(),
        scale: 1,
        device: *device,
        issues: None,
    })
}

fn reading(feed: &str, value: i64, observed_at_ms: u64) -> Operation {
    Operation::PostReading(PostReading {
        feed: name(feed),
        value,
        observed_at_ms,
    })
}

fn set_threshold(feed: &str, id: &str, min: Option<i64>, max: Option<i64>) -> Operation {
    Operation::SetThreshold(SetThreshold {
        feed: name(feed),
        name: name(id),
        min,
        max,
    })
}

fn remove_threshold(feed: &str, id: &str) -> Operation {
    Operation::RemoveThreshold(RemoveThreshold {
        feed: name(feed),
        name: name(id),
    })
}

fn event(topic: &str, accounts: Vec<AccountId>, attributes: &[(&str, &str)]) -> Event {
    Event {
        topic: topic.into(),
        accounts,
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn register_and_post_with_exact_state_and_events() {
    let mut w = World::new();
    let owner = w.owner.clone();
    let device = w.device.account();
    let events = w.ok(&[&owner], vec![register_feed("fridge-1", &device)]);
    assert_eq!(
        events,
        vec![event(
            "oracle.feed_registered",
            vec![owner.account()],
            &[
                ("feed", "fridge-1"),
                ("kind", "temperature"),
                ("device", &device.to_string()),
            ],
        )]
    );
    let registered = Feed {
        owner: owner.account(),
        kind: name("temperature"),
        unit: "Cel".into(),
        scale: 1,
        device,
        registered_at: 1,
        count: 0,
        last: None,
        window: vec![],
        thresholds: BTreeMap::new(),
        issues: None,
    };
    assert_eq!(w.feed("fridge-1"), registered);

    // The gateway submits, the device co-signs: 4.5 °C observed a second before the block.
    let at = w.now_ms - 1_000;
    let receipt = w.post("fridge-1", 45, at);
    assert_eq!(receipt.status, TxStatus::Success);
    assert_eq!(
        receipt.events,
        vec![event(
            "oracle.reading",
            vec![owner.account(), w.gateway.account()],
            &[
                ("feed", "fridge-1"),
                ("value", "45"),
                ("scale", "1"),
                ("observed_at_ms", &at.to_string()),
                ("count", "1"),
            ],
        )]
    );
    let first = Reading {
        value: 45,
        observed_at_ms: at,
        height: 2,
    };
    assert_eq!(
        w.feed("fridge-1"),
        Feed {
            count: 1,
            last: Some(first.clone()),
            window: vec![first.clone()],
            ..registered.clone()
        }
    );

    // A reading up to five minutes ahead of the block time is accepted (clock skew); negative
    // values are fine.
    let at2 = w.now_ms + SKEW;
    assert_eq!(w.post("fridge-1", -12, at2).status, TxStatus::Success);
    let second = Reading {
        value: -12,
        observed_at_ms: at2,
        height: 3,
    };
    assert_eq!(
        w.feed("fridge-1"),
        Feed {
            count: 2,
            last: Some(second.clone()),
            window: vec![first, second],
            ..registered
        }
    );
}

#[test]
fn a_registered_device_signs_alone_and_several_readings_fit_one_transaction() {
    let mut w = World::new();
    let meter = w.meter.clone();
    w.register("meter-1", &meter.account());
    let t = w.now_ms;
    let events = w.ok(
        &[&meter],
        vec![
            reading("meter-1", 100, t - 300),
            reading("meter-1", 250, t - 200),
        ],
    );
    assert_eq!(events.len(), 2);
    // The meter signed as the transaction's signer; the owner is told, and the meter too.
    assert_eq!(events[1].accounts, vec![w.owner.account(), meter.account()]);
    let feed = w.feed("meter-1");
    assert_eq!(feed.count, 2);
    assert_eq!(
        feed.last,
        Some(Reading {
            value: 250,
            observed_at_ms: t - 200,
            height: 2
        })
    );

    // All or nothing: the second reading is not monotone, so the first is dropped too.
    let before = w.feed("meter-1");
    let t = w.now_ms;
    let receipt = w.run(
        &[&meter],
        vec![
            reading("meter-1", 1, t - 100),
            reading("meter-1", 2, t - 100),
        ],
    );
    assert_eq!(code(&receipt.status), Some(ErrorCode::InvalidArgument));
    assert!(
        matches!(receipt.status, TxStatus::Failed { operation: Some(1), ref message, .. } if message.contains("not monotone"))
    );
    assert_eq!(w.feed("meter-1"), before);
}

#[test]
fn the_window_keeps_the_last_sixteen_readings() {
    let mut w = World::new();
    let device = w.device.account();
    w.register("fridge-1", &device);
    let mut posted = vec![];
    for i in 0..20i64 {
        let at = w.now_ms - 500;
        assert_eq!(w.post("fridge-1", i, at).status, TxStatus::Success);
        posted.push((i, at));
    }
    let feed = w.feed("fridge-1");
    assert_eq!(feed.count, 20);
    assert_eq!(feed.window.len(), Feed::WINDOW);
    let kept: Vec<_> = feed
        .window
        .iter()
        .map(|r| (r.value, r.observed_at_ms))
        .collect();
    assert_eq!(kept, posted[4..]);
    assert_eq!(feed.last.as_ref(), feed.window.last());
}

#[test]
fn breaches_are_recorded_and_sticky() {
    let mut w = World::new();
    let owner = w.owner.clone();
    let device = w.device.account();
    w.register("fridge-1", &device);
    // An early excursion, before any threshold: thresholds judge later readings only.
    let at = w.now_ms;
    w.post("fridge-1", 150, at);
    // The cold chain: 2.0 °C to 8.0 °C; and a freezing alarm below 0.0 °C.
    let events = w.ok(
        &[&owner],
        vec![
            set_threshold("fridge-1", "cold-chain", Some(20), Some(80)),
            set_threshold("fridge-1", "freezing", Some(0), None),
        ],
    );
    assert_eq!(
        events[0],
        event(
            "oracle.threshold_set",
            vec![owner.account()],
            &[
                ("feed", "fridge-1"),
                ("threshold", "cold-chain"),
                ("min", "20"),
                ("max", "80"),
            ],
        )
    );
    assert_eq!(events[1].attributes[3], ("max".into(), "none".into()));
    let calm = |min, max| Threshold {
        min,
        max,
        set_at: 3,
        breach: None,
    };
    assert_eq!(
        w.feed("fridge-1").thresholds,
        BTreeMap::from([
            (name("cold-chain"), calm(Some(20), Some(80))),
            (name("freezing"), calm(Some(0), None)),
        ])
    );

    // In range, bounds included: no breach.
    for v in [20, 80, 45] {
        let at = w.now_ms;
        let r = w.post("fridge-1", v, at);
        assert_eq!(r.events.len(), 1, "{v}");
    }
    assert!(
        w.feed("fridge-1")
            .thresholds
            .values()
            .all(|t| t.breach.is_none())
    );

    // 9.5 °C at height 7: the cold chain is breached.
    let hot_at = w.now_ms;
    let r = w.post("fridge-1", 95, hot_at);
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(
        r.events[1],
        event(
            "oracle.breach",
            vec![owner.account()],
            &[
                ("feed", "fridge-1"),
                ("threshold", "cold-chain"),
                ("value", "95"),
                ("scale", "1"),
                ("observed_at_ms", &hot_at.to_string()),
                ("breaches", "1"),
            ],
        )
    );
    assert_eq!(r.events.len(), 2);
    let first_breach = Breach {
        first_height: 7,
        first_observed_at_ms: hot_at,
        count: 1,
        last_value: 95,
        last_observed_at_ms: hot_at,
    };
    assert_eq!(
        w.feed("fridge-1").thresholds[&name("cold-chain")].breach,
        Some(first_breach.clone())
    );

    // Back in range: the breach stays.
    let at = w.now_ms;
    assert_eq!(w.post("fridge-1", 50, at).events.len(), 1);
    assert_eq!(
        w.feed("fridge-1").thresholds[&name("cold-chain")].breach,
        Some(first_breach)
    );

    // -0.5 °C breaches both; the first breach is kept, count and latest value move on.
    let cold_at = w.now_ms;
    let r = w.post("fridge-1", -5, cold_at);
    let topics: Vec<_> = r
        .events
        .iter()
        .map(|e| (e.topic.as_str(), e.attributes[1].1.as_str()))
        .collect();
    assert_eq!(
        topics,
        [
            ("oracle.reading", "-5"),
            ("oracle.breach", "cold-chain"),
            ("oracle.breach", "freezing")
        ]
    );
    let feed = w.feed("fridge-1");
    assert_eq!(
        feed.thresholds[&name("cold-chain")].breach,
        Some(Breach {
            first_height: 7,
            first_observed_at_ms: hot_at,
            count: 2,
            last_value: -5,
            last_observed_at_ms: cold_at,
        })
    );
    assert_eq!(
        feed.thresholds[&name("freezing")].breach,
        Some(Breach {
            first_height: 9,
            first_observed_at_ms: cold_at,
            count: 1,
            last_value: -5,
            last_observed_at_ms: cold_at,
        })
    );

    // The evidence cannot be removed; an unbreached threshold can.
    w.refused(
        "remove a breached threshold",
        &[&owner],
        remove_threshold("fridge-1", "cold-chain"),
        ErrorCode::InvalidArgument,
    );
    w.ok(
        &[&owner],
        vec![set_threshold("fridge-1", "spare", None, Some(300))],
    );
    let events = w.ok(&[&owner], vec![remove_threshold("fridge-1", "spare")]);
    assert_eq!(
        events,
        vec![event(
            "oracle.threshold_removed",
            vec![owner.account()],
            &[("feed", "fridge-1"), ("threshold", "spare")],
        )]
    );
    assert_eq!(
        w.feed("fridge-1").thresholds.keys().collect::<Vec<_>>(),
        [&name("cold-chain"), &name("freezing")]
    );
}

#[test]
fn every_refusal_has_its_code_and_changes_nothing() {
    let mut w = World::new();
    let (owner, other, gateway, device, meter, viewer) = (
        w.owner.clone(),
        w.other.clone(),
        w.gateway.clone(),
        w.device.clone(),
        w.meter.clone(),
        w.viewer.clone(),
    );
    w.register("fridge-1", &device.account());
    let last = w.now_ms;
    w.post("fridge-1", 45, last);
    w.ok(
        &[&owner],
        vec![set_threshold("fridge-1", "cold-chain", Some(20), Some(80))],
    );

    w.refused(
        "reading of an unknown feed",
        &[&gateway, &device],
        reading("nope", 1, last + 1),
        ErrorCode::NotFound,
    );
    w.refused(
        "the device did not sign",
        &[&gateway],
        reading("fridge-1", 1, last + 1),
        ErrorCode::MissingSignature,
    );
    w.refused(
        "another device signed",
        &[&gateway, &meter],
        reading("fridge-1", 1, last + 1),
        ErrorCode::MissingSignature,
    );
    w.refused(
        "the signer may not post, though the device co-signed",
        &[&viewer, &device],
        reading("fridge-1", 1, last + 1),
        ErrorCode::Unauthorized,
    );
    w.refused(
        "same timestamp as the last reading",
        &[&gateway, &device],
        reading("fridge-1", 1, last),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "earlier than the last reading",
        &[&gateway, &device],
        reading("fridge-1", 1, last - 1),
        ErrorCode::InvalidArgument,
    );
    let future = w.now_ms + SKEW + 1;
    w.refused(
        "more than five minutes after the block time",
        &[&gateway, &device],
        reading("fridge-1", 1, future),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "u64::MAX timestamp",
        &[&gateway, &device],
        reading("fridge-1", 1, u64::MAX),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "duplicate feed",
        &[&other],
        register_feed("fridge-1", &meter.account()),
        ErrorCode::AlreadyExists,
    );
    let mut scaled = RegisterFeed {
        id: name("fridge-2"),
        kind: name("temperature"),
        unit: "Cel".into(),
        scale: MAX_FEED_SCALE + 1,
        device: device.account(),
        issues: None,
    };
    let too_fine = Operation::RegisterFeed(scaled.clone());
    assert!(too_fine.check_limits().is_err(), "refused when decoded too");
    w.refused(
        "scale beyond 18",
        &[&owner],
        too_fine,
        ErrorCode::InvalidArgument,
    );
    scaled.scale = 1;
    scaled.unit = "x".repeat(257);
    w.refused(
        "unit too long",
        &[&owner],
        Operation::RegisterFeed(scaled),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "register without oracle.register",
        &[&gateway],
        register_feed("fridge-3", &device.account()),
        ErrorCode::Unauthorized,
    );
    w.refused(
        "threshold by a non-owner",
        &[&other],
        set_threshold("fridge-1", "mine", Some(0), Some(10)),
        ErrorCode::Unauthorized,
    );
    w.refused(
        "threshold removal by a non-owner",
        &[&other],
        remove_threshold("fridge-1", "cold-chain"),
        ErrorCode::Unauthorized,
    );
    w.refused(
        "threshold on an unknown feed",
        &[&owner],
        set_threshold("nope", "t", Some(0), Some(10)),
        ErrorCode::NotFound,
    );
    w.refused(
        "min above max",
        &[&owner],
        set_threshold("fridge-1", "t", Some(11), Some(10)),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "no bound at all",
        &[&owner],
        set_threshold("fridge-1", "t", None, None),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "a threshold name already set",
        &[&owner],
        set_threshold("fridge-1", "cold-chain", Some(0), Some(100)),
        ErrorCode::AlreadyExists,
    );
    w.refused(
        "remove an unknown threshold",
        &[&owner],
        remove_threshold("fridge-1", "t"),
        ErrorCode::NotFound,
    );
    w.refused(
        "remove from an unknown feed",
        &[&owner],
        remove_threshold("nope", "t"),
        ErrorCode::NotFound,
    );

    // min == max is a valid (point) range; the feed holds at most MAX_THRESHOLDS.
    let fill: Vec<_> = (1..Feed::MAX_THRESHOLDS)
        .map(|i| set_threshold("fridge-1", &format!("t{i}"), Some(5), Some(5)))
        .collect();
    w.ok(&[&owner], fill);
    assert_eq!(w.feed("fridge-1").thresholds.len(), Feed::MAX_THRESHOLDS);
    w.refused(
        "one threshold too many",
        &[&owner],
        set_threshold("fridge-1", "extra", Some(0), None),
        ErrorCode::InvalidArgument,
    );

    // After all that, the next in-order reading is still accepted.
    let at = w.now_ms;
    assert_eq!(w.post("fridge-1", 50, at).status, TxStatus::Success);
    assert_eq!(w.feed("fridge-1").count, 2);
}

/// One step of a random sequence: a value, a time offset from the last accepted reading
/// (non-positive ones must be refused), and whether the device co-signs.
#[derive(Debug, Clone)]
struct Step {
    value: i64,
    dt_ms: i64,
    device_signs: bool,
}

fn arb_step() -> impl Strategy<Value = Step> {
    (
        -50i64..150,
        prop_oneof![3 => 1i64..5_000, 1 => -2_000i64..=0, 1 => 400_000i64..900_000],
        prop::bool::weighted(0.9),
    )
        .prop_map(|(value, dt_ms, device_signs)| Step {
            value,
            dt_ms,
            device_signs,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_reading_sequences_keep_the_feed_invariants(
        steps in prop::collection::vec(arb_step(), 1..40)
    ) {
        let (min, max) = (20i64, 80i64);
        let mut w = World::new();
        let (owner, gateway, device) = (w.owner.clone(), w.gateway.clone(), w.device.clone());
        w.register("f", &device.account());
        w.ok(&[&owner], vec![set_threshold("f", "band", Some(min), Some(max))]);

        let mut accepted: Vec<(i64, u64)> = vec![];
        let mut cursor = w.now_ms;
        for step in steps {
            let at = cursor.saturating_add_signed(step.dt_ms);
            let signers: Vec<&Keypair> = if step.device_signs {
                vec![&gateway, &device]
            } else {
                vec![&gateway]
            };
            let ok_expected = step.device_signs
                && accepted.last().is_none_or(|(_, last)| at > *last)
                && at <= w.now_ms + SKEW;
            let receipt = w.run(&signers, vec![reading("f", step.value, at)]);
            prop_assert_eq!(receipt.status == TxStatus::Success, ok_expected, "{:?}", receipt.status);
            if ok_expected {
                accepted.push((step.value, at));
                cursor = at;
            }
        }

        let feed = w.feed("f");
        prop_assert_eq!(feed.count, accepted.len() as u64);
        prop_assert!(feed.window.windows(2).all(|p| p[0].observed_at_ms < p[1].observed_at_ms));
        prop_assert_eq!(
            feed.last.as_ref().map(|r| (r.value, r.observed_at_ms)),
            accepted.last().copied()
        );
        let tail = &accepted[accepted.len().saturating_sub(Feed::WINDOW)..];
        let window: Vec<_> = feed.window.iter().map(|r| (r.value, r.observed_at_ms)).collect();
        prop_assert_eq!(window.as_slice(), tail);
        let outside: Vec<_> = accepted.iter().filter(|(v, _)| *v < min || *v > max).collect();
        let breach = &feed.thresholds[&name("band")].breach;
        prop_assert_eq!(breach.is_some(), !outside.is_empty());
        if let Some(b) = breach {
            prop_assert_eq!(b.count, outside.len() as u64);
            prop_assert_eq!(b.first_observed_at_ms, outside[0].1);
            prop_assert_eq!((b.last_value, b.last_observed_at_ms), *outside[outside.len() - 1]);
        }
    }
}

// ---- oracle hooks: breach-triggered transitions and meter-backed issuance ----

/// A lot whose `quarantine` the ledger takes when its logger first breaches `cold` (only if
/// `armed`, and only if `check` holds `keeper`: the tests make it fail both ways), followed
/// by an automatic `flag`. `relabel` moves it to another logger.
const WATCHED: &str = "\
id: watched-lot
version: 1
title: A lot watched by its logger
roles:
  keeper: Holds the lot
parameters:
  logger: string
  note: string
  armed: bool
  check: account
states:
  - name: packed
    initial: true
  - name: quarantined
  - name: flagged
  - name: done
    final: true
  - name: destroyed
    final: true
transitions:
  - name: relabel
    from: packed
    to: packed
    by: keeper
    inputs:
      new_logger: string
    effects:
      - set: { param: logger, value: $new_logger }
  - name: finish
    from: packed
    to: done
    by: keeper
  - name: quarantine
    from: packed
    to: quarantined
    on_breach: { feed: $logger, threshold: cold }
    guard: armed
    effects:
      - set: { param: note, value: breached }
      - require_role: { role: keeper, account: $check }
  - name: flag
    from: quarantined
    to: flagged
    auto: true
  - name: destroy
    from: [quarantined, flagged]
    to: destroyed
    by: keeper
visibility:
  roles: [keeper]
";

/// A chain with an operator (tokens, oracles, workflows), a keeper, a household, a gateway
/// and two unregistered device keys; `kwh` (1 decimal, capped) and `nrj` (with supply) are
/// the operator's tokens.
struct Hooks {
    state: State,
    height: u64,
    now_ms: u64,
    nonces: BTreeMap<AccountId, u64>,
    operator: Keypair,
    keeper: Keypair,
    household: Keypair,
    gateway: Keypair,
    logger: Keypair,
    meter: Keypair,
    /// Registered, no role that matters here.
    stranger: Keypair,
}

const KWH_CAP: u128 = 1_000_000;

impl Hooks {
    fn new() -> Self {
        let k = |i: u8| Keypair::from_seed([i; 32]);
        let (admin, operator, keeper, household, gateway, logger, meter, stranger) =
            (k(11), k(12), k(13), k(14), k(15), k(16), k(17), k(18));
        let mut roles = BTreeMap::new();
        roles.insert(name("admin"), vec!["*".to_owned()]);
        roles.insert(
            name("operator"),
            vec![
                "token.*".to_owned(),
                "oracle.*".to_owned(),
                "workflow.*".to_owned(),
            ],
        );
        roles.insert(
            name("holder"),
            vec!["workflow.transition".to_owned(), "token.mint".to_owned()],
        );
        roles.insert(name("gateway"), vec!["oracle.post".to_owned()]);
        let account = |k: &Keypair, role: &str| GenesisAccount {
            account: k.account(),
            organization: name("grid"),
            roles: vec![name(role)],
        };
        let token =
            |symbol: &str, cap: Option<u128>, balances: Vec<(AccountId, u128)>| GenesisToken {
                symbol: name(symbol),
                display_name: symbol.to_uppercase(),
                decimals: 1,
                issuer: operator.account(),
                max_supply: cap.map(Amount),
                balances: balances.into_iter().map(|(a, v)| (a, Amount(v))).collect(),
            };
        let genesis = Genesis {
            chain_id: name("oracle-chain"),
            genesis_time_ms: T0,
            validators: vec![GenesisValidator {
                account: admin.account(),
                organization: name("grid"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("grid"),
                display_name: "Microgrid".into(),
            }],
            accounts: vec![
                account(&admin, "admin"),
                account(&operator, "operator"),
                account(&keeper, "holder"),
                account(&household, "holder"),
                account(&gateway, "gateway"),
                account(&stranger, "gateway"),
            ],
            roles,
            tokens: vec![
                token("kwh", Some(KWH_CAP), vec![]),
                token("nrj", None, vec![(household.account(), 500)]),
            ],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        Self {
            state,
            height: 0,
            now_ms: T0 + 1_000,
            nonces: BTreeMap::new(),
            operator,
            keeper,
            household,
            gateway,
            logger,
            meter,
            stranger,
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: name("oracle-chain"),
            height: self.height + 1,
            timestamp_ms: self.now_ms,
        }
    }

    fn tx(&self, signers: &[&Keypair], ops: Vec<Operation>) -> SignedTransaction {
        let signer = signers[0].account();
        sign_transaction(
            Transaction {
                chain_id: name("oracle-chain"),
                signer,
                nonce: *self.nonces.get(&signer).unwrap_or(&0),
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            signers,
        )
    }

    fn run(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> Receipt {
        let tx = self.tx(signers, ops);
        let signer = tx.tx.signer;
        let out = execute_block(&self.state, &self.ctx(), &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.now_ms += 1_000;
        *self.nonces.entry(signer).or_insert(0) += 1;
        out.receipts.into_iter().next().unwrap()
    }

    fn ok(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> Vec<Event> {
        let receipt = self.run(signers, ops);
        assert_eq!(receipt.status, TxStatus::Success, "{:?}", receipt.status);
        receipt.events
    }

    /// Refused with `expected` by the admission check and in a block; nothing but the nonce
    /// and the height changes.
    fn refused(
        &mut self,
        what: &str,
        signers: &[&Keypair],
        ops: Vec<Operation>,
        expected: ErrorCode,
    ) {
        let tx = self.tx(signers, ops.clone());
        match check_transaction(&self.state, &self.ctx(), &tx) {
            Err(ExecError::Tx(e)) => assert_eq!(e.code, expected, "{what}: {e}"),
            other => panic!("{what}: expected {expected}, got {other:?}"),
        }
        let before = self.state.clone();
        let receipt = self.run(signers, ops);
        assert_eq!(code(&receipt.status), Some(expected), "{what}");
        assert!(receipt.events.is_empty(), "{what}");
        for key in changed_keys(&before, &self.state) {
            assert!(
                key == "meta/height" || key.starts_with("nonce/"),
                "{what}: {key} changed"
            );
        }
    }

    fn get<T: borsh::BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        self.state
            .get(&key.to_bytes())
            .map(|b| borsh::from_slice(b).unwrap())
    }

    fn feed(&self, id: &str) -> Feed {
        self.get(&StateKey::Feed(name(id))).unwrap()
    }

    fn instance(&self, id: &str) -> Instance {
        self.get(&StateKey::Instance(name(id))).unwrap()
    }

    fn watchers(&self, feed: &str) -> Vec<String> {
        self.get::<BTreeSet<Name>>(&StateKey::FeedWatchers(name(feed)))
            .map(|w| w.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    fn balance(&self, symbol: &str, who: &AccountId) -> u128 {
        self.get::<Amount>(&StateKey::Balance(name(symbol), *who))
            .map_or(0, |a| a.0)
    }

    fn supply(&self, symbol: &str) -> u128 {
        self.get::<Token>(&StateKey::Token(name(symbol)))
            .unwrap()
            .supply
            .0
    }

    /// A temperature logger `id` (0.1 °C) with threshold `cold` = 2.0–8.0 °C.
    fn logger_feed(&mut self, id: &str) {
        let op = self.operator.clone();
        let device = self.logger.account();
        self.ok(
            &[&op],
            vec![
                register_feed(id, &device),
                set_threshold(id, "cold", Some(20), Some(80)),
            ],
        );
    }

    fn deploy_watched(&mut self) {
        let op = self.operator.clone();
        self.ok(
            &[&op],
            vec![Operation::DeployTemplate(DeployTemplate {
                source: WATCHED.to_owned(),
            })],
        );
    }

    fn create_op(&self, id: &str, logger: &str, armed: bool, check: &AccountId) -> Operation {
        Operation::CreateInstance(CreateInstance {
            instance: name(id),
            template: name("watched-lot"),
            version: 1,
            parties: vec![(name("keeper"), self.keeper.account())],
            params: vec![
                (name("logger"), logger.to_owned()),
                (name("note"), "none".to_owned()),
                (name("armed"), armed.to_string()),
                (name("check"), check.to_string()),
            ],
        })
    }

    /// A watched lot that fires cleanly (armed, and `check` is its keeper).
    fn create_lot(&mut self, id: &str, logger: &str) {
        let (op, keeper) = (self.operator.clone(), self.keeper.account());
        let create = self.create_op(id, logger, true, &keeper);
        self.ok(&[&op], vec![create]);
    }

    fn step(&mut self, instance: &str, transition: &str, args: &[(&str, &str)]) -> Receipt {
        let keeper = self.keeper.clone();
        self.run(
            &[&keeper],
            vec![Operation::Transition(Transition {
                instance: name(instance),
                transition: name(transition),
                args: args
                    .iter()
                    .map(|(k, v)| (name(k), (*v).to_owned()))
                    .collect(),
            })],
        )
    }

    /// A reading of a logger feed, submitted by the gateway and signed by the logger.
    fn temperature(&mut self, feed: &str, value: i64) -> Receipt {
        let (gateway, logger) = (self.gateway.clone(), self.logger.clone());
        let at = self.now_ms;
        self.run(&[&gateway, &logger], vec![reading(feed, value, at)])
    }

    /// A counter reading of a meter feed, submitted by the gateway and signed by the meter.
    fn counter(&mut self, feed: &str, value: i64) -> Receipt {
        let (gateway, meter) = (self.gateway.clone(), self.meter.clone());
        let at = self.now_ms;
        self.run(&[&gateway, &meter], vec![reading(feed, value, at)])
    }

    fn meter_op(&self, id: &str, token: &str, scale: u8, to: &AccountId) -> Operation {
        Operation::RegisterFeed(RegisterFeed {
            id: name(id),
            kind: name("energy-exported"),
            unit: "kWh".into(),
            scale,
            device: self.meter.account(),
            issues: Some(FeedIssuance {
                token: name(token),
                to: *to,
            }),
        })
    }

    /// Registers meter `id`, issuing kWh to the household.
    fn register_meter(&mut self, id: &str) {
        let op = self.operator.clone();
        let household = self.household.account();
        let register = self.meter_op(id, "kwh", 1, &household);
        self.ok(&[&op], vec![register]);
    }
}

fn topics(events: &[Event]) -> Vec<(String, Option<String>)> {
    events
        .iter()
        .map(|e| {
            let instance = e
                .attributes
                .iter()
                .find(|(k, _)| k == "instance")
                .map(|(_, v)| v.clone());
            (e.topic.clone(), instance)
        })
        .collect()
}

fn breach_steps(instance: &Instance) -> usize {
    instance
        .history
        .iter()
        .filter(|h| matches!(h.cause, Some(StepCause::Breach { .. })))
        .count()
}

#[test]
fn a_first_breach_fires_the_watching_instances_in_id_order() {
    let mut w = Hooks::new();
    w.logger_feed("logger-1");
    w.logger_feed("logger-2");
    w.deploy_watched();
    // Created out of id order: they still fire in id order.
    for (id, logger) in [
        ("lot-b", "logger-1"),
        ("lot-a", "logger-1"),
        ("lot-c", "logger-2"),
        ("lot-d", "logger-1"),
        ("lot-e", "logger-2"),
    ] {
        w.create_lot(id, logger);
    }
    assert_eq!(w.watchers("logger-1"), ["lot-a", "lot-b", "lot-d"]);
    assert_eq!(w.watchers("logger-2"), ["lot-c", "lot-e"]);
    // A finished instance leaves the index; a relabelled one moves to its new feed.
    assert_eq!(w.step("lot-d", "finish", &[]).status, TxStatus::Success);
    let relabel = w.step("lot-e", "relabel", &[("new_logger", "logger-1")]);
    assert_eq!(relabel.status, TxStatus::Success);
    assert_eq!(w.watchers("logger-1"), ["lot-a", "lot-b", "lot-e"]);
    assert_eq!(w.watchers("logger-2"), ["lot-c"]);

    // Nobody takes a breach-only transition by hand.
    let keeper = w.keeper.clone();
    w.refused(
        "quarantine by hand",
        &[&keeper],
        vec![Operation::Transition(Transition {
            instance: name("lot-a"),
            transition: name("quarantine"),
            args: vec![],
        })],
        ErrorCode::InvalidArgument,
    );

    // In range: nothing moves.
    assert_eq!(w.temperature("logger-1", 50).status, TxStatus::Success);
    assert_eq!(w.instance("lot-a").state.as_str(), "packed");

    let height = w.height + 1;
    let receipt = w.temperature("logger-1", 93);
    assert_eq!(receipt.status, TxStatus::Success);
    let fired: Vec<_> = topics(&receipt.events)
        .into_iter()
        .filter(|(t, _)| t.starts_with("workflow."))
        .collect();
    let transition = |i: &str| ("workflow.transition".to_owned(), Some(i.to_owned()));
    assert_eq!(
        fired,
        [
            transition("lot-a"),
            transition("lot-a"),
            transition("lot-b"),
            transition("lot-b"),
            transition("lot-e"),
            transition("lot-e"),
        ],
        "quarantine then the automatic flag, instance by instance in id order"
    );
    let gateway = w.gateway.account();
    for id in ["lot-a", "lot-b", "lot-e"] {
        let lot = w.instance(id);
        assert_eq!(lot.state.as_str(), "flagged", "{id}");
        let steps = &lot.history[lot.history.len() - 2..];
        assert_eq!(steps[0].transition.as_str(), "quarantine");
        assert!(steps[0].automatic && steps[1].automatic);
        assert_eq!(steps[0].by, gateway, "the reading's submitter");
        assert_eq!(
            steps[0].cause,
            Some(StepCause::Breach {
                feed: name("logger-1"),
                threshold: name("cold"),
                value: 93,
                observed_at_ms: w.now_ms - 1_000,
                height,
            })
        );
        assert_eq!(
            steps[1].cause, None,
            "the flag follows; the reading caused only the first"
        );
        assert_eq!(
            lot.params[&name("note")],
            ParamValue::String("breached".into())
        );
        assert!(
            !lot.takers.contains_key(&name("quarantine")),
            "the ledger is no taker"
        );
    }
    assert_eq!(w.instance("lot-c").state.as_str(), "packed", "another feed");
    assert_eq!(
        w.instance("lot-d").state.as_str(),
        "done",
        "finished before"
    );

    // Sticky: later breaches are not first breaches.
    let before = w.instance("lot-a");
    assert_eq!(w.temperature("logger-1", 99).status, TxStatus::Success);
    assert_eq!(w.instance("lot-a"), before);
    assert_eq!(
        w.feed("logger-1").thresholds[&name("cold")]
            .breach
            .as_ref()
            .unwrap()
            .count,
        2
    );

    // Destroyed lots leave the index; the last one deletes it.
    for id in ["lot-a", "lot-b", "lot-e"] {
        assert_eq!(w.step(id, "destroy", &[]).status, TxStatus::Success);
    }
    assert!(w.watchers("logger-1").is_empty());
    assert!(
        !w.state
            .contains_key(&StateKey::FeedWatchers(name("logger-1")).to_bytes())
    );
}

#[test]
fn a_failed_breach_step_is_undone_and_reported_while_the_reading_lands() {
    let mut w = Hooks::new();
    w.logger_feed("logger-1");
    w.deploy_watched();
    let (op, keeper, stranger) = (w.operator.clone(), w.keeper.account(), w.stranger.account());
    // lot-1: guard false; lot-2: the second effect fails after the first changed `note`;
    // lot-3 fires.
    let creates = vec![
        w.create_op("lot-1", "logger-1", false, &keeper),
        w.create_op("lot-2", "logger-1", true, &stranger),
        w.create_op("lot-3", "logger-1", true, &keeper),
    ];
    w.ok(&[&op], creates);
    let (lot1, lot2) = (w.instance("lot-1"), w.instance("lot-2"));

    let receipt = w.temperature("logger-1", 95);
    assert_eq!(receipt.status, TxStatus::Success, "the reading stands");
    assert!(w.feed("logger-1").thresholds[&name("cold")].is_breached());
    assert_eq!(w.instance("lot-1"), lot1, "nothing of lot-1 changed");
    assert_eq!(
        w.instance("lot-2"),
        lot2,
        "the `set` before the failure is undone"
    );
    assert_eq!(w.instance("lot-3").state.as_str(), "flagged");
    let failed: Vec<&Event> = receipt
        .events
        .iter()
        .filter(|e| e.topic == "workflow.breach_failed")
        .collect();
    assert_eq!(failed.len(), 2);
    let attr = |e: &Event, k: &str| {
        e.attributes
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(attr(failed[0], "instance"), "lot-1");
    assert_eq!(attr(failed[0], "code"), "invalid_argument");
    assert!(attr(failed[0], "reason").contains("guard"));
    assert_eq!(attr(failed[1], "instance"), "lot-2");
    assert_eq!(attr(failed[1], "transition"), "quarantine");
    assert_eq!(attr(failed[1], "code"), "unauthorized");
    assert_eq!(failed[1].accounts, vec![keeper]);
    // No event of the undone steps is left in the receipt.
    let moved: BTreeSet<String> = topics(&receipt.events)
        .into_iter()
        .filter(|(t, _)| t == "workflow.transition")
        .filter_map(|(_, i)| i)
        .collect();
    assert_eq!(moved, BTreeSet::from(["lot-3".to_owned()]));
    // They keep watching (and the breach already happened: it does not fire again).
    assert_eq!(w.watchers("logger-1"), ["lot-1", "lot-2", "lot-3"]);
}

#[test]
fn watching_needs_an_existing_feed_and_is_bounded() {
    let mut w = Hooks::new();
    w.logger_feed("logger-1");
    w.deploy_watched();
    let (op, keeper) = (w.operator.clone(), w.keeper.account());
    let create = w.create_op("lot-x", "no-such-feed", true, &keeper);
    w.refused(
        "watch a missing feed",
        &[&op],
        vec![create],
        ErrorCode::InvalidArgument,
    );
    let create = w.create_op("lot-x", "Not A Name", true, &keeper);
    w.ok(&[&op], vec![create]);
    assert!(
        w.state.keys().all(|k| !k.starts_with(b"feed-watchers/")),
        "a parameter that names no feed watches nothing"
    );
    for i in 0..Feed::MAX_WATCHERS {
        w.create_lot(&format!("lot-{i:02}"), "logger-1");
    }
    let create = w.create_op("lot-over", "logger-1", true, &keeper);
    w.refused(
        "one watcher too many",
        &[&op],
        vec![create],
        ErrorCode::InvalidArgument,
    );
    // A finished watcher makes room.
    assert_eq!(w.step("lot-00", "finish", &[]).status, TxStatus::Success);
    w.create_lot("lot-over", "logger-1");
    assert_eq!(w.watchers("logger-1").len(), Feed::MAX_WATCHERS);
    // Relabelling onto a full feed is refused too.
    w.logger_feed("logger-2");
    w.create_lot("lot-move", "logger-2");
    let keeper_key = w.keeper.clone();
    w.refused(
        "relabel onto a full feed",
        &[&keeper_key],
        vec![Operation::Transition(Transition {
            instance: name("lot-move"),
            transition: name("relabel"),
            args: vec![(name("new_logger"), "logger-1".to_owned())],
        })],
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn the_same_readings_move_the_same_instances_the_same_way() {
    let script = |w: &mut Hooks| {
        w.logger_feed("logger-1");
        w.register_meter("meter-1");
        w.deploy_watched();
        for id in ["lot-3", "lot-1", "lot-2"] {
            w.create_lot(id, "logger-1");
        }
        for (t, c) in [(40, 100), (85, 180), (30, 260), (90, 261)] {
            w.temperature("logger-1", t);
            w.counter("meter-1", c);
        }
    };
    let (mut one, mut two) = (Hooks::new(), Hooks::new());
    script(&mut one);
    script(&mut two);
    assert_eq!(one.state, two.state);
    assert_eq!(one.instance("lot-1").state.as_str(), "flagged");
    assert_eq!(one.supply("kwh"), 161);
}

#[test]
fn a_meter_issues_exactly_its_counters_increase() {
    let mut w = Hooks::new();
    let household = w.household.account();
    let op = w.operator.clone();
    let events = w.ok(&[&op], vec![w.meter_op("meter-1", "kwh", 1, &household)]);
    assert_eq!(
        events,
        vec![event(
            "oracle.feed_registered",
            vec![op.account()],
            &[
                ("feed", "meter-1"),
                ("kind", "energy-exported"),
                ("device", &w.meter.account().to_string()),
                ("issues", "kwh"),
                ("to", &household.to_string()),
            ],
        )]
    );
    assert_eq!(w.get::<u64>(&StateKey::TokenMeters(name("kwh"))), Some(1));

    // The first counter is the baseline: nothing is issued.
    let r = w.counter("meter-1", 10_452);
    assert_eq!(r.status, TxStatus::Success);
    assert!(r.events.iter().all(|e| e.topic != "token.minted"));
    assert_eq!(w.supply("kwh"), 0);

    let r = w.counter("meter-1", 10_572);
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(
        r.events.last().unwrap(),
        &event(
            "token.minted",
            vec![household],
            &[("symbol", "kwh"), ("amount", "120"), ("feed", "meter-1")],
        )
    );
    // No production: accepted, nothing issued.
    let r = w.counter("meter-1", 10_572);
    assert_eq!(r.status, TxStatus::Success);
    assert!(r.events.iter().all(|e| e.topic != "token.minted"));
    assert_eq!(w.counter("meter-1", 10_652).status, TxStatus::Success);

    assert_eq!(w.balance("kwh", &household), 200);
    assert_eq!(w.supply("kwh"), 200);
    let issues = w.feed("meter-1").issues.unwrap();
    assert_eq!(
        issues,
        MeterIssuance {
            token: name("kwh"),
            to: household,
            issued: Amount(200),
        }
    );
    // A second meter of the same token, and a plain feed next to them.
    w.register_meter("meter-2");
    assert_eq!(w.get::<u64>(&StateKey::TokenMeters(name("kwh"))), Some(2));
    w.counter("meter-2", 7);
    w.counter("meter-2", 10);
    assert_eq!(w.supply("kwh"), 203);
}

#[test]
fn every_meter_refusal_has_its_code_and_changes_nothing() {
    let mut w = Hooks::new();
    let (op, household, gateway, meter) = (
        w.operator.clone(),
        w.household.clone(),
        w.gateway.clone(),
        w.meter.clone(),
    );
    let h = household.account();
    let mint = |to: AccountId, amount: u128| {
        Operation::Mint(Mint {
            symbol: name("kwh"),
            to,
            amount: Amount(amount),
        })
    };
    // Before any meter, the issuer may mint kWh (then it could never become meter-backed).
    let tx = w.tx(&[&op], vec![mint(h, 1)]);
    assert!(check_transaction(&w.state, &w.ctx(), &tx).is_ok());

    w.refused(
        "a meter of an unknown token",
        &[&op],
        vec![w.meter_op("m", "gold", 1, &h)],
        ErrorCode::UnknownToken,
    );
    w.refused(
        "only the issuer registers a meter of its token",
        &[&household],
        vec![w.meter_op("m", "kwh", 1, &h)],
        ErrorCode::Unauthorized,
    );
    w.refused(
        "a meter counting in other units than the token's",
        &[&op],
        vec![w.meter_op("m", "kwh", 3, &h)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "a meter issuing to an unregistered account",
        &[&op],
        vec![w.meter_op("m", "kwh", 1, &w.meter.account())],
        ErrorCode::UnknownAccount,
    );
    w.refused(
        "a token already minted without a meter cannot become meter-backed",
        &[&op],
        vec![w.meter_op("m", "nrj", 1, &h)],
        ErrorCode::InvalidArgument,
    );

    w.register_meter("meter-1");
    w.refused(
        "the issuer cannot mint a meter-backed token",
        &[&op],
        vec![mint(h, 5)],
        ErrorCode::Unauthorized,
    );
    w.refused(
        "nor can anyone else",
        &[&household],
        vec![mint(h, 5)],
        ErrorCode::Unauthorized,
    );
    let at = w.now_ms;
    w.refused(
        "a negative counter",
        &[&gateway, &meter],
        vec![reading("meter-1", -1, at)],
        ErrorCode::InvalidArgument,
    );
    assert_eq!(w.counter("meter-1", 1_000).status, TxStatus::Success);
    assert_eq!(w.counter("meter-1", 1_050).status, TxStatus::Success);
    let at = w.now_ms;
    w.refused(
        "a counter going backwards",
        &[&gateway, &meter],
        vec![reading("meter-1", 1_049, at)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        "a reading the meter did not sign",
        &[&gateway],
        vec![reading("meter-1", 1_100, at)],
        ErrorCode::MissingSignature,
    );
    let over = 1_050 + i64::try_from(KWH_CAP).unwrap();
    w.refused(
        "an increase beyond the token's cap",
        &[&gateway, &meter],
        vec![reading("meter-1", over, at)],
        ErrorCode::SupplyExceeded,
    );
    // Refusals left the counter where it was: the next increase is measured from 1,050.
    assert_eq!(w.counter("meter-1", 1_060).status, TxStatus::Success);
    assert_eq!(w.supply("kwh"), 60);
    assert_eq!(w.balance("kwh", &h), 60);
}

/// One step of a random hooks sequence.
#[derive(Debug, Clone)]
enum HookStep {
    /// The meter's counter moves by this much (negative: refused).
    Counter(i64),
    /// A temperature reading (0.1 °C; `cold` is 20..=80).
    Temperature(i64),
    /// A new lot watching the logger.
    Create,
    /// The lot with this index (modulo those created) is finished, if it still can be.
    Finish(usize),
}

fn arb_hook_step() -> impl Strategy<Value = HookStep> {
    prop_oneof![
        4 => (-30i64..300).prop_map(HookStep::Counter),
        3 => prop_oneof![3 => 20i64..=80, 1 => -40i64..150].prop_map(HookStep::Temperature),
        2 => Just(HookStep::Create),
        1 => (0usize..16).prop_map(HookStep::Finish),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_hook_sequences_issue_the_counters_increase_and_fire_once(
        steps in prop::collection::vec(arb_hook_step(), 1..30)
    ) {
        let mut w = Hooks::new();
        w.logger_feed("logger-1");
        w.register_meter("meter-1");
        w.deploy_watched();
        let household = w.household.account();

        let mut counters: Vec<i64> = vec![];
        // Per lot: whether it was waiting in `packed` when the first breach came.
        let mut lots: Vec<(String, bool)> = vec![];
        let mut finished: BTreeSet<usize> = BTreeSet::new();
        let mut breached = false;
        for step in steps {
            match step {
                HookStep::Counter(delta) => {
                    let value = counters.last().map_or(500 + delta, |c| c + delta);
                    let ok = value >= 0 && (counters.is_empty() || delta >= 0);
                    let receipt = w.counter("meter-1", value);
                    prop_assert_eq!(receipt.status == TxStatus::Success, ok, "{:?}", receipt.status);
                    if ok {
                        counters.push(value);
                    }
                }
                HookStep::Temperature(t) => {
                    prop_assert_eq!(w.temperature("logger-1", t).status, TxStatus::Success);
                    if !(20..=80).contains(&t) && !breached {
                        breached = true;
                        for (i, lot) in lots.iter_mut().enumerate() {
                            lot.1 = !finished.contains(&i);
                        }
                    }
                }
                HookStep::Create => {
                    let id = format!("lot-{:02}", lots.len());
                    w.create_lot(&id, "logger-1");
                    lots.push((id, false));
                }
                HookStep::Finish(i) if !lots.is_empty() => {
                    let i = i % lots.len();
                    let fired = breached && lots[i].1;
                    let can = !finished.contains(&i) && !fired;
                    let receipt = w.step(&lots[i].0.clone(), "finish", &[]);
                    prop_assert_eq!(receipt.status == TxStatus::Success, can);
                    if can {
                        finished.insert(i);
                    }
                }
                HookStep::Finish(_) => {}
            }
        }

        let expected = match (counters.first(), counters.last()) {
            (Some(first), Some(last)) => u128::try_from(last - first).unwrap(),
            _ => 0,
        };
        prop_assert_eq!(w.supply("kwh"), expected);
        prop_assert_eq!(w.balance("kwh", &household), expected);
        prop_assert_eq!(w.feed("meter-1").issues.unwrap().issued.0, expected);
        for (i, (id, fired)) in lots.iter().enumerate() {
            let lot = w.instance(id);
            prop_assert_eq!(breach_steps(&lot), usize::from(*fired), "{}", id);
            let state = match (fired, finished.contains(&i)) {
                (true, _) => "flagged",
                (false, true) => "done",
                (false, false) => "packed",
            };
            prop_assert_eq!(lot.state.as_str(), state, "{}", id);
        }
        let mut watching: Vec<String> = lots
            .iter()
            .enumerate()
            .filter(|(i, _)| !finished.contains(i))
            .map(|(_, (id, _))| id.clone())
            .collect();
        watching.sort();
        prop_assert_eq!(w.watchers("logger-1"), watching);
    }
}

#[test]
fn deploying_a_bad_on_breach_is_refused_with_its_line_and_column() {
    let mut w = Hooks::new();
    let op = w.operator.clone();
    let source = WATCHED.replace("feed: $logger", "feed: $armed");
    let line = 1 + source
        .lines()
        .position(|l| l.contains("on_breach"))
        .unwrap();
    let column = 1 + source
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("$armed")
        .unwrap();
    let tx = w.tx(
        &[&op],
        vec![Operation::DeployTemplate(DeployTemplate {
            source: source.clone(),
        })],
    );
    match check_transaction(&w.state, &w.ctx(), &tx) {
        Err(ExecError::Tx(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(
                e.message.contains(&format!("{line}:{column}: "))
                    && e.message.contains("BadOnBreach"),
                "{}",
                e.message
            );
        }
        other => panic!("accepted: {other:?}"),
    }
    w.refused(
        "a watched feed that is not a string parameter",
        &[&op],
        vec![Operation::DeployTemplate(DeployTemplate { source })],
        ErrorCode::InvalidArgument,
    );
}
