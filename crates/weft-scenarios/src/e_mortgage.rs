//! UC-01, custodian accounting of electronic mortgages in Masterchain's decentralized
//! depository system (paper §14.1.1), through the `e-mortgage-depository` template.
//!
//! A record-keeping depository stores the e-mortgage and a record-entry depository keeps
//! the depo accounts; each has an operator (a technical user) and a controller, and every
//! depository operation needs both hands. The mortgagee and the borrower sign the
//! e-mortgage file; the mortgagee submits it and the record-keeping depository admits it to
//! storage, crediting one unit to the mortgagee's depo account (passive side) and one to its
//! storage account (active side). The mortgagee orders the transfer of the rights to another
//! bank, the record-entry depository executes it; the borrower repays, the holder asks for
//! the redemption and the record-keeping depository cancels the mortgage, debiting both sides.
//!
//! Both depot tokens are controlled by the depository template: units are minted and burnt
//! only by the template's two-hands transitions and move only through its effects, so the
//! double entry holds by construction. After every operation the regulator (the Bank of
//! Russia, who reads everything) recomputes it through the API: passive total = active total
//! = each token's supply. Refused: an operator acting alone, the wrong depository's hands, a
//! key outside the whitelist, an acquirer outside the whitelist, the depository's operator
//! minting depo units directly (outside the two-hands admission), the holder moving its
//! depo unit with a plain transfer (outside the record-entry depository), and the former
//! holder selling the mortgage again. A member who is no party cannot read the depository
//! record.

use anyhow::{Context, Result};
use serde_json::Value;
use weft_client::Keypair;
use weft_types::{
    AccountId, Amount, AnchorDocument, CreateInstance, DefineToken, ErrorCode, Hash, Mint,
    Operation, RegisterAsset, SignDocument, Transfer, Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name};

const TEMPLATE: &str = include_str!("../../../templates/e-mortgage-depository.yaml");
/// Passive side: units on the depo accounts of the holders, in pieces.
const DEPO: &str = "emtg-depo";
/// Active side: units on the storage account of the record-keeping depository.
const STORE: &str = "emtg-store";
/// The template that alone changes both tokens.
const CONTROLLER: &str = "e-mortgage-depository";

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("e-mortgage");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

/// Everyone taking part.
struct Cast {
    keeper_op: Keypair,
    keeper_ctl: Keypair,
    entry_op: Keypair,
    entry_ctl: Keypair,
    bank_a: Keypair,
    bank_b: Keypair,
    bank_c: Keypair,
    borrower: Keypair,
    regulator: Keypair,
}

impl Cast {
    fn load(ctx: &Ctx) -> Result<Self> {
        Ok(Self {
            keeper_op: ctx.key("keeper-operator")?,
            keeper_ctl: ctx.key("keeper-controller")?,
            entry_op: ctx.key("entry-operator")?,
            entry_ctl: ctx.key("entry-controller")?,
            bank_a: ctx.key("bank-a")?,
            bank_b: ctx.key("bank-b")?,
            bank_c: ctx.key("bank-c")?,
            borrower: ctx.key("borrower")?,
            regulator: ctx.key("regulator")?,
        })
    }

    /// Every account that may hold a depo unit (the storage account receives the unit of a
    /// mortgage being redeemed before it is burnt).
    fn depo_accounts(&self) -> [AccountId; 4] {
        [
            self.bank_a.account(),
            self.bank_b.account(),
            self.bank_c.account(),
            self.keeper_op.account(),
        ]
    }
}

/// The depository's books as the regulator reads them through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Books {
    /// Depo balances of bank A, bank B, bank C and the storage account, in that order.
    depo: [u128; 4],
    /// Depo units blocked under this mortgage's pending order or redemption request.
    blocked: u128,
    /// The storage account's active units.
    store: u128,
    depo_supply: u128,
    store_supply: u128,
}

impl Books {
    fn passive(&self) -> u128 {
        self.depo.iter().sum::<u128>() + self.blocked
    }

