//! Unique assets with lineage: register, transfer, split, merge, transform, update
//! attributes, retire.
//!
//! Invariants: every asset has exactly one owner, a registered account; an id is used once
//! and never again (retired assets stay in state); a retired asset is final — no operation
//! changes it again; lineage is symmetric: an asset lists its parents, and each parent lists
//! it among its children. Split, merge and transform retire their inputs and create their
//! outputs, owned by the signer, in one step.
//!
//! Events carry `asset` (one asset) or `inputs`/`outputs` (comma-separated ids; names never
//! contain a comma), so the event history of an id is its provenance timeline.

use std::collections::{BTreeMap, BTreeSet};

use weft_types::{
    AccountId, Attributes, ErrorCode, MAX_ATTRIBUTES, MergeAssets, Name, NewAsset, RegisterAsset,
    RetireAsset, SetAssetAttributes, SplitAsset, TransferAsset, TransformAssets,
};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Asset, AssetStatus},
};

fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::InvalidArgument, message)
}

fn require_registered(ctx: &TxContext<'_, '_>, who: &AccountId) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Account(*who))? {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::UnknownAccount,
            format!("account {who} is not registered"),
        ))
    }
}

fn load(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Asset, ExecError> {
    ctx.get::<Asset>(&StateKey::Asset(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("asset {id} does not exist")))
}

/// Loads an asset the signer may change: it exists, is active, the signer owns it, and no
/// open market offer locks it.
fn load_owned(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Asset, ExecError> {
    let asset = load(ctx, id)?;
    if let AssetStatus::Retired { at_height, .. } = &asset.status {
        return Err(invalid(format!(
            "asset {id} was retired at height {at_height}; retired is final"
        )));
    }
    if asset.owner != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("asset {id} is owned by {}, not {}", asset.owner, ctx.signer),
        ));
    }
    super::market::require_unlocked(ctx, id)?;
    Ok(asset)
}

/// Checks a list of ids has no repeats.
fn distinct<'n>(what: &str, ids: impl IntoIterator<Item = &'n Name>) -> Result<(), ExecError> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(invalid(format!("{what}: {id} appears twice")));
        }
    }
    Ok(())
}

/// Attribute pairs as a map; keys must be non-empty and unique.
fn attribute_map(attributes: &Attributes) -> Result<BTreeMap<String, String>, ExecError> {
    let mut map = BTreeMap::new();
    for (k, v) in attributes {
        if k.is_empty() {
            return Err(invalid("attribute keys must not be empty"));
        }
        if map.insert(k.clone(), v.clone()).is_some() {
            return Err(invalid(format!("attribute {k:?} is given twice")));
        }
    }
    Ok(map)
}

fn require_absent(ctx: &TxContext<'_, '_>, id: &Name) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Asset(id.clone()))? {
        Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("asset {id} already exists (ids are never reused)"),
        ))
    } else {
        Ok(())
    }
}

fn require_text(what: &str, text: &str) -> Result<(), ExecError> {
    if text.is_empty() {
        Err(invalid(format!("{what} must not be empty")))
    } else {
        Ok(())
    }
}

fn join(ids: &[Name]) -> String {
    ids.iter().map(Name::as_str).collect::<Vec<_>>().join(",")
}

/// An output about to be created, with its attributes as a map.
type Output<'n> = (&'n NewAsset, BTreeMap<String, String>);

/// Checks the outputs of a split, merge or transformation: distinct ids, none existing,
/// valid attributes. Returns them with their attribute maps, ready to create.
fn check_outputs<'n>(
    ctx: &TxContext<'_, '_>,
    outputs: &'n [NewAsset],
) -> Result<Vec<Output<'n>>, ExecError> {
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(outputs.len());
    for out in outputs {
        if !seen.insert(&out.id) {
            return Err(ExecError::tx(
                ErrorCode::AlreadyExists,
                format!("output {} is given twice", out.id),
            ));
        }
        require_absent(ctx, &out.id)?;
        checked.push((out, attribute_map(&out.attributes)?));
    }
    Ok(checked)
}

