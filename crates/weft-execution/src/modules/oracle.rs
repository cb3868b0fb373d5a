//! Oracles: feeds of readings signed by registered devices (sensors, meters), and named
//! thresholds that other modules and templates can test.
//!
//! Rules:
//! - a feed names its device's Ed25519 key; every reading must carry that key's signature,
//!   either as the transaction's signer (the device is then a registered account) or as a
//!   co-signer next to a gateway account that submits it. A reading without it is refused
//!   with `MissingSignature` (a required signature is absent), before any other check;
//! - readings are integers in fixed point (`value × 10^-scale`); no floats anywhere;
//! - the device times of a feed's readings strictly increase (`InvalidArgument`, "not
//!   monotone"), and none lies more than [`MAX_CLOCK_SKEW_MS`] after the block's timestamp
//!   (`InvalidArgument`, "in the future");
//! - a feed keeps its latest reading, a count of accepted readings and a window of the last
//!   [`Feed::WINDOW`] readings;
//! - only the owner sets or removes thresholds. Bounds are inclusive, in the feed's fixed-point
//!   units; a threshold judges readings posted after it was set, not earlier ones;
//! - a reading outside a threshold records a breach on it and emits `oracle.breach`. Breaches
//!   are sticky: a later in-range reading does not clear them, the way a cold-chain excursion
//!   spoils a lot for good however cold it is afterwards. For the same reason a breached
//!   threshold cannot be removed, and an existing name cannot be set again (remove it first),
//!   so nobody erases the evidence by re-creating the threshold;
//! - the reading that first breaches a threshold takes, in its own transaction, the
//!   `on_breach` transitions of the workflow instances watching the feed
//!   ([`super::workflow::fire_on_breach`]): a cold-chain excursion quarantines the lot by
//!   itself;
//! - a meter feed issues a token (`issues: { token, to }`, registered by the token's issuer,
//!   with the feed's scale equal to the token's decimals): its readings are cumulative
//!   counters in the token's smallest unit, never negative and never going backwards
//!   (`InvalidArgument`), and each accepted reading mints its increase over the previous one
//!   to `to`; the first reading is the baseline and mints nothing. From its first meter on,
//!   the token is meter-backed: it must have had no supply then, and a direct `mint` of it
//!   is refused (`Unauthorized`) whoever signs, so every unit in circulation stands for a
//!   signed meter increase.

use weft_types::{
    Amount, ErrorCode, FeedIssuance, MAX_FEED_SCALE, Name, PostReading, RegisterFeed,
    RemoveThreshold, SetThreshold, limits::MAX_TEXT_BYTES,
};

use super::{token, workflow};
use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{self, Breach, Feed, MeterIssuance, Reading, StepCause, Threshold},
};

/// How far a reading's device time may lie after the block's timestamp (clock skew between
/// the device and the validators).
pub(crate) const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

fn load(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Feed, ExecError> {
    ctx.get::<Feed>(&StateKey::Feed(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("feed {id} does not exist")))
}

fn load_owned(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Feed, ExecError> {
    let feed = load(ctx, id)?;
    if feed.owner != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the owner of feed {id} manages its thresholds"),
        ));
    }
    Ok(feed)
}

pub(crate) fn register(ctx: &mut TxContext<'_, '_>, op: &RegisterFeed) -> Result<(), ExecError> {
    let key = StateKey::Feed(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("feed {} exists", op.id),
        ));
    }
    if op.scale > MAX_FEED_SCALE {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("scale {} exceeds {MAX_FEED_SCALE}", op.scale),
        ));
    }
    if op.unit.len() > MAX_TEXT_BYTES {
        return Err(ExecError::tx(ErrorCode::InvalidArgument, "unit too long"));
    }
    let issues = match &op.issues {
        Some(issuance) => Some(register_meter(ctx, op, issuance)?),
        None => None,
    };
    let feed = Feed {
        owner: ctx.signer,
        kind: op.kind.clone(),
        unit: op.unit.clone(),
        scale: op.scale,
        device: op.device,
        registered_at: ctx.height,
        count: 0,
        last: None,
        window: Vec::new(),
        thresholds: std::collections::BTreeMap::new(),
        issues,
    };
    ctx.put(&key, &feed);
    let mut attributes = vec![
        ("feed", op.id.to_string()),
        ("kind", op.kind.to_string()),
        ("device", op.device.to_string()),
    ];
    if let Some(issuance) = &op.issues {
        attributes.push(("issues", issuance.token.to_string()));
        attributes.push(("to", issuance.to.to_string()));
    }
    ctx.emit("oracle.feed_registered", vec![ctx.signer], attributes);
    Ok(())
}

