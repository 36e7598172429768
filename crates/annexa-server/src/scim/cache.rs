//! The pushed resources in memory, per system, as the server answers with them.
//!
//! The database holds each resource as stored; this cache holds its *view*: the stored JSON
//! plus what the server derives (`meta.location`, and a User's read-only `groups`, from the
//! Groups that list it). Queries run over the views without touching the database. The
//! cache only ever changes by applying rows pulled from the database in `seq` order, so it
//! never shows a write that did not commit, and several server instances converge.

use annexa_store::scim::ScimRow;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A resource's current version and view.
#[derive(Debug, Clone)]
pub struct Held {
    pub version: i64,
    pub view: Arc<Value>,
}

/// `User` or `Group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "User" => Some(Kind::User),
            "Group" => Some(Kind::Group),
            _ => None,
        }
    }
}

/// One system's Users and Groups, with the indexes equality filters use.
#[derive(Debug, Default)]
pub struct SystemData {
    pub users: BTreeMap<String, Held>,
    pub groups: BTreeMap<String, Held>,
    /// Lower-cased `userName` -> id (unique).
    by_user_name: HashMap<String, String>,
    /// `externalId` -> ids (Users and Groups; caseExact).
    by_external_id: HashMap<String, BTreeSet<String>>,
    /// Lower-cased Group `displayName` -> ids.
    by_display_name: HashMap<String, BTreeSet<String>>,
    /// Member id -> ids of the Groups that list it.
    member_of: HashMap<String, BTreeSet<String>>,
}

impl SystemData {
    pub fn of(&self, kind: Kind) -> &BTreeMap<String, Held> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    pub fn get(&self, kind: Kind, id: &str) -> Option<&Held> {
        self.of(kind).get(id)
    }

    /// The id of the User whose `userName` is `name` (case-insensitive).
    pub fn user_named(&self, name: &str) -> Option<&str> {
        self.by_user_name.get(&name.to_lowercase()).map(String::as_str)
    }

    /// Ids of resources of `kind` with this `externalId`.
    pub fn with_external_id(&self, kind: Kind, external_id: &str) -> Vec<&Held> {
        self.by_external_id.get(external_id).into_iter().flatten().filter_map(|id| self.get(kind, id)).collect()
    }

    /// Groups whose `displayName` is `name` (case-insensitive).
    pub fn groups_named(&self, name: &str) -> Vec<&Held> {
        self.by_display_name.get(&name.to_lowercase()).into_iter().flatten().filter_map(|id| self.groups.get(id)).collect()
    }

    /// The Groups that list `id` as a member.
    pub fn groups_of(&self, id: &str) -> impl Iterator<Item = &String> {
        self.member_of.get(id).into_iter().flatten()
    }

    fn unindex(&mut self, kind: Kind, id: &str) {
        let Some(old) = self.of(kind).get(id).map(|h| h.view.clone()) else { return };
        if let Some(x) = old.get("externalId").and_then(Value::as_str) {
            remove_from(&mut self.by_external_id, x, id);
        }
        match kind {
            Kind::User => {
                if let Some(n) = old.get("userName").and_then(Value::as_str) {
                    self.by_user_name.remove(&n.to_lowercase());
                }
            }
            Kind::Group => {
                if let Some(n) = old.get("displayName").and_then(Value::as_str) {
                    remove_from(&mut self.by_display_name, &n.to_lowercase(), id);
                }
                for m in member_ids(&old) {
                    remove_from(&mut self.member_of, &m, id);
                }
            }
        }
    }

    fn index(&mut self, kind: Kind, id: &str, view: &Value) {
        if let Some(x) = view.get("externalId").and_then(Value::as_str) {
            self.by_external_id.entry(x.to_string()).or_default().insert(id.to_string());
        }
        match kind {
            Kind::User => {
                if let Some(n) = view.get("userName").and_then(Value::as_str) {
                    self.by_user_name.insert(n.to_lowercase(), id.to_string());
                }
            }
            Kind::Group => {
                if let Some(n) = view.get("displayName").and_then(Value::as_str) {
                    self.by_display_name.entry(n.to_lowercase()).or_default().insert(id.to_string());
                }
                for m in member_ids(view) {
                    self.member_of.entry(m).or_default().insert(id.to_string());
                }
            }
        }
    }

