//! The built-in modules. Every operation is authorized by `access` before its module runs.

mod access;
mod identity;
mod token;

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
    }
}
