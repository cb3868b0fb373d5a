//! Workflow: templates deployed on chain, instances that bind accounts to their roles, and
//! transitions checked against the template (state, roles, inputs, approvals, guard,
//! deadline) whose effects apply atomically with the state change, followed by any automatic
//! transitions the new state enables.
//!
//! Rules chosen here (see `docs/templates.md`, "On chain"):
//! - A role holds the accounts bound to it (several are allowed; `grant`/`revoke` effects
//!   change them), or, when it is `open_to` a ledger role, every registered account holding
//!   that ledger role.
//! - Where an effect names a role as a party, the role stands for its only account, else
//!   for the account taking the transition if it holds the role; anything else is ambiguous
//!   and refused.
//! - k-of-n approvals count distinct co-signers of the transaction holding the listed roles,
//!   *not* counting the account that takes the transition.
//! - Two-hands: a signer holding `operator` and a *different* signer holding `controller`.
//! - A transition with a deadline is refused once `now` reaches its timestamp parameter;
//!   from then on its `on_expiry` transition may be taken by any registered signer holding
//!   `workflow.transition` (its `by` is waived; its approvals and guard still apply).
//! - Effects that move a party's tokens or assets (`transfer`, `hold`, `burn`,
//!   `transfer_asset`, `retire_asset`) need that party's signature on the transaction.
//! - Token effects run under the token module's policies on the instance's authority
//!   ([`token::Via::Instance`]): `mint` and `burn` only for tokens this template controls.
//! - Escrow holds are stored as token holds named `<instance>.<hold id>`.
//! - After a transition lands, automatic transitions are tried in declaration order: the
//!   first leaving the current state whose guard holds fires, then the search starts again,
//!   at most [`limits::MAX_AUTO_STEPS`] times. Their effects are part of the transaction.
//! - An `on_breach` transition is taken by the ledger in the transaction of the reading that
//!   first breaches its threshold (see [`fire_on_breach`]). Instances that watch a feed are
//!   indexed under `feed-watchers/<feed>` while they are unfinished, so a reading finds them
//!   without scanning instances.
//!
//! Deployed templates are immutable and keyed by their source hash, so each thread keeps
//! its compiled copy (decoded model and compiled guards) instead of decoding and compiling
//! on every transition. The cache holds only pure functions of the source: it cannot make
//! two nodes differ.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    io::{self, Read},
    rc::Rc,
};

use borsh::BorshDeserialize;
use weft_types::{AccountId, Amount, CreateInstance, DeployTemplate, ErrorCode, Hash, Name};

use super::{oracle, token};
use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{
        self, Feed, HistoryEntry, Instance, InstanceChange, ParamValue, StepCause, TemplateRecord,
    },
    workflow::{
        AmountRef, Approvals, Effect, Guard, GuardValue, NameRef, ParamType, PartyRef, Template,
        ValueRef, limits, parse_yaml,
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
    // Open roles name ledger roles; a typo would open the role to nobody.
    for (role, spec) in &template.roles {
        if let Some(ledger_role) = &spec.open_to
            && !ctx.exists(&StateKey::Role(ledger_role.clone()))?
        {
            return Err(invalid(format!(
                "role {role} is open to ledger role {ledger_role}, which is not defined on this \
                 chain"
            )));
        }
    }
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
        template,
        deployer: ctx.signer,
        deployed_at: ctx.height,
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

/// A deployed template ready to run: the model and its guards compiled once.
struct Compiled {
    template: Template,
    /// By transition index: the compiled guard, or why it does not compile.
    guards: Vec<Option<Result<Guard, String>>>,
    /// Whether any transition is automatic (otherwise nothing is searched after a step).
    has_auto: bool,
}

impl Compiled {
    fn new(template: Template) -> Self {
        let params: BTreeSet<&str> = template.parameters.keys().map(Name::as_str).collect();
        let transitions: BTreeSet<&str> = template
            .transitions
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        let guards = template
            .transitions
            .iter()
            .map(|t| {
                t.guard.as_ref().map(|source| {
                    let mut names = params.clone();
                    names.extend(t.inputs.keys().map(Name::as_str));
                    Guard::compile_in(source, &names, Some(&transitions)).map_err(|e| e.to_string())
                })
            })
            .collect();
        let has_auto = template.transitions.iter().any(|t| t.auto);
        Self {
            template,
            guards,
            has_auto,
        }
    }
}

/// A stored template record read as raw bytes: its leading source hash finds the compiled
/// copy without decoding the template.
struct RawTemplateRecord {
    source_hash: Hash,
    bytes: Vec<u8>,
}

impl BorshDeserialize for RawTemplateRecord {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let source_hash = bytes
            .get(..32)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Hash)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "short template record"))?;
        Ok(Self { source_hash, bytes })
    }
}

/// Compiled templates seen by this thread, by source hash; cleared when full.
const COMPILED_CACHE_MAX: usize = 64;

thread_local! {
    static COMPILED: RefCell<BTreeMap<Hash, Rc<Compiled>>> = const { RefCell::new(BTreeMap::new()) };
}

