//! Token escrow, freezing and atomic multi-leg transfers; documents with versions and
//! co-signatures. Each rule, each refusal, and the supply invariant under random sequences.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{Document, Hold as HoldRecord, Token},
};
use weft_types::{
    AccountId, AmendDocument, Amount, AnchorDocument, CancelHold, ErrorCode, Event, Genesis,
    GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, Hash, Hold, MultiTransfer,
    Name, Operation, ReleaseHold, SetFrozen, SignDocument, Transaction, Transfer, TransferLeg,
    TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

struct World {
    state: State,
    height: u64,
    issuer: Keypair,
    people: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
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
    /// An issuer of `usd` and `eur`, and three members holding 1000 of each.
    fn new() -> Self {
        let issuer = Keypair::from_seed([1; 32]);
        let people: Vec<Keypair> = (2..=4u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut roles = BTreeMap::new();
        roles.insert(
            name("issuer"),
            vec!["token.*".to_owned(), "document.*".to_owned()],
        );
        roles.insert(
            name("member"),
            vec![
                "token.transfer".into(),
                "token.hold".into(),
                "token.release".into(),
                "token.cancel".into(),
                "document.*".into(),
            ],
        );
        roles.insert(name("observer"), vec![]);
        let mut accounts = vec![GenesisAccount {
            account: issuer.account(),
            organization: name("org"),
            roles: vec![name("issuer")],
        }];
        accounts.extend(people.iter().map(|p| GenesisAccount {
            account: p.account(),
            organization: name("org"),
            roles: vec![name("member")],
        }));
        let token = |symbol: &str| GenesisToken {
            symbol: name(symbol),
            display_name: symbol.into(),
            decimals: 2,
            issuer: issuer.account(),
            max_supply: None,
            balances: people.iter().map(|p| (p.account(), Amount(1000))).collect(),
        };
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: issuer.account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts,
            roles,
            tokens: vec![token("usd"), token("eur")],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        Self {
            state,
            height: 0,
            issuer,
            people,
            nonces: BTreeMap::new(),
        }
    }

    /// Runs one transaction by `signers[0]`, co-signed by the others; returns status and events.
    fn run_signed(&mut self, signers: &[&Keypair], ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
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
            timestamp_ms: self.height + 1,
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> TxStatus {
        self.run_signed(&[who], ops).0
    }

    fn balance(&self, symbol: &str, who: &AccountId) -> u128 {
        let key = StateKey::Balance(name(symbol), *who).to_bytes();
        self.state
            .get(&key)
            .map_or(0, |v| borsh::from_slice::<Amount>(v).unwrap().0)
    }

    fn supply(&self, symbol: &str) -> u128 {
        borsh::from_slice::<Token>(&self.state[&StateKey::Token(name(symbol)).to_bytes()])
            .unwrap()
            .supply
            .0
    }

    fn held(&self, symbol: &str) -> u128 {
        self.state
            .iter()
            .filter(|(k, _)| k.starts_with(b"hold/"))
            .map(|(_, v)| borsh::from_slice::<HoldRecord>(v).unwrap())
            .filter(|h| h.symbol.as_str() == symbol)
            .map(|h| h.amount.0)
            .sum()
    }

    fn conserved(&self, symbol: &str) -> bool {
        let balances: u128 = [self.issuer.account()]
            .iter()
            .chain(
                self.people
                    .iter()
                    .map(|p| p.account())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .map(|a| self.balance(symbol, a))
            .sum();
        balances + self.held(symbol) == self.supply(symbol)
    }

    fn document(&self, id: &str) -> Document {
        borsh::from_slice(&self.state[&StateKey::Document(name(id)).to_bytes()]).unwrap()
    }
}

fn code(s: &TxStatus) -> Option<ErrorCode> {
    match s {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

fn hold(
    id: &str,
    amount: u128,
    beneficiary: &Keypair,
    arbiter: Option<&Keypair>,
    expires: Option<u64>,
) -> Operation {
    Operation::Hold(Hold {
        id: name(id),
        symbol: name("usd"),
        amount: Amount(amount),
        beneficiary: beneficiary.account(),
        arbiter: arbiter.map(Keypair::account),
        expires_at_height: expires,
    })
}

fn release(id: &str) -> Operation {
    Operation::ReleaseHold(ReleaseHold { id: name(id) })
}

fn cancel(id: &str) -> Operation {
    Operation::CancelHold(CancelHold { id: name(id) })
}

fn transfer(symbol: &str, to: &Keypair, amount: u128) -> Operation {
    Operation::Transfer(Transfer {
        symbol: name(symbol),
        to: to.account(),
        amount: Amount(amount),
    })
}

#[test]
fn escrow_holds_release_and_cancel_by_the_right_parties() {
    let mut w = World::new();
    let [a, b, c] = [
        w.people[0].clone(),
        w.people[1].clone(),
        w.people[2].clone(),
    ];
    assert_eq!(
        w.run(&a, vec![hold("h1", 300, &b, Some(&c), None)]),
        TxStatus::Success
    );
    assert_eq!((w.balance("usd", &a.account()), w.held("usd")), (700, 300));
    assert!(w.conserved("usd"));
    // The beneficiary cannot pay itself; a stranger cannot either; duplicates and overdrafts fail.
    assert_eq!(
        code(&w.run(&b, vec![release("h1")])),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(
        code(&w.run(&a, vec![hold("h1", 1, &b, None, None)])),
        Some(ErrorCode::AlreadyExists)
    );
    assert_eq!(
        code(&w.run(&a, vec![hold("h2", 5000, &b, None, None)])),
        Some(ErrorCode::InsufficientBalance)
    );
    assert_eq!(
        code(&w.run(&a, vec![release("nope")])),
        Some(ErrorCode::NotFound)
    );
    // The arbiter releases to the beneficiary.
    assert_eq!(w.run(&c, vec![release("h1")]), TxStatus::Success);
    assert_eq!((w.balance("usd", &b.account()), w.held("usd")), (1300, 0));
    assert_eq!(
        code(&w.run(&a, vec![release("h1")])),
        Some(ErrorCode::NotFound)
    );

    // A hold the holder may only take back once expired.
    let expiry = w.height + 3;
    assert_eq!(
        w.run(&a, vec![hold("h3", 100, &b, None, Some(expiry))]),
        TxStatus::Success
    );
    assert_eq!(
        code(&w.run(&a, vec![cancel("h3")])),
        Some(ErrorCode::Unauthorized)
    );
    while w.height + 1 < expiry {
        w.run(&c, vec![transfer("eur", &a, 1)]);
    }
    assert_eq!(w.run(&a, vec![cancel("h3")]), TxStatus::Success);
    assert_eq!(w.balance("usd", &a.account()), 700);
    // The beneficiary may always give a hold back.
    assert_eq!(
        w.run(&a, vec![hold("h4", 50, &b, None, None)]),
        TxStatus::Success
    );
    assert_eq!(w.run(&b, vec![cancel("h4")]), TxStatus::Success);
    assert_eq!(w.balance("usd", &a.account()), 700);
    assert!(w.conserved("usd"));
}

#[test]
fn frozen_accounts_neither_send_nor_receive() {
    let mut w = World::new();
    let issuer = w.issuer.clone();
    let [a, b, _] = [
        w.people[0].clone(),
        w.people[1].clone(),
        w.people[2].clone(),
    ];
    let freeze = |who: &Keypair, frozen| {
        Operation::SetFrozen(SetFrozen {
            symbol: name("usd"),
            account: who.account(),
            frozen,
        })
    };
    assert_eq!(
        code(&w.run(&b, vec![freeze(&a, true)])),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(w.run(&issuer, vec![freeze(&a, true)]), TxStatus::Success);
    assert_eq!(
        code(&w.run(&issuer, vec![freeze(&a, true)])),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        code(&w.run(&a, vec![transfer("usd", &b, 1)])),
        Some(ErrorCode::Frozen)
    );
    assert_eq!(
        code(&w.run(&b, vec![transfer("usd", &a, 1)])),
        Some(ErrorCode::Frozen)
    );
    assert_eq!(
        code(&w.run(&a, vec![hold("h", 1, &b, None, None)])),
        Some(ErrorCode::Frozen)
    );
    // Other tokens are unaffected.
    assert_eq!(w.run(&a, vec![transfer("eur", &b, 1)]), TxStatus::Success);
    assert_eq!(w.run(&issuer, vec![freeze(&a, false)]), TxStatus::Success);
    assert_eq!(w.run(&a, vec![transfer("usd", &b, 1)]), TxStatus::Success);
}

#[test]
fn multi_leg_transfers_are_all_or_nothing_and_need_every_sender() {
    let mut w = World::new();
    let [a, b, c] = [
        w.people[0].clone(),
        w.people[1].clone(),
        w.people[2].clone(),
    ];
    let leg = |symbol: &str, from: &Keypair, to: &Keypair, amount: u128| TransferLeg {
        symbol: name(symbol),
        from: from.account(),
        to: to.account(),
        amount: Amount(amount),
    };
    // Delivery versus payment: usd from a to b, eur from b to a, in one co-signed transaction.
    let swap = Operation::MultiTransfer(MultiTransfer {
        legs: vec![leg("usd", &a, &b, 100), leg("eur", &b, &a, 90)],
    });
    assert_eq!(
        code(&w.run(&a, vec![swap.clone()])),
        Some(ErrorCode::MissingSignature)
    );
    let (status, events) = w.run_signed(&[&a, &b], vec![swap]);
    assert_eq!(status, TxStatus::Success);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.topic == "token.transfer")
            .count(),
        2
    );
    assert_eq!(
        (
            w.balance("usd", &a.account()),
            w.balance("eur", &a.account())
        ),
        (900, 1090)
    );
    // One failing leg undoes the other.
    let bad = Operation::MultiTransfer(MultiTransfer {
        legs: vec![leg("usd", &a, &c, 10), leg("eur", &b, &c, 999_999)],
    });
    let (status, _) = w.run_signed(&[&a, &b], vec![bad]);
    assert_eq!(code(&status), Some(ErrorCode::InsufficientBalance));
    assert_eq!(
        (
            w.balance("usd", &a.account()),
            w.balance("usd", &c.account())
        ),
        (900, 1000)
    );
    assert_eq!(
        code(&w.run(
            &a,
            vec![Operation::MultiTransfer(MultiTransfer { legs: vec![] })]
        )),
        Some(ErrorCode::InvalidArgument)
    );
}

#[test]
fn documents_collect_signatures_per_version() {
    let mut w = World::new();
    let [a, b, c] = [
        w.people[0].clone(),
        w.people[1].clone(),
        w.people[2].clone(),
    ];
    let h1 = Hash([1; 32]);
    let h2 = Hash([2; 32]);
    let anchor = Operation::AnchorDocument(AnchorDocument {
        id: name("guarantee-1"),
        hash: h1,
        media_type: "application/pdf".into(),
        uri: "vault://a/guarantee-1".into(),
        parties: vec![a.account(), b.account()],
        required_signatures: 2,
    });
    assert_eq!(w.run(&a, vec![anchor.clone()]), TxStatus::Success);
    assert_eq!(
        code(&w.run(&a, vec![anchor])),
        Some(ErrorCode::AlreadyExists)
    );
    let sign = |version, hash| {
        Operation::SignDocument(SignDocument {
            id: name("guarantee-1"),
            version,
            hash,
        })
    };
    assert_eq!(
        code(&w.run(&c, vec![sign(1, h1)])),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(
        code(&w.run(&a, vec![sign(1, h2)])),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        code(&w.run(&a, vec![sign(2, h1)])),
        Some(ErrorCode::NotFound)
    );
    let (status, events) = w.run_signed(&[&a, &b], vec![sign(1, h1)]);
    assert_eq!(status, TxStatus::Success);
    assert!(events.iter().any(|e| e.topic == "document.completed"));
    assert_eq!(
        code(&w.run(&b, vec![sign(1, h1)])),
        Some(ErrorCode::AlreadyExists)
    );
    // Only the owner amends; a new version starts with no signatures; the old one is closed.
    let amend = Operation::AmendDocument(AmendDocument {
        id: name("guarantee-1"),
        hash: h2,
        uri: "vault://a/guarantee-1/v2".into(),
    });
    assert_eq!(
        code(&w.run(&b, vec![amend.clone()])),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(w.run(&a, vec![amend]), TxStatus::Success);
    assert_eq!(
        code(&w.run(&b, vec![sign(1, h1)])),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(w.run(&b, vec![sign(2, h2)]), TxStatus::Success);
    let doc = w.document("guarantee-1");
    assert_eq!(doc.versions.len(), 2);
    assert_eq!(doc.versions[0].signatures.len(), 2);
    assert_eq!(
        doc.versions[1]
            .signatures
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>(),
        vec![b.account()]
    );
    // Parties must be registered and distinct; requirements must be reachable.
    let outsider = Keypair::from_seed([99; 32]);
    let bad = |parties: Vec<AccountId>, required| {
        Operation::AnchorDocument(AnchorDocument {
            id: name("x"),
            hash: h1,
            media_type: String::new(),
            uri: String::new(),
            parties,
            required_signatures: required,
        })
    };
    assert_eq!(
        code(&w.run(&a, vec![bad(vec![outsider.account()], 1)])),
        Some(ErrorCode::UnknownAccount)
    );
    assert_eq!(
        code(&w.run(&a, vec![bad(vec![a.account(), a.account()], 1)])),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        code(&w.run(&a, vec![bad(vec![a.account()], 2)])),
        Some(ErrorCode::InvalidArgument)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Random escrow, freeze, transfer and multi-leg sequences: supply always equals balances
    /// plus escrow, for both tokens.
    #[test]
    fn supply_equals_balances_plus_escrow(ops in prop::collection::vec((0u8..7, 0usize..3, 0usize..3, 0u128..700, 0u8..4), 1..30)) {
        let mut w = World::new();
        let people = w.people.clone();
        let issuer = w.issuer.clone();
        for (n, (kind, from, to, amount, hold_no)) in ops.into_iter().enumerate() {
            let id = format!("h{hold_no}");
            let (p, q) = (&people[from], &people[to]);
            let _ = n;
            match kind {
                0 => { w.run(p, vec![transfer("usd", q, amount)]); }
                1 => { w.run(p, vec![hold(&id, amount, q, None, None)]); }
                2 => { w.run(p, vec![release(&id)]); }
                3 => { w.run(q, vec![cancel(&id)]); }
                4 => { w.run(&issuer, vec![Operation::SetFrozen(SetFrozen { symbol: name("usd"), account: p.account(), frozen: amount % 2 == 0 })]); }
                5 => {
                    let legs = vec![
                        TransferLeg { symbol: name("usd"), from: p.account(), to: q.account(), amount: Amount(amount) },
                        TransferLeg { symbol: name("eur"), from: q.account(), to: p.account(), amount: Amount(amount / 2 + 1) },
                    ];
                    if from == to {
                        w.run(p, vec![Operation::MultiTransfer(MultiTransfer { legs })]);
                    } else {
                        w.run_signed(&[p, q], vec![Operation::MultiTransfer(MultiTransfer { legs })]);
                    }
                }
                _ => { w.run(p, vec![transfer("eur", q, amount)]); }
            }
            prop_assert!(w.conserved("usd"));
            prop_assert!(w.conserved("eur"));
            prop_assert_eq!(w.supply("usd"), 3000);
            prop_assert_eq!(w.supply("eur"), 3000);
        }
    }
}

#[test]
fn a_transaction_emitting_more_events_than_a_receipt_holds_is_refused_whole() {
    let mut w = World::new();
    let [a, b, _] = [
        w.people[0].clone(),
        w.people[1].clone(),
        w.people[2].clone(),
    ];
    let legs = |n: usize| {
        (0..n)
            .map(|_| TransferLeg {
                symbol: name("usd"),
                from: a.account(),
                to: b.account(),
                amount: Amount(1),
            })
            .collect::<Vec<_>>()
    };
    // 5 × 60 legs = 300 transfer events > 256.
    let ops: Vec<Operation> = (0..5)
        .map(|_| Operation::MultiTransfer(MultiTransfer { legs: legs(60) }))
        .collect();
    assert_eq!(code(&w.run(&a, ops)), Some(ErrorCode::Oversized));
    assert_eq!(w.balance("usd", &a.account()), 1000);
    // 4 × 60 = 240 events fit.
    let ops: Vec<Operation> = (0..4)
        .map(|_| Operation::MultiTransfer(MultiTransfer { legs: legs(60) }))
        .collect();
    assert_eq!(w.run(&a, ops), TxStatus::Success);
    assert_eq!(w.balance("usd", &a.account()), 760);
}
