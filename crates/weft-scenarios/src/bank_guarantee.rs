//! UC-03, the digital bank guarantee (paper §14.1.3), through version 2 of the reference
//! `bank-guarantee` template; claims are paid in the central bank's digital currency (the
//! pilot's stage 2).
//!
//! The applicant (principal) and the guarantor co-sign the guarantee text; an instance binds
//! applicant, guarantor, beneficiary and the central bank as observer. The guarantee is
//! issued, enters into force, is amended (a higher maximum and a later expiry, in an
//! amendment the applicant and the guarantor sign and the beneficiary accepts), claimed and
//! paid. A second guarantee runs out and expires; a third is terminated early with the
//! beneficiary's consent. Refused: a claim before the guarantee is in force, a step by the
//! observer, a claim above the maximum, an amendment the beneficiary did not accept, a claim
//! after expiry, a termination without the beneficiary. Only the parties and the observer
//! read a guarantee; the paid one is proven offline.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;
use weft_client::{Keypair, ProofBundle, verify_bundle};
use weft_types::{
    Amount, AnchorDocument, CreateInstance, ErrorCode, Mint, Operation, SignDocument, Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms, payment::onboard_banks};

const TEMPLATE: &str = include_str!("../../../templates/bank-guarantee-v2.yaml");
const VERSION: u32 = 2;
const DAY_MS: u64 = 24 * 3600 * 1000;

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("bank-guarantee");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

struct Parties {
    applicant: Keypair,
    guarantor: Keypair,
    beneficiary: Keypair,
    observer: Keypair,
}

impl Parties {
    /// Anchors a text between applicant and guarantor, both signing in one transaction.
    async fn co_sign(&self, ctx: &Ctx, s: &mut Scenario, id: &str, text: &str) -> Result<()> {
        let hash = weft_crypto::sha256(text.as_bytes());
        s.commit_signed(
            ctx,
            &[&self.applicant, &self.guarantor],
            &format!("applicant and guarantor sign {id}"),
            vec![
                Operation::AnchorDocument(AnchorDocument {
                    id: name(id),
                    hash,
                    media_type: "text/plain".into(),
                    uri: format!("vault://bank-b/{id}"),
                    parties: vec![self.applicant.account(), self.guarantor.account()],
                    required_signatures: 2,
                }),
                Operation::SignDocument(SignDocument {
                    id: name(id),
                    version: 1,
                    hash,
                }),
            ],
        )
        .await
    }

    /// Creates guarantee `id` for up to `max` cents, in force from now until `expires_at`.
    async fn request(
        &self,
        ctx: &Ctx,
        s: &mut Scenario,
        id: &str,
        max: u128,
        expires_at: u64,
    ) -> Result<()> {
        let contract = format!("{id}-text");
        self.co_sign(
            ctx,
            s,
            &contract,
            &format!("Guarantee {id}: up to {max} eur cents for the exporter"),
        )
        .await?;
        s.commit(
            ctx,
            &self.applicant,
            &format!("applicant requests guarantee {id}"),
            vec![Operation::CreateInstance(CreateInstance {
                instance: name(id),
                template: name("bank-guarantee"),
                version: VERSION,
                parties: vec![
                    (name("applicant"), self.applicant.account()),
                    (name("guarantor"), self.guarantor.account()),
                    (name("beneficiary"), self.beneficiary.account()),
                    (name("observer"), self.observer.account()),
                ],
                params: vec![
                    (name("currency"), "eur".to_owned()),
                    (name("max_amount"), max.to_string()),
                    (name("claim_amount"), "0".to_owned()),
                    (name("effective_at"), now_ms().to_string()),
                    (name("expires_at"), expires_at.to_string()),
                    (name("contract"), contract),
                ],
            })],
        )
        .await
    }
}

fn step(instance: &str, transition: &str, args: &[(&str, String)]) -> Operation {
    Operation::Transition(Transition {
        instance: name(instance),
        transition: name(transition),
        args: args.iter().map(|(k, v)| (name(k), v.clone())).collect(),
    })
}

fn transitions(record: &Value) -> Vec<String> {
    record["history"].as_array().map_or_else(Vec::new, |h| {
        h.iter()
            .filter_map(|e| e["transition"].as_str().map(str::to_owned))
            .collect()
    })
}

