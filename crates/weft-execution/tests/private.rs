//! Confidential data (UC-09, UC-31): private records, grants, consent, logged accesses and
//! purges; every refusal leaves the state unchanged; a random-operation proptest checks the
//! executor against an independent model of the rules.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    private::{PrivateEvent, PrivateRecord, load, log},
    read_policy::Viewer,
};
use weft_types::{
    AccessPrivateRecord, AccountId, CreatePrivateRecord, ErrorCode, Event, Genesis, GenesisAccount,
    GenesisOrganization, GenesisValidator, GrantPrivateAccess, Hash, Name, Operation,
    PurgePrivateRecord, RevokePrivateAccess, SetPrivateConsent, Transaction, TxStatus, UsagePolicy,
    state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const T0: u64 = 1_800_000_000_000;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn names(v: &[&str]) -> Vec<Name> {
    v.iter().map(|s| name(s)).collect()
}

fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

struct World {
    state: State,
    height: u64,
    nonces: BTreeMap<AccountId, u64>,
    hospital: Keypair,
    patient: Keypair,
    lab: Keypair,
    research: Keypair,
    auditor: Keypair,
    outsider: Keypair,
}

impl World {
    fn new() -> Self {
        let [admin, hospital, patient, lab, research, auditor, outsider] =
            [1, 2, 3, 4, 5, 6, 7].map(kp);
        let all = [
            "private.create",
            "private.grant",
            "private.consent",
            "private.access",
            "private.purge",
        ]
        .map(String::from)
        .to_vec();
        let mut roles = BTreeMap::new();
        roles.insert(name("admin"), vec!["*".to_owned()]);
        roles.insert(name("member"), all);
        roles.insert(name("auditor"), vec!["read.private".to_owned()]);
        let account = |k: &Keypair, org: &str, role: &str| GenesisAccount {
            account: k.account(),
            organization: name(org),
            roles: vec![name(role)],
        };
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: admin.account(),
                organization: name("hospital"),
            }],
            organizations: ["hospital", "citizens", "lab", "university", "dpa", "other"]
                .iter()
                .map(|o| GenesisOrganization {
                    id: name(o),
                    display_name: o.to_string(),
                })
                .collect(),
            accounts: vec![
                account(&admin, "hospital", "admin"),
                account(&hospital, "hospital", "member"),
                account(&patient, "citizens", "member"),
                account(&lab, "lab", "member"),
                account(&research, "university", "member"),
                account(&auditor, "dpa", "auditor"),
                account(&outsider, "other", "member"),
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
            nonces: BTreeMap::new(),
            hospital,
            patient,
            lab,
            research,
            auditor,
            outsider,
        }
    }

    fn now(&self) -> u64 {
        T0 + (self.height + 1) * 1000
    }

    fn run(&mut self, signers: &[&Keypair], op: Operation) -> (TxStatus, Vec<Event>) {
        let signer = signers[0].account();
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
            signers,
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: self.now(),
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    fn ok(&mut self, signers: &[&Keypair], op: Operation) -> Vec<Event> {
        let (status, events) = self.run(signers, op);
        assert_eq!(status, TxStatus::Success);
        events
    }

    fn refused(&mut self, signers: &[&Keypair], op: Operation, expected: ErrorCode) {
        let before = strip(&self.state, &signers[0].account());
        let (status, events) = self.run(signers, op);
        match status {
            TxStatus::Failed { code, message, .. } => {
                assert_eq!(code, expected, "refused for another reason: {message}")
            }
            TxStatus::Success => panic!("expected {expected}, but it succeeded"),
        }
        assert!(events.is_empty());
        assert_eq!(
            strip(&self.state, &signers[0].account()),
            before,
            "a refusal changed the state"
        );
    }

    fn record(&self, id: &str) -> PrivateRecord {
        load(&self.state, &name(id)).unwrap().unwrap()
    }

    /// Creates `id` about the patient, with purposes treatment and research.
    fn create(&mut self, id: &str, onward: bool) {
        let (h, p) = (self.hospital.clone(), self.patient.clone());
        self.ok(&[&h, &p], create_op(id, Some(&p), onward));
    }
}

