//! A ready-made consortium: roles, organizations and keys for local chains and the demo.

use std::collections::BTreeMap;

use weft_crypto::Keypair;
use weft_types::{Genesis, GenesisAccount, GenesisOrganization, GenesisValidator, Name};

fn name(s: &str) -> Name {
    // Only called with the literals of this module, all valid names.
    Name::new(s).expect("static names are valid")
}

/// The standard roles: what each kind of member may do.
pub fn standard_roles() -> BTreeMap<Name, Vec<String>> {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(
        name("registrar"),
        vec![
            "identity.register_account".to_owned(),
            "access.*".to_owned(),
            // The trusted-issuer registry is a consortium decision, like membership.
            "credential.register_issuer".to_owned(),
            "credential.remove_issuer".to_owned(),
        ],
    );
    roles.insert(name("issuer"), vec!["token.*".to_owned()]);
    roles.insert(name("custodian"), vec!["asset.*".to_owned()]);
    // Market ops move their own tokens into and out of escrow without token.transfer; the
    // token rights let a trader also pay and hold directly.
    roles.insert(
        name("trader"),
        [
            "market.*",
            "token.transfer",
            "token.hold",
            "token.release",
            "token.cancel",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    roles.insert(name("sensor-operator"), vec!["oracle.*".to_owned()]);
    // Issues verifiable credentials: publishes status lists and commitments to data it has
    // verified (UC-27). Whether verifiers trust its credentials is the registry's decision.
    roles.insert(
        name("credential-issuer"),
        [
            "credential.status",
            "credential.commit",
            "identity.did_update",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    // Attests that a name is controlled by the key proposed for it (UC-28: "nodes verify
    // domains' public keys"); enough endorsers of a name revoke a binding together.
    roles.insert(
        name("endorser"),
        ["registry.endorse", "registry.revoke"]
            .map(str::to_owned)
            .to_vec(),
    );
    // Deploys templates, starts instances and takes transitions; what a party may do inside
    // an instance is decided by the template's roles, not by this role.
    roles.insert(name("workflow-participant"), vec!["workflow.*".to_owned()]);
    // What anyone may read without signing in (the read policy gives an anonymous client the
    // permissions of the role named `public`): chain metadata, roles, organizations, token
    // definitions, templates, DID documents, trusted issuers and status lists. Balances,
    // accounts, instances, documents and commitments are not public.
    roles.insert(
        name("public"),
        [
            "read.meta",
            "read.role",
            "read.organization",
            "read.token",
            "read.template",
            // DID documents, the trusted-issuer registry and status lists: what any verifier
            // needs to check a credential.
            "read.did",
            "read.issuer",
            "read.status-list",
            // The key registry and its transparency log: public so anyone can check a
            // binding and audit the log (UC-28).
            "read.registry",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    // Consortium-wide read access (permissioned reads): they read every record but write nothing.
    roles.insert(name("auditor"), vec!["read.*".to_owned()]);
    roles.insert(name("regulator"), vec!["read.*".to_owned()]);
    // A person whose identity an authority has verified: signs documents, acts in workflows
    // open to verified persons (petitions), nothing else.
    roles.insert(
        name("citizen"),
        [
            "workflow.transition",
            "document.sign",
            "identity.did_update",
            // Their own data (UC-09: "inclusion, removal and reading of medical records by
            // the patient"): co-sign records about them, consent, grant, read, erase.
            "private.*",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    // An account an identity authority linked to a real-world entity (KYC). It grants no
    // operation: tokens name it as their `holder_role` so only identified accounts hold them.
    roles.insert(name("identified"), vec![]);
    roles.insert(
        name("member"),
        [
            "token.transfer",
            "token.burn",
            "token.hold",
            "token.release",
            "token.cancel",
            "document.*",
            "epcis.capture",
            "identity.did_update",
            // Binds its own names to keys and rotates or revokes them.
            "registry.bind",
            "registry.revoke",
            // Controls and processes confidential data under its records' policies.
            "private.*",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    roles
}

/// A genesis with one operator organization whose validator key is also its admin.
pub fn genesis(chain_id: Name, validator: &Keypair, operator_org: Name, time_ms: u64) -> Genesis {
    Genesis {
        chain_id,
        genesis_time_ms: time_ms,
        validators: vec![GenesisValidator {
            account: validator.account(),
            organization: operator_org.clone(),
        }],
        organizations: vec![GenesisOrganization {
            id: operator_org.clone(),
            display_name: "Network operator".into(),
        }],
        accounts: vec![GenesisAccount {
            account: validator.account(),
            organization: operator_org,
            roles: vec![name("admin")],
        }],
        roles: standard_roles(),
        tokens: vec![],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}
