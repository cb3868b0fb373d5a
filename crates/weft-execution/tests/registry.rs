//! The key registry (UC-28/29): binding, endorsement thresholds, rotation, revocation, the
//! transparency log that records every event, and every refusal leaving state unchanged.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{
    Keypair, log_consistency_proof, log_inclusion_proof, sign_transaction, verify_log_consistency,
    verify_log_inclusion,
};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    registry::{
        BindingStatus, LogEvent, LogHead, NameRecord, log_entry, log_head, log_leaves, name_record,
    },
};
use weft_types::{
    AccountId, BindName, DnsName, EndorseBinding, ErrorCode, Event, Genesis, GenesisAccount,
    GenesisOrganization, GenesisValidator, Name, Operation, RevokeBinding, RotateBinding,
    Transaction, TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn dns(s: &str) -> DnsName {
    DnsName::new(s).unwrap()
}

fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
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
    nonces: BTreeMap<AccountId, u64>,
    admin: Keypair,
    owner: Keypair,
    other: Keypair,
    endorsers: Vec<Keypair>,
}

impl World {
    fn new() -> Self {
        let admin = kp(1);
        let owner = kp(2);
        let other = kp(3);
        let endorsers: Vec<Keypair> = (10..14).map(kp).collect();
        let mut roles = BTreeMap::new();
        roles.insert(name("admin"), vec!["*".to_owned()]);
        roles.insert(
            name("member"),
            vec!["registry.bind".to_owned(), "registry.revoke".to_owned()],
        );
        roles.insert(
            name("endorser"),
            vec!["registry.endorse".to_owned(), "registry.revoke".to_owned()],
        );
        let account = |k: &Keypair, role: &str| GenesisAccount {
            account: k.account(),
            organization: name("org"),
            roles: vec![name(role)],
        };
        let mut accounts = vec![
            account(&admin, "admin"),
            account(&owner, "member"),
            account(&other, "member"),
        ];
        accounts.extend(endorsers.iter().map(|e| account(e, "endorser")));
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: admin.account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts,
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
            nonces: BTreeMap::new(),
            admin,
            owner,
            other,
            endorsers,
        }
    }

    fn run(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
        let signer = signers[0].account();
        let nonce = *self.nonces.get(&signer).unwrap_or(&0);
        let tx = sign_transaction(
            Transaction {
                chain_id: name("t"),
                signer,
                nonce,
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            signers,
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: 1_800_000_000_000 + self.height * 1000,
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    fn ok(&mut self, signers: &[&Keypair], op: Operation) -> Vec<Event> {
        let (status, events) = self.run(signers, vec![op]);
        assert_eq!(status, TxStatus::Success);
        events
    }

    fn refused(&mut self, signers: &[&Keypair], op: Operation, expected: ErrorCode) {
        let ignore = [
            StateKey::Height.to_bytes(),
            StateKey::Nonce(signers[0].account()).to_bytes(),
        ];
        let strip = |s: &State| -> State {
            s.iter()
                .filter(|(k, _)| !ignore.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let before = strip(&self.state);
        let (status, events) = self.run(signers, vec![op]);
        match status {
            TxStatus::Failed { code, message, .. } => {
                assert_eq!(code, expected, "refused for another reason: {message}")
            }
            TxStatus::Success => panic!("expected {expected}, but it succeeded"),
        }
        assert!(events.is_empty());
        assert_eq!(strip(&self.state), before, "a refusal changed the state");
    }

    fn record(&self, n: &str) -> NameRecord {
        name_record(&self.state, &dns(n)).unwrap().unwrap()
    }

    fn head(&self) -> LogHead {
        log_head(&self.state).unwrap()
    }

    fn e(&self, i: usize) -> Keypair {
        self.endorsers[i].clone()
    }
}

fn bind(n: &str, key: &Keypair, k: u8) -> Operation {
    Operation::BindName(BindName {
        name: dns(n),
        public_key: key.account(),
        endorsers_required: k,
    })
}

fn endorse(n: &str, key: &Keypair) -> Operation {
    Operation::EndorseBinding(EndorseBinding {
        name: dns(n),
        public_key: key.account(),
    })
}

fn rotate(n: &str, key: &Keypair) -> Operation {
    Operation::RotateBinding(RotateBinding {
        name: dns(n),
        public_key: key.account(),
    })
}

fn revoke(n: &str, key: &Keypair) -> Operation {
    Operation::RevokeBinding(RevokeBinding {
        name: dns(n),
        public_key: key.account(),
        reason: "key compromise".into(),
    })
}

const WWW: &str = "www.example.com";

#[test]
fn a_binding_goes_live_with_k_distinct_endorsers_and_is_logged() {
    let mut w = World::new();
    let (o, key) = (w.owner.clone(), kp(100));
    assert_eq!(w.head(), LogHead::empty());
    w.ok(&[&o], bind(WWW, &key, 2));
    let r = w.record(WWW);
    assert_eq!(r.owner, o.account());
    assert_eq!(r.pending().unwrap().public_key, key.account());
    assert!(r.live().is_none());
    assert_eq!(w.head().size, 1);

    let e0 = w.e(0);
    w.ok(&[&e0], endorse(WWW, &key));
    // One endorsement of two: still pending, nothing new in the log.
    assert!(w.record(WWW).live().is_none());
    assert_eq!(w.head().size, 1);
    // The same endorser twice does not count twice.
    w.refused(&[&e0], endorse(WWW, &key), ErrorCode::AlreadyExists);

    let e1 = w.e(1);
    let events = w.ok(&[&e1], endorse(WWW, &key));
    assert!(events.iter().any(|e| e.topic == "registry.binding_live"));
    let r = w.record(WWW);
    let live = r.live().unwrap();
    assert_eq!(live.public_key, key.account());
    assert_eq!(live.endorsers, vec![e0.account(), e1.account()]);
    assert_eq!(live.status, BindingStatus::Live);
    assert_eq!(w.head().size, 2);
    let entry = log_entry(&w.state, 1).unwrap().unwrap();
    assert_eq!(entry.event, LogEvent::Live);
    assert_eq!(entry.endorsers, vec![e0.account(), e1.account()]);

    // Once live, a name cannot be bound again: only rotated.
    w.refused(&[&o], bind(WWW, &kp(101), 2), ErrorCode::AlreadyExists);
    // And there is nothing left to endorse.
    let e2 = w.e(2);
    w.refused(&[&e2], endorse(WWW, &key), ErrorCode::NotFound);
}

#[test]
fn forged_and_misdirected_endorsements_are_refused() {
    let mut w = World::new();
    let (o, other, key) = (w.owner.clone(), w.other.clone(), kp(100));
    w.ok(&[&o], bind(WWW, &key, 1));
    // Signed by an account that is not an endorser.
    w.refused(&[&other], endorse(WWW, &key), ErrorCode::Unauthorized);
    // The owner may hold the endorser role and still not endorse its own name.
    let e0 = w.e(0);
    w.ok(
        &[&w.admin.clone()],
        Operation::AssignRole(weft_types::AssignRole {
            account: o.account(),
            role: name("endorser"),
        }),
    );
    w.refused(&[&o], endorse(WWW, &key), ErrorCode::Unauthorized);
    // An endorsement of another key than the proposal's.
    w.refused(&[&e0], endorse(WWW, &kp(101)), ErrorCode::InvalidArgument);
    // Of a name nobody proposed.
    w.refused(
        &[&e0],
        endorse("nothing.example", &key),
        ErrorCode::NotFound,
    );
    assert!(w.record(WWW).live().is_none());
    w.ok(&[&e0], endorse(WWW, &key));
    assert!(w.record(WWW).live().is_some());
}

#[test]
fn an_endorser_who_lost_the_role_no_longer_counts() {
    let mut w = World::new();
    let (o, key, admin) = (w.owner.clone(), kp(100), w.admin.clone());
    w.ok(&[&o], bind(WWW, &key, 2));
    let (e0, e1) = (w.e(0), w.e(1));
    w.ok(&[&e0], endorse(WWW, &key));
    w.ok(
        &[&admin],
        Operation::RevokeRole(weft_types::RevokeRole {
            account: e0.account(),
            role: name("endorser"),
        }),
    );
    w.ok(&[&e1], endorse(WWW, &key));
    assert!(
        w.record(WWW).live().is_none(),
        "one current endorser of two"
    );
    let e2 = w.e(2);
    w.ok(&[&e2], endorse(WWW, &key));
    assert!(w.record(WWW).live().is_some());
}

#[test]
fn bind_refuses_bad_input_and_other_owners() {
    let mut w = World::new();
    let (o, other, key) = (w.owner.clone(), w.other.clone(), kp(100));
    w.refused(&[&o], bind(WWW, &key, 0), ErrorCode::InvalidArgument);
    w.refused(&[&o], bind(WWW, &key, 17), ErrorCode::InvalidArgument);
    let weak = Operation::BindName(BindName {
        name: dns(WWW),
        public_key: AccountId([0; 32]),
        endorsers_required: 1,
    });
    w.refused(&[&o], weak, ErrorCode::InvalidArgument);
    // An endorser has no registry.bind.
    let e0 = w.e(0);
    w.refused(&[&e0], bind(WWW, &key, 1), ErrorCode::Unauthorized);
    w.ok(&[&o], bind(WWW, &key, 2));
    // Someone else cannot propose for the name, nor can the owner queue a second proposal.
    w.refused(&[&other], bind(WWW, &kp(101), 2), ErrorCode::Unauthorized);
    w.refused(&[&o], bind(WWW, &kp(101), 2), ErrorCode::AlreadyExists);
    // A malformed name never decodes from JSON.
    assert!(
        serde_json::from_str::<BindName>(
            r#"{"name":"WWW.example.com","public_key":"00","endorsers_required":1}"#
        )
        .is_err()
    );
}

#[test]
fn rotation_supersedes_the_old_key_only_when_the_new_one_is_endorsed() {
    let mut w = World::new();
    let (o, k1, k2) = (w.owner.clone(), kp(100), kp(101));
    let (e0, e1, e2) = (w.e(0), w.e(1), w.e(2));
    w.refused(&[&o], rotate(WWW, &k2), ErrorCode::NotFound);
    w.ok(&[&o], bind(WWW, &k1, 2));
    // A pending name has nothing live to rotate.
    w.refused(&[&o], rotate(WWW, &k2), ErrorCode::NotFound);
    w.ok(&[&e0], endorse(WWW, &k1));
    w.ok(&[&e1], endorse(WWW, &k1));
    let other = w.other.clone();
    w.refused(&[&other], rotate(WWW, &k2), ErrorCode::Unauthorized);
    w.refused(&[&o], rotate(WWW, &k1), ErrorCode::InvalidArgument);
    w.ok(&[&o], rotate(WWW, &k2));
    w.ok(&[&e2], endorse(WWW, &k2));
    // Still the old key until the rotation has k endorsements.
    assert_eq!(w.record(WWW).live().unwrap().public_key, k1.account());
    w.ok(&[&e0], endorse(WWW, &k2));
    let r = w.record(WWW);
    assert_eq!(r.live().unwrap().public_key, k2.account());
    assert_eq!(r.bindings[0].status, BindingStatus::Superseded);
    assert_eq!(r.bindings.len(), 2);
    // proposed, live, proposed, superseded, live
    let events: Vec<LogEvent> = (0..w.head().size)
        .map(|i| log_entry(&w.state, i).unwrap().unwrap().event)
        .collect();
    assert_eq!(
        events,
        vec![
            LogEvent::Proposed,
            LogEvent::Live,
            LogEvent::Proposed,
            LogEvent::Superseded,
            LogEvent::Live
        ]
    );
    // A superseded key never comes back.
    w.refused(&[&o], revoke(WWW, &k1), ErrorCode::NotFound);
}

#[test]
fn revocation_by_the_owner_or_by_k_endorsers() {
    let mut w = World::new();
    let (o, k1, k2) = (w.owner.clone(), kp(100), kp(101));
    let (e0, e1, e2) = (w.e(0), w.e(1), w.e(2));
    w.ok(&[&o], bind(WWW, &k1, 2));
    w.ok(&[&e0], endorse(WWW, &k1));
    w.ok(&[&e1], endorse(WWW, &k1));
    // One endorser alone, or with a non-endorser co-signing, is not enough.
    w.refused(&[&e2], revoke(WWW, &k1), ErrorCode::Unauthorized);
    let other = w.other.clone();
    w.refused(&[&e2, &other], revoke(WWW, &k1), ErrorCode::Unauthorized);
    // Another member is not the owner.
    w.refused(&[&other], revoke(WWW, &k1), ErrorCode::Unauthorized);
    w.refused(&[&o], revoke(WWW, &k2), ErrorCode::NotFound);
    w.ok(&[&e2, &e0], revoke(WWW, &k1));
    let r = w.record(WWW);
    assert!(r.live().is_none());
    assert_eq!(r.bindings[0].status, BindingStatus::Revoked);
    let mut by = vec![e0.account(), e2.account()];
    by.sort();
    assert_eq!(r.bindings[0].revoked_by, by);
    // A revoked key is never bound again; a new key is, by the owner, without lowering k.
    w.refused(&[&o], bind(WWW, &k1, 2), ErrorCode::InvalidArgument);
    w.refused(&[&o], bind(WWW, &k2, 1), ErrorCode::InvalidArgument);
    w.ok(&[&o], bind(WWW, &k2, 3));
    assert_eq!(w.record(WWW).endorsers_required, 3);
    // The owner revokes its pending proposal.
    w.ok(&[&o], revoke(WWW, &k2));
    assert!(w.record(WWW).pending().is_none());
    w.refused(&[&e0], endorse(WWW, &k2), ErrorCode::NotFound);
}

#[test]
fn the_log_proves_inclusion_and_consistency_of_every_event() {
    let mut w = World::new();
    let o = w.owner.clone();
    let (e0, e1) = (w.e(0), w.e(1));
    let mut heads = vec![w.head()];
    for (i, n) in ["a.example", "b.example", "c.example"].iter().enumerate() {
        let key = kp(100 + i as u8);
        w.ok(&[&o], bind(n, &key, 2));
        heads.push(w.head());
        w.ok(&[&e0], endorse(n, &key));
        w.ok(&[&e1], endorse(n, &key));
        heads.push(w.head());
    }
    let last = w.head();
    assert_eq!(last.size, 6);
    let leaves = log_leaves(&w.state, last.size).unwrap();
    for head in heads.iter().skip(1) {
        for i in 0..head.size {
            let proof = log_inclusion_proof(&leaves, i, head.size).unwrap();
            verify_log_inclusion(&head.root, head.size, &leaves[i as usize], i, &proof).unwrap();
        }
        let proof = log_consistency_proof(&leaves, head.size, last.size).unwrap();
        verify_log_consistency(&head.root, head.size, &last.root, last.size, &proof).unwrap();
    }
    // Tampering with one stored entry changes what it proves.
    let mut forged = log_entry(&w.state, 1).unwrap().unwrap();
    forged.public_key = kp(99).account();
    let proof = log_inclusion_proof(&leaves, 1, last.size).unwrap();
    assert!(verify_log_inclusion(&last.root, last.size, &forged.to_leaf(), 1, &proof).is_err());
}

#[derive(Clone, Debug)]
enum Step {
    Bind(u8, u8, u8),
    Endorse(u8, u8, u8),
    Rotate(u8, u8),
    Revoke(u8, u8, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..2u8, 0..6u8, 1..4u8).prop_map(|(n, k, r)| Step::Bind(n, k, r)),
        (0..2u8, 0..6u8, 0..5u8).prop_map(|(n, k, e)| Step::Endorse(n, k, e)),
        (0..2u8, 0..6u8).prop_map(|(n, k)| Step::Rotate(n, k)),
        (0..2u8, 0..6u8, any::<bool>()).prop_map(|(n, k, by_owner)| Step::Revoke(n, k, by_owner)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever happens, a name never has two live (or two pending) bindings, a live
    /// binding has at least k distinct endorsers, and the log head is the root of its leaves.
    #[test]
    fn never_two_live_bindings_and_live_only_with_k_endorsers(
        steps in proptest::collection::vec(step(), 1..24)
    ) {
        let mut w = World::new();
        let names = ["a.example", "b.example"];
        let o = w.owner.clone();
        for s in steps {
            match s {
                Step::Bind(n, k, r) => { w.run(&[&o], vec![bind(names[n as usize], &kp(100 + k), r)]); }
                Step::Endorse(n, k, e) => {
                    // Endorser index 4 is the owner: never counted.
                    let who = if e < 4 { w.e(e as usize) } else { o.clone() };
                    w.run(&[&who], vec![endorse(names[n as usize], &kp(100 + k))]);
                }
                Step::Rotate(n, k) => { w.run(&[&o], vec![rotate(names[n as usize], &kp(100 + k))]); }
                Step::Revoke(n, k, by_owner) => {
                    let (a, b) = (w.e(0), w.e(1));
                    let signers: Vec<&Keypair> = if by_owner { vec![&o] } else { vec![&a, &b] };
                    w.run(&signers, vec![revoke(names[n as usize], &kp(100 + k))]);
                }
            }
            for n in names {
                let Some(r) = name_record(&w.state, &dns(n)).unwrap() else { continue };
                let live = r.bindings.iter().filter(|b| b.status == BindingStatus::Live).count();
                let pending = r.bindings.iter().filter(|b| b.status == BindingStatus::Pending).count();
                prop_assert!(live <= 1 && pending <= 1);
                for b in &r.bindings {
                    if b.live_at.is_some() {
                        let mut distinct = b.endorsers.clone();
                        distinct.sort();
                        distinct.dedup();
                        prop_assert_eq!(distinct.len(), b.endorsers.len());
                        // k never changes while a binding is live, so today's k is the one
                        // it went live under.
                        if b.status == BindingStatus::Live {
                            prop_assert!(distinct.len() >= usize::from(r.endorsers_required));
                        }
                        prop_assert!(!distinct.contains(&r.owner));
                    }
                }
            }
            let head = w.head();
            let leaves = log_leaves(&w.state, head.size).unwrap();
            prop_assert_eq!(head.root, weft_crypto::log_root(leaves.iter().map(Vec::as_slice)));
        }
    }
}
