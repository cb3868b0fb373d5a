//! UC-17, peer-to-peer energy trading in a microgrid. Each household's smart meter has a
//! registered key; the grid operator posts the meters' signed interval readings. Energy on
//! the ledger is the `kwh` token (0.1 kWh units) and the operator mints it only in the
//! transaction that carries the producer meter's signed reading, for exactly the reading: the
//! meter's co-signature covers the mint, and households cannot mint at all. So a household's
//! sellable energy is what its meter reported, and a sell order above it is refused by the
//! order's escrow (`insufficient_balance`). Offers go into a periodic double auction settled
//! in the NRJ token at one uniform price per interval; escrow makes every fill delivery versus
//! payment.

use anyhow::Result;
use serde_json::Value;
use weft_crypto::Keypair;
use weft_types::{
    AccountId, Amount, CancelOrder, ClearMarket, DefineToken, ErrorCode, Mint, OpenMarket,
    Operation, PlaceOrder, PostReading, RegisterFeed, Side,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("energy-trading");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

/// The meter reading (0.1 kWh units) and, for a producer, the energy minted against it.
fn metered(feed: &str, value: i64, at_ms: u64, producer: Option<AccountId>) -> Vec<Operation> {
    let mut ops = vec![Operation::PostReading(PostReading {
        feed: name(feed),
        value,
        observed_at_ms: at_ms,
    })];
    if let Some(to) = producer {
        ops.push(Operation::Mint(Mint {
            symbol: name("kwh"),
            to,
            amount: Amount(value.unsigned_abs().into()),
        }));
    }
    ops
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
}

async fn balances(ctx: &Ctx, who: &AccountId) -> Result<(u128, u128)> {
    Ok((
        ctx.balance("kwh", who).await?,
        ctx.balance("nrj", who).await?,
    ))
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let dso = ctx.key("microgrid-operator")?;
    let household = |who: &str, feed: &'static str| -> Result<Household> {
        Ok(Household {
            key: ctx.key(who)?,
            meter: ctx.key(&format!("{who}-meter"))?,
            feed,
        })
    };
    let solar_a = household("prosumer-a", "meter-a-export")?;
    let solar_b = household("prosumer-b", "meter-b-export")?;
    let consumer = household("consumer-c", "meter-c-import")?;
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
    for (h, kind) in [
        (&solar_a, "energy-exported"),
        (&solar_b, "energy-exported"),
        (&consumer, "energy-imported"),
    ] {
        if ctx.value(&format!("feed/{}", h.feed)).await?.is_null() {
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
                })],
            )
            .await?;
        }
    }

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

    // Interval readings: A exported 12.0 kWh, B 8.0 kWh, C imported 10.0 kWh.
    let t = now_ms();
    s.refused(
        ctx,
        &dso,
        "energy without the meter's signed reading is refused",
        ErrorCode::MissingSignature,
        metered(solar_a.feed, 500, t, Some(a)),
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
    s.commit_signed(
        ctx,
        &[&dso, &solar_a.meter],
        "meter A reports 12.0 kWh exported; 12.0 kWh of energy is issued to A",
        metered(solar_a.feed, 120, t, Some(a)),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&dso, &solar_b.meter],
        "meter B reports 8.0 kWh exported; 8.0 kWh of energy is issued to B",
        metered(solar_b.feed, 80, t, Some(b)),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&dso, &consumer.meter],
        "meter C reports 10.0 kWh imported",
        metered(consumer.feed, 100, t, None),
    )
    .await?;
    let feed_a = ctx.value(&format!("feed/{}", solar_a.feed)).await?;
    let (a1, b1) = (balances(ctx, &a).await?, balances(ctx, &b).await?);
    s.check(
        "energy issued equals the signed meter readings",
        feed_a["last"]["value"].as_i64() == Some(120)
            && feed_a["device"] == solar_a.meter.account().to_string()
            && a1.0 == a0.0 + 120
            && b1.0 == b0.0 + 80,
        format!("A {} → {}, B {} → {} (0.1 kWh)", a0.0, a1.0, b0.0, b1.0),
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
        .unwrap_or(-1);
    s.check(
        "C bought exactly its metered import",
        u128::try_from(imported).ok() == Some(c2.0 - c0.0),
        format!("meter C {imported}, bought {}", c2.0 - c0.0),
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