    /// Double entry: the passive and active totals are equal, and every unit of either side
    /// is on an account the regulator can see.
    fn balanced(&self) -> bool {
        self.passive() == self.store
            && self.passive() == self.depo_supply
            && self.store == self.store_supply
    }

    fn describe(&self) -> String {
        format!(
            "passive {} (A {}, B {}, C {}, storage {}, blocked {}) / active {}; supplies {} / {}",
            self.passive(),
            self.depo[0],
            self.depo[1],
            self.depo[2],
            self.depo[3],
            self.blocked,
            self.store,
            self.depo_supply,
            self.store_supply
        )
    }
}

fn amount(v: &Value) -> u128 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

async fn read(ctx: &Ctx, reader: &Keypair, key: &str) -> Result<Value> {
    let answer = ctx.reader(reader).state(key, false, None).await?;
    Ok(answer["value"].clone())
}

async fn books(ctx: &Ctx, cast: &Cast, instance: &str) -> Result<Books> {
    let r = &cast.regulator;
    let mut depo = [0; 4];
    for (slot, who) in depo.iter_mut().zip(cast.depo_accounts()) {
        *slot = amount(&read(ctx, r, &format!("balance/{DEPO}/{who}")).await?);
    }
    let mut blocked = 0;
    for hold in ["order", "redemption"] {
        blocked += amount(&read(ctx, r, &format!("hold/{instance}.{hold}")).await?["amount"]);
    }
    let store = amount(
        &read(
            ctx,
            r,
            &format!("balance/{STORE}/{}", cast.keeper_op.account()),
        )
        .await?,
    );
    let depo_supply = amount(&read(ctx, r, &format!("token/{DEPO}")).await?["supply"]);
    let store_supply = amount(&read(ctx, r, &format!("token/{STORE}")).await?["supply"]);
    Ok(Books {
        depo,
        blocked,
        store,
        depo_supply,
        store_supply,
    })
}

/// Checks the double entry after an operation, and that the operation moved exactly the
/// units it should have: `expected` is the books before it with the expected changes.
async fn check_books(
    ctx: &Ctx,
    s: &mut Scenario,
    cast: &Cast,
    instance: &str,
    label: &str,
    expected: &Books,
) -> Result<Books> {
    let now = books(ctx, cast, instance).await?;
    s.check(
        &format!("double entry after {label}"),
        now.balanced() && now.depo == expected.depo && now.blocked == expected.blocked,
        now.describe(),
    );
    Ok(now)
}

fn step(instance: &str, transition: &str, args: &[(&str, String)]) -> Operation {
    Operation::Transition(Transition {
        instance: name(instance),
        transition: name(transition),
        args: args.iter().map(|(k, v)| (name(k), v.clone())).collect(),
    })
}

fn plain_transfer(symbol: &str, to: AccountId) -> Operation {
    Operation::Transfer(Transfer {
        symbol: name(symbol),
        to,
        amount: Amount(1),
    })
}

/// Anchors a document between `parties` and has all of them sign it in one transaction.
fn signed_document(id: &str, text: &str, parties: &[&Keypair]) -> (Hash, Vec<Operation>) {
    let hash = weft_crypto::sha256(text.as_bytes());
    let ops = vec![
        Operation::AnchorDocument(AnchorDocument {
            id: name(id),
            hash,
            media_type: "application/xml".into(),
            uri: format!("dds://documents/{id}"),
            parties: parties.iter().map(|k| k.account()).collect(),
            required_signatures: u8::try_from(parties.len()).unwrap_or(u8::MAX),
        }),
        Operation::SignDocument(SignDocument {
            id: name(id),
            version: 1,
            hash,
        }),
    ];
    (hash, ops)
}

