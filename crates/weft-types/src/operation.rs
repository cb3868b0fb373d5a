//! Operations: the instructions a transaction carries.
//!
//! Each operation has a stable one-byte tag in the canonical encoding and a permission name
//! checked against the signer's roles. New operations get new tags; tags are never reused.

use std::io::{self, Read, Write};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    did::{Did, DidUpdate, StatusPurpose},
    encoding::{DecodeError, check_len},
    ids::{AccountId, Amount, Hash, Name},
    limits::MAX_TEXT_BYTES,
    private::{
        AccessPrivateRecord, CreatePrivateRecord, GrantPrivateAccess, PurgePrivateRecord,
        RevokePrivateAccess, SetPrivateConsent,
    },
    registry::{
        BindName, EndorseBinding, MAX_REVOCATION_REASON_BYTES, RevokeBinding, RotateBinding,
    },
};

/// Raised inside borsh decoding when an operation tag is not known; surfaced as
/// [`DecodeError::UnknownOperation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation tag {0}")]
pub struct UnknownOperation(pub u8);

/// Registers a consortium member organization.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterOrganization {
    pub id: Name,
    pub display_name: String,
}

/// Registers an account (a public key) inside an organization, with initial roles.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterAccount {
    pub account: AccountId,
    pub organization: Name,
    pub roles: Vec<Name>,
}

/// Grants a role to an account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AssignRole {
    pub account: AccountId,
    pub role: Name,
}

/// Withdraws a role from an account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RevokeRole {
    pub account: AccountId,
    pub role: Name,
}

/// Defines a fungible token; the signer becomes its issuer. The policies (`controller`,
/// `holder_role`) are fixed here and never change afterwards.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DefineToken {
    pub symbol: Name,
    pub display_name: String,
    pub decimals: u8,
    /// Upper bound on total supply; `None` for no cap.
    pub max_supply: Option<Amount>,
    /// A workflow template id: when set, the token's supply and balances change only through
    /// the effects of instances of that template (any version) created by the issuer, never
    /// through token or market operations. The template must be deployed.
    #[serde(default)]
    pub controller: Option<Name>,
    /// A ledger role: when set, every account credited with the token must hold it at that
    /// moment (revoking it keeps the balance but blocks further credits).
    #[serde(default)]
    pub holder_role: Option<Name>,
}

/// Creates new units of a token; issuer only, and not for a token with a `controller`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Mint {
    pub symbol: Name,
    pub to: AccountId,
    pub amount: Amount,
}

/// Moves units from the signer to another account (not for a token with a `controller`;
/// `to` must hold the token's `holder_role`, if any).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transfer {
    pub symbol: Name,
    pub to: AccountId,
    pub amount: Amount,
}

/// Destroys units held by the signer (not for a token with a `controller`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Burn {
    pub symbol: Name,
    pub amount: Amount,
}

/// Free-form attributes of an asset or event: ordered, bounded key/value pairs.
pub type Attributes = Vec<(String, String)>;

/// Most attributes on one asset or in one update.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute key, in bytes.
pub const MAX_ATTRIBUTE_KEY_BYTES: usize = 64;
/// Most inputs or outputs of a split, merge or transformation; most legs of a multi-transfer.
pub const MAX_FAN: usize = 64;
/// Most parties of a document.
pub const MAX_PARTIES: usize = 32;

/// Checks an attribute list's counts and lengths.
pub(crate) fn check_attributes(what: &str, attributes: &Attributes) -> Result<(), DecodeError> {
    check_len(what, attributes.len(), MAX_ATTRIBUTES)?;
    for (k, v) in attributes {
        check_len("attribute key", k.len(), MAX_ATTRIBUTE_KEY_BYTES)?;
        check_len("attribute value", v.len(), MAX_TEXT_BYTES)?;
    }
    Ok(())
}

// ---- token: escrow, freeze, atomic multi-leg transfers ----

/// Moves `amount` of the signer's tokens into escrow under `id`, payable to `beneficiary`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Hold {
    pub id: Name,
    pub symbol: Name,
    pub amount: Amount,
    pub beneficiary: AccountId,
    /// May release or cancel the hold besides the parties.
    pub arbiter: Option<AccountId>,
    /// After this height the holder may cancel on its own.
    pub expires_at_height: Option<u64>,
}