/// Checks a meter feed's issuance and makes its token meter-backed.
fn register_meter(
    ctx: &mut TxContext<'_, '_>,
    op: &RegisterFeed,
    issuance: &FeedIssuance,
) -> Result<MeterIssuance, ExecError> {
    let symbol = &issuance.token;
    let token = ctx
        .get::<model::Token>(&StateKey::Token(symbol.clone()))?
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::UnknownToken,
                format!("token {symbol} is not defined"),
            )
        })?;
    if token.issuer != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "only the issuer {} of {symbol} registers meters that issue it",
                token.issuer
            ),
        ));
    }
    if op.scale != token.decimals {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "a meter of {symbol} counts in its smallest unit: scale {} must equal its {} \
                 decimals",
                op.scale, token.decimals
            ),
        ));
    }
    if !ctx.exists(&StateKey::Account(issuance.to))? {
        return Err(ExecError::tx(
            ErrorCode::UnknownAccount,
            format!("account {} is not registered", issuance.to),
        ));
    }
    let meters_key = StateKey::TokenMeters(symbol.clone());
    let meters = ctx.get::<u64>(&meters_key)?.unwrap_or(0);
    // Only a token without supply becomes meter-backed, so all of its supply is metered.
    if meters == 0 && token.supply.0 != 0 {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "{symbol} already has {} in supply minted without a meter; only a token with \
                 no supply becomes meter-backed",
                token.supply
            ),
        ));
    }
    ctx.put(&meters_key, &meters.saturating_add(1));
    Ok(MeterIssuance {
        token: symbol.clone(),
        to: issuance.to,
        issued: Amount(0),
    })
}

/// Refuses a direct mint of a meter-backed token: its meters' readings alone issue it.
pub(crate) fn require_not_metered(ctx: &TxContext<'_, '_>, symbol: &Name) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::TokenMeters(symbol.clone()))? {
        Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("{symbol} is meter-backed: only its meters' signed readings issue it"),
        ))
    } else {
        Ok(())
    }
}

/// What a meter reading of `feed` issues: its increase over the previous counter (nothing
/// for the first one, the baseline). A negative counter or one going backwards is refused.
fn metered_increase(feed: &Feed, id: &Name, value: i64) -> Result<u128, ExecError> {
    if value < 0 {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("feed {id} is a meter: its counter {value} cannot be negative"),
        ));
    }
    let Some(last) = &feed.last else {
        return Ok(0);
    };
    let increase = value
        .checked_sub(last.value)
        .ok_or_else(|| ExecError::tx(ErrorCode::Overflow, "meter increase overflows"))?;
    u128::try_from(increase).map_err(|_| {
        ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "feed {id} is a meter: its counter went backwards from {} to {value}",
                last.value
            ),
        )
    })
}