/// Retires `inputs` with `reason`, creates `outputs` owned by the signer, and links them.
fn derive(
    ctx: &mut TxContext<'_, '_>,
    inputs: Vec<(Name, Asset)>,
    outputs: Vec<Output<'_>>,
    reason: &str,
) {
    let parents: Vec<Name> = inputs.iter().map(|(id, _)| id.clone()).collect();
    let children: Vec<Name> = outputs.iter().map(|(out, _)| out.id.clone()).collect();
    for (id, mut asset) in inputs {
        asset.status = AssetStatus::Retired {
            at_height: ctx.height,
            reason: reason.to_owned(),
        };
        asset.children.extend(children.iter().cloned());
        asset.updated_at = ctx.height;
        ctx.put(&StateKey::Asset(id), &asset);
    }
    for (out, attributes) in outputs {
        let asset = Asset {
            class: out.class.clone(),
            owner: ctx.signer,
            attributes,
            status: AssetStatus::Active,
            parents: parents.clone(),
            children: Vec::new(),
            registered_at: ctx.height,
            updated_at: ctx.height,
        };
        ctx.put(&StateKey::Asset(out.id.clone()), &asset);
    }
}

/// Loads the inputs of a merge or transformation: distinct, existing, active, the signer's.
fn load_inputs(ctx: &TxContext<'_, '_>, ids: &[Name]) -> Result<Vec<(Name, Asset)>, ExecError> {
    distinct("inputs", ids)?;
    ids.iter()
        .map(|id| Ok((id.clone(), load_owned(ctx, id)?)))
        .collect()
}

