//! UC-14, Nori's carbon removal marketplace. A verifier checks a farm's carbon removal against
//! a methodology and issues Carbon Removal Certificates (CRCs: unique assets, one tonne each,
//! with who removed it, where, how, who verified it and against which standard) to the
//! supplier, and withholds one into Nori's insurance pool. The supplier offers each CRC for
//! NORI; the buyer takes them, and each swap of NORI for a CRC is one atomic step between buyer
//! and supplier — Nori never owns either asset. The buyer retires a CRC to claim the removal:
//! retired is final, so it can never be sold again (refused). When a reversal invalidates a
//! CRC, the verifier anchors the reversal report, the invalid CRC is retired as invalid, and
//! the pool's reserved CRC replaces it for the buyer.

use anyhow::{Result, ensure};
use serde_json::Value;
use weft_types::{
    AccountId, Amount, AnchorDocument, BuyAsset, DefineToken, ErrorCode, Mint, OfferAsset,
    Operation, RegisterAsset, RetireAsset, TransferAsset,
};

use crate::{Ctx, Scenario, ScenarioReport, name};

/// NORI has 2 decimals; a CRC trades 1-to-1 for NORI: 1.00 NORI per tonne.
const CRC_PRICE: u128 = 100;

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("carbon-removal");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn crc(id: &str, owner: AccountId, serial: u32, note: &str) -> Operation {
    Operation::RegisterAsset(RegisterAsset {
        id: name(id),
        class: name("crc"),
        owner,
        attributes: vec![
            ("tonnes_co2e".into(), "1".into()),
            ("vintage".into(), "2019".into()),
            (
                "methodology".into(),
                "Nori Croplands Methodology v1.0".into(),
            ),
            ("supplier".into(), "Grassroots Farm, Iowa".into()),
            ("practice".into(), "no-till, cover crops".into()),
            ("verifier".into(), "Independent Verifier LLC".into()),
            ("serial".into(), format!("{serial}")),
            ("issuance".into(), note.into()),
        ],
    })
}

fn offer(asset: &str, price: u128) -> Operation {
    Operation::OfferAsset(OfferAsset {
        asset: name(asset),
        pay_symbol: name("nori"),
        price: Amount(price),
        // Operating, not brokering: the swap is between buyer and supplier, no fee.
        fee_bps: 0,
        fee_account: None,
        buyer: None,
        deadline_height: u64::MAX,
    })
}

fn buy(asset: &str, price: u128) -> Operation {
    Operation::BuyAsset(BuyAsset {
        asset: name(asset),
        price: Amount(price),
    })
}

/// The asset record of `id` as JSON (null when absent).
async fn asset(ctx: &Ctx, id: &str) -> Result<Value> {
    ctx.value(&format!("asset/{id}")).await
}

fn owner_is(asset: &Value, who: &AccountId) -> bool {
    asset["owner"].as_str() == Some(&who.to_string())
}

