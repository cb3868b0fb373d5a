//! The reference scenarios: each of the paper's use cases that Weft ships, played end to end
//! through the SDK against a real node's REST API — by `weft demo` and by this crate's
//! integration tests, so the demo and the tests are the same script.
//!
//! Every scenario records its steps. A step that should be refused passes only when the
//! ledger refuses it with the expected error code *and* the head state root is unchanged.
//! Scenarios are idempotent in their onboarding and use per-run ids, so they can run again
//! on the same chain (`weft demo --data-dir`).

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use weft_client::{Client, ClientError, Keypair, TrustAnchor, TxBuilder};
use weft_types::{
    AccountId, AssignRole, DeployTemplate, ErrorCode, Genesis, Name, Operation, RegisterAccount,
    RegisterOrganization, TxStatus,
};

mod bank_guarantee;
mod carbon_removal;
mod data_accountability;
mod e_mortgage;
mod energy_trading;
mod identity;
mod letter_of_credit;
mod payment;
mod petitions;
mod pki;
mod public_lending;
mod reverse_logistics;
mod trubudget;
mod vaccine_supply;

/// A scenario Weft ships.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ScenarioInfo {
    /// Its name on the command line (`weft demo --scenario NAME`).
    pub name: &'static str,
    /// The paper's use case (`UC-03`), or `core`.
    pub use_case: &'static str,
    pub title: &'static str,
}

/// Every scenario, in the order `weft demo` plays them.
pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        name: "payment",
        use_case: "core",
        title: "Consortium onboarding, token issuance and a payment",
    },
    ScenarioInfo {
        name: "e-mortgage",
        use_case: "UC-01",
        title: "Custodian accounting of electronic mortgages",
    },
    ScenarioInfo {
        name: "letter-of-credit",
        use_case: "UC-02",
        title: "Digital letter of credit",
    },
    ScenarioInfo {
        name: "bank-guarantee",
        use_case: "UC-03",
        title: "Digital bank guarantee",
    },
    ScenarioInfo {
        name: "vaccine-supply",
        use_case: "UC-05",
        title: "Vaccine supply chain with a cold chain",
    },
    ScenarioInfo {
        name: "carbon-removal",
        use_case: "UC-14",
        title: "Nori carbon removal marketplace",
    },
    ScenarioInfo {
        name: "energy-trading",
        use_case: "UC-17",
        title: "Peer-to-peer energy trading",
    },
    ScenarioInfo {
        name: "reverse-logistics",
        use_case: "UC-18",
        title: "Reverse logistics credits",
    },
    ScenarioInfo {
        name: "public-lending",
        use_case: "UC-23",
        title: "Public sector lending with a stablecoin",
    },
    ScenarioInfo {
        name: "trubudget",
        use_case: "UC-24",
        title: "TruBudget for the Amazon Fund",
    },
    ScenarioInfo {
        name: "petitions",
        use_case: "UC-25",
        title: "Mudamos popular-initiative petitions",
    },
    ScenarioInfo {
        name: "identity",
        use_case: "UC-27",
        title: "Identity as a service: verified data, selective disclosure, revocation",
    },
    ScenarioInfo {
        name: "pki",
        use_case: "UC-29",
        title: "Decentralized PKI: endorsed name bindings, transparency log, X.509, revocation",
    },
    ScenarioInfo {
        name: "data-accountability",
        use_case: "UC-31",
        title: "Health data under a usage policy: consent, grants, logged reads, audit, erasure (with UC-09)",
    },
];

/// The scenario called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// Plays scenario `name` against the node behind `ctx`.
pub async fn run(name: &str, ctx: &Ctx) -> Option<ScenarioReport> {
    let report = match name {
        "payment" => payment::run(ctx).await,
        "e-mortgage" => e_mortgage::run(ctx).await,
        "letter-of-credit" => letter_of_credit::run(ctx).await,
        "bank-guarantee" => bank_guarantee::run(ctx).await,
        "vaccine-supply" => vaccine_supply::run(ctx).await,
        "carbon-removal" => carbon_removal::run(ctx).await,
        "energy-trading" => energy_trading::run(ctx).await,
        "reverse-logistics" => reverse_logistics::run(ctx).await,
        "public-lending" => public_lending::run(ctx).await,
        "trubudget" => trubudget::run(ctx).await,
        "petitions" => petitions::run(ctx).await,
        "identity" => identity::run(ctx).await,
        "pki" => pki::run(ctx).await,
        "data-accountability" => data_accountability::run(ctx).await,
        _ => return None,
    };
    Some(report)
}