fn strip(s: &State, signer: &AccountId) -> State {
    let ignore = [
        StateKey::Height.to_bytes(),
        StateKey::Nonce(*signer).to_bytes(),
    ];
    s.iter()
        .filter(|(k, _)| !ignore.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

fn create_op(id: &str, subject: Option<&Keypair>, onward: bool) -> Operation {
    Operation::CreatePrivateRecord(CreatePrivateRecord {
        id: name(id),
        data_type: name("lab-result"),
        subject: subject.map(Keypair::account),
        commitment: Hash([7; 32]),
        size: 1234,
        policy: UsagePolicy {
            purposes: names(&["treatment", "research"]),
            retain_until_ms: None,
            onward_grants: onward,
        },
    })
}

fn grant(id: &str, to: &Keypair, purposes: &[&str], expires: Option<u64>) -> Operation {
    Operation::GrantPrivateAccess(GrantPrivateAccess {
        id: name(id),
        grantee: to.account(),
        purposes: names(purposes),
        expires_at_ms: expires,
    })
}

fn revoke(id: &str, who: &Keypair) -> Operation {
    Operation::RevokePrivateAccess(RevokePrivateAccess {
        id: name(id),
        grantee: who.account(),
    })
}

fn access(id: &str, purpose: &str) -> Operation {
    Operation::AccessPrivateRecord(AccessPrivateRecord {
        id: name(id),
        purpose: name(purpose),
    })
}

fn consent(id: &str, purposes: &[&str]) -> Operation {
    Operation::SetPrivateConsent(SetPrivateConsent {
        id: name(id),
        purposes: names(purposes),
    })
}

fn purge(id: &str) -> Operation {
    Operation::PurgePrivateRecord(PurgePrivateRecord {
        id: name(id),
        reason: "erasure request (GDPR art. 17)".into(),
    })
}

#[test]
fn creation_needs_the_subjects_signature_and_a_sound_policy() {
    let mut w = World::new();
    let (h, p, o) = (w.hospital.clone(), w.patient.clone(), w.outsider.clone());
    w.refused(
        &[&h],
        create_op("r1", Some(&p), false),
        ErrorCode::MissingSignature,
    );
    w.refused(
        &[&h, &o],
        create_op("r1", Some(&p), false),
        ErrorCode::MissingSignature,
    );
    let mut bad = create_op("r1", Some(&p), false);
    if let Operation::CreatePrivateRecord(op) = &mut bad {
        op.policy.purposes = vec![];
    }
    w.refused(&[&h, &p], bad, ErrorCode::InvalidArgument);
    let mut dup = create_op("r1", Some(&p), false);
    if let Operation::CreatePrivateRecord(op) = &mut dup {
        op.policy.purposes = names(&["research", "research"]);
    }
    w.refused(&[&h, &p], dup, ErrorCode::InvalidArgument);
    let mut big = create_op("r1", Some(&p), false);
    if let Operation::CreatePrivateRecord(op) = &mut big {
        op.size = weft_types::private::MAX_PRIVATE_PAYLOAD_BYTES + 1;
    }
    w.refused(&[&h, &p], big, ErrorCode::Oversized);
    let mut unknown = create_op("r1", None, false);
    if let Operation::CreatePrivateRecord(op) = &mut unknown {
        op.subject = Some(AccountId([99; 32]));
    }
    w.refused(&[&h], unknown, ErrorCode::UnknownAccount);
    w.refused(
        &[&h, &h],
        create_op("r1", Some(&h), false),
        ErrorCode::InvalidArgument,
    );
    // A role without private.create cannot record anything.
    let a = w.auditor.clone();
    w.refused(&[&a], create_op("r1", None, false), ErrorCode::Unauthorized);

    let events = w.ok(&[&h, &p], create_op("r1", Some(&p), false));
    assert_eq!(events[0].topic, "private.created");
    let r = w.record("r1");
    assert_eq!(r.controller, h.account());
    assert_eq!(r.consent, names(&["treatment", "research"]));
    w.refused(
        &[&h, &p],
        create_op("r1", Some(&p), false),
        ErrorCode::AlreadyExists,
    );
}

#[test]
fn grants_limit_readers_to_their_purposes_and_every_access_is_logged() {
    let mut w = World::new();
    let (h, p, lab, res, out) = (
        w.hospital.clone(),
        w.patient.clone(),
        w.lab.clone(),
        w.research.clone(),
        w.outsider.clone(),
    );
    w.create("r1", false);
    w.refused(&[&lab], access("r1", "treatment"), ErrorCode::Unauthorized);
    w.refused(
        &[&out],
        grant("r1", &lab, &["treatment"], None),
        ErrorCode::Unauthorized,
    );
    w.refused(
        &[&h],
        grant("r1", &lab, &["marketing"], None),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&h],
        grant("r1", &lab, &[], None),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&h],
        grant("r1", &p, &["treatment"], None),
        ErrorCode::InvalidArgument,
    );
    let past = w.now() - 1;
    w.refused(
        &[&h],
        grant("r1", &lab, &["treatment"], Some(past)),
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&h],
        grant("nope", &lab, &["treatment"], None),
        ErrorCode::NotFound,
    );

    w.ok(&[&h], grant("r1", &lab, &["treatment"], None));
    // The patient grants research directly (UC-09: access under the patient's permission).
    w.ok(&[&p], grant("r1", &res, &["research"], None));
    w.ok(&[&lab], access("r1", "treatment"));
    w.refused(&[&lab], access("r1", "research"), ErrorCode::Unauthorized);
    w.ok(&[&res], access("r1", "research"));
    w.ok(&[&h], access("r1", "treatment"));
    w.refused(&[&h], access("r1", "marketing"), ErrorCode::Unauthorized);
    w.ok(&[&p], access("r1", "curiosity"));
    w.refused(&[&out], access("r1", "treatment"), ErrorCode::Unauthorized);
    // No onward grants under this policy.
    w.refused(
        &[&lab],
        grant("r1", &out, &["treatment"], None),
        ErrorCode::Unauthorized,
    );

    let r = w.record("r1");
    let entries = log(&w.state, &r, 0, 100).unwrap();
    assert_eq!(entries.len() as u64, r.log_size);
    let reads: Vec<(AccountId, String)> = entries
        .iter()
        .filter_map(|e| match &e.event {
            PrivateEvent::Accessed { purpose } => Some((e.actor, purpose.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        reads,
        vec![
            (lab.account(), "treatment".into()),
            (res.account(), "research".into()),
            (h.account(), "treatment".into()),
            (p.account(), "curiosity".into()),
        ],
        "the log shows every read, in order, and no refused one"
    );
}

#[test]
fn revocation_and_expiry_refuse_the_next_read() {
    let mut w = World::new();
    let (h, p, lab, res) = (
        w.hospital.clone(),
        w.patient.clone(),
        w.lab.clone(),
        w.research.clone(),
    );
    w.create("r1", false);
    w.ok(&[&h], grant("r1", &lab, &["treatment"], None));
    w.ok(&[&lab], access("r1", "treatment"));
    w.refused(&[&res], revoke("r1", &lab), ErrorCode::Unauthorized);
    let events = w.ok(&[&p], revoke("r1", &lab));
    assert_eq!(events[0].topic, "private.revoked");
    w.refused(&[&lab], access("r1", "treatment"), ErrorCode::Unauthorized);
    w.refused(&[&h], revoke("r1", &lab), ErrorCode::NotFound);

    let expires = w.now() + 2_000;
    w.ok(&[&h], grant("r1", &res, &["research"], Some(expires)));
    w.ok(&[&res], access("r1", "research"));
    w.ok(&[&h], access("r1", "treatment"));
    // Block time is now at the expiry.
    w.refused(&[&res], access("r1", "research"), ErrorCode::Unauthorized);
}

#[test]
fn onward_grants_stay_within_their_source_and_revocation_cascades() {
    let mut w = World::new();
    let (h, lab, res, out) = (
        w.hospital.clone(),
        w.lab.clone(),
        w.research.clone(),
        w.outsider.clone(),
    );
    w.create("r1", true);
    let limit = w.now() + 100_000;
    w.ok(
        &[&h],
        grant("r1", &lab, &["treatment", "research"], Some(limit)),
    );
    w.refused(
        &[&lab],
        grant("r1", &res, &["research"], None),
        ErrorCode::Unauthorized,
    );
    w.refused(
        &[&lab],
        grant("r1", &res, &["research"], Some(limit + 1)),
        ErrorCode::Unauthorized,
    );
    w.ok(&[&lab], grant("r1", &res, &["research"], Some(limit)));
    w.ok(&[&res], grant("r1", &out, &["research"], Some(limit)));
    w.refused(
        &[&res],
        grant("r1", &out, &["treatment"], Some(limit)),
        ErrorCode::Unauthorized,
    );
    w.ok(&[&out], access("r1", "research"));
    // Revoking the lab's grant withdraws the whole chain passed on from it.
    w.ok(&[&h], revoke("r1", &lab));
    let r = w.record("r1");
    assert!(r.grants.is_empty(), "{:?}", r.grants);
    w.refused(&[&out], access("r1", "research"), ErrorCode::Unauthorized);
    w.refused(&[&res], access("r1", "research"), ErrorCode::Unauthorized);
}

#[test]
fn consent_withdrawal_stops_everyone_but_the_subject() {
    let mut w = World::new();
    let (h, p, lab, res) = (
        w.hospital.clone(),
        w.patient.clone(),
        w.lab.clone(),
        w.research.clone(),
    );
    w.create("r1", false);
    w.ok(&[&h], grant("r1", &lab, &["treatment"], None));
    w.ok(&[&h], grant("r1", &res, &["research"], None));
    w.refused(&[&h], consent("r1", &[]), ErrorCode::Unauthorized);
    w.refused(
        &[&p],
        consent("r1", &["marketing"]),
        ErrorCode::InvalidArgument,
    );
    // The patient withdraws consent to research only.
    w.ok(&[&p], consent("r1", &["treatment"]));
    w.refused(&[&res], access("r1", "research"), ErrorCode::Unauthorized);
    w.refused(&[&h], access("r1", "research"), ErrorCode::Unauthorized);
    w.ok(&[&lab], access("r1", "treatment"));
    // No new research grant while consent does not cover it.
    w.refused(
        &[&h],
        grant("r1", &lab, &["research"], None),
        ErrorCode::Unauthorized,
    );
    w.ok(&[&p], consent("r1", &[]));
    w.refused(&[&lab], access("r1", "treatment"), ErrorCode::Unauthorized);
    w.refused(&[&h], access("r1", "treatment"), ErrorCode::Unauthorized);
    w.ok(&[&p], access("r1", "own-copy"));
    w.ok(&[&p], consent("r1", &["research", "treatment"]));
    assert_eq!(w.record("r1").consent, names(&["treatment", "research"]));
    w.ok(&[&res], access("r1", "research"));
}

#[test]
fn purge_keeps_the_commitment_and_the_log_and_ends_every_use() {
    let mut w = World::new();
    let (h, p, lab, out) = (
        w.hospital.clone(),
        w.patient.clone(),
        w.lab.clone(),
        w.outsider.clone(),
    );
    w.create("r1", false);
    w.ok(&[&h], grant("r1", &lab, &["treatment"], None));
    w.ok(&[&lab], access("r1", "treatment"));
    w.refused(&[&out], purge("r1"), ErrorCode::Unauthorized);
    w.refused(&[&lab], purge("r1"), ErrorCode::Unauthorized);
    let events = w.ok(&[&p], purge("r1"));
    assert_eq!(events[0].topic, "private.purged");
    let r = w.record("r1");
    assert_eq!(r.commitment, Hash([7; 32]));
    assert!(r.grants.is_empty() && r.consent.is_empty());
    assert_eq!(r.purged.as_ref().unwrap().by, p.account());
    assert!(r.holders(w.now()).is_empty());
    w.refused(&[&lab], access("r1", "treatment"), ErrorCode::Purged);
    w.refused(&[&p], access("r1", "treatment"), ErrorCode::Purged);
    w.refused(
        &[&h],
        grant("r1", &lab, &["treatment"], None),
        ErrorCode::Purged,
    );
    w.refused(&[&h], purge("r1"), ErrorCode::Purged);
    w.refused(&[&p], consent("r1", &["treatment"]), ErrorCode::Purged);
    // The id is never reused.
    w.refused(
        &[&h, &p],
        create_op("r1", Some(&p), false),
        ErrorCode::AlreadyExists,
    );
    let entries = log(&w.state, &r, 0, 100).unwrap();
    assert!(matches!(
        entries.last().unwrap().event,
        PrivateEvent::Purged { .. }
    ));
    assert_eq!(entries.len(), 4);
}

#[test]
fn records_and_logs_are_readable_per_record_and_per_user() {
    let mut w = World::new();
    let (h, lab, out, aud, p) = (
        w.hospital.clone(),
        w.lab.clone(),
        w.outsider.clone(),
        w.auditor.clone(),
        w.patient.clone(),
    );
    w.create("r1", false);
    w.ok(&[&h], grant("r1", &lab, &["treatment"], None));
    let key = StateKey::PrivateRecord(name("r1"));
    let log_key = StateKey::PrivateLog(name("r1"), 0);
    for (who, expected) in [
        (&h, true),
        (&p, true),
        (&lab, true),
        (&aud, true),
        (&out, false),
    ] {
        let v = Viewer::member(&w.state, who.account()).unwrap().unwrap();
        assert_eq!(v.may_read(&w.state, &key).unwrap().is_allowed(), expected);
        assert_eq!(
            v.may_read(&w.state, &log_key).unwrap().is_allowed(),
            expected
        );
    }
    let anon = Viewer::anonymous(&w.state).unwrap();
    assert!(!anon.may_read(&w.state, &key).unwrap().is_allowed());
    w.ok(&[&h], revoke("r1", &lab));
    let v = Viewer::member(&w.state, lab.account()).unwrap().unwrap();
    assert!(!v.may_read(&w.state, &key).unwrap().is_allowed());
}

/// An independent model of the rules, for the proptest.
#[derive(Default)]
struct Model {
    created: bool,
    purged: bool,
    consent: BTreeSet<&'static str>,
    /// grantee index -> (purposes, granted by index)
    grants: BTreeMap<usize, (BTreeSet<&'static str>, usize)>,
}

const PURPOSES: [&str; 3] = ["treatment", "research", "billing"];
const POLICY: [&str; 2] = ["treatment", "research"];

#[derive(Debug, Clone)]
enum Step {
    Grant(usize, usize, Vec<usize>),
    Revoke(usize, usize),
    Consent(Vec<usize>),
    Access(usize, usize),
    Purge(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0usize..5;
    let ps = proptest::collection::vec(0usize..3, 0..3);
    prop_oneof![
        (who.clone(), who.clone(), ps.clone()).prop_map(|(a, b, p)| Step::Grant(a, b, p)),
        (who.clone(), who.clone()).prop_map(|(a, b)| Step::Revoke(a, b)),
        ps.prop_map(Step::Consent),
        (who.clone(), 0usize..3).prop_map(|(a, p)| Step::Access(a, p)),
        (who).prop_map(Step::Purge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_executor_follows_the_rules(steps in proptest::collection::vec(step(), 1..30)) {
        let mut w = World::new();
        // 0 controller, 1 subject, 2..5 others; onward grants allowed.
        let actors = [
            w.hospital.clone(),
            w.patient.clone(),
            w.lab.clone(),
            w.research.clone(),
            w.outsider.clone(),
        ];
        w.create("r", true);
        let mut m = Model { created: true, consent: POLICY.into_iter().collect(), ..Default::default() };
        let mut reads = 0u64;
        for s in steps {
            let party = |i: usize| i < 2;
            let (signer, op, expect_ok) = match &s {
                Step::Grant(by, to, ps) => {
                    let set: BTreeSet<&str> = ps.iter().map(|i| PURPOSES[*i]).collect();
                    let distinct = set.len() == ps.len();
                    let ceiling: Option<BTreeSet<&str>> = if party(*by) {
                        Some(POLICY.into_iter().collect())
                    } else {
                        m.grants.get(by).map(|g| g.0.clone())
                    };
                    let ok = !m.purged
                        && ceiling.is_some_and(|c| set.is_subset(&c))
                        && !set.is_empty()
                        && distinct
                        && set.is_subset(&m.consent)
                        && !party(*to);
                    let names: Vec<&str> = ps.iter().map(|i| PURPOSES[*i]).collect();
                    (*by, grant("r", &actors[*to], &names, None), ok)
                }
                Step::Revoke(by, who) => {
                    let ok = !m.purged
                        && m.grants.get(who).is_some_and(|g| party(*by) || g.1 == *by);
                    (*by, revoke("r", &actors[*who]), ok)
                }
                Step::Consent(ps) => {
                    let set: BTreeSet<&str> = ps.iter().map(|i| PURPOSES[*i]).collect();
                    let ok = !m.purged
                        && set.len() == ps.len()
                        && set.iter().all(|p| POLICY.contains(p));
                    let names: Vec<&str> = ps.iter().map(|i| PURPOSES[*i]).collect();
                    (1, consent("r", &names), ok)
                }
                Step::Access(by, p) => {
                    let purpose = PURPOSES[*p];
                    let ok = !m.purged
                        && (*by == 1
                            || (m.consent.contains(purpose)
                                && if *by == 0 {
                                    POLICY.contains(&purpose)
                                } else {
                                    m.grants.get(by).is_some_and(|g| g.0.contains(purpose))
                                }));
                    (*by, access("r", purpose), ok)
                }
                Step::Purge(by) => (*by, purge("r"), !m.purged && party(*by)),
            };
            let (status, _) = w.run(&[&actors[signer]], op);
            prop_assert_eq!(status == TxStatus::Success, expect_ok, "{:?}: {:?}", s, status);
            if !expect_ok {
                continue;
            }
            match s {
                Step::Grant(by, to, ps) => {
                    m.grants.insert(to, (ps.iter().map(|i| PURPOSES[*i]).collect(), by));
                }
                Step::Revoke(_, who) => {
                    let mut gone = vec![who];
                    let mut i = 0;
                    while i < gone.len() {
                        let from = gone[i];
                        for (g, (_, by)) in &m.grants {
                            if *by == from && !gone.contains(g) {
                                gone.push(*g);
                            }
                        }
                        i += 1;
                    }
                    for g in gone {
                        m.grants.remove(&g);
                    }
                }
                Step::Consent(ps) => m.consent = ps.iter().map(|i| PURPOSES[*i]).collect(),
                Step::Access(..) => reads += 1,
                Step::Purge(_) => {
                    m.purged = true;
                    m.grants.clear();
                    m.consent.clear();
                }
            }
        }
        prop_assert!(m.created);
        let r = w.record("r");
        let entries = log(&w.state, &r, 0, 1000).unwrap();
        prop_assert_eq!(entries.len() as u64, r.log_size);
        let logged_reads = entries
            .iter()
            .filter(|e| matches!(e.event, PrivateEvent::Accessed { .. }))
            .count() as u64;
        prop_assert_eq!(logged_reads, reads);
        let grantees: BTreeSet<AccountId> = m.grants.keys().map(|i| actors[*i].account()).collect();
        prop_assert_eq!(r.grants.keys().copied().collect::<BTreeSet<_>>(), grantees);
        prop_assert_eq!(r.purged.is_some(), m.purged);
    }
}
