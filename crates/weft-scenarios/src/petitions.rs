//! UC-25, Mudamos popular-initiative petitions, with the `petition` template: the identity
//! authority verifies voters and registers their keys with the ledger role `citizen`; the
//! organizer anchors the bill and opens the petition; each verified citizen signs once (a
//! second signature by the same account, a signature by an unverified account and a late
//! signature are refused); the signature that reaches the threshold submits the petition by
//! itself; the organizer anchors the signature list — the SHA-256 of its canonical text,
//! periodically while collecting and finally on delivery — and delivers it to the House,
//! whose Speaker assigns a committee that enacts the bill. The scenario recomputes the
//! list's hash from the instance's public history and compares it with the anchored one,
//! as any auditor could "without relying on Mudamos or any other agent".
//!
//! The canonical signature list is the text `petition <instance>\n` followed by one line
//! `<account>:<height>:<block time ms>\n` per signature, in signing order.

use anyhow::{Context, Result};
use serde_json::Value;
use weft_client::Keypair;
use weft_types::{
    AnchorDocument, CreateInstance, ErrorCode, Hash, Operation, RegisterAccount, Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name};

const TEMPLATE: &str = include_str!("../../../templates/petition.yaml");
/// Signatures that take the bill to the House (1.5 million at the federal level).
const THRESHOLD: usize = 3;

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("petitions");
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

/// The canonical signature list of `record` (an instance as the API returns it).
fn signature_list(instance: &str, record: &Value) -> (String, usize) {
    let mut text = format!("petition {instance}\n");
    let mut count = 0;
    for entry in record["history"].as_array().into_iter().flatten() {
        if entry["transition"] == "sign" {
            count += 1;
            text.push_str(&format!(
                "{}:{}:{}\n",
                entry["by"].as_str().unwrap_or_default(),
                entry["height"],
                entry["timestamp_ms"]
            ));
        }
    }
    (text, count)
}

/// Reads the petition without signing in (it is public).
async fn public_record(ctx: &Ctx, petition: &str) -> Result<Value> {
    let answer = ctx
        .client
        .state(&format!("instance/{petition}"), false, None)
        .await
        .context("public read of the petition")?;
    Ok(answer["value"].clone())
}

/// Anchors the current signature list as document `id`, owned by the organizer; returns
/// its hash and the number of signatures it lists.
async fn anchor_list(
    ctx: &Ctx,
    s: &mut Scenario,
    organizer: &Keypair,
    petition: &str,
    id: &str,
) -> Result<(Hash, usize)> {
    let (text, count) = signature_list(petition, &public_record(ctx, petition).await?);
    let hash = weft_crypto::sha256(text.as_bytes());
    s.commit(
        ctx,
        organizer,
        &format!("the organizer anchors the list of {count} signatures"),
        vec![Operation::AnchorDocument(AnchorDocument {
            id: name(id),
            hash,
            media_type: "text/plain; charset=utf-8".into(),
            uri: format!("https://mudamos.org/petitions/{petition}/{id}.txt"),
            parties: vec![organizer.account()],
            required_signatures: 0,
        })],
    )
    .await?;
    Ok((hash, count))
}

