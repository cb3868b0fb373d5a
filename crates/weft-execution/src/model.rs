//! The records kept in state, with their canonical encoding and JSON views.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::{AccountId, Amount, Name};

/// A consortium member.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Organization {
    pub display_name: String,
    /// Height at which it was registered.
    pub registered_at: u64,
}

/// A registered account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Account {
    pub organization: Name,
    pub roles: BTreeSet<Name>,
    pub registered_at: u64,
}

/// A role: the permissions it grants (`token.transfer`, `token.*`, or `*`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Role {
    pub permissions: BTreeSet<String>,
}

impl Role {
    /// Whether this role grants `permission`.
    pub fn grants(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| {
            p == "*"
                || p == permission
                || p.strip_suffix(".*").is_some_and(|module| {
                    permission
                        .strip_prefix(module)
                        .is_some_and(|rest| rest.starts_with('.'))
                })
        })
    }

    /// Whether this role grants everything (an administrator role).
    pub fn is_admin(&self) -> bool {
        self.permissions.contains("*")
    }
}

/// A fungible token and its policies (fixed when it is defined).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Token {
    pub display_name: String,
    pub decimals: u8,
    pub issuer: AccountId,
    pub max_supply: Option<Amount>,
    /// Always equal to the sum of all balances of this token plus what is in escrow.
    pub supply: Amount,
    /// The workflow template (any version) whose instances, created by the issuer, alone
    /// change the supply and balances; `None` for a token moved by the token operations.
    #[serde(default)]
    pub controller: Option<Name>,
    /// The ledger role every account credited with the token must hold; `None` for anyone.
    #[serde(default)]
    pub holder_role: Option<Name>,
}

/// The validator set recorded in state.
pub type ValidatorSet = Vec<AccountId>;

/// Who approves changes of the validator set and of the governance itself: at least
/// `threshold` distinct accounts of `admins` must sign the transaction (signer or co-signer).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Governance {
    /// Sorted, distinct.
    pub admins: Vec<AccountId>,
    pub threshold: u32,
}

/// A validator set scheduled by `consensus.set_validators`: it replaces the active set after
/// the last block of the epoch before `effective_epoch`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PendingValidators {
    /// The complete new set; sorted, distinct.
    pub validators: Vec<AccountId>,
    /// The first epoch this set finalizes.
    pub effective_epoch: u64,
    /// Height of the block that scheduled it.
    pub proposed_at: u64,
}

/// Whether an asset can still change.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AssetStatus {
    Active,
    /// Final: no operation changes a retired asset again.
    Retired {
        at_height: u64,
        reason: String,
    },
}

/// A unique asset: exactly one owner, its attributes and its lineage.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Asset {
    pub class: Name,
    pub owner: AccountId,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub status: AssetStatus,
    /// Assets this one was split, merged or transformed from.
    pub parents: Vec<Name>,
    /// Assets split, merged or transformed from this one.
    pub children: Vec<Name>,
    pub registered_at: u64,
    pub updated_at: u64,
}

impl Asset {
    /// Whether the asset is still active (not retired).
    pub const fn is_active(&self) -> bool {
        matches!(self.status, AssetStatus::Active)
    }
}

/// Tokens in escrow: debited from the holder, counted in the token's supply, paid out to the
/// beneficiary on release or back to the holder on cancel.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Hold {
    pub holder: AccountId,
    pub symbol: Name,
    pub amount: Amount,
    pub beneficiary: AccountId,
    pub arbiter: Option<AccountId>,
    pub expires_at_height: Option<u64>,
    pub created_at: u64,
    /// The workflow instance whose transitions alone may release or cancel this hold;
    /// `None` for holds made directly with the token operations.
    pub controlled_by: Option<Name>,
}

/// One version of an anchored document and who signed it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DocumentVersion {
    pub hash: weft_types::Hash,
    pub uri: String,
    pub anchored_at: u64,
    /// Parties who signed this version, with the height of their signature, in signing order.
    pub signatures: Vec<(AccountId, u64)>,
}

/// An anchored document: its owner, parties and every version.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Document {
    pub owner: AccountId,
    pub media_type: String,
    pub parties: Vec<AccountId>,
    pub required_signatures: u8,
    pub versions: Vec<DocumentVersion>,
}

impl Document {
    /// Most versions a document keeps.
    pub const MAX_VERSIONS: usize = 256;
}

