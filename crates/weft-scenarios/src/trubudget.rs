//! UC-24, TruBudget for the Amazon Fund (BNDES with KfW), with the `trubudget-project`,
//! `trubudget-subproject` and `trubudget-item` templates: a project, a subproject linked to
//! it and a workflow item linked to the subproject, each a template instance whose owner
//! grants and revokes who may write and who may read it ("Projects, Subprojects and
//! Workflows items need permission of its owner to read/write"). The client's analyst
//! submits the item's evidence and BNDES approves it with the owner's co-signature; each
//! ERP disbursement becomes a payment record in the subproject, paid in the fund's token
//! and bounded by its budget. The donor (KfW) reads what it was granted and is refused the
//! rest; the auditor (TCU) reads everything; a revoked client can no longer be paid.

use anyhow::{Context, Result};
use serde_json::Value;
use weft_client::Keypair;
use weft_types::{Amount, CreateInstance, DefineToken, ErrorCode, Mint, Operation, Transition};

use crate::{Ctx, Scenario, ScenarioReport, name};

const PROJECT: &str = include_str!("../../../templates/trubudget-project.yaml");
const SUBPROJECT: &str = include_str!("../../../templates/trubudget-subproject.yaml");
const ITEM: &str = include_str!("../../../templates/trubudget-item.yaml");
/// The Amazon Fund's disbursements, in centavos of a real.
const COIN: &str = "amazon-fund-brl";

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("trubudget");
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

