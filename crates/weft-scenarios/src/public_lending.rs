//! UC-23, public sector lending transparency (BNDES), with the `public-lending` template: the
//! development bank issues a stablecoin and finances a client's project; its identification
//! desk links every receiving account to a real-world entity (the client by co-signing the
//! approval, each contractor with its company registration); the bank disburses just in
//! time, the client pays an identified contractor and the bank pays one directly; a payment
//! to an unidentified supplier and a disbursement beyond the approved credit are refused; the
//! contractor redeems its stablecoin, which the bank burns. Anyone, without signing in,
//! reads the whole trail back from the public instance.
//!
//! "KYC-linked accounts" hold on the ledger, not only inside the template: the stablecoin is
//! defined with a `holder_role`, the ledger role the network's identity authority grants
//! once it has verified the real-world entity behind an account. Every credit of the coin —
//! mint, transfer, workflow effect, escrow, market — needs it, so even a plain transfer to
//! the unidentified supplier, outside any instance, is refused.

use anyhow::{Context, Result};
use serde_json::Value;
use weft_types::{
    Amount, AssignRole, Burn, CreateInstance, DefineToken, ErrorCode, Mint, Operation, Transfer,
    Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name};

const TEMPLATE: &str = include_str!("../../../templates/public-lending.yaml");
/// The stablecoin: one unit is one centavo of a real.
const COIN: &str = "brl-bndes";
/// The ledger role of accounts whose real-world entity an identity authority verified (the
/// standard consortium's verified-identity role); only they may hold the stablecoin.
const KYC: &str = "identified";

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("public-lending");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn step(instance: &str, transition: &str, args: &[(&str, String)]) -> Operation {
    Operation::Transition(Transition {
        instance: name(instance),
        transition: name(transition),
        args: args.iter().map(|(k, v)| (name(k), v.clone())).collect(),
    })
}

/// Reais in centavos.
const fn brl(reais: u128) -> u128 {
    reais * 100
}

