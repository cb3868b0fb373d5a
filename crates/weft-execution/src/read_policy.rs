//! The read policy: who may read which record. The paper asks that "only authorized users
//! can join and read and write data", with access "per-record-per-user"; the REST API (and
//! so the CLI and explorer) asks this module before returning any state value, transaction
//! or event.
//!
//! - Permissions `read.*` (or the administrator's `*`) read everything: auditors, regulators.
//! - `read.<kind>` reads every record of one kind (`read.token`, `read.template`, …; the kinds
//!   are [`StateKey::kind`]).
//! - A client that did not sign in gets the permissions of the role named `public`, which
//!   is how the consortium declares what is public; a workflow instance whose template says
//!   `visibility: { public: true }` is public too.
//! - Otherwise the record decides: an account's record, nonce, balances, holdings and
//!   freezes are visible to that account and to members of its organization; a hold to its
//!   holder, beneficiary and arbiter (and, for a workflow escrow, to the instance's readers);
//!   a document to its owner and parties; a workflow instance to the accounts bound to the
//!   roles its template's `visibility` names (and its creator); the watchers of a feed (the
//!   instances a breach may move) to the feed's owner; a private record and its log to its
//!   controller, subject and grantees only (auditors hold `read.private`). Every other record (assets and their
//!   provenance, market and oracle records, DID records, the trusted-issuer registry, status
//!   lists and credential commitments) is visible to every member; the standard consortium
//!   makes DID records, the issuer registry and status lists public (`read.did`,
//!   `read.issuer`, `read.status-list`) so that any verifier can check a credential.
//!
//! Decisions read the current state (today's roles and bindings decide, also for historical
//! reads). Pure and deterministic like the rest of this crate, so every node answers alike.

use weft_types::{
    AccountId, Name,
    state::{StateReadError, StateReader},
};

use crate::{
    keys::StateKey,
    model::{Account, Document, Feed, Hold, Instance, Role, TemplateRecord},
};

/// The role whose permissions a client that did not sign in gets.
pub const PUBLIC_ROLE: &str = "public";

/// The record kinds a `read.<kind>` permission can name (see [`StateKey::kind`]), and
/// `transaction` (every transaction body and receipt).
pub const READ_KINDS: &[&str] = &[
    "meta",
    "organization",
    "role",
    "account",
    "nonce",
    "token",
    "balance",
    "holdings",
    "asset",
    "hold",
    "frozen",
    "document",
    "rfq",
    "market",
    "feed",
    "feed-watchers",
    "epcis",
    "template",
    "instance",
    "did",
    "issuer",
    "status-list",
    "commitment",
    "registry",
    "private",
    "transaction",
];

/// Whether `permission` is a read permission: `read.*`, `read.all` or `read.<kind>`.
pub fn is_read_permission(permission: &str) -> bool {
    permission
        .strip_prefix("read.")
        .is_some_and(|kind| kind == "*" || kind == "all" || READ_KINDS.contains(&kind))
}

/// Who is reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The member, or `None` for a client that did not sign in.
    pub member: Option<(AccountId, Name)>,
    roles: Vec<Role>,
}

/// The answer to "may this viewer read that?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadDecision {
    Allowed,
    /// Not for this viewer; the text says why (never what the record holds).
    Denied(String),
}

impl ReadDecision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }
}

fn get<T: borsh::BorshDeserialize>(
    state: &impl StateReader,
    key: &StateKey,
) -> Result<Option<T>, StateReadError> {
    match state.get(&key.to_bytes())? {
        // A record that does not decode is treated as absent: it grants nothing.
        Some(bytes) => Ok(borsh::from_slice(&bytes).ok()),
        None => Ok(None),
    }
}

fn role(state: &impl StateReader, name: &str) -> Result<Option<Role>, StateReadError> {
    match Name::new(name) {
        Ok(n) => get(state, &StateKey::Role(n)),
        Err(_) => Ok(None),
    }
}

