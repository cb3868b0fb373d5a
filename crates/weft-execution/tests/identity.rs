//! Identity and credentials on the ledger: did:weft updates (authorization by the DID record,
//! rotation, controllers, deactivation), the trusted-issuer registry, Bitstring Status Lists
//! and UC-27 commitments. Every rule, and every refusal with the state left unchanged.

use std::collections::BTreeMap;

use weft_credentials::{
    DidRecord, DidResolver, IssuerTrust, KeyId, StatusListLookup,
    commitment::{Salt, commit_attribute, verify_attribute},
    status_list::MIN_STATUS_LIST_BITS,
};
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext,
    credentials::{
        CommitmentRecord, LedgerView, StoredStatusList, TrustedIssuer, did_record,
        status_list_reference,
    },
    execute_block, genesis_writes,
    keys::StateKey,
};
use weft_types::{
    AccountId, CreateStatusList, ErrorCode, Event, Genesis, GenesisAccount, GenesisOrganization,
    GenesisValidator, Hash, Name, Operation, PublishCommitment, RegisterIssuer, RemoveIssuer,
    SetCredentialStatus, Transaction, TxStatus, UpdateDid, WithdrawCommitment,
    did::{Did, DidUpdate, KeyFormat, Service, StatusPurpose},
    state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const CHAIN: &str = "t";

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

fn chain() -> Name {
    name(CHAIN)
}

fn did_of(k: &Keypair) -> Did {
    Did::new(chain(), k.account())
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
    registrar: Keypair,
    operator: Keypair,
    subscriber: Keypair,
    bank: Keypair,
    other: Keypair,
    observer: Keypair,
    /// A second credential issuer.
    rival: Keypair,
}

impl World {
    fn new() -> Self {
        let (registrar, operator, subscriber, bank, other, observer, rival) =
            (kp(1), kp(2), kp(3), kp(4), kp(5), kp(6), kp(7));
        let mut roles = BTreeMap::new();
        roles.insert(
            name("registrar"),
            vec![
                "credential.register_issuer".to_owned(),
                "credential.remove_issuer".to_owned(),
            ],
        );
        roles.insert(
            name("credential-issuer"),
            vec![
                "credential.status".to_owned(),
                "credential.commit".to_owned(),
                "identity.did_update".to_owned(),
            ],
        );
        roles.insert(name("member"), vec!["identity.did_update".to_owned()]);
        roles.insert(name("observer"), vec![]);
        let account = |k: &Keypair, role: &str| GenesisAccount {
            account: k.account(),
            organization: name("org"),
            roles: vec![name(role)],
        };
        let genesis = Genesis {
            chain_id: chain(),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: registrar.account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts: vec![
                account(&registrar, "registrar"),
                account(&operator, "credential-issuer"),
                account(&subscriber, "member"),
                account(&bank, "member"),
                account(&other, "member"),
                account(&observer, "observer"),
                account(&rival, "credential-issuer"),
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
            registrar,
            operator,
            subscriber,
            bank,
            other,
            observer,
            rival,
        }
    }

    /// Runs one transaction by `signers[0]`, co-signed by the others.
    fn run_signed(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
        let signer = signers[0].account();
        let nonce = *self.nonces.get(&signer).unwrap_or(&0);
        let tx = sign_transaction(
            Transaction {
                chain_id: chain(),
                signer,
                nonce,
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            signers,
        );
        let ctx = BlockContext {
            chain_id: chain(),
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

    fn ok(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> Vec<Event> {
        let (status, events) = self.run_signed(signers, ops);
        assert_eq!(status, TxStatus::Success);
        events
    }

    /// Runs a transaction that must be refused with `expected`, and checks that it changed
    /// nothing but the height and the signer's nonce.
    fn refused(&mut self, signers: &[&Keypair], ops: Vec<Operation>, expected: ErrorCode) {
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
        let (status, events) = self.run_signed(signers, ops);
        match status {
            TxStatus::Failed { code, message, .. } => {
                assert_eq!(code, expected, "refused for another reason: {message}")
            }
            TxStatus::Success => panic!("expected {expected}, but it succeeded"),
        }
        assert!(events.is_empty());
        assert_eq!(strip(&self.state), before, "a refusal changed the state");
    }

    fn view(&self) -> LedgerView<'_> {
        LedgerView::new(&self.state, chain())
    }

    fn did(&self, k: &Keypair) -> DidRecord {
        did_record(&self.state, &chain(), &k.account())
            .unwrap()
            .unwrap()
    }

    fn stored_did(&self, k: &Keypair) -> Option<DidRecord> {
        self.state
            .get(&StateKey::Did(k.account()).to_bytes())
            .map(|v| borsh::from_slice(v).unwrap())
    }

    fn list(&self, issuer: &Keypair, list: &str) -> StoredStatusList {
        borsh::from_slice(
            &self.state[&StateKey::StatusList(issuer.account(), name(list)).to_bytes()],
        )
        .unwrap()
    }

    fn commitment(&self, id: &str) -> CommitmentRecord {
        borsh::from_slice(&self.state[&StateKey::Commitment(name(id)).to_bytes()]).unwrap()
    }
}

fn update(did: Did, updates: Vec<DidUpdate>) -> Operation {
    Operation::UpdateDid(UpdateDid { did, updates })
}

fn add_key(k: &Keypair, authentication: bool, assertion_method: bool) -> DidUpdate {
    DidUpdate::AddKey {
        public_key: k.account(),
        format: KeyFormat::JsonWebKey,
        authentication,
        assertion_method,
    }
}

fn remove_key(n: u32) -> DidUpdate {
    DidUpdate::RemoveKey { id: KeyId(n) }
}

fn service(id: &str) -> DidUpdate {
    DidUpdate::AddService {
        service: Service {
            id: name(id),
            service_type: "LinkedDomains".into(),
            endpoint: "https://operator.example".into(),
        },
    }
}

#[test]
fn every_account_has_a_did_from_registration_and_the_first_update_stores_it() {
    let mut w = World::new();
    let s = w.subscriber.clone();
    let record = w.did(&s);
    assert_eq!(record.did(), &did_of(&s));
    assert_eq!(record.version(), 1);
    assert_eq!(record.created_height(), 0);
    let m = record.method(KeyId(1)).unwrap();
    assert_eq!(m.public_key, s.account());
    assert!(m.authentication && m.assertion_method);
    assert!(w.stored_did(&s).is_none(), "created lazily, not at genesis");
    // An unregistered key has no DID.
    assert!(
        did_record(&w.state, &chain(), &kp(99).account())
            .unwrap()
            .is_none()
    );

    let events = w.ok(&[&s], vec![update(did_of(&s), vec![service("hub")])]);
    let stored = w.stored_did(&s).unwrap();
    assert_eq!(stored.version(), 2);
    assert_eq!(stored.updated_height(), w.height);
    assert_eq!(stored.services().len(), 1);
    assert_eq!(events[0].topic, "identity.did_updated");
    assert_eq!(events[0].accounts, vec![s.account()]);
    assert!(
        events[0]
            .attributes
            .contains(&("version".to_string(), "2".to_string()))
    );
    // The verifier's view sees the same record.
    assert_eq!(w.view().resolve(&did_of(&s)).unwrap(), Some(stored));
}

#[test]
fn a_key_rotated_out_can_no_longer_update_the_did() {
    let mut w = World::new();
    let s = w.subscriber.clone();
    let new_key = kp(30);
    // Rotate: add the new key and remove the account key in one batch, authorized by the
    // account key while it is still current.
    w.ok(
        &[&s],
        vec![update(
            did_of(&s),
            vec![add_key(&new_key, true, true), remove_key(1)],
        )],
    );
    let record = w.did(&s);
    assert!(record.method(KeyId(1)).is_none());
    assert_eq!(
        record.method(KeyId(2)).unwrap().public_key,
        new_key.account()
    );
    assert!(!record.is_authentication_key(&s.account()));

    // The account still signs transactions, but its key no longer speaks for the DID.
    w.refused(
        &[&s],
        vec![update(did_of(&s), vec![service("hub")])],
        ErrorCode::Unauthorized,
    );
    // The new key co-signs and the same update goes through.
    w.ok(
        &[&s, &new_key],
        vec![update(did_of(&s), vec![service("hub")])],
    );
    assert_eq!(w.did(&s).version(), 3);
    // Putting the old key back needs the new key too.
    w.refused(
        &[&s],
        vec![update(did_of(&s), vec![add_key(&s, true, true)])],
        ErrorCode::Unauthorized,
    );
    w.ok(
        &[&s, &new_key],
        vec![update(did_of(&s), vec![add_key(&s, true, true)])],
    );
    // Key ids are never reused: the account key comes back as #key-3.
    assert_eq!(w.did(&s).method(KeyId(3)).unwrap().public_key, s.account());
}

#[test]
fn forged_and_unauthorized_updates_are_refused() {
    let mut w = World::new();
    let (s, other) = (w.subscriber.clone(), w.other.clone());
    let attacker_key = kp(40);
    // Another member tries to add its key to the subscriber's DID.
    w.refused(
        &[&other],
        vec![update(did_of(&s), vec![add_key(&other, true, true)])],
        ErrorCode::Unauthorized,
    );
    // ... also with an extra co-signature by a key of its own.
    w.refused(
        &[&other, &attacker_key],
        vec![update(did_of(&s), vec![add_key(&attacker_key, true, true)])],
        ErrorCode::Unauthorized,
    );
    // A member without the permission cannot update even its own DID.
    let observer = w.observer.clone();
    w.refused(
        &[&observer],
        vec![update(did_of(&observer), vec![service("hub")])],
        ErrorCode::Unauthorized,
    );
    // A DID of another chain, or of an unregistered account.
    w.refused(
        &[&s],
        vec![update(
            Did::new(name("elsewhere"), s.account()),
            vec![service("hub")],
        )],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&s, &attacker_key],
        vec![update(did_of(&attacker_key), vec![service("hub")])],
        ErrorCode::NotFound,
    );
    assert!(w.stored_did(&s).is_none());
}

#[test]
fn the_record_rules_refuse_bad_updates_atomically() {
    let mut w = World::new();
    let s = w.subscriber.clone();
    let did = did_of(&s);
    // The last authentication key cannot go.
    w.refused(
        &[&s],
        vec![update(did.clone(), vec![remove_key(1)])],
        ErrorCode::InvalidArgument,
    );
    // A key listed twice.
    w.refused(
        &[&s],
        vec![update(did.clone(), vec![add_key(&s, true, false)])],
        ErrorCode::AlreadyExists,
    );
    // Empty batch; a weak key; a bad service endpoint.
    w.refused(
        &[&s],
        vec![update(did.clone(), vec![])],
        ErrorCode::InvalidArgument,
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    w.refused(
        &[&s],
        vec![update(
            did.clone(),
            vec![DidUpdate::AddKey {
                public_key: AccountId(identity),
                format: KeyFormat::Ed25519VerificationKey2020,
                authentication: true,
                assertion_method: false,
            }],
        )],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&s],
        vec![update(
            did.clone(),
            vec![DidUpdate::AddService {
                service: Service {
                    id: name("x"),
                    service_type: "LinkedDomains".into(),
                    endpoint: "not a uri".into(),
                },
            }],
        )],
        ErrorCode::InvalidArgument,
    );
    // A good first update followed by a bad one: nothing of the batch applies.
    w.refused(
        &[&s],
        vec![update(did.clone(), vec![service("hub"), remove_key(7)])],
        ErrorCode::NotFound,
    );
    // Two operations in one transaction: the second's refusal undoes the first.
    w.refused(
        &[&s],
        vec![
            update(did.clone(), vec![service("hub")]),
            update(did.clone(), vec![service("hub")]),
        ],
        ErrorCode::AlreadyExists,
    );
    assert!(w.stored_did(&s).is_none());
}

#[test]
fn controllers_update_one_level_deep_and_must_exist() {
    let mut w = World::new();
    let (s, bank, other) = (w.subscriber.clone(), w.bank.clone(), w.other.clone());
    let ghost = kp(50);
    w.refused(
        &[&s],
        vec![update(
            did_of(&s),
            vec![DidUpdate::AddController {
                controller: did_of(&ghost),
            }],
        )],
        ErrorCode::NotFound,
    );
    w.refused(
        &[&s],
        vec![update(
            did_of(&s),
            vec![DidUpdate::AddController {
                controller: Did::new(name("elsewhere"), bank.account()),
            }],
        )],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&s],
        vec![update(
            did_of(&s),
            vec![DidUpdate::AddController {
                controller: did_of(&s),
            }],
        )],
        ErrorCode::InvalidArgument,
    );
    // The subscriber makes the bank a controller; the bank (other's controller-to-be) then
    // updates the subscriber's DID with its own key.
    w.ok(
        &[&s],
        vec![update(
            did_of(&s),
            vec![DidUpdate::AddController {
                controller: did_of(&bank),
            }],
        )],
    );
    w.ok(&[&bank], vec![update(did_of(&s), vec![service("bank")])]);
    assert_eq!(w.did(&s).services()[0].id, name("bank"));
    // The bank's own controller does not control the subscriber (one level only).
    w.ok(
        &[&bank],
        vec![update(
            did_of(&bank),
            vec![DidUpdate::AddController {
                controller: did_of(&other),
            }],
        )],
    );
    w.refused(
        &[&other],
        vec![update(did_of(&s), vec![service("other")])],
        ErrorCode::Unauthorized,
    );
    // A controller that rotated its key out no longer authorizes with it.
    let bank_new = kp(51);
    w.ok(
        &[&bank],
        vec![update(
            did_of(&bank),
            vec![add_key(&bank_new, true, true), remove_key(1)],
        )],
    );
    w.refused(
        &[&bank],
        vec![update(did_of(&s), vec![service("again")])],
        ErrorCode::Unauthorized,
    );
    w.ok(
        &[&bank, &bank_new],
        vec![update(did_of(&s), vec![service("again")])],
    );
}

#[test]
fn deactivation_is_final() {
    let mut w = World::new();
    let (s, registrar) = (w.subscriber.clone(), w.registrar.clone());
    w.ok(&[&s], vec![update(did_of(&s), vec![DidUpdate::Deactivate])]);
    let record = w.did(&s);
    assert!(record.is_deactivated());
    assert!(record.verification_methods().is_empty());
    assert!(record.resolution().did_document.authentication.is_empty());
    w.refused(
        &[&s],
        vec![update(did_of(&s), vec![add_key(&s, true, true)])],
        ErrorCode::InvalidArgument,
    );
    // A deactivated DID cannot become a trusted issuer.
    w.refused(
        &[&registrar],
        vec![Operation::RegisterIssuer(RegisterIssuer {
            did: did_of(&s),
            credential_types: vec![],
        })],
        ErrorCode::InvalidArgument,
    );
}

fn register(did: Did, types: &[&str]) -> Operation {
    Operation::RegisterIssuer(RegisterIssuer {
        did,
        credential_types: types.iter().map(|t| t.to_string()).collect(),
    })
}

#[test]
fn the_trusted_issuer_registry_is_kept_by_the_registrar() {
    let mut w = World::new();
    let (registrar, operator, other) = (w.registrar.clone(), w.operator.clone(), w.other.clone());
    let types = vec![
        "VerifiableCredential".to_string(),
        "IdentityCredential".to_string(),
    ];
    assert!(!w.view().is_trusted(&did_of(&operator), &types));
    // Only the registrar role may decide whom verifiers trust.
    w.refused(
        &[&operator],
        vec![register(did_of(&operator), &[])],
        ErrorCode::Unauthorized,
    );
    w.refused(
        &[&registrar],
        vec![register(did_of(&kp(60)), &[])],
        ErrorCode::NotFound,
    );
    w.refused(
        &[&registrar],
        vec![register(
            Did::new(name("elsewhere"), operator.account()),
            &[],
        )],
        ErrorCode::InvalidArgument,
    );
    for bad in [&["a b"][..], &[""], &["X", "X"]] {
        w.refused(
            &[&registrar],
            vec![register(did_of(&operator), bad)],
            ErrorCode::InvalidArgument,
        );
    }
    let events = w.ok(
        &[&registrar],
        vec![register(did_of(&operator), &["IdentityCredential"])],
    );
    assert_eq!(events[0].topic, "credential.issuer_registered");
    let entry: TrustedIssuer =
        borsh::from_slice(&w.state[&StateKey::Issuer(operator.account()).to_bytes()]).unwrap();
    assert_eq!(entry.did, did_of(&operator));
    assert_eq!(entry.registered_by, registrar.account());
    assert!(w.view().is_trusted(&did_of(&operator), &types));
    assert!(!w.view().is_trusted(
        &did_of(&operator),
        &[
            "VerifiableCredential".to_string(),
            "DiplomaCredential".to_string()
        ]
    ));
    assert!(!w.view().is_trusted(&did_of(&other), &types));
    w.refused(
        &[&registrar],
        vec![register(did_of(&operator), &[])],
        ErrorCode::AlreadyExists,
    );
    // Removal.
    w.refused(
        &[&operator],
        vec![Operation::RemoveIssuer(RemoveIssuer {
            did: did_of(&operator),
        })],
        ErrorCode::Unauthorized,
    );
    w.ok(
        &[&registrar],
        vec![Operation::RemoveIssuer(RemoveIssuer {
            did: did_of(&operator),
        })],
    );
    assert!(!w.view().is_trusted(&did_of(&operator), &types));
    w.refused(
        &[&registrar],
        vec![Operation::RemoveIssuer(RemoveIssuer {
            did: did_of(&operator),
        })],
        ErrorCode::NotFound,
    );
    // Registered for every type.
    w.ok(&[&registrar], vec![register(did_of(&operator), &[])]);
    assert!(
        w.view()
            .is_trusted(&did_of(&operator), &["Anything".to_string()])
    );
}

fn create_list(list: &str, purpose: StatusPurpose, entries: u32) -> Operation {
    Operation::CreateStatusList(CreateStatusList {
        name: name(list),
        purpose,
        entries,
    })
}

fn set_status(list: &str, index: u64, value: bool) -> Operation {
    Operation::SetCredentialStatus(SetCredentialStatus {
        list: name(list),
        index,
        value,
    })
}

#[test]
fn status_lists_belong_to_their_issuer_and_revocation_is_final() {
    let mut w = World::new();
    let (operator, other) = (w.operator.clone(), w.other.clone());
    let min = MIN_STATUS_LIST_BITS as u32;
    for entries in [min - 8, min + 1, (1 << 20) + 8, u32::MAX] {
        w.refused(
            &[&operator],
            vec![create_list("rev", StatusPurpose::Revocation, entries)],
            ErrorCode::InvalidArgument,
        );
    }
    // A member without credential.status.
    w.refused(
        &[&other],
        vec![create_list("rev", StatusPurpose::Revocation, min)],
        ErrorCode::Unauthorized,
    );
    let events = w.ok(
        &[&operator],
        vec![create_list("rev", StatusPurpose::Revocation, min)],
    );
    let reference = status_list_reference(&chain(), &operator.account(), &name("rev"));
    assert!(
        events[0]
            .attributes
            .contains(&("reference".to_string(), reference.clone()))
    );
    w.refused(
        &[&operator],
        vec![create_list("rev", StatusPurpose::Suspension, min)],
        ErrorCode::AlreadyExists,
    );
    let list = w.list(&operator, "rev");
    assert_eq!(list.status.list.len(), MIN_STATUS_LIST_BITS);
    assert_eq!(list.status.list.count_set(), 0);

    w.ok(&[&operator], vec![set_status("rev", 94_567, true)]);
    let looked_up = w.view().status_list(&reference).unwrap().unwrap();
    assert_eq!(looked_up.list.get(94_567), Ok(true));
    assert_eq!(looked_up.list.count_set(), 1);
    // Revocation is final.
    w.refused(
        &[&operator],
        vec![set_status("rev", 94_567, false)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&operator],
        vec![set_status("rev", u64::from(min), true)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &[&operator],
        vec![set_status("missing", 1, true)],
        ErrorCode::NotFound,
    );
    // Without the permission, nothing; with it, another issuer reaches only its own lists,
    // and it has none of that name.
    w.refused(
        &[&other],
        vec![set_status("rev", 5, true)],
        ErrorCode::Unauthorized,
    );
    let rival = w.rival.clone();
    w.refused(
        &[&rival],
        vec![set_status("rev", 5, true)],
        ErrorCode::NotFound,
    );
    w.ok(
        &[&rival],
        vec![
            create_list("rev", StatusPurpose::Revocation, min),
            set_status("rev", 5, true),
        ],
    );
    assert_eq!(w.list(&operator, "rev").status.list.get(5), Ok(false));
    assert_eq!(w.list(&rival, "rev").status.list.get(5), Ok(true));

    // Suspension can be lifted.
    w.ok(
        &[&operator],
        vec![
            create_list("susp", StatusPurpose::Suspension, min),
            set_status("susp", 3, true),
        ],
    );
    assert_eq!(w.list(&operator, "susp").status.list.get(3), Ok(true));
    w.ok(&[&operator], vec![set_status("susp", 3, false)]);
    assert_eq!(w.list(&operator, "susp").status.list.get(3), Ok(false));
    // References of other chains or https URLs are not found on this ledger.
    assert!(
        w.view()
            .status_list(&reference.replace("weft://t/", "weft://elsewhere/"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn commitments_hold_only_a_salted_hash_and_only_the_publisher_withdraws() {
    let mut w = World::new();
    let (operator, other) = (w.operator.clone(), w.other.clone());
    let salt = Salt::from_bytes(vec![7; 32]).unwrap();
    let commitment = commit_attribute("birth_date", "1990-04-01", &salt);
    let publish = |id: &str, attribute: &str| {
        Operation::PublishCommitment(PublishCommitment {
            id: name(id),
            commitment: commitment.0,
            attribute: attribute.into(),
        })
    };
    let withdraw = |id: &str| Operation::WithdrawCommitment(WithdrawCommitment { id: name(id) });
    w.refused(
        &[&other],
        vec![publish("c1", "birth_date")],
        ErrorCode::Unauthorized,
    );
    for bad in ["", "birth date", &"a".repeat(65)] {
        w.refused(
            &[&operator],
            vec![publish("c1", bad)],
            ErrorCode::InvalidArgument,
        );
    }
    w.ok(&[&operator], vec![publish("c1", "birth_date")]);
    let record = w.commitment("c1");
    assert_eq!(record.publisher, operator.account());
    assert_eq!(record.attribute, "birth_date");
    assert_ne!(record.commitment, Hash::ZERO);
    // The ledger holds no value: the value and salt open it, a wrong value does not.
    let stored = weft_credentials::commitment::Commitment(record.commitment);
    assert!(verify_attribute("birth_date", "1990-04-01", &salt, &stored));
    assert!(!verify_attribute(
        "birth_date",
        "1990-04-02",
        &salt,
        &stored
    ));
    assert!(
        !w.state
            .values()
            .any(|v| v.windows(10).any(|win| win == b"1990-04-01"))
    );

    w.refused(
        &[&operator],
        vec![publish("c1", "msisdn")],
        ErrorCode::AlreadyExists,
    );
    w.refused(&[&other], vec![withdraw("c1")], ErrorCode::Unauthorized);
    w.refused(&[&operator], vec![withdraw("nope")], ErrorCode::NotFound);
    w.ok(&[&operator], vec![withdraw("c1")]);
    assert_eq!(w.commitment("c1").withdrawn_at, Some(w.height));
    w.refused(
        &[&operator],
        vec![withdraw("c1")],
        ErrorCode::InvalidArgument,
    );
    // A withdrawn id is not reusable.
    w.refused(
        &[&operator],
        vec![publish("c1", "birth_date")],
        ErrorCode::AlreadyExists,
    );
}

#[test]
fn the_same_block_gives_the_same_writes() {
    let run = || {
        let mut w = World::new();
        let (s, operator, registrar) = (
            w.subscriber.clone(),
            w.operator.clone(),
            w.registrar.clone(),
        );
        w.ok(
            &[&s],
            vec![update(did_of(&s), vec![add_key(&kp(80), true, false)])],
        );
        w.ok(&[&registrar], vec![register(did_of(&operator), &[])]);
        w.ok(
            &[&operator],
            vec![
                create_list(
                    "rev",
                    StatusPurpose::Revocation,
                    MIN_STATUS_LIST_BITS as u32,
                ),
                set_status("rev", 9, true),
            ],
        );
        w.state
    };
    assert_eq!(run(), run());
}
