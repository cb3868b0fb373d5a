//! The workflow module: deploying templates, creating instances and taking transitions —
//! roles, approvals (k-of-n, two-hands), guards, deadlines, effects, versioning, and that no
//! sequence of attempts leaves the template's declared transitions.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{Instance, TemplateRecord},
    workflow::parse_yaml,
};
use weft_types::{
    AccountId, Amount, AnchorDocument, CreateInstance, DeployTemplate, ErrorCode, Event, Genesis,
    GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, Hash, Name, Operation,
    SignDocument, Transaction, Transition, TxStatus,
};

const BANK_GUARANTEE: &str = include_str!("../../../templates/bank-guarantee.yaml");

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// Roles of the bank guarantee, in the order of `World::parties`.
const ROLES: [&str; 4] = ["applicant", "guarantor", "beneficiary", "observer"];

struct World {
    state: State,
    height: u64,
    now: u64,
    /// applicant, guarantor, beneficiary, observer, stranger (registered, bound to nothing),
    /// two more; accounts [`CITIZENS`] also hold the ledger role `citizen`.
    people: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
}

/// The people who hold the ledger role `citizen` (verified by an identity authority).
const CITIZENS: [usize; 4] = [2, 3, 4, 5];
/// A registered account that holds no ledger role but `participant`.
const OUTSIDER: usize = 6;