fn load_compiled(
    ctx: &TxContext<'_, '_>,
    id: &Name,
    version: u32,
) -> Result<Option<Rc<Compiled>>, ExecError> {
    let key = StateKey::Template(id.clone(), version);
    let Some(raw) = ctx.get::<RawTemplateRecord>(&key)? else {
        return Ok(None);
    };
    if let Some(hit) = COMPILED.with(|c| c.borrow().get(&raw.source_hash).cloned()) {
        return Ok(Some(hit));
    }
    let record: TemplateRecord = borsh::from_slice(&raw.bytes)
        .map_err(|e| ExecError::Fatal(format!("corrupt state under {key}: {e}")))?;
    let compiled = Rc::new(Compiled::new(record.template));
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= COMPILED_CACHE_MAX {
            cache.clear();
        }
        cache.insert(raw.source_hash, Rc::clone(&compiled));
    });
    Ok(Some(compiled))
}

/// Parses a parameter or input value given as text by its declared type.
fn parse_value(
    ctx: &TxContext<'_, '_>,
    what: &str,
    name: &Name,
    ty: ParamType,
    text: &str,
) -> Result<ParamValue, ExecError> {
    let bad = || invalid(format!("{what} {name}: `{text}` is not a valid {ty}"));
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let exists = |key: StateKey, kind: &str| -> Result<(), ExecError> {
        if ctx.exists(&key)? {
            Ok(())
        } else {
            Err(invalid(format!(
                "{what} {name}: {kind} `{text}` does not exist"
            )))
        }
    };
    Ok(match ty {
        ParamType::Int => ParamValue::Int(text.parse::<i64>().map_err(|_| bad())?),
        ParamType::String => {
            if text.len() > weft_types::limits::MAX_TEXT_BYTES {
                return Err(bad());
            }
            ParamValue::String(text.to_owned())
        }
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
        ParamType::Instance => {
            let n = Name::new(text).map_err(|_| bad())?;
            exists(StateKey::Instance(n.clone()), "instance")?;
            ParamValue::Instance(n)
        }
    })
}

const fn type_of(value: &ParamValue) -> ParamType {
    match value {
        ParamValue::Int(_) => ParamType::Int,
        ParamValue::String(_) => ParamType::String,
        ParamValue::Account(_) => ParamType::Account,
        ParamValue::Bool(_) => ParamType::Bool,
        ParamValue::Amount(_) => ParamType::Amount,
        ParamValue::Token(_) => ParamType::Token,
        ParamValue::Asset(_) => ParamType::Asset,
        ParamValue::Document(_) => ParamType::Document,
        ParamValue::Timestamp(_) => ParamType::Timestamp,
        ParamValue::Instance(_) => ParamType::Instance,
    }
}

pub(crate) fn create(ctx: &mut TxContext<'_, '_>, op: &CreateInstance) -> Result<(), ExecError> {
    let key = StateKey::Instance(op.instance.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("instance {} exists", op.instance),
        ));
    }
    let compiled = load_compiled(ctx, &op.template, op.version)?.ok_or_else(|| {
        not_found(format!(
            "template {} version {} is not deployed",
            op.template, op.version
        ))
    })?;
    let template = &compiled.template;
    let mut parties: BTreeMap<Name, Vec<AccountId>> = template
        .roles
        .iter()
        .filter(|(_, spec)| !spec.is_open())
        .map(|(role, _)| (role.clone(), Vec::new()))
        .collect();
    for (role, account) in &op.parties {
        let spec = template
            .roles
            .get(role)
            .ok_or_else(|| invalid(format!("template {} has no role {role}", template.id)))?;
        if let Some(ledger_role) = &spec.open_to {
            return Err(invalid(format!(
                "role {role} is open to every holder of ledger role {ledger_role}; no account \
                 is bound to it"
            )));
        }
        if !ctx.exists(&StateKey::Account(*account))? {
            return Err(ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("account {account} bound to role {role} is not registered"),
            ));
        }
        let bound = parties.entry(role.clone()).or_default();
        match bound.binary_search(account) {
            Ok(_) => {
                return Err(invalid(format!(
                    "account {account} is bound to role {role} twice"
                )));
            }
            Err(_) if bound.len() >= limits::MAX_ROLE_ACCOUNTS => {
                return Err(invalid(format!(
                    "role {role} may hold at most {} accounts",
                    limits::MAX_ROLE_ACCOUNTS
                )));
            }
            Err(at) => bound.insert(at, *account),
        }
    }
    if let Some((missing, _)) = template.roles.iter().find(|(role, spec)| {
        !spec.is_open() && !spec.optional && parties.get(*role).is_none_or(Vec::is_empty)
    }) {
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
        let value = parse_value(ctx, "parameter", name, *ty, text)?;
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
        takers: BTreeMap::new(),
    };
    let watched = watched_feeds(template, &instance);
    for feed in &watched {
        if !ctx.exists(&StateKey::Feed(feed.clone()))? {
            return Err(invalid(format!(
                "instance {} would watch feed {feed}, which does not exist",
                op.instance
            )));
        }
    }
    sync_watchers(ctx, &op.instance, &BTreeSet::new(), &watched)?;
    ctx.put(&key, &instance);
    let mut accounts = instance.bound_accounts();
    accounts.insert(ctx.signer);
    ctx.emit(
        "workflow.created",
        accounts.into_iter().collect(),
        vec![
            ("instance", op.instance.to_string()),
            ("template", instance.template.to_string()),
            ("version", instance.version.to_string()),
            ("state", instance.state.to_string()),
        ],
    );
    Ok(())
}

