//! UC-02, the digital letter of credit (paper §14.1.2), through the `letter-of-credit`
//! template, paid in the central bank's digital currency (the paper's stage 2).
//!
//! The importer and the exporter sign the sales contract; the importer applies for the
//! credit; its bank (Bank A) issues it, which puts the importer's cover in escrow; the
//! exporter's bank (Bank B) advises it. The exporter ships and presents the shipping
//! documents, anchored and co-signed by the carrier; Bank B checks them with Bank A's
//! agreement; Bank A pays the exporter from the escrowed cover and the credit settles by
//! itself. The importer and the exporter then find the payment among their own events.
//! Refused: the exporter issuing the credit, documents the carrier has not signed, payment
//! before the check, a check without the issuing bank; the carrier cannot read the credit.

use anyhow::{Context, Result};
use serde_json::Value;
use weft_client::Keypair;
use weft_types::{
    AccountId, Amount, AnchorDocument, CreateInstance, ErrorCode, Mint, Operation, SignDocument,
    Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms, payment::onboard_banks};

const TEMPLATE: &str = include_str!("../../../templates/letter-of-credit.yaml");
/// The credit's amount: 1,200.00 eur.
const AMOUNT: u128 = 120_000;

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("letter-of-credit");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn step(instance: &str, transition: &str, args: &[(&str, &str)]) -> Operation {
    Operation::Transition(Transition {
        instance: name(instance),
        transition: name(transition),
        args: args
            .iter()
            .map(|(k, v)| (name(k), (*v).to_owned()))
            .collect(),
    })
}

fn anchor(id: &str, text: &str, parties: &[&Keypair]) -> (Operation, Operation) {
    let hash = weft_crypto::sha256(text.as_bytes());
    (
        Operation::AnchorDocument(AnchorDocument {
            id: name(id),
            hash,
            media_type: "application/pdf".into(),
            uri: format!("vault://trade/{id}"),
            parties: parties.iter().map(|k| k.account()).collect(),
            required_signatures: u8::try_from(parties.len()).unwrap_or(u8::MAX),
        }),
        Operation::SignDocument(SignDocument {
            id: name(id),
            version: 1,
            hash,
        }),
    )
}

/// The `workflow.transition` events of `instance` that `who` reads among its own events
/// since `from_height`, as (transition, automatic).
async fn notifications(
    ctx: &Ctx,
    who: &Keypair,
    instance: &str,
    from_height: u64,
) -> Result<Vec<(String, bool)>> {
    let path = format!(
        "/v1/events?account={}&topic=workflow.transition&from_height={from_height}&limit=1000",
        who.account()
    );
    let answer: Value = ctx.reader(who).get(&path).await?;
    let attr = |e: &Value, key: &str| -> Option<String> {
        e["event"]["attributes"]
            .as_array()?
            .iter()
            .find_map(|kv| (kv[0] == key).then(|| kv[1].as_str().unwrap_or_default().to_owned()))
    };
    Ok(answer["events"]
        .as_array()
        .context("events")?
        .iter()
        .filter(|e| attr(e, "instance").as_deref() == Some(instance))
        .map(|e| {
            (
                attr(e, "transition").unwrap_or_default(),
                attr(e, "automatic").as_deref() == Some("true"),
            )
        })
        .collect())
}

