//! Identity: organizations and the accounts (public keys) registered in them.

use weft_types::{ErrorCode, RegisterAccount, RegisterOrganization};

use super::access::{Signer, check_grantable, check_scope};
use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Account, Organization},
};

pub(crate) fn register_organization(
    ctx: &mut TxContext<'_, '_>,
    op: &RegisterOrganization,
) -> Result<(), ExecError> {
    let key = StateKey::Organization(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("organization {} exists", op.id),
        ));
    }
    let org = Organization {
        display_name: op.display_name.clone(),
        registered_at: ctx.height,
    };
    ctx.put(&key, &org);
    ctx.emit(
        "identity.organization_registered",
        vec![ctx.signer],
        vec![("organization", op.id.to_string())],
    );
    Ok(())
}

pub(crate) fn register_account(
    ctx: &mut TxContext<'_, '_>,
    signer: &Signer,
    op: &RegisterAccount,
) -> Result<(), ExecError> {
    if !ctx.exists(&StateKey::Organization(op.organization.clone()))? {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("organization {} is not registered", op.organization),
        ));
    }
    check_scope(signer, &op.organization)?;
    for role in &op.roles {
        check_grantable(ctx, signer, role)?;
    }
    let key = StateKey::Account(op.account);
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("account {} is already registered", op.account),
        ));
    }
    let account = Account {
        organization: op.organization.clone(),
        roles: op.roles.iter().cloned().collect(),
        registered_at: ctx.height,
    };
    ctx.put(&key, &account);
    ctx.emit(
        "identity.account_registered",
        vec![op.account, ctx.signer],
        vec![("organization", op.organization.to_string())],
    );
    Ok(())
}