impl World {
    fn new() -> Self {
        let people: Vec<Keypair> = (1..=7u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut roles = BTreeMap::new();
        roles.insert(name("citizen"), vec!["workflow.transition".to_owned()]);
        roles.insert(
            name("participant"),
            vec![
                "workflow.*".to_owned(),
                "document.*".to_owned(),
                // Granted so the tests show that workflow-controlled holds refuse direct
                // settlement for their own reason, not for a missing permission.
                "token.release".to_owned(),
                "token.cancel".to_owned(),
            ],
        );
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: people[0].account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts: people
                .iter()
                .enumerate()
                .map(|(i, p)| GenesisAccount {
                    account: p.account(),
                    organization: name("org"),
                    roles: if CITIZENS.contains(&i) {
                        vec![name("participant"), name("citizen")]
                    } else {
                        vec![name("participant")]
                    },
                })
                .collect(),
            roles,
            tokens: vec![GenesisToken {
                symbol: name("usd"),
                display_name: "USD".into(),
                decimals: 2,
                issuer: people[1].account(),
                max_supply: None,
                balances: BTreeMap::from([(people[1].account(), Amount(1000))]),
            }],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        for (k, v) in genesis_writes(&genesis).unwrap() {
            if let Some(v) = v {
                state.insert(k, v);
            }
        }
        Self {
            state,
            height: 0,
            now: 1,
            people,
            nonces: BTreeMap::new(),
        }
    }

    fn acc(&self, i: usize) -> AccountId {
        self.people[i].account()
    }

    /// Runs one operation signed by `signers[0]` and co-signed by the rest (indexes).
    fn run_by(&mut self, signers: &[usize], op: Operation) -> (TxStatus, Vec<Event>) {
        let keys: Vec<&Keypair> = signers.iter().map(|i| &self.people[*i]).collect();
        let signer = keys[0].account();
        let nonce = *self.nonces.get(&signer).unwrap_or(&0);
        let tx = sign_transaction(
            Transaction {
                chain_id: name("t"),
                signer,
                nonce,
                expiry_height: u64::MAX,
                operations: vec![op],
                memo: String::new(),
            },
            &keys,
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: self.now,
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        for (k, v) in out.writes {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    fn run(&mut self, signers: &[usize], op: Operation) -> TxStatus {
        self.run_by(signers, op).0
    }

    fn deploy(&mut self, source: &str) -> TxStatus {
        self.run(
            &[0],
            Operation::DeployTemplate(DeployTemplate {
                source: source.into(),
            }),
        )
    }

    fn create(
        &mut self,
        instance: &str,
        template: &str,
        version: u32,
        parties: &[(&str, usize)],
        params: &[(&str, &str)],
    ) -> TxStatus {
        let parties = parties
            .iter()
            .map(|(r, i)| (name(r), self.acc(*i)))
            .collect();
        self.run(
            &[0],
            Operation::CreateInstance(CreateInstance {
                instance: name(instance),
                template: name(template),
                version,
                parties,
                params: params
                    .iter()
                    .map(|(k, v)| (name(k), (*v).to_owned()))
                    .collect(),
            }),
        )
    }

    fn step(&mut self, signers: &[usize], instance: &str, transition: &str) -> TxStatus {
        self.step_with(signers, instance, transition, &[])
    }

    fn step_with(
        &mut self,
        signers: &[usize],
        instance: &str,
        transition: &str,
        args: &[(&str, &str)],
    ) -> TxStatus {
        self.run(
            signers,
            Operation::Transition(Transition {
                instance: name(instance),
                transition: name(transition),
                args: args
                    .iter()
                    .map(|(k, v)| (name(k), (*v).to_owned()))
                    .collect(),
            }),
        )
    }

    fn instance(&self, id: &str) -> Instance {
        borsh::from_slice(&self.state[&StateKey::Instance(name(id)).to_bytes()]).unwrap()
    }

    fn balance(&self, who: usize) -> u128 {
        self.state
            .get(&StateKey::Balance(name("usd"), self.acc(who)).to_bytes())
            .map_or(0, |v| borsh::from_slice::<Amount>(v).unwrap().0)
    }

    /// Deploys the bank guarantee, anchors its contract signed by applicant and guarantor,
    /// and creates instance `g` (effective at 1000, expiring at 100000).
    fn bank_guarantee() -> Self {
        let mut w = Self::new();
        assert_eq!(w.deploy(BANK_GUARANTEE), TxStatus::Success);
        let hash = Hash([7; 32]);
        let anchor = Operation::AnchorDocument(AnchorDocument {
            id: name("contract"),
            hash,
            media_type: "application/pdf".into(),
            uri: "x".into(),
            parties: vec![w.acc(0), w.acc(1)],
            required_signatures: 2,
        });
        assert_eq!(w.run(&[0], anchor), TxStatus::Success);
        let sign = || {
            Operation::SignDocument(SignDocument {
                id: name("contract"),
                version: 1,
                hash,
            })
        };
        assert_eq!(w.run(&[0], sign()), TxStatus::Success);
        assert_eq!(w.run(&[1], sign()), TxStatus::Success);
        assert_eq!(w.create_guarantee("g"), TxStatus::Success);
        w
    }

    fn create_guarantee(&mut self, id: &str) -> TxStatus {
        self.create(
            id,
            "bank-guarantee",
            1,
            &[
                ("applicant", 0),
                ("guarantor", 1),
                ("beneficiary", 2),
                ("observer", 3),
            ],
            &[
                ("currency", "usd"),
                ("max_amount", "500"),
                ("claim_amount", "300"),
                ("effective_at", "1000"),
                ("expires_at", "100000"),
                ("contract", "contract"),
            ],
        )
    }
}

#[track_caller]
fn assert_fails(status: &TxStatus, code: ErrorCode, needle: &str) {
    match status {
        TxStatus::Failed {
            code: c, message, ..
        } => {
            assert_eq!(*c, code, "{message}");
            assert!(message.contains(needle), "`{message}` lacks `{needle}`");
        }
        TxStatus::Success => panic!("expected {code} ({needle}), got success"),
    }
}

#[test]
fn deploy_stores_the_template_and_refuses_duplicates_and_invalid_sources() {
    let mut w = World::new();
    assert_eq!(w.deploy(BANK_GUARANTEE), TxStatus::Success);
    let record: TemplateRecord =
        borsh::from_slice(&w.state[&StateKey::Template(name("bank-guarantee"), 1).to_bytes()])
            .unwrap();
    assert_eq!(record.template, parse_yaml(BANK_GUARANTEE).unwrap());
    assert_eq!(
        record.source_hash,
        weft_crypto::sha256(BANK_GUARANTEE.as_bytes())
    );
    assert_eq!(record.deployer, w.acc(0));
    assert_fails(
        &w.deploy(BANK_GUARANTEE),
        ErrorCode::AlreadyExists,
        "immutable",
    );

    let bad = BANK_GUARANTEE.replace("    to: paid\n", "    to: nowhere\n");
    let line = bad.lines().position(|l| l == "    to: nowhere").unwrap() + 1;
    let bad = bad.replace("version: 1", "version: 2");
    assert_fails(
        &w.deploy(&bad),
        ErrorCode::InvalidArgument,
        &format!("{line}:9"),
    );
    assert!(
        !w.state
            .contains_key(&StateKey::Template(name("bank-guarantee"), 2).to_bytes())
    );
}

#[test]
fn create_checks_bindings_and_parameters() {
    let mut w = World::bank_guarantee();
    let i = w.instance("g");
    assert_eq!(i.state, name("requested"));
    assert_eq!(i.version, 1);
    assert_eq!(i.parties[&name("beneficiary")], vec![w.acc(2)]);
    assert!(i.history.is_empty());
    assert_fails(&w.create_guarantee("g"), ErrorCode::AlreadyExists, "exists");

    let all_params: [(&str, &str); 6] = [
        ("currency", "usd"),
        ("max_amount", "500"),
        ("claim_amount", "300"),
        ("effective_at", "1000"),
        ("expires_at", "100000"),
        ("contract", "contract"),
    ];
    let three = [("applicant", 0), ("guarantor", 1), ("beneficiary", 2)];
    let st = w.create("h", "bank-guarantee", 1, &three, &all_params);
    assert_fails(&st, ErrorCode::InvalidArgument, "observer is not bound");
    let four = [
        ("applicant", 0),
        ("guarantor", 1),
        ("beneficiary", 2),
        ("observer", 3),
    ];
    let mut bad = all_params;
    bad[1] = ("max_amount", "-5");
    let st = w.create("h", "bank-guarantee", 1, &four, &bad);
    assert_fails(&st, ErrorCode::InvalidArgument, "max_amount");
    let mut bad = all_params;
    bad[0] = ("currency", "eur");
    let st = w.create("h", "bank-guarantee", 1, &four, &bad);
    assert_fails(&st, ErrorCode::InvalidArgument, "does not exist");
    let st = w.create("h", "bank-guarantee", 1, &four, &all_params[..5]);
    assert_fails(&st, ErrorCode::InvalidArgument, "contract is not given");
    let st = w.create("h", "bank-guarantee", 2, &four, &all_params);
    assert_fails(&st, ErrorCode::NotFound, "version 2");
    let st = w.create("h", "letter-of-credit", 1, &four, &all_params);
    assert_fails(&st, ErrorCode::NotFound, "not deployed");
    assert!(
        !w.state
            .contains_key(&StateKey::Instance(name("h")).to_bytes())
    );
}

#[test]
fn bank_guarantee_lifecycle_pays_a_claim() {
    let mut w = World::bank_guarantee();
    assert_eq!(w.step(&[1], "g", "issue"), TxStatus::Success);
    // Illegal: the beneficiary claims before the guarantee is in force.
    let before = w.state.clone();
    assert_fails(
        &w.step(&[2], "g", "claim"),
        ErrorCode::InvalidArgument,
        "not allowed from state issued",
    );
    let nonce_key = StateKey::Nonce(w.acc(2)).to_bytes();
    let mut after = w.state.clone();
    after.remove(&nonce_key);
    after.remove(&StateKey::Height.to_bytes());
    let mut before = before;
    before.remove(&StateKey::Height.to_bytes());
    assert_eq!(
        before, after,
        "a refused step changes nothing but the nonce"
    );

    w.now = 2000;
    assert_eq!(w.step(&[0], "g", "enter_into_force"), TxStatus::Success);
    assert_fails(
        &w.step(&[1], "g", "claim"),
        ErrorCode::Unauthorized,
        "beneficiary",
    );
    assert_eq!(w.step(&[2], "g", "claim"), TxStatus::Success);
    let (status, events) = w.run_by(
        &[1],
        Operation::Transition(Transition {
            instance: name("g"),
            transition: name("pay"),
            args: Vec::new(),
        }),
    );
    assert_eq!(status, TxStatus::Success);
    let ev = events
        .iter()
        .find(|e| e.topic == "workflow.transition")
        .unwrap();
    let parties: BTreeSet<AccountId> = (0..4).map(|i| w.acc(i)).collect();
    assert_eq!(
        ev.accounts.iter().copied().collect::<BTreeSet<_>>(),
        parties
    );
    assert!(ev.attributes.contains(&("to".into(), "paid".into())));

    let i = w.instance("g");
    assert_eq!(i.state, name("paid"));
    let steps: Vec<(&str, &str, &str)> = i
        .history
        .iter()
        .map(|h| (h.transition.as_str(), h.from.as_str(), h.to.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("issue", "requested", "issued"),
            ("enter_into_force", "issued", "in_force"),
            ("claim", "in_force", "claimed"),
            ("pay", "claimed", "paid"),
        ]
    );
    assert_eq!(i.history[1].by, w.acc(0));
    assert_eq!(i.history[3].timestamp_ms, 2000);
    assert_eq!(w.balance(1), 700);
    assert_eq!(w.balance(2), 300);
    assert_fails(
        &w.step(&[1], "g", "terminate"),
        ErrorCode::InvalidArgument,
        "not allowed from state paid",
    );
    assert_fails(
        &w.step(&[1], "g", "nope"),
        ErrorCode::NotFound,
        "no transition",
    );
    assert_fails(&w.step(&[1], "x", "pay"), ErrorCode::NotFound, "instance x");
}

#[test]
fn issue_requires_the_signed_contract_and_guard_is_checked() {
    let mut w = World::new();
    assert_eq!(w.deploy(BANK_GUARANTEE), TxStatus::Success);
    let anchor = Operation::AnchorDocument(AnchorDocument {
        id: name("contract"),
        hash: Hash([7; 32]),
        media_type: "application/pdf".into(),
        uri: "x".into(),
        parties: vec![w.acc(0), w.acc(1)],
        required_signatures: 2,
    });
    assert_eq!(w.run(&[0], anchor), TxStatus::Success);
    assert_eq!(w.create_guarantee("g"), TxStatus::Success);
    assert_fails(
        &w.step(&[1], "g", "issue"),
        ErrorCode::InvalidArgument,
        "not signed",
    );
    assert_eq!(w.instance("g").state, name("requested"));

    let mut w = World::bank_guarantee();
    assert_eq!(w.step(&[1], "g", "issue"), TxStatus::Success);
    w.now = 999;
    assert_fails(
        &w.step(&[0], "g", "enter_into_force"),
        ErrorCode::InvalidArgument,
        "guard failed",
    );
    assert_eq!(w.instance("g").state, name("issued"));
}

#[test]
fn k_of_n_approval_needs_a_co_signature() {
    let mut w = World::bank_guarantee();
    assert_eq!(w.step(&[1], "g", "issue"), TxStatus::Success);
    w.now = 2000;
    assert_eq!(w.step(&[1], "g", "enter_into_force"), TxStatus::Success);
    assert_fails(
        &w.step(&[1], "g", "amend"),
        ErrorCode::Unauthorized,
        "approval",
    );
    // The observer is not in `of`.
    assert_fails(
        &w.step(&[1, 3], "g", "amend"),
        ErrorCode::Unauthorized,
        "approval",
    );
    assert_eq!(w.step(&[1, 2], "g", "amend"), TxStatus::Success);
    let i = w.instance("g");
    assert_eq!(i.state, name("in_force"));
    assert_eq!(i.history.last().unwrap().approvals, vec![w.acc(2)]);
}

const TWO_HANDS: &str = "
id: payout
version: 1
title: Two hands
roles:
  maker: Initiates
  checker: Confirms
states:
  - name: open
    initial: true
  - name: done
    final: true
transitions:
  - name: execute
    from: open
    to: done
    by: maker
    approvals: { two_hands: { operator: maker, controller: checker } }
visibility:
  roles: [maker, checker]
";

#[test]
fn two_hands_needs_two_different_signers() {
    let mut w = World::new();
    assert_eq!(w.deploy(TWO_HANDS), TxStatus::Success);
    let st = w.create("p", "payout", 1, &[("maker", 0), ("checker", 1)], &[]);
    assert_eq!(st, TxStatus::Success);
    assert_fails(
        &w.step(&[0], "p", "execute"),
        ErrorCode::Unauthorized,
        "checker",
    );
    assert_eq!(w.instance("p").state, name("open"));
    assert_eq!(w.step(&[0, 1], "p", "execute"), TxStatus::Success);
    assert_eq!(w.instance("p").state, name("done"));

    let st = w.create("same", "payout", 1, &[("maker", 2), ("checker", 2)], &[]);
    assert_eq!(st, TxStatus::Success);
    assert_fails(
        &w.step(&[2], "same", "execute"),
        ErrorCode::Unauthorized,
        "same account",
    );
}

#[test]
fn deadline_refuses_and_opens_on_expiry_to_anyone() {
    let mut w = World::bank_guarantee();
    assert_eq!(w.step(&[1], "g", "issue"), TxStatus::Success);
    w.now = 2000;
    assert_eq!(w.step(&[1], "g", "enter_into_force"), TxStatus::Success);
    // Before expiry, a stranger may not take `expire`.
    assert_fails(
        &w.step(&[4], "g", "expire"),
        ErrorCode::Unauthorized,
        "does not hold",
    );
    w.now = 100_000;
    assert_fails(
        &w.step(&[2], "g", "claim"),
        ErrorCode::InvalidArgument,
        "expired",
    );
    assert_eq!(w.step(&[4], "g", "expire"), TxStatus::Success);
    let i = w.instance("g");
    assert_eq!(i.state, name("expired"));
    assert_eq!(i.history.last().unwrap().by, w.acc(4));
    assert_eq!(w.balance(1), 1000);
}

fn versioned(version: u32, to: &str) -> String {
    format!(
        "
id: flow
version: {version}
title: Versioned
roles:
  actor: Acts
states:
  - name: a
    initial: true
  - name: {to}
    final: true
transitions:
  - name: go
    from: a
    to: {to}
    by: actor
visibility:
  public: true
"
    )
}

#[test]
fn instances_keep_their_version() {
    let mut w = World::new();
    assert_eq!(w.deploy(&versioned(1, "b")), TxStatus::Success);
    assert_eq!(
        w.create("old", "flow", 1, &[("actor", 0)], &[]),
        TxStatus::Success
    );
    assert_eq!(w.deploy(&versioned(2, "c")), TxStatus::Success);
    assert_eq!(
        w.create("new", "flow", 2, &[("actor", 0)], &[]),
        TxStatus::Success
    );
    assert_eq!(w.step(&[0], "old", "go"), TxStatus::Success);
    assert_eq!(w.step(&[0], "new", "go"), TxStatus::Success);
    assert_eq!(w.instance("old").state, name("b"));
    assert_eq!(w.instance("old").version, 1);
    assert_eq!(w.instance("new").state, name("c"));
}

const ESCROW: &str = "
id: escrow
version: 1
title: Escrow
roles:
  buyer: Pays
  seller: Delivers
parameters:
  currency: token
  price: amount
states:
  - name: open
    initial: true
  - name: funded
  - name: done
    final: true
  - name: refunded
    final: true
transitions:
  - name: fund
    from: open
    to: funded
    by: buyer
    effects:
      - hold: { id: pot, token: $currency, from: buyer, to: seller, amount: $price }
  - name: confirm
    from: funded
    to: done
    by: buyer
    effects:
      - release_hold: { id: pot }
  - name: refund
    from: funded
    to: refunded
    by: seller
    effects:
      - cancel_hold: { id: pot }
visibility:
  roles: [buyer, seller]
";

#[test]
fn escrow_effects_are_all_or_nothing() {
    let mut w = World::new();
    assert_eq!(w.deploy(ESCROW), TxStatus::Success);
    let parties = [("buyer", 1), ("seller", 2)];
    let st = w.create(
        "e",
        "escrow",
        1,
        &parties,
        &[("currency", "usd"), ("price", "2000")],
    );
    assert_eq!(st, TxStatus::Success);
    assert_fails(
        &w.step(&[1], "e", "fund"),
        ErrorCode::InsufficientBalance,
        "needs 2000",
    );
    assert_eq!(w.instance("e").state, name("open"));
    let st = w.create(
        "f",
        "escrow",
        1,
        &parties,
        &[("currency", "usd"), ("price", "400")],
    );
    assert_eq!(st, TxStatus::Success);
    assert_eq!(w.step(&[1], "f", "fund"), TxStatus::Success);
    assert!(
        w.state
            .contains_key(&StateKey::Hold(name("f.pot")).to_bytes())
    );
    assert_eq!(w.balance(1), 600);
    // Only the instance's transitions settle its hold: neither party can go around them.
    let direct_release = Operation::ReleaseHold(weft_types::ReleaseHold { id: name("f.pot") });
    assert_fails(
        &w.run(&[1], direct_release),
        ErrorCode::Unauthorized,
        "workflow instance f",
    );
    let direct_cancel = Operation::CancelHold(weft_types::CancelHold { id: name("f.pot") });
    assert_fails(
        &w.run(&[2], direct_cancel),
        ErrorCode::Unauthorized,
        "workflow instance f",
    );
    assert_eq!(w.balance(1), 600);
    assert_eq!(w.step(&[1], "f", "confirm"), TxStatus::Success);
    assert_eq!(w.balance(2), 400);
    assert!(
        !w.state
            .contains_key(&StateKey::Hold(name("f.pot")).to_bytes())
    );
}

/// The declared (name, from, to) triples of the bank guarantee.
fn declared() -> (BTreeSet<(String, String, String)>, Vec<String>) {
    let t = parse_yaml(BANK_GUARANTEE).unwrap();
    let mut triples = BTreeSet::new();
    for tr in &t.transitions {
        for f in &tr.from {
            triples.insert((tr.name.to_string(), f.to_string(), tr.to.to_string()));
        }
    }
    let names = t.transitions.iter().map(|tr| tr.name.to_string()).collect();
    (triples, names)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn no_transition_outside_the_template(
        attempts in prop::collection::vec((0usize..12, 0usize..5, 0usize..5, 0u64..40_000), 1..14)
    ) {
        let (triples, names) = declared();
        let mut w = World::bank_guarantee();
        for (t, who, cosigner, dt) in attempts {
            w.now += dt;
            let transition = names.get(t).cloned().unwrap_or_else(|| "bogus".into());
            let signers = if who == cosigner { vec![who] } else { vec![who, cosigner] };
            let before = w.instance("g");
            let status = w.step(&signers, "g", &transition);
            let after = w.instance("g");
            if status == TxStatus::Success {
                prop_assert_eq!(after.history.len(), before.history.len() + 1);
            } else {
                prop_assert_eq!(&after, &before);
            }
        }
        let i = w.instance("g");
        let mut state = "requested".to_string();
        for h in &i.history {
            let triple = (h.transition.to_string(), h.from.to_string(), h.to.to_string());
            prop_assert!(triples.contains(&triple), "undeclared step {:?}", triple);
            prop_assert_eq!(h.from.as_str(), state.as_str());
            state = h.to.to_string();
        }
        prop_assert_eq!(i.state.as_str(), state.as_str());
        let _ = ROLES;
    }
}

// ---- transition inputs, `set` ----

const AMENDABLE: &str = "
id: amendable
version: 1
title: Amendable guarantee
roles:
  guarantor: Issues, amends and pays
  beneficiary: Agrees to amendments and is paid
parameters:
  amount: amount
  expires_at: timestamp
  note: string
states:
  - name: in_force
    initial: true
  - name: closed
    final: true
transitions:
  - name: amend
    from: in_force
    to: in_force
    by: guarantor
    inputs:
      new_amount: amount
      new_expiry: timestamp
    approvals: { k: 1, of: [beneficiary] }
    guard: new_amount > 0u && new_expiry > now && new_expiry >= expires_at
    effects:
      - set: { param: amount, value: $new_amount }
      - set: { param: expires_at, value: $new_expiry }
      - set: { param: note, value: amended }
  - name: pay
    from: in_force
    to: closed
    by: guarantor
    inputs:
      claim: amount
    guard: claim <= amount
    effects:
      - transfer: { token: usd, from: guarantor, to: beneficiary, amount: $claim }
visibility:
  roles: [guarantor, beneficiary]
";

fn amendable() -> World {
    let mut w = World::new();
    assert_eq!(w.deploy(AMENDABLE), TxStatus::Success);
    let st = w.create(
        "a",
        "amendable",
        1,
        &[("guarantor", 1), ("beneficiary", 2)],
        &[
            ("amount", "100"),
            ("expires_at", "5000"),
            ("note", "issued"),
        ],
    );
    assert_eq!(st, TxStatus::Success);
    w
}

#[test]
fn inputs_reach_guards_and_effects_and_set_amends_parameters() {
    use weft_execution::model::{InstanceChange, ParamValue};
    let mut w = amendable();
    let amend = [("new_amount", "250"), ("new_expiry", "9000")];
    assert_eq!(
        w.step_with(&[1, 2], "a", "amend", &amend),
        TxStatus::Success
    );
    let i = w.instance("a");
    assert_eq!(i.params[&name("amount")], ParamValue::Amount(Amount(250)));
    assert_eq!(i.params[&name("expires_at")], ParamValue::Timestamp(9000));
    assert_eq!(
        i.params[&name("note")],
        ParamValue::String("amended".into())
    );
    let h = i.history.last().unwrap();
    assert_eq!(h.args[&name("new_amount")], ParamValue::Amount(Amount(250)));
    assert_eq!(h.args[&name("new_expiry")], ParamValue::Timestamp(9000));
    assert!(!h.automatic);
    assert_eq!(
        h.changes,
        vec![
            InstanceChange::Set {
                param: name("amount"),
                value: ParamValue::Amount(Amount(250))
            },
            InstanceChange::Set {
                param: name("expires_at"),
                value: ParamValue::Timestamp(9000)
            },
            InstanceChange::Set {
                param: name("note"),
                value: ParamValue::String("amended".into())
            },
        ]
    );
    // The guard sees the amended amount and the input: 300 > 250 is refused, 250 is paid.
    assert_fails(
        &w.step_with(&[1], "a", "pay", &[("claim", "300")]),
        ErrorCode::InvalidArgument,
        "guard failed",
    );
    assert_eq!(
        w.step_with(&[1], "a", "pay", &[("claim", "250")]),
        TxStatus::Success
    );
    assert_eq!(w.balance(1), 750);
    assert_eq!(w.balance(2), 250);
}

#[test]
fn unknown_missing_duplicate_and_ill_typed_inputs_are_refused() {
    let mut w = amendable();
    let before = w.instance("a");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("new_amount", "250")],
            "new_expiry of transition amend is not given",
        ),
        (
            vec![
                ("new_amount", "250"),
                ("new_expiry", "9000"),
                ("bonus", "1"),
            ],
            "has no input bonus",
        ),
        (
            vec![
                ("new_amount", "250"),
                ("new_amount", "260"),
                ("new_expiry", "9000"),
            ],
            "more than once",
        ),
        (
            vec![("new_amount", "-5"), ("new_expiry", "9000")],
            "not a valid amount",
        ),
        (
            vec![("new_amount", "250"), ("new_expiry", "soon")],
            "not a valid timestamp",
        ),
        // Well-typed, but the guard says no: the new expiry is before the current one.
        (
            vec![("new_amount", "250"), ("new_expiry", "4000")],
            "guard failed",
        ),
    ];
    for (args, needle) in cases {
        let st = w.step_with(&[1, 2], "a", "amend", &args);
        assert_fails(&st, ErrorCode::InvalidArgument, needle);
        assert_eq!(w.instance("a"), before, "{needle}: nothing changed");
    }
    // Inputs are bounded before anything is parsed.
    let many: Vec<(String, String)> = (0..17).map(|i| (format!("x{i}"), "1".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_fails(
        &w.step_with(&[1, 2], "a", "amend", &many),
        ErrorCode::InvalidArgument,
        "at most 16",
    );
    // A transition without inputs takes none.
    let mut w = World::bank_guarantee();
    assert_fails(
        &w.step_with(&[1], "g", "issue", &[("x", "1")]),
        ErrorCode::InvalidArgument,
        "has no input x",
    );
}

// ---- runtime role grants ----

const ITEM: &str = "
id: item
version: 1
title: Workflow item with owner-granted permissions
roles:
  owner: Owns the item and decides who may work on it
  assignee: { description: May update the item, optional: true }
  viewer: { description: May read the item, optional: true }
parameters:
  budget: amount
states:
  - name: open
    initial: true
  - name: closed
    final: true
transitions:
  - name: grant_assignee
    from: open
    to: open
    by: owner
    inputs: { account: account }
    effects:
      - grant: { role: assignee, account: $account }
  - name: revoke_assignee
    from: open
    to: open
    by: owner
    inputs: { account: account }
    effects:
      - revoke: { role: assignee, account: $account }
  - name: add_owner
    from: open
    to: open
    by: owner
    inputs: { account: account }
    effects:
      - grant: { role: owner, account: $account }
  - name: remove_owner
    from: open
    to: open
    by: owner
    inputs: { account: account }
    effects:
      - revoke: { role: owner, account: $account }
  - name: update
    from: open
    to: open
    by: assignee
    inputs: { new_budget: amount }
    effects:
      - set: { param: budget, value: $new_budget }
  - name: pay
    from: open
    to: open
    by: owner
    effects:
      - transfer: { token: usd, from: owner, to: assignee, amount: 10 }
  - name: pay_to
    from: open
    to: open
    by: owner
    inputs: { payee: account }
    effects:
      - require_role: { role: assignee, account: $payee }
      - transfer: { token: usd, from: owner, to: $payee, amount: 10 }
  - name: close
    from: open
    to: closed
    by: owner
    guard: size(instance.parties.assignee) == 0
visibility:
  roles: [owner, assignee, viewer]
";

fn item() -> World {
    let mut w = World::new();
    assert_eq!(w.deploy(ITEM), TxStatus::Success);
    let st = w.create("it", "item", 1, &[("owner", 1)], &[("budget", "500")]);
    assert_eq!(st, TxStatus::Success);
    w
}

#[test]
fn grants_and_revocations_change_who_may_act() {
    use weft_execution::model::InstanceChange;
    let mut w = item();
    let i = w.instance("it");
    assert_eq!(i.parties[&name("owner")], vec![w.acc(1)]);
    assert!(i.parties[&name("assignee")].is_empty());
    // Nobody holds `assignee` yet.
    let update = [("new_budget", "600")];
    assert_fails(
        &w.step_with(&[2], "it", "update", &update),
        ErrorCode::Unauthorized,
        "does not hold",
    );
    let who = w.acc(2).to_string();
    let (status, events) = w.run_by(
        &[1],
        Operation::Transition(Transition {
            instance: name("it"),
            transition: name("grant_assignee"),
            args: vec![(name("account"), who.clone())],
        }),
    );
    assert_eq!(status, TxStatus::Success);
    let granted = events
        .iter()
        .find(|e| e.topic == "workflow.granted")
        .unwrap();
    assert!(granted.accounts.contains(&w.acc(2)));
    assert!(
        granted
            .attributes
            .contains(&("role".into(), "assignee".into()))
    );
    let i = w.instance("it");
    assert_eq!(i.parties[&name("assignee")], vec![w.acc(2)]);
    assert_eq!(
        i.history.last().unwrap().changes,
        vec![InstanceChange::Granted {
            role: name("assignee"),
            account: w.acc(2)
        }]
    );
    assert_eq!(i.history.last().unwrap().by, w.acc(1));
    assert_eq!(
        w.step_with(&[2], "it", "update", &update),
        TxStatus::Success
    );

    // Refusals: a second grant, an unregistered account, a grant by a non-owner.
    let before = w.instance("it");
    assert_fails(
        &w.step_with(&[1], "it", "grant_assignee", &[("account", &who)]),
        ErrorCode::AlreadyExists,
        "already holds role assignee",
    );
    let nobody = Keypair::from_seed([99; 32]).account().to_string();
    assert_fails(
        &w.step_with(&[1], "it", "grant_assignee", &[("account", &nobody)]),
        ErrorCode::UnknownAccount,
        "not registered",
    );
    let three = w.acc(3).to_string();
    assert_fails(
        &w.step_with(&[2], "it", "grant_assignee", &[("account", &three)]),
        ErrorCode::Unauthorized,
        "taken by owner",
    );
    assert_fails(
        &w.step_with(&[1], "it", "grant_assignee", &[("account", "zz")]),
        ErrorCode::InvalidArgument,
        "not a valid account",
    );
    assert_eq!(w.instance("it"), before);

    // Revoked, the assignee can no longer act; revoking again finds nothing.
    assert_eq!(
        w.step_with(&[1], "it", "revoke_assignee", &[("account", &who)]),
        TxStatus::Success
    );
    assert_fails(
        &w.step_with(&[2], "it", "update", &update),
        ErrorCode::Unauthorized,
        "does not hold",
    );
    assert_fails(
        &w.step_with(&[1], "it", "revoke_assignee", &[("account", &who)]),
        ErrorCode::NotFound,
        "does not hold role assignee",
    );
    // The only owner cannot be removed; with a second owner, either may remove the other.
    let one = w.acc(1).to_string();
    assert_fails(
        &w.step_with(&[1], "it", "remove_owner", &[("account", &one)]),
        ErrorCode::InvalidArgument,
        "at least one account",
    );
    assert_eq!(
        w.step_with(&[1], "it", "add_owner", &[("account", &three)]),
        TxStatus::Success
    );
    assert_eq!(
        w.step_with(&[3], "it", "remove_owner", &[("account", &one)]),
        TxStatus::Success
    );
    assert_eq!(w.instance("it").parties[&name("owner")], vec![w.acc(3)]);
    assert_fails(
        &w.step(&[1], "it", "close"),
        ErrorCode::Unauthorized,
        "owner",
    );
    // The guard reads the bindings: closed only once no assignee is left.
    assert_eq!(w.step(&[3], "it", "close"), TxStatus::Success);
    let done = w.instance("it");
    let kinds: Vec<&str> = done.history.iter().map(|h| h.transition.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "grant_assignee",
            "update",
            "revoke_assignee",
            "add_owner",
            "remove_owner",
            "close"
        ]
    );
}

#[test]
fn a_role_with_several_accounts_is_never_guessed() {
    let mut w = item();
    for who in [2, 3] {
        let acc = w.acc(who).to_string();
        let st = w.step_with(&[1], "it", "grant_assignee", &[("account", &acc)]);
        assert_eq!(st, TxStatus::Success);
    }
    assert_eq!(w.instance("it").parties[&name("assignee")], {
        let mut v = vec![w.acc(2), w.acc(3)];
        v.sort();
        v
    });
    // `to: assignee` with two assignees, neither of whom is the actor: ambiguous.
    assert_fails(
        &w.step(&[1], "it", "pay"),
        ErrorCode::InvalidArgument,
        "ambiguous",
    );
    // Named explicitly, and checked to hold the role, the payee is unambiguous.
    let three = w.acc(3).to_string();
    assert_eq!(
        w.step_with(&[1], "it", "pay_to", &[("payee", &three)]),
        TxStatus::Success
    );
    assert_eq!(w.balance(3), 10);
    let four = w.acc(4).to_string();
    assert_fails(
        &w.step_with(&[1], "it", "pay_to", &[("payee", &four)]),
        ErrorCode::Unauthorized,
        "does not hold role assignee",
    );
    assert_eq!(w.balance(4), 0);
    // Either assignee may update: the role holds both.
    assert_eq!(
        w.step_with(&[2], "it", "update", &[("new_budget", "1")]),
        TxStatus::Success
    );
    assert_eq!(
        w.step_with(&[3], "it", "update", &[("new_budget", "2")]),
        TxStatus::Success
    );
    // The guard `size(instance.parties.assignee) == 0` holds only once both are revoked.
    assert_fails(
        &w.step(&[1], "it", "close"),
        ErrorCode::InvalidArgument,
        "guard failed",
    );
}

#[test]
fn creation_binds_several_accounts_and_refuses_bad_bindings() {
    let mut w = World::new();
    assert_eq!(w.deploy(ITEM), TxStatus::Success);
    let st = w.create(
        "two",
        "item",
        1,
        &[("owner", 1), ("owner", 3), ("viewer", 4)],
        &[("budget", "1")],
    );
    assert_eq!(st, TxStatus::Success);
    assert_eq!(w.instance("two").parties[&name("owner")].len(), 2);
    let st = w.create(
        "dup",
        "item",
        1,
        &[("owner", 1), ("owner", 1)],
        &[("budget", "1")],
    );
    assert_fails(&st, ErrorCode::InvalidArgument, "twice");
    let st = w.create("none", "item", 1, &[("viewer", 1)], &[("budget", "1")]);
    assert_fails(&st, ErrorCode::InvalidArgument, "owner is not bound");
}

// ---- open roles, once per account, counters, automatic transitions ----

const PETITION: &str = "
id: petition
version: 1
title: Citizens' initiative
roles:
  organizer: Drafts the bill and runs the campaign
  signer: { description: A citizen verified by the identity authority, open_to: citizen }
  clerk: { description: Checks the petition at the House, optional: true }
parameters:
  threshold: int
  title: string
states:
  - name: draft
    initial: true
  - name: collecting
  - name: submitted
  - name: accepted
    final: true
  - name: rejected
    final: true
  - name: withdrawn
    final: true
transitions:
  - name: retitle
    from: draft
    to: draft
    by: organizer
    inputs: { new_title: string }
    effects:
      - set: { param: title, value: $new_title }
  - name: open
    from: draft
    to: collecting
    by: organizer
  - name: sign
    from: collecting
    to: collecting
    by: signer
    once_per_account: true
  - name: submit
    from: collecting
    to: submitted
    auto: true
    guard: count.sign >= threshold
  - name: assign_clerk
    from: submitted
    to: submitted
    by: organizer
    inputs: { clerk: account }
    effects:
      - grant: { role: clerk, account: $clerk }
  - name: accept
    from: submitted
    to: accepted
    by: clerk
  - name: reject
    from: submitted
    to: rejected
    by: clerk
  - name: withdraw
    from: [draft, collecting]
    to: withdrawn
    by: organizer
visibility:
  public: true
";

fn petition(threshold: &str) -> World {
    let mut w = World::new();
    assert_eq!(w.deploy(PETITION), TxStatus::Success);
    let st = w.create(
        "p",
        "petition",
        1,
        &[("organizer", 0)],
        &[("threshold", threshold), ("title", "Clean rivers")],
    );
    assert_eq!(st, TxStatus::Success);
    assert_eq!(w.step(&[0], "p", "open"), TxStatus::Success);
    w
}

#[test]
fn open_role_signs_once_per_account_and_the_threshold_submits_automatically() {
    let mut w = petition("3");
    // An account without the ledger role `citizen` is not a signer.
    assert_fails(
        &w.step(&[OUTSIDER], "p", "sign"),
        ErrorCode::Unauthorized,
        "does not hold",
    );
    assert_eq!(w.step(&[2], "p", "sign"), TxStatus::Success);
    // The same citizen signing twice: refused, nothing changes.
    let before = w.instance("p");
    assert_fails(&w.step(&[2], "p", "sign"), ErrorCode::AlreadyExists, "once");
    assert_eq!(w.instance("p"), before);
    assert_eq!(w.step(&[3], "p", "sign"), TxStatus::Success);
    assert_eq!(w.instance("p").state, name("collecting"));
    // Nobody takes an automatic transition.
    assert_fails(
        &w.step(&[0], "p", "submit"),
        ErrorCode::InvalidArgument,
        "automatic",
    );
    let (status, events) = w.run_by(
        &[4],
        Operation::Transition(Transition {
            instance: name("p"),
            transition: name("sign"),
            args: Vec::new(),
        }),
    );
    assert_eq!(status, TxStatus::Success);
    let i = w.instance("p");
    assert_eq!(i.state, name("submitted"));
    assert_eq!(i.takers[&name("sign")].len(), 3);
    let last = i.history.last().unwrap();
    assert_eq!(
        (
            last.transition.as_str(),
            last.from.as_str(),
            last.to.as_str()
        ),
        ("submit", "collecting", "submitted")
    );
    assert!(last.automatic);
    assert_eq!(last.by, w.acc(4), "the signer whose step triggered it");
    let steps: Vec<(&str, bool)> = events
        .iter()
        .filter(|e| e.topic == "workflow.transition")
        .map(|e| {
            let t = e
                .attributes
                .iter()
                .find(|(k, _)| k == "transition")
                .unwrap();
            let auto = e.attributes.contains(&("automatic".into(), "true".into()));
            (t.1.as_str(), auto)
        })
        .collect();
    assert_eq!(steps, [("sign", false), ("submit", true)]);
    // Signing is over once submitted.
    assert_fails(
        &w.step(&[5], "p", "sign"),
        ErrorCode::InvalidArgument,
        "not allowed from state submitted",
    );
    // The organizer grants the clerk, who accepts.
    let clerk = w.acc(1).to_string();
    assert_eq!(
        w.step_with(&[0], "p", "assign_clerk", &[("clerk", &clerk)]),
        TxStatus::Success
    );
    assert_eq!(w.step(&[1], "p", "accept"), TxStatus::Success);
    assert_eq!(w.instance("p").state, name("accepted"));
}

#[test]
fn open_roles_are_not_bound_and_must_name_a_defined_ledger_role() {
    let mut w = World::new();
    assert_eq!(w.deploy(PETITION), TxStatus::Success);
    let st = w.create(
        "p",
        "petition",
        1,
        &[("organizer", 0), ("signer", 2)],
        &[("threshold", "1"), ("title", "x")],
    );
    assert_fails(&st, ErrorCode::InvalidArgument, "open to every holder");
    let typo = PETITION
        .replace("open_to: citizen", "open_to: citizens")
        .replace("version: 1", "version: 2");
    assert_fails(&w.deploy(&typo), ErrorCode::InvalidArgument, "not defined");
    assert!(
        !w.state
            .contains_key(&StateKey::Template(name("petition"), 2).to_bytes())
    );
}

const PING_PONG: &str = "
id: ping-pong
version: 1
title: Guarded automatic transitions that would go on for ever
roles:
  player: Starts and stops
states:
  - name: idle
    initial: true
  - name: a
  - name: b
  - name: stopped
    final: true
transitions:
  - name: start
    from: idle
    to: a
    by: player
  - name: ping
    from: a
    to: b
    auto: true
    guard: now >= 0
  - name: pong
    from: b
    to: a
    auto: true
    guard: state == 'b'
  - name: stop
    from: [a, b]
    to: stopped
    by: player
visibility:
  roles: [player]
";

#[test]
fn automatic_steps_per_transaction_are_bounded() {
    let mut w = World::new();
    assert_eq!(w.deploy(PING_PONG), TxStatus::Success);
    assert_eq!(
        w.create("pp", "ping-pong", 1, &[("player", 0)], &[]),
        TxStatus::Success
    );
    assert_eq!(w.step(&[0], "pp", "start"), TxStatus::Success);
    let i = w.instance("pp");
    // `start`, then exactly eight automatic steps: ping, pong, ping, … ending in `a`.
    assert_eq!(i.history.len(), 9);
    assert!(i.history[1..].iter().all(|h| h.automatic));
    let names: Vec<&str> = i.history[1..]
        .iter()
        .map(|h| h.transition.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ping", "pong", "ping", "pong", "ping", "pong", "ping", "pong"
        ]
    );
    assert_eq!(i.state, name("a"));
    // The next transaction goes on from there, again bounded.
    assert_eq!(w.step(&[0], "pp", "stop"), TxStatus::Success);
    assert_eq!(w.instance("pp").state, name("stopped"));
}

const AUTO_PAYOUT: &str = "
id: auto-payout
version: 1
title: An automatic transition whose effect cannot apply
roles:
  payer: Pays when the work is confirmed
  payee: Is paid
parameters:
  price: amount
states:
  - name: working
    initial: true
  - name: confirmed
  - name: paid
    final: true
transitions:
  - name: confirm
    from: working
    to: confirmed
    by: payer
  - name: settle
    from: confirmed
    to: paid
    auto: true
    effects:
      - transfer: { token: usd, from: payer, to: payee, amount: $price }
visibility:
  roles: [payer, payee]
";

#[test]
fn an_automatic_transition_is_part_of_the_transaction() {
    let mut w = World::new();
    assert_eq!(w.deploy(AUTO_PAYOUT), TxStatus::Success);
    let parties = [("payer", 1), ("payee", 2)];
    assert_eq!(
        w.create("big", "auto-payout", 1, &parties, &[("price", "5000")]),
        TxStatus::Success
    );
    // The automatic payment cannot be made, so the confirmation is refused with it.
    let before = w.instance("big");
    assert_fails(
        &w.step(&[1], "big", "confirm"),
        ErrorCode::InsufficientBalance,
        "5000",
    );
    assert_eq!(w.instance("big"), before);
    assert_eq!(
        w.create("ok", "auto-payout", 1, &parties, &[("price", "400")]),
        TxStatus::Success
    );
    assert_eq!(w.step(&[1], "ok", "confirm"), TxStatus::Success);
    let i = w.instance("ok");
    assert_eq!(i.state, name("paid"));
    assert_eq!(w.balance(2), 400);
    assert!(i.history[1].automatic);
}

/// A template's declared (name, from, to) triples, its automatic transitions and the
/// names of all its transitions.
struct Graph {
    triples: BTreeSet<(String, String, String)>,
    auto: BTreeSet<String>,
    names: Vec<String>,
}

fn graph(source: &str) -> Graph {
    let t = parse_yaml(source).unwrap();
    let mut triples = BTreeSet::new();
    for tr in &t.transitions {
        for f in &tr.from {
            triples.insert((tr.name.to_string(), f.to_string(), tr.to.to_string()));
        }
    }
    let auto = t
        .transitions
        .iter()
        .filter(|tr| tr.auto)
        .map(|tr| tr.name.to_string())
        .collect();
    let names = t.transitions.iter().map(|tr| tr.name.to_string()).collect();
    Graph {
        triples,
        auto,
        names,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Random attempts on the petition — open roles, inputs, grants, once-per-account,
    /// counters and an automatic transition — never leave its transition graph, never let
    /// an account sign twice or a non-citizen sign, submit exactly when the threshold is
    /// reached, and a refused attempt changes nothing.
    #[test]
    fn petition_never_leaves_its_graph(
        threshold in 1i64..5,
        attempts in prop::collection::vec((0usize..9, 0usize..7, 0usize..7), 1..24)
    ) {
        let Graph { triples, auto, names } = graph(PETITION);
        let mut w = petition(&threshold.to_string());
        for (t, who, arg) in attempts {
            let transition = names.get(t).cloned().unwrap_or_else(|| "bogus".into());
            let arg_account = w.acc(arg).to_string();
            let title = format!("title {arg}");
            let args: Vec<(&str, &str)> = match transition.as_str() {
                "retitle" => vec![("new_title", title.as_str())],
                "assign_clerk" => vec![("clerk", arg_account.as_str())],
                // Sometimes an input nobody declared.
                _ if arg == 0 => vec![("extra", "1")],
                _ => vec![],
            };
            let before = w.instance("p");
            let status = w.step_with(&[who], "p", &transition, &args);
            let after = w.instance("p");
            if status == TxStatus::Success {
                prop_assert!(after.history.len() > before.history.len());
            } else {
                prop_assert_eq!(&after, &before);
            }
        }
        let i = w.instance("p");
        let mut state = "collecting".to_string();
        let mut signers = BTreeSet::new();
        for h in &i.history[1..] {
            let triple = (h.transition.to_string(), h.from.to_string(), h.to.to_string());
            prop_assert!(triples.contains(&triple), "undeclared step {:?}", triple);
            prop_assert_eq!(h.from.as_str(), state.as_str());
            prop_assert_eq!(h.automatic, auto.contains(h.transition.as_str()));
            if h.transition.as_str() == "sign" {
                prop_assert!(signers.insert(h.by), "an account signed twice");
                prop_assert!(CITIZENS.iter().any(|c| w.acc(*c) == h.by));
            }
            if h.transition.as_str() == "submit" {
                prop_assert_eq!(signers.len() as i64, threshold);
            }
            state = h.to.to_string();
        }
        prop_assert_eq!(i.state.as_str(), state.as_str());
        if (signers.len() as i64) >= threshold {
            prop_assert_ne!(i.state.as_str(), "collecting");
        }
        prop_assert_eq!(
            i.takers.get(&name("sign")).cloned().unwrap_or_default(),
            signers
        );
    }
}

// ---- running totals (`add`) and linked instances (`instance` parameters) ----

const BUDGET: &str = "
id: budget
version: 1
title: A budget line of a project, with a running total
roles:
  manager: Records disbursements
parameters:
  project: instance
  limit: amount
  disbursed: amount
  entries: int
states:
  - name: open
    initial: true
  - name: closed
    final: true
transitions:
  - name: disburse
    from: open
    to: open
    by: manager
    inputs: { amount: amount }
    guard: disbursed + amount <= limit
    effects:
      - add: { param: disbursed, value: $amount }
      - add: { param: entries, value: 1 }
  - name: correct
    from: open
    to: open
    by: manager
    effects:
      - add: { param: entries, value: -1 }
  - name: top_up
    from: open
    to: open
    by: manager
    effects:
      - add: { param: disbursed, value: 1 }
  - name: close
    from: open
    to: closed
    by: manager
visibility:
  roles: [manager]
";

#[test]
fn add_keeps_a_checked_running_total_and_instances_link_to_instances() {
    use weft_execution::model::ParamValue;
    let mut w = World::new();
    assert_eq!(w.deploy(ITEM), TxStatus::Success);
    assert_eq!(
        w.create("proj", "item", 1, &[("owner", 1)], &[("budget", "1")]),
        TxStatus::Success
    );
    assert_eq!(w.deploy(BUDGET), TxStatus::Success);
    let params = |project: &'static str, disbursed: &'static str| {
        [
            ("project", project),
            ("limit", "1000"),
            ("disbursed", disbursed),
            ("entries", "0"),
        ]
    };
    // The link must name an existing instance.
    let st = w.create("b0", "budget", 1, &[("manager", 1)], &params("nope", "0"));
    assert_fails(
        &st,
        ErrorCode::InvalidArgument,
        "instance `nope` does not exist",
    );
    let st = w.create("b", "budget", 1, &[("manager", 1)], &params("proj", "0"));
    assert_eq!(st, TxStatus::Success);
    assert_eq!(
        w.instance("b").params[&name("project")],
        ParamValue::Instance(name("proj"))
    );
    for amount in ["400", "600"] {
        let st = w.step_with(&[1], "b", "disburse", &[("amount", amount)]);
        assert_eq!(st, TxStatus::Success);
    }
    let i = w.instance("b");
    assert_eq!(
        i.params[&name("disbursed")],
        ParamValue::Amount(Amount(1000))
    );
    assert_eq!(i.params[&name("entries")], ParamValue::Int(2));
    // Over the limit: the guard sees the running total.
    assert_fails(
        &w.step_with(&[1], "b", "disburse", &[("amount", "1")]),
        ErrorCode::InvalidArgument,
        "guard failed",
    );
    assert_eq!(w.step(&[1], "b", "correct"), TxStatus::Success);
    assert_eq!(w.instance("b").params[&name("entries")], ParamValue::Int(1));

    // Overflow refuses the transition and changes nothing.
    let max = u128::MAX.to_string();
    let max: &'static str = Box::leak(max.into_boxed_str());
    let st = w.create("full", "budget", 1, &[("manager", 1)], &params("proj", max));
    assert_eq!(st, TxStatus::Success);
    let before = w.instance("full");
    assert_fails(
        &w.step(&[1], "full", "top_up"),
        ErrorCode::Overflow,
        "overflows",
    );
    assert_eq!(w.instance("full"), before);
}

#[test]
fn public_lending_grants_the_client_and_pays_only_identified_accounts() {
    let mut w = World::new();
    let source = include_str!("../../../templates/public-lending.yaml");
    assert_eq!(w.deploy(source), TxStatus::Success);
    let parties = [("bank", 1), ("identifier", 3), ("client", 0)];
    let params = [
        ("currency", "usd"),
        ("project", "p"),
        ("client_entity", "c"),
        ("credit_limit", "500"),
        ("disbursed", "0"),
    ];
    assert_eq!(
        w.create("l", "public-lending", 1, &parties, &params),
        TxStatus::Success
    );
    // The client is identified by the approval itself (`grant` to the account of a role).
    assert_eq!(w.step(&[1, 3], "l", "approve"), TxStatus::Success);
    assert_eq!(w.instance("l").parties[&name("identified")], vec![w.acc(0)]);
    assert_eq!(
        w.step_with(&[1], "l", "disburse", &[("amount", "300")]),
        TxStatus::Success
    );
    let pay = |who: usize, w: &World| {
        [
            ("contractor", w.acc(who).to_string()),
            ("amount", "100".to_owned()),
            ("invoice", "nf-1".to_owned()),
        ]
    };
    let args = pay(5, &w);
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_fails(
        &w.step_with(&[0], "l", "pay_contractor", &args),
        ErrorCode::Unauthorized,
        "does not hold role identified",
    );
    let five = w.acc(5).to_string();
    let identify = [("account", five.as_str()), ("entity", "CNPJ 1")];
    assert_eq!(
        w.step_with(&[3], "l", "identify", &identify),
        TxStatus::Success
    );
    assert_eq!(
        w.step_with(&[0], "l", "pay_contractor", &args),
        TxStatus::Success
    );
    assert_eq!((w.balance(0), w.balance(5)), (200, 100));
    // Redemption: the identified contractor (one of two identified accounts) pays the bank.
    assert_eq!(
        w.step_with(&[5], "l", "redeem", &[("amount", "100")]),
        TxStatus::Success
    );
    assert_eq!((w.balance(1), w.balance(5)), (800, 0));
    assert_fails(
        &w.step_with(&[1], "l", "disburse", &[("amount", "201")]),
        ErrorCode::InvalidArgument,
        "guard failed",
    );
}