/// Pays a hold to its beneficiary (by the holder or the arbiter).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ReleaseHold {
    pub id: Name,
}

/// Returns a hold to its holder (by the beneficiary or the arbiter; by the holder once expired).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CancelHold {
    pub id: Name,
}

/// Stops (or allows again) an account from sending or receiving a token; issuer only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetFrozen {
    pub symbol: Name,
    pub account: AccountId,
    pub frozen: bool,
}

/// One leg of a [`MultiTransfer`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TransferLeg {
    pub symbol: Name,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
}

/// Several transfers that all happen or none does; every `from` must sign the transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MultiTransfer {
    pub legs: Vec<TransferLeg>,
}

// ---- document: anchored hashes, versions, co-signatures ----

/// Anchors a document's hash (its payload stays off-ledger); the signer owns the record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AnchorDocument {
    pub id: Name,
    /// SHA-256 of the document's bytes (or of its salted commitment).
    pub hash: Hash,
    pub media_type: String,
    /// Where authorized parties fetch the payload; not interpreted by the ledger.
    pub uri: String,
    /// Accounts whose signatures the document collects.
    pub parties: Vec<AccountId>,
    /// How many distinct parties must sign a version for it to be complete.
    pub required_signatures: u8,
}

/// Records a new version of an anchored document (owner only); signatures start over.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AmendDocument {
    pub id: Name,
    pub hash: Hash,
    pub uri: String,
}

/// A party's signature on one version; `hash` must match it, so no one signs a stale text.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignDocument {
    pub id: Name,
    pub version: u32,
    pub hash: Hash,
}

// ---- asset: unique assets with lineage ----

/// An asset created by a split, merge or transformation; owned by the signer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NewAsset {
    pub id: Name,
    pub class: Name,
    pub attributes: Attributes,
}

/// Registers a unique asset and names its first owner.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterAsset {
    pub id: Name,
    pub class: Name,
    pub owner: AccountId,
    pub attributes: Attributes,
}

/// Hands an asset from its owner (the signer) to another account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TransferAsset {
    pub id: Name,
    pub to: AccountId,
}

/// Retires one asset and creates at least two parts from it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SplitAsset {
    pub id: Name,
    pub parts: Vec<NewAsset>,
}

/// Retires at least two distinct assets and creates one from them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MergeAssets {
    pub inputs: Vec<Name>,
    pub output: NewAsset,
}

/// A transformation in the EPCIS sense (e.g. a batch into packs): retires the inputs and
/// creates the outputs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TransformAssets {
    pub inputs: Vec<Name>,
    pub outputs: Vec<NewAsset>,
    /// What was done, e.g. `packing`; recorded in the inputs' retirement reason.
    pub process: String,
}

/// Sets and removes attributes of an asset (owner only).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetAssetAttributes {
    pub id: Name,
    pub set: Attributes,
    pub remove: Vec<String>,
}

/// Retires an asset for good (owner only).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RetireAsset {
    pub id: Name,
    pub reason: String,
}

// ---- supply chain: GS1 EPCIS 2.0-shaped events ----

/// EPCIS `action`: what the event does to the objects' lifecycle.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum EpcisAction {
    Add,
    Observe,
    Delete,
}

/// The EPCIS event types Weft records; object ids are Weft asset ids.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EpcisKind {
    /// Something happened to objects (commissioned, shipped, received, dispensed...).
    ObjectEvent {
        action: EpcisAction,
        epc_list: Vec<Name>,
    },
    /// Objects were packed into (ADD) or unpacked from (DELETE) a parent, or observed inside it.
    AggregationEvent {
        action: EpcisAction,
        parent_id: Name,
        child_epcs: Vec<Name>,
    },
    /// Inputs were consumed to make outputs (e.g. bulk vaccine filled into vials).
    TransformationEvent {
        transformation_id: Option<Name>,
        input_epc_list: Vec<Name>,
        output_epc_list: Vec<Name>,
    },
}

/// One sensor measurement attached to an event, in integer fixed point (`value × 10^-scale`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SensorReport {
    /// e.g. `gs1:Temperature`.
    pub kind: String,
    pub value: i64,
    pub scale: u8,
    pub uom: String,
}

