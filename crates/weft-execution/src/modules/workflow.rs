//! Workflow: templates deployed on chain, instances that bind accounts to their roles, and
//! transitions checked against the template (state, roles, approvals, guard, deadline) whose
//! effects apply atomically with the state change.
//!
//! Rules chosen here (see `docs/templates.md`, "On chain"):
//! - k-of-n approvals count distinct co-signers of the transaction bound to the listed roles,
//!   *not* counting the account that takes the transition.
//! - Two-hands: the accounts bound to `operator` and `controller` must both sign the
//!   transaction and be different accounts.
//! - A transition with a deadline is refused once `now` reaches its timestamp parameter;
//!   from then on its `on_expiry` transition may be taken by any registered signer holding
//!   `workflow.transition` (its `by` is waived; its approvals and guard still apply).
//! - Effects that move a party's tokens or assets (`transfer`, `hold`, `transfer_asset`,
//!   `retire_asset`) need that party's signature on the transaction.
//! - Escrow holds are stored as token holds named `<instance>.<hold id>`.
//! - Visibility is recorded but not enforced yet (permissioned reads come later).

use std::collections::{BTreeMap, BTreeSet};

use weft_types::{AccountId, Amount, CreateInstance, DeployTemplate, ErrorCode, Name};

use super::{oracle, token};
use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{self, HistoryEntry, Instance, ParamValue, TemplateRecord},
    workflow::{
        AmountRef, Approvals, Effect, Guard, GuardValue, NameRef, ParamType, Template, parse_yaml,
    },
};

fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::InvalidArgument, message)
}

fn unauthorized(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::Unauthorized, message)
}

fn not_found(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::NotFound, message)
}

/// Every bound account once, in order: the accounts events of the instance name.
fn party_accounts(instance: &Instance) -> Vec<AccountId> {
    instance
        .parties
        .values()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub(crate) fn deploy(ctx: &mut TxContext<'_, '_>, op: &DeployTemplate) -> Result<(), ExecError> {
    if op.source.len() > weft_types::MAX_TEMPLATE_SOURCE_BYTES {
        return Err(invalid(format!(
            "template source is {} bytes, more than the {} allowed",
            op.source.len(),
            weft_types::MAX_TEMPLATE_SOURCE_BYTES
        )));
    }
    let template = parse_yaml(&op.source).map_err(|errors| {
        let count = errors.len();
        match errors.into_iter().next() {
            Some(first) => invalid(format!(
                "template refused ({count} error{}): {first}",
                if count == 1 { "" } else { "s" }
            )),
            None => invalid("template refused"),
        }
    })?;
    let key = StateKey::Template(template.id.clone(), template.version);
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!(
                "template {} version {} is already deployed; versions are immutable",
                template.id, template.version
            ),
        ));
    }
    let record = TemplateRecord {
        source_hash: weft_crypto::sha256(op.source.as_bytes()),
        deployer: ctx.signer,
        deployed_at: ctx.height,
        template,
    };
    ctx.put(&key, &record);
    ctx.emit(
        "workflow.deployed",
        vec![ctx.signer],
        vec![
            ("template", record.template.id.to_string()),
            ("version", record.template.version.to_string()),
            ("source_hash", record.source_hash.to_string()),
        ],
    );
    Ok(())
}

fn load_template(
    ctx: &TxContext<'_, '_>,
    id: &Name,
    version: u32,
) -> Result<Option<Template>, ExecError> {
    Ok(ctx
        .get::<TemplateRecord>(&StateKey::Template(id.clone(), version))?
        .map(|r| r.template))
}