async fn onboard(ctx: &Ctx, s: &mut Scenario, c: &Cast) -> Result<()> {
    let wf = "workflow-participant";
    ctx.onboard(
        s,
        "dds-keeper",
        "Record-keeping depository",
        &[
            (&c.keeper_op, &["custodian", "issuer", "member", wf]),
            (&c.keeper_ctl, &["member", wf]),
        ],
    )
    .await?;
    ctx.onboard(
        s,
        "dds-entry",
        "Record-entry depository",
        &[
            (&c.entry_op, &["member", wf]),
            (&c.entry_ctl, &["member", wf]),
        ],
    )
    .await?;
    ctx.onboard(s, "bank-a", "Bank A", &[(&c.bank_a, &["member", wf])])
        .await?;
    ctx.onboard(s, "bank-b", "Bank B", &[(&c.bank_b, &["member", wf])])
        .await?;
    ctx.onboard(s, "bank-c", "Bank C", &[(&c.bank_c, &["member", wf])])
        .await?;
    ctx.onboard(s, "mortgagors", "Borrowers", &[(&c.borrower, &["citizen"])])
        .await?;
    ctx.onboard(
        s,
        "bank-of-russia",
        "Bank of Russia",
        &[(&c.regulator, &["regulator"])],
    )
    .await?;
    // The controller must exist before the tokens it controls.
    ctx.ensure_template(s, CONTROLLER, 1, TEMPLATE).await?;
    for (symbol, title) in [
        (DEPO, "E-mortgages on depo accounts (passive)"),
        (STORE, "E-mortgages in storage (active)"),
    ] {
        if ctx.value(&format!("token/{symbol}")).await?.is_null() {
            s.commit(
                ctx,
                &c.keeper_op,
                &format!("record-keeping depository defines {symbol}, controlled by {CONTROLLER}"),
                vec![Operation::DefineToken(DefineToken {
                    symbol: name(symbol),
                    display_name: title.into(),
                    decimals: 0,
                    max_supply: None,
                    controller: Some(name(CONTROLLER)),
                    holder_role: None,
                })],
            )
            .await?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_lines)] // the lifecycle reads best as one script
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let c = Cast::load(ctx)?;
    onboard(ctx, s, &c).await?;
    let run = ctx.run_id().await?;
    let (inst, mortgage) = (format!("emtg-{run}"), format!("emtg-{run}"));
    let (file, order) = (format!("emtg-{run}-file"), format!("emtg-{run}-order"));
    let (a, b) = (c.bank_a.account(), c.bank_b.account());
    let mut expected = books(ctx, &c, &inst).await?;
    s.check(
        "the books balance before the run",
        expected.balanced(),
        expected.describe(),
    );
    let r = &c.regulator;
    let (depo, store) = (
        read(ctx, r, &format!("token/{DEPO}")).await?,
        read(ctx, r, &format!("token/{STORE}")).await?,
    );
    s.check(
        "both depot tokens are controlled by the depository template",
        depo["controller"] == CONTROLLER && store["controller"] == CONTROLLER,
        format!(
            "{DEPO}: {}, {STORE}: {}",
            depo["controller"], store["controller"]
        ),
    );

    let (file_hash, ops) = signed_document(
        &file,
        &format!("e-mortgage {mortgage}: loan 7,500,000 RUB, flat 77:01:0004012:1234"),
        &[&c.bank_a, &c.borrower],
    );
    s.commit_signed(
        ctx,
        &[&c.bank_a, &c.borrower],
        "mortgagee and borrower sign the e-mortgage file",
        ops,
    )
    .await?;
    let params = [
        ("mortgage", mortgage.clone()),
        ("mortgage_file", file.clone()),
        ("depo_units", DEPO.to_owned()),
        ("store_units", STORE.to_owned()),
        ("holder_account", a.to_string()),
        ("acquirer_account", a.to_string()),
    ];
    let parties = [
        ("keeper_operator", c.keeper_op.account()),
        ("keeper_controller", c.keeper_ctl.account()),
        ("entry_operator", c.entry_op.account()),
        ("entry_controller", c.entry_ctl.account()),
        ("holder", a),
        ("regulator", c.regulator.account()),
    ];
    s.commit(
        ctx,
        &c.keeper_op,
        "the e-mortgage is registered in the mortgagee's name and submitted",
        vec![
            Operation::RegisterAsset(RegisterAsset {
                id: name(&mortgage),
                class: name("e-mortgage"),
                owner: a,
                attributes: vec![
                    ("principal_rub".into(), "7500000".into()),
                    ("cadastral_number".into(), "77:01:0004012:1234".into()),
                    ("file_sha256".into(), file_hash.to_hex()),
                ],
            }),
            Operation::CreateInstance(CreateInstance {
                instance: name(&inst),
                template: name("e-mortgage-depository"),
                version: 1,
                parties: parties.iter().map(|(r, a)| (name(r), *a)).collect(),
                params: params.iter().map(|(k, v)| (name(k), v.clone())).collect(),
            }),
        ],
    )
    .await?;

    let stranger = Keypair::generate()?;
    s.refused(
        ctx,
        &stranger,
        "a key outside the whitelist cannot act",
        ErrorCode::UnknownAccount,
        vec![step(&inst, "accept_for_storage", &[])],
    )
    .await?;
    s.refused(
        ctx,
        &c.keeper_op,
        "the depository's operator cannot mint depo units outside the two-hands admission",
        ErrorCode::Unauthorized,
        vec![Operation::Mint(Mint {
            symbol: name(DEPO),
            to: a,
            amount: Amount(1),
        })],
    )
    .await?;
    // The units are minted by the transition itself, on both sides.
    let admit = || vec![step(&inst, "accept_for_storage", &[])];
    s.refused_signed(
        ctx,
        &[&c.keeper_op, &c.bank_a],
        "admission by the operator alone (one hand) is refused",
        ErrorCode::Unauthorized,
        admit(),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&c.keeper_op, &c.keeper_ctl, &c.bank_a],
        "operator and controller admit the e-mortgage to storage",
        admit(),
    )
    .await?;
    expected.depo[0] += 1;
    expected = check_books(ctx, s, &c, &inst, "admission", &expected).await?;
    let asset = read(ctx, &c.regulator, &format!("asset/{mortgage}")).await?;
    s.check(
        "the mortgage is in the record-keeping depository's storage",
        asset["owner"] == serde_json::json!(c.keeper_op.account())
            && asset["status"]["state"] == "active",
        format!("owner {}", asset["owner"]),
    );

    let (_, ops) = signed_document(
        &order,
        &format!("Order: transfer the rights to e-mortgage {mortgage} from Bank A to Bank B"),
        &[&c.bank_a, &c.bank_b],
    );
    s.commit_signed(
        ctx,
        &[&c.bank_a, &c.bank_b],
        "Bank A and Bank B sign a transfer order",
        ops,
    )
    .await?;
    s.refused(
        ctx,
        &c.bank_a,
        "an order to an acquirer outside the whitelist is refused",
        ErrorCode::UnknownAccount,
        vec![step(
            &inst,
            "order_transfer",
            &[
                ("acquirer", stranger.account().to_string()),
                ("order", order.clone()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &c.bank_a,
        "Bank A orders the transfer to Bank B (its unit is blocked)",
        vec![step(
            &inst,
            "order_transfer",
            &[("acquirer", b.to_string()), ("order", order.clone())],
        )],
    )
    .await?;
    expected.depo[0] -= 1;
    expected.blocked += 1;
    expected = check_books(ctx, s, &c, &inst, "the order", &expected).await?;

    s.refused(
        ctx,
        &c.entry_op,
        "the transfer by the record-entry operator alone is refused",
        ErrorCode::Unauthorized,
        vec![step(&inst, "transfer_rights", &[])],
    )
    .await?;
    s.refused_signed(
        ctx,
        &[&c.keeper_op, &c.keeper_ctl],
        "the record-keeping depository's hands cannot move depo accounts",
        ErrorCode::Unauthorized,
        vec![step(&inst, "transfer_rights", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&c.entry_op, &c.entry_ctl],
        "operator and controller of the record-entry depository transfer the rights",
        vec![step(&inst, "transfer_rights", &[])],
    )
    .await?;
    expected.blocked -= 1;
    expected.depo[1] += 1;
    expected = check_books(ctx, s, &c, &inst, "the transfer", &expected).await?;

    s.refused(
        ctx,
        &c.bank_b,
        "Bank B, the holder, cannot move its depo unit with a plain transfer",
        ErrorCode::Unauthorized,
        vec![plain_transfer(DEPO, c.bank_c.account())],
    )
    .await?;
    s.refused(
        ctx,
        &c.bank_a,
        "Bank A, which sold the rights, cannot sell the mortgage again",
        ErrorCode::Unauthorized,
        vec![plain_transfer(DEPO, c.bank_c.account())],
    )
    .await?;
    expected = check_books(ctx, s, &c, &inst, "the refused transfers", &expected).await?;

    // The regulator's view: the record, its parties and the accounts, all readable.
    let record = read(ctx, &c.regulator, &format!("instance/{inst}")).await?;
    let holder_ok = record["parties"]["holder"] == serde_json::json!([b])
        && record["parties"]["acquirer"] == serde_json::json!([])
        && record["params"]["holder_account"]["value"] == serde_json::json!(b)
        && record["state"] == "stored";
    s.check(
        "the regulator reads the record: Bank B holds the rights",
        holder_ok,
        format!(
            "state {}, holder {}",
            record["state"], record["parties"]["holder"]
        ),
    );
    let outsider = ctx
        .reader(&c.bank_c)
        .state(&format!("instance/{inst}"), false, None)
        .await;
    s.read_refused(
        "a member who is no party cannot read the depository record",
        ErrorCode::Forbidden,
        &outsider,
    );

    s.commit(
        ctx,
        &c.bank_b,
        "the loan is repaid: Bank B asks for the redemption",
        vec![step(&inst, "request_redemption", &[])],
    )
    .await?;
    expected.depo[1] -= 1;
    expected.blocked += 1;
    expected = check_books(ctx, s, &c, &inst, "the redemption request", &expected).await?;
    // The transition burns the unit on both sides.
    let cancel = || vec![step(&inst, "cancel", &[])];
    s.refused(
        ctx,
        &c.keeper_op,
        "cancellation by the operator alone is refused",
        ErrorCode::Unauthorized,
        cancel(),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&c.keeper_op, &c.keeper_ctl],
        "operator and controller cancel the mortgage",
        cancel(),
    )
    .await?;
    expected.blocked -= 1;
    let end = check_books(ctx, s, &c, &inst, "the cancellation", &expected).await?;

    let record = read(ctx, &c.regulator, &format!("instance/{inst}")).await?;
    let history: Vec<(String, usize)> = record["history"]
        .as_array()
        .context("instance history")?
        .iter()
        .map(|h| {
            (
                h["transition"].as_str().unwrap_or_default().to_owned(),
                h["approvals"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    let expected_history = [
        ("accept_for_storage", 2),
        ("order_transfer", 0),
        ("transfer_rights", 2),
        ("request_redemption", 0),
        ("cancel", 2),
    ]
    .map(|(t, n)| (t.to_owned(), n));
    let asset = read(ctx, &c.regulator, &format!("asset/{mortgage}")).await?;
    s.check(
        "cancelled, retired, every depository operation by two hands",
        record["state"] == "cancelled"
            && history == expected_history
            && asset["status"]["state"] == "retired",
        format!("{history:?}; asset {}", asset["status"]),
    );
    s.final_state(format!(
        "e-mortgage {mortgage} stored, transferred to Bank B, redeemed and cancelled; books {} = {}",
        end.passive(),
        end.store
    ));
    Ok(())
}
