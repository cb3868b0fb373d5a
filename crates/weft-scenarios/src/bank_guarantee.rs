//! UC-03, the digital bank guarantee, through the ledger's template engine: the reference
//! `bank-guarantee` template is deployed; the applicant and the guarantor co-sign the
//! guarantee text; an instance binds applicant, guarantor, beneficiary and the central bank
//! as observer; a claim before the guarantee is in force is refused; the guarantee enters
//! into force, is claimed and paid in the token; the instance's history is read back and
//! proven offline.

use anyhow::{Context, Result};
use weft_client::{ProofBundle, verify_bundle};
use weft_types::{
    Amount, AnchorDocument, CreateInstance, ErrorCode, Mint, Operation, SignDocument, Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms, payment::onboard_banks};

const TEMPLATE: &str = include_str!("../../../templates/bank-guarantee.yaml");

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("bank-guarantee");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    onboard_banks(ctx, s).await?;
    let (applicant, guarantor, beneficiary, observer) = (
        ctx.key("bank-a")?,
        ctx.key("bank-b")?,
        ctx.key("exporter")?,
        ctx.key("central-bank")?,
    );
    ctx.onboard(
        s,
        "bank-a",
        "Bank A",
        &[(&applicant, &["member", "workflow-participant"])],
    )
    .await?;
    ctx.onboard(
        s,
        "bank-b",
        "Bank B",
        &[(&guarantor, &["member", "workflow-participant"])],
    )
    .await?;
    ctx.onboard(
        s,
        "exporter",
        "Exporter",
        &[(&beneficiary, &["member", "workflow-participant"])],
    )
    .await?;
    ctx.onboard(
        s,
        "central-bank",
        "Central Bank",
        &[(&observer, &["issuer", "workflow-participant"])],
    )
    .await?;
    ctx.ensure_template(s, "bank-guarantee", 1, TEMPLATE)
        .await?;

    let run = ctx.run_id().await?;
    let (g, contract) = (format!("guarantee-{run}"), format!("guarantee-text-{run}"));
    let now = now_ms();
    let text_hash =
        weft_crypto::sha256(format!("Guarantee {g}: up to 500.00 eur for the exporter").as_bytes());

    s.commit(
        ctx,
        &applicant,
        "applicant anchors the guarantee text",
        vec![Operation::AnchorDocument(AnchorDocument {
            id: name(&contract),
            hash: text_hash,
            media_type: "text/plain".into(),
            uri: format!("vault://bank-b/{contract}"),
            parties: vec![applicant.account(), guarantor.account()],
            required_signatures: 2,
        })],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&applicant, &guarantor],
        "applicant and guarantor co-sign it in one transaction",
        vec![Operation::SignDocument(SignDocument {
            id: name(&contract),
            version: 1,
            hash: text_hash,
        })],
    )
    .await?;
    s.commit(
        ctx,
        &observer,
        "central bank funds the guarantor with 1000.00 eur",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: guarantor.account(),
            amount: Amount(100_000),
        })],
    )
    .await?;
    let parties = vec![
        (name("applicant"), applicant.account()),
        (name("guarantor"), guarantor.account()),
        (name("beneficiary"), beneficiary.account()),
        (name("observer"), observer.account()),
    ];
    let params = vec![
        (name("currency"), "eur".to_owned()),
        (name("max_amount"), "50000".to_owned()),
        (name("claim_amount"), "30000".to_owned()),
        (name("effective_at"), now.to_string()),
        (name("expires_at"), (now + 24 * 3600 * 1000).to_string()),
        (name("contract"), contract.clone()),
    ];
    s.commit(
        ctx,
        &applicant,
        "applicant requests the guarantee",
        vec![Operation::CreateInstance(CreateInstance {
            instance: name(&g),
            template: name("bank-guarantee"),
            version: 1,
            parties,
            params,
        })],
    )
    .await?;
    let step = |t: &str| {
        Operation::Transition(Transition {
            instance: name(&g),
            transition: name(t),
        })
    };
    s.commit(
        ctx,
        &guarantor,
        "guarantor issues it (the text is signed)",
        vec![step("issue")],
    )
    .await?;
    s.refused(
        ctx,
        &beneficiary,
        "a claim before it is in force is refused",
        ErrorCode::InvalidArgument,
        vec![step("claim")],
    )
    .await?;
    s.refused(
        ctx,
        &observer,
        "the observer cannot take steps",
        ErrorCode::Unauthorized,
        vec![step("enter_into_force")],
    )
    .await?;
    s.commit(
        ctx,
        &guarantor,
        "the guarantee enters into force",
        vec![step("enter_into_force")],
    )
    .await?;
    let b0 = ctx.balance("eur", &beneficiary.account()).await?;
    s.commit(
        ctx,
        &beneficiary,
        "the beneficiary claims 300.00 eur",
        vec![step("claim")],
    )
    .await?;
    s.commit(
        ctx,
        &guarantor,
        "the guarantor pays the claim",
        vec![step("pay")],
    )
    .await?;
    let b1 = ctx.balance("eur", &beneficiary.account()).await?;
    s.check(
        "the beneficiary received exactly the claim",
        b1 == b0 + 30_000,
        format!("{b0} → {b1} (cents)"),
    );

    let answer = ctx
        .reader(&beneficiary)
        .state(&format!("instance/{g}"), true, None)
        .await?;
    let history: Vec<String> = answer["value"]["history"]
        .as_array()
        .map_or_else(Vec::new, |h| {
            h.iter()
                .filter_map(|e| e["transition"].as_str().map(str::to_owned))
                .collect()
        });
    let expected = ["issue", "enter_into_force", "claim", "pay"];
    s.check(
        "the instance is paid, its history complete",
        answer["value"]["state"] == "paid" && history == expected,
        history.join(" → "),
    );
    let bundle: ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("proof bundle")?;
    s.check(
        "the instance record verifies offline",
        verify_bundle(&bundle, &ctx.trust_anchor()).is_ok(),
        bundle.reference.clone(),
    );
    s.final_state(format!("guarantee {g} paid"));
    Ok(())
}