/// Parses a parameter value given as text by its declared type.
fn parse_param(
    ctx: &TxContext<'_, '_>,
    name: &Name,
    ty: ParamType,
    text: &str,
) -> Result<ParamValue, ExecError> {
    let bad = || invalid(format!("parameter {name}: `{text}` is not a valid {ty}"));
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let exists = |key: StateKey, what: &str| -> Result<(), ExecError> {
        if ctx.exists(&key)? {
            Ok(())
        } else {
            Err(invalid(format!(
                "parameter {name}: {what} `{text}` does not exist"
            )))
        }
    };
    Ok(match ty {
        ParamType::Int => ParamValue::Int(text.parse::<i64>().map_err(|_| bad())?),
        ParamType::String => ParamValue::String(text.to_owned()),
        ParamType::Account => ParamValue::Account(text.parse::<AccountId>().map_err(|_| bad())?),
        ParamType::Bool => match text {
            "true" => ParamValue::Bool(true),
            "false" => ParamValue::Bool(false),
            _ => return Err(bad()),
        },
        ParamType::Amount if digits => {
            ParamValue::Amount(Amount(text.parse::<u128>().map_err(|_| bad())?))
        }
        ParamType::Timestamp if digits => {
            ParamValue::Timestamp(text.parse::<u64>().map_err(|_| bad())?)
        }
        ParamType::Amount | ParamType::Timestamp => return Err(bad()),
        ParamType::Token => {
            let n = Name::new(text).map_err(|_| bad())?;
            exists(StateKey::Token(n.clone()), "token")?;
            ParamValue::Token(n)
        }
        ParamType::Asset => {
            let n = Name::new(text).map_err(|_| bad())?;
            exists(StateKey::Asset(n.clone()), "asset")?;
            ParamValue::Asset(n)
        }
        ParamType::Document => {
            let n = Name::new(text).map_err(|_| bad())?;
            exists(StateKey::Document(n.clone()), "document")?;
            ParamValue::Document(n)
        }
    })
}

pub(crate) fn create(ctx: &mut TxContext<'_, '_>, op: &CreateInstance) -> Result<(), ExecError> {
    let key = StateKey::Instance(op.instance.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("instance {} exists", op.instance),
        ));
    }
    let template = load_template(ctx, &op.template, op.version)?.ok_or_else(|| {
        not_found(format!(
            "template {} version {} is not deployed",
            op.template, op.version
        ))
    })?;
    let mut parties = BTreeMap::new();
    for (role, account) in &op.parties {
        if !template.roles.contains_key(role) {
            return Err(invalid(format!(
                "template {} has no role {role}",
                template.id
            )));
        }
        if !ctx.exists(&StateKey::Account(*account))? {
            return Err(ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("account {account} bound to role {role} is not registered"),
            ));
        }
        if parties.insert(role.clone(), *account).is_some() {
            return Err(invalid(format!("role {role} is bound more than once")));
        }
    }
    if let Some(missing) = template.roles.keys().find(|r| !parties.contains_key(*r)) {
        return Err(invalid(format!(
            "role {missing} is not bound to an account"
        )));
    }
    let mut params = BTreeMap::new();
    for (name, text) in &op.params {
        let ty = template
            .parameters
            .get(name)
            .ok_or_else(|| invalid(format!("template {} has no parameter {name}", template.id)))?;
        let value = parse_param(ctx, name, *ty, text)?;
        if params.insert(name.clone(), value).is_some() {
            return Err(invalid(format!("parameter {name} is given more than once")));
        }
    }
    if let Some(missing) = template
        .parameters
        .keys()
        .find(|p| !params.contains_key(*p))
    {
        return Err(invalid(format!("parameter {missing} is not given")));
    }
    let initial = template
        .states
        .iter()
        .find(|s| s.initial)
        .ok_or_else(|| ExecError::Fatal(format!("template {} has no initial state", template.id)))?
        .name
        .clone();
    let instance = Instance {
        template: template.id.clone(),
        version: template.version,
        parties,
        params,
        state: initial,
        created_by: ctx.signer,
        created_at: ctx.height,
        created_at_ms: ctx.timestamp_ms,
        history: Vec::new(),
    };
    ctx.put(&key, &instance);
    ctx.emit(
        "workflow.created",
        party_accounts(&instance),
        vec![
            ("instance", op.instance.to_string()),
            ("template", instance.template.to_string()),
            ("version", instance.version.to_string()),
            ("state", instance.state.to_string()),
        ],
    );
    Ok(())
}

