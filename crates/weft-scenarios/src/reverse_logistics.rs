//! UC-18, reverse logistics credits (POLEN, Brazil). A waste-picker cooperative (the reverse
//! logistics operator, RLO) sells post-consumption packaging to a recycler; the official
//! fiscal invoice (NF-e) reaches the ledger through the fiscal oracle, a registered feed whose
//! device key signs every invoice it attests. The system operator tokenizes an adherent
//! invoice into a credit lot (one credit = one tonne collected and recycled) under the
//! invoice's access key, so an invoice backs credits exactly once: a second claim on the same
//! invoice is refused (`already_exists`), and so is a claim the oracle did not sign
//! (`missing_signature`). The cooperative sells the lot on the marketplace, which pays the
//! operator its fee; the manufacturer retires the credits as proof of compliance. The
//! manufacturer never learns which association sold them (an account's organization is not
//! readable to it: `forbidden`), while the auditor and the marketplace provider can.

use anyhow::Result;
use serde_json::Value;
use weft_types::{
    AccountId, Amount, BuyAsset, DefineToken, ErrorCode, Mint, OfferAsset, Operation, PostReading,
    RegisterAsset, RegisterFeed, RetireAsset,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

/// The fiscal oracle's feed: one reading per attested invoice, in kilograms.
const FEED: &str = "nfe-oracle";
/// Price of one credit (one tonne) in BRL cents.
const CREDIT_PRICE: u128 = 15_000;
/// The marketplace fee: 5%.
const FEE_BPS: u16 = 500;

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("reverse-logistics");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

/// An invoice as the fiscal authority issued it.
struct Invoice {
    /// The 44-digit NF-e access key.
    access_key: String,
    kg: i64,
    ncm: &'static str,
    material: &'static str,
    issued: &'static str,
    seller_cnpj: &'static str,
    buyer_cnpj: &'static str,
}

impl Invoice {
    fn lot_id(&self) -> String {
        format!("nfe-{}", self.access_key)
    }

    /// Credits the invoice backs: whole tonnes.
    fn tonnes(&self) -> i64 {
        self.kg / 1000
    }

    /// The oracle's reading and the credit lot, in one transaction the oracle device co-signs:
    /// its signature covers the lot's registration, and the lot's id is the invoice's key.
    fn tokenize(&self, rlo: AccountId, observed_at_ms: u64) -> Vec<Operation> {
        let digest = |cnpj: &str| hex(&weft_crypto::sha256(cnpj.as_bytes()).0);
        vec![
            Operation::PostReading(PostReading {
                feed: name(FEED),
                value: self.kg,
                observed_at_ms,
            }),
            Operation::RegisterAsset(RegisterAsset {
                id: name(&self.lot_id()),
                class: name("rl-credit"),
                owner: rlo,
                attributes: vec![
                    ("credits_t".into(), self.tonnes().to_string()),
                    ("kg".into(), self.kg.to_string()),
                    ("ncm".into(), self.ncm.into()),
                    ("material".into(), self.material.into()),
                    ("issued".into(), self.issued.into()),
                    ("nfe_access_key".into(), self.access_key.clone()),
                    // Identities stay off the public record: only their digests, which the
                    // auditor can match against the invoice.
                    ("seller_cnpj_sha256".into(), digest(self.seller_cnpj)),
                    ("buyer_cnpj_sha256".into(), digest(self.buyer_cnpj)),
                ],
            }),
        ]
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn asset_owner(asset: &Value) -> &str {
    asset["owner"].as_str().unwrap_or("")
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let polen = ctx.key("polen-operator")?;
    let oracle = ctx.key("nfe-oracle-device")?;
    let coop = ctx.key("coop-recicla")?;
    let maker = ctx.key("acme-beverages")?;
    let auditor = ctx.key("ministry-auditor")?;
    // The system operator registers credits, runs the oracle gateway, issues the payment
    // token for the demo and, as marketplace provider, may read identities.
    ctx.onboard(
        s,
        "polen",
        "POLEN (system operator)",
        &[(
            &polen,
            &["custodian", "sensor-operator", "issuer", "auditor"],
        )],
    )
    .await?;
    ctx.onboard(
        s,
        "coop-recicla",
        "Cooperativa Recicla (waste pickers)",
        &[(&coop, &["trader"])],
    )
    .await?;
    ctx.onboard(
        s,
        "acme-beverages",
        "ACME Beverages (packaged goods)",
        &[(&maker, &["trader", "custodian"])],
    )
    .await?;
    ctx.onboard(
        s,
        "ministry-env",
        "Ministry of Environment (auditor)",
        &[(&auditor, &["auditor"])],
    )
    .await?;
    if ctx.value("token/brl").await?.is_null() {
        s.commit(
            ctx,
            &polen,
            "define the brl payment token",
            vec![Operation::DefineToken(DefineToken {
                symbol: name("brl"),
                display_name: "Tokenized BRL (demo)".into(),
                decimals: 2,
                max_supply: None,
                controller: None,
                holder_role: None,
            })],
        )
        .await?;
    }
    if ctx.value(&format!("feed/{FEED}")).await?.is_null() {
        s.commit(
            ctx,
            &polen,
            "register the fiscal oracle feed and its device key",
            vec![Operation::RegisterFeed(RegisterFeed {
                id: name(FEED),
                kind: name("fiscal-invoice"),
                unit: "kg".into(),
                scale: 0,
                device: oracle.account(),
                issues: None,
            })],
        )
        .await?;
    }

    let run = ctx.run_id().await?;
    let invoice = Invoice {
        access_key: format!("35190{:039}", run * 10 + 1),
        kg: 2_400,
        ncm: "3915.90.00",
        material: "PET bottles, baled",
        issued: "2019-01-04",
        seller_cnpj: "12.345.678/0001-90",
        buyer_cnpj: "98.765.432/0001-10",
    };
    let lot = invoice.lot_id();
    let credits = u128::try_from(invoice.tonnes())?;
    let (coop_acct, maker_acct, polen_acct) = (coop.account(), maker.account(), polen.account());
    let t0 = now_ms();
    let count0 = ctx.value(&format!("feed/{FEED}")).await?["count"]
        .as_u64()
        .unwrap_or(0);

    // An invoice the oracle did not attest backs nothing.
    s.refused(
        ctx,
        &polen,
        "a credit claim without the fiscal oracle's signature is refused",
        ErrorCode::MissingSignature,
        invoice.tokenize(coop_acct, t0),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&polen, &oracle],
        "the fiscal oracle attests invoice 1 and its credits are issued to the cooperative",
        invoice.tokenize(coop_acct, t0),
    )
    .await?;
    let record = ctx.value(&format!("asset/{lot}")).await?;
    let feed = ctx.value(&format!("feed/{FEED}")).await?;
    s.check(
        "the lot backs 2 credits for 2,400 kg and the oracle recorded the invoice",
        record["attributes"]["credits_t"] == "2"
            && record["attributes"]["nfe_access_key"] == invoice.access_key.as_str()
            && asset_owner(&record) == coop_acct.to_string()
            && feed["count"].as_u64() == Some(count0 + 1)
            && feed["last"]["value"].as_i64() == Some(invoice.kg),
        format!("lot {lot}: {}", record["attributes"]),
    );
    // The same invoice, attested again (a re-sent document), cannot back credits twice.
    s.refused_signed(
        ctx,
        &[&polen, &oracle],
        "a second credit claim on the same invoice is refused",
        ErrorCode::AlreadyExists,
        invoice.tokenize(coop_acct, t0 + 1),
    )
    .await?;

    // The manufacturer buys; the marketplace keeps its fee.
    s.commit(
        ctx,
        &polen,
        "the manufacturer funds its account with 1,000.00 brl",
        vec![Operation::Mint(Mint {
            symbol: name("brl"),
            to: maker_acct,
            amount: Amount(100_000),
        })],
    )
    .await?;
    let price = credits * CREDIT_PRICE;
    s.commit(
        ctx,
        &coop,
        "the cooperative lists the lot at 150.00 brl per credit, 5% marketplace fee",
        vec![Operation::OfferAsset(OfferAsset {
            asset: name(&lot),
            pay_symbol: name("brl"),
            price: Amount(price),
            fee_bps: FEE_BPS,
            fee_account: Some(polen_acct),
            buyer: None,
            deadline_height: u64::MAX,
        })],
    )
    .await?;
    let balances = async |who: &AccountId| ctx.balance("brl", who).await;
    let (m0, c0, p0) = (
        balances(&maker_acct).await?,
        balances(&coop_acct).await?,
        balances(&polen_acct).await?,
    );
    s.commit(
        ctx,
        &maker,
        "the manufacturer buys the lot",
        vec![Operation::BuyAsset(BuyAsset {
            asset: name(&lot),
            price: Amount(price),
        })],
    )
    .await?;
    let (m1, c1, p1) = (
        balances(&maker_acct).await?,
        balances(&coop_acct).await?,
        balances(&polen_acct).await?,
    );
    let fee = price * u128::from(FEE_BPS) / 10_000;
    s.check(
        "buyer paid 300.00, cooperative received 285.00, operator 15.00 (5%)",
        m0 - m1 == price && c1 - c0 == price - fee && p1 - p0 == fee && fee == 1_500,
        format!(
            "manufacturer -{}, cooperative +{}, operator +{} (cents)",
            m0 - m1,
            c1 - c0,
            p1 - p0
        ),
    );
    let bought = ctx.value(&format!("asset/{lot}")).await?;
    s.check(
        "the lot is the manufacturer's",
        asset_owner(&bought) == maker_acct.to_string(),
        format!("owner {}", asset_owner(&bought)),
    );

    // Who may see whom.
    let seller = ctx
        .reader(&maker)
        .state(&format!("account/{coop_acct}"), false, None)
        .await;
    s.read_refused(
        "the manufacturer cannot read which organization sold the credits",
        ErrorCode::Forbidden,
        &seller,
    );
    let audited = ctx
        .reader(&auditor)
        .state(&format!("account/{coop_acct}"), false, None)
        .await?;
    s.check(
        "the auditor sees the seller's organization",
        audited["value"]["organization"] == "coop-recicla",
        format!("{}", audited["value"]),
    );
    let provider = ctx
        .reader(&polen)
        .state(&format!("account/{coop_acct}"), false, None)
        .await?;
    s.check(
        "the marketplace provider sees it too",
        provider["value"]["organization"] == "coop-recicla",
        format!("{}", provider["value"]),
    );
    let own = ctx
        .reader(&maker)
        .state(&format!("asset/{lot}"), false, None)
        .await?;
    s.check(
        "the manufacturer reads its credits (the seller only as a key)",
        own["value"]["attributes"]["credits_t"] == "2",
        format!("{}", own["value"]["attributes"]),
    );

    // Compliance: the manufacturer retires the credits; the auditor checks them.
    s.commit(
        ctx,
        &maker,
        "the manufacturer retires the credits as proof of its 2019 recycling target",
        vec![Operation::RetireAsset(RetireAsset {
            id: name(&lot),
            reason: "PNRS compliance 2019: 2 t PET packaging".into(),
        })],
    )
    .await?;
    let checked = ctx
        .reader(&auditor)
        .state(&format!("asset/{lot}"), false, None)
        .await?;
    s.check(
        "the auditor finds the credits retired by the manufacturer, backed by the attested invoice",
        checked["value"]["status"]["state"] == "retired"
            && asset_owner(&checked["value"]) == maker_acct.to_string()
            && checked["value"]["attributes"]["nfe_access_key"] == invoice.access_key.as_str(),
        format!("{}", checked["value"]["status"]),
    );
    s.refused(
        ctx,
        &maker,
        "retired credits cannot be sold on",
        ErrorCode::InvalidArgument,
        vec![Operation::OfferAsset(OfferAsset {
            asset: name(&lot),
            pay_symbol: name("brl"),
            price: Amount(price),
            fee_bps: FEE_BPS,
            fee_account: Some(polen_acct),
            buyer: None,
            deadline_height: u64::MAX,
        })],
    )
    .await?;
    s.final_state(format!(
        "invoice {} backed {credits} credits once; sold for {price} brl cents ({fee} fee); retired for compliance",
        invoice.access_key
    ));
    Ok(())
}
