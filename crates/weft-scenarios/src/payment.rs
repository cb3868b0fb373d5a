//! The core scenario: a consortium onboards a central bank and two banks; the central bank
//! issues a token; a payment moves between banks; an overdraft and an unauthorized mint are
//! refused; a balance is proven and verified offline against the genesis validator set, and
//! a tampered proof fails.

use anyhow::{Context, Result};
use weft_client::{ProofBundle, RecordProof, verify_bundle};
use weft_types::{Amount, DefineToken, ErrorCode, Mint, Operation, Transfer};

use crate::{Ctx, Scenario, ScenarioReport, name};

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("payment");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

/// The central bank, two banks and the `eur` token; idempotent, shared by the scenarios that
/// settle in `eur`.
pub(crate) async fn onboard_banks(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let (issuer, alice, bob) = (
        ctx.key("central-bank")?,
        ctx.key("bank-a")?,
        ctx.key("bank-b")?,
    );
    ctx.onboard(s, "central-bank", "Central Bank", &[(&issuer, &["issuer"])])
        .await?;
    ctx.onboard(s, "bank-a", "Bank A", &[(&alice, &["member"])])
        .await?;
    ctx.onboard(s, "bank-b", "Bank B", &[(&bob, &["member"])])
        .await?;
    if ctx.value("token/eur").await?.is_null() {
        s.commit(
            ctx,
            &issuer,
            "central bank defines token eur",
            vec![Operation::DefineToken(DefineToken {
                symbol: name("eur"),
                display_name: "Digital euro (demo)".into(),
                decimals: 2,
                max_supply: Some(Amount(1_000_000_000_000)),
                controller: None,
                holder_role: None,
            })],
        )
        .await?;
    }
    Ok(())
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    onboard_banks(ctx, s).await?;
    let (issuer, bank_a, bank_b) = (
        ctx.key("central-bank")?,
        ctx.key("bank-a")?,
        ctx.key("bank-b")?,
    );
    let (alice, bob) = (bank_a.account(), bank_b.account());
    let (a0, b0) = (
        ctx.balance("eur", &alice).await?,
        ctx.balance("eur", &bob).await?,
    );

    s.commit(
        ctx,
        &issuer,
        "central bank mints 1000.00 eur to Bank A",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: alice,
            amount: Amount(100_000),
        })],
    )
    .await?;
    s.commit(
        ctx,
        &bank_a,
        "Bank A pays 250.00 eur to Bank B",
        vec![Operation::Transfer(Transfer {
            symbol: name("eur"),
            to: bob,
            amount: Amount(25_000),
        })],
    )
    .await?;
    let (a1, b1) = (
        ctx.balance("eur", &alice).await?,
        ctx.balance("eur", &bob).await?,
    );
    s.check(
        "balances moved exactly",
        a1 == a0 + 75_000 && b1 == b0 + 25_000,
        format!("Bank A {a1}, Bank B {b1} (cents)"),
    );

    s.refused(
        ctx,
        &bank_a,
        "an overdraft is refused",
        ErrorCode::InsufficientBalance,
        vec![Operation::Transfer(Transfer {
            symbol: name("eur"),
            to: bob,
            amount: Amount(u128::from(u64::MAX)),
        })],
    )
    .await?;
    s.refused(
        ctx,
        &bank_b,
        "a member cannot mint",
        ErrorCode::Unauthorized,
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: bob,
            amount: Amount(1),
        })],
    )
    .await?;

    // Bank B proves its own balance and anyone checks it offline against the genesis
    // validators.
    let answer = ctx
        .reader(&bank_b)
        .state(&format!("balance/eur/{bob}"), true, None)
        .await?;
    let bundle: ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("proof bundle")?;
    let anchor = ctx.trust_anchor();
    s.check(
        "the balance proof verifies offline",
        verify_bundle(&bundle, &anchor).is_ok(),
        format!("{} at height {}", bundle.reference, bundle.header.height),
    );
    let mut tampered = bundle.clone();
    if let RecordProof::State { value, .. } = &mut tampered.proof {
        *value = Some(hex(&weft_types::encode(&Amount(b1 + 1_000_000))));
    }
    s.check(
        "a tampered proof fails",
        verify_bundle(&tampered, &anchor).is_err(),
        "value changed → state proof rejected",
    );
    s.final_state(format!("Bank A {a1}, Bank B {b1} eur cents"));
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