fn state_of(asset: &Value) -> &str {
    asset["status"]["state"].as_str().unwrap_or("?")
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let nori = ctx.key("nori")?;
    let pool = ctx.key("nori-insurance-pool")?;
    let verifier = ctx.key("crc-verifier")?;
    let supplier = ctx.key("grassroots-farm")?;
    let buyer = ctx.key("climate-buyer")?;
    ctx.onboard(
        s,
        "nori",
        "Nori LLC",
        &[(&nori, &["issuer"]), (&pool, &["custodian"])],
    )
    .await?;
    ctx.onboard(
        s,
        "crc-verifier",
        "Independent Verifier LLC",
        &[(&verifier, &["custodian", "member"])],
    )
    .await?;
    ctx.onboard(
        s,
        "grassroots-farm",
        "Grassroots Farm (supplier)",
        &[(&supplier, &["trader"])],
    )
    .await?;
    ctx.onboard(
        s,
        "climate-buyer",
        "Climate-positive buyer",
        &[(&buyer, &["trader", "custodian"])],
    )
    .await?;
    if ctx.value("token/nori").await?.is_null() {
        s.commit(
            ctx,
            &nori,
            "Nori defines the NORI token (500 million cap)",
            vec![Operation::DefineToken(DefineToken {
                symbol: name("nori"),
                display_name: "NORI".into(),
                decimals: 2,
                max_supply: Some(Amount(500_000_000 * 100)),
                controller: None,
                holder_role: None,
            })],
        )
        .await?;
    }
    let run = ctx.run_id().await?;
    let ids: Vec<String> = ["a", "b", "reserve"]
        .iter()
        .map(|x| format!("crc-{run}-{x}"))
        .collect();
    let (crc_a, crc_b, reserve) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    let (b_acct, s_acct, n_acct) = (buyer.account(), supplier.account(), nori.account());

    // The buyer acquires NORI (bought off-chain with fiat).
    s.commit(
        ctx,
        &nori,
        "Nori mints 5.00 NORI to the buyer",
        vec![Operation::Mint(Mint {
            symbol: name("nori"),
            to: b_acct,
            amount: Amount(5 * CRC_PRICE),
        })],
    )
    .await?;

    // Issuance follows verification: a supplier cannot mint its own certificates.
    s.refused(
        ctx,
        &supplier,
        "the supplier cannot issue a CRC to itself",
        ErrorCode::Unauthorized,
        vec![crc(&format!("crc-{run}-self"), s_acct, 0, "unverified")],
    )
    .await?;
    s.commit(
        ctx,
        &verifier,
        "verifier issues 2 CRCs to the supplier and withholds 1 into the insurance pool",
        vec![
            crc(crc_a, s_acct, 1, "verified"),
            crc(crc_b, s_acct, 2, "verified"),
            crc(
                reserve,
                pool.account(),
                3,
                "withheld for the insurance pool",
            ),
        ],
    )
    .await?;
    let issued = asset(ctx, crc_a).await?;
    s.check(
        "the CRC carries its metadata and belongs to the supplier",
        owner_is(&issued, &s_acct)
            && issued["attributes"]["methodology"] == "Nori Croplands Methodology v1.0"
            && issued["attributes"]["tonnes_co2e"] == "1"
            && issued["attributes"]["vintage"] == "2019",
        format!("{issued}"),
    );

    // Listing: the supplier offers both CRCs at 1 NORI each; they stay the supplier's.
    s.commit(
        ctx,
        &supplier,
        "supplier lists both CRCs at 1.00 NORI",
        vec![offer(crc_a, CRC_PRICE), offer(crc_b, CRC_PRICE)],
    )
    .await?;
    let listing = ctx.value(&format!("rfq/{crc_a}")).await?;
    s.check(
        "the listing is open and the CRC still the supplier's",
        listing["status"]["state"] == "open"
            && listing["kind"]["kind"] == "asset_offer"
            && listing["kind"]["price"] == CRC_PRICE.to_string()
            && owner_is(&asset(ctx, crc_a).await?, &s_acct),
        format!("{listing}"),
    );
    s.refused(
        ctx,
        &buyer,
        "buying below the listed price is refused",
        ErrorCode::InvalidArgument,
        vec![buy(crc_a, CRC_PRICE - 1)],
    )
    .await?;

    // The atomic swap: both CRCs for 2 NORI in one transaction, all legs or none.
    let (b0, s0, n0) = (
        ctx.balance("nori", &b_acct).await?,
        ctx.balance("nori", &s_acct).await?,
        ctx.balance("nori", &n_acct).await?,
    );
    s.commit(
        ctx,
        &buyer,
        "buyer swaps 2.00 NORI for the 2 CRCs (delivery versus payment)",
        vec![buy(crc_a, CRC_PRICE), buy(crc_b, CRC_PRICE)],
    )
    .await?;
    let (b1, s1, n1) = (
        ctx.balance("nori", &b_acct).await?,
        ctx.balance("nori", &s_acct).await?,
        ctx.balance("nori", &n_acct).await?,
    );
    let (a, b) = (asset(ctx, crc_a).await?, asset(ctx, crc_b).await?);
    s.check(
        "NORI moved buyer → supplier 1-to-1 and both CRCs are the buyer's",
        b1 + 2 * CRC_PRICE == b0
            && s1 == s0 + 2 * CRC_PRICE
            && owner_is(&a, &b_acct)
            && owner_is(&b, &b_acct),
        format!("buyer {b0}→{b1}, supplier {s0}→{s1} (NORI cents)"),
    );
    s.check(
        "Nori never touched either asset",
        n1 == n0
            && ctx.value(&format!("rfq/{crc_a}")).await?["status"]["buyer"] == b_acct.to_string(),
        format!("Nori's NORI balance {n0}→{n1}; the listing records the buyer"),
    );
    s.refused(
        ctx,
        &supplier,
        "a sold CRC cannot be bought again",
        ErrorCode::InvalidArgument,
        vec![buy(crc_a, CRC_PRICE)],
    )
    .await?;

    // Retirement: the buyer claims the removal; the CRC is final.
    s.commit(
        ctx,
        &buyer,
        "buyer retires CRC a against its 2019 emissions",
        vec![Operation::RetireAsset(RetireAsset {
            id: name(crc_a),
            reason: "claimed: 2019 scope 1 emissions".into(),
        })],
    )
    .await?;
    let retired = asset(ctx, crc_a).await?;
    s.check(
        "CRC a is retired and still the buyer's",
        state_of(&retired) == "retired" && owner_is(&retired, &b_acct),
        format!("{}", retired["status"]),
    );
    s.refused(
        ctx,
        &buyer,
        "a retired CRC can never be sold again",
        ErrorCode::InvalidArgument,
        vec![offer(crc_a, CRC_PRICE)],
    )
    .await?;
    s.refused(
        ctx,
        &buyer,
        "a retired CRC cannot be transferred",
        ErrorCode::InvalidArgument,
        vec![Operation::TransferAsset(TransferAsset {
            id: name(crc_a),
            to: s_acct,
        })],
    )
    .await?;

    // A reversal: CRC b turns out invalid (the carbon was released). The verifier anchors
    // its report; the invalid certificate is retired as invalid, so nobody can claim or sell
    // it; the insurance pool's reserved CRC replaces it for the buyer.
    let report = format!("reversal report {crc_b}: tillage in 2020 released the stored carbon");
    s.commit(
        ctx,
        &verifier,
        "verifier anchors the reversal report invalidating CRC b",
        vec![Operation::AnchorDocument(AnchorDocument {
            id: name(&format!("reversal-{crc_b}")),
            hash: weft_crypto::sha256(report.as_bytes()),
            media_type: "application/pdf".into(),
            uri: format!("https://verifier.example/reports/{crc_b}.pdf"),
            parties: vec![b_acct, pool.account()],
            required_signatures: 0,
        })],
    )
    .await?;
    s.commit(
        ctx,
        &buyer,
        "the invalid CRC b is retired as invalid",
        vec![Operation::RetireAsset(RetireAsset {
            id: name(crc_b),
            reason: format!("invalidated: see document reversal-{crc_b}"),
        })],
    )
    .await?;
    s.commit(
        ctx,
        &pool,
        "the insurance pool delivers its reserved CRC to the buyer",
        vec![Operation::TransferAsset(TransferAsset {
            id: name(reserve),
            to: b_acct,
        })],
    )
    .await?;
    s.commit(
        ctx,
        &buyer,
        "buyer retires the replacement CRC",
        vec![Operation::RetireAsset(RetireAsset {
            id: name(reserve),
            reason: format!("claimed: replaces invalidated {crc_b}"),
        })],
    )
    .await?;
    let (b_rec, r_rec) = (asset(ctx, crc_b).await?, asset(ctx, reserve).await?);
    let doc = ctx.value(&format!("document/reversal-{crc_b}")).await?;
    s.check(
        "the buyer's claim is whole again: invalid CRC retired, replacement retired by the buyer",
        state_of(&b_rec) == "retired"
            && b_rec["status"]["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("invalidated"))
            && state_of(&r_rec) == "retired"
            && owner_is(&r_rec, &b_acct)
            && doc.is_object(),
        format!("b: {}; replacement: {}", b_rec["status"], r_rec["status"]),
    );
    let valid_claims = [&retired, &r_rec]
        .iter()
        .filter(|a| owner_is(a, &b_acct) && state_of(a) == "retired")
        .count();
    ensure!(valid_claims == 2, "expected 2 valid retired CRCs");
    s.final_state(format!(
        "buyer holds 2 retired CRCs ({crc_a}, {reserve}) for 2.00 NORI; {crc_b} invalidated and replaced from the pool"
    ));
    Ok(())
}
