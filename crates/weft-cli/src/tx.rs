//! `weft tx`: build, sign and submit operations, then wait for the receipt.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use weft_client::{Client, Committed, Keypair, TxBuilder};
use weft_types::{
    Amount, AssignRole, Burn, DefineToken, Hash, Mint, Name, Operation, RegisterAccount,
    RegisterOrganization, RevokeRole, SetGovernance, SetValidators, Transfer, TxStatus,
};

use crate::{
    NodeUrl, keys,
    output::{Failure, Out},
};

#[derive(Args)]
pub struct TxArgs {
    /// The signer's key (name or file).
    #[arg(long)]
    key: String,
    /// Co-signers' keys, for multi-party operations.
    #[arg(long = "cosigner")]
    cosigners: Vec<String>,
    /// Nonce to use (default: the account's next nonce from the node).
    #[arg(long)]
    nonce: Option<u64>,
    /// Blocks from now until the transaction expires.
    #[arg(long, default_value_t = DEFAULT_TTL_BLOCKS)]
    ttl_blocks: u64,
    #[arg(long, default_value = "")]
    memo: String,
    /// Return once admitted instead of waiting for the receipt.
    #[arg(long)]
    no_wait: bool,
    /// Sign for this chain instead of the node's (to test a chain's refusal).
    #[arg(long)]
    chain_id: Option<Name>,
    #[command(flatten)]
    url: NodeUrl,
    #[command(subcommand)]
    op: TxOp,
}

#[derive(Subcommand)]
enum TxOp {
    /// Send tokens.
    Transfer {
        #[arg(long)]
        to: String,
        #[arg(long)]
        symbol: Name,
        #[arg(long)]
        amount: u128,
    },
    /// Create tokens (issuer only).
    Mint {
        #[arg(long)]
        to: String,
        #[arg(long)]
        symbol: Name,
        #[arg(long)]
        amount: u128,
    },
    /// Destroy own tokens.
    Burn {
        #[arg(long)]
        symbol: Name,
        #[arg(long)]
        amount: u128,
    },
    /// Define a token; the signer becomes its issuer.
    DefineToken {
        #[arg(long)]
        symbol: Name,
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 2)]
        decimals: u8,
        #[arg(long)]
        max_supply: Option<u128>,
        /// Only instances of this workflow template (created by the issuer) mint, burn or
        /// move the token.
        #[arg(long)]
        controller: Option<Name>,
        /// Only accounts holding this ledger role may receive the token (e.g. `identified`).
        #[arg(long)]
        holder_role: Option<Name>,
    },
    /// Register an organization.
    RegisterOrg {
        #[arg(long)]
        id: Name,
        #[arg(long)]
        name: String,
    },
    /// Register an account in an organization.
    RegisterAccount {
        /// Account hex or key name.
        #[arg(long)]
        account: String,
        #[arg(long)]
        org: Name,
        #[arg(long = "role")]
        roles: Vec<Name>,
    },
    /// Grant a role.
    AssignRole {
        #[arg(long)]
        account: String,
        #[arg(long)]
        role: Name,
    },
    /// Withdraw a role.
    RevokeRole {
        #[arg(long)]
        account: String,
        #[arg(long)]
        role: Name,
    },
    /// Deploy a use-case template (YAML); check it first with `weft template validate`.
    DeployTemplate { file: PathBuf },
    /// Start an instance of a deployed template.
    CreateInstance {
        #[arg(long)]
        instance: Name,
        #[arg(long)]
        template: Name,
        #[arg(long, default_value_t = 1)]
        version: u32,
        /// ROLE=ACCOUNT (account hex or key name), once per role.
        #[arg(long = "party", value_parser = parse_pair)]
        parties: Vec<(String, String)>,
        /// NAME=VALUE, once per parameter.
        #[arg(long = "param", value_parser = parse_pair)]
        params: Vec<(String, String)>,
    },
    /// Take a transition of an instance (approvers co-sign with --cosigner).
    Transition {
        #[arg(long)]
        instance: Name,
        #[arg(long)]
        transition: Name,
        /// NAME=VALUE, once per input the transition declares.
        #[arg(long = "arg", value_parser = parse_pair)]
        args: Vec<(String, String)>,
    },
    /// Schedule a new validator set (the complete set) for the next epoch.
    ///
    /// Needs the consensus governance's threshold of distinct admins among the signer and
    /// co-signers (e.g. 2 of 3: `--key admin1 set-validators ... --cosigner admin2`), and a
    /// signer whose role grants `consensus.set_validators`. The set takes over after the
    /// last block of the current epoch; a later call in the same epoch replaces it.
    /// `weft query state meta/pending_validators` shows what is scheduled.
    SetValidators {
        /// A validator's account (hex or key name); once per validator of the new set.
        #[arg(long = "validator", required = true)]
        validators: Vec<String>,
        /// Approving admins' keys (name or file), added to `weft tx --cosigner`.
        #[arg(long = "cosigner")]
        cosigners: Vec<String>,
    },
    /// Replace who approves validator-set changes (takes effect at once).
    ///
    /// Needs the threshold of the current governance's admins among the signer and
    /// co-signers. `weft query state meta/governance` shows the current one.
    SetGovernance {
        /// An admin's account (hex or key name), registered on the chain; once per admin.
        #[arg(long = "admin", required = true)]
        admins: Vec<String>,
        /// How many distinct admins must approve each change (1 to the number of admins).
        #[arg(long)]
        threshold: u32,
        /// Approving admins' keys (name or file), added to `weft tx --cosigner`.
        #[arg(long = "cosigner")]
        cosigners: Vec<String>,
    },
    /// Operations from a JSON file (an array of operations as in the API).
    Raw { file: PathBuf },
}