/// What a guard sees for a parameter or input.
fn guard_value(value: &ParamValue) -> Result<GuardValue, String> {
    Ok(match value {
        ParamValue::Int(i) => GuardValue::Int(*i),
        ParamValue::String(s) => GuardValue::Str(s.clone()),
        ParamValue::Account(a) => GuardValue::Str(a.to_string()),
        ParamValue::Bool(b) => GuardValue::Bool(*b),
        ParamValue::Amount(a) => GuardValue::amount(a.0).map_err(|e| e.to_string())?,
        ParamValue::Token(n)
        | ParamValue::Asset(n)
        | ParamValue::Document(n)
        | ParamValue::Instance(n) => GuardValue::Str(n.to_string()),
        ParamValue::Timestamp(t) => GuardValue::Timestamp(*t),
    })
}

/// One instance being moved by one transaction.
struct Run<'c> {
    id: &'c Name,
    c: &'c Compiled,
    instance: Instance,
    /// The transaction's signer: who takes the transitions (and triggers automatic ones).
    actor: AccountId,
    /// The inputs of the step being taken.
    args: BTreeMap<Name, ParamValue>,
    /// What the step's effects changed in the instance.
    changes: Vec<InstanceChange>,
    /// Why the ledger takes the next step by itself (`on_breach`), recorded in its history.
    cause: Option<StepCause>,
}

