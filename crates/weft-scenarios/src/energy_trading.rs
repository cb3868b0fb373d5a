//! UC-17, peer-to-peer energy trading in a microgrid. Each household's smart meter has a
//! registered key; the grid operator posts the meters' signed readings, cumulative counters
//! in 0.1 kWh. Energy on the ledger is the `kwh` token (0.1 kWh units), and the ledger itself
//! issues it: each producer meter is registered with `issues: { token: kwh, to: <household> }`,
//! so every accepted reading mints exactly the counter's increase to the household. Nobody
//! mints `kwh` directly, not even the operator (`unauthorized`), and a counter going backwards
//! is refused (`invalid_argument`). So a household's sellable energy is what its meter
//! reported, and a sell order above it is refused by the order's escrow
//! (`insufficient_balance`). Offers go into a periodic double auction settled in the NRJ
//! token at one uniform price per interval; escrow makes every fill delivery versus payment.

use anyhow::Result;
use serde_json::Value;
use weft_crypto::Keypair;
use weft_types::{
    AccountId, Amount, CancelOrder, ClearMarket, DefineToken, ErrorCode, FeedIssuance, Mint,
    OpenMarket, Operation, PlaceOrder, PostReading, RegisterFeed, Side,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("energy-trading");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

/// A meter's counter reading (0.1 kWh units); a producer meter's reading issues the energy.
fn metered(feed: &str, counter: i64, at_ms: u64) -> Vec<Operation> {
    vec![Operation::PostReading(PostReading {
        feed: name(feed),
        value: counter,
        observed_at_ms: at_ms,
    })]
}

fn order(market: &str, id: &str, side: Side, quantity: u128, limit: u128) -> Operation {
    Operation::PlaceOrder(PlaceOrder {
        market: name(market),
        order: name(id),
        side,
        quantity: Amount(quantity),
        limit_price: Amount(limit),
    })
}

struct Household {
    key: Keypair,
    meter: Keypair,
    feed: &'static str,
    /// Whether the meter counts exported energy, which it issues to the household.
    producer: bool,
}

async fn balances(ctx: &Ctx, who: &AccountId) -> Result<(u128, u128)> {
    Ok((
        ctx.balance("kwh", who).await?,
        ctx.balance("nrj", who).await?,
    ))
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let dso = ctx.key("microgrid-operator")?;
    let household = |who: &str, feed: &'static str, producer: bool| -> Result<Household> {
        Ok(Household {
            key: ctx.key(who)?,
            meter: ctx.key(&format!("{who}-meter"))?,
            feed,
            producer,
        })
    };
    let solar_a = household("prosumer-a", "meter-a-export", true)?;
    let solar_b = household("prosumer-b", "meter-b-export", true)?;
    let consumer = household("consumer-c", "meter-c-import", false)?;
    ctx.onboard(
        s,
        "microgrid",
        "Microgrid operator",
        &[(&dso, &["issuer", "sensor-operator", "trader"])],
    )
    .await?;
    for (org, title, h) in [
        ("household-a", "Household A (solar)", &solar_a),
        ("household-b", "Household B (solar + battery)", &solar_b),
        ("household-c", "Household C (consumer)", &consumer),
    ] {
        ctx.onboard(s, org, title, &[(&h.key, &["trader"])]).await?;
    }
    for (symbol, title, decimals) in [("kwh", "Energy (0.1 kWh)", 1u8), ("nrj", "NRJ token", 3)] {
        if ctx.value(&format!("token/{symbol}")).await?.is_null() {
            s.commit(
                ctx,
                &dso,
                &format!("operator defines {symbol}"),
                vec![Operation::DefineToken(DefineToken {
                    symbol: name(symbol),
                    display_name: title.into(),
                    decimals,
                    max_supply: None,
                    controller: None,
                    holder_role: None,
                })],
            )
            .await?;
        }
    }
    // Each meter's counter when it joins the ledger: the baseline, which issues nothing.
    let t = now_ms();
    for (h, kind, installed_at) in [
        (&solar_a, "energy-exported", 10_452),
        (&solar_b, "energy-exported", 3_170),
        (&consumer, "energy-imported", 22_008),
    ] {
        if ctx.value(&format!("feed/{}", h.feed)).await?.is_null() {
            let issues = h.producer.then(|| FeedIssuance {
                token: name("kwh"),
                to: h.key.account(),
            });
            s.commit(
                ctx,
                &dso,
                &format!("operator registers smart meter {}", h.feed),
                vec![Operation::RegisterFeed(RegisterFeed {
                    id: name(h.feed),
                    kind: name(kind),
                    unit: "kWh".into(),
                    scale: 1,
                    device: h.meter.account(),
                    issues,
                })],
            )
            .await?;
            s.commit_signed(
                ctx,
                &[&dso, &h.meter],
                &format!("meter {} reports its counter at installation", h.feed),
                metered(h.feed, installed_at, t),
            )
            .await?;
        }
    }
    // The counters now (they keep growing over re-runs on the same chain).
    let mut counters = Vec::new();
    for h in [&solar_a, &solar_b, &consumer] {
        let feed = ctx.value(&format!("feed/{}", h.feed)).await?;
        counters.push(feed["last"]["value"].as_i64().unwrap_or(0));
    }
    let [counter_a, counter_b, counter_c] = counters[..] else {
        anyhow::bail!("three meters");
    };

    let (a, b, c) = (
        solar_a.key.account(),
        solar_b.key.account(),
        consumer.key.account(),
    );
    s.commit(
        ctx,
        &dso,
        "the consumer tops up 10.000 NRJ",
        vec![Operation::Mint(Mint {
            symbol: name("nrj"),
            to: c,
            amount: Amount(10_000),
        })],
    )
    .await?;
    let (a0, b0, c0) = (
        balances(ctx, &a).await?,
        balances(ctx, &b).await?,
        balances(ctx, &c).await?,
    );

    let supply = |token: Value| -> u128 {
        token["supply"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let supply0 = supply(ctx.value("token/kwh").await?);

    // Interval readings: A exported 12.0 kWh, B 8.0 kWh, C imported 10.0 kWh.
    let t = now_ms() + 1_000;
    s.refused(
        ctx,
        &dso,
        "energy without the meter's signed reading is refused",
        ErrorCode::MissingSignature,
        metered(solar_a.feed, counter_a + 500, t),
    )
    .await?;
    s.refused(
        ctx,
        &solar_a.key,
        "a household cannot mint energy for itself",
        ErrorCode::Unauthorized,
        vec![Operation::Mint(Mint {
            symbol: name("kwh"),
            to: a,
            amount: Amount(500),
        })],
    )
    .await?;
    s.refused(
        ctx,
        &dso,
        "nor can the operator: kWh are issued by the meters' readings alone",
        ErrorCode::Unauthorized,
        vec![Operation::Mint(Mint {
            symbol: name("kwh"),
            to: a,
            amount: Amount(500),
        })],
    )
    .await?;
    s.refused_signed(
        ctx,
        &[&dso, &solar_a.meter],
        "a meter counter going backwards is refused",
        ErrorCode::InvalidArgument,
        metered(solar_a.feed, counter_a - 1, t),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&dso, &solar_a.meter],
        "meter A's counter grows by 12.0 kWh exported; 12.0 kWh of energy is issued to A",
        metered(solar_a.feed, counter_a + 120, t),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&dso, &solar_b.meter],
        "meter B's counter grows by 8.0 kWh exported; 8.0 kWh of energy is issued to B",
        metered(solar_b.feed, counter_b + 80, t),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&dso, &consumer.meter],
        "meter C's counter grows by 10.0 kWh imported",
        metered(consumer.feed, counter_c + 100, t),
    )
    .await?;
    let feed_a = ctx.value(&format!("feed/{}", solar_a.feed)).await?;
    let (a1, b1, c1) = (
        balances(ctx, &a).await?,
        balances(ctx, &b).await?,
        balances(ctx, &c).await?,
    );
    let supply1 = supply(ctx.value("token/kwh").await?);
    s.check(
        "energy issued equals the signed meter increases, and nothing else was issued",
        feed_a["last"]["value"].as_i64() == Some(counter_a + 120)
            && feed_a["device"] == solar_a.meter.account().to_string()
            && feed_a["issues"]["to"] == a.to_string()
            && a1.0 == a0.0 + 120
            && b1.0 == b0.0 + 80
            && c1.0 == c0.0
            && supply1 == supply0 + 200,
        format!(
            "A {} → {}, B {} → {}, supply {supply0} → {supply1} (0.1 kWh)",
            a0.0, a1.0, b0.0, b1.0
        ),
    );

    // The interval's double auction.
    let run = ctx.run_id().await?;
    let market = format!("p2p-{run}");
    let m = market.as_str();
    s.commit(
        ctx,
        &dso,
        "operator opens the interval market kwh/nrj",
        vec![Operation::OpenMarket(OpenMarket {
            id: name(m),
            base: name("kwh"),
            quote: name("nrj"),
            // Three blocks per interval: the three orders below fill it.
            interval_blocks: 3,
        })],
    )
    .await?;
    // B's meter reported 8.0 kWh: offering 9.0 would sell energy it never produced.
    s.refused(
        ctx,
        &solar_b.key,
        "B cannot offer more energy than its meter reported",
        ErrorCode::InsufficientBalance,
        vec![order(m, "b-too-much", Side::Sell, b1.0 + 10, 14)],
    )
    .await?;
    s.refused(
        ctx,
        &consumer.key,
        "the consumer cannot offer energy it does not hold",
        ErrorCode::InsufficientBalance,
        vec![order(m, "c-sell", Side::Sell, c0.0 + 1, 10)],
    )
    .await?;
    // Prices in NRJ thousandths per 0.1 kWh: 12 = 0.12 NRJ/kWh.
    s.commit(
        ctx,
        &solar_a.key,
        "A offers 10.0 kWh at 0.12 NRJ/kWh",
        vec![order(m, "a-sell", Side::Sell, 100, 12)],
    )
    .await?;
    s.commit(
        ctx,
        &solar_b.key,
        "B offers 8.0 kWh at 0.14 NRJ/kWh",
        vec![order(m, "b-sell", Side::Sell, 80, 14)],
    )
    .await?;
    s.commit(
        ctx,
        &consumer.key,
        "C bids for 10.0 kWh up to 0.16 NRJ/kWh",
        vec![order(m, "c-buy", Side::Buy, 100, 16)],
    )
    .await?;
    let c_escrowed = balances(ctx, &c).await?;
    s.check(
        "C's bid escrows its limit value, 1.600 NRJ",
        c_escrowed.1 + 1_600 == c0.1,
        format!("C nrj {} → {}", c0.1, c_escrowed.1),
    );
    // Greedy matching: C's 100 @ 16 meets A's 100 @ 12; B's ask at 14 stays. Uniform price
    // = 12 + (16 - 12) / 2 = 14: A receives 1,400, C pays 1,400 and gets 200 back.
    s.commit(
        ctx,
        &dso,
        "operator clears the interval",
        vec![Operation::ClearMarket(ClearMarket { market: name(m) })],
    )
    .await?;
    let book: Value = ctx.value(&format!("market/{m}")).await?;
    let (a2, b2, c2) = (
        balances(ctx, &a).await?,
        balances(ctx, &b).await?,
        balances(ctx, &c).await?,
    );
    s.check(
        "the interval cleared 10.0 kWh at 0.14 NRJ/kWh",
        book["last_price"] == "14" && book["traded_volume"] == "100",
        format!(
            "price {}, volume {}",
            book["last_price"], book["traded_volume"]
        ),
    );
    s.check(
        "A delivered 10.0 kWh for 1.400 NRJ; C received 10.0 kWh for 1.400 NRJ",
        a2.0 == a1.0 - 100 && a2.1 == a1.1 + 1_400 && c2.0 == c0.0 + 100 && c2.1 == c0.1 - 1_400,
        format!("A {a2:?}, C {c2:?} (kwh, nrj)"),
    );
    let open: Vec<&str> = book["orders"]
        .as_array()
        .map(|o| o.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    s.check(
        "B's ask, above the clearing, waits for the next interval with its energy in escrow",
        open == ["b-sell"] && b2.0 == b1.0 - 80,
        format!("open orders {open:?}"),
    );
    let imported = ctx.value(&format!("feed/{}", consumer.feed)).await?["last"]["value"]
        .as_i64()
        .unwrap_or(-1)
        - counter_c;
    s.check(
        "C bought exactly its metered import",
        u128::try_from(imported).ok() == Some(c2.0 - c0.0),
        format!("meter C +{imported}, bought {}", c2.0 - c0.0),
    );
    s.refused(
        ctx,
        &dso,
        "a second clearing in the same interval is refused",
        ErrorCode::InvalidArgument,
        vec![Operation::ClearMarket(ClearMarket { market: name(m) })],
    )
    .await?;
    s.commit(
        ctx,
        &solar_b.key,
        "B withdraws its offer and gets its energy back",
        vec![Operation::CancelOrder(CancelOrder {
            market: name(m),
            order: name("b-sell"),
        })],
    )
    .await?;
    let b3 = balances(ctx, &b).await?;
    s.check(
        "B's 8.0 kWh are back",
        b3.0 == b1.0,
        format!("B kwh {}", b3.0),
    );
    s.final_state(format!(
        "interval {m} cleared 10.0 kWh at 0.14 NRJ/kWh; A +1.400 NRJ, C +10.0 kWh"
    ));
    Ok(())
}