/// The text a guard sees for a parameter.
fn guard_value(value: &ParamValue) -> Result<GuardValue, ExecError> {
    Ok(match value {
        ParamValue::Int(i) => GuardValue::Int(*i),
        ParamValue::String(s) => GuardValue::Str(s.clone()),
        ParamValue::Account(a) => GuardValue::Str(a.to_string()),
        ParamValue::Bool(b) => GuardValue::Bool(*b),
        ParamValue::Amount(a) => {
            GuardValue::amount(a.0).map_err(|e| invalid(format!("guard failed: {e}")))?
        }
        ParamValue::Token(n) | ParamValue::Asset(n) | ParamValue::Document(n) => {
            GuardValue::Str(n.to_string())
        }
        ParamValue::Timestamp(t) => GuardValue::Timestamp(*t),
    })
}

struct Run<'i> {
    id: &'i Name,
    instance: &'i Instance,
}

impl Run<'_> {
    fn party(&self, role: &Name) -> Result<AccountId, ExecError> {
        self.instance
            .parties
            .get(role)
            .copied()
            .ok_or_else(|| ExecError::Fatal(format!("instance {} lacks role {role}", self.id)))
    }

    fn param(&self, name: &Name) -> Result<&ParamValue, ExecError> {
        self.instance
            .params
            .get(name)
            .ok_or_else(|| ExecError::Fatal(format!("instance {} lacks parameter {name}", self.id)))
    }

    /// A name parameter (token, asset, document or text) as a name.
    fn param_name(&self, name: &Name) -> Result<Name, ExecError> {
        match self.param(name)? {
            ParamValue::Token(n) | ParamValue::Asset(n) | ParamValue::Document(n) => Ok(n.clone()),
            ParamValue::String(s) => Name::new(s.as_str())
                .map_err(|_| invalid(format!("parameter {name} (`{s}`) is not a name"))),
            other => Err(invalid(format!(
                "parameter {name} is not a name: {other:?}"
            ))),
        }
    }

    fn name_ref(&self, r: &NameRef) -> Result<Name, ExecError> {
        match r {
            NameRef::Literal(n) => Ok(n.clone()),
            NameRef::Param(p) => self.param_name(p),
        }
    }

    fn amount(&self, r: &AmountRef) -> Result<u128, ExecError> {
        let amount = match r {
            AmountRef::Literal(n) => *n,
            AmountRef::Param(p) => match self.param(p)? {
                ParamValue::Amount(a) => a.0,
                _ => return Err(invalid(format!("parameter {p} is not an amount"))),
            },
        };
        if amount == 0 {
            return Err(invalid("amount must be positive"));
        }
        Ok(amount)
    }

    fn timestamp(&self, name: &Name) -> Result<u64, ExecError> {
        match self.param(name)? {
            ParamValue::Timestamp(t) => Ok(*t),
            _ => Err(invalid(format!("parameter {name} is not a timestamp"))),
        }
    }

    fn hold_id(&self, id: &Name) -> Result<Name, ExecError> {
        Name::new(format!("{}.{id}", self.id)).map_err(|_| {
            invalid(format!(
                "hold id {}.{id} is longer than a name may be",
                self.id
            ))
        })
    }
}

fn require_signed(ctx: &TxContext<'_, '_>, who: &AccountId, why: &str) -> Result<(), ExecError> {
    if ctx.signers.contains(who) {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::MissingSignature,
            format!("{who} must sign the transaction: {why}"),
        ))
    }
}

fn load_token(ctx: &TxContext<'_, '_>, symbol: &Name) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Token(symbol.clone()))? {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::UnknownToken,
            format!("token {symbol} is not defined"),
        ))
    }
}

