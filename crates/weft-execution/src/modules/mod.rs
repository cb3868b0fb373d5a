//! The built-in modules. Every operation is authorized by `access` before its module runs.

mod access;
mod asset;
pub(crate) mod consensus;
mod credential;
mod document;
mod epcis;
mod identity;
mod market;
mod oracle;
mod private;
mod registry;
mod token;
mod workflow;

use weft_types::Operation;

use crate::{ExecError, context::TxContext};

pub(crate) fn apply(ctx: &mut TxContext<'_, '_>, op: &Operation) -> Result<(), ExecError> {
    let signer = access::authorize(ctx, op)?;
    match op {
        Operation::RegisterOrganization(op) => identity::register_organization(ctx, op),
        Operation::RegisterAccount(op) => identity::register_account(ctx, &signer, op),
        Operation::AssignRole(op) => access::assign_role(ctx, &signer, op),
        Operation::RevokeRole(op) => access::revoke_role(ctx, &signer, op),
        Operation::DefineToken(op) => token::define(ctx, op),
        Operation::Mint(op) => token::mint(ctx, op),
        Operation::Transfer(op) => token::transfer(ctx, op),
        Operation::Burn(op) => token::burn(ctx, op),
        Operation::RegisterAsset(op) => asset::register(ctx, op),
        Operation::TransferAsset(op) => asset::transfer(ctx, op),
        Operation::SplitAsset(op) => asset::split(ctx, op),
        Operation::MergeAssets(op) => asset::merge(ctx, op),
        Operation::TransformAssets(op) => asset::transform(ctx, op),
        Operation::SetAssetAttributes(op) => asset::set_attributes(ctx, op),
        Operation::RetireAsset(op) => asset::retire(ctx, op),
        Operation::Hold(op) => token::hold(ctx, op),
        Operation::ReleaseHold(op) => token::release_hold(ctx, op),
        Operation::CancelHold(op) => token::cancel_hold(ctx, op),
        Operation::SetFrozen(op) => token::set_frozen(ctx, op),
        Operation::MultiTransfer(op) => token::multi_transfer(ctx, op),
        Operation::AnchorDocument(op) => document::anchor(ctx, op),
        Operation::AmendDocument(op) => document::amend(ctx, op),
        Operation::SignDocument(op) => document::sign(ctx, op),
        Operation::RequestQuote(op) => market::request_quote(ctx, op),
        Operation::SubmitQuote(op) => market::submit_quote(ctx, op),
        Operation::AcceptQuote(op) => market::accept_quote(ctx, op),
        Operation::CloseRfq(op) => market::close_rfq(ctx, op),
        Operation::OpenMarket(op) => market::open_market(ctx, op),
        Operation::PlaceOrder(op) => market::place_order(ctx, op),
        Operation::CancelOrder(op) => market::cancel_order(ctx, op),
        Operation::ClearMarket(op) => market::clear_market(ctx, op),
        Operation::OfferAsset(op) => market::offer_asset(ctx, op),
        Operation::BuyAsset(op) => market::buy_asset(ctx, op),
        Operation::RegisterFeed(op) => oracle::register(ctx, op),
        Operation::PostReading(op) => oracle::post(ctx, op),
        Operation::SetThreshold(op) => oracle::set_threshold(ctx, op),
        Operation::RemoveThreshold(op) => oracle::remove_threshold(ctx, op),
        Operation::CaptureEpcisEvent(op) => epcis::capture(ctx, op),
        Operation::DeployTemplate(op) => workflow::deploy(ctx, op),
        Operation::CreateInstance(op) => workflow::create(ctx, op),
        Operation::Transition(op) => workflow::transition(ctx, op),
        Operation::UpdateDid(op) => credential::update_did(ctx, op),
        Operation::RegisterIssuer(op) => credential::register_issuer(ctx, op),
        Operation::RemoveIssuer(op) => credential::remove_issuer(ctx, op),
        Operation::CreateStatusList(op) => credential::create_status_list(ctx, op),
        Operation::SetCredentialStatus(op) => credential::set_credential_status(ctx, op),
        Operation::PublishCommitment(op) => credential::publish_commitment(ctx, op),
        Operation::WithdrawCommitment(op) => credential::withdraw_commitment(ctx, op),
        Operation::BindName(op) => registry::bind_name(ctx, op),
        Operation::EndorseBinding(op) => registry::endorse_binding(ctx, op),
        Operation::RotateBinding(op) => registry::rotate_binding(ctx, op),
        Operation::RevokeBinding(op) => registry::revoke_binding(ctx, op),
        Operation::CreatePrivateRecord(op) => private::create(ctx, op),
        Operation::GrantPrivateAccess(op) => private::grant(ctx, op),
        Operation::RevokePrivateAccess(op) => private::revoke(ctx, op),
        Operation::SetPrivateConsent(op) => private::set_consent(ctx, op),
        Operation::AccessPrivateRecord(op) => private::access(ctx, op),
        Operation::PurgePrivateRecord(op) => private::purge(ctx, op),
        Operation::SetValidators(op) => consensus::set_validators(ctx, op),
        Operation::SetGovernance(op) => consensus::set_governance(ctx, op),
    }
}