/// Captures one EPCIS 2.0 event: what (kind and objects), when (`event_time_ms`, offset),
/// where (`read_point`, `biz_location`) and why (`biz_step`, `disposition`, transactions).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CaptureEpcisEvent {
    pub event_id: Name,
    pub kind: EpcisKind,
    pub event_time_ms: u64,
    /// e.g. `+01:00`.
    pub event_time_zone_offset: String,
    /// CBV business step, e.g. `shipping`, `receiving`, `dispensing`.
    pub biz_step: String,
    /// CBV disposition, e.g. `in_transit`, `in_progress`, `expired`.
    pub disposition: String,
    /// Where it happened, e.g. an SGLN URN.
    pub read_point: String,
    /// Where the objects are afterwards.
    pub biz_location: String,
    /// (type, id) of business transactions, e.g. (`po`, `urn:...`).
    pub biz_transactions: Vec<(String, String)>,
    pub sensor_reports: Vec<SensorReport>,
}

impl CaptureEpcisEvent {
    fn check_limits(&self) -> Result<(), DecodeError> {
        let objects = match &self.kind {
            EpcisKind::ObjectEvent { epc_list, .. } => epc_list.len(),
            EpcisKind::AggregationEvent { child_epcs, .. } => child_epcs.len() + 1,
            EpcisKind::TransformationEvent {
                input_epc_list,
                output_epc_list,
                ..
            } => input_epc_list.len() + output_epc_list.len(),
        };
        check_len("epcs", objects, MAX_FAN * 2)?;
        for text in [
            &self.event_time_zone_offset,
            &self.biz_step,
            &self.disposition,
            &self.read_point,
            &self.biz_location,
        ] {
            check_len("epcis field", text.len(), MAX_TEXT_BYTES)?;
        }
        check_len("biz_transactions", self.biz_transactions.len(), 16)?;
        check_len("sensor_reports", self.sensor_reports.len(), 16)?;
        for (t, id) in &self.biz_transactions {
            check_len("biz_transaction", t.len() + id.len(), MAX_TEXT_BYTES)?;
        }
        for r in &self.sensor_reports {
            check_len("sensor report", r.kind.len() + r.uom.len(), MAX_TEXT_BYTES)?;
        }
        Ok(())
    }
}

// ---- oracle: registered device feeds, signed readings, thresholds ----

/// Largest fixed-point exponent of a feed: a reading means `value × 10^-scale`, and an i64
/// holds at most 18 decimal digits.
pub const MAX_FEED_SCALE: u8 = 18;

/// Registers a data feed (a sensor or meter); the signer becomes its owner.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterFeed {
    pub id: Name,
    /// What is measured, e.g. `temperature`, `energy-produced`.
    pub kind: Name,
    /// Unit of the scaled value, e.g. `Cel`, `kWh`.
    pub unit: String,
    /// Fixed-point exponent: value 25 with scale 1 means 2.5 `unit`.
    pub scale: u8,
    /// The device's Ed25519 key: every reading must carry its signature. It need not be a
    /// registered account (a gateway account can submit what the device signed).
    pub device: AccountId,
    /// Makes the feed a meter that issues a token: its readings are cumulative counters in
    /// the token's smallest unit, and each accepted reading mints the increase to `to`.
    /// Only the token's issuer registers such a feed; the token can then no longer be
    /// minted directly. JSON clients may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<FeedIssuance>,
}

/// What a meter feed issues: `token`, credited to `to`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct FeedIssuance {
    pub token: Name,
    pub to: AccountId,
}

/// A reading of a feed, signed by the feed's device (as signer or co-signer).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PostReading {
    pub feed: Name,
    /// Fixed point, in units of `10^-scale` of the feed's unit.
    pub value: i64,
    /// When the device observed the value (Unix milliseconds); strictly increasing per feed.
    pub observed_at_ms: u64,
}

/// Sets a named range on a feed (owner only); readings outside it record a breach.
/// Bounds are inclusive and in the feed's fixed-point units; `None` is unbounded.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetThreshold {
    pub feed: Name,
    pub name: Name,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// Removes a threshold that never breached (owner only).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RemoveThreshold {
    pub feed: Name,
    pub name: Name,
}

impl RegisterFeed {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("unit", self.unit.len(), MAX_TEXT_BYTES)?;
        if self.scale > MAX_FEED_SCALE {
            return Err(DecodeError::LimitExceeded(format!(
                "scale: {} > {MAX_FEED_SCALE}",
                self.scale
            )));
        }
        Ok(())
    }
}

