//! Execution against an in-memory state: each rule, each refusal, and the token invariants.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, ExecError, check_transaction, execute_block, genesis_writes, keys::StateKey,
    model::Token,
};
use weft_types::{
    AccountId, Amount, AssignRole, Burn, DefineToken, ErrorCode, Genesis, GenesisAccount,
    GenesisOrganization, GenesisValidator, Mint, Name, Operation, RegisterAccount,
    RegisterOrganization, RevokeRole, SignedTransaction, Transaction, Transfer, TxStatus,
    state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

struct World {
    state: State,
    height: u64,
    admin: Keypair,
    issuer: Keypair,
    alice: Keypair,
    bob: Keypair,
    outsider: Keypair,
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

fn genesis(admin: &Keypair, issuer: &Keypair, alice: &Keypair, bob: &Keypair) -> Genesis {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(name("issuer"), vec!["token.*".to_owned()]);
    roles.insert(
        name("member"),
        vec!["token.transfer".to_owned(), "token.burn".to_owned()],
    );
    roles.insert(
        name("registrar"),
        vec![
            "identity.register_account".to_owned(),
            "access.*".to_owned(),
        ],
    );
    let acct = |k: &Keypair, org: &str, role: &str| GenesisAccount {
        account: k.account(),
        organization: name(org),
        roles: vec![name(role)],
    };
    Genesis {
        chain_id: name("test-chain"),
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            account: admin.account(),
            organization: name("ops"),
        }],
        organizations: vec![
            GenesisOrganization {
                id: name("ops"),
                display_name: "Operator".into(),
            },
            GenesisOrganization {
                id: name("bank-a"),
                display_name: "Bank A".into(),
            },
            GenesisOrganization {
                id: name("bank-b"),
                display_name: "Bank B".into(),
            },
        ],
        accounts: vec![
            acct(admin, "ops", "admin"),
            acct(issuer, "bank-a", "issuer"),
            acct(alice, "bank-a", "member"),
            acct(bob, "bank-b", "member"),
        ],
        roles,
        tokens: vec![],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}

impl World {
    fn new() -> Self {
        let k = |i: u8| Keypair::from_seed([i; 32]);
        let (admin, issuer, alice, bob, outsider) = (k(1), k(2), k(3), k(4), k(5));
        let mut state = State::new();
        apply(
            &mut state,
            &genesis_writes(&genesis(&admin, &issuer, &alice, &bob)).unwrap(),
        );
        Self {
            state,
            height: 0,
            admin,
            issuer,
            alice,
            bob,
            outsider,
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: name("test-chain"),
            height: self.height + 1,
            timestamp_ms: 1_700_000_000_000 + self.height * 1000,
        }
    }

    fn nonce(&self, who: &Keypair) -> u64 {
        weft_execution::next_nonce(&self.state, &who.account()).unwrap()
    }

    fn tx(&self, who: &Keypair, ops: Vec<Operation>) -> SignedTransaction {
        sign_transaction(
            Transaction {
                chain_id: name("test-chain"),
                signer: who.account(),
                nonce: self.nonce(who),
                expiry_height: self.height + 10,
                operations: ops,
                memo: String::new(),
            },
            &[who],
        )
    }

    /// Executes one block and returns its receipts' statuses.
    fn block(&mut self, txs: &[SignedTransaction]) -> Vec<TxStatus> {
        let out = execute_block(&self.state, &self.ctx(), txs).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        out.receipts.into_iter().map(|r| r.status).collect()
    }

    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> TxStatus {
        let tx = self.tx(who, ops);
        self.block(&[tx]).remove(0)
    }

    fn balance(&self, symbol: &str, who: &Keypair) -> u128 {
        let key = StateKey::Balance(name(symbol), who.account()).to_bytes();
        self.state
            .get(&key)
            .map_or(0, |v| borsh::from_slice::<Amount>(v).unwrap().0)
    }

    fn supply(&self, symbol: &str) -> u128 {
        let key = StateKey::Token(name(symbol)).to_bytes();
        borsh::from_slice::<Token>(&self.state[&key])
            .unwrap()
            .supply
            .0
    }

    fn setup_usd(&mut self) {
        let issuer = self.issuer.clone();
        let (alice, bob) = (self.alice.account(), self.bob.account());
        let ok = self.run(
            &issuer,
            vec![
                Operation::DefineToken(DefineToken {
                    symbol: name("usd"),
                    display_name: "US Dollar".into(),
                    decimals: 2,
                    max_supply: Some(Amount(1_000_000)),
                    controller: None,
                    holder_role: None,
                }),
                mint("usd", alice, 1000),
                mint("usd", bob, 500),
            ],
        );
        assert_eq!(ok, TxStatus::Success);
    }
}

fn mint(symbol: &str, to: AccountId, amount: u128) -> Operation {
    Operation::Mint(Mint {
        symbol: name(symbol),
        to,
        amount: Amount(amount),
    })
}
fn transfer(symbol: &str, to: AccountId, amount: u128) -> Operation {
    Operation::Transfer(Transfer {
        symbol: name(symbol),
        to,
        amount: Amount(amount),
    })
}

fn code(status: &TxStatus) -> Option<ErrorCode> {
    match status {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

#[test]
fn payment_flow_moves_balances_and_conserves_supply() {
    let mut w = World::new();
    w.setup_usd();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    assert_eq!(
        w.run(&alice, vec![transfer("usd", bob.account(), 300)]),
        TxStatus::Success
    );
    assert_eq!(
        (w.balance("usd", &alice), w.balance("usd", &bob)),
        (700, 800)
    );
    assert_eq!(
        w.run(
            &bob,
            vec![Operation::Burn(Burn {
                symbol: name("usd"),
                amount: Amount(100)
            })]
        ),
        TxStatus::Success
    );
    assert_eq!(w.supply("usd"), 1400);
    assert_eq!(
        w.balance("usd", &alice) + w.balance("usd", &bob),
        w.supply("usd")
    );
}

#[test]
fn each_bad_transaction_fails_with_its_own_code_and_changes_nothing() {
    let mut w = World::new();
    w.setup_usd();

    type Build = Box<dyn Fn(&World) -> SignedTransaction>;
    let resign = |mut stx: SignedTransaction, edit: &dyn Fn(&mut Transaction), k: &Keypair| {
        edit(&mut stx.tx);
        sign_transaction(stx.tx, &[k])
    };
    let cases: Vec<(Build, ErrorCode)> = vec![
        (
            Box::new(|w| w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 5000)])),
            ErrorCode::InsufficientBalance,
        ),
        (
            Box::new(|w| w.tx(&w.alice, vec![mint("usd", w.alice.account(), 1)])),
            ErrorCode::Unauthorized,
        ),
        (
            Box::new(|w| w.tx(&w.outsider, vec![transfer("usd", w.bob.account(), 1)])),
            ErrorCode::UnknownAccount,
        ),
        (
            Box::new(|w| w.tx(&w.alice, vec![transfer("eur", w.bob.account(), 1)])),
            ErrorCode::UnknownToken,
        ),
        (
            Box::new(|w| w.tx(&w.issuer, vec![mint("usd", w.bob.account(), 2_000_000)])),
            ErrorCode::SupplyExceeded,
        ),
        (
            Box::new(move |w| {
                resign(
                    w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 1)]),
                    &|t| t.chain_id = name("other-chain"),
                    &w.alice,
                )
            }),
            ErrorCode::WrongChainId,
        ),
        (
            Box::new(move |w| {
                resign(
                    w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 1)]),
                    &|t| t.expiry_height = 0,
                    &w.alice,
                )
            }),
            ErrorCode::Expired,
        ),
        (
            Box::new(move |w| {
                resign(
                    w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 1)]),
                    &|t| t.nonce += 5,
                    &w.alice,
                )
            }),
            ErrorCode::NonceGap,
        ),
        (
            Box::new(move |w| {
                resign(
                    w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 1)]),
                    &|t| t.nonce = 0,
                    &w.alice,
                )
            }),
            ErrorCode::ReplayedNonce,
        ),
        (
            Box::new(|w| {
                let mut unsigned = w.tx(&w.alice, vec![transfer("usd", w.bob.account(), 1)]);
                unsigned.signatures.clear();
                unsigned
            }),
            ErrorCode::MissingSignature,
        ),
    ];

    for (build, expected) in cases {
        let tx = build(&w);
        let before = w.state.clone();
        match check_transaction(&w.state, &w.ctx(), &tx) {
            Err(ExecError::Tx(e)) => assert_eq!(e.code, expected, "{e}"),
            other => panic!("expected {expected}, got {other:?}"),
        }
        let statuses = w.block(&[tx]);
        assert_eq!(code(&statuses[0]), Some(expected));
        // Only the block height (and, for a valid-nonce failure, the nonce) may change.
        let changed: BTreeSet<String> = w
            .state
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        for key in &changed {
            assert!(
                key == "meta/height" || key.starts_with("nonce/"),
                "{expected}: {key} changed"
            );
        }
    }
}