#[allow(clippy::too_many_lines)] // the lifecycle reads best as one script
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    onboard_banks(ctx, s).await?;
    let (central_bank, issuing, advising) = (
        ctx.key("central-bank")?,
        ctx.key("bank-a")?,
        ctx.key("bank-b")?,
    );
    let (buyer, supplier, carrier) = (
        ctx.key("importer")?,
        ctx.key("exporter")?,
        ctx.key("carrier")?,
    );
    let wf = "workflow-participant";
    ctx.onboard(s, "bank-a", "Bank A", &[(&issuing, &["member", wf])])
        .await?;
    ctx.onboard(s, "bank-b", "Bank B", &[(&advising, &["member", wf])])
        .await?;
    ctx.onboard(s, "importer", "Importer", &[(&buyer, &["member", wf])])
        .await?;
    ctx.onboard(s, "exporter", "Exporter", &[(&supplier, &["member", wf])])
        .await?;
    ctx.onboard(s, "carrier", "Shipping company", &[(&carrier, &["member"])])
        .await?;
    ctx.ensure_template(s, "letter-of-credit", 1, TEMPLATE)
        .await?;

    let run = ctx.run_id().await?;
    let (lc, contract, shipping) = (
        format!("lc-{run}"),
        format!("lc-{run}-contract"),
        format!("lc-{run}-shipping"),
    );
    let (b, su): (AccountId, AccountId) = (buyer.account(), supplier.account());
    s.commit(
        ctx,
        &central_bank,
        "central bank issues 1500.00 eur (CBDC) to the importer",
        vec![Operation::Mint(Mint {
            symbol: name("eur"),
            to: b,
            amount: Amount(150_000),
        })],
    )
    .await?;
    let (b0, s0) = (
        ctx.balance("eur", &b).await?,
        ctx.balance("eur", &su).await?,
    );

    let (a, sign) = anchor(
        &contract,
        &format!("Contract {lc}: 400 pumps FCA Hamburg for 1,200.00 eur, letter of credit"),
        &[&buyer, &supplier],
    );
    s.commit_signed(
        ctx,
        &[&buyer, &supplier],
        "importer and exporter sign the sales contract",
        vec![a, sign],
    )
    .await?;
    s.commit(
        ctx,
        &buyer,
        "the importer applies for the letter of credit",
        vec![Operation::CreateInstance(CreateInstance {
            instance: name(&lc),
            template: name("letter-of-credit"),
            version: 1,
            parties: vec![
                (name("buyer"), b),
                (name("issuing_bank"), issuing.account()),
                (name("advising_bank"), advising.account()),
                (name("supplier"), su),
                (name("carrier"), carrier.account()),
            ],
            params: vec![
                (name("currency"), "eur".into()),
                (name("amount"), AMOUNT.to_string()),
                (name("contract"), contract.clone()),
                (
                    name("latest_presentation"),
                    (now_ms() + 15 * 24 * 3600 * 1000).to_string(),
                ),
            ],
        })],
    )
    .await?;
    s.refused(
        ctx,
        &supplier,
        "the exporter cannot issue the credit",
        ErrorCode::Unauthorized,
        vec![step(&lc, "issue", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&issuing, &buyer],
        "Bank A issues the credit; the importer's cover goes into escrow",
        vec![step(&lc, "issue", &[])],
    )
    .await?;
    let hold = ctx.value(&format!("hold/{lc}.cover")).await?;
    let b1 = ctx.balance("eur", &b).await?;
    s.check(
        "the cover is escrowed for the exporter",
        b1 + AMOUNT == b0
            && hold["amount"] == AMOUNT.to_string()
            && hold["beneficiary"] == serde_json::json!(su),
        format!("importer {b0} → {b1}; hold {}", hold["amount"]),
    );
    s.commit(
        ctx,
        &advising,
        "Bank B advises the credit to the exporter",
        vec![step(&lc, "advise", &[])],
    )
    .await?;

    let (a, sign) = anchor(
        &shipping,
        &format!("Shipping documents for {lc}: bill of lading HLCU-{run}, invoice, packing list"),
        &[&supplier, &carrier],
    );
    s.commit(
        ctx,
        &supplier,
        "the exporter ships and anchors the shipping documents",
        vec![a, sign.clone()],
    )
    .await?;
    let present = || vec![step(&lc, "present_documents", &[("documents", &shipping)])];
    s.refused(
        ctx,
        &supplier,
        "documents the carrier has not signed are refused",
        ErrorCode::InvalidArgument,
        present(),
    )
    .await?;
    s.commit(
        ctx,
        &carrier,
        "the carrier co-signs the bill of lading",
        vec![sign],
    )
    .await?;
    s.commit(
        ctx,
        &supplier,
        "the exporter presents the documents",
        present(),
    )
    .await?;
    s.refused(
        ctx,
        &issuing,
        "payment before the documents are checked is refused",
        ErrorCode::InvalidArgument,
        vec![step(&lc, "pay", &[])],
    )
    .await?;
    s.refused(
        ctx,
        &advising,
        "a check without the issuing bank's agreement is refused",
        ErrorCode::Unauthorized,
        vec![step(&lc, "check_documents", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&advising, &issuing],
        "Bank B checks the documents, Bank A agrees",
        vec![step(&lc, "check_documents", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &issuing,
        "Bank A pays the exporter in eur; the credit settles",
        vec![step(&lc, "pay", &[])],
    )
    .await?;

    let (b2, s2) = (
        ctx.balance("eur", &b).await?,
        ctx.balance("eur", &su).await?,
    );
    let hold = ctx.value(&format!("hold/{lc}.cover")).await?;
    s.check(
        "the exporter received exactly the credit, from the importer's cover",
        b2 + AMOUNT == b0 && s2 == s0 + AMOUNT && hold.is_null(),
        format!("importer {b0} → {b2}, exporter {s0} → {s2} (cents)"),
    );
    let record = ctx
        .reader(&buyer)
        .state(&format!("instance/{lc}"), false, None)
        .await?["value"]
        .clone();
    let history: Vec<(String, bool)> = record["history"]
        .as_array()
        .context("history")?
        .iter()
        .map(|h| {
            (
                h["transition"].as_str().unwrap_or_default().to_owned(),
                h["automatic"] == true,
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = [
        ("issue", false),
        ("advise", false),
        ("present_documents", false),
        ("check_documents", false),
        ("pay", false),
        ("settle", true),
    ]
    .iter()
    .map(|(t, a)| ((*t).to_owned(), *a))
    .collect();
    let presented = &record["history"][2]["args"]["documents"]["value"];
    s.check(
        "the credit is settled, its history complete",
        record["state"] == "settled" && history == expected && *presented == shipping.as_str(),
        format!("{history:?}; presented {presented}"),
    );

    for (who, label) in [(&buyer, "importer"), (&supplier, "exporter")] {
        let seen = notifications(ctx, who, &lc, run).await?;
        let paid = seen.contains(&("pay".to_owned(), false))
            && seen.contains(&("settle".to_owned(), true));
        s.check(
            &format!("the {label} is notified of the payment"),
            paid && seen.len() == expected.len(),
            format!("{} events: {seen:?}", seen.len()),
        );
    }
    let carrier_read = ctx
        .reader(&carrier)
        .state(&format!("instance/{lc}"), false, None)
        .await;
    s.read_refused(
        "the carrier cannot read the credit's terms",
        ErrorCode::Forbidden,
        &carrier_read,
    );
    s.final_state(format!(
        "letter of credit {lc} settled: 1200.00 eur paid to the exporter"
    ));
    Ok(())
}