pub(crate) fn post(ctx: &mut TxContext<'_, '_>, op: &PostReading) -> Result<(), ExecError> {
    let mut feed = load(ctx, &op.feed)?;
    if !ctx.signers.contains(&feed.device) {
        return Err(ExecError::tx(
            ErrorCode::MissingSignature,
            format!(
                "a reading of feed {} must be signed by its device {}",
                op.feed, feed.device
            ),
        ));
    }
    let latest_allowed = ctx.timestamp_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if op.observed_at_ms > latest_allowed {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "reading observed at {} ms is in the future (block time {} ms)",
                op.observed_at_ms, ctx.timestamp_ms
            ),
        ));
    }
    if let Some(last) = &feed.last
        && op.observed_at_ms <= last.observed_at_ms
    {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "not monotone: reading observed at {} ms, the last one at {} ms",
                op.observed_at_ms, last.observed_at_ms
            ),
        ));
    }
    let increase = match &feed.issues {
        Some(_) => metered_increase(&feed, &op.feed, op.value)?,
        None => 0,
    };
    let reading = Reading {
        value: op.value,
        observed_at_ms: op.observed_at_ms,
        height: ctx.height,
    };
    feed.count = feed.count.saturating_add(1);
    feed.last = Some(reading.clone());
    if feed.window.len() >= Feed::WINDOW {
        let excess = feed.window.len() + 1 - Feed::WINDOW;
        feed.window.drain(..excess);
    }
    feed.window.push(reading);
    let mut breaches = Vec::new();
    let mut first_breaches = Vec::new();
    for (name, threshold) in &mut feed.thresholds {
        if !threshold.is_outside(op.value) {
            continue;
        }
        if !threshold.is_breached() {
            first_breaches.push(name.clone());
        }
        let breach = threshold.breach.get_or_insert(Breach {
            first_height: ctx.height,
            first_observed_at_ms: op.observed_at_ms,
            count: 0,
            last_value: op.value,
            last_observed_at_ms: op.observed_at_ms,
        });
        breach.count = breach.count.saturating_add(1);
        breach.last_value = op.value;
        breach.last_observed_at_ms = op.observed_at_ms;
        breaches.push((name.clone(), breach.count));
    }
    let issuance = match &mut feed.issues {
        Some(issues) if increase > 0 => {
            issues.issued =
                Amount(issues.issued.0.checked_add(increase).ok_or_else(|| {
                    ExecError::tx(ErrorCode::Overflow, "issued amount overflows")
                })?);
            Some((issues.token.clone(), issues.to))
        }
        _ => None,
    };
    let owner = feed.owner;
    let count = feed.count;
    ctx.put(&StateKey::Feed(op.feed.clone()), &feed);
    let mut accounts = vec![owner];
    if ctx.signer != owner {
        accounts.push(ctx.signer);
    }
    ctx.emit(
        "oracle.reading",
        accounts,
        vec![
            ("feed", op.feed.to_string()),
            ("value", op.value.to_string()),
            ("scale", feed.scale.to_string()),
            ("observed_at_ms", op.observed_at_ms.to_string()),
            ("count", count.to_string()),
        ],
    );
    for (threshold, breach_count) in breaches {
        ctx.emit(
            "oracle.breach",
            vec![owner],
            vec![
                ("feed", op.feed.to_string()),
                ("threshold", threshold.to_string()),
                ("value", op.value.to_string()),
                ("scale", feed.scale.to_string()),
                ("observed_at_ms", op.observed_at_ms.to_string()),
                ("breaches", breach_count.to_string()),
            ],
        );
    }
    if let Some((symbol, to)) = issuance {
        token::issue(
            ctx,
            &symbol,
            &to,
            increase,
            token::Via::Meter { feed: &op.feed },
        )?;
    }
    // Thresholds in name order, each instance in id order: the same readings move the same
    // instances the same way on every node.
    for threshold in first_breaches {
        let cause = StepCause::Breach {
            feed: op.feed.clone(),
            threshold: threshold.clone(),
            value: op.value,
            observed_at_ms: op.observed_at_ms,
            height: ctx.height,
        };
        workflow::fire_on_breach(ctx, &op.feed, &threshold, &cause)?;
    }
    Ok(())
}

pub(crate) fn set_threshold(
    ctx: &mut TxContext<'_, '_>,
    op: &SetThreshold,
) -> Result<(), ExecError> {
    let mut feed = load_owned(ctx, &op.feed)?;
    match (op.min, op.max) {
        (None, None) => {
            return Err(ExecError::tx(
                ErrorCode::InvalidArgument,
                "a threshold needs a min, a max or both",
            ));
        }
        (Some(min), Some(max)) if min > max => {
            return Err(ExecError::tx(
                ErrorCode::InvalidArgument,
                format!("min {min} is above max {max}"),
            ));
        }
        _ => {}
    }
    if feed.thresholds.contains_key(&op.name) {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!(
                "feed {} already has threshold {}; remove it first",
                op.feed, op.name
            ),
        ));
    }
    if feed.thresholds.len() >= Feed::MAX_THRESHOLDS {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "feed {} has the most thresholds allowed ({})",
                op.feed,
                Feed::MAX_THRESHOLDS
            ),
        ));
    }
    feed.thresholds.insert(
        op.name.clone(),
        Threshold {
            min: op.min,
            max: op.max,
            set_at: ctx.height,
            breach: None,
        },
    );
    ctx.put(&StateKey::Feed(op.feed.clone()), &feed);
    let bound = |b: Option<i64>| b.map_or_else(|| "none".to_owned(), |v| v.to_string());
    ctx.emit(
        "oracle.threshold_set",
        vec![ctx.signer],
        vec![
            ("feed", op.feed.to_string()),
            ("threshold", op.name.to_string()),
            ("min", bound(op.min)),
            ("max", bound(op.max)),
        ],
    );
    Ok(())
}

