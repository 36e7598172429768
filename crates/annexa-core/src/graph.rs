//! The identity graph: one consistent snapshot of every source, as the checks see it.

use crate::model::{Account, Assignment, Badge, Entitlement, ImportRecord, Person, System};
use serde::{Deserialize, Serialize};

/// Everything imported, as of the latest import of each source.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityGraph {
    pub people: Vec<Person>,
    pub systems: Vec<System>,
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub assignments: Vec<Assignment>,
    pub badges: Vec<Badge>,
    /// The imports whose records are in the graph, for evidence.
    pub imports: Vec<ImportRecord>,
}

impl IdentityGraph {
    /// The import a record came from.
    pub fn import(&self, id: i64) -> Option<&ImportRecord> {
        // Imports are few (one per source); a scan beats a map here.
        self.imports.iter().find(|i| i.id == id)
    }
}