pub(crate) fn register(ctx: &mut TxContext<'_, '_>, op: &RegisterAsset) -> Result<(), ExecError> {
    let attributes = attribute_map(&op.attributes)?;
    require_absent(ctx, &op.id)?;
    require_registered(ctx, &op.owner)?;
    let asset = Asset {
        class: op.class.clone(),
        owner: op.owner,
        attributes,
        status: AssetStatus::Active,
        parents: Vec::new(),
        children: Vec::new(),
        registered_at: ctx.height,
        updated_at: ctx.height,
    };
    ctx.put(&StateKey::Asset(op.id.clone()), &asset);
    let accounts = if op.owner == ctx.signer {
        vec![op.owner]
    } else {
        vec![ctx.signer, op.owner]
    };
    ctx.emit(
        "asset.registered",
        accounts,
        vec![
            ("asset", op.id.to_string()),
            ("class", op.class.to_string()),
            ("owner", op.owner.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn transfer(ctx: &mut TxContext<'_, '_>, op: &TransferAsset) -> Result<(), ExecError> {
    let mut asset = load_owned(ctx, &op.id)?;
    require_registered(ctx, &op.to)?;
    let from = asset.owner;
    if op.to == from {
        return Err(invalid(format!("{from} already owns asset {}", op.id)));
    }
    asset.owner = op.to;
    asset.updated_at = ctx.height;
    ctx.put(&StateKey::Asset(op.id.clone()), &asset);
    ctx.emit(
        "asset.transferred",
        vec![from, op.to],
        vec![
            ("asset", op.id.to_string()),
            ("from", from.to_string()),
            ("to", op.to.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn split(ctx: &mut TxContext<'_, '_>, op: &SplitAsset) -> Result<(), ExecError> {
    if op.parts.len() < 2 {
        return Err(invalid(format!(
            "a split needs at least 2 parts, got {}",
            op.parts.len()
        )));
    }
    let input = load_owned(ctx, &op.id)?;
    let outputs = check_outputs(ctx, &op.parts)?;
    let parts: Vec<Name> = op.parts.iter().map(|p| p.id.clone()).collect();
    derive(ctx, vec![(op.id.clone(), input)], outputs, "split");
    ctx.emit(
        "asset.split",
        vec![ctx.signer],
        vec![("inputs", op.id.to_string()), ("outputs", join(&parts))],
    );
    Ok(())
}

pub(crate) fn merge(ctx: &mut TxContext<'_, '_>, op: &MergeAssets) -> Result<(), ExecError> {
    if op.inputs.len() < 2 {
        return Err(invalid(format!(
            "a merge needs at least 2 inputs, got {}",
            op.inputs.len()
        )));
    }
    let inputs = load_inputs(ctx, &op.inputs)?;
    let outputs = check_outputs(ctx, std::slice::from_ref(&op.output))?;
    derive(ctx, inputs, outputs, "merged");
    ctx.emit(
        "asset.merged",
        vec![ctx.signer],
        vec![
            ("inputs", join(&op.inputs)),
            ("outputs", op.output.id.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn transform(
    ctx: &mut TxContext<'_, '_>,
    op: &TransformAssets,
) -> Result<(), ExecError> {
    if op.inputs.is_empty() || op.outputs.is_empty() {
        return Err(invalid(
            "a transformation needs at least 1 input and 1 output",
        ));
    }
    require_text("process", &op.process)?;
    let inputs = load_inputs(ctx, &op.inputs)?;
    let outputs = check_outputs(ctx, &op.outputs)?;
    let output_ids: Vec<Name> = op.outputs.iter().map(|o| o.id.clone()).collect();
    derive(
        ctx,
        inputs,
        outputs,
        &format!("transformed: {}", op.process),
    );
    ctx.emit(
        "asset.transformed",
        vec![ctx.signer],
        vec![
            ("inputs", join(&op.inputs)),
            ("outputs", join(&output_ids)),
            ("process", op.process.clone()),
        ],
    );
    Ok(())
}

pub(crate) fn set_attributes(
    ctx: &mut TxContext<'_, '_>,
    op: &SetAssetAttributes,
) -> Result<(), ExecError> {
    if op.set.is_empty() && op.remove.is_empty() {
        return Err(invalid("nothing to set or remove"));
    }
    let set = attribute_map(&op.set)?;
    let mut removed = BTreeSet::new();
    for key in &op.remove {
        if set.contains_key(key) {
            return Err(invalid(format!(
                "attribute {key:?} is both set and removed"
            )));
        }
        if !removed.insert(key) {
            return Err(invalid(format!("attribute {key:?} is removed twice")));
        }
    }
    let mut asset = load_owned(ctx, &op.id)?;
    for key in &op.remove {
        if asset.attributes.remove(key).is_none() {
            return Err(ExecError::tx(
                ErrorCode::NotFound,
                format!("asset {} has no attribute {key:?}", op.id),
            ));
        }
    }
    asset.attributes.extend(set);
    if asset.attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "asset {} would have {} attributes, at most {MAX_ATTRIBUTES}",
            op.id,
            asset.attributes.len()
        )));
    }
    asset.updated_at = ctx.height;
    ctx.put(&StateKey::Asset(op.id.clone()), &asset);
    // Attribute keys may hold any text, so their lists are JSON arrays.
    let keys = |ks: Vec<&String>| serde_json::to_string(&ks).unwrap_or_default();
    ctx.emit(
        "asset.updated",
        vec![ctx.signer],
        vec![
            ("asset", op.id.to_string()),
            ("set", keys(op.set.iter().map(|(k, _)| k).collect())),
            ("removed", keys(op.remove.iter().collect())),
        ],
    );
    Ok(())
}

pub(crate) fn retire(ctx: &mut TxContext<'_, '_>, op: &RetireAsset) -> Result<(), ExecError> {
    require_text("reason", &op.reason)?;
    let mut asset = load_owned(ctx, &op.id)?;
    asset.status = AssetStatus::Retired {
        at_height: ctx.height,
        reason: op.reason.clone(),
    };
    asset.updated_at = ctx.height;
    ctx.put(&StateKey::Asset(op.id.clone()), &asset);
    ctx.emit(
        "asset.retired",
        vec![ctx.signer],
        vec![("asset", op.id.to_string()), ("reason", op.reason.clone())],
    );
    Ok(())
}
