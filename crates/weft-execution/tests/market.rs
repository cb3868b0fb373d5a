//! The market module: requests for quote settled delivery-versus-payment out of escrow, and
//! periodic double auctions with uniform-price clearing. Each rule, each refusal (with its
//! code and no state change), a hand-computed clearing, and the invariants under random
//! sequences.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{Hold as HoldRecord, Market, Rfq, RfqStatus, Token},
};
use weft_types::{
    AcceptQuote, AccountId, Amount, CancelOrder, ClearMarket, CloseRfq, ErrorCode, Event, Genesis,
    GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, Name, OpenMarket,
    Operation, PlaceOrder, RequestQuote, SetFrozen, Side, SubmitQuote, Transaction, TxStatus,
    state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const START: u128 = 1000;

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
    issuer: Keypair,
    people: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
}

impl World {
    /// An issuer of `kwh` and `usd`, and four traders holding 1000 of each. Traders have only
    /// `market.*`: market operations move their tokens without `token.transfer`.
    fn new() -> Self {
        let issuer = Keypair::from_seed([1; 32]);
        let people: Vec<Keypair> = (2..=5u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut roles = BTreeMap::new();
        roles.insert(name("issuer"), vec!["token.*".to_owned()]);
        roles.insert(name("trader"), vec!["market.*".to_owned()]);
        let mut accounts = vec![GenesisAccount {
            account: issuer.account(),
            organization: name("org"),
            roles: vec![name("issuer")],
        }];
        accounts.extend(people.iter().map(|p| GenesisAccount {
            account: p.account(),
            organization: name("org"),
            roles: vec![name("trader")],
        }));
        let token = |symbol: &str| GenesisToken {
            symbol: name(symbol),
            display_name: symbol.into(),
            decimals: 0,
            issuer: issuer.account(),
            max_supply: None,
            balances: people
                .iter()
                .map(|p| (p.account(), Amount(START)))
                .collect(),
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
            tokens: vec![token("kwh"), token("usd")],
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

    fn p(&self, i: usize) -> Keypair {
        self.people[i].clone()
    }

    /// Runs one transaction by `who` in its own block; returns status and events.
    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
        let signer = who.account();
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
            &[who],
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

    /// Runs and expects success.
    fn ok(&mut self, who: &Keypair, ops: Vec<Operation>) -> Vec<Event> {
        let (status, events) = self.run(who, ops);
        assert_eq!(status, TxStatus::Success);
        events
    }

    /// State without the entries every transaction touches (nonces, height).
    fn business_state(&self) -> State {
        self.state
            .iter()
            .filter(|(k, _)| !k.starts_with(b"nonce/") && !k.starts_with(b"meta/height"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Runs and expects a refusal with `code` that leaves the state as it was.
    fn refused(&mut self, who: &Keypair, ops: Vec<Operation>, code: ErrorCode) {
        let before = self.business_state();
        let (status, events) = self.run(who, ops);
        match status {
            TxStatus::Failed { code: got, .. } => assert_eq!(got, code, "{status:?}"),
            TxStatus::Success => panic!("expected {code}, succeeded"),
        }
        assert!(events.is_empty());
        assert_eq!(
            self.business_state(),
            before,
            "a refused transaction changed state"
        );
    }

    fn balance(&self, symbol: &str, who: &Keypair) -> u128 {
        let key = StateKey::Balance(name(symbol), who.account()).to_bytes();
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

    fn rfq(&self, id: &str) -> Rfq {
        borsh::from_slice(&self.state[&StateKey::Rfq(name(id)).to_bytes()]).unwrap()
    }

    fn market(&self, id: &str) -> Market {
        borsh::from_slice(&self.state[&StateKey::Market(name(id)).to_bytes()]).unwrap()
    }

    fn records<T: borsh::BorshDeserialize>(&self, prefix: &[u8]) -> Vec<T> {
        self.state
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| borsh::from_slice::<T>(v).unwrap())
            .collect()
    }

    /// Everything in escrow for `symbol`: token holds, quotes, and market orders.
    fn escrow(&self, symbol: &str) -> u128 {
        let s = name(symbol);
        let holds: u128 = self
            .records::<HoldRecord>(b"hold/")
            .iter()
            .filter(|h| h.symbol == s)
            .map(|h| h.amount.0)
            .sum();
        let rfqs: u128 = self
            .records::<Rfq>(b"rfq/")
            .iter()
            .map(|r| r.escrow_of(&s))
            .sum();
        let markets: u128 = self
            .records::<Market>(b"market/")
            .iter()
            .map(|m| m.escrow_of(&s))
            .sum();
        holds + rfqs + markets
    }

    fn balances(&self, symbol: &str) -> u128 {
        let prefix = format!("balance/{symbol}/");
        self.records::<Amount>(prefix.as_bytes())
            .iter()
            .map(|a| a.0)
            .sum()
    }

    fn conserved(&self, symbol: &str) -> bool {
        self.balances(symbol) + self.escrow(symbol) == self.supply(symbol)
    }
}

fn attr<'e>(event: &'e Event, key: &str) -> &'e str {
    event
        .attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("event {} has no {key}", event.topic))
}

fn request(id: &str, quantity: u128, deadline: u64) -> Operation {
    Operation::RequestQuote(RequestQuote {
        id: name(id),
        want_symbol: name("kwh"),
        want_quantity: Amount(quantity),
        pay_symbol: name("usd"),
        deadline_height: deadline,
    })
}

fn quote(rfq: &str, id: &str, unit_price: u128) -> Operation {
    Operation::SubmitQuote(SubmitQuote {
        rfq: name(rfq),
        quote: name(id),
        unit_price: Amount(unit_price),
    })
}

fn accept(rfq: &str, id: &str) -> Operation {
    Operation::AcceptQuote(AcceptQuote {
        rfq: name(rfq),
        quote: name(id),
    })
}

fn close(rfq: &str) -> Operation {
    Operation::CloseRfq(CloseRfq { rfq: name(rfq) })
}

fn open_market(id: &str, interval: u64) -> Operation {
    Operation::OpenMarket(OpenMarket {
        id: name(id),
        base: name("kwh"),
        quote: name("usd"),
        interval_blocks: interval,
    })
}

fn order(id: &str, side: Side, quantity: u128, limit: u128) -> Operation {
    Operation::PlaceOrder(PlaceOrder {
        market: name("energy"),
        order: name(id),
        side,
        quantity: Amount(quantity),
        limit_price: Amount(limit),
    })
}

fn cancel(id: &str) -> Operation {
    Operation::CancelOrder(CancelOrder {
        market: name("energy"),
        order: name(id),
    })
}

fn clear() -> Operation {
    Operation::ClearMarket(ClearMarket {
        market: name("energy"),
    })
}

#[test]
fn rfq_settles_delivery_versus_payment_out_of_escrow() {
    let mut w = World::new();
    let [alice, bob, carol] = [w.p(0), w.p(1), w.p(2)];
    let deadline = w.height + 4;
    w.ok(&alice, vec![request("r1", 100, deadline)]);

    // Quoting escrows the quoter's delivery.
    w.ok(&bob, vec![quote("r1", "bob-q", 7)]);
    w.ok(&carol, vec![quote("r1", "carol-q", 6)]);
    assert_eq!(w.balance("kwh", &bob), 900);
    assert_eq!(w.balance("kwh", &carol), 900);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 200);
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // Acceptance: alice pays 6 * 100 to carol and receives carol's 100 kwh from escrow.
    let events = w.ok(&alice, vec![accept("r1", "carol-q")]);
    let settled = events
        .iter()
        .find(|e| e.topic == "market.rfq_settled")
        .unwrap();
    assert_eq!(attr(settled, "paid"), "600");
    assert_eq!(attr(settled, "delivered"), "100");
    assert_eq!(w.balance("usd", &alice), 400);
    assert_eq!(w.balance("kwh", &alice), 1100);
    assert_eq!(w.balance("usd", &carol), 1600);
    assert_eq!(w.balance("kwh", &carol), 900);
    // Bob's quote stays in escrow until the request closes.
    assert_eq!(w.balance("kwh", &bob), 900);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 100);
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // Closing refunds the quotes that were not accepted.
    let events = w.ok(&alice, vec![close("r1")]);
    assert_eq!(attr(&events[0], "refunded"), "100");
    assert_eq!(w.balance("kwh", &bob), 1000);
    assert_eq!(w.balance("usd", &bob), 1000);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 0);
    assert!(matches!(w.rfq("r1").status, RfqStatus::Closed { .. }));
    assert!(w.conserved("kwh") && w.conserved("usd"));
    assert_eq!(w.supply("kwh"), 4 * START);
    assert_eq!(w.supply("usd"), 4 * START);
}

