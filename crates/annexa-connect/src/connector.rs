//! Connectors: how Annexa changes a target system, behind one trait, so that a new kind of
//! target (a directory, an application over SCIM, a person) never touches the use cases.
//!
//! Every operation is idempotent, as the provisioning queue needs: one that finds its work
//! already done (an account already disabled, a member already added or gone) succeeds and
//! says so. The answer is one line for the task's record; an error says what failed.

use crate::ldap::{LdapWriter, NewAccount};
use crate::scim_client::{NewUser, ScimClient};

/// What one operation did, or why it failed, in one line.
pub type Outcome = Result<String, String>;

/// A new account, with what HR says of its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    pub login: String,
    pub employee_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
}

/// A target system Annexa changes.
pub trait Connector {
    /// Disables (or, where configured, deletes) a leaver's account.
    fn disable_account(&mut self, account_id: &str) -> Outcome;
    /// Adds the account to a group (grants the entitlement).
    fn add_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome;
    /// Removes the account from a group (revokes the entitlement).
    fn remove_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome;
    /// Creates a joiner's account.
    fn create_account(&mut self, account: &AccountRequest) -> Outcome;
}

/// A directory over LDAP; new accounts go under `accounts_dn`.
pub struct LdapConnector {
    pub writer: LdapWriter,
    pub accounts_dn: String,
}

impl Connector for LdapConnector {
    fn disable_account(&mut self, account_id: &str) -> Outcome {
        self.writer.disable_account(account_id).map_err(|e| e.to_string())
    }
    fn add_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome {
        self.writer.add_membership(account_id, entitlement).map_err(|e| e.to_string())
    }
    fn remove_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome {
        self.writer.remove_membership(account_id, entitlement).map_err(|e| e.to_string())
    }
    fn create_account(&mut self, a: &AccountRequest) -> Outcome {
        let new = NewAccount {
            login: a.login.clone(),
            employee_id: a.employee_id.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            email: a.email.clone(),
        };
        self.writer.create_account(&self.accounts_dn, &new).map_err(|e| e.to_string())
    }
}

/// An application over SCIM 2.0; a leaver's User is deleted rather than deactivated when
/// `delete_leavers`.
pub struct ScimConnector {
    pub client: ScimClient,
    pub delete_leavers: bool,
}

impl Connector for ScimConnector {
    fn disable_account(&mut self, account_id: &str) -> Outcome {
        let done = if self.delete_leavers { self.client.delete_user(account_id) } else { self.client.deactivate_user(account_id) };
        done.map_err(|e| e.to_string())
    }
    fn add_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome {
        self.client.add_member(account_id, entitlement).map_err(|e| e.to_string())
    }
    fn remove_membership(&mut self, account_id: &str, entitlement: &str) -> Outcome {
        self.client.remove_member(account_id, entitlement).map_err(|e| e.to_string())
    }
    fn create_account(&mut self, a: &AccountRequest) -> Outcome {
        let new = NewUser {
            user_name: a.login.clone(),
            employee_id: a.employee_id.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            email: a.email.clone(),
        };
        self.client.create_user(&new).map_err(|e| e.to_string())
    }
}

/// A system changed by a person (a badge system): nothing is done here; the queue keeps
/// such tasks for `annexa provision done`, and a worker that meets one says so.
pub struct ManualConnector {
    pub system: String,
}

impl ManualConnector {
    fn refuse(&self) -> Outcome {
        Err(format!("the connector for {:?} is manual: a person must carry this task out (`annexa provision done`)", self.system))
    }
}

impl Connector for ManualConnector {
    fn disable_account(&mut self, _: &str) -> Outcome {
        self.refuse()
    }
    fn add_membership(&mut self, _: &str, _: &str) -> Outcome {
        self.refuse()
    }
    fn remove_membership(&mut self, _: &str, _: &str) -> Outcome {
        self.refuse()
    }
    fn create_account(&mut self, _: &AccountRequest) -> Outcome {
        self.refuse()
    }
}
