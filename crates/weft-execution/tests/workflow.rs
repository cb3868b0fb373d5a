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
    /// applicant, guarantor, beneficiary, observer, stranger (registered, bound to nothing).
    people: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
}

impl World {
    fn new() -> Self {
        let people: Vec<Keypair> = (1..=5u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut roles = BTreeMap::new();
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
                .map(|p| GenesisAccount {
                    account: p.account(),
                    organization: name("org"),
                    roles: vec![name("participant")],
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
        self.run(
            signers,
            Operation::Transition(Transition {
                instance: name(instance),
                transition: name(transition),
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
    assert_eq!(i.parties[&name("beneficiary")], w.acc(2));
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
        "not bound",
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