    /// Sets a User's read-only `groups` from the Groups that list it (RFC 7643 §4.1.2).
    fn refresh_groups_of(&mut self, user_id: &str, base: &str) {
        let groups: Vec<Value> = self
            .member_of
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|gid| self.groups.get(gid).map(|g| (gid, g)))
            .map(|(gid, g)| {
                json!({
                    "value": gid,
                    "$ref": format!("{base}/Groups/{gid}"),
                    "display": g.view.get("displayName").cloned().unwrap_or(Value::Null),
                    "type": "direct",
                })
            })
            .collect();
        if let Some(held) = self.users.get_mut(user_id) {
            if let Some(o) = Arc::make_mut(&mut held.view).as_object_mut() {
                if groups.is_empty() {
                    o.remove("groups");
                } else {
                    o.insert("groups".into(), Value::Array(groups));
                }
            }
        }
    }
}

fn remove_from(map: &mut HashMap<String, BTreeSet<String>>, key: &str, id: &str) {
    if let Some(set) = map.get_mut(key) {
        set.remove(id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

/// The `value`s of a Group's `members`.
pub fn member_ids(group: &Value) -> Vec<String> {
    group
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str).map(String::from))
        .collect()
}

/// Every system's resources, up to change number `seq`.
#[derive(Debug)]
pub struct Cache {
    pub seq: i64,
    /// `…/scim/v2`, for `meta.location` and `$ref`.
    base: String,
    systems: HashMap<String, SystemData>,
    empty: SystemData,
}

impl Cache {
    pub fn new(base: &str) -> Cache {
        Cache { seq: 0, base: base.trim_end_matches('/').to_string(), systems: HashMap::new(), empty: SystemData::default() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A system's resources (empty when it has none).
    pub fn system(&self, system: &str) -> &SystemData {
        self.systems.get(system).unwrap_or(&self.empty)
    }

    /// Applies one stored change. A row whose JSON cannot be read is skipped: the database
    /// is only written by the server, so that means damage someone must look at.
    pub fn apply(&mut self, row: ScimRow) -> Result<(), String> {
        let Some(kind) = Kind::parse(&row.resource_type) else {
            return Err(format!("SCIM resource {} has an unknown type {:?}", row.id, row.resource_type));
        };
        let base = self.base.clone();
        let sys = self.systems.entry(row.system.clone()).or_default();
        let before: Vec<String> = match kind {
            Kind::Group => sys.groups.get(&row.id).map(|g| member_ids(&g.view)).unwrap_or_default(),
            Kind::User => Vec::new(),
        };
        sys.unindex(kind, &row.id);
        let view = if row.deleted {
            None
        } else {
            let mut v: Value = serde_json::from_str(&row.body).map_err(|e| format!("SCIM resource {} is not JSON: {e}", row.id))?;
            if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
                meta.insert("location".into(), format!("{base}/{}/{}", kind.endpoint(), row.id).into());
            }
            Some(v)
        };
        match (kind, view) {
            (Kind::User, None) => {
                sys.users.remove(&row.id);
            }
            (Kind::Group, None) => {
                sys.groups.remove(&row.id);
            }
            (_, Some(view)) => {
                sys.index(kind, &row.id, &view);
                let held = Held { version: row.version, view: Arc::new(view) };
                match kind {
                    Kind::User => sys.users.insert(row.id.clone(), held),
                    Kind::Group => sys.groups.insert(row.id.clone(), held),
                };
            }
        }
        match kind {
            Kind::User => sys.refresh_groups_of(&row.id, &base),
            Kind::Group => {
                let after = sys.groups.get(&row.id).map(|g| member_ids(&g.view)).unwrap_or_default();
                let touched: BTreeSet<String> = before.into_iter().chain(after).collect();
                for member in touched {
                    sys.refresh_groups_of(&member, &base);
                }
            }
        }
        Ok(())
    }
}

/// The stored form of a view: without what the server derives.
pub fn stored_form(view: &Value) -> Value {
    let mut v = view.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("groups");
        if let Some(meta) = o.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("location");
        }
    }
    v
}
