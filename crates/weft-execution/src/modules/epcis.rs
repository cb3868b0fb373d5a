//! Supply-chain events in the GS1 EPCIS 2.0 shape: what (objects), when, where and why,
//! recorded against the asset registry, with a provenance trail per asset.
//!
//! Rules:
//! - every object an event names is a registered asset; events about retired assets are
//!   refused except OBSERVE and DELETE (a record of what happened to them afterwards);
//! - aggregation ADD packs children into a parent (a child is in at most one parent at a
//!   time); DELETE unpacks them (they must be in that parent);
//! - transformation events name existing inputs and outputs (the asset module creates the
//!   outputs and retires the inputs; the event records why and where);
//! - the event time may not be later than five minutes after the block's timestamp, and the
//!   event id is unique;
//! - each named asset's trail (`epcis/trail/<asset>`) lists the event ids in capture order.

use std::collections::BTreeSet;

use weft_types::{AccountId, CaptureEpcisEvent, EpcisAction, EpcisKind, ErrorCode, Name};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Asset, EpcisRecord, EpcisTrail},
};

/// How far an event time may run ahead of the block time (clock skew between parties).
const MAX_FUTURE_MS: u64 = 5 * 60 * 1000;

fn load_asset(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Asset, ExecError> {
    ctx.get::<Asset>(&StateKey::Asset(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("asset {id} is not registered")))
}

pub(crate) fn capture(
    ctx: &mut TxContext<'_, '_>,
    op: &CaptureEpcisEvent,
) -> Result<(), ExecError> {
    let key = StateKey::EpcisEvent(op.event_id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("event {} was captured", op.event_id),
        ));
    }
    if op.event_time_ms > ctx.timestamp_ms.saturating_add(MAX_FUTURE_MS) {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "event time is in the future",
        ));
    }
    let (objects, action): (Vec<&Name>, Option<EpcisAction>) = match &op.kind {
        EpcisKind::ObjectEvent { action, epc_list } => (epc_list.iter().collect(), Some(*action)),
        EpcisKind::AggregationEvent {
            action,
            parent_id,
            child_epcs,
        } => (
            std::iter::once(parent_id).chain(child_epcs).collect(),
            Some(*action),
        ),
        EpcisKind::TransformationEvent {
            input_epc_list,
            output_epc_list,
            ..
        } => (input_epc_list.iter().chain(output_epc_list).collect(), None),
    };
    if objects.is_empty() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "an event names at least one object",
        ));
    }
    let distinct: BTreeSet<&Name> = objects.iter().copied().collect();
    if distinct.len() != objects.len() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "an object is named twice",
        ));
    }
    // Everyone owning a named asset hears of the event.
    let mut concerned: BTreeSet<AccountId> = BTreeSet::new();
    concerned.insert(ctx.signer);
    let history_only = matches!(action, Some(EpcisAction::Observe | EpcisAction::Delete));
    for id in &distinct {
        let asset = load_asset(ctx, id)?;
        // A transformation names its inputs after the asset module retired them.
        let is_input = matches!(&op.kind, EpcisKind::TransformationEvent { input_epc_list, .. } if input_epc_list.contains(id));
        if !asset.is_active() && !history_only && !is_input {
            return Err(ExecError::tx(
                ErrorCode::InvalidArgument,
                format!("asset {id} is retired"),
            ));
        }
        concerned.insert(asset.owner);
    }
    if let EpcisKind::AggregationEvent {
        action,
        parent_id,
        child_epcs,
    } = &op.kind
    {
        for child in child_epcs {
            let ckey = StateKey::ContainedIn(child.clone());
            let current: Option<Name> = ctx.get(&ckey)?;
            match action {
                EpcisAction::Add => {
                    if let Some(p) = current {
                        return Err(ExecError::tx(
                            ErrorCode::InvalidArgument,
                            format!("{child} is already packed in {p}"),
                        ));
                    }
                    ctx.put(&ckey, parent_id);
                }
                EpcisAction::Delete => {
                    if current.as_ref() != Some(parent_id) {
                        return Err(ExecError::tx(
                            ErrorCode::InvalidArgument,
                            format!("{child} is not packed in {parent_id}"),
                        ));
                    }
                    ctx.delete(&ckey);
                }
                EpcisAction::Observe => {
                    if current.as_ref() != Some(parent_id) {
                        return Err(ExecError::tx(
                            ErrorCode::InvalidArgument,
                            format!("{child} is not packed in {parent_id}"),
                        ));
                    }
                }
            }
        }
    }
    for id in &distinct {
        let tkey = StateKey::EpcisTrail((*id).clone());
        let mut trail: EpcisTrail = ctx.get(&tkey)?.unwrap_or_default();
        if trail.len() >= EpcisRecord::MAX_TRAIL {
            return Err(ExecError::tx(
                ErrorCode::InvalidArgument,
                format!("the trail of {id} is full"),
            ));
        }
        trail.push(op.event_id.clone());
        ctx.put(&tkey, &trail);
    }
    let record = EpcisRecord {
        event: op.clone(),
        recorder: ctx.signer,
        recorded_at: ctx.height,
    };
    ctx.put(&key, &record);
    let topic = match &op.kind {
        EpcisKind::ObjectEvent { .. } => "epcis.object",
        EpcisKind::AggregationEvent { .. } => "epcis.aggregation",
        EpcisKind::TransformationEvent { .. } => "epcis.transformation",
    };
    let objects_text = objects
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",");
    ctx.emit(
        topic,
        concerned.into_iter().collect(),
        vec![
            ("event", op.event_id.to_string()),
            ("objects", objects_text),
            ("biz_step", op.biz_step.clone()),
            ("disposition", op.disposition.clone()),
            ("read_point", op.read_point.clone()),
        ],
    );
    Ok(())
}