fn account_arg(key: &Keypair) -> [(&'static str, String); 1] {
    [("account", key.account().to_string())]
}

fn create(
    instance: &str,
    template: &str,
    parties: &[(&str, &Keypair)],
    params: &[(&str, String)],
) -> Operation {
    Operation::CreateInstance(CreateInstance {
        instance: name(instance),
        template: name(template),
        version: 1,
        parties: parties
            .iter()
            .map(|(r, k)| (name(r), k.account()))
            .collect(),
        params: params.iter().map(|(k, v)| (name(k), v.clone())).collect(),
    })
}

/// The first characters of an account id, for readable details.
fn short(account: &str) -> String {
    format!("{}…", account.get(..8).unwrap_or(account))
}

/// The transitions of an instance's history, in order.
fn transitions(record: &Value) -> Vec<String> {
    record["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|e| e["transition"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[allow(clippy::too_many_lines)] // one lifecycle, told in order
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let analyst = ctx.key("bndes-analyst")?;
    let manager = ctx.key("bndes-manager")?;
    let ngo = ctx.key("ngo-analyst")?;
    let donor = ctx.key("kfw-officer")?;
    let auditor = ctx.key("tcu-auditor")?;
    ctx.onboard(
        s,
        "bndes",
        "BNDES",
        &[
            (&analyst, &["issuer", "workflow-participant"]),
            (&manager, &["workflow-participant"]),
        ],
    )
    .await?;
    ctx.onboard(
        s,
        "instituto-floresta",
        "Instituto Floresta Viva (NGO)",
        &[(&ngo, &["workflow-participant", "member"])],
    )
    .await?;
    ctx.onboard(
        s,
        "kfw",
        "KfW (donor)",
        &[(&donor, &["member", "workflow-participant"])],
    )
    .await?;
    ctx.onboard(
        s,
        "tcu",
        "TCU (federal audit court)",
        &[(&auditor, &["auditor"])],
    )
    .await?;
    ctx.ensure_template(s, "trubudget-project", 1, PROJECT)
        .await?;
    ctx.ensure_template(s, "trubudget-subproject", 1, SUBPROJECT)
        .await?;
    ctx.ensure_template(s, "trubudget-item", 1, ITEM).await?;
    if ctx.value(&format!("token/{COIN}")).await?.is_null() {
        s.commit(
            ctx,
            &analyst,
            "BNDES defines the fund's disbursement token",
            vec![Operation::DefineToken(DefineToken {
                symbol: name(COIN),
                display_name: "Amazon Fund real".into(),
                decimals: 2,
                max_supply: None,
                controller: None,
                holder_role: None,
            })],
        )
        .await?;
    }

    let run = ctx.run_id().await?;
    let (project, sub, item) = (
        format!("af-project-{run}"),
        format!("af-sub-{run}-reforest"),
        format!("af-item-{run}-seedlings"),
    );
    let ngo0 = ctx.balance(COIN, &ngo.account()).await?;
    s.commit(
        ctx,
        &analyst,
        "the fund's R$ 3,000,000.00 for the project are issued to BNDES",
        vec![Operation::Mint(Mint {
            symbol: name(COIN),
            to: analyst.account(),
            amount: Amount(300_000_000),
        })],
    )
    .await?;
    s.commit(
        ctx,
        &analyst,
        "BNDES registers the project and lets KfW read it",
        vec![
            create(
                &project,
                "trubudget-project",
                &[("owner", &analyst)],
                &[
                    ("title", "Restoring degraded areas in the Xingu".into()),
                    ("currency", COIN.into()),
                    ("budget", "300000000".into()),
                ],
            ),
            step(&project, "grant_viewer", &account_arg(&donor)),
        ],
    )
    .await?;
    s.commit(
        ctx,
        &analyst,
        "BNDES registers a subproject of it: the NGO executes it, KfW may read it",
        vec![
            create(
                &sub,
                "trubudget-subproject",
                &[("owner", &analyst)],
                &[
                    ("project", project.clone()),
                    ("title", "Seedling nurseries".into()),
                    ("currency", COIN.into()),
                    ("budget", "120000000".into()),
                    ("disbursed", "0".into()),
                ],
            ),
            step(&sub, "grant_writer", &account_arg(&ngo)),
            step(&sub, "grant_viewer", &account_arg(&donor)),
        ],
    )
    .await?;
    s.commit(
        ctx,
        &analyst,
        "BNDES opens a workflow item of the subproject and assigns it to the NGO",
        vec![
            create(
                &item,
                "trubudget-item",
                &[("owner", &analyst), ("approver", &manager)],
                &[
                    ("subproject", sub.clone()),
                    ("title", "Purchase of 40,000 native seedlings".into()),
                    ("amount", "80000000".into()),
                ],
            ),
            step(&item, "grant_assignee", &account_arg(&ngo)),
        ],
    )
    .await?;
    s.refused(
        ctx,
        &donor,
        "the donor, who may only read, cannot take a step of the item",
        ErrorCode::Unauthorized,
        vec![step(&item, "submit", &[("evidence", "forged".into())])],
    )
    .await?;
    s.commit(
        ctx,
        &ngo,
        "the NGO submits the purchase evidence",
        vec![step(
            &item,
            "submit",
            &[(
                "evidence",
                "sha256:4f2a… invoice and delivery note, nursery Boa Esperança".into(),
            )],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &manager,
        "the approval needs the owner's co-signature",
        ErrorCode::Unauthorized,
        vec![step(&item, "approve", &[])],
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&manager, &analyst],
        "BNDES approves the item (manager, co-signed by the owner)",
        vec![step(&item, "approve", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &analyst,
        "the ERP disbursement of R$ 800,000.00 is recorded and paid to the NGO",
        vec![step(
            &sub,
            "disburse",
            &[
                ("amount", "80000000".into()),
                ("recipient", ngo.account().to_string()),
                ("erp_ref", "SAP FI 5100004711".into()),
            ],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &analyst,
        "a disbursement beyond the subproject's budget is refused",
        ErrorCode::InvalidArgument,
        vec![step(
            &sub,
            "disburse",
            &[
                ("amount", "50000000".into()),
                ("recipient", ngo.account().to_string()),
                ("erp_ref", "SAP FI 5100004712".into()),
            ],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &donor,
        "the donor cannot record disbursements",
        ErrorCode::Unauthorized,
        vec![step(
            &sub,
            "disburse",
            &[
                ("amount", "1".into()),
                ("recipient", donor.account().to_string()),
                ("erp_ref", "none".into()),
            ],
        )],
    )
    .await?;

    // Views: what each party may read is what the owners granted.
    let as_donor = ctx.reader(&donor);
    let project_view = as_donor
        .state(&format!("instance/{project}"), false, None)
        .await
        .context("donor reads the project")?;
    s.check(
        "the donor reads the project it was granted",
        project_view["value"]["state"] == "open",
        format!("project {project}"),
    );
    let sub_view = as_donor
        .state(&format!("instance/{sub}"), false, None)
        .await
        .context("donor reads the subproject")?;
    let disbursed = sub_view["value"]["params"]["disbursed"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let erp: Vec<String> = sub_view["value"]["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter(|e| e["transition"] == "disburse")
                .filter_map(|e| e["args"]["erp_ref"]["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    s.check(
        "the donor sees the subproject's disbursement record and running total",
        disbursed == "80000000" && erp == ["SAP FI 5100004711"],
        format!("disbursed {disbursed}; ERP records {erp:?}"),
    );
    let item_read = as_donor
        .state(&format!("instance/{item}"), false, None)
        .await;
    s.read_refused(
        "the donor was not granted the workflow item: reading it is refused",
        ErrorCode::Forbidden,
        &item_read,
    );
    let audit = ctx
        .reader(&auditor)
        .state(&format!("instance/{item}"), false, None)
        .await
        .context("auditor reads the item")?;
    s.check(
        "the auditor reads the item and its complete history",
        audit["value"]["state"] == "done"
            && transitions(&audit["value"]) == ["grant_assignee", "submit", "approve"],
        transitions(&audit["value"]).join(" → "),
    );
    let approve = audit["value"]["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["transition"] == "approve").cloned())
        .unwrap_or_default();
    s.check(
        "the approval records who approved and who co-signed",
        approve["by"] == manager.account().to_string()
            && approve["approvals"][0] == analyst.account().to_string(),
        format!("by {} with {}", approve["by"], approve["approvals"]),
    );

    // Permissions change over time: the owner revokes the donor's view and the NGO's role.
    s.commit(
        ctx,
        &analyst,
        "the owner revokes KfW's view of the subproject and the NGO's writer role",
        vec![
            step(&sub, "revoke_viewer", &account_arg(&donor)),
            step(&sub, "revoke_writer", &account_arg(&ngo)),
        ],
    )
    .await?;
    let after = as_donor
        .state(&format!("instance/{sub}"), false, None)
        .await;
    s.read_refused(
        "after the revocation the donor can no longer read the subproject",
        ErrorCode::Forbidden,
        &after,
    );
    s.refused(
        ctx,
        &analyst,
        "a disbursement to the NGO, no longer the subproject's executor, is refused",
        ErrorCode::Unauthorized,
        vec![step(
            &sub,
            "disburse",
            &[
                ("amount", "1000000".into()),
                ("recipient", ngo.account().to_string()),
                ("erp_ref", "SAP FI 5100004713".into()),
            ],
        )],
    )
    .await?;
    let ngo1 = ctx.balance(COIN, &ngo.account()).await?;
    s.check(
        "the NGO received exactly the recorded disbursement",
        ngo1 == ngo0 + 80_000_000,
        format!("{ngo0} → {ngo1}"),
    );
    let sub_record = ctx.value(&format!("instance/{sub}")).await?;
    let changes: Vec<String> = sub_record["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .flat_map(|e| {
                    let by = e["by"].as_str().unwrap_or_default().to_owned();
                    e["changes"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|c| c["change"] != "set")
                        .map(move |c| {
                            format!(
                                "{} {} {} by {}",
                                c["change"].as_str().unwrap_or_default(),
                                c["role"].as_str().unwrap_or_default(),
                                short(c["account"].as_str().unwrap_or_default()),
                                short(&by)
                            )
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    s.check(
        "the subproject's history records who granted and revoked what",
        changes.len() == 4
            && changes
                .iter()
                .all(|c| c.ends_with(&format!("by {}", short(&analyst.account().to_string())))),
        changes.join("; "),
    );
    s.final_state(format!(
        "project {project}: item approved, R$ 800,000.00 disbursed to the NGO, permissions revoked"
    ));
    Ok(())
}