#[test]
fn rfq_refusals_carry_their_code_and_change_nothing() {
    let mut w = World::new();
    let [alice, bob, carol, dave] = [w.p(0), w.p(1), w.p(2), w.p(3)];
    let deadline = w.height + 2;
    w.ok(&alice, vec![request("r1", 100, deadline)]);
    w.ok(&bob, vec![quote("r1", "bob-q", 20)]); // at the deadline: still in time
    assert_eq!(w.height, deadline);
    // After the deadline no more quotes.
    w.refused(
        &carol,
        vec![quote("r1", "carol-q", 5)],
        ErrorCode::InvalidArgument,
    );

    // Invalid requests.
    w.refused(
        &alice,
        vec![request("r1", 5, 100)],
        ErrorCode::AlreadyExists,
    );
    w.refused(
        &alice,
        vec![request("r2", 0, 100)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![request("r2", 5, 0)],
        ErrorCode::InvalidArgument,
    );
    // Quotes: the requester cannot quote; prices are positive; ids are unique per request.
    w.ok(&alice, vec![request("r2", 5, 1000)]);
    w.refused(
        &alice,
        vec![quote("r2", "q", 5)],
        ErrorCode::InvalidArgument,
    );
    w.refused(&bob, vec![quote("nope", "q", 5)], ErrorCode::NotFound);
    w.refused(&bob, vec![quote("r2", "q", 0)], ErrorCode::InvalidArgument);
    w.ok(&carol, vec![quote("r2", "q", 5)]);
    w.refused(&dave, vec![quote("r2", "q", 4)], ErrorCode::AlreadyExists);

    // A quoter without the delivery in hand cannot quote.
    w.ok(&alice, vec![request("big", 2000, w.height + 5)]);
    w.refused(
        &dave,
        vec![quote("big", "q", 1)],
        ErrorCode::InsufficientBalance,
    );

    // Acceptance: only the requester, only a known quote, only with the payment in hand.
    w.refused(&bob, vec![accept("r1", "bob-q")], ErrorCode::Unauthorized);
    w.refused(&carol, vec![accept("r1", "bob-q")], ErrorCode::Unauthorized);
    w.refused(&alice, vec![accept("r1", "nobody")], ErrorCode::NotFound);
    // 20 * 100 = 2000 usd > 1000.
    w.refused(
        &alice,
        vec![accept("r1", "bob-q")],
        ErrorCode::InsufficientBalance,
    );

    // All or nothing: a later failing operation undoes a settled acceptance.
    w.ok(&alice, vec![request("r3", 10, w.height + 50)]);
    w.ok(&carol, vec![quote("r3", "c", 3)]);
    w.refused(
        &alice,
        vec![accept("r3", "c"), accept("r3", "c")],
        ErrorCode::InvalidArgument,
    );
    w.ok(&alice, vec![accept("r3", "c")]);
    assert_eq!(w.balance("usd", &carol), 1030);
    assert_eq!(w.balance("kwh", &carol), 1000 - 5 - 10); // r2's quote is still in escrow
    assert_eq!(w.balance("kwh", &alice), 1010);
    // Double acceptance, and quoting on an accepted request.
    w.refused(&alice, vec![accept("r3", "c")], ErrorCode::InvalidArgument);
    w.refused(&dave, vec![quote("r3", "d", 1)], ErrorCode::InvalidArgument);

    // Closing: only the requester before the deadline, anyone after; once.
    w.refused(&carol, vec![close("r3")], ErrorCode::Unauthorized);
    w.ok(&bob, vec![close("r1")]); // past r1's deadline: the quoter recovers its escrow
    assert_eq!(w.balance("kwh", &bob), 1000);
    w.refused(&alice, vec![close("r1")], ErrorCode::InvalidArgument);
    w.refused(
        &alice,
        vec![accept("r1", "bob-q")],
        ErrorCode::InvalidArgument,
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

/// A hand-computed clearing.
///
/// Bids: p0 20 @ 10, p1 35 @ 7, p2 30 @ 5. Asks: p3 30 @ 4, p1 40 @ 6, p3 10 @ 6 (placed
/// later than p1's ask at the same price), p2 50 @ 9.
///
/// Greedy matching: 10×4 for 20; 7×4 for 10 (the 4-ask is done); 7×6 (p1's ask, earlier)
/// for 25; then the 5-bid is below every remaining ask. Volume 55; marginal bid 7, marginal
/// ask 6; price = 6 + (7 - 6) / 2 = 6.
#[test]
fn double_auction_clears_at_a_uniform_price_with_exact_fills_and_refunds() {
    let mut w = World::new();
    let p: Vec<Keypair> = (0..4).map(|i| w.p(i)).collect();
    w.ok(&p[0], vec![open_market("energy", 3)]);
    let opened = w.height;
    // Too early: the first clearing is due interval blocks after opening.
    w.refused(&p[1], vec![clear()], ErrorCode::InvalidArgument);

    w.ok(&p[0], vec![order("b-p0", Side::Buy, 20, 10)]);
    w.ok(&p[1], vec![order("b-p1", Side::Buy, 35, 7)]);
    w.ok(&p[2], vec![order("b-p2", Side::Buy, 30, 5)]);
    w.ok(&p[3], vec![order("a-p3", Side::Sell, 30, 4)]);
    w.ok(&p[1], vec![order("a-p1", Side::Sell, 40, 6)]);
    w.ok(&p[3], vec![order("a-p3b", Side::Sell, 10, 6)]);
    w.ok(&p[2], vec![order("a-p2", Side::Sell, 50, 9)]);
    assert_eq!(w.balance("usd", &p[0]), 800); // 20 * 10 in escrow
    assert_eq!(w.balance("usd", &p[1]), 755); // 35 * 7
    assert_eq!(w.market("energy").escrow_of(&name("usd")), 200 + 245 + 150);
    assert_eq!(
        w.market("energy").escrow_of(&name("kwh")),
        30 + 40 + 10 + 50
    );
    w.refused(
        &p[0],
        vec![order("b-p0", Side::Buy, 1, 1)],
        ErrorCode::AlreadyExists,
    );
    w.refused(
        &p[0],
        vec![order("x", Side::Buy, 200, 10)],
        ErrorCode::InsufficientBalance,
    );
    w.refused(
        &p[0],
        vec![order("x", Side::Buy, 0, 10)],
        ErrorCode::InvalidArgument,
    );
    assert!(w.height >= opened + 3);

    let events = w.ok(&p[2], vec![clear()]);
    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
    assert_eq!(attr(cleared, "price"), "6");
    assert_eq!(attr(cleared, "volume"), "55");
    let fills: Vec<(String, String, String, String)> = events
        .iter()
        .filter(|e| e.topic == "market.fill")
        .map(|e| {
            (
                attr(e, "order").to_owned(),
                attr(e, "quantity").to_owned(),
                attr(e, "value").to_owned(),
                attr(e, "refund").to_owned(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        fills,
        vec![
            s("b-p0", "20", "120", "80"),
            s("b-p1", "35", "210", "35"),
            s("a-p3", "30", "180", "0"),
            s("a-p1", "25", "150", "0"),
        ]
    );
    // Exact balances: buyers pay 6 per unit and get the rest of their escrow back.
    assert_eq!(
        [0, 1, 2, 3].map(|i| (w.balance("usd", &p[i]), w.balance("kwh", &p[i]))),
        [(880, 1020), (940, 995), (850, 950), (1180, 960)]
    );
    let market = w.market("energy");
    assert_eq!(market.last_price, Some(Amount(6)));
    assert_eq!(market.traded_volume, Amount(55));
    assert_eq!(market.last_cleared_at, w.height);
    let open: Vec<(&str, u128, u128)> = market
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.quantity.0, o.escrow.0))
        .collect();
    assert_eq!(
        open,
        vec![
            ("b-p2", 30, 150),
            ("a-p1", 15, 15),
            ("a-p3b", 10, 10),
            ("a-p2", 50, 50)
        ]
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // The next clearing waits a full interval.
    w.refused(&p[0], vec![clear()], ErrorCode::InvalidArgument);

    // Cancelling: owner only; refunds the escrow.
    w.refused(&p[0], vec![cancel("b-p2")], ErrorCode::Unauthorized);
    w.refused(&p[2], vec![cancel("b-p0")], ErrorCode::NotFound);
    w.ok(&p[2], vec![cancel("b-p2")]);
    assert_eq!(w.balance("usd", &p[2]), 1000);

    // Nothing crosses now: a clearing trades nothing and leaves the book as it is.
    let events = w.ok(&p[0], vec![clear()]);
    assert_eq!(attr(&events[0], "volume"), "0");
    assert_eq!(w.market("energy").orders.len(), 3);
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

#[test]
fn market_book_is_bounded_and_frozen_accounts_sit_out() {
    let mut w = World::new();
    let [a, b] = [w.p(0), w.p(1)];
    w.ok(&a, vec![open_market("energy", 1)]);
    w.refused(&a, vec![open_market("energy", 1)], ErrorCode::AlreadyExists);
    w.refused(
        &a,
        vec![Operation::OpenMarket(OpenMarket {
            id: name("m2"),
            base: name("kwh"),
            quote: name("kwh"),
            interval_blocks: 1,
        })],
        ErrorCode::InvalidArgument,
    );
    w.refused(&a, vec![open_market("m3", 0)], ErrorCode::InvalidArgument);

    // A frozen seller's order does not trade, and does not block the others.
    w.ok(&a, vec![order("sell-a", Side::Sell, 5, 1)]);
    w.ok(&b, vec![order("sell-b", Side::Sell, 5, 2)]);
    w.ok(&b, vec![order("buy-b", Side::Buy, 5, 2)]);
    let issuer = w.issuer.clone();
    w.ok(
        &issuer,
        vec![Operation::SetFrozen(SetFrozen {
            symbol: name("usd"),
            account: a.account(),
            frozen: true,
        })],
    );
    let events = w.ok(&b, vec![clear()]);
    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
    assert_eq!(attr(cleared, "volume"), "5");
    assert_eq!(attr(cleared, "price"), "2");
    let left: Vec<String> = w
        .market("energy")
        .orders
        .iter()
        .map(|o| o.id.to_string())
        .collect();
    assert_eq!(left, vec!["sell-a"]);

    // The book holds at most Market::MAX_ORDERS open orders.
    let mut n = 1;
    while n < Market::MAX_ORDERS {
        let batch: Vec<Operation> = (n..(n + 60).min(Market::MAX_ORDERS))
            .map(|i| order(&format!("o{i}"), Side::Sell, 1, 100))
            .collect();
        n += batch.len();
        w.ok(&b, batch);
    }
    assert_eq!(w.market("energy").orders.len(), Market::MAX_ORDERS);
    w.refused(
        &b,
        vec![order("one-more", Side::Sell, 1, 100)],
        ErrorCode::InvalidArgument,
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

/// The most volume any single price could trade: max over p of min(demand(p), supply(p)).
fn best_volume(market: &Market, eligible: impl Fn(&AccountId) -> bool) -> u128 {
    let orders: Vec<_> = market
        .orders
        .iter()
        .filter(|o| eligible(&o.owner))
        .collect();
    orders
        .iter()
        .map(|o| o.limit_price.0)
        .map(|p| {
            let demand: u128 = orders
                .iter()
                .filter(|o| o.side == Side::Buy && o.limit_price.0 >= p)
                .map(|o| o.quantity.0)
                .sum();
            let supply: u128 = orders
                .iter()
                .filter(|o| o.side == Side::Sell && o.limit_price.0 <= p)
                .map(|o| o.quantity.0)
                .sum();
            demand.min(supply)
        })
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random orders, cancellations, clearings, freezes and RFQ steps. At every step the supply
    /// of each token equals balances plus all escrow, order escrow matches what is left of each
    /// order; at each clearing no order is over-filled, no buyer pays above its limit, no seller
    /// receives below its own, base and quote are conserved, and the volume is the maximum.
    #[test]
    fn market_invariants_hold_under_random_sequences(
        steps in prop::collection::vec((0u8..10, 0usize..4, 1u128..60, 1u128..25, 0u8..6), 1..60)
    ) {
        let mut w = World::new();
        let people: Vec<Keypair> = (0..4).map(|i| w.p(i)).collect();
        let issuer = w.issuer.clone();
        w.ok(&people[0], vec![open_market("energy", 2)]);
        let mut frozen: BTreeMap<AccountId, bool> = BTreeMap::new();
        for (kind, who, qty, price, slot) in steps {
            let p = &people[who];
            match kind {
                0..=3 => {
                    let side = if kind % 2 == 0 { Side::Buy } else { Side::Sell };
                    w.run(p, vec![order(&format!("o{who}-{slot}"), side, qty, price)]);
                }
                4 => { w.run(p, vec![cancel(&format!("o{who}-{slot}"))]); }
                5 | 6 => {
                    let before = w.market("energy");
                    let is_frozen = |a: &AccountId| frozen.get(a).copied().unwrap_or(false);
                    let best = best_volume(&before, |a| !is_frozen(a));
                    let (status, events) = w.run(p, vec![clear()]);
                    if status != TxStatus::Success {
                        prop_assert!(w.height < before.last_cleared_at + before.interval_blocks);
                        continue;
                    }
                    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
                    let volume: u128 = attr(cleared, "volume").parse().unwrap();
                    prop_assert_eq!(volume, best);
                    let (mut bought, mut sold, mut paid, mut received) = (0u128, 0u128, 0u128, 0u128);
                    for e in events.iter().filter(|e| e.topic == "market.fill") {
                        let id = attr(e, "order");
                        let o = before.orders.iter().find(|o| o.id.as_str() == id).unwrap();
                        prop_assert!(!is_frozen(&o.owner));
                        let q: u128 = attr(e, "quantity").parse().unwrap();
                        let fill_price: u128 = attr(e, "price").parse().unwrap();
                        let value: u128 = attr(e, "value").parse().unwrap();
                        prop_assert!(q > 0 && q <= o.quantity.0, "over-filled {}", id);
                        prop_assert_eq!(value, q * fill_price);
                        match o.side {
                            Side::Buy => {
                                prop_assert!(fill_price <= o.limit_price.0);
                                bought += q;
                                paid += value;
                            }
                            Side::Sell => {
                                prop_assert!(fill_price >= o.limit_price.0);
                                sold += q;
                                received += value;
                            }
                        }
                    }
                    prop_assert_eq!(bought, volume);
                    prop_assert_eq!(sold, volume);
                    prop_assert_eq!(paid, received);
                }
                7 => {
                    let account = p.account();
                    let now = !frozen.get(&account).copied().unwrap_or(false);
                    let symbol = if slot % 2 == 0 { "usd" } else { "kwh" };
                    let op = Operation::SetFrozen(SetFrozen { symbol: name(symbol), account, frozen: now });
                    let (status, _) = w.run(&issuer, vec![op]);
                    if status == TxStatus::Success {
                        // An order sits out when its owner is frozen for either token.
                        let f = |s: &str| w.state.contains_key(&StateKey::Frozen(name(s), account).to_bytes());
                        frozen.insert(account, f("usd") || f("kwh"));
                    }
                }
                8 => {
                    let id = format!("r{}", slot % 3);
                    if slot < 3 {
                        w.run(p, vec![request(&id, qty, w.height + 3)]);
                    } else {
                        w.run(p, vec![quote(&id, &format!("q{who}"), price)]);
                    }
                }
                _ => {
                    let id = format!("r{}", slot % 3);
                    if slot < 3 {
                        w.run(p, vec![accept(&id, &format!("q{}", qty % 4))]);
                    } else {
                        w.run(p, vec![close(&id)]);
                    }
                }
            }
            prop_assert!(w.conserved("kwh"));
            prop_assert!(w.conserved("usd"));
            prop_assert_eq!(w.supply("kwh"), 4 * START);
            prop_assert_eq!(w.supply("usd"), 4 * START);
            for o in &w.market("energy").orders {
                let expect = match o.side {
                    Side::Buy => o.quantity.0 * o.limit_price.0,
                    Side::Sell => o.quantity.0,
                };
                prop_assert_eq!(o.escrow.0, expect);
                prop_assert!(o.quantity.0 > 0);
            }
        }
    }
}