// ---- market: request for quote, periodic double auction, DvP settlement ----

/// Asks for quotes: the signer wants to buy `want_quantity` units of `want_symbol` and pays in
/// `pay_symbol`. Quotes are accepted while the height is at most `deadline_height`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RequestQuote {
    pub id: Name,
    pub want_symbol: Name,
    pub want_quantity: Amount,
    pub pay_symbol: Name,
    pub deadline_height: u64,
}

/// Quotes a price per unit for an open request; escrows the quoter's `want_quantity` of the
/// wanted token until the quote is accepted or the request closes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SubmitQuote {
    pub rfq: Name,
    pub quote: Name,
    /// Amount of the request's `pay_symbol` per unit of its `want_symbol`.
    pub unit_price: Amount,
}

/// The requester accepts one quote: delivery (from escrow) and payment settle atomically.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AcceptQuote {
    pub rfq: Name,
    pub quote: Name,
}

/// Closes a request and refunds every quote still in escrow (by the requester at any time,
/// by anyone after the deadline).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CloseRfq {
    pub rfq: Name,
}

/// Opens a periodic double-auction market trading `base` against `quote`, cleared at most
/// once every `interval_blocks` blocks.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct OpenMarket {
    pub id: Name,
    pub base: Name,
    pub quote: Name,
    pub interval_blocks: u64,
}

/// Which side of a market an order is on.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buys base, pays quote; escrows `quantity * limit_price` of quote.
    Buy,
    /// Sells base, receives quote; escrows `quantity` of base.
    Sell,
}

/// Places a limit order for the next clearing; escrows what it may have to deliver.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PlaceOrder {
    pub market: Name,
    pub order: Name,
    pub side: Side,
    /// Units of base.
    pub quantity: Amount,
    /// Quote units per unit of base: the most a buyer pays, the least a seller accepts.
    pub limit_price: Amount,
}

/// Withdraws an open order (owner only) and refunds its escrow.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CancelOrder {
    pub market: Name,
    pub order: Name,
}

/// Runs one uniform-price clearing of a market and settles every fill.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ClearMarket {
    pub market: Name,
}

/// Largest marketplace fee: 10 000 basis points, the whole price.
pub const MAX_FEE_BPS: u16 = 10_000;

/// Offers a unique asset the signer owns for sale at a fixed `price` of `pay_symbol`. The
/// offer is the request for quote `rfq/<asset>`: while it is open the asset stays the
/// seller's but is locked (no transfer, split, merge, transformation, update or retirement);
/// `BuyAsset` settles it, `CloseRfq` withdraws it (by the seller at any time, by anyone after
/// the deadline) and releases the lock.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct OfferAsset {
    pub asset: Name,
    pub pay_symbol: Name,
    /// What the buyer pays, fee included.
    pub price: Amount,
    /// Marketplace fee in basis points of the price (at most [`MAX_FEE_BPS`]), rounded down,
    /// paid to `fee_account` out of the price at settlement.
    pub fee_bps: u16,
    /// Required when `fee_bps` is positive.
    pub fee_account: Option<AccountId>,
    /// Only this account may buy (a negotiated swap); `None` lets any member buy.
    pub buyer: Option<AccountId>,
    /// The offer can be bought while the height is at most this.
    pub deadline_height: u64,
}

/// Buys an open asset offer: the signer pays `price` (which must be the offer's price, so a
/// withdrawn and re-priced offer cannot take more than the buyer agreed to), the seller gets
/// the price less the fee, the fee account gets the fee, and the asset passes to the signer,
/// all in one step.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BuyAsset {
    pub asset: Name,
    pub price: Amount,
}

// ---- workflow: templates deployed on chain and their instances ----

/// Most bytes of template source a [`DeployTemplate`] carries.
pub const MAX_TEMPLATE_SOURCE_BYTES: usize = 64 * 1024;
/// Most role bindings or parameters given to a [`CreateInstance`].
pub const MAX_INSTANCE_BINDINGS: usize = 64;

/// Deploys a workflow template from its YAML (or JSON) source; it is parsed and validated
/// on chain and stored under its id and version.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DeployTemplate {
    pub source: String,
}

/// Starts an instance of a deployed template version: binds one account to every role and
/// gives every parameter a value (as text, parsed by its declared type).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CreateInstance {
    pub instance: Name,
    pub template: Name,
    pub version: u32,
    pub parties: Vec<(Name, AccountId)>,
    pub params: Vec<(Name, String)>,
}