/// One recorded step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub passed: bool,
    /// The step was an illegal action that the ledger had to refuse.
    pub refusal: bool,
    pub detail: String,
}

/// What a scenario did.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub use_case: String,
    pub passed: bool,
    pub transactions: u32,
    /// A one-line description of where the scenario ended (e.g. `guarantee paid`).
    pub final_state: String,
    pub steps: Vec<Step>,
}

impl ScenarioReport {
    /// How many illegal steps were tried (and, if `passed`, refused).
    pub fn refusals(&self) -> usize {
        self.steps.iter().filter(|s| s.refusal).count()
    }
}

/// Records the steps of one scenario run.
#[derive(Debug)]
pub struct Scenario {
    pub report: ScenarioReport,
}

impl Scenario {
    /// A scenario run named after one of [`SCENARIOS`].
    pub fn new(name: &str) -> Self {
        Self {
            report: ScenarioReport {
                name: name.into(),
                use_case: find(name).map_or("", |i| i.use_case).into(),
                passed: true,
                transactions: 0,
                final_state: String::new(),
                steps: vec![],
            },
        }
    }

    /// Ends the run: an error that escaped the script fails it.
    pub fn finish(mut self, outcome: Result<()>) -> ScenarioReport {
        if let Err(e) = outcome {
            self.check("unexpected error", false, format!("{e:#}"));
        }
        self.report
    }

    /// Sets the one-line final state.
    pub fn final_state(&mut self, text: impl Into<String>) {
        self.report.final_state = text.into();
    }

    /// Records a check.
    pub fn check(&mut self, name: &str, passed: bool, detail: impl Into<String>) {
        self.record(name, passed, false, detail.into());
    }

    fn record(&mut self, name: &str, passed: bool, refusal: bool, detail: String) {
        self.report.passed &= passed;
        self.report.steps.push(Step {
            name: name.into(),
            passed,
            refusal,
            detail,
        });
    }

    /// Sends `ops` signed by `key`; the step passes if the transaction commits successfully.
    /// A refusal or a failed receipt is an error: later steps would make no sense.
    pub async fn commit(
        &mut self,
        ctx: &Ctx,
        key: &Keypair,
        label: &str,
        ops: Vec<Operation>,
    ) -> Result<()> {
        self.commit_signed(ctx, &[key], label, ops).await
    }

    /// As [`Scenario::commit`], signed by `keys[0]` and co-signed by the others.
    pub async fn commit_signed(
        &mut self,
        ctx: &Ctx,
        keys: &[&Keypair],
        label: &str,
        ops: Vec<Operation>,
    ) -> Result<()> {
        self.commit_hashed(ctx, keys, label, ops).await.map(|_| ())
    }

    /// As [`Scenario::commit_signed`], returning the committed transaction's hash.
    pub async fn commit_hashed(
        &mut self,
        ctx: &Ctx,
        keys: &[&Keypair],
        label: &str,
        ops: Vec<Operation>,
    ) -> Result<weft_types::Hash> {
        let (hash, status) = ctx
            .send_hashed(keys, ops)
            .await
            .with_context(|| format!("step {label:?}"))?;
        self.report.transactions += 1;
        let ok = status == TxStatus::Success;
        self.check(label, ok, format!("{status:?}"));
        if !ok {
            anyhow::bail!("step {label:?} failed: {status:?}");
        }
        Ok(hash)
    }

    /// Sends `ops` signed by `key`; the step passes only if the ledger refuses it with
    /// `code` and the head state root did not move.
    pub async fn refused(
        &mut self,
        ctx: &Ctx,
        key: &Keypair,
        label: &str,
        code: ErrorCode,
        ops: Vec<Operation>,
    ) -> Result<()> {
        self.refused_signed(ctx, &[key], label, code, ops).await
    }