impl Viewer {
    /// A client that did not sign in: the `public` role's permissions.
    pub fn anonymous(state: &impl StateReader) -> Result<Self, StateReadError> {
        Ok(Self {
            member: None,
            roles: role(state, PUBLIC_ROLE)?.into_iter().collect(),
        })
    }

    /// A registered member (with its roles, plus the `public` role's permissions); `None`
    /// when `account` is not registered.
    pub fn member(
        state: &impl StateReader,
        account: AccountId,
    ) -> Result<Option<Self>, StateReadError> {
        let Some(record) = get::<Account>(state, &StateKey::Account(account))? else {
            return Ok(None);
        };
        let mut roles: Vec<Role> = role(state, PUBLIC_ROLE)?.into_iter().collect();
        for name in &record.roles {
            if let Some(r) = get::<Role>(state, &StateKey::Role(name.clone()))? {
                roles.push(r);
            }
        }
        Ok(Some(Self {
            member: Some((account, record.organization)),
            roles,
        }))
    }

    /// The member's account, if signed in.
    pub fn account(&self) -> Option<AccountId> {
        self.member.as_ref().map(|(a, _)| *a)
    }

    /// Whether the viewer's roles grant `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.roles.iter().any(|r| r.grants(permission))
    }

    /// Reads everything (`read.*` or `*`).
    pub fn reads_all(&self) -> bool {
        self.can("read.all")
    }

    /// Whether `account` is the viewer or belongs to the viewer's organization.
    fn is_or_colleague_of(
        &self,
        state: &impl StateReader,
        account: &AccountId,
    ) -> Result<bool, StateReadError> {
        let Some((me, my_org)) = &self.member else {
            return Ok(false);
        };
        if me == account {
            return Ok(true);
        }
        Ok(get::<Account>(state, &StateKey::Account(*account))?
            .is_some_and(|a| a.organization == *my_org))
    }

    fn denied(&self, what: String) -> ReadDecision {
        if self.member.is_some() {
            ReadDecision::Denied(format!("{what} is not visible to this member"))
        } else {
            ReadDecision::Denied(format!(
                "{what} is not public; sign the request as a member"
            ))
        }
    }

    /// May this viewer read the record under `key`?
    pub fn may_read(
        &self,
        state: &impl StateReader,
        key: &StateKey,
    ) -> Result<ReadDecision, StateReadError> {
        if self.reads_all() || self.can(&format!("read.{}", key.kind())) {
            return Ok(ReadDecision::Allowed);
        }
        let allowed = match key {
            StateKey::Account(a)
            | StateKey::Nonce(a)
            | StateKey::Holdings(a)
            | StateKey::Balance(_, a)
            | StateKey::Frozen(_, a) => self.is_or_colleague_of(state, a)?,
            StateKey::Hold(id) => self.may_read_hold(state, id)?,
            StateKey::Document(_) => match get::<Document>(state, key)? {
                Some(d) => self
                    .account()
                    .is_some_and(|me| d.owner == me || d.parties.contains(&me)),
                // Absent: members learn it does not exist, like any other record.
                None => self.member.is_some(),
            },
            StateKey::Instance(id) => self.may_read_instance(state, id)?,
            // The index names instances, some of them private: only the feed's owner (whose
            // device's readings move them) and its organization read it.
            StateKey::FeedWatchers(feed) => {
                match get::<Feed>(state, &StateKey::Feed(feed.clone()))? {
                    Some(f) => self.is_or_colleague_of(state, &f.owner)?,
                    None => self.member.is_some(),
                }
            }
            // Per record and per user (UC-09, UC-31): the controller, the subject and the
            // grantees, never their colleagues; auditors through `read.private`.
            StateKey::PrivateRecord(id) | StateKey::PrivateLog(id, _) => {
                match crate::private::load(state, id)? {
                    Some(r) => self
                        .account()
                        .is_some_and(|me| r.is_party(&me) || r.grants.contains_key(&me)),
                    None => self.member.is_some(),
                }
            }
            _ => self.member.is_some(),
        };
        Ok(if allowed {
            ReadDecision::Allowed
        } else {
            self.denied(key.to_string())
        })
    }

    fn may_read_hold(&self, state: &impl StateReader, id: &Name) -> Result<bool, StateReadError> {
        let Some(hold) = get::<Hold>(state, &StateKey::Hold(id.clone()))? else {
            return Ok(self.member.is_some());
        };
        for party in [Some(hold.holder), Some(hold.beneficiary), hold.arbiter]
            .into_iter()
            .flatten()
        {
            if self.is_or_colleague_of(state, &party)? {
                return Ok(true);
            }
        }
        match &hold.controlled_by {
            Some(instance) => self.may_read_instance(state, instance),
            None => Ok(false),
        }
    }

    /// May this viewer read workflow instance `id` (its template's `visibility`)?
    pub fn may_read_instance(
        &self,
        state: &impl StateReader,
        id: &Name,
    ) -> Result<bool, StateReadError> {
        let Some(instance) = get::<Instance>(state, &StateKey::Instance(id.clone()))? else {
            return Ok(self.member.is_some());
        };
        let template = get::<TemplateRecord>(
            state,
            &StateKey::Template(instance.template.clone(), instance.version),
        )?;
        let Some(template) = template else {
            return Ok(false);
        };
        if template.template.visibility.public {
            return Ok(true);
        }
        let Some(me) = self.account() else {
            return Ok(false);
        };
        // Open roles (`open_to: <ledger role>`) are held through the reader's ledger roles.
        let ledger_roles = get::<Account>(state, &StateKey::Account(me))?
            .map(|a| a.roles)
            .unwrap_or_default();
        Ok(
            instance.created_by == me
                || instance.visible_to(&template.template, &me, &ledger_roles),
        )
    }

    /// May this viewer see a transaction signed by `signers` whose receipt's events name
    /// `concerned`? Its signers and the accounts it concerns (and their organizations) may.
    pub fn may_read_transaction<'a>(
        &self,
        state: &impl StateReader,
        signers: impl IntoIterator<Item = &'a AccountId>,
        concerned: impl IntoIterator<Item = &'a AccountId>,
    ) -> Result<bool, StateReadError> {
        if self.reads_all() || self.can("read.transaction") {
            return Ok(true);
        }
        for account in signers.into_iter().chain(concerned) {
            if self.is_or_colleague_of(state, account)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_kind_can_be_granted_for_reading() {
        let a = AccountId([1; 32]);
        let n = Name::new("x").unwrap();
        for key in [
            StateKey::Height,
            StateKey::Validators,
            StateKey::EpochLength,
            StateKey::Governance,
            StateKey::PendingValidators,
            StateKey::Organization(n.clone()),
            StateKey::Role(n.clone()),
            StateKey::Account(a),
            StateKey::Nonce(a),
            StateKey::Token(n.clone()),
            StateKey::Balance(n.clone(), a),
            StateKey::Holdings(a),
            StateKey::Asset(n.clone()),
            StateKey::Hold(n.clone()),
            StateKey::Frozen(n.clone(), a),
            StateKey::Document(n.clone()),
            StateKey::Rfq(n.clone()),
            StateKey::Market(n.clone()),
            StateKey::Feed(n.clone()),
            StateKey::FeedWatchers(n.clone()),
            StateKey::TokenMeters(n.clone()),
            StateKey::EpcisEvent(n.clone()),
            StateKey::Template(n.clone(), 1),
            StateKey::Instance(n.clone()),
            StateKey::Did(a),
            StateKey::Issuer(a),
            StateKey::StatusList(a, n.clone()),
            StateKey::Commitment(n.clone()),
            StateKey::PrivateRecord(n.clone()),
            StateKey::PrivateLog(n.clone(), 0),
        ] {
            assert!(READ_KINDS.contains(&key.kind()), "{key}");
            assert!(is_read_permission(&format!("read.{}", key.kind())));
        }
        assert!(is_read_permission("read.*"));
        assert!(!is_read_permission("read.secrets"));
        assert!(!is_read_permission("token.transfer"));
    }
}