/// One accepted oracle reading.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Reading {
    /// Fixed point: `value × 10^-scale` of the feed's unit.
    pub value: i64,
    /// When the device observed it (Unix milliseconds, the device's clock).
    pub observed_at_ms: u64,
    /// The height of the block that recorded it.
    pub height: u64,
}

/// The excursion record of a threshold. Sticky: once a reading fell outside the range the
/// breach stays, whatever later readings say (a cold-chain excursion is not undone by
/// cooling down again); only more breaches update it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Breach {
    /// Height of the block that recorded the first breaching reading.
    pub first_height: u64,
    /// Device time of the first breaching reading.
    pub first_observed_at_ms: u64,
    /// How many accepted readings fell outside the range.
    pub count: u64,
    /// The latest breaching value and its device time.
    pub last_value: i64,
    pub last_observed_at_ms: u64,
}

/// A named inclusive range on a feed, in the feed's fixed-point units.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Threshold {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub set_at: u64,
    /// `Some` from the first reading outside the range on; never cleared.
    pub breach: Option<Breach>,
}

impl Threshold {
    /// Whether `value` lies outside the range.
    pub fn is_outside(&self, value: i64) -> bool {
        self.min.is_some_and(|min| value < min) || self.max.is_some_and(|max| value > max)
    }

    /// Whether a reading ever fell outside the range.
    pub const fn is_breached(&self) -> bool {
        self.breach.is_some()
    }
}

/// An oracle feed: a registered device key whose signed readings the ledger accepts in
/// strictly increasing time order, its recent readings and its thresholds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Feed {
    pub owner: AccountId,
    pub kind: Name,
    pub unit: String,
    pub scale: u8,
    /// The key that must sign every reading.
    pub device: AccountId,
    pub registered_at: u64,
    /// How many readings were accepted.
    pub count: u64,
    /// The latest accepted reading.
    pub last: Option<Reading>,
    /// The latest accepted readings, oldest first, at most [`Feed::WINDOW`].
    pub window: Vec<Reading>,
    pub thresholds: std::collections::BTreeMap<Name, Threshold>,
    /// For a meter that issues a token: what it issues, to whom, and how much so far.
    pub issues: Option<MeterIssuance>,
}

impl Feed {
    /// How many recent readings a feed keeps.
    pub const WINDOW: usize = 16;
    /// Most thresholds on one feed.
    pub const MAX_THRESHOLDS: usize = 16;
    /// Most unfinished workflow instances watching one feed: a breach moves each of them in
    /// the reading's transaction, so their number bounds that transaction's work.
    pub const MAX_WATCHERS: usize = 32;
}

/// A meter feed's issuance: its readings are cumulative counters in `token`'s smallest unit;
/// each accepted reading mints its increase over the previous one to `to`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MeterIssuance {
    pub token: Name,
    pub to: AccountId,
    /// Minted so far: the last counter minus the first (the first reading is the baseline).
    pub issued: Amount,
}

/// A captured EPCIS event, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct EpcisRecord {
    pub event: weft_types::CaptureEpcisEvent,
    pub recorder: AccountId,
    pub recorded_at: u64,
}

/// The ids of the EPCIS events that name one asset, oldest first: its provenance trail.
pub type EpcisTrail = Vec<Name>;

impl EpcisRecord {
    /// Most events one asset's trail keeps.
    pub const MAX_TRAIL: usize = 1024;
}

// ---- market: requests for quote, asset offers and double-auction markets ----

/// Where a request for quote stands.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RfqStatus {
    /// Takes quotes (or a buyer) until the deadline; may be settled until it is closed.
    Open,
    /// One quote was accepted and settled; other quotes wait in escrow for the close.
    Accepted { quote: Name, at_height: u64 },
    /// Final: every quote still in escrow was refunded, an offered asset unlocked.
    Closed { at_height: u64 },
    /// Final: the offered asset was sold to `buyer` and passed to it.
    Sold { buyer: AccountId, at_height: u64 },
}

/// What a request for quote trades.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RfqKind {
    /// The requester buys `want_quantity` of `want_symbol`; every quote escrows that delivery.
    Buy {
        want_symbol: Name,
        want_quantity: Amount,
    },
    /// The requester sells its unique asset at a fixed price; the asset is locked while the
    /// offer is open. Kept under the asset's id, so the lock is found from the asset.
    AssetOffer {
        asset: Name,
        /// What the buyer pays, fee included.
        price: Amount,
        /// Basis points of the price, rounded down, paid to `fee_account`.
        fee_bps: u16,
        fee_account: Option<AccountId>,
        /// The only account that may buy, if any.
        buyer: Option<AccountId>,
    },
}