    /// As [`Scenario::refused`], signed by `keys[0]` and co-signed by the others.
    pub async fn refused_signed(
        &mut self,
        ctx: &Ctx,
        keys: &[&Keypair],
        label: &str,
        code: ErrorCode,
        ops: Vec<Operation>,
    ) -> Result<()> {
        let before = ctx.state_root().await?;
        let result = ctx.send(keys, ops).await;
        let after = ctx.state_root().await?;
        let refused = matches!(&result, Err(e) if e.code() == Some(code));
        let detail = match &result {
            Ok(status) => format!("accepted ({status:?}); expected {code:?}"),
            Err(e) if refused => format!("refused: {e}"),
            Err(e) => format!("refused with the wrong error: {e}; expected {code:?}"),
        };
        let unchanged = before == after;
        let detail = if unchanged {
            detail
        } else {
            format!("{detail}; the state root moved")
        };
        self.record(label, refused && unchanged, true, detail);
        Ok(())
    }

    /// Records a read that must be refused with `code` (permissioned reads).
    pub fn read_refused<T>(
        &mut self,
        label: &str,
        code: ErrorCode,
        result: &Result<T, ClientError>,
    ) {
        let (passed, detail) = match result {
            Ok(_) => (false, format!("the read succeeded; expected {code:?}")),
            Err(e) if e.code() == Some(code) => (true, format!("refused: {e}")),
            Err(e) => (false, format!("refused with the wrong error: {e}")),
        };
        self.record(label, passed, true, detail);
    }
}

/// Where a [`Cast`] gets a key it does not hold yet.
type KeySource = Box<dyn Fn(&str) -> Result<Keypair> + Send + Sync>;

/// The consortium's named keys. A key is created the first time its name is asked for;
/// `weft demo` loads and stores them in its data dir so a rerun acts as the same parties.
pub struct Cast {
    keys: Mutex<BTreeMap<String, Keypair>>,
    source: KeySource,
}

impl std::fmt::Debug for Cast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cast").finish_non_exhaustive()
    }
}

impl Cast {
    /// Keys made on demand and kept in memory (tests).
    pub fn ephemeral(operator: Keypair) -> Self {
        let cast = Self::with_source(|_| Ok(Keypair::generate()?));
        cast.insert("operator", operator);
        cast
    }

    /// Keys obtained from `source` (e.g. load or create a key file).
    pub fn with_source(source: impl Fn(&str) -> Result<Keypair> + Send + Sync + 'static) -> Self {
        Self {
            keys: Mutex::new(BTreeMap::new()),
            source: Box::new(source),
        }
    }

    /// Puts a known key under `name`.
    pub fn insert(&self, name: &str, key: Keypair) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), key);
    }

    /// The key called `name`.
    pub fn key(&self, name: &str) -> Result<Keypair> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = keys.get(name) {
            return Ok(k.clone());
        }
        let key = (self.source)(name).with_context(|| format!("key {name:?}"))?;
        keys.insert(name.to_owned(), key.clone());
        Ok(key)
    }

    /// The network operator: validator and consortium admin.
    pub fn operator(&self) -> Result<Keypair> {
        self.key("operator")
    }
}

/// Everything a scenario needs: the node, the chain's genesis and the cast.
#[derive(Debug)]
pub struct Ctx {
    pub client: Client,
    pub genesis: Genesis,
    pub cast: Cast,
}

/// A valid [`Name`] from a literal or a formatted id (panics on an invalid one, which is a
/// bug in the scenario).
pub fn name(s: &str) -> Name {
    Name::new(s).unwrap_or_else(|e| panic!("{s:?} is not a valid name: {e}"))
}