/// Takes a transition of an instance; co-signers of the transaction count as approvals.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transition {
    pub instance: Name,
    pub transition: Name,
    /// The transition's declared inputs, as text parsed by their declared types (at most
    /// [`Transition::MAX_ARGS`]).
    #[serde(default)]
    pub args: Vec<(Name, String)>,
}

impl Transition {
    /// Most inputs one transition carries.
    pub const MAX_ARGS: usize = 16;
}

// ---- credentials: did:weft updates, trusted issuers, status lists, commitments ----

/// Most updates in one [`UpdateDid`] batch.
pub const MAX_DID_UPDATES: usize = 16;
/// Most credential types an issuer is registered for (none means every type).
pub const MAX_ISSUER_CREDENTIAL_TYPES: usize = 8;
/// Longest credential type name, in bytes.
pub const MAX_CREDENTIAL_TYPE_BYTES: usize = 128;
/// Longest service type in a DID update, in bytes.
pub const MAX_DID_SERVICE_TYPE_BYTES: usize = 64;
/// Longest service endpoint in a DID update, in bytes.
pub const MAX_DID_SERVICE_ENDPOINT_BYTES: usize = 512;

/// Changes a `did:weft` record: a batch of updates applied atomically. Authorized by the DID
/// record itself: one of the transaction's signatures (signer or co-signer) must be by a
/// current authentication key of the DID or of one of its controllers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UpdateDid {
    pub did: Did,
    pub updates: Vec<DidUpdate>,
}

/// Adds a DID to the trusted-issuer registry, for some credential types or (empty) all.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterIssuer {
    pub did: Did,
    pub credential_types: Vec<String>,
}

/// Removes a DID from the trusted-issuer registry.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RemoveIssuer {
    pub did: Did,
}

/// Publishes a W3C Bitstring Status List of `entries` clear bits under the signer's name.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CreateStatusList {
    pub name: Name,
    pub purpose: StatusPurpose,
    pub entries: u32,
}

/// Sets or clears one status bit of one of the signer's lists; a revocation bit, once set,
/// cannot be cleared.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetCredentialStatus {
    pub list: Name,
    pub index: u64,
    pub value: bool,
}

/// Publishes a salted-hash commitment to one attribute of personal data the signer has
/// verified (UC-27); the data and the salt stay off the ledger.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PublishCommitment {
    pub id: Name,
    pub commitment: Hash,
    /// The attribute's name (e.g. `birth_date`), never its value.
    pub attribute: String,
}

/// Withdraws a commitment the signer published; the record stays, marked withdrawn, so the
/// id cannot be reused for another value.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct WithdrawCommitment {
    pub id: Name,
}

impl UpdateDid {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("updates", self.updates.len(), MAX_DID_UPDATES)?;
        for update in &self.updates {
            if let DidUpdate::AddService { service } = update {
                check_len(
                    "service type",
                    service.service_type.len(),
                    MAX_DID_SERVICE_TYPE_BYTES,
                )?;
                check_len(
                    "service endpoint",
                    service.endpoint.len(),
                    MAX_DID_SERVICE_ENDPOINT_BYTES,
                )?;
            }
        }
        Ok(())
    }
}

impl RegisterIssuer {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len(
            "credential_types",
            self.credential_types.len(),
            MAX_ISSUER_CREDENTIAL_TYPES,
        )?;
        for t in &self.credential_types {
            check_len("credential type", t.len(), MAX_CREDENTIAL_TYPE_BYTES)?;
        }
        Ok(())
    }
}

// ---- consensus: validator set and its governance ----

/// Most admins of the consensus governance.
pub const MAX_GOVERNANCE_ADMINS: usize = 64;

/// Schedules a new validator set (the complete set, not a delta). It takes effect after the
/// last block of the current epoch. Needs the governance's threshold of distinct admins
/// among the transaction's signers (signer and co-signers).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetValidators {
    pub validators: Vec<AccountId>,
}

/// Replaces the consensus governance (who approves validator-set changes, and how many must),
/// at once. Needs the threshold of the current governance's admins among the signers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetGovernance {
    pub admins: Vec<AccountId>,
    pub threshold: u32,
}