#[allow(clippy::too_many_lines)] // the lifecycle reads best as one script
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    onboard_banks(ctx, s).await?;
    let p = Parties {
        applicant: ctx.key("bank-a")?,
        guarantor: ctx.key("bank-b")?,
        beneficiary: ctx.key("exporter")?,
        observer: ctx.key("central-bank")?,
    };
    let outsider = ctx.key("bank-c")?;
    let wf = "workflow-participant";
    ctx.onboard(s, "bank-a", "Bank A", &[(&p.applicant, &["member", wf])])
        .await?;
    ctx.onboard(s, "bank-b", "Bank B", &[(&p.guarantor, &["member", wf])])
        .await?;
    ctx.onboard(
        s,
        "exporter",
        "Exporter",
        &[(&p.beneficiary, &["member", wf])],
    )
    .await?;
    ctx.onboard(
        s,
        "central-bank",
        "Central Bank",
        &[(&p.observer, &["issuer", wf])],
    )
    .await?;
    ctx.onboard(s, "bank-c", "Bank C", &[(&outsider, &["member"])])
        .await?;
    ctx.ensure_template(s, "bank-guarantee", VERSION, TEMPLATE)
        .await?;

    let run = ctx.run_id().await?;
    let g = format!("guarantee-{run}");
    s.commit(
        ctx,
        &p.observer,
        "central bank funds the guarantor with 1000.00 eur",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: p.guarantor.account(),
            amount: Amount(100_000),
        })],
    )
    .await?;
    p.request(ctx, s, &g, 50_000, now_ms() + DAY_MS).await?;
    s.commit(
        ctx,
        &p.guarantor,
        "guarantor issues it (the text is signed)",
        vec![step(&g, "issue", &[])],
    )
    .await?;
    let claim = |cents: u128| vec![step(&g, "claim", &[("amount", cents.to_string())])];
    s.refused(
        ctx,
        &p.beneficiary,
        "a claim before it is in force is refused",
        ErrorCode::InvalidArgument,
        claim(30_000),
    )
    .await?;
    s.refused(
        ctx,
        &p.observer,
        "the observer cannot take steps",
        ErrorCode::Unauthorized,
        vec![step(&g, "enter_into_force", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &p.applicant,
        "the guarantee enters into force",
        vec![step(&g, "enter_into_force", &[])],
    )
    .await?;
    s.refused(
        ctx,
        &p.beneficiary,
        "a claim of 700.00 eur above the 500.00 maximum is refused",
        ErrorCode::InvalidArgument,
        claim(70_000),
    )
    .await?;

    let amendment = format!("{g}-amendment-1");
    p.co_sign(
        ctx,
        s,
        &amendment,
        &format!("Amendment 1 to {g}: maximum 800.00 eur, expiry extended by one day"),
    )
    .await?;
    let new_expiry = now_ms() + 2 * DAY_MS;
    let amend = vec![step(
        &g,
        "amend",
        &[
            ("new_max_amount", "80000".to_owned()),
            ("new_expires_at", new_expiry.to_string()),
            ("amendment", amendment.clone()),
        ],
    )];
    s.refused(
        ctx,
        &p.guarantor,
        "an amendment the beneficiary did not accept is refused",
        ErrorCode::Unauthorized,
        amend.clone(),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&p.guarantor, &p.beneficiary],
        "the guarantor amends it to 800.00 eur, the beneficiary accepts",
        amend,
    )
    .await?;
    let record = ctx.value(&format!("instance/{g}")).await?;
    let params = &record["params"];
    s.check(
        "the amendment changed the maximum and the expiry",
        params["max_amount"]["value"] == "80000"
            && params["expires_at"]["value"] == new_expiry
            && record["state"] == "in_force",
        format!(
            "max {}, expires {}",
            params["max_amount"]["value"], params["expires_at"]["value"]
        ),
    );

    let b0 = ctx.balance("eur", &p.beneficiary.account()).await?;
    let g0 = ctx.balance("eur", &p.guarantor.account()).await?;
    s.commit(
        ctx,
        &p.beneficiary,
        "the beneficiary claims 700.00 eur",
        claim(70_000),
    )
    .await?;
    s.commit(
        ctx,
        &p.guarantor,
        "the guarantor pays the claim",
        vec![step(&g, "pay", &[])],
    )
    .await?;
    let b1 = ctx.balance("eur", &p.beneficiary.account()).await?;
    let g1 = ctx.balance("eur", &p.guarantor.account()).await?;
    s.check(
        "the beneficiary received exactly the claim, from the guarantor",
        b1 == b0 + 70_000 && g1 + 70_000 == g0,
        format!("beneficiary {b0} → {b1}, guarantor {g0} → {g1} (cents)"),
    );

    let answer = ctx
        .reader(&p.beneficiary)
        .state(&format!("instance/{g}"), true, None)
        .await?;
    let history = transitions(&answer["value"]);
    let expected = ["issue", "enter_into_force", "amend", "claim", "pay"];
    s.check(
        "the guarantee is paid, its history complete",
        answer["value"]["state"] == "paid"
            && history == expected
            && answer["value"]["params"]["claim_amount"]["value"] == "70000",
        history.join(" → "),
    );
    let bundle: ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("proof bundle")?;
    s.check(
        "the beneficiary proves the paid guarantee offline",
        verify_bundle(&bundle, &ctx.trust_anchor()).is_ok(),
        bundle.reference.clone(),
    );
    let observed = ctx
        .reader(&p.observer)
        .state(&format!("instance/{g}"), false, None)
        .await?;
    s.check(
        "the central bank observes the guarantee",
        observed["value"]["state"] == "paid",
        format!("state {}", observed["value"]["state"]),
    );
    let outside = ctx
        .reader(&outsider)
        .state(&format!("instance/{g}"), false, None)
        .await;
    s.read_refused(
        "a bank that is no party cannot read the guarantee",
        ErrorCode::Forbidden,
        &outside,
    );

    // A second guarantee runs out before anyone claims.
    let g2 = format!("guarantee-{run}-short");
    // Wide enough for three transactions on a loaded machine; the scenario then waits it out.
    let expires = now_ms() + 8_000;
    p.request(ctx, s, &g2, 20_000, expires).await?;
    s.commit(
        ctx,
        &p.guarantor,
        "the guarantor issues the short guarantee",
        vec![step(&g2, "issue", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &p.guarantor,
        "the short guarantee enters into force",
        vec![step(&g2, "enter_into_force", &[])],
    )
    .await?;
    // Block time follows the validator's clock: wait until it has passed the expiry.
    let wait = expires.saturating_sub(now_ms()) + 300;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    s.refused(
        ctx,
        &p.beneficiary,
        "a claim after the expiry is refused",
        ErrorCode::InvalidArgument,
        vec![step(&g2, "claim", &[("amount", "10000".to_owned())])],
    )
    .await?;
    s.commit(
        ctx,
        &p.beneficiary,
        "the short guarantee expires",
        vec![step(&g2, "expire", &[])],
    )
    .await?;

    // A third is released early: the beneficiary consents to its termination.
    let g3 = format!("guarantee-{run}-released");
    p.request(ctx, s, &g3, 20_000, now_ms() + DAY_MS).await?;
    s.commit(
        ctx,
        &p.guarantor,
        "the guarantor issues the third guarantee",
        vec![step(&g3, "issue", &[])],
    )
    .await?;
    s.refused(
        ctx,
        &p.guarantor,
        "a termination without the beneficiary is refused",
        ErrorCode::Unauthorized,
        vec![step(&g3, "terminate", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&p.guarantor, &p.beneficiary],
        "the beneficiary releases it: terminated",
        vec![step(&g3, "terminate", &[])],
    )
    .await?;
    let (r2, r3) = (
        ctx.value(&format!("instance/{g2}")).await?,
        ctx.value(&format!("instance/{g3}")).await?,
    );
    s.check(
        "the others ended expired and terminated, nothing paid",
        r2["state"] == "expired"
            && transitions(&r2) == ["issue", "enter_into_force", "expire"]
            && r3["state"] == "terminated"
            && transitions(&r3) == ["issue", "terminate"]
            && ctx.balance("eur", &p.beneficiary.account()).await? == b1,
        format!("{g2}: {}, {g3}: {}", r2["state"], r3["state"]),
    );
    s.final_state(format!(
        "guarantee {g} amended and paid 700.00 eur; {g2} expired; {g3} terminated"
    ));
    Ok(())
}