async fn supply(ctx: &Ctx) -> Result<u128> {
    let token = ctx.value(&format!("token/{COIN}")).await?;
    Ok(token["supply"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

#[allow(clippy::too_many_lines)] // one lifecycle, told in order
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let bank = ctx.key("bndes")?;
    let kyc = ctx.key("bndes-identification")?;
    let client = ctx.key("energia-solar")?;
    let alfa = ctx.key("construtora-alfa")?;
    let beta = ctx.key("fornecedora-beta")?;
    ctx.onboard(
        s,
        "bndes",
        "BNDES",
        &[
            (&bank, &["issuer", "workflow-participant"]),
            (&kyc, &["workflow-participant"]),
        ],
    )
    .await?;
    for (key, org, display) in [
        (&client, "energia-solar", "Energia Solar SA"),
        (&alfa, "construtora-alfa", "Construtora Alfa Ltda"),
        (&beta, "fornecedora-beta", "Fornecedora Beta Ltda"),
    ] {
        ctx.onboard(
            s,
            org,
            display,
            &[(key, &["workflow-participant", "member"])],
        )
        .await?;
    }
    ctx.ensure_template(s, "public-lending", 1, TEMPLATE)
        .await?;
    // The identity authority (the network operator, who may grant roles across
    // organizations) verifies the bank, the client and Construtora Alfa; nobody verified
    // Fornecedora Beta.
    let mut verify = Vec::new();
    for who in [&bank, &client, &alfa] {
        let account = ctx.value(&format!("account/{}", who.account())).await?;
        let verified = account["roles"]
            .as_array()
            .is_some_and(|roles| roles.iter().any(|r| r == KYC));
        if !verified {
            verify.push(Operation::AssignRole(AssignRole {
                account: who.account(),
                role: name(KYC),
            }));
        }
    }
    if !verify.is_empty() {
        s.commit(
            ctx,
            &ctx.cast.operator()?,
            "the identity authority links BNDES, Energia Solar and Construtora Alfa to their \
             entities (ledger role identified)",
            verify,
        )
        .await?;
    }
    if ctx.value(&format!("token/{COIN}")).await?.is_null() {
        s.commit(
            ctx,
            &bank,
            "BNDES defines its stablecoin (tokens representing reais), held only by verified \
             accounts",
            vec![Operation::DefineToken(DefineToken {
                symbol: name(COIN),
                display_name: "BNDES digital real".into(),
                decimals: 2,
                max_supply: None,
                controller: None,
                holder_role: Some(name(KYC)),
            })],
        )
        .await?;
    }
    let coin = ctx.value(&format!("token/{COIN}")).await?;
    s.check(
        "only accounts holding the verified-identity role may hold the stablecoin",
        coin["holder_role"] == KYC,
        format!("holder_role {}", coin["holder_role"]),
    );

    let run = ctx.run_id().await?;
    let loan = format!("loan-{run}");
    let supply0 = supply(ctx).await?;
    let bal = |who: &weft_client::Keypair| {
        let account = who.account();
        async move { ctx.balance(COIN, &account).await }
    };
    let (client0, alfa0, beta0) = (bal(&client).await?, bal(&alfa).await?, bal(&beta).await?);

    s.commit(
        ctx,
        &bank,
        "BNDES issues R$ 1,000,000.00 of stablecoin for its lending",
        vec![Operation::Mint(Mint {
            symbol: name(COIN),
            to: bank.account(),
            amount: Amount(brl(1_000_000)),
        })],
    )
    .await?;
    s.commit(
        ctx,
        &client,
        "the client requests a R$ 500,000.00 loan for its project",
        vec![Operation::CreateInstance(CreateInstance {
            instance: name(&loan),
            template: name("public-lending"),
            version: 1,
            parties: vec![
                (name("bank"), bank.account()),
                (name("identifier"), kyc.account()),
                (name("client"), client.account()),
            ],
            params: vec![
                (name("currency"), COIN.to_owned()),
                (name("project"), "Solar plant, Petrolina (PE)".to_owned()),
                (
                    name("client_entity"),
                    "CNPJ 12.345.678/0001-90 Energia Solar SA".to_owned(),
                ),
                (name("credit_limit"), brl(500_000).to_string()),
                (name("disbursed"), "0".to_owned()),
            ],
        })],
    )
    .await?;
    s.refused(
        ctx,
        &bank,
        "approval without the identification desk's co-signature is refused",
        ErrorCode::Unauthorized,
        vec![step(&loan, "approve", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&bank, &kyc],
        "BNDES approves; the identification desk co-signs (the client is identified)",
        vec![step(&loan, "approve", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &kyc,
        "the identification desk links Construtora Alfa's account to its company",
        vec![step(
            &loan,
            "identify",
            &[
                ("account", alfa.account().to_string()),
                (
                    "entity",
                    "CNPJ 98.765.432/0001-10 Construtora Alfa Ltda".to_owned(),
                ),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &bank,
        "BNDES disburses R$ 200,000.00 just in time",
        vec![step(
            &loan,
            "disburse",
            &[("amount", brl(200_000).to_string())],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &client,
        "a plain transfer of the stablecoin to the unidentified supplier is refused",
        ErrorCode::Unauthorized,
        vec![Operation::Transfer(Transfer {
            symbol: name(COIN),
            to: beta.account(),
            amount: Amount(brl(50_000)),
        })],
    )
    .await?;
    s.refused(
        ctx,
        &client,
        "paying a supplier nobody identified is refused",
        ErrorCode::Unauthorized,
        vec![step(
            &loan,
            "pay_contractor",
            &[
                ("contractor", beta.account().to_string()),
                ("amount", brl(50_000).to_string()),
                ("invoice", "NF-e 0042".to_owned()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &client,
        "the client pays Construtora Alfa R$ 150,000.00 (invoice NF-e 1234)",
        vec![step(
            &loan,
            "pay_contractor",
            &[
                ("contractor", alfa.account().to_string()),
                ("amount", brl(150_000).to_string()),
                ("invoice", "NF-e 1234".to_owned()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &bank,
        "BNDES pays Construtora Alfa R$ 100,000.00 directly (invoice NF-e 1301)",
        vec![step(
            &loan,
            "pay_directly",
            &[
                ("contractor", alfa.account().to_string()),
                ("amount", brl(100_000).to_string()),
                ("invoice", "NF-e 1301".to_owned()),
            ],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &bank,
        "a disbursement beyond the approved credit is refused",
        ErrorCode::InvalidArgument,
        vec![step(
            &loan,
            "disburse",
            &[("amount", brl(250_000).to_string())],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &beta,
        "an unidentified account cannot redeem through the project",
        ErrorCode::Unauthorized,
        vec![step(&loan, "redeem", &[("amount", brl(1).to_string())])],
    )
    .await?;
    s.commit(
        ctx,
        &alfa,
        "Construtora Alfa redeems its R$ 250,000.00 for fiat money",
        vec![step(
            &loan,
            "redeem",
            &[("amount", brl(250_000).to_string())],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &bank,
        "BNDES burns the redeemed stablecoin (the reais were paid out)",
        vec![Operation::Burn(Burn {
            symbol: name(COIN),
            amount: Amount(brl(250_000)),
        })],
    )
    .await?;
    s.commit(
        ctx,
        &bank,
        "BNDES closes the loan",
        vec![step(&loan, "close", &[])],
    )
    .await?;

    let (client1, alfa1, beta1) = (bal(&client).await?, bal(&alfa).await?, bal(&beta).await?);
    s.check(
        "the client kept R$ 50,000.00 of its R$ 200,000.00 disbursement",
        client1 == client0 + brl(50_000),
        format!("{client0} → {client1}"),
    );
    s.check(
        "Construtora Alfa was paid R$ 250,000.00 and redeemed all of it",
        alfa1 == alfa0,
        format!("{alfa0} → {alfa1}"),
    );
    s.check(
        "the unidentified supplier received nothing",
        beta1 == beta0,
        format!("{beta0} → {beta1}"),
    );
    let supply1 = supply(ctx).await?;
    s.check(
        "the stablecoin supply grew by the issue less the redemption",
        supply1 == supply0 + brl(1_000_000) - brl(250_000),
        format!("{supply0} → {supply1}"),
    );

    // The audit trail is public: read without signing in.
    let answer = ctx
        .client
        .state(&format!("instance/{loan}"), false, None)
        .await
        .context("public read of the loan")?;
    let record = &answer["value"];
    let history = record["history"].as_array().cloned().unwrap_or_default();
    let steps: Vec<&str> = history
        .iter()
        .filter_map(|h| h["transition"].as_str())
        .collect();
    let expected = [
        "approve",
        "identify",
        "disburse",
        "pay_contractor",
        "pay_directly",
        "redeem",
        "close",
    ];
    s.check(
        "anyone reads the loan's complete history without signing in",
        steps == expected && record["state"] == "closed",
        steps.join(" → "),
    );
    let arg = |h: &Value, k: &str| {
        h["args"][k]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let payments: Vec<String> = history
        .iter()
        .filter(|h| h["transition"] == "pay_contractor" || h["transition"] == "pay_directly")
        .map(|h| {
            format!(
                "{} {} to {}",
                arg(h, "invoice"),
                arg(h, "amount"),
                arg(h, "contractor")
            )
        })
        .collect();
    let alfa_hex = alfa.account().to_string();
    s.check(
        "every payment names its invoice, amount and identified contractor",
        payments.len() == 2
            && payments[0] == format!("NF-e 1234 {} to {alfa_hex}", brl(150_000))
            && payments[1] == format!("NF-e 1301 {} to {alfa_hex}", brl(100_000)),
        payments.join("; "),
    );
    let link = history
        .iter()
        .find(|h| h["transition"] == "identify")
        .map(|h| (arg(h, "account"), arg(h, "entity")))
        .unwrap_or_default();
    s.check(
        "the contractor's account is linked to its real-world entity in public",
        link.0 == alfa_hex && link.1.contains("Construtora Alfa"),
        format!("{} = {}", link.0, link.1),
    );
    let disbursed = record["params"]["disbursed"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    s.check(
        "R$ 300,000.00 of the R$ 500,000.00 credit was disbursed",
        disbursed == brl(300_000).to_string(),
        format!("{disbursed} centavos"),
    );
    s.final_state(format!(
        "loan {loan} closed: R$ 300,000.00 disbursed, R$ 250,000.00 redeemed and burned"
    ));
    Ok(())
}