impl TxOp {
    /// Co-signers named after the operation (governance operations take `--cosigner` there).
    fn take_cosigners(&mut self) -> Vec<String> {
        match self {
            Self::SetValidators { cosigners, .. } | Self::SetGovernance { cosigners, .. } => {
                std::mem::take(cosigners)
            }
            _ => Vec::new(),
        }
    }
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

fn operations(op: TxOp) -> Result<Vec<Operation>, Failure> {
    Ok(vec![match op {
        TxOp::Transfer { to, symbol, amount } => Operation::Transfer(Transfer {
            symbol,
            to: keys::account(&to)?,
            amount: Amount(amount),
        }),
        TxOp::Mint { to, symbol, amount } => Operation::Mint(Mint {
            symbol,
            to: keys::account(&to)?,
            amount: Amount(amount),
        }),
        TxOp::Burn { symbol, amount } => Operation::Burn(Burn {
            symbol,
            amount: Amount(amount),
        }),
        TxOp::DefineToken {
            symbol,
            name,
            decimals,
            max_supply,
            controller,
            holder_role,
        } => Operation::DefineToken(DefineToken {
            symbol,
            display_name: name,
            decimals,
            max_supply: max_supply.map(Amount),
            controller,
            holder_role,
        }),
        TxOp::RegisterOrg { id, name } => Operation::RegisterOrganization(RegisterOrganization {
            id,
            display_name: name,
        }),
        TxOp::RegisterAccount {
            account,
            org,
            roles,
        } => Operation::RegisterAccount(RegisterAccount {
            account: keys::account(&account)?,
            organization: org,
            roles,
        }),
        TxOp::AssignRole { account, role } => Operation::AssignRole(AssignRole {
            account: keys::account(&account)?,
            role,
        }),
        TxOp::RevokeRole { account, role } => Operation::RevokeRole(RevokeRole {
            account: keys::account(&account)?,
            role,
        }),
        TxOp::DeployTemplate { file } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            Operation::DeployTemplate(weft_types::DeployTemplate { source })
        }
        TxOp::CreateInstance {
            instance,
            template,
            version,
            parties,
            params,
        } => {
            let parties = parties
                .into_iter()
                .map(|(role, who)| {
                    let role = Name::new(role).map_err(|e| Failure::usage(e.to_string()))?;
                    Ok((role, keys::account(&who)?))
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            let params = params
                .into_iter()
                .map(|(k, v)| Ok((Name::new(k).map_err(|e| Failure::usage(e.to_string()))?, v)))
                .collect::<Result<Vec<_>, Failure>>()?;
            Operation::CreateInstance(weft_types::CreateInstance {
                instance,
                template,
                version,
                parties,
                params,
            })
        }
        TxOp::Transition {
            instance,
            transition,
            args,
        } => Operation::Transition(weft_types::Transition {
            instance,
            transition,
            args: args
                .into_iter()
                .map(|(k, v)| Ok((Name::new(k).map_err(|e| Failure::usage(e.to_string()))?, v)))
                .collect::<Result<Vec<_>, Failure>>()?,
        }),
        TxOp::SetValidators { validators, .. } => Operation::SetValidators(SetValidators {
            validators: validators
                .iter()
                .map(|v| keys::account(v))
                .collect::<anyhow::Result<Vec<_>>>()?,
        }),
        TxOp::SetGovernance {
            admins, threshold, ..
        } => Operation::SetGovernance(SetGovernance {
            admins: admins
                .iter()
                .map(|a| keys::account(a))
                .collect::<anyhow::Result<Vec<_>>>()?,
            threshold,
        }),
        TxOp::Raw { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            return serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!(
                    "{}: not a JSON array of operations: {e}",
                    file.display()
                ))
            });
        }
    }])
}