#[test]
fn replayed_transaction_is_refused() {
    let mut w = World::new();
    w.setup_usd();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    let tx = w.tx(&alice, vec![transfer("usd", bob.account(), 10)]);
    assert_eq!(w.block(std::slice::from_ref(&tx)), vec![TxStatus::Success]);
    let statuses = w.block(&[tx]);
    assert_eq!(code(&statuses[0]), Some(ErrorCode::ReplayedNonce));
    assert_eq!(w.balance("usd", &alice), 990);
}

#[test]
fn failed_operation_rolls_back_the_whole_transaction() {
    let mut w = World::new();
    w.setup_usd();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    let status = w.run(
        &alice,
        vec![
            transfer("usd", bob.account(), 600),
            transfer("usd", bob.account(), 600),
        ],
    );
    assert!(matches!(
        status,
        TxStatus::Failed {
            code: ErrorCode::InsufficientBalance,
            operation: Some(1),
            ..
        }
    ));
    assert_eq!(w.balance("usd", &alice), 1000);
    // The nonce was consumed, so the next transaction uses the next nonce.
    assert_eq!(w.nonce(&alice), 1);
}

#[test]
fn registration_and_roles_respect_organization_scope() {
    let mut w = World::new();
    let admin = w.admin.clone();
    let newbie = Keypair::from_seed([42; 32]);
    let clerk = Keypair::from_seed([43; 32]);
    // The admin registers an organization and a registrar in it.
    let status = w.run(
        &admin,
        vec![
            Operation::RegisterOrganization(RegisterOrganization {
                id: name("insurer"),
                display_name: "Insurer".into(),
            }),
            Operation::RegisterAccount(RegisterAccount {
                account: clerk.account(),
                organization: name("insurer"),
                roles: vec![name("registrar")],
            }),
        ],
    );
    assert_eq!(status, TxStatus::Success);
    // The registrar can add members to its own organization...
    let own = Operation::RegisterAccount(RegisterAccount {
        account: newbie.account(),
        organization: name("insurer"),
        roles: vec![name("member")],
    });
    assert_eq!(w.run(&clerk, vec![own]), TxStatus::Success);
    // ...but not to another one, and cannot hand out the admin role.
    let other = Operation::RegisterAccount(RegisterAccount {
        account: Keypair::from_seed([44; 32]).account(),
        organization: name("bank-a"),
        roles: vec![],
    });
    assert_eq!(
        code(&w.run(&clerk, vec![other])),
        Some(ErrorCode::Unauthorized)
    );
    let escalate = Operation::AssignRole(AssignRole {
        account: newbie.account(),
        role: name("admin"),
    });
    assert_eq!(
        code(&w.run(&clerk, vec![escalate])),
        Some(ErrorCode::Unauthorized)
    );
    // Revoking the member role takes away the right to transfer.
    let revoke = Operation::RevokeRole(RevokeRole {
        account: newbie.account(),
        role: name("member"),
    });
    assert_eq!(w.run(&clerk, vec![revoke]), TxStatus::Success);
    let bob = w.bob.account();
    assert_eq!(
        code(&w.run(&newbie, vec![transfer("usd", bob, 1)])),
        Some(ErrorCode::Unauthorized)
    );
    // Registering twice is refused.
    let again = Operation::RegisterAccount(RegisterAccount {
        account: newbie.account(),
        organization: name("insurer"),
        roles: vec![],
    });
    assert_eq!(
        code(&w.run(&clerk, vec![again])),
        Some(ErrorCode::AlreadyExists)
    );
}