/// A quote on a request: its price and the quoter's tokens in escrow.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RfqQuote {
    pub id: Name,
    pub quoter: AccountId,
    /// Pay-token units per unit of the wanted token.
    pub unit_price: Amount,
    /// Units of the wanted token in escrow: the request's quantity until settled or refunded,
    /// then zero.
    pub escrow: Amount,
    pub submitted_at: u64,
}

/// A request for quote (the requester buys tokens, paying in `pay_symbol`) or an asset offer
/// (the requester sells a unique asset for `pay_symbol`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Rfq {
    pub requester: AccountId,
    pub kind: RfqKind,
    pub pay_symbol: Name,
    pub deadline_height: u64,
    pub created_at: u64,
    pub status: RfqStatus,
    /// In submission order; always empty for an asset offer.
    pub quotes: Vec<RfqQuote>,
}

impl Rfq {
    /// Most quotes one request takes.
    pub const MAX_QUOTES: usize = 64;

    /// Units of `symbol` this request holds in escrow (counted in the token's supply).
    pub fn escrow_of(&self, symbol: &Name) -> u128 {
        match &self.kind {
            RfqKind::Buy { want_symbol, .. } if want_symbol == symbol => self
                .quotes
                .iter()
                .fold(0u128, |sum, q| sum.saturating_add(q.escrow.0)),
            _ => 0,
        }
    }

    /// Whether this is an open offer of `asset`, which keeps the asset locked.
    pub fn locks(&self, asset: &Name) -> bool {
        matches!(&self.kind, RfqKind::AssetOffer { asset: a, .. } if a == asset)
            && self.status == RfqStatus::Open
    }
}

/// An open order of a double-auction market.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MarketOrder {
    pub id: Name,
    pub owner: AccountId,
    pub side: weft_types::Side,
    /// Units of base still to trade.
    pub quantity: Amount,
    /// Quote units per unit of base.
    pub limit_price: Amount,
    pub placed_at: u64,
    /// In escrow for this order: `quantity` of base (sell) or `quantity * limit_price` of
    /// quote (buy).
    pub escrow: Amount,
}

/// A periodic double-auction market and its open orders.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Market {
    pub creator: AccountId,
    pub base: Name,
    pub quote: Name,
    pub interval_blocks: u64,
    pub opened_at: u64,
    /// Height of the last clearing (the opening height before the first).
    pub last_cleared_at: u64,
    /// Price of the last clearing that traded.
    pub last_price: Option<Amount>,
    /// Units of base traded over the market's life.
    pub traded_volume: Amount,
    /// Open orders in placement order.
    pub orders: Vec<MarketOrder>,
}

impl Market {
    /// Most open orders one market keeps; bounded so one clearing's fill events stay within
    /// a receipt's event limit.
    pub const MAX_ORDERS: usize = 250;

    /// Units of `symbol` this market holds in escrow (counted in the token's supply).
    pub fn escrow_of(&self, symbol: &Name) -> u128 {
        self.orders
            .iter()
            .filter(|o| match o.side {
                weft_types::Side::Sell => *symbol == self.base,
                weft_types::Side::Buy => *symbol == self.quote,
            })
            .fold(0u128, |sum, o| sum.saturating_add(o.escrow.0))
    }
}

// ---- workflow: deployed templates and their instances ----

/// A deployed template version: immutable once stored.
///
/// `source_hash` comes first in the encoding: the executor reads those 32 bytes to find its
/// compiled copy of the template without decoding the rest.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// SHA-256 of the source as deployed.
    pub source_hash: weft_types::Hash,
    pub template: crate::workflow::Template,
    pub deployer: AccountId,
    pub deployed_at: u64,
}

/// A typed instance parameter or transition input.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum ParamValue {
    Int(i64),
    String(String),
    Account(AccountId),
    Bool(bool),
    Amount(Amount),
    Token(Name),
    Asset(Name),
    Document(Name),
    /// Unix milliseconds.
    Timestamp(u64),
    /// The id of a workflow instance.
    Instance(Name),
}