macro_rules! operations {
    ($( $tag:literal => $variant:ident($ty:ident), $perm:literal; )*) => {
        /// One instruction of a transaction.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Operation {
            $( #[doc = concat!("See [`", stringify!($ty), "`].")] $variant($ty), )*
        }

        impl Operation {
            /// The stable encoding tag.
            pub const fn tag(&self) -> u8 {
                match self { $( Self::$variant(_) => $tag, )* }
            }
            /// The permission a signer's roles must grant to run this operation.
            pub const fn permission(&self) -> &'static str {
                match self { $( Self::$variant(_) => $perm, )* }
            }
            /// Every permission name an operation can require, for role definitions.
            pub const ALL_PERMISSIONS: &'static [&'static str] = &[$($perm),*];
            /// Every operation's variant name (its JSON `type` is the snake_case form).
            pub const VARIANT_NAMES: &'static [&'static str] = &[$(stringify!($variant)),*];
        }

        impl BorshSerialize for Operation {
            fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
                BorshSerialize::serialize(&self.tag(), writer)?;
                match self { $( Self::$variant(op) => BorshSerialize::serialize(op, writer), )* }
            }
        }

        impl BorshDeserialize for Operation {
            fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
                let tag = u8::deserialize_reader(reader)?;
                match tag {
                    $( $tag => Ok(Self::$variant($ty::deserialize_reader(reader)?)), )*
                    other => Err(io::Error::new(io::ErrorKind::InvalidData, UnknownOperation(other))),
                }
            }
        }
    };
}

operations! {
    1 => RegisterOrganization(RegisterOrganization), "identity.register_organization";
    2 => RegisterAccount(RegisterAccount), "identity.register_account";
    3 => AssignRole(AssignRole), "access.assign_role";
    4 => RevokeRole(RevokeRole), "access.revoke_role";
    10 => DefineToken(DefineToken), "token.define";
    11 => Mint(Mint), "token.mint";
    12 => Transfer(Transfer), "token.transfer";
    13 => Burn(Burn), "token.burn";
    14 => Hold(Hold), "token.hold";
    15 => ReleaseHold(ReleaseHold), "token.release";
    16 => CancelHold(CancelHold), "token.cancel";
    17 => SetFrozen(SetFrozen), "token.freeze";
    18 => MultiTransfer(MultiTransfer), "token.transfer";
    20 => RegisterAsset(RegisterAsset), "asset.register";
    21 => TransferAsset(TransferAsset), "asset.transfer";
    22 => SplitAsset(SplitAsset), "asset.split";
    23 => MergeAssets(MergeAssets), "asset.merge";
    24 => TransformAssets(TransformAssets), "asset.transform";
    25 => SetAssetAttributes(SetAssetAttributes), "asset.update";
    26 => RetireAsset(RetireAsset), "asset.retire";
    30 => AnchorDocument(AnchorDocument), "document.anchor";
    31 => AmendDocument(AmendDocument), "document.amend";
    32 => SignDocument(SignDocument), "document.sign";
    40 => RegisterFeed(RegisterFeed), "oracle.register";
    41 => PostReading(PostReading), "oracle.post";
    42 => SetThreshold(SetThreshold), "oracle.threshold";
    43 => RemoveThreshold(RemoveThreshold), "oracle.threshold";
    50 => RequestQuote(RequestQuote), "market.rfq";
    51 => SubmitQuote(SubmitQuote), "market.quote";
    52 => AcceptQuote(AcceptQuote), "market.accept";
    53 => CloseRfq(CloseRfq), "market.cancel";
    54 => OpenMarket(OpenMarket), "market.open";
    55 => PlaceOrder(PlaceOrder), "market.order";
    56 => CancelOrder(CancelOrder), "market.cancel";
    57 => ClearMarket(ClearMarket), "market.clear";
    58 => OfferAsset(OfferAsset), "market.offer";
    59 => BuyAsset(BuyAsset), "market.accept";
    60 => CaptureEpcisEvent(CaptureEpcisEvent), "epcis.capture";
    70 => DeployTemplate(DeployTemplate), "workflow.deploy";
    71 => CreateInstance(CreateInstance), "workflow.create";
    72 => Transition(Transition), "workflow.transition";
    80 => UpdateDid(UpdateDid), "identity.did_update";
    81 => RegisterIssuer(RegisterIssuer), "credential.register_issuer";
    82 => RemoveIssuer(RemoveIssuer), "credential.remove_issuer";
    83 => CreateStatusList(CreateStatusList), "credential.status";
    84 => SetCredentialStatus(SetCredentialStatus), "credential.status";
    85 => PublishCommitment(PublishCommitment), "credential.commit";
    86 => WithdrawCommitment(WithdrawCommitment), "credential.commit";
    90 => BindName(BindName), "registry.bind";
    91 => EndorseBinding(EndorseBinding), "registry.endorse";
    92 => RotateBinding(RotateBinding), "registry.bind";
    93 => RevokeBinding(RevokeBinding), "registry.revoke";
    100 => CreatePrivateRecord(CreatePrivateRecord), "private.create";
    101 => GrantPrivateAccess(GrantPrivateAccess), "private.grant";
    102 => RevokePrivateAccess(RevokePrivateAccess), "private.grant";
    103 => SetPrivateConsent(SetPrivateConsent), "private.consent";
    104 => AccessPrivateRecord(AccessPrivateRecord), "private.access";
    105 => PurgePrivateRecord(PurgePrivateRecord), "private.purge";
    110 => SetValidators(SetValidators), "consensus.set_validators";
    111 => SetGovernance(SetGovernance), "consensus.set_governance";
}