#[test]
fn genesis_rejects_inconsistent_documents() {
    let k = |i: u8| Keypair::from_seed([i; 32]);
    let base = genesis(&k(1), &k(2), &k(3), &k(4));
    let mut no_validators = base.clone();
    no_validators.validators.clear();
    let mut bad_org = base.clone();
    bad_org.accounts[0].organization = name("nowhere");
    let mut bad_role = base.clone();
    bad_role.accounts[0].roles = vec![name("ghost")];
    let mut bad_permission = base.clone();
    bad_permission
        .roles
        .insert(name("weird"), vec!["token.teleport".into()]);
    let mut dup = base.clone();
    dup.accounts.push(dup.accounts[0].clone());
    for g in [no_validators, bad_org, bad_role, bad_permission, dup] {
        assert!(genesis_writes(&g).is_err());
    }
    assert!(genesis_writes(&base).is_ok());
}

#[test]
fn execution_is_deterministic() {
    let run = || {
        let mut w = World::new();
        w.setup_usd();
        let (alice, bob) = (w.alice.clone(), w.bob.clone());
        let txs = vec![
            w.tx(&alice, vec![transfer("usd", bob.account(), 7)]),
            w.tx(&bob, vec![transfer("usd", alice.account(), 9)]),
        ];
        execute_block(&w.state, &w.ctx(), &txs).unwrap()
    };
    assert_eq!(run(), run());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random transfers, mints and burns among three accounts: no balance goes negative
    /// (amounts are unsigned, so a bad debit must fail), supply equals the sum of balances,
    /// and each account's balance matches a simple model.
    #[test]
    fn token_supply_is_conserved(ops in prop::collection::vec((0u8..4, 0usize..3, 0usize..3, 0u128..700), 1..40)) {
        let mut w = World::new();
        w.setup_usd();
        let people = [w.alice.clone(), w.bob.clone(), w.issuer.clone()];
        let mut model = [1000u128, 500, 0];
        let mut supply = 1500u128;
        for (kind, from, to, amount) in ops {
            let (signer, op) = match kind {
                0 | 1 => (&people[from], transfer("usd", people[to].account(), amount)),
                2 => (&w.issuer, mint("usd", people[to].account(), amount)),
                _ => (&people[from], Operation::Burn(Burn { symbol: name("usd"), amount: Amount(amount) })),
            };
            let signer = signer.clone();
            let status = w.run(&signer, vec![op]);
            let expect_ok = amount > 0 && match kind {
                0 | 1 | 3 => model[from] >= amount,
                _ => supply + amount <= 1_000_000,
            };
            prop_assert_eq!(status == TxStatus::Success, expect_ok, "{:?}", status);
            if expect_ok {
                match kind {
                    0 | 1 => { model[from] -= amount; model[to] += amount; }
                    2 => { model[to] += amount; supply += amount; }
                    _ => { model[from] -= amount; supply -= amount; }
                }
            }
            let balances: Vec<u128> = people.iter().map(|p| w.balance("usd", p)).collect();
            prop_assert_eq!(balances.as_slice(), model.as_slice());
            prop_assert_eq!(balances.iter().sum::<u128>(), w.supply("usd"));
            prop_assert_eq!(w.supply("usd"), supply);
        }
    }
}
