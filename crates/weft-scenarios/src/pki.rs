//! UC-29 (DLT-based decentralized PKI) with UC-28 (DLT for public key infrastructure): a
//! domain owner proposes binding its name to an Ed25519 key; the consortium's endorsers
//! (the "certificate authorities (nodes)" of UC-28) each verify and endorse it, and it goes
//! live only with two distinct endorsements. Every binding event lands in the registry's
//! RFC 9162 transparency log, whose signed tree heads (the log head is chain state, so
//! every block's finality certificate signs it) a TLS client checks offline, with the
//! inclusion proof of the binding and the consistency proof between two heads. The owner
//! presents an X.509 certificate for the name; a client accepts it because its key is the
//! name's live binding. Then the endorsers revoke the binding together, and the same
//! certificate no longer verifies. Refused on the way: a forged endorsement by a member
//! that is not an endorser, a repeated endorsement, an endorsement of another key, one
//! endorser revoking alone, and re-binding the revoked key.

use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use weft_client::{
    Keypair, ProofBundle, RecordProof, TrustAnchor,
    pki::{CertError, check_against_ledger, inspect_certificate, issue_certificate, live_key_of},
    verify_bundle,
};
use weft_crypto::{sha256, verify_log_consistency, verify_log_inclusion};
use weft_types::{BindName, DnsName, EndorseBinding, ErrorCode, Hash, Operation, RevokeBinding};

use crate::{Ctx, Scenario, ScenarioReport, now_ms};

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("pki");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn now_s() -> i64 {
    i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX)
}

/// A signed tree head, checked offline: the proof bundle verifies against the validator
/// set and proves exactly the size and root the answer claims.
struct Sth {
    size: u64,
    root: Hash,
    height: u64,
}

fn check_sth(answer: &Value, anchor: &TrustAnchor) -> Result<Sth> {
    let size = answer["tree_size"].as_u64().context("tree_size")?;
    let root: Hash = answer["root_hash"]
        .as_str()
        .context("root_hash")?
        .parse()
        .map_err(|e| anyhow!("root_hash: {e:?}"))?;
    let bundle: ProofBundle =
        serde_json::from_value(answer["proof"].clone()).context("the head's proof bundle")?;
    let verified = verify_bundle(&bundle, anchor).map_err(|e| anyhow!("bundle: {e}"))?;
    let RecordProof::State {
        key,
        value: Some(value),
        ..
    } = &bundle.proof
    else {
        return Err(anyhow!("the bundle does not prove a state value"));
    };
    // The head's canonical bytes: size (u64 little-endian) then the 32-byte root.
    let bytes = hex::decode(value).context("value hex")?;
    let mut expected = size.to_le_bytes().to_vec();
    expected.extend_from_slice(&root.0);
    if key != "registry/log/head" || bytes != expected {
        return Err(anyhow!("the proven head is not the one the answer claims"));
    }
    Ok(Sth {
        size,
        root,
        height: verified.height,
    })
}

fn hashes(v: &Value) -> Result<Vec<Hash>> {
    v.as_array()
        .context("hash list")?
        .iter()
        .map(|h| {
            h.as_str()
                .context("hash")?
                .parse()
                .map_err(|e| anyhow!("hash: {e:?}"))
        })
        .collect()
}

async fn record(ctx: &Ctx, name: &DnsName) -> Result<Value> {
    Ok(ctx.client.registry_name(name.as_str()).await?)
}