impl Run<'_> {
    fn template(&self) -> &Template {
        &self.c.template
    }

    /// Whether `who` holds `role`: bound to it, or holding the ledger role it is open to.
    fn holds(
        &self,
        ctx: &TxContext<'_, '_>,
        role: &Name,
        who: &AccountId,
    ) -> Result<bool, ExecError> {
        match self
            .template()
            .roles
            .get(role)
            .and_then(|r| r.open_to.as_ref())
        {
            Some(ledger_role) => Ok(ctx
                .get::<model::Account>(&StateKey::Account(*who))?
                .is_some_and(|a| a.roles.contains(ledger_role))),
            None => Ok(self.instance.is_bound(role, who)),
        }
    }

    fn holds_any(
        &self,
        ctx: &TxContext<'_, '_>,
        roles: &[Name],
        who: &AccountId,
    ) -> Result<bool, ExecError> {
        for role in roles {
            if self.holds(ctx, role, who)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The value of `$name`: an input of the step, else a parameter.
    fn value(&self, name: &Name) -> Result<&ParamValue, ExecError> {
        self.args
            .get(name)
            .or_else(|| self.instance.params.get(name))
            .ok_or_else(|| {
                ExecError::Fatal(format!(
                    "instance {} has no parameter or input {name}",
                    self.id
                ))
            })
    }

    fn account_value(&self, name: &Name) -> Result<AccountId, ExecError> {
        match self.value(name)? {
            ParamValue::Account(a) => Ok(*a),
            other => Err(invalid(format!("{name} is not an account: {other:?}"))),
        }
    }

    /// The account an effect means by `party`.
    fn party(&self, ctx: &TxContext<'_, '_>, party: &PartyRef) -> Result<AccountId, ExecError> {
        let role = match party {
            PartyRef::Account(name) => return self.account_value(name),
            PartyRef::Role(role) => role,
        };
        let actor = self.actor;
        if self.template().roles.get(role).is_some_and(|r| r.is_open()) {
            return if self.holds(ctx, role, &actor)? {
                Ok(actor)
            } else {
                Err(unauthorized(format!(
                    "role {role} is open: it stands for the account taking the transition, and \
                     {actor} does not hold it"
                )))
            };
        }
        match self.instance.parties.get(role).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            None | Some([]) => Err(invalid(format!(
                "role {role} of instance {} has no account",
                self.id
            ))),
            Some(many) if many.contains(&actor) => Ok(actor),
            Some(many) => Err(invalid(format!(
                "role {role} of instance {} has {} accounts and {actor} is none of them: which \
                 one is meant is ambiguous",
                self.id,
                many.len()
            ))),
        }
    }

    /// A name parameter or input (token, asset, document or text) as a name.
    fn value_name(&self, name: &Name) -> Result<Name, ExecError> {
        match self.value(name)? {
            ParamValue::Token(n) | ParamValue::Asset(n) | ParamValue::Document(n) => Ok(n.clone()),
            ParamValue::String(s) => {
                Name::new(s.as_str()).map_err(|_| invalid(format!("{name} (`{s}`) is not a name")))
            }
            other => Err(invalid(format!("{name} is not a name: {other:?}"))),
        }
    }

    fn name_ref(&self, r: &NameRef) -> Result<Name, ExecError> {
        match r {
            NameRef::Literal(n) => Ok(n.clone()),
            NameRef::Param(p) => self.value_name(p),
        }
    }

    fn amount(&self, r: &AmountRef) -> Result<u128, ExecError> {
        let amount = match r {
            AmountRef::Literal(n) => *n,
            AmountRef::Param(p) => match self.value(p)? {
                ParamValue::Amount(a) => a.0,
                ParamValue::Int(i) => u128::try_from(*i)
                    .map_err(|_| invalid(format!("{p} ({i}) is not a valid amount")))?,
                _ => return Err(invalid(format!("{p} is not an amount"))),
            },
        };
        if amount == 0 {
            return Err(invalid("amount must be positive"));
        }
        Ok(amount)
    }

    fn timestamp(&self, name: &Name) -> Result<u64, ExecError> {
        match self.value(name)? {
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

    /// The authority token effects act on: this instance, its template and its creator.
    fn via(&self) -> token::Via<'_> {
        token::Via::Instance {
            id: self.id,
            template: &self.instance.template,
            creator: self.instance.created_by,
        }
    }

    /// Every account events about the instance name: the bound ones and the actor.
    fn event_accounts(&self) -> Vec<AccountId> {
        let mut accounts = self.instance.bound_accounts();
        accounts.insert(self.actor);
        accounts.into_iter().collect()
    }

    /// The variables guard `guard` reads, for a step leaving the current state at `now`.
    fn guard_variables(
        &self,
        guard: &Guard,
        now: u64,
    ) -> Result<BTreeMap<String, GuardValue>, String> {
        let mut vars = BTreeMap::new();
        for (name, value) in self.instance.params.iter().chain(&self.args) {
            if guard.uses(name.as_str()) {
                vars.insert(name.to_string(), guard_value(value)?);
            }
        }
        if guard.uses("state") {
            vars.insert(
                "state".to_owned(),
                GuardValue::Str(self.instance.state.to_string()),
            );
        }
        if guard.uses("now") {
            vars.insert("now".to_owned(), GuardValue::Timestamp(now));
        }
        if guard.uses("count") {
            let counts = self
                .template()
                .transitions
                .iter()
                .map(|t| {
                    let n = self.instance.takers.get(&t.name).map_or(0, BTreeSet::len);
                    (
                        t.name.to_string(),
                        GuardValue::Int(i64::try_from(n).unwrap_or(i64::MAX)),
                    )
                })
                .collect();
            vars.insert("count".to_owned(), GuardValue::Map(counts));
        }
        if guard.uses("instance") {
            let parties = self
                .instance
                .parties
                .iter()
                .map(|(r, accounts)| {
                    let list = accounts.iter().map(|a| GuardValue::Str(a.to_string()));
                    (r.to_string(), GuardValue::List(list.collect()))
                })
                .collect();
            vars.insert(
                "instance".to_owned(),
                GuardValue::Map(BTreeMap::from([
                    ("id".to_owned(), GuardValue::Str(self.id.to_string())),
                    (
                        "template".to_owned(),
                        GuardValue::Str(self.instance.template.to_string()),
                    ),
                    (
                        "version".to_owned(),
                        GuardValue::Int(i64::from(self.instance.version)),
                    ),
                    ("parties".to_owned(), GuardValue::Map(parties)),
                ])),
            );
        }
        Ok(vars)
    }

    /// Evaluates transition `index`'s guard (true when it has none).
    fn guard(&self, index: usize, now: u64) -> Result<bool, String> {
        match self.c.guards.get(index).and_then(Option::as_ref) {
            None => Ok(true),
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(guard)) => guard
                .evaluate(&self.guard_variables(guard, now)?)
                .map_err(|e| e.to_string()),
        }
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

/// An active asset owned by one of the instance's parties (or the actor), who signed.
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
    // An asset on offer is locked for the market's buyer, also against workflow effects.
    super::market::require_unlocked(ctx, id)?;
    if asset.owner != run.actor && !run.instance.bound_accounts().contains(&asset.owner) {
        return Err(unauthorized(format!(
            "asset {id} is owned by {}, who is not a party of instance {}",
            asset.owner, run.id
        )));
    }
    require_signed(ctx, &asset.owner, &format!("it owns asset {id}"))?;
    Ok(asset)
}

#[allow(clippy::too_many_lines)] // one arm per effect kind reads best side by side
fn apply_effect(
    ctx: &mut TxContext<'_, '_>,
    run: &mut Run<'_>,
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
            let (from, to) = (run.party(ctx, from)?, run.party(ctx, to)?);
            let amount = run.amount(amount)?;
            load_token(ctx, &symbol)?;
            require_signed(ctx, &from, "the transfer debits it")?;
            token::debit_via(ctx, &symbol, &from, amount, run.via())?;
            token::credit_via(ctx, &symbol, &to, amount, run.via())?;
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
            let (holder, beneficiary) = (run.party(ctx, from)?, run.party(ctx, to)?);
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
            token::debit_via(ctx, &symbol, &holder, amount, run.via())?;
            token::require_may_receive(ctx, &symbol, &beneficiary)?;
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
            token::settle_hold(ctx, &hold_id, &hold, release, run.via())?;
        }
        Effect::Mint {
            token: t,
            to,
            amount,
        } => {
            let symbol = run.name_ref(t)?;
            let to = run.party(ctx, to)?;
            let amount = run.amount(amount)?;
            token::issue(ctx, &symbol, &to, amount, run.via())?;
        }
        Effect::Burn {
            token: t,
            from,
            amount,
        } => {
            let symbol = run.name_ref(t)?;
            let from = run.party(ctx, from)?;
            let amount = run.amount(amount)?;
            token::require_supply_authority(ctx, &symbol, run.via())?;
            require_signed(ctx, &from, "the burn debits it")?;
            token::retire(ctx, &symbol, &from, amount, run.via())?;
        }
        Effect::TransferAsset { asset, to } => {
            let id = run.value_name(&asset.0)?;
            let mut record = load_party_asset(ctx, run, &id)?;
            let to = run.party(ctx, to)?;
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
            let id = run.value_name(&asset.0)?;
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
            let id = run.value_name(&document.0)?;
            let doc = ctx
                .get::<model::Document>(&StateKey::Document(id.clone()))?
                .ok_or_else(|| not_found(format!("document {id} does not exist")))?;
            let version = doc
                .versions
                .last()
                .ok_or_else(|| invalid(format!("document {id} has no version")))?;
            for role in by {
                let mut signed = false;
                for (who, _) in &version.signatures {
                    if run.holds(ctx, role, who)? {
                        signed = true;
                        break;
                    }
                }
                if !signed {
                    return Err(invalid(format!(
                        "document {id} version {} is not signed by any account holding {role}",
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
        Effect::Set { param, value } => {
            let name = &param.0;
            let ty = *run.template().parameters.get(name).ok_or_else(|| {
                ExecError::Fatal(format!("template lacks parameter {name} it sets"))
            })?;
            let value = match value {
                ValueRef::Ref(r) => run.value(r)?.clone(),
                ValueRef::Literal(text) => parse_value(ctx, "parameter", name, ty, text)?,
            };
            if type_of(&value) != ty {
                return Err(invalid(format!(
                    "parameter {name} is a {ty}; {} is not",
                    value.to_text()
                )));
            }
            run.instance.params.insert(name.clone(), value.clone());
            run.changes.push(InstanceChange::Set {
                param: name.clone(),
                value,
            });
        }
        Effect::Add { param, value } => {
            let name = &param.0;
            let ty = *run.template().parameters.get(name).ok_or_else(|| {
                ExecError::Fatal(format!("template lacks parameter {name} it adds to"))
            })?;
            let addend = match value {
                ValueRef::Ref(r) => run.value(r)?.clone(),
                ValueRef::Literal(text) => parse_value(ctx, "parameter", name, ty, text)?,
            };
            let current = run.value(name)?.clone();
            let overflow = || {
                ExecError::tx(
                    ErrorCode::Overflow,
                    format!("adding {} to parameter {name} overflows", addend.to_text()),
                )
            };
            let sum = match (current, &addend) {
                (ParamValue::Amount(a), ParamValue::Amount(b)) => {
                    ParamValue::Amount(Amount(a.0.checked_add(b.0).ok_or_else(overflow)?))
                }
                (ParamValue::Int(a), ParamValue::Int(b)) => {
                    ParamValue::Int(a.checked_add(*b).ok_or_else(overflow)?)
                }
                (current, _) => {
                    return Err(invalid(format!(
                        "cannot add {} to parameter {name} ({})",
                        addend.to_text(),
                        current.to_text()
                    )));
                }
            };
            run.instance.params.insert(name.clone(), sum.clone());
            run.changes.push(InstanceChange::Set {
                param: name.clone(),
                value: sum,
            });
        }
        Effect::Grant { role, account } => {
            let account = run.party(ctx, account)?;
            if !ctx.exists(&StateKey::Account(account))? {
                return Err(ExecError::tx(
                    ErrorCode::UnknownAccount,
                    format!("account {account} is not registered"),
                ));
            }
            let bound = run.instance.parties.entry(role.clone()).or_default();
            match bound.binary_search(&account) {
                Ok(_) => {
                    return Err(ExecError::tx(
                        ErrorCode::AlreadyExists,
                        format!("{account} already holds role {role} in instance {}", run.id),
                    ));
                }
                Err(_) if bound.len() >= limits::MAX_ROLE_ACCOUNTS => {
                    return Err(invalid(format!(
                        "role {role} may hold at most {} accounts",
                        limits::MAX_ROLE_ACCOUNTS
                    )));
                }
                Err(at) => bound.insert(at, account),
            }
            run.changes.push(InstanceChange::Granted {
                role: role.clone(),
                account,
            });
            ctx.emit(
                "workflow.granted",
                vec![account, run.actor],
                vec![
                    ("instance", run.id.to_string()),
                    ("role", role.to_string()),
                    ("account", account.to_string()),
                    ("by", run.actor.to_string()),
                ],
            );
        }
        Effect::Revoke { role, account } => {
            let account = run.party(ctx, account)?;
            let optional = run.template().roles.get(role).is_some_and(|r| r.optional);
            let id = run.id;
            let bound = run.instance.parties.entry(role.clone()).or_default();
            let at = bound.binary_search(&account).map_err(|_| {
                not_found(format!(
                    "{account} does not hold role {role} in instance {id}"
                ))
            })?;
            if bound.len() == 1 && !optional {
                return Err(invalid(format!(
                    "role {role} must keep at least one account; grant it to another first"
                )));
            }
            bound.remove(at);
            run.changes.push(InstanceChange::Revoked {
                role: role.clone(),
                account,
            });
            ctx.emit(
                "workflow.revoked",
                vec![account, run.actor],
                vec![
                    ("instance", run.id.to_string()),
                    ("role", role.to_string()),
                    ("account", account.to_string()),
                    ("by", run.actor.to_string()),
                ],
            );
        }
        Effect::RequireRole { role, account } => {
            let account = run.party(ctx, account)?;
            if !run.holds(ctx, role, &account)? {
                return Err(unauthorized(format!(
                    "{account} does not hold role {role} in instance {}",
                    run.id
                )));
            }
        }
    }
    Ok(())
}

/// Applies transition `index`'s effects and records it: the state moves, the history grows.
fn take(
    ctx: &mut TxContext<'_, '_>,
    run: &mut Run<'_>,
    index: usize,
    approvals: Vec<AccountId>,
    automatic: bool,
) -> Result<(), ExecError> {
    let c = run.c;
    let t = &c.template.transitions[index];
    if run.instance.history.len() >= Instance::MAX_HISTORY {
        return Err(invalid(format!(
            "instance {} has taken {} transitions, the most it may",
            run.id,
            Instance::MAX_HISTORY
        )));
    }
    run.changes.clear();
    for effect in &t.effects {
        apply_effect(ctx, run, effect)?;
    }
    let from = std::mem::replace(&mut run.instance.state, t.to.clone());
    run.instance.history.push(HistoryEntry {
        transition: t.name.clone(),
        from: from.clone(),
        to: t.to.clone(),
        by: run.actor,
        approvals,
        height: ctx.height,
        timestamp_ms: ctx.timestamp_ms,
        args: std::mem::take(&mut run.args),
        automatic,
        changes: std::mem::take(&mut run.changes),
        cause: run.cause.clone(),
    });
    if !automatic {
        run.instance
            .takers
            .entry(t.name.clone())
            .or_default()
            .insert(run.actor);
    }
    let mut attributes = vec![
        ("instance", run.id.to_string()),
        ("transition", t.name.to_string()),
        ("from", from.to_string()),
        ("to", t.to.to_string()),
        ("by", run.actor.to_string()),
    ];
    if automatic {
        attributes.push(("automatic", "true".to_owned()));
    }
    if let Some(StepCause::Breach {
        feed, threshold, ..
    }) = run.cause.take()
    {
        attributes.push(("feed", feed.to_string()));
        attributes.push(("threshold", threshold.to_string()));
    }
    ctx.emit("workflow.transition", run.event_accounts(), attributes);
    Ok(())
}

/// Parses the inputs of a transition: every declared input exactly once, nothing else.
fn parse_args(
    ctx: &TxContext<'_, '_>,
    t: &crate::workflow::Transition,
    given: &[(Name, String)],
) -> Result<BTreeMap<Name, ParamValue>, ExecError> {
    if given.len() > limits::MAX_INPUTS {
        return Err(invalid(format!(
            "{} inputs given; a transition takes at most {}",
            given.len(),
            limits::MAX_INPUTS
        )));
    }
    let mut args = BTreeMap::new();
    for (name, text) in given {
        let ty = t
            .inputs
            .get(name)
            .ok_or_else(|| invalid(format!("transition {} has no input {name}", t.name)))?;
        let value = parse_value(ctx, "input", name, *ty, text)?;
        if args.insert(name.clone(), value).is_some() {
            return Err(invalid(format!("input {name} is given more than once")));
        }
    }
    if let Some(missing) = t.inputs.keys().find(|n| !args.contains_key(*n)) {
        return Err(invalid(format!(
            "input {missing} of transition {} is not given",
            t.name
        )));
    }
    Ok(args)
}

/// The approvals transition `t` needs, from the transaction's co-signers.
fn approvals(
    ctx: &TxContext<'_, '_>,
    run: &Run<'_>,
    t: &crate::workflow::Transition,
) -> Result<Vec<AccountId>, ExecError> {
    let signer = run.actor;
    match &t.approvals {
        None => Ok(Vec::new()),
        Some(Approvals::KOfN { k, of }) => {
            let mut approvers = Vec::new();
            for a in &ctx.signers {
                if *a != signer && run.holds_any(ctx, of, a)? {
                    approvers.push(*a);
                }
            }
            if approvers.len() < *k as usize {
                return Err(unauthorized(format!(
                    "transition {} needs {k} approval(s) by {} co-signing the transaction (the \
                     actor does not count); got {}",
                    t.name,
                    of.iter().map(Name::as_str).collect::<Vec<_>>().join(", "),
                    approvers.len()
                )));
            }
            Ok(approvers)
        }
        Some(Approvals::TwoHands {
            operator,
            controller,
        }) => {
            let mut operators = Vec::new();
            let mut controllers = Vec::new();
            for a in &ctx.signers {
                if run.holds(ctx, operator, a)? {
                    operators.push(*a);
                }
                if run.holds(ctx, controller, a)? {
                    controllers.push(*a);
                }
            }
            for o in &operators {
                if let Some(c) = controllers.iter().find(|c| *c != o) {
                    return Ok(vec![*o, *c]);
                }
            }
            Err(unauthorized(
                match (operators.first(), controllers.first()) {
                    (None, _) => format!(
                        "two-hands rule: an account holding {operator} must sign the transaction"
                    ),
                    (Some(_), None) => format!(
                        "two-hands rule: an account holding {controller} must sign the transaction"
                    ),
                    (Some(o), Some(_)) => format!(
                        "two-hands rule: {operator} and {controller} are the same account {o}; two \
                     different accounts are required"
                    ),
                },
            ))
        }
    }
}

pub(crate) fn transition(
    ctx: &mut TxContext<'_, '_>,
    op: &weft_types::Transition,
) -> Result<(), ExecError> {
    let key = StateKey::Instance(op.instance.clone());
    let instance = ctx
        .get::<Instance>(&key)?
        .ok_or_else(|| not_found(format!("instance {} does not exist", op.instance)))?;
    let c = load_compiled(ctx, &instance.template, instance.version)?.ok_or_else(|| {
        ExecError::Fatal(format!(
            "instance {} refers to missing template {} version {}",
            op.instance, instance.template, instance.version
        ))
    })?;
    let template = &c.template;
    let index = template
        .transitions
        .iter()
        .position(|t| t.name == op.transition)
        .ok_or_else(|| {
            not_found(format!(
                "template {} version {} has no transition {}",
                template.id, template.version, op.transition
            ))
        })?;
    let t = &template.transitions[index];
    if t.auto {
        return Err(invalid(format!(
            "transition {} is automatic: it fires by itself when its guard holds",
            t.name
        )));
    }
    if t.by.is_empty() && t.on_breach.is_some() {
        return Err(invalid(format!(
            "transition {} is taken by the ledger when its feed's threshold is breached",
            t.name
        )));
    }
    let from = instance.state.clone();
    if !t.from.contains(&from) {
        return Err(invalid(format!(
            "transition {} is not allowed from state {from}",
            t.name
        )));
    }
    let watched_before = watched_feeds(template, &instance);
    let mut run = Run {
        id: &op.instance,
        c: &c,
        instance,
        actor: ctx.signer,
        args: BTreeMap::new(),
        changes: Vec::new(),
        cause: None,
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
    if !expiry_exit && !run.holds_any(ctx, &t.by, &signer)? {
        return Err(unauthorized(format!(
            "transition {} is taken by {}; {signer} does not hold any of these roles",
            t.name,
            t.by.iter().map(Name::as_str).collect::<Vec<_>>().join(", ")
        )));
    }
    if t.once_per_account
        && run
            .instance
            .takers
            .get(&t.name)
            .is_some_and(|takers| takers.contains(&signer))
    {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!(
                "{signer} already took {} in instance {}; each account takes it once",
                t.name, op.instance
            ),
        ));
    }
    run.args = parse_args(ctx, t, &op.args)?;
    let approvals = approvals(ctx, &run, t)?;
    match run.guard(index, now) {
        Ok(true) => {}
        Ok(false) => {
            return Err(invalid(format!(
                "guard failed: `{}` is false for transition {}",
                t.guard.as_deref().unwrap_or_default(),
                t.name
            )));
        }
        Err(e) => return Err(invalid(format!("guard failed: {e}"))),
    }
    take(ctx, &mut run, index, approvals, false)?;
    run_auto(ctx, &mut run, now)?;
    let watched_after = watched_feeds(template, &run.instance);
    sync_watchers(ctx, &op.instance, &watched_before, &watched_after)?;
    ctx.put(&key, &run.instance);
    Ok(())
}

/// Automatic transitions: bounded, in declaration order, each guard seen after the step
/// before it (a guard that cannot be evaluated does not hold).
fn run_auto(ctx: &mut TxContext<'_, '_>, run: &mut Run<'_>, now: u64) -> Result<(), ExecError> {
    let c = run.c;
    if !c.has_auto {
        return Ok(());
    }
    for _ in 0..limits::MAX_AUTO_STEPS {
        let state = &run.instance.state;
        let next = c
            .template
            .transitions
            .iter()
            .enumerate()
            .position(|(i, a)| a.auto && a.from.contains(state) && run.guard(i, now) == Ok(true));
        match next {
            Some(i) => take(ctx, run, i, Vec::new(), true)?,
            None => break,
        }
    }
    Ok(())
}

// ---- breach-triggered transitions ----

/// The feed an `on_breach` names, read from the instance's parameters; `None` when the
/// parameter does not hold a feed id.
fn breach_feed(r: &NameRef, params: &BTreeMap<Name, ParamValue>) -> Option<Name> {
    match r {
        NameRef::Literal(n) => Some(n.clone()),
        NameRef::Param(p) => match params.get(p)? {
            ParamValue::String(s) => Name::new(s.as_str()).ok(),
            _ => None,
        },
    }
}

/// The feeds an instance watches: those its template's `on_breach` transitions name, as long
/// as the instance is not in a final state.
fn watched_feeds(template: &Template, instance: &Instance) -> BTreeSet<Name> {
    let finished = template
        .states
        .iter()
        .any(|s| s.is_final && s.name == instance.state);
    if finished {
        return BTreeSet::new();
    }
    template
        .transitions
        .iter()
        .filter_map(|t| t.on_breach.as_ref())
        .filter_map(|b| breach_feed(&b.feed, &instance.params))
        .collect()
}

/// Moves instance `id` from the watcher index of the feeds in `before` to those in `after`
/// (a `set` effect may change the feed parameter; a final state leaves every index).
fn sync_watchers(
    ctx: &mut TxContext<'_, '_>,
    id: &Name,
    before: &BTreeSet<Name>,
    after: &BTreeSet<Name>,
) -> Result<(), ExecError> {
    for feed in before.symmetric_difference(after) {
        let key = StateKey::FeedWatchers(feed.clone());
        let mut watchers: BTreeSet<Name> = ctx.get(&key)?.unwrap_or_default();
        if after.contains(feed) {
            if watchers.len() >= Feed::MAX_WATCHERS {
                return Err(invalid(format!(
                    "feed {feed} is watched by {} unfinished instances, the most allowed",
                    Feed::MAX_WATCHERS
                )));
            }
            watchers.insert(id.clone());
        } else {
            watchers.remove(id);
        }
        if watchers.is_empty() {
            ctx.delete(&key);
        } else {
            ctx.put(&key, &watchers);
        }
    }
    Ok(())
}

/// Room a breach's firings leave in the receipt for the rest of the transaction's events.
const BREACH_EVENT_RESERVE: usize = 16;

/// Takes, for a reading whose `cause` is the first breach of `threshold` on `feed`, the
/// `on_breach` transition of every instance watching the feed (in instance id order): the
/// first one in declaration order that names this feed and threshold and is allowed from the
/// instance's state. Its guard and effects apply, then the automatic transitions after it.
///
/// Each instance fires on its own: if its guard is false or its effects fail, its writes and
/// events are undone and `workflow.breach_failed` records why, but the reading stands. The
/// reading is the device's evidence; refusing it because one watching instance cannot move
/// would let any instance's state (a missing signature, a spent balance) silence the feed
/// and erase the breach for every other watcher. The instance keeps its state, and
/// `require_not_breached` still holds it back.
pub(crate) fn fire_on_breach(
    ctx: &mut TxContext<'_, '_>,
    feed: &Name,
    threshold: &Name,
    cause: &StepCause,
) -> Result<(), ExecError> {
    let Some(watchers) = ctx.get::<BTreeSet<Name>>(&StateKey::FeedWatchers(feed.clone()))? else {
        return Ok(());
    };
    let budget = weft_types::limits::MAX_EVENTS.saturating_sub(BREACH_EVENT_RESERVE);
    for id in &watchers {
        let instance = ctx
            .get::<Instance>(&StateKey::Instance(id.clone()))?
            .ok_or_else(|| {
                ExecError::Fatal(format!("feed {feed} is watched by missing instance {id}"))
            })?;
        let c = load_compiled(ctx, &instance.template, instance.version)?.ok_or_else(|| {
            ExecError::Fatal(format!(
                "instance {id} refers to missing template {} version {}",
                instance.template, instance.version
            ))
        })?;
        let Some(index) = c.template.transitions.iter().position(|t| {
            t.on_breach.as_ref().is_some_and(|b| {
                b.threshold == *threshold
                    && breach_feed(&b.feed, &instance.params).as_ref() == Some(feed)
            }) && t.from.contains(&instance.state)
        }) else {
            continue;
        };
        let saved = ctx.savepoint();
        let outcome = fire(ctx, id, &c, instance, index, cause).and_then(|()| {
            if ctx.event_count() > budget {
                Err(invalid("its events would not fit in the reading's receipt"))
            } else {
                Ok(())
            }
        });
        match outcome {
            Ok(()) => {}
            Err(ExecError::Tx(e)) => {
                ctx.rollback_to(saved);
                if ctx.event_count() < budget {
                    let instance_accounts = ctx
                        .get::<Instance>(&StateKey::Instance(id.clone()))?
                        .map(|i| i.bound_accounts().into_iter().collect())
                        .unwrap_or_default();
                    ctx.emit(
                        "workflow.breach_failed",
                        instance_accounts,
                        vec![
                            ("instance", id.to_string()),
                            ("transition", c.template.transitions[index].name.to_string()),
                            ("feed", feed.to_string()),
                            ("threshold", threshold.to_string()),
                            ("code", e.code.to_string()),
                            ("reason", e.message.clone()),
                        ],
                    );
                }
            }
            Err(fatal) => return Err(fatal),
        }
    }
    Ok(())
}

/// Takes `on_breach` transition `index` of instance `id` for the ledger.
fn fire(
    ctx: &mut TxContext<'_, '_>,
    id: &Name,
    c: &Compiled,
    instance: Instance,
    index: usize,
    cause: &StepCause,
) -> Result<(), ExecError> {
    let watched_before = watched_feeds(&c.template, &instance);
    let mut run = Run {
        id,
        c,
        instance,
        actor: ctx.signer,
        args: BTreeMap::new(),
        changes: Vec::new(),
        cause: Some(cause.clone()),
    };
    let now = ctx.timestamp_ms;
    let t = &c.template.transitions[index];
    match run.guard(index, now) {
        Ok(true) => {}
        Ok(false) => {
            return Err(invalid(format!(
                "guard failed: `{}` is false for transition {}",
                t.guard.as_deref().unwrap_or_default(),
                t.name
            )));
        }
        Err(e) => return Err(invalid(format!("guard failed: {e}"))),
    }
    take(ctx, &mut run, index, Vec::new(), true)?;
    run_auto(ctx, &mut run, now)?;
    let watched_after = watched_feeds(&c.template, &run.instance);
    sync_watchers(ctx, id, &watched_before, &watched_after)?;
    ctx.put(&StateKey::Instance(id.clone()), &run.instance);
    Ok(())
}