pub async fn run(mut args: TxArgs, out: Out) -> Result<(), Failure> {
    let key = keys::read(&keys::resolve(&args.key))?;
    let more = args.op.take_cosigners();
    let cosigners = args
        .cosigners
        .iter()
        .chain(&more)
        .map(|c| keys::read(&keys::resolve(c)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The signer reads its own nonce and receipt.
    let client = args.url.client(Some(&key))?;
    let status = client.status().await?;
    let chain_id: Name = match args.chain_id {
        Some(c) => c,
        None => serde_json::from_value(status["chain_id"].clone())
            .map_err(|e| Failure::other(anyhow::anyhow!("node sent a bad chain id: {e}")))?,
    };
    let height = status["height"].as_u64().unwrap_or(0);
    let nonce = match args.nonce {
        Some(n) => n,
        None => client.next_nonce(&key.account()).await?,
    };
    let mut signers = vec![&key];
    signers.extend(cosigners.iter());
    let stx = TxBuilder::new(chain_id, key.account())
        .nonce(nonce)
        .expiry_height(height.saturating_add(args.ttl_blocks))
        .memo(args.memo)
        .ops(operations(args.op)?)
        .sign(&signers);
    submit_and_report(&client, &stx, args.no_wait, out).await
}

/// `weft submit`: sends a signed transaction from a file (JSON, or canonical bytes for `.bin`).
pub async fn submit_file(
    file: &std::path::Path,
    no_wait: bool,
    url: NodeUrl,
    out: Out,
) -> Result<(), Failure> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let client = url.client(None)?;
    let stx: weft_types::SignedTransaction = if file.extension().is_some_and(|e| e == "bin") {
        weft_types::decode_bounded(&bytes).map_err(|e| {
            let code = match e {
                weft_types::DecodeError::Oversized { .. }
                | weft_types::DecodeError::LimitExceeded(_) => "oversized",
                weft_types::DecodeError::UnknownOperation(_) => "unknown_operation",
                weft_types::DecodeError::Malformed(_) => "malformed",
            };
            Failure::invalid(code, format!("{}: {e}", file.display()))
        })?
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            let code = if e.to_string().contains("unknown variant") {
                "unknown_operation"
            } else {
                "malformed"
            };
            Failure::invalid(code, format!("{}: {e}", file.display()))
        })?
    };
    submit_and_report(&client, &stx, no_wait, out).await
}

/// Blocks from now until a transaction expires, unless the command says otherwise.
pub(crate) const DEFAULT_TTL_BLOCKS: u64 = 100;
/// How long commands wait for a receipt.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits for the receipt of `hash`; a failed receipt is the ledger's refusal, with its code.
async fn wait_success(client: &Client, hash: &Hash) -> Result<Committed, Failure> {
    let committed = client.wait_committed(hash, COMMIT_TIMEOUT).await?;
    match &committed.receipt.status {
        TxStatus::Success => Ok(committed),
        TxStatus::Failed { code, message, .. } => Err(Failure::refused(
            code.as_str(),
            format!(
                "transaction {hash} failed in block {}: {message}",
                committed.height
            ),
        )),
    }
}

/// Signs `ops` by `signer` (its next nonce, the node's chain) co-signed by `cosigners`,
/// submits them and waits for a successful receipt: the path of every command that
/// writes to the ledger besides `weft tx` itself.
pub(crate) async fn sign_submit_wait(
    url: &NodeUrl,
    signer: &Keypair,
    cosigners: &[&Keypair],
    ops: Vec<Operation>,
) -> Result<(Hash, Committed), Failure> {
    // The signer reads its own nonce and receipt.
    let client = url.client(Some(signer))?;
    let status = client.status().await?;
    let chain_id: Name = serde_json::from_value(status["chain_id"].clone())
        .map_err(|e| Failure::other(anyhow::anyhow!("node sent a bad chain id: {e}")))?;
    let height = status["height"].as_u64().unwrap_or(0);
    let nonce = client.next_nonce(&signer.account()).await?;
    let mut signers = vec![signer];
    signers.extend_from_slice(cosigners);
    let stx = TxBuilder::new(chain_id, signer.account())
        .nonce(nonce)
        .expiry_height(height.saturating_add(DEFAULT_TTL_BLOCKS))
        .ops(ops)
        .sign(&signers);
    let hash = client.submit(&stx).await?;
    Ok((hash, wait_success(&client, &hash).await?))
}

async fn submit_and_report(
    client: &Client,
    stx: &weft_types::SignedTransaction,
    no_wait: bool,
    out: Out,
) -> Result<(), Failure> {
    let hash = client.submit(stx).await?;
    if no_wait {
        out.print(
            &json!({"tx_hash": hash, "status": "pending"}),
            &format!("submitted {hash}"),
        );
        return Ok(());
    }
    let committed = wait_success(client, &hash).await?;
    out.print(
        &json!({"tx_hash": hash, "status": "committed", "height": committed.height, "index": committed.index, "reference": committed.reference, "receipt": committed.receipt}),
        &format!(
            "committed {hash}\n  at height {} index {} ({})\n  events: {}",
            committed.height,
            committed.index,
            committed.reference.clone().unwrap_or_default(),
            committed.receipt.events.iter().map(|e| e.topic.as_str()).collect::<Vec<_>>().join(", ")
        ),
    );
    Ok(())
}