async fn signed_head(ctx: &Ctx) -> Result<Sth> {
    // The head is proven by the finality certificate of its block; read it at the head.
    check_sth(&ctx.client.registry_sth(None).await?, &ctx.trust_anchor())
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let owner = ctx.key("pki-domain-owner")?;
    let ca = [
        ctx.key("pki-endorser-1")?,
        ctx.key("pki-endorser-2")?,
        ctx.key("pki-endorser-3")?,
    ];
    let rogue = ctx.key("pki-rogue")?;
    ctx.onboard(
        s,
        "pki-consortium",
        "PKI consortium",
        &[
            (&owner, &["member"]),
            (&ca[0], &["endorser"]),
            (&ca[1], &["endorser"]),
            (&ca[2], &["endorser"]),
            (&rogue, &["member"]),
        ],
    )
    .await?;

    let run = ctx.run_id().await?;
    let name: DnsName = format!("www-{run}.shop.example")
        .parse()
        .map_err(|e| anyhow!("{e}"))?;
    // The TLS server's key, made for this run; only its public half goes on the ledger.
    let server = Keypair::from_seed(sha256(format!("pki scenario {run}").as_bytes()).0);
    let key = server.account();
    let endorse = |k: weft_types::AccountId| {
        vec![Operation::EndorseBinding(EndorseBinding {
            name: name.clone(),
            public_key: k,
        })]
    };

    s.commit(
        ctx,
        &owner,
        &format!("the owner proposes {name} → its server key, 2 endorsements required"),
        vec![Operation::BindName(BindName {
            name: name.clone(),
            public_key: key,
            endorsers_required: 2,
        })],
    )
    .await?;
    let head_a = signed_head(ctx).await?;

    s.commit(
        ctx,
        &ca[0],
        "endorser 1 verifies the domain and endorses",
        endorse(key),
    )
    .await?;
    let r = record(ctx, &name).await?;
    s.check(
        "one endorsement of two: the binding stays pending",
        r["live"].is_null()
            && r["pending"]["public_key"] == key.to_hex()
            && r["pending"]["endorsers"].as_array().map(Vec::len) == Some(1),
        format!("pending endorsers {}", r["pending"]["endorsers"]),
    );
    s.refused(
        ctx,
        &rogue,
        "a forged endorsement by a member that is not an endorser",
        ErrorCode::Unauthorized,
        endorse(key),
    )
    .await?;
    s.refused(
        ctx,
        &ca[0],
        "endorser 1 endorses again: one endorser counts once",
        ErrorCode::AlreadyExists,
        endorse(key),
    )
    .await?;
    s.refused(
        ctx,
        &ca[1],
        "an endorsement of another key than the proposal's",
        ErrorCode::InvalidArgument,
        endorse(rogue.account()),
    )
    .await?;
    s.commit(
        ctx,
        &ca[1],
        "endorser 2 endorses: the binding goes live",
        endorse(key),
    )
    .await?;
    let r = record(ctx, &name).await?;
    s.check(
        "the name's live key is the server key, endorsed by endorsers 1 and 2",
        live_key_of(&r) == Some(key)
            && r["live"]["endorsers"]
                == serde_json::json!([ca[0].account().to_hex(), ca[1].account().to_hex()]),
        format!("live {}", r["live"]["public_key"]),
    );

    // X.509: the server presents a certificate for the name; the client checks it against
    // the ledger's live binding.
    let pem = issue_certificate(&name, &server, 0, now_s() - 60, 90)
        .map_err(|e| anyhow!("issue: {e}"))?;
    let verified = inspect_certificate(pem.as_bytes(), now_s())
        .and_then(|info| check_against_ledger(&info, live_key_of(&r)).map(|()| info));
    s.check(
        "the server's X.509 certificate verifies against the live binding",
        verified
            .as_ref()
            .is_ok_and(|i| i.name == name && i.public_key == key),
        format!("{:?}", verified.map(|i| i.serial_hex)),
    );

    // Transparency: the log's signed heads, the binding's inclusion, and that the later
    // head extends the earlier one, all checked offline.
    let head_b = signed_head(ctx).await?;
    s.check(
        "the signed tree heads verify offline against the validator set",
        head_b.size > head_a.size && head_b.height > head_a.height,
        format!(
            "size {} at height {} → size {} at height {}",
            head_a.size, head_a.height, head_b.size, head_b.height
        ),
    );
    let live_leaf = r["live"]["log_leaves"]
        .as_array()
        .and_then(|l| l.last())
        .and_then(Value::as_u64)
        .context("the live binding's log leaf")?;
    let inclusion = ctx
        .client
        .registry_inclusion(live_leaf, head_b.size)
        .await?;
    let leaf = hex::decode(inclusion["leaf_hex"].as_str().context("leaf_hex")?)?;
    let path = hashes(&inclusion["audit_path"])?;
    let included = verify_log_inclusion(&head_b.root, head_b.size, &leaf, live_leaf, &path);
    s.check(
        "the binding going live is included in the signed log (offline)",
        included.is_ok()
            && inclusion["entry"]["event"] == "live"
            && inclusion["entry"]["name"] == name.as_str()
            && inclusion["entry"]["public_key"] == key.to_hex(),
        format!("leaf {live_leaf} of {}: {included:?}", head_b.size),
    );
    let mut forged = leaf.clone();
    if let Some(last) = forged.last_mut() {
        *last ^= 1;
    }
    s.check(
        "a tampered log entry does not verify",
        verify_log_inclusion(&head_b.root, head_b.size, &forged, live_leaf, &path).is_err(),
        "one bit flipped",
    );
    let consistency = ctx
        .client
        .registry_consistency(head_a.size, head_b.size)
        .await?;
    let proof = hashes(&consistency["proof"])?;
    let consistent =
        verify_log_consistency(&head_a.root, head_a.size, &head_b.root, head_b.size, &proof);
    s.check(
        "the later signed head extends the earlier one (offline consistency proof)",
        consistent.is_ok(),
        format!("{} → {}: {consistent:?}", head_a.size, head_b.size),
    );

    // Revocation: by the endorsers together; one alone cannot.
    let revoke = vec![Operation::RevokeBinding(RevokeBinding {
        name: name.clone(),
        public_key: key,
        reason: "the domain's control was not what was verified".into(),
    })];
    s.refused(
        ctx,
        &ca[2],
        "one endorser alone cannot revoke a binding that needs two",
        ErrorCode::Unauthorized,
        revoke.clone(),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&ca[2], &ca[0]],
        "endorsers 3 and 1 revoke the binding together",
        revoke,
    )
    .await?;
    let r = record(ctx, &name).await?;
    s.check(
        "the name has no live binding; its history keeps the revoked one",
        r["live"].is_null() && r["history"][0]["status"] == "revoked",
        format!("history[0] {}", r["history"][0]["status"]),
    );
    let after = inspect_certificate(pem.as_bytes(), now_s())
        .and_then(|info| check_against_ledger(&info, live_key_of(&r)));
    s.check(
        "the revoked key's certificate no longer verifies",
        matches!(after, Err(CertError::NotBound(_))),
        format!("{after:?}"),
    );
    s.refused(
        ctx,
        &owner,
        "the owner re-binds the revoked key",
        ErrorCode::InvalidArgument,
        vec![Operation::BindName(BindName {
            name: name.clone(),
            public_key: key,
            endorsers_required: 2,
        })],
    )
    .await?;
    let head_c = signed_head(ctx).await?;
    let proof = hashes(
        &ctx.client
            .registry_consistency(head_b.size, head_c.size)
            .await?["proof"],
    )?;
    let consistent =
        verify_log_consistency(&head_b.root, head_b.size, &head_c.root, head_c.size, &proof);
    s.check(
        "the revocation is appended: the log still only grew",
        consistent.is_ok() && head_c.size > head_b.size,
        format!("{} → {}: {consistent:?}", head_b.size, head_c.size),
    );
    s.final_state(format!(
        "{name}: bound, endorsed by 2 of 3 endorsers, certified, revoked by 2 endorsers; the log grew {} → {} leaves with every head signed",
        head_a.size, head_c.size
    ));
    Ok(())
}
