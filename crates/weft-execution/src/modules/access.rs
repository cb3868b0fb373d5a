//! Access control: roles grant permissions; every operation is checked before it runs.
//!
//! Scope rule: a permission acts within the signer's own organization; only an
//! administrator (a role granting `*`) acts across organizations or hands out admin roles.

use weft_types::{AssignRole, ErrorCode, Name, Operation, RevokeRole};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Account, Role},
};

/// The signer's registration and effective roles, as checked for this operation.
pub(crate) struct Signer {
    pub(crate) account: Account,
    pub(crate) is_admin: bool,
}

fn load_role(ctx: &TxContext<'_, '_>, name: &Name) -> Result<Role, ExecError> {
    ctx.get::<Role>(&StateKey::Role(name.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("role {name} is not defined")))
}

/// Checks that the signer is registered and one of its roles grants the operation.
pub(crate) fn authorize(ctx: &TxContext<'_, '_>, op: &Operation) -> Result<Signer, ExecError> {
    let account = ctx
        .get::<Account>(&StateKey::Account(ctx.signer))?
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("signer {} is not registered", ctx.signer),
            )
        })?;
    let permission = op.permission();
    let mut granted = false;
    let mut is_admin = false;
    for name in &account.roles {
        // A role deleted or never defined grants nothing.
        if let Some(role) = ctx.get::<Role>(&StateKey::Role(name.clone()))? {
            granted |= role.grants(permission);
            is_admin |= role.is_admin();
        }
    }
    if !granted {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("no role of {} grants {permission}", ctx.signer),
        ));
    }
    Ok(Signer { account, is_admin })
}

/// Whether any role of the registered account `who` grants `permission`.
pub(crate) fn grants(
    ctx: &TxContext<'_, '_>,
    who: &weft_types::AccountId,
    permission: &str,
) -> Result<bool, ExecError> {
    let Some(account) = ctx.get::<Account>(&StateKey::Account(*who))? else {
        return Ok(false);
    };
    for name in &account.roles {
        if ctx
            .get::<Role>(&StateKey::Role(name.clone()))?
            .is_some_and(|r| r.grants(permission))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checks that `signer` may manage `target`: same organization, or an administrator.
pub(crate) fn check_scope(signer: &Signer, target_org: &Name) -> Result<(), ExecError> {
    if signer.is_admin || signer.account.organization == *target_org {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "a member of {} cannot manage accounts of {target_org}",
                signer.account.organization
            ),
        ))
    }
}

/// Checks that `signer` may hand out `role` (admin roles only by administrators).
pub(crate) fn check_grantable(
    ctx: &TxContext<'_, '_>,
    signer: &Signer,
    role: &Name,
) -> Result<(), ExecError> {
    let role_def = load_role(ctx, role)?;
    if role_def.is_admin() && !signer.is_admin {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only an administrator can grant the admin role {role}"),
        ));
    }
    Ok(())
}

fn load_target(ctx: &TxContext<'_, '_>, who: &weft_types::AccountId) -> Result<Account, ExecError> {
    ctx.get::<Account>(&StateKey::Account(*who))?
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("account {who} is not registered"),
            )
        })
}

pub(crate) fn assign_role(
    ctx: &mut TxContext<'_, '_>,
    signer: &Signer,
    op: &AssignRole,
) -> Result<(), ExecError> {
    let mut target = load_target(ctx, &op.account)?;
    check_scope(signer, &target.organization)?;
    check_grantable(ctx, signer, &op.role)?;
    if !target.roles.insert(op.role.clone()) {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("{} already has role {}", op.account, op.role),
        ));
    }
    ctx.put(&StateKey::Account(op.account), &target);
    ctx.emit(
        "access.role_assigned",
        vec![op.account, ctx.signer],
        vec![("role", op.role.to_string())],
    );
    Ok(())
}

pub(crate) fn revoke_role(
    ctx: &mut TxContext<'_, '_>,
    signer: &Signer,
    op: &RevokeRole,
) -> Result<(), ExecError> {
    let mut target = load_target(ctx, &op.account)?;
    check_scope(signer, &target.organization)?;
    check_grantable(ctx, signer, &op.role)?;
    if !target.roles.remove(&op.role) {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("{} does not have role {}", op.account, op.role),
        ));
    }
    ctx.put(&StateKey::Account(op.account), &target);
    ctx.emit(
        "access.role_revoked",
        vec![op.account, ctx.signer],
        vec![("role", op.role.to_string())],
    );
    Ok(())
}