impl Operation {
    /// The JSON `type` of every operation, e.g. `multi_transfer`.
    pub fn type_names() -> Vec<String> {
        Self::VARIANT_NAMES
            .iter()
            .map(|camel| {
                let mut snake = String::new();
                for (i, c) in camel.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                }
                snake
            })
            .collect()
    }

    /// Checks the free-form lengths inside the operation (names are checked when decoded).
    pub fn check_limits(&self) -> Result<(), DecodeError> {
        match self {
            Self::RegisterOrganization(op) => {
                check_len("display_name", op.display_name.len(), MAX_TEXT_BYTES)
            }
            Self::RegisterAccount(op) => check_len("roles", op.roles.len(), 16),
            Self::DefineToken(op) => {
                check_len("display_name", op.display_name.len(), MAX_TEXT_BYTES)?;
                if op.decimals > 36 {
                    return Err(DecodeError::LimitExceeded(format!(
                        "decimals: {} > 36",
                        op.decimals
                    )));
                }
                Ok(())
            }
            Self::RegisterAsset(op) => check_attributes("attributes", &op.attributes),
            Self::SplitAsset(op) => {
                check_len("parts", op.parts.len(), MAX_FAN)?;
                check_new_assets(&op.parts)
            }
            Self::MergeAssets(op) => {
                check_len("inputs", op.inputs.len(), MAX_FAN)?;
                check_new_assets(std::slice::from_ref(&op.output))
            }
            Self::TransformAssets(op) => {
                check_len("inputs", op.inputs.len(), MAX_FAN)?;
                check_len("outputs", op.outputs.len(), MAX_FAN)?;
                check_len("process", op.process.len(), MAX_TEXT_BYTES)?;
                check_new_assets(&op.outputs)
            }
            Self::SetAssetAttributes(op) => {
                check_attributes("set", &op.set)?;
                check_len("remove", op.remove.len(), MAX_ATTRIBUTES)?;
                for k in &op.remove {
                    check_len("attribute key", k.len(), MAX_ATTRIBUTE_KEY_BYTES)?;
                }
                Ok(())
            }
            Self::RetireAsset(op) => check_len("reason", op.reason.len(), MAX_TEXT_BYTES),
            Self::MultiTransfer(op) => check_len("legs", op.legs.len(), MAX_FAN),
            Self::AnchorDocument(op) => {
                check_len("media_type", op.media_type.len(), MAX_TEXT_BYTES)?;
                check_len("uri", op.uri.len(), MAX_TEXT_BYTES)?;
                check_len("parties", op.parties.len(), MAX_PARTIES)
            }
            Self::AmendDocument(op) => check_len("uri", op.uri.len(), MAX_TEXT_BYTES),
            Self::RegisterFeed(op) => op.check_limits(),
            Self::PostReading(_) | Self::SetThreshold(_) | Self::RemoveThreshold(_) => Ok(()),
            Self::CaptureEpcisEvent(op) => op.check_limits(),
            Self::DeployTemplate(op) => {
                check_len("source", op.source.len(), MAX_TEMPLATE_SOURCE_BYTES)
            }
            Self::CreateInstance(op) => {
                check_len("parties", op.parties.len(), MAX_INSTANCE_BINDINGS)?;
                check_len("params", op.params.len(), MAX_INSTANCE_BINDINGS)?;
                for (_, v) in &op.params {
                    check_len("param value", v.len(), MAX_TEXT_BYTES)?;
                }
                Ok(())
            }
            Self::Transition(op) => {
                check_len("args", op.args.len(), Transition::MAX_ARGS)?;
                for (_, v) in &op.args {
                    check_len("arg value", v.len(), MAX_TEXT_BYTES)?;
                }
                Ok(())
            }
            Self::UpdateDid(op) => op.check_limits(),
            Self::RegisterIssuer(op) => op.check_limits(),
            Self::PublishCommitment(op) => {
                check_len("attribute", op.attribute.len(), MAX_ATTRIBUTE_KEY_BYTES)
            }
            Self::RevokeBinding(op) => {
                check_len("reason", op.reason.len(), MAX_REVOCATION_REASON_BYTES)
            }
            Self::BindName(_) | Self::EndorseBinding(_) | Self::RotateBinding(_) => Ok(()),
            Self::CreatePrivateRecord(op) => op.check_limits(),
            Self::GrantPrivateAccess(op) => op.check_limits(),
            Self::SetPrivateConsent(op) => op.check_limits(),
            Self::PurgePrivateRecord(op) => op.check_limits(),
            Self::RevokePrivateAccess(_) | Self::AccessPrivateRecord(_) => Ok(()),
            Self::SetValidators(op) => check_len(
                "validators",
                op.validators.len(),
                crate::limits::MAX_VALIDATORS,
            ),
            Self::SetGovernance(op) => check_len("admins", op.admins.len(), MAX_GOVERNANCE_ADMINS),
            Self::RemoveIssuer(_)
            | Self::CreateStatusList(_)
            | Self::SetCredentialStatus(_)
            | Self::WithdrawCommitment(_) => Ok(()),
            Self::AssignRole(_)
            | Self::RevokeRole(_)
            | Self::TransferAsset(_)
            | Self::Mint(_)
            | Self::Transfer(_)
            | Self::Burn(_)
            | Self::Hold(_)
            | Self::ReleaseHold(_)
            | Self::CancelHold(_)
            | Self::SetFrozen(_)
            | Self::SignDocument(_)
            | Self::RequestQuote(_)
            | Self::SubmitQuote(_)
            | Self::AcceptQuote(_)
            | Self::CloseRfq(_)
            | Self::OpenMarket(_)
            | Self::PlaceOrder(_)
            | Self::CancelOrder(_)
            | Self::ClearMarket(_)
            | Self::OfferAsset(_)
            | Self::BuyAsset(_) => Ok(()),
        }
    }
}