/// An active asset owned by one of the instance's parties, who signed the transaction.
fn load_party_asset(
    ctx: &TxContext<'_, '_>,
    run: &Run<'_>,
    id: &Name,
) -> Result<model::Asset, ExecError> {
    let asset = ctx
        .get::<model::Asset>(&StateKey::Asset(id.clone()))?
        .ok_or_else(|| not_found(format!("asset {id} does not exist")))?;
    if !asset.is_active() {
        return Err(invalid(format!("asset {id} is retired")));
    }
    if !run.instance.parties.values().any(|a| *a == asset.owner) {
        return Err(unauthorized(format!(
            "asset {id} is owned by {}, who is not a party of instance {}",
            asset.owner, run.id
        )));
    }
    require_signed(ctx, &asset.owner, &format!("it owns asset {id}"))?;
    Ok(asset)
}

fn apply_effect(
    ctx: &mut TxContext<'_, '_>,
    run: &Run<'_>,
    effect: &Effect,
) -> Result<(), ExecError> {
    match effect {
        Effect::Transfer {
            token: t,
            from,
            to,
            amount,
        } => {
            let symbol = run.name_ref(t)?;
            let (from, to) = (run.party(from)?, run.party(to)?);
            let amount = run.amount(amount)?;
            load_token(ctx, &symbol)?;
            require_signed(ctx, &from, "the transfer debits it")?;
            token::debit(ctx, &symbol, &from, amount)?;
            token::credit(ctx, &symbol, &to, amount)?;
            ctx.emit(
                "token.transfer",
                vec![from, to],
                vec![
                    ("symbol", symbol.to_string()),
                    ("amount", amount.to_string()),
                    ("instance", run.id.to_string()),
                ],
            );
        }
        Effect::Hold {
            id,
            token: t,
            from,
            to,
            amount,
        } => {
            let hold_id = run.hold_id(id)?;
            let symbol = run.name_ref(t)?;
            let (holder, beneficiary) = (run.party(from)?, run.party(to)?);
            let amount = run.amount(amount)?;
            load_token(ctx, &symbol)?;
            let key = StateKey::Hold(hold_id.clone());
            if ctx.exists(&key)? {
                return Err(ExecError::tx(
                    ErrorCode::AlreadyExists,
                    format!("hold {hold_id} exists"),
                ));
            }
            require_signed(ctx, &holder, "the hold debits it")?;
            token::debit(ctx, &symbol, &holder, amount)?;
            let record = model::Hold {
                holder,
                symbol: symbol.clone(),
                amount: Amount(amount),
                beneficiary,
                arbiter: None,
                expires_at_height: None,
                created_at: ctx.height,
                controlled_by: Some(run.id.clone()),
            };
            ctx.put(&key, &record);
            ctx.emit(
                "token.held",
                vec![holder, beneficiary],
                vec![
                    ("hold", hold_id.to_string()),
                    ("symbol", symbol.to_string()),
                    ("amount", amount.to_string()),
                ],
            );
        }
        Effect::ReleaseHold { id } | Effect::CancelHold { id } => {
            let release = matches!(effect, Effect::ReleaseHold { .. });
            let hold_id = run.hold_id(id)?;
            let key = StateKey::Hold(hold_id.clone());
            let hold = ctx
                .get::<model::Hold>(&key)?
                .ok_or_else(|| not_found(format!("hold {hold_id} does not exist")))?;
            token::settle_hold(ctx, &hold_id, &hold, release)?;
        }
        Effect::TransferAsset { asset, to } => {
            let id = run.param_name(&asset.0)?;
            let mut record = load_party_asset(ctx, run, &id)?;
            let to = run.party(to)?;
            let from = record.owner;
            if to == from {
                return Err(invalid(format!("{from} already owns asset {id}")));
            }
            record.owner = to;
            record.updated_at = ctx.height;
            ctx.put(&StateKey::Asset(id.clone()), &record);
            ctx.emit(
                "asset.transferred",
                vec![from, to],
                vec![
                    ("asset", id.to_string()),
                    ("from", from.to_string()),
                    ("to", to.to_string()),
                ],
            );
        }
        Effect::RetireAsset { asset, reason } => {
            let id = run.param_name(&asset.0)?;
            let mut record = load_party_asset(ctx, run, &id)?;
            let reason = if reason.is_empty() {
                format!("workflow instance {}", run.id)
            } else {
                reason.clone()
            };
            record.status = model::AssetStatus::Retired {
                at_height: ctx.height,
                reason: reason.clone(),
            };
            record.updated_at = ctx.height;
            let owner = record.owner;
            ctx.put(&StateKey::Asset(id.clone()), &record);
            ctx.emit(
                "asset.retired",
                vec![owner],
                vec![("asset", id.to_string()), ("reason", reason)],
            );
        }
        Effect::RequireDocumentSigned { document, by } => {
            let id = run.param_name(&document.0)?;
            let doc = ctx
                .get::<model::Document>(&StateKey::Document(id.clone()))?
                .ok_or_else(|| not_found(format!("document {id} does not exist")))?;
            let version = doc
                .versions
                .last()
                .ok_or_else(|| invalid(format!("document {id} has no version")))?;
            for role in by {
                let who = run.party(role)?;
                if !version.signatures.iter().any(|(a, _)| *a == who) {
                    return Err(invalid(format!(
                        "document {id} version {} is not signed by {role} ({who})",
                        doc.versions.len()
                    )));
                }
            }
        }
        Effect::RequireNotBreached { feed, threshold } => {
            let feed = run.name_ref(feed)?;
            if oracle::breached(ctx, &feed, threshold)? {
                return Err(invalid(format!(
                    "feed {feed} breached threshold {threshold}"
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn transition(
    ctx: &mut TxContext<'_, '_>,
    op: &weft_types::Transition,
) -> Result<(), ExecError> {
    let key = StateKey::Instance(op.instance.clone());
    let mut instance = ctx
        .get::<Instance>(&key)?
        .ok_or_else(|| not_found(format!("instance {} does not exist", op.instance)))?;
    let template = load_template(ctx, &instance.template, instance.version)?.ok_or_else(|| {
        ExecError::Fatal(format!(
            "instance {} refers to missing template {} version {}",
            op.instance, instance.template, instance.version
        ))
    })?;
    let t = template
        .transitions
        .iter()
        .find(|t| t.name == op.transition)
        .ok_or_else(|| {
            not_found(format!(
                "template {} version {} has no transition {}",
                template.id, template.version, op.transition
            ))
        })?;
    let from = instance.state.clone();
    if !t.from.contains(&from) {
        return Err(invalid(format!(
            "transition {} is not allowed from state {from}",
            t.name
        )));
    }
    let run = Run {
        id: &op.instance,
        instance: &instance,
    };
    let now = ctx.timestamp_ms;
    if let Some(deadline) = &t.deadline {
        let at = run.timestamp(&deadline.param.0)?;
        if now >= at {
            return Err(invalid(format!(
                "transition {} expired at {at} (now {now}); take {} instead",
                t.name, deadline.on_expiry
            )));
        }
    }
    // The way out of an expired transition is open to any registered signer.
    let mut expiry_exit = false;
    for other in &template.transitions {
        if let Some(d) = &other.deadline
            && d.on_expiry == t.name
            && other.from.contains(&from)
            && now >= run.timestamp(&d.param.0)?
        {
            expiry_exit = true;
        }
    }
    let signer = ctx.signer;
    let bound_to = |roles: &[Name], who: &AccountId| {
        roles
            .iter()
            .any(|r| instance.parties.get(r).is_some_and(|a| a == who))
    };
    if !expiry_exit && !bound_to(&t.by, &signer) {
        return Err(unauthorized(format!(
            "transition {} is taken by {}; {signer} is not bound to any of these roles",
            t.name,
            t.by.iter().map(Name::as_str).collect::<Vec<_>>().join(", ")
        )));
    }
    let approvals = match &t.approvals {
        None => Vec::new(),
        Some(Approvals::KOfN { k, of }) => {
            let approvers: Vec<AccountId> = ctx
                .signers
                .iter()
                .filter(|a| **a != signer && bound_to(of, a))
                .copied()
                .collect();
            if approvers.len() < *k as usize {
                return Err(unauthorized(format!(
                    "transition {} needs {k} approval(s) by {} co-signing the transaction (the actor does not count); got {}",
                    t.name,
                    of.iter().map(Name::as_str).collect::<Vec<_>>().join(", "),
                    approvers.len()
                )));
            }
            approvers
        }
        Some(Approvals::TwoHands {
            operator,
            controller,
        }) => {
            let (op_acc, ctl_acc) = (run.party(operator)?, run.party(controller)?);
            if op_acc == ctl_acc {
                return Err(unauthorized(format!(
                    "two-hands rule: {operator} and {controller} are the same account {op_acc}; two different accounts are required"
                )));
            }
            for (role, who) in [(operator, op_acc), (controller, ctl_acc)] {
                if !ctx.signers.contains(&who) {
                    return Err(unauthorized(format!(
                        "two-hands rule: {role} ({who}) must sign the transaction"
                    )));
                }
            }
            vec![op_acc, ctl_acc]
        }
    };
    if let Some(source) = &t.guard {
        let names: BTreeSet<&str> = template.parameters.keys().map(Name::as_str).collect();
        let guard =
            Guard::compile(source, &names).map_err(|e| invalid(format!("guard failed: {e}")))?;
        let mut vars = BTreeMap::new();
        for (name, value) in &instance.params {
            vars.insert(name.to_string(), guard_value(value)?);
        }
        vars.insert("state".to_owned(), GuardValue::Str(from.to_string()));
        vars.insert("now".to_owned(), GuardValue::Timestamp(now));
        let parties = instance
            .parties
            .iter()
            .map(|(r, a)| (r.to_string(), GuardValue::Str(a.to_string())))
            .collect();
        vars.insert(
            "instance".to_owned(),
            GuardValue::Map(BTreeMap::from([
                ("id".to_owned(), GuardValue::Str(op.instance.to_string())),
                (
                    "template".to_owned(),
                    GuardValue::Str(instance.template.to_string()),
                ),
                (
                    "version".to_owned(),
                    GuardValue::Int(i64::from(instance.version)),
                ),
                ("parties".to_owned(), GuardValue::Map(parties)),
            ])),
        );
        match guard.evaluate(&vars) {
            Ok(true) => {}
            Ok(false) => {
                return Err(invalid(format!(
                    "guard failed: `{source}` is false for transition {}",
                    t.name
                )));
            }
            Err(e) => return Err(invalid(format!("guard failed: {e}"))),
        }
    }
    if instance.history.len() >= Instance::MAX_HISTORY {
        return Err(invalid(format!(
            "instance {} has taken {} transitions, the most it may",
            op.instance,
            Instance::MAX_HISTORY
        )));
    }
    for effect in &t.effects {
        apply_effect(ctx, &run, effect)?;
    }
    let accounts = party_accounts(&instance);
    instance.history.push(HistoryEntry {
        transition: t.name.clone(),
        from: from.clone(),
        to: t.to.clone(),
        by: signer,
        approvals,
        height: ctx.height,
        timestamp_ms: now,
    });
    instance.state = t.to.clone();
    ctx.put(&key, &instance);
    ctx.emit(
        "workflow.transition",
        accounts,
        vec![
            ("instance", op.instance.to_string()),
            ("transition", t.name.to_string()),
            ("from", from.to_string()),
            ("to", t.to.to_string()),
            ("by", signer.to_string()),
        ],
    );
    Ok(())
}