impl ParamValue {
    /// The value in the text form instances and transitions are given it in.
    pub fn to_text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::String(s) => s.clone(),
            Self::Account(a) => a.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Amount(a) => a.0.to_string(),
            Self::Token(n) | Self::Asset(n) | Self::Document(n) | Self::Instance(n) => {
                n.to_string()
            }
            Self::Timestamp(t) => t.to_string(),
        }
    }
}

/// A change a transition's effects made to the instance itself.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum InstanceChange {
    /// `account` was bound to `role`.
    Granted { role: Name, account: AccountId },
    /// `account` was unbound from `role`.
    Revoked { role: Name, account: AccountId },
    /// Parameter `param` took `value`.
    Set { param: Name, value: ParamValue },
}

/// One step an instance took.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub transition: Name,
    pub from: Name,
    pub to: Name,
    /// The account that took the transition (the transaction's signer); for an automatic
    /// transition, the signer of the transaction whose transition triggered it.
    pub by: AccountId,
    /// The co-signers that counted as approvals (k-of-n) or as the two hands.
    pub approvals: Vec<AccountId>,
    pub height: u64,
    pub timestamp_ms: u64,
    /// The inputs given, parsed by their declared types.
    pub args: std::collections::BTreeMap<Name, ParamValue>,
    /// Fired by the ledger after another transition landed (`auto: true`).
    pub automatic: bool,
    /// Role grants and revocations and parameter changes, in effect order.
    pub changes: Vec<InstanceChange>,
    /// What made the ledger take the step, for a step no account took (`on_breach`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<StepCause>,
}

/// Why the ledger took a step by itself.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepCause {
    /// A reading of `feed` breached `threshold` for the first time.
    Breach {
        feed: Name,
        threshold: Name,
        value: i64,
        observed_at_ms: u64,
        /// The block that recorded the reading.
        height: u64,
    },
}

/// A running (or finished) instance of a template version.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Instance {
    pub template: Name,
    /// The version the instance started with; it keeps it for life.
    pub version: u32,
    /// Role → the accounts bound to it, sorted, each once. Every bound role of the template
    /// has an entry (empty for an optional role nobody holds yet); open roles have none.
    pub parties: std::collections::BTreeMap<Name, Vec<AccountId>>,
    pub params: std::collections::BTreeMap<Name, ParamValue>,
    /// The current state.
    pub state: Name,
    pub created_by: AccountId,
    pub created_at: u64,
    pub created_at_ms: u64,
    /// Every transition taken, oldest first, at most [`Instance::MAX_HISTORY`].
    pub history: Vec<HistoryEntry>,
    /// Transition → the distinct accounts that took it (what `count` in guards counts and
    /// `once_per_account` checks); automatic transitions have no takers.
    pub takers: std::collections::BTreeMap<Name, BTreeSet<AccountId>>,
}

impl Instance {
    /// Most transitions one instance takes.
    pub const MAX_HISTORY: usize = 1024;

    /// Whether `account` is bound to `role` (open roles bind nobody).
    pub fn is_bound(&self, role: &Name, account: &AccountId) -> bool {
        self.parties
            .get(role)
            .is_some_and(|accounts| accounts.binary_search(account).is_ok())
    }

    /// Every bound account once, sorted.
    pub fn bound_accounts(&self) -> BTreeSet<AccountId> {
        self.parties.values().flatten().copied().collect()
    }

    /// Whether `account`, holding the ledger roles `ledger_roles`, holds template role `role`
    /// in this instance: bound to it, or holding the ledger role an open role is open to.
    pub fn holds(
        &self,
        template: &crate::workflow::Template,
        role: &Name,
        account: &AccountId,
        ledger_roles: &BTreeSet<Name>,
    ) -> bool {
        match template.roles.get(role).and_then(|r| r.open_to.as_ref()) {
            Some(ledger_role) => ledger_roles.contains(ledger_role),
            None => self.is_bound(role, account),
        }
    }

    /// Whether the template's `visibility` lets `account` (holding `ledger_roles`) read this
    /// instance: it is public, or the account holds one of the roles it names.
    pub fn visible_to(
        &self,
        template: &crate::workflow::Template,
        account: &AccountId,
        ledger_roles: &BTreeSet<Name>,
    ) -> bool {
        template.visibility.public
            || template
                .visibility
                .roles
                .iter()
                .any(|role| self.holds(template, role, account, ledger_roles))
    }
}
