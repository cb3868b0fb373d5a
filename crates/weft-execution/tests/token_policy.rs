//! Token policies: a `controller` template whose instances alone change a token, and a
//! `holder_role` every credited account must hold; the `mint` and `burn` effects. Each rule,
//! each refusal (with its code and no state change), conservation and "no direct operation
//! ever changes a controlled token" under random sequences, and the e-mortgage depository's
//! double entry (passive total = active total) after every step of random lifecycles.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{Hold as HoldRecord, Instance, ParamValue, Token},
    workflow::{Effect, TemplateErrorKind, parse_yaml},
};
use weft_types::{
    AcceptQuote, AccountId, Amount, AnchorDocument, AssignRole, Burn, ClearMarket, CreateInstance,
    DefineToken, DeployTemplate, ErrorCode, Event, Genesis, GenesisAccount, GenesisOrganization,
    GenesisToken, GenesisValidator, Hold, Mint, MultiTransfer, Name, OpenMarket, Operation,
    PlaceOrder, RegisterAsset, ReleaseHold, RequestQuote, RevokeRole, Side, SignDocument,
    SubmitQuote, Transaction, Transfer, TransferLeg, Transition, TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const ADMIN: usize = 0;
const ISSUER: usize = 1;
const A: usize = 2;
const B: usize = 3;
const C: usize = 4;

/// A template that mints, burns, moves and escrows its `unit` token.
const VAULT: &str = r"
id: vault
version: 1
title: Issues, retires and moves a token it controls
roles:
  keeper: Issues units
  party: Moves and retires units
parameters:
  unit: token
states:
  - name: open
    initial: true
  - name: held
  - name: closed
    final: true
transitions:
  - name: issue
    from: open
    to: open
    by: keeper
    inputs: { to: account, amount: amount }
    effects:
      - mint: { token: $unit, to: $to, amount: $amount }
  - name: retire
    from: open
    to: open
    by: [keeper, party]
    inputs: { from: account, amount: amount }
    effects:
      - burn: { token: $unit, from: $from, amount: $amount }
  - name: move
    from: open
    to: open
    by: [keeper, party]
    inputs: { from: account, to: account, amount: amount }
    effects:
      - transfer: { token: $unit, from: $from, to: $to, amount: $amount }
  - name: escrow
    from: open
    to: held
    by: [keeper, party]
    inputs: { from: account, to: account, amount: amount }
    effects:
      - hold: { id: e, token: $unit, from: $from, to: $to, amount: $amount }
  - name: pay
    from: held
    to: open
    by: [keeper, party]
    effects:
      - release_hold: { id: e }
  - name: refund
    from: held
    to: open
    by: [keeper, party]
    effects:
      - cancel_hold: { id: e }
  - name: close
    from: open
    to: closed
    by: keeper
visibility:
  roles: [keeper, party]
";

const E_MORTGAGE: &str = include_str!("../../../templates/e-mortgage-depository.yaml");

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

fn code(s: &TxStatus) -> Option<ErrorCode> {
    match s {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

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

struct World {
    state: State,
    height: u64,
    /// `ADMIN`, `ISSUER`, then members `A`, `B`, `C`, ...
    keys: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
}

impl World {
    /// An administrator; an issuer (tokens, workflows, markets); members A, B, C (transfers,
    /// holds, burns, workflows, markets) holding 1000 `usd` each. The ledger role `kyc`
    /// (no permissions) is held by the issuer and A.
    fn new() -> Self {
        Self::with_members(3, &[ISSUER, A])
    }

    fn with_members(members: u8, kyc: &[usize]) -> Self {
        let keys: Vec<Keypair> = (1..=2 + members)
            .map(|i| Keypair::from_seed([i; 32]))
            .collect();
        let mut roles = BTreeMap::new();
        roles.insert(name("admin"), vec!["*".to_owned()]);
        roles.insert(
            name("issuer"),
            ["token.*", "workflow.*", "market.*", "asset.*", "document.*"]
                .map(str::to_owned)
                .to_vec(),
        );
        roles.insert(
            name("member"),
            [
                "token.transfer",
                "token.burn",
                "token.hold",
                "token.release",
                "token.cancel",
                "workflow.*",
                "market.*",
                "document.*",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        roles.insert(name("kyc"), vec![]);
        let accounts = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut roles = vec![name(match i {
                    ADMIN => "admin",
                    ISSUER => "issuer",
                    _ => "member",
                })];
                if kyc.contains(&i) {
                    roles.push(name("kyc"));
                }
                GenesisAccount {
                    account: k.account(),
                    organization: name("org"),
                    roles,
                }
            })
            .collect();
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: keys[ADMIN].account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts,
            roles,
            tokens: vec![GenesisToken {
                symbol: name("usd"),
                display_name: "usd".into(),
                decimals: 0,
                issuer: keys[ISSUER].account(),
                max_supply: None,
                balances: keys[A..]
                    .iter()
                    .map(|k| (k.account(), Amount(1000)))
                    .collect(),
            }],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        Self {
            state,
            height: 0,
            keys,
            nonces: BTreeMap::new(),
        }
    }

    fn acc(&self, i: usize) -> AccountId {
        self.keys[i].account()
    }

    /// Runs one transaction by `signers[0]`, co-signed by the others.
    fn run_events(&mut self, signers: &[usize], ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
        let keys: Vec<&Keypair> = signers.iter().map(|&i| &self.keys[i]).collect();
        let signer = keys[0].account();
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
            &keys,
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: 1_000 * (self.height + 1),
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    fn run(&mut self, signers: &[usize], ops: Vec<Operation>) -> TxStatus {
        self.run_events(signers, ops).0
    }

    /// Everything but nonces and chain metadata, which a refused transaction may move.
    fn snapshot(&self) -> State {
        self.state
            .iter()
            .filter(|(k, _)| !k.starts_with(b"nonce/") && !k.starts_with(b"meta/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Runs `ops` and checks that they are refused with `code` (the message containing
    /// `needle`) and that nothing changed.
    fn refused(&mut self, signers: &[usize], ops: Vec<Operation>, code: ErrorCode, needle: &str) {
        let before = self.snapshot();
        let status = self.run(signers, ops);
        assert_fails(&status, code, needle);
        assert!(
            self.snapshot() == before,
            "a refused transaction changed state"
        );
    }

    fn ok(&mut self, signers: &[usize], ops: Vec<Operation>) {
        let status = self.run(signers, ops);
        assert_eq!(status, TxStatus::Success);
    }

    /// The state of everything a token is: its record, balances and holds.
    fn token_state(&self, symbol: &str) -> State {
        let balances = format!("balance/{symbol}/");
        self.state
            .iter()
            .filter(|(k, v)| {
                k.starts_with(balances.as_bytes())
                    || k.as_slice() == StateKey::Token(name(symbol)).to_bytes().as_slice()
                    || (k.starts_with(b"hold/")
                        && borsh::from_slice::<HoldRecord>(v).unwrap().symbol.as_str() == symbol)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn token(&self, symbol: &str) -> Token {
        borsh::from_slice(&self.state[&StateKey::Token(name(symbol)).to_bytes()]).unwrap()
    }

    fn balance(&self, symbol: &str, who: usize) -> u128 {
        self.balance_of(symbol, &self.acc(who))
    }

    fn balance_of(&self, symbol: &str, who: &AccountId) -> u128 {
        self.state
            .get(&StateKey::Balance(name(symbol), *who).to_bytes())
            .map_or(0, |v| borsh::from_slice::<Amount>(v).unwrap().0)
    }

    /// The sum of every account's balance of `symbol`.
    fn balances(&self, symbol: &str) -> u128 {
        let prefix = format!("balance/{symbol}/");
        self.state
            .iter()
            .filter(|(k, _)| k.starts_with(prefix.as_bytes()))
            .map(|(_, v)| borsh::from_slice::<Amount>(v).unwrap().0)
            .sum()
    }

    /// What is in token escrow holds of `symbol`.
    fn held(&self, symbol: &str) -> u128 {
        self.state
            .iter()
            .filter(|(k, _)| k.starts_with(b"hold/"))
            .map(|(_, v)| borsh::from_slice::<HoldRecord>(v).unwrap())
            .filter(|h| h.symbol.as_str() == symbol)
            .map(|h| h.amount.0)
            .sum()
    }

    fn instance(&self, id: &str) -> Instance {
        borsh::from_slice(&self.state[&StateKey::Instance(name(id)).to_bytes()]).unwrap()
    }

    fn deploy(&mut self, source: &str) {
        self.ok(
            &[ADMIN],
            vec![Operation::DeployTemplate(DeployTemplate {
                source: source.to_owned(),
            })],
        );
    }

    fn define(
        &mut self,
        symbol: &str,
        max: Option<u128>,
        controller: Option<&str>,
        holder_role: Option<&str>,
    ) -> TxStatus {
        self.run(
            &[ISSUER],
            vec![define(symbol, max, controller, holder_role)],
        )
    }

    /// An instance of `template` (`vault`-shaped) over `unit`, created by `creator`: the
    /// issuer keeps it, every member is a party.
    fn vault(&mut self, creator: usize, id: &str, template: &str, unit: &str) -> TxStatus {
        let mut parties = vec![(name("keeper"), self.acc(ISSUER))];
        parties.extend((A..self.keys.len()).map(|i| (name("party"), self.acc(i))));
        self.run(
            &[creator],
            vec![Operation::CreateInstance(CreateInstance {
                instance: name(id),
                template: name(template),
                version: 1,
                parties,
                params: vec![(name("unit"), unit.to_owned())],
            })],
        )
    }
}

fn define(
    symbol: &str,
    max: Option<u128>,
    controller: Option<&str>,
    holder_role: Option<&str>,
) -> Operation {
    Operation::DefineToken(DefineToken {
        symbol: name(symbol),
        display_name: symbol.to_owned(),
        decimals: 0,
        max_supply: max.map(Amount),
        controller: controller.map(name),
        holder_role: holder_role.map(name),
    })
}

fn step(instance: &str, transition: &str, args: &[(&str, String)]) -> Operation {
    Operation::Transition(Transition {
        instance: name(instance),
        transition: name(transition),
        args: args.iter().map(|(k, v)| (name(k), v.clone())).collect(),
    })
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

fn burn(symbol: &str, amount: u128) -> Operation {
    Operation::Burn(Burn {
        symbol: name(symbol),
        amount: Amount(amount),
    })
}

fn hold(id: &str, symbol: &str, beneficiary: AccountId, amount: u128) -> Operation {
    Operation::Hold(Hold {
        id: name(id),
        symbol: name(symbol),
        amount: Amount(amount),
        beneficiary,
        arbiter: None,
        expires_at_height: None,
    })
}

fn leg(symbol: &str, from: AccountId, to: AccountId, amount: u128) -> Operation {
    Operation::MultiTransfer(MultiTransfer {
        legs: vec![TransferLeg {
            symbol: name(symbol),
            from,
            to,
            amount: Amount(amount),
        }],
    })
}

fn issue(w: &World, instance: &str, to: usize, amount: u128) -> Operation {
    step(
        instance,
        "issue",
        &[
            ("to", w.acc(to).to_string()),
            ("amount", amount.to_string()),
        ],
    )
}

fn retire(w: &World, instance: &str, from: usize, amount: u128) -> Operation {
    step(
        instance,
        "retire",
        &[
            ("from", w.acc(from).to_string()),
            ("amount", amount.to_string()),
        ],
    )
}

fn movement(
    w: &World,
    instance: &str,
    kind: &str,
    from: usize,
    to: usize,
    amount: u128,
) -> Operation {
    step(
        instance,
        kind,
        &[
            ("from", w.acc(from).to_string()),
            ("to", w.acc(to).to_string()),
            ("amount", amount.to_string()),
        ],
    )
}

/// `vault` deployed, `ctl` controlled by it (cap 10 000), the issuer's instance `v1` over it,
/// and 100 units issued to A through it.
fn controlled() -> World {
    let mut w = World::new();
    w.deploy(VAULT);
    assert_eq!(
        w.define("ctl", Some(10_000), Some("vault"), None),
        TxStatus::Success
    );
    assert_eq!(w.vault(ISSUER, "v1", "vault", "ctl"), TxStatus::Success);
    let op = issue(&w, "v1", A, 100);
    w.ok(&[ISSUER], vec![op]);
    w
}

#[test]
fn policies_are_fixed_at_definition_checked_and_shown() {
    let mut w = World::new();
    assert_fails(
        &w.define("ctl", None, Some("vault"), None),
        ErrorCode::NotFound,
        "controller template vault is not deployed",
    );
    assert_fails(
        &w.define("kusd", None, None, Some("kyc-typo")),
        ErrorCode::NotFound,
        "holder role kyc-typo is not defined",
    );
    assert!(
        !w.state
            .contains_key(&StateKey::Token(name("ctl")).to_bytes())
    );
    w.deploy(VAULT);
    let (status, events) = w.run_events(
        &[ISSUER],
        vec![define("ctl", None, Some("vault"), Some("kyc"))],
    );
    assert_eq!(status, TxStatus::Success);
    let token = w.token("ctl");
    assert_eq!(token.controller, Some(name("vault")));
    assert_eq!(token.holder_role, Some(name("kyc")));
    assert_eq!(token.issuer, w.acc(ISSUER));
    // The JSON view the API serves for `token/<symbol>` names both policies.
    let json = serde_json::to_value(&token).unwrap();
    assert_eq!(json["controller"], "vault");
    assert_eq!(json["holder_role"], "kyc");
    let attrs: BTreeMap<_, _> = events[0].attributes.iter().cloned().collect();
    assert_eq!(attrs["controller"], "vault");
    assert_eq!(attrs["holder_role"], "kyc");
    // Nothing redefines a token, so the policies cannot change.
    assert_fails(
        &w.define("ctl", None, None, None),
        ErrorCode::AlreadyExists,
        "already defined",
    );
    assert_eq!(w.token("ctl"), token);

    // A template whose first version is not 1 still counts, within the versions looked up.
    w.deploy(
        &VAULT
            .replace("id: vault", "id: late")
            .replace("version: 1", "version: 15"),
    );
    assert_eq!(
        w.define("late-units", None, Some("late"), None),
        TxStatus::Success
    );
    w.deploy(
        &VAULT
            .replace("id: vault", "id: later")
            .replace("version: 1", "version: 16"),
    );
    assert_fails(
        &w.define("later-units", None, Some("later"), None),
        ErrorCode::NotFound,
        "versions 0 to 15",
    );
}

#[test]
fn no_direct_operation_changes_a_controlled_token() {
    let mut w = controlled();
    let (a, b) = (w.acc(A), w.acc(B));
    let before = w.token_state("ctl");
    w.refused(
        &[ISSUER],
        vec![mint("ctl", a, 1)],
        ErrorCode::Unauthorized,
        "controlled by workflow template vault",
    );
    w.refused(
        &[A],
        vec![transfer("ctl", b, 10)],
        ErrorCode::Unauthorized,
        "controlled by workflow template vault",
    );
    // Even more than the balance: the controller is refused before the balance is looked at.
    w.refused(
        &[B],
        vec![transfer("ctl", a, 1)],
        ErrorCode::Unauthorized,
        "controlled",
    );
    w.refused(
        &[A],
        vec![burn("ctl", 10)],
        ErrorCode::Unauthorized,
        "controlled",
    );
    w.refused(
        &[A],
        vec![leg("ctl", a, b, 10)],
        ErrorCode::Unauthorized,
        "controlled",
    );
    w.refused(
        &[A],
        vec![hold("h1", "ctl", b, 10)],
        ErrorCode::Unauthorized,
        "controlled",
    );
    // Market escrow: a sell order of the token, a quote delivering it.
    w.ok(
        &[ISSUER],
        vec![Operation::OpenMarket(OpenMarket {
            id: name("m"),
            base: name("ctl"),
            quote: name("usd"),
            interval_blocks: 1,
        })],
    );
    w.refused(
        &[A],
        vec![Operation::PlaceOrder(PlaceOrder {
            market: name("m"),
            order: name("o1"),
            side: Side::Sell,
            quantity: Amount(10),
            limit_price: Amount(1),
        })],
        ErrorCode::Unauthorized,
        "controlled",
    );
    w.ok(
        &[B],
        vec![Operation::RequestQuote(RequestQuote {
            id: name("r"),
            want_symbol: name("ctl"),
            want_quantity: Amount(5),
            pay_symbol: name("usd"),
            deadline_height: 1_000,
        })],
    );
    w.refused(
        &[A],
        vec![Operation::SubmitQuote(SubmitQuote {
            rfq: name("r"),
            quote: name("q"),
            unit_price: Amount(2),
        })],
        ErrorCode::Unauthorized,
        "controlled",
    );
    assert!(w.token_state("ctl") == before);
    assert_eq!(w.balance("ctl", A), 100);
    assert_eq!(w.token("ctl").supply, Amount(100));
}

#[test]
fn the_controlling_templates_effects_mint_move_and_burn() {
    let mut w = controlled();
    // Minting by the effect: supply and balance together, the event names the instance.
    let op = issue(&w, "v1", B, 50);
    let (status, events) = w.run_events(&[ISSUER], vec![op]);
    assert_eq!(status, TxStatus::Success);
    let minted = events.iter().find(|e| e.topic == "token.minted").unwrap();
    let attrs: BTreeMap<_, _> = minted.attributes.iter().cloned().collect();
    assert_eq!(attrs["instance"], "v1");
    assert_eq!(attrs["amount"], "50");
    assert_eq!((w.balance("ctl", B), w.token("ctl").supply.0), (50, 150));

    // Moving: the sender signs.
    let op = movement(&w, "v1", "move", A, C, 30);
    w.refused(
        &[B],
        vec![op.clone()],
        ErrorCode::MissingSignature,
        "must sign",
    );
    w.ok(&[B, A], vec![op]);
    assert_eq!((w.balance("ctl", A), w.balance("ctl", C)), (70, 30));

    // Escrow and its release, inside the instance.
    let op = movement(&w, "v1", "escrow", C, B, 20);
    w.ok(&[C], vec![op]);
    assert_eq!((w.held("ctl"), w.balance("ctl", C)), (20, 10));
    // The hold is the instance's: the token operations cannot settle it.
    w.refused(
        &[C],
        vec![Operation::ReleaseHold(ReleaseHold { id: name("v1.e") })],
        ErrorCode::Unauthorized,
        "settled only by the transitions of workflow instance v1",
    );
    w.ok(&[B], vec![step("v1", "pay", &[])]);
    assert_eq!((w.held("ctl"), w.balance("ctl", B)), (0, 70));

    // Burning: the holder signs, the balance must cover it.
    let op = retire(&w, "v1", B, 10);
    w.refused(
        &[ISSUER],
        vec![op.clone()],
        ErrorCode::MissingSignature,
        "must sign",
    );
    let too_much = retire(&w, "v1", C, 11);
    w.refused(
        &[C],
        vec![too_much],
        ErrorCode::InsufficientBalance,
        "holds 10",
    );
    let (status, events) = w.run_events(&[ISSUER, B], vec![op]);
    assert_eq!(status, TxStatus::Success);
    assert!(events.iter().any(|e| e.topic == "token.burned"));
    assert_eq!((w.balance("ctl", B), w.token("ctl").supply.0), (60, 140));

    // The cap holds for effects too, and a mint needs a registered account.
    let op = issue(&w, "v1", A, 10_000);
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::SupplyExceeded,
        "cap is 10000",
    );
    let stranger = Keypair::from_seed([99; 32]).account();
    let op = step(
        "v1",
        "issue",
        &[("to", stranger.to_string()), ("amount", "1".to_owned())],
    );
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::UnknownAccount,
        "not registered",
    );
    assert_eq!(w.balances("ctl") + w.held("ctl"), w.token("ctl").supply.0);
}

#[test]
fn only_the_issuers_instances_of_the_controller_touch_the_token() {
    let mut w = controlled();
    // Another template, even one with the same transitions: refused.
    w.deploy(&VAULT.replace("id: vault", "id: copycat"));
    assert_eq!(w.vault(ISSUER, "c1", "copycat", "ctl"), TxStatus::Success);
    let op = issue(&w, "c1", B, 5);
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::Unauthorized,
        "mint and burn effects change only tokens their template controls",
    );
    let op = movement(&w, "c1", "move", A, B, 5);
    w.refused(
        &[A],
        vec![op],
        ErrorCode::Unauthorized,
        "instance c1 is of template copycat",
    );

    // The right template in an instance somebody else created (binding the roles as it
    // pleased): refused, for minting and for moving.
    assert_eq!(w.vault(A, "rogue", "vault", "ctl"), TxStatus::Success);
    let op = issue(&w, "rogue", A, 5);
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::Unauthorized,
        "created by its issuer",
    );
    let op = movement(&w, "rogue", "move", A, B, 5);
    w.refused(
        &[A],
        vec![op],
        ErrorCode::Unauthorized,
        "created by its issuer",
    );

    // Another version of the controller, deployed by someone else, in the issuer's instance
    // counts: the issuer chose it.
    w.deploy(&VAULT.replace("version: 1", "version: 2"));
    let op = Operation::CreateInstance(CreateInstance {
        instance: name("v2"),
        template: name("vault"),
        version: 2,
        parties: vec![(name("keeper"), w.acc(ISSUER)), (name("party"), w.acc(A))],
        params: vec![(name("unit"), "ctl".to_owned())],
    });
    w.ok(&[ISSUER], vec![op]);
    let op = issue(&w, "v2", A, 5);
    w.ok(&[ISSUER], vec![op]);
    assert_eq!(w.balance("ctl", A), 105);

    // Mint and burn effects only for a token the template controls: not for `usd`.
    assert_eq!(w.vault(ISSUER, "u1", "vault", "usd"), TxStatus::Success);
    let op = issue(&w, "u1", A, 5);
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::Unauthorized,
        "not controlled by any template",
    );
    // ... refused before the missing signature is even considered.
    let op = retire(&w, "u1", B, 5);
    w.refused(
        &[ISSUER],
        vec![op],
        ErrorCode::Unauthorized,
        "not controlled",
    );
    // Transfers of a token without a controller still run in any instance.
    let op = movement(&w, "u1", "move", A, B, 5);
    w.ok(&[A], vec![op]);
    assert_eq!(w.balance("usd", B), 1005);
}

#[test]
fn every_credit_needs_the_holder_role() {
    let mut w = World::new();
    let (issuer, a, b, c) = (w.acc(ISSUER), w.acc(A), w.acc(B), w.acc(C));
    assert_eq!(w.define("kusd", None, None, Some("kyc")), TxStatus::Success);
    w.refused(
        &[ISSUER],
        vec![mint("kusd", b, 10)],
        ErrorCode::Unauthorized,
        "only accounts holding ledger role kyc may receive kusd",
    );
    w.ok(
        &[ISSUER],
        vec![mint("kusd", a, 500), mint("kusd", issuer, 500)],
    );
    w.refused(
        &[A],
        vec![transfer("kusd", b, 10)],
        ErrorCode::Unauthorized,
        "kyc",
    );
    w.refused(
        &[A],
        vec![leg("kusd", a, c, 10)],
        ErrorCode::Unauthorized,
        "kyc",
    );
    w.refused(
        &[A],
        vec![hold("h1", "kusd", b, 10)],
        ErrorCode::Unauthorized,
        "kyc",
    );
    // Through a workflow effect, too.
    w.deploy(VAULT);
    assert_eq!(w.vault(ISSUER, "p1", "vault", "kusd"), TxStatus::Success);
    let op = movement(&w, "p1", "move", A, C, 10);
    w.refused(&[A], vec![op], ErrorCode::Unauthorized, "kyc");
    let op = movement(&w, "p1", "escrow", A, C, 10);
    w.refused(&[A], vec![op], ErrorCode::Unauthorized, "kyc");

    // The identity authority verifies B: B may receive.
    let grant = |who| {
        Operation::AssignRole(AssignRole {
            account: who,
            role: name("kyc"),
        })
    };
    w.ok(&[ADMIN], vec![grant(b)]);
    w.ok(
        &[A],
        vec![transfer("kusd", b, 100), hold("h1", "kusd", b, 50)],
    );
    let op = movement(&w, "p1", "move", A, B, 10);
    w.ok(&[A], vec![op]);
    assert_eq!(w.balance("kusd", B), 110);

    // Revoking the role keeps the balance and lets B pay, but B receives nothing more, not
    // even the hold made out to it.
    w.ok(
        &[ADMIN],
        vec![Operation::RevokeRole(RevokeRole {
            account: b,
            role: name("kyc"),
        })],
    );
    assert_eq!(w.balance("kusd", B), 110);
    w.refused(
        &[A],
        vec![Operation::ReleaseHold(ReleaseHold { id: name("h1") })],
        ErrorCode::Unauthorized,
        "kyc",
    );
    w.refused(
        &[A],
        vec![transfer("kusd", b, 1)],
        ErrorCode::Unauthorized,
        "kyc",
    );
    w.ok(&[B], vec![transfer("kusd", a, 10)]);
    assert_eq!(w.balance("kusd", B), 100);
    assert_eq!(
        w.balances("kusd") + w.held("kusd"),
        w.token("kusd").supply.0
    );
}

#[test]
fn market_settlement_to_an_account_without_the_holder_role_is_refused() {
    let mut w = World::new();
    let (a, c) = (w.acc(A), w.acc(C));
    assert_eq!(w.define("kusd", None, None, Some("kyc")), TxStatus::Success);
    w.ok(&[ISSUER], vec![mint("kusd", a, 500)]);

    // Double auction: A sells kusd; C (not verified) may not bid for it, since a fill would
    // credit it.
    w.ok(
        &[ISSUER],
        vec![Operation::OpenMarket(OpenMarket {
            id: name("m"),
            base: name("kusd"),
            quote: name("usd"),
            interval_blocks: 1,
        })],
    );
    let order = |id: &str, side, price| {
        Operation::PlaceOrder(PlaceOrder {
            market: name("m"),
            order: name(id),
            side,
            quantity: Amount(10),
            limit_price: Amount(price),
        })
    };
    w.ok(&[A], vec![order("ask", Side::Sell, 2)]);
    w.refused(
        &[C],
        vec![order("bid", Side::Buy, 3)],
        ErrorCode::Unauthorized,
        "only accounts holding ledger role kyc may receive kusd",
    );
    // Verified, C bids; its verification is then withdrawn: its order sits the clearing out
    // (nothing reaches C, the market is not blocked), and fills once C is verified again.
    w.ok(&[ADMIN], vec![grant_kyc(c)]);
    w.ok(&[C], vec![order("bid", Side::Buy, 3)]);
    w.ok(&[ADMIN], vec![revoke_kyc(c)]);
    w.ok(
        &[ISSUER],
        vec![Operation::ClearMarket(ClearMarket { market: name("m") })],
    );
    assert_eq!(w.balance_of("kusd", &c), 0);
    w.ok(&[ADMIN], vec![grant_kyc(c)]);
    w.ok(
        &[ISSUER],
        vec![Operation::ClearMarket(ClearMarket { market: name("m") })],
    );
    assert_eq!(w.balance_of("kusd", &c), 10);
    w.ok(&[ADMIN], vec![revoke_kyc(c)]);

    // Request for quote: C wants kusd, A quotes it from escrow; acceptance would credit C.
    w.ok(
        &[C],
        vec![Operation::RequestQuote(RequestQuote {
            id: name("r"),
            want_symbol: name("kusd"),
            want_quantity: Amount(5),
            pay_symbol: name("usd"),
            deadline_height: 1_000,
        })],
    );
    w.ok(
        &[A],
        vec![Operation::SubmitQuote(SubmitQuote {
            rfq: name("r"),
            quote: name("q"),
            unit_price: Amount(2),
        })],
    );
    w.refused(
        &[C],
        vec![Operation::AcceptQuote(AcceptQuote {
            rfq: name("r"),
            quote: name("q"),
        })],
        ErrorCode::Unauthorized,
        "kyc",
    );
    // Once C is verified, both settle.
    w.ok(
        &[ADMIN],
        vec![Operation::AssignRole(AssignRole {
            account: c,
            role: name("kyc"),
        })],
    );
    w.ok(
        &[C],
        vec![Operation::AcceptQuote(AcceptQuote {
            rfq: name("r"),
            quote: name("q"),
        })],
    );
    assert_eq!(w.balance_of("kusd", &c), 15);
}

fn grant_kyc(who: AccountId) -> Operation {
    Operation::AssignRole(AssignRole {
        account: who,
        role: name("kyc"),
    })
}

fn revoke_kyc(who: AccountId) -> Operation {
    Operation::RevokeRole(RevokeRole {
        account: who,
        role: name("kyc"),
    })
}

#[test]
fn mint_and_burn_effects_are_validated_at_deploy() {
    let t = parse_yaml(VAULT).unwrap();
    let issue = t
        .transitions
        .iter()
        .find(|t| t.name.as_str() == "issue")
        .unwrap();
    assert!(matches!(issue.effects[0], Effect::Mint { .. }));
    assert_eq!(issue.effects[0].kind(), "mint");
    // Round trip through JSON and the on-chain encoding.
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(
        serde_json::from_str::<weft_execution::workflow::Template>(&json).unwrap(),
        t
    );
    let bytes = borsh::to_vec(&t).unwrap();
    assert_eq!(
        borsh::from_slice::<weft_execution::workflow::Template>(&bytes).unwrap(),
        t
    );

    let kinds = |source: &str| -> Vec<TemplateErrorKind> {
        parse_yaml(source)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    };
    let bad_role = VAULT.replace(
        "mint: { token: $unit, to: $to",
        "mint: { token: $unit, to: nobody",
    );
    assert_eq!(kinds(&bad_role), vec![TemplateErrorKind::UnknownRole]);
    let bad_token = VAULT.replace(
        "burn: { token: $unit, from: $from, amount: $amount }",
        "burn: { token: $amount, from: $from, amount: $amount }",
    );
    assert_eq!(kinds(&bad_token), vec![TemplateErrorKind::TypeError]);
    let bad_amount = VAULT.replace(
        "mint: { token: $unit, to: $to, amount: $amount }",
        "mint: { token: $unit, to: $to, amount: $to }",
    );
    assert_eq!(kinds(&bad_amount), vec![TemplateErrorKind::TypeError]);
    let bad_party = VAULT.replace(
        "burn: { token: $unit, from: $from",
        "burn: { token: $unit, from: $nothing",
    );
    assert_eq!(kinds(&bad_party), vec![TemplateErrorKind::UnknownParameter]);
    let unknown_key = VAULT.replace(
        "mint: { token: $unit, to: $to, amount: $amount }",
        "mint: { token: $unit, to: $to, amount: $amount, from: keeper }",
    );
    assert_eq!(kinds(&unknown_key), vec![TemplateErrorKind::Schema]);
}

/// `signers` without repetitions, in order.
fn distinct(signers: Vec<usize>) -> Vec<usize> {
    signers.into_iter().fold(Vec::new(), |mut v, s| {
        if !v.contains(&s) {
            v.push(s);
        }
        v
    })
}

/// The accounts of a random sequence: the issuer and three members.
const ACTORS: [usize; 4] = [ISSUER, A, B, C];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random direct operations and workflow mints, burns, transfers and escrows on a
    /// controlled token: supply always equals balances plus escrow, it moves exactly by
    /// what successful mints and burns say, and no direct operation ever changes the token.
    #[test]
    fn controlled_supply_is_conserved_and_direct_operations_never_touch_it(
        ops in prop::collection::vec((0u8..12, 0usize..4, 0usize..4, 0u128..120), 1..40)
    ) {
        let mut w = controlled();
        let mut supply = w.token("ctl").supply.0;
        for (kind, i, j, amount) in ops {
            let (p, q) = (ACTORS[i], ACTORS[j]);
            let (pa, qa) = (w.acc(p), w.acc(q));
            let before = w.token_state("ctl");
            let direct = match kind {
                0 => Some((vec![ISSUER], mint("ctl", pa, amount))),
                1 => Some((vec![p], transfer("ctl", qa, amount))),
                2 => Some((vec![p], burn("ctl", amount))),
                3 => Some((vec![p, q], leg("ctl", pa, qa, amount))),
                4 => Some((vec![p], hold("h", "ctl", qa, amount))),
                _ => None,
            };
            if let Some((signers, op)) = direct {
                let status = w.run(&distinct(signers), vec![op]);
                prop_assert!(code(&status).is_some(), "a direct operation succeeded");
                prop_assert!(w.token_state("ctl") == before, "a direct operation changed ctl");
                continue;
            }
            let (signers, op) = match kind {
                5 | 6 => (vec![ISSUER], issue(&w, "v1", p, amount)),
                7 => (vec![ISSUER, p], retire(&w, "v1", p, amount)),
                8 => (vec![p, q], movement(&w, "v1", "move", p, q, amount)),
                9 => (vec![p], movement(&w, "v1", "escrow", p, q, amount)),
                10 => (vec![p], step("v1", "pay", &[])),
                _ => (vec![q], step("v1", "refund", &[])),
            };
            let status = w.run(&distinct(signers), vec![op]);
            if status == TxStatus::Success {
                match kind {
                    5 | 6 => supply += amount,
                    7 => supply -= amount,
                    _ => {}
                }
            } else {
                prop_assert!(w.token_state("ctl") == before, "a refused step changed ctl");
            }
            prop_assert_eq!(w.token("ctl").supply.0, supply);
            prop_assert_eq!(w.balances("ctl") + w.held("ctl"), supply);
        }
    }
}

// ---- the e-mortgage depository: double entry by construction ----

const KEEPER_OP: usize = 1; // the issuer of both depot tokens
const KEEPER_CTL: usize = 2;
const ENTRY_OP: usize = 3;
const ENTRY_CTL: usize = 4;
/// Banks holding depo accounts.
const BANKS: [usize; 3] = [5, 6, 7];
/// Depository slots a random lifecycle plays with.
const SLOTS: usize = 2;

/// Seven members: the two depositories' operators and controllers, three banks; the depot
/// tokens are defined by the record-keeping operator, controlled by the template.
fn depository() -> World {
    let mut w = World::with_members(6, &[]);
    w.deploy(E_MORTGAGE);
    w.ok(
        &[KEEPER_OP],
        vec![
            define("depo", None, Some("e-mortgage-depository"), None),
            define("store", None, Some("e-mortgage-depository"), None),
        ],
    );
    w
}

/// A signed document between `parties`, anchored by the first.
fn signed_document(w: &mut World, id: &str, parties: &[usize]) {
    let hash = weft_crypto::sha256(id.as_bytes());
    w.ok(
        parties,
        vec![
            Operation::AnchorDocument(AnchorDocument {
                id: name(id),
                hash,
                media_type: "text/plain".into(),
                uri: format!("dds://{id}"),
                parties: parties.iter().map(|&p| w.acc(p)).collect(),
                required_signatures: u8::try_from(parties.len()).unwrap(),
            }),
            Operation::SignDocument(SignDocument {
                id: name(id),
                version: 1,
                hash,
            }),
        ],
    );
}

/// One step of a random depository lifecycle.
#[derive(Clone, Debug)]
enum Action {
    /// A bank submits a new mortgage in slot `slot` (if free).
    Submit {
        slot: usize,
        bank: usize,
    },
    /// Admission, with or without the controller's hand.
    Admit {
        slot: usize,
        two_hands: bool,
    },
    /// The holder orders a transfer to a bank.
    Order {
        slot: usize,
        acquirer: usize,
    },
    Transfer {
        slot: usize,
        two_hands: bool,
    },
    Reject {
        slot: usize,
    },
    Redeem {
        slot: usize,
    },
    Cancel {
        slot: usize,
        two_hands: bool,
    },
    /// The record-keeping operator mints a depo or storage unit directly.
    DirectMint {
        store: bool,
        bank: usize,
    },
    /// A bank moves a depo unit with a plain transfer.
    DirectTransfer {
        from: usize,
        to: usize,
    },
    /// A bank or the operator burns a unit directly.
    DirectBurn {
        store: bool,
        bank: usize,
    },
    /// The next step of the mortgage in `slot`, whatever state it is in: `choice` picks
    /// among the ways on, `two_hands` whether the controller co-signs, `bank` the submitter
    /// or acquirer.
    Advance {
        slot: usize,
        choice: u8,
        two_hands: bool,
        bank: usize,
    },
}

fn arb_action() -> impl Strategy<Value = Action> {
    let bank = 0..BANKS.len();
    prop_oneof![
        12 => (0..SLOTS, any::<u8>(), prop::bool::weighted(0.8), bank.clone()).prop_map(
            |(slot, choice, two_hands, bank)| Action::Advance { slot, choice, two_hands, bank }
        ),
        1 => (any::<bool>(), bank.clone()).prop_map(|(store, bank)| Action::DirectMint { store, bank }),
        1 => (bank.clone(), bank.clone()).prop_map(|(from, to)| Action::DirectTransfer { from, to }),
        1 => (any::<bool>(), bank).prop_map(|(store, bank)| Action::DirectBurn { store, bank }),
    ]
}

/// The instance in each slot, by generation (a slot is reused once its mortgage ends).
struct Depository {
    w: World,
    slots: [Option<String>; SLOTS],
    generation: usize,
}

impl Depository {
    fn instance(&self, slot: usize) -> Option<(String, Instance)> {
        let id = self.slots[slot].clone()?;
        let instance = self.w.instance(&id);
        Some((id, instance))
    }

    fn account_param(instance: &Instance, param: &str) -> AccountId {
        match &instance.params[&name(param)] {
            ParamValue::Account(a) => *a,
            other => panic!("{param} is {other:?}"),
        }
    }

    fn index_of(&self, account: &AccountId) -> usize {
        (0..self.w.keys.len())
            .find(|&i| self.w.acc(i) == *account)
            .unwrap()
    }

    /// Plays one action; illegal ones are expected to be refused, others may be.
    fn play(&mut self, action: &Action) -> Result<(), TestCaseError> {
        let bank_key = |b: usize| BANKS[b];
        match *action {
            Action::Advance {
                slot,
                choice,
                two_hands,
                bank,
            } => {
                let state = self.instance(slot).map(|(_, i)| i.state.to_string());
                let next = match state.as_deref() {
                    None | Some("cancelled" | "refused") => Action::Submit { slot, bank },
                    Some("submitted") => Action::Admit { slot, two_hands },
                    Some("stored") if choice % 2 == 0 => Action::Order {
                        slot,
                        acquirer: bank,
                    },
                    Some("stored") => Action::Redeem { slot },
                    Some("transfer_ordered") if choice % 3 == 0 => Action::Reject { slot },
                    Some("transfer_ordered") => Action::Transfer { slot, two_hands },
                    Some("redemption_requested") => Action::Cancel { slot, two_hands },
                    Some(other) => panic!("unknown state {other}"),
                };
                return self.play(&next);
            }
            Action::Submit { slot, bank } => {
                if let Some((_, i)) = self.instance(slot)
                    && !matches!(i.state.as_str(), "cancelled" | "refused")
                {
                    return Ok(());
                }
                self.generation += 1;
                let id = format!("m{}", self.generation);
                let holder = bank_key(bank);
                let file = format!("{id}-file");
                signed_document(&mut self.w, &file, &[holder]);
                let holder_account = self.w.acc(holder).to_string();
                let parties = vec![
                    (name("keeper_operator"), self.w.acc(KEEPER_OP)),
                    (name("keeper_controller"), self.w.acc(KEEPER_CTL)),
                    (name("entry_operator"), self.w.acc(ENTRY_OP)),
                    (name("entry_controller"), self.w.acc(ENTRY_CTL)),
                    (name("holder"), self.w.acc(holder)),
                    (name("regulator"), self.w.acc(ADMIN)),
                ];
                let params = [
                    ("mortgage", id.clone()),
                    ("mortgage_file", file),
                    ("depo_units", "depo".to_owned()),
                    ("store_units", "store".to_owned()),
                    ("holder_account", holder_account.clone()),
                    ("acquirer_account", holder_account),
                ];
                let owner = self.w.acc(holder);
                self.w.ok(
                    &[KEEPER_OP],
                    vec![
                        Operation::RegisterAsset(RegisterAsset {
                            id: name(&id),
                            class: name("e-mortgage"),
                            owner,
                            attributes: vec![],
                        }),
                        Operation::CreateInstance(CreateInstance {
                            instance: name(&id),
                            template: name("e-mortgage-depository"),
                            version: 1,
                            parties,
                            params: params.iter().map(|(k, v)| (name(k), v.clone())).collect(),
                        }),
                    ],
                );
                self.slots[slot] = Some(id);
            }
            Action::Admit { slot, two_hands } => {
                let Some((id, i)) = self.instance(slot) else {
                    return Ok(());
                };
                let holder = self.index_of(&Self::account_param(&i, "holder_account"));
                let mut signers = vec![KEEPER_OP, holder];
                if two_hands {
                    signers.push(KEEPER_CTL);
                }
                let submitted = i.state.as_str() == "submitted";
                let status = self
                    .w
                    .run(&signers, vec![step(&id, "accept_for_storage", &[])]);
                if !two_hands && submitted {
                    prop_assert_eq!(code(&status), Some(ErrorCode::Unauthorized));
                }
                if !two_hands || !submitted {
                    prop_assert!(code(&status).is_some());
                }
            }
            Action::Order { slot, acquirer } => {
                let Some((id, i)) = self.instance(slot) else {
                    return Ok(());
                };
                let holder = self.index_of(&Self::account_param(&i, "holder_account"));
                let acquirer = bank_key(acquirer);
                if acquirer == holder || i.state.as_str() != "stored" {
                    return Ok(());
                }
                self.generation += 1;
                let order = format!("{id}-order-{}", self.generation);
                signed_document(&mut self.w, &order, &[holder, acquirer]);
                let op = step(
                    &id,
                    "order_transfer",
                    &[
                        ("acquirer", self.w.acc(acquirer).to_string()),
                        ("order", order),
                    ],
                );
                let status = self.w.run(&[holder], vec![op]);
                prop_assert_eq!(status, TxStatus::Success);
            }
            Action::Transfer { slot, two_hands } => {
                let Some((id, _)) = self.instance(slot) else {
                    return Ok(());
                };
                let signers: &[usize] = if two_hands {
                    &[ENTRY_OP, ENTRY_CTL]
                } else {
                    &[ENTRY_OP]
                };
                let status = self.w.run(signers, vec![step(&id, "transfer_rights", &[])]);
                if !two_hands {
                    prop_assert!(code(&status).is_some());
                }
            }
            Action::Reject { slot } => {
                let Some((id, _)) = self.instance(slot) else {
                    return Ok(());
                };
                self.w
                    .run(&[ENTRY_OP, ENTRY_CTL], vec![step(&id, "reject_order", &[])]);
            }
            Action::Redeem { slot } => {
                let Some((id, i)) = self.instance(slot) else {
                    return Ok(());
                };
                let holder = self.index_of(&Self::account_param(&i, "holder_account"));
                self.w
                    .run(&[holder], vec![step(&id, "request_redemption", &[])]);
            }
            Action::Cancel { slot, two_hands } => {
                let Some((id, _)) = self.instance(slot) else {
                    return Ok(());
                };
                let signers: &[usize] = if two_hands {
                    &[KEEPER_OP, KEEPER_CTL]
                } else {
                    &[KEEPER_OP]
                };
                let status = self.w.run(signers, vec![step(&id, "cancel", &[])]);
                if !two_hands {
                    prop_assert!(code(&status).is_some());
                }
            }
            Action::DirectMint { store, bank } => {
                let symbol = if store { "store" } else { "depo" };
                let to = self.w.acc(bank_key(bank));
                let status = self.w.run(&[KEEPER_OP], vec![mint(symbol, to, 1)]);
                prop_assert_eq!(code(&status), Some(ErrorCode::Unauthorized));
            }
            Action::DirectTransfer { from, to } => {
                let to = self.w.acc(bank_key(to));
                let status = self.w.run(&[bank_key(from)], vec![transfer("depo", to, 1)]);
                prop_assert_eq!(code(&status), Some(ErrorCode::Unauthorized));
            }
            Action::DirectBurn { store, bank } => {
                let (symbol, who) = if store {
                    ("store", KEEPER_OP)
                } else {
                    ("depo", bank_key(bank))
                };
                let status = self.w.run(&[who], vec![burn(symbol, 1)]);
                prop_assert_eq!(code(&status), Some(ErrorCode::Unauthorized));
            }
        }
        Ok(())
    }

    /// Double entry: every depo unit (on depo accounts or blocked in an order or redemption)
    /// has its storage unit, both equal each token's supply and the number of mortgages in
    /// the depository.
    fn check_books(&self) -> Result<(), TestCaseError> {
        let w = &self.w;
        let passive = w.balances("depo") + w.held("depo");
        let active = w.balances("store") + w.held("store");
        prop_assert_eq!(passive, active, "passive total != active total");
        prop_assert_eq!(passive, w.token("depo").supply.0);
        prop_assert_eq!(active, w.token("store").supply.0);
        // Only the storage account holds active units.
        prop_assert_eq!(active, w.balance("store", KEEPER_OP));
        let mut in_depository = 0u128;
        for slot in 0..SLOTS {
            if let Some((_, i)) = self.instance(slot)
                && matches!(
                    i.state.as_str(),
                    "stored" | "transfer_ordered" | "redemption_requested"
                )
            {
                in_depository += 1;
            }
        }
        // Slots only hold the latest mortgage of each; older ones ended (cancelled/refused).
        prop_assert_eq!(active, in_depository);
        for bank in BANKS {
            prop_assert!(w.balance("depo", bank) <= in_depository);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random e-mortgage lifecycles (admissions, orders, transfers, rejections,
    /// redemptions, cancellations, with one or two hands) mixed with direct mints,
    /// transfers and burns of the depot tokens: after every step the passive total equals
    /// the active total, and both equal the mortgages in the depository.
    #[test]
    fn e_mortgage_double_entry_holds_after_every_step(
        actions in prop::collection::vec(arb_action(), 1..60)
    ) {
        let mut d = Depository { w: depository(), slots: [None, None], generation: 0 };
        d.check_books()?;
        for action in &actions {
            d.play(action)?;
            d.check_books()?;
        }
    }
}

#[test]
fn e_mortgage_units_exist_only_between_admission_and_cancellation() {
    let mut d = Depository {
        w: depository(),
        slots: [None, None],
        generation: 0,
    };
    let script = [
        Action::Submit { slot: 0, bank: 0 },
        Action::Admit {
            slot: 0,
            two_hands: true,
        },
        Action::Order {
            slot: 0,
            acquirer: 1,
        },
        Action::Transfer {
            slot: 0,
            two_hands: true,
        },
        Action::Redeem { slot: 0 },
    ];
    for action in &script {
        d.play(action).unwrap();
        d.check_books().unwrap();
    }
    let (id, i) = d.instance(0).unwrap();
    assert_eq!(i.state.as_str(), "redemption_requested");
    assert_eq!(d.w.token("depo").supply.0, 1);
    assert_eq!(d.w.held("depo"), 1);
    d.play(&Action::Cancel {
        slot: 0,
        two_hands: true,
    })
    .unwrap();
    d.check_books().unwrap();
    assert_eq!(d.w.instance(&id).state.as_str(), "cancelled");
    assert_eq!(
        (d.w.token("depo").supply.0, d.w.token("store").supply.0),
        (0, 0)
    );
}