/// Wall-clock milliseconds, for timestamps a scenario puts *into* transactions (event times,
/// deadlines); execution itself only sees block time.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Ctx {
    pub fn new(client: Client, genesis: Genesis, cast: Cast) -> Self {
        Self {
            client,
            genesis,
            cast,
        }
    }

    /// The key called `name` (see [`Cast::key`]).
    pub fn key(&self, name: &str) -> Result<Keypair> {
        self.cast.key(name)
    }

    /// A client that reads as `key`'s account (permissioned reads).
    pub fn reader(&self, key: &Keypair) -> Client {
        self.client.as_member(key)
    }

    /// A client that reads as the operator (an admin, who may read everything).
    pub fn admin_reader(&self) -> Result<Client> {
        Ok(self.reader(&self.cast.operator()?))
    }

    /// Signs `ops` by `keys[0]` (whose next nonce it uses), co-signed by the others; submits
    /// and waits for the receipt.
    pub async fn send(
        &self,
        keys: &[&Keypair],
        ops: Vec<Operation>,
    ) -> Result<TxStatus, ClientError> {
        Ok(self.send_hashed(keys, ops).await?.1)
    }

    /// As [`Ctx::send`], also returning the transaction's hash.
    pub async fn send_hashed(
        &self,
        keys: &[&Keypair],
        ops: Vec<Operation>,
    ) -> Result<(weft_types::Hash, TxStatus), ClientError> {
        let key = keys[0];
        // The signer reads its own nonce and receipt (permissioned reads).
        let client = self.client.as_member(key);
        let nonce = client.next_nonce(&key.account()).await?;
        let stx = TxBuilder::new(self.genesis.chain_id.clone(), key.account())
            .nonce(nonce)
            .ops(ops)
            .sign(keys);
        let hash = weft_crypto::tx_hash(&stx.tx);
        let committed = client
            .submit_and_wait(&stx, Duration::from_secs(20))
            .await?;
        Ok((hash, committed.receipt.status))
    }

    /// A number unique to this run of a scenario on this chain (the current height), for ids.
    pub async fn run_id(&self) -> Result<u64> {
        Ok(self.client.status().await?["height"].as_u64().unwrap_or(0))
    }

    /// The head's state root.
    pub async fn state_root(&self) -> Result<String> {
        Ok(self.client.status().await?["state_root"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The value under a state key, read as the operator; JSON null when absent.
    pub async fn value(&self, key: &str) -> Result<Value> {
        let answer = self.admin_reader()?.state(key, false, None).await?;
        Ok(answer["value"].clone())
    }

    /// `who`'s balance of `symbol`, in the token's smallest unit.
    pub async fn balance(&self, symbol: &str, who: &AccountId) -> Result<u128> {
        let value = self.value(&format!("balance/{symbol}/{who}")).await?;
        Ok(value.as_str().and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Whether `who` is a registered account.
    pub async fn registered(&self, who: &AccountId) -> Result<bool> {
        Ok(self.value(&format!("account/{who}")).await?.is_object())
    }

    /// The genesis validator set, to verify proof bundles offline.
    pub fn trust_anchor(&self) -> TrustAnchor {
        TrustAnchor {
            chain_id: self.genesis.chain_id.clone(),
            validators: self.genesis.validators.iter().map(|v| v.account).collect(),
        }
    }

    /// Registers organization `org` (if missing) and each account in it with its roles (if
    /// missing), then grants any listed role an existing account lacks. Signed by the
    /// operator; records at most two steps, none when everything already exists.
    pub async fn onboard(
        &self,
        s: &mut Scenario,
        org: &str,
        display_name: &str,
        members: &[(&Keypair, &[&str])],
    ) -> Result<()> {
        let operator = self.cast.operator()?;
        let mut ops = Vec::new();
        if self.value(&format!("organization/{org}")).await?.is_null() {
            ops.push(Operation::RegisterOrganization(RegisterOrganization {
                id: name(org),
                display_name: display_name.into(),
            }));
        }
        let mut grants = Vec::new();
        for (key, roles) in members {
            let account = self.value(&format!("account/{}", key.account())).await?;
            if account.is_null() {
                ops.push(Operation::RegisterAccount(RegisterAccount {
                    account: key.account(),
                    organization: name(org),
                    roles: roles.iter().map(|r| name(r)).collect(),
                }));
                continue;
            }
            let held: Vec<String> = account["roles"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for role in *roles {
                if !held.iter().any(|h| h == role) {
                    grants.push(Operation::AssignRole(AssignRole {
                        account: key.account(),
                        role: name(role),
                    }));
                }
            }
        }
        if !ops.is_empty() {
            s.commit(
                self,
                &operator,
                &format!("operator onboards {display_name}"),
                ops,
            )
            .await?;
        }
        if !grants.is_empty() {
            s.commit(
                self,
                &operator,
                &format!("operator grants roles in {display_name}"),
                grants,
            )
            .await?;
        }
        Ok(())
    }

    /// Deploys template `source` (whose id and version are given) unless that version is
    /// already on chain. Signed by the operator.
    pub async fn ensure_template(
        &self,
        s: &mut Scenario,
        id: &str,
        version: u32,
        source: &str,
    ) -> Result<()> {
        if self
            .value(&format!("template/{id}/{version}"))
            .await?
            .is_null()
        {
            s.commit(
                self,
                &self.cast.operator()?,
                &format!("operator deploys template {id} v{version}"),
                vec![Operation::DeployTemplate(DeployTemplate {
                    source: source.to_owned(),
                })],
            )
            .await?;
        }
        Ok(())
    }
}
