//! The identity graph: one consistent snapshot of every source, as the checks see it.

use crate::model::{Account, Assignment, Badge, Entitlement, Grant, ImportRecord, JmlEvent, Person, System};
use crate::Name;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Everything imported, as of the latest import of each source.
///
/// Assignments arrive as records (`assignments`, keyed by names, as importers give them) and are checked as `grants` (keyed by position).
/// [`IdentityGraph::resolve`] turns the first into the second; the store's snapshot reader
/// produces grants directly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityGraph {
    pub people: Vec<Person>,
    pub systems: Vec<System>,
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    /// Assignment records not yet resolved into grants.
    pub assignments: Vec<Assignment>,
    /// Resolved assignments: what the checks read.
    pub grants: Vec<Grant>,
    /// Assignments whose account is in no current source: nobody can use them, and no
    /// check judges them, but an auditor may ask how many there were.
    pub unattached_assignments: u64,
    pub badges: Vec<Badge>,
    /// Mover events recorded so far (what `mover-residual-access` compares with).
    pub movers: Vec<JmlEvent>,
    /// The imports whose records are in the graph, for evidence.
    pub imports: Vec<ImportRecord>,
}

impl IdentityGraph {
    /// The import a record came from.
    pub fn import(&self, id: i64) -> Option<&ImportRecord> {
        // Imports are few (one per source); a scan beats a map here.
        self.imports.iter().find(|i| i.id == id)
    }

    /// Moves every assignment record into `grants`, resolving its account and entitlement.
    /// An entitlement that only assignments name is added (not privileged, no owner); an
    /// assignment whose account is unknown is counted in `unattached_assignments`.
    pub fn resolve(&mut self) {
        if self.assignments.is_empty() {
            return;
        }
        let accounts: HashMap<(Name, Name), u32> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| ((a.system.clone(), a.account_id.clone()), i as u32))
            .collect();
        let mut entitlements: HashMap<(Name, Name), u32> = self
            .entitlements
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.system.clone(), e.name.clone()), i as u32))
            .collect();
        for a in std::mem::take(&mut self.assignments) {
            let Some(&account) = accounts.get(&(a.system.clone(), a.account_id.clone())) else {
                self.unattached_assignments += 1;
                continue;
            };
            let next = self.entitlements.len() as u32;
            let entitlement = *entitlements.entry((a.system.clone(), a.entitlement.clone())).or_insert(next);
            if entitlement == next {
                self.entitlements.push(Entitlement {
                    system: a.system.clone(),
                    name: a.entitlement.clone(),
                    privileged: false,
                    owner: None,
                    origin: a.origin,
                });
            }
            self.grants.push(Grant {
                account,
                entitlement,
                source: a.source,
                granted_at: a.granted_at,
                granted_by: a.granted_by,
                last_certified_at: a.last_certified_at,
                last_certified_by: a.last_certified_by,
                origin: a.origin,
            });
        }
    }

    /// The graph with every assignment record resolved: itself when there are none left,
    /// else a resolved copy (graphs built by hand, in tests and from the row tables).
    pub fn resolved(&self) -> std::borrow::Cow<'_, IdentityGraph> {
        if self.assignments.is_empty() {
            std::borrow::Cow::Borrowed(self)
        } else {
            let mut copy = self.clone();
            copy.resolve();
            std::borrow::Cow::Owned(copy)
        }
    }

    /// `system/account_id/entitlement` of a grant: its key in findings and evidence (see
    /// [`crate::key`]: a `/` inside a part is escaped, so `org/team` names stay apart).
    pub fn grant_key(&self, grant: &Grant) -> String {
        let a = &self.accounts[grant.account as usize];
        let e = &self.entitlements[grant.entitlement as usize];
        crate::key::join(&[&a.system, &a.account_id, &e.name])
    }
}