/// Registers the verified voter `key` with the ledger role `citizen` (once), as the
/// identity authority; an unverified person gets only the right to act in workflows.
async fn register_voter(
    ctx: &Ctx,
    s: &mut Scenario,
    authority: &Keypair,
    key: &Keypair,
    label: &str,
    roles: &[&str],
) -> Result<()> {
    if !ctx.registered(&key.account()).await? {
        s.commit(
            ctx,
            authority,
            label,
            vec![Operation::RegisterAccount(RegisterAccount {
                account: key.account(),
                organization: name("mudamos"),
                roles: roles.iter().map(|r| name(r)).collect(),
            })],
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_lines)] // one lifecycle, told in order
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let authority = ctx.key("mudamos-identity")?;
    let organizer = ctx.key("campaign-organizer")?;
    let speaker = ctx.key("house-speaker")?;
    let committee = ctx.key("house-committee")?;
    ctx.onboard(
        s,
        "mudamos",
        "Mudamos (ITS Rio)",
        &[
            (&authority, &["registrar"]),
            (&organizer, &["workflow-participant", "member"]),
        ],
    )
    .await?;
    ctx.onboard(
        s,
        "camara",
        "Chamber of Deputies",
        &[
            (&speaker, &["workflow-participant"]),
            (&committee, &["workflow-participant"]),
        ],
    )
    .await?;
    let voters: Vec<Keypair> = (1..=THRESHOLD + 1)
        .map(|i| ctx.key(&format!("voter-{i}")))
        .collect::<Result<_>>()?;
    for (i, voter) in voters.iter().enumerate() {
        register_voter(
            ctx,
            s,
            &authority,
            voter,
            &format!(
                "the identity authority verifies voter {} with the Electoral Court",
                i + 1
            ),
            &["citizen"],
        )
        .await?;
    }
    let unverified = ctx.key("unverified-person")?;
    register_voter(
        ctx,
        s,
        &authority,
        &unverified,
        "a person whose electoral registration was not verified gets an app account",
        &["workflow-participant"],
    )
    .await?;
    ctx.ensure_template(s, "petition", 1, TEMPLATE).await?;

    let run = ctx.run_id().await?;
    let (petition, bill) = (format!("petition-{run}"), format!("bill-{run}"));
    let bill_text = format!("Bill {bill}: every municipality publishes its water quality data.");
    s.commit(
        ctx,
        &organizer,
        "the organizer anchors the bill's text and opens the petition",
        vec![
            Operation::AnchorDocument(AnchorDocument {
                id: name(&bill),
                hash: weft_crypto::sha256(bill_text.as_bytes()),
                media_type: "text/plain; charset=utf-8".into(),
                uri: format!("https://mudamos.org/bills/{bill}.txt"),
                parties: vec![organizer.account()],
                required_signatures: 0,
            }),
            Operation::CreateInstance(CreateInstance {
                instance: name(&petition),
                template: name("petition"),
                version: 1,
                parties: vec![
                    (name("organizer"), organizer.account()),
                    (name("speaker"), speaker.account()),
                ],
                params: vec![
                    (name("bill"), bill.clone()),
                    (name("threshold"), THRESHOLD.to_string()),
                ],
            }),
            step(&petition, "open", &[]),
        ],
    )
    .await?;

    let sign = || vec![step(&petition, "sign", &[])];
    s.commit(ctx, &voters[0], "citizen 1 signs", sign()).await?;
    s.refused(
        ctx,
        &voters[0],
        "citizen 1 signing a second time is refused",
        ErrorCode::AlreadyExists,
        sign(),
    )
    .await?;
    s.refused(
        ctx,
        &unverified,
        "an unverified person cannot sign",
        ErrorCode::Unauthorized,
        sign(),
    )
    .await?;
    s.commit(ctx, &voters[1], "citizen 2 signs", sign()).await?;
    let progress = format!("signatures-{run}-1");
    let (progress_hash, listed) = anchor_list(ctx, s, &organizer, &petition, &progress).await?;
    s.commit(
        ctx,
        &organizer,
        "the organizer records the periodic anchor in the petition",
        vec![step(
            &petition,
            "anchor_progress",
            &[
                ("signature_list", progress.clone()),
                ("signatures", listed.to_string()),
            ],
        )],
    )
    .await?;
    s.refused(
        ctx,
        &organizer,
        "delivering to the House before the threshold is refused",
        ErrorCode::InvalidArgument,
        vec![step(
            &petition,
            "deliver",
            &[
                ("signature_list", progress.clone()),
                ("signatures", listed.to_string()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &voters[2],
        "citizen 3 signs: the threshold is reached",
        sign(),
    )
    .await?;
    let record = public_record(ctx, &petition).await?;
    let last = record["history"]
        .as_array()
        .and_then(|h| h.last().cloned())
        .unwrap_or_default();
    s.check(
        "the petition submitted itself in the same transaction",
        record["state"] == "submitted"
            && last["transition"] == "reach_threshold"
            && last["automatic"] == true
            && last["by"] == voters[2].account().to_string(),
        format!(
            "state {}, last step {}",
            record["state"], last["transition"]
        ),
    );
    s.refused(
        ctx,
        &voters[3],
        "a signature after submission is refused",
        ErrorCode::InvalidArgument,
        sign(),
    )
    .await?;

    let list = format!("signatures-{run}-final");
    let (list_hash, listed) = anchor_list(ctx, s, &organizer, &petition, &list).await?;
    s.refused(
        ctx,
        &organizer,
        "delivering a list that does not count every signature is refused",
        ErrorCode::InvalidArgument,
        vec![step(
            &petition,
            "deliver",
            &[
                ("signature_list", list.clone()),
                ("signatures", (listed - 1).to_string()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &organizer,
        "the organizer delivers the anchored list to the House",
        vec![step(
            &petition,
            "deliver",
            &[
                ("signature_list", list.clone()),
                ("signatures", listed.to_string()),
            ],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &speaker,
        "the Speaker assigns a committee",
        vec![step(
            &petition,
            "assign_committee",
            &[("committee", committee.account().to_string())],
        )],
    )
    .await?;
    s.commit(
        ctx,
        &committee,
        "the committee approves: the bill is enacted",
        vec![step(&petition, "enact", &[])],
    )
    .await?;

    // Anyone recomputes the list from the public history and checks the anchors.
    let record = public_record(ctx, &petition).await?;
    let (text, count) = signature_list(&petition, &record);
    let signers: Vec<String> = record["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["transition"] == "sign")
        .filter_map(|e| e["by"].as_str().map(str::to_owned))
        .collect();
    let expected: Vec<String> = voters[..THRESHOLD]
        .iter()
        .map(|v| v.account().to_string())
        .collect();
    s.check(
        "the history holds one signature per citizen, in signing order",
        count == THRESHOLD && signers == expected,
        format!("{count} signatures"),
    );
    let anchored = |id: &str| {
        let id = id.to_owned();
        async move {
            let doc = ctx.value(&format!("document/{id}")).await?;
            Ok::<_, anyhow::Error>(
                doc["versions"][0]["hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    let recomputed = weft_crypto::sha256(text.as_bytes()).to_string();
    let on_chain = anchored(&list).await?;
    s.check(
        "the anchored list's hash equals the hash recomputed from the public history",
        recomputed == on_chain && on_chain == list_hash.to_string(),
        format!("sha256 {recomputed}"),
    );
    let prefix: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let progress_on_chain = anchored(&progress).await?;
    s.check(
        "the periodic anchor matches the first two signatures",
        weft_crypto::sha256(prefix.as_bytes()).to_string() == progress_on_chain
            && progress_on_chain == progress_hash.to_string(),
        format!("sha256 {progress_on_chain}"),
    );
    let delivered = record["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["transition"] == "deliver")
        .map(|e| e["args"]["signature_list"]["value"].clone())
        .unwrap_or_default();
    s.check(
        "the petition's history names the anchored list it delivered",
        delivered == list.as_str() && record["state"] == "enacted",
        format!("delivered {delivered}; state {}", record["state"]),
    );
    s.final_state(format!(
        "petition {petition}: {count} verified signatures, anchored, bill enacted"
    ));
    Ok(())
}