pub(crate) fn remove_threshold(
    ctx: &mut TxContext<'_, '_>,
    op: &RemoveThreshold,
) -> Result<(), ExecError> {
    let mut feed = load_owned(ctx, &op.feed)?;
    let Some(threshold) = feed.thresholds.get(&op.name) else {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("feed {} has no threshold {}", op.feed, op.name),
        ));
    };
    if threshold.is_breached() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "threshold {} of feed {} was breached; the breach is kept as evidence",
                op.name, op.feed
            ),
        ));
    }
    feed.thresholds.remove(&op.name);
    ctx.put(&StateKey::Feed(op.feed.clone()), &feed);
    ctx.emit(
        "oracle.threshold_removed",
        vec![ctx.signer],
        vec![
            ("feed", op.feed.to_string()),
            ("threshold", op.name.to_string()),
        ],
    );
    Ok(())
}

/// Whether any accepted reading of `feed` fell outside `threshold` since it was set; for
/// guards of other modules and templates (e.g. "the lot's cold chain was never breached").
/// An unknown feed or threshold is `NotFound`, so a guard fails closed.
#[allow(dead_code)] // templates and the asset/EPCIS modules will call it
pub(crate) fn breached(
    ctx: &TxContext<'_, '_>,
    feed: &Name,
    threshold: &Name,
) -> Result<bool, ExecError> {
    let record = load(ctx, feed)?;
    record
        .thresholds
        .get(threshold)
        .map(Threshold::is_breached)
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::NotFound,
                format!("feed {feed} has no threshold {threshold}"),
            )
        })
}

/// The latest accepted reading of `feed` as (fixed-point value, device time in ms), or
/// `None` before the first; for other modules and templates (e.g. metered energy).
#[allow(dead_code)] // templates and the market module will call it
pub(crate) fn latest(
    ctx: &TxContext<'_, '_>,
    feed: &Name,
) -> Result<Option<(i64, u64)>, ExecError> {
    Ok(load(ctx, feed)?.last.map(|r| (r.value, r.observed_at_ms)))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use weft_types::{AccountId, encode};

    use super::*;
    use crate::overlay::Overlay;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn threshold(breach: Option<Breach>) -> Threshold {
        Threshold {
            min: Some(20),
            max: Some(80),
            set_at: 1,
            breach,
        }
    }

    #[test]
    fn queries_read_the_feed_and_fail_closed() {
        let owner = AccountId([1; 32]);
        let reading = Reading {
            value: 95,
            observed_at_ms: 7_000,
            height: 3,
        };
        let mut feed = Feed {
            owner,
            kind: name("temperature"),
            unit: "Cel".into(),
            scale: 1,
            device: AccountId([2; 32]),
            registered_at: 1,
            count: 1,
            last: Some(reading.clone()),
            window: vec![reading],
            thresholds: BTreeMap::new(),
            issues: None,
        };
        feed.thresholds.insert(
            name("cold-chain"),
            threshold(Some(Breach {
                first_height: 3,
                first_observed_at_ms: 7_000,
                count: 1,
                last_value: 95,
                last_observed_at_ms: 7_000,
            })),
        );
        feed.thresholds.insert(name("calm"), threshold(None));
        let mut fresh = feed.clone();
        fresh.last = None;
        fresh.window.clear();
        fresh.count = 0;
        let mut state: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        state.insert(StateKey::Feed(name("f")).to_bytes(), encode(&feed));
        state.insert(StateKey::Feed(name("fresh")).to_bytes(), encode(&fresh));
        let mut overlay = Overlay::new(&state);
        let ctx = TxContext::new(&mut overlay, owner, BTreeSet::from([owner]), 4, 10_000);

        assert!(breached(&ctx, &name("f"), &name("cold-chain")).unwrap());
        assert!(!breached(&ctx, &name("f"), &name("calm")).unwrap());
        assert_eq!(latest(&ctx, &name("f")).unwrap(), Some((95, 7_000)));
        assert_eq!(latest(&ctx, &name("fresh")).unwrap(), None);
        let not_found = |r: Result<_, ExecError>| matches!(r, Err(ExecError::Tx(e)) if e.code == ErrorCode::NotFound);
        assert!(not_found(breached(&ctx, &name("f"), &name("nope"))));
        assert!(not_found(breached(&ctx, &name("nope"), &name("calm"))));
        assert!(not_found(latest(&ctx, &name("nope")).map(|_| true)));
    }
}
