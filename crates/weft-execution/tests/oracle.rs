//! The oracle module against an in-memory state: feeds, device-signed readings with monotone
//! timestamps, thresholds with sticky breaches, every refusal (with its code and no state
//! change), and the feed invariants under random reading sequences.
//!
//! A reading the feed's device did not sign is refused with `MissingSignature`: the required
//! signature is absent (the submitting account itself may well be authorized).

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, ExecError, check_transaction, execute_block, genesis_writes,
    keys::StateKey,
    model::{Breach, Feed, Reading, Threshold},
};
use weft_types::{
    AccountId, ErrorCode, Event, Genesis, GenesisAccount, GenesisOrganization, GenesisValidator,
    MAX_FEED_SCALE, Name, Operation, PostReading, Receipt, RegisterFeed, RemoveThreshold,
    SetThreshold, SignedTransaction, Transaction, TxStatus, state::WriteSet,
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