/// Checks the attributes of assets an operation creates.
fn check_new_assets(assets: &[NewAsset]) -> Result<(), DecodeError> {
    for asset in assets {
        check_attributes("attributes", &asset.attributes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_VALIDATORS;

    #[test]
    fn consensus_operations_are_bounded_and_named() {
        let set = |n: usize| {
            Operation::SetValidators(SetValidators {
                validators: vec![AccountId([7; 32]); n],
            })
        };
        assert!(set(MAX_VALIDATORS).check_limits().is_ok());
        assert!(matches!(
            set(MAX_VALIDATORS + 1).check_limits(),
            Err(DecodeError::LimitExceeded(_))
        ));
        let gov = |n: usize| {
            Operation::SetGovernance(SetGovernance {
                admins: vec![AccountId([7; 32]); n],
                threshold: 1,
            })
        };
        assert!(gov(MAX_GOVERNANCE_ADMINS).check_limits().is_ok());
        assert!(gov(MAX_GOVERNANCE_ADMINS + 1).check_limits().is_err());
        assert_eq!(set(1).tag(), 110);
        assert_eq!(gov(1).tag(), 111);
        assert_eq!(set(1).permission(), "consensus.set_validators");
        assert_eq!(gov(1).permission(), "consensus.set_governance");
        let names = Operation::type_names();
        assert!(names.contains(&"set_validators".to_owned()));
        assert!(names.contains(&"set_governance".to_owned()));
        let json = serde_json::to_value(gov(1)).unwrap();
        assert_eq!(json["type"], "set_governance");
        assert_eq!(json["threshold"], 1);
    }
}
