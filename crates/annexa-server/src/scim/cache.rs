//! The pushed resources in memory, per system, as the server answers with them.
//!
//! The database holds each resource as stored; this cache holds its *view*: the stored JSON
//! plus what the server derives (`meta.location`, and a User's read-only `groups`, from the
//! Groups that list it). Queries run over the views without touching the database. The
//! cache only ever changes by applying rows pulled from the database in `seq` order, so it
//! never shows a write that did not commit, and several server instances converge.

use annexa_core::text::{fold, login_key};
use annexa_scim::AttrPath;
use annexa_store::scim::ScimRow;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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

/// One system's Users and Groups, with the indexes equality filters use: `userName`
/// (kept always: it must be unique) and those built on demand.
#[derive(Debug, Default)]
pub struct SystemData {
    pub users: BTreeMap<String, Held>,
    pub groups: BTreeMap<String, Held>,
    /// `userName` as `login_key` compares it -> id (unique).
    by_user_name: HashMap<String, String>,
    /// Member id -> ids of the Groups that list it.
    member_of: HashMap<String, BTreeSet<String>>,
    /// Value indexes built when a filter first asks for them: per type and attribute path,
    /// lower-cased string value -> ids. They answer `eq`, and `co`, `sw`, `ew` by reading
    /// the distinct values.
    eq: HashMap<(Kind, String), EqIndex>,
}

/// At most this many equality indexes per system: each costs a map over every resource.
pub const MAX_EQ_INDEXES: usize = 32;

/// One value index: the path it reads and its values.
#[derive(Debug)]
struct EqIndex {
    path: AttrPath,
    values: HashMap<String, BTreeSet<String>>,
}

/// The name an index is kept under: the path in lower case, a core schema's URN left out
/// (`userName` and `urn:…:core:2.0:User:userName` are one attribute).
pub fn eq_index_key(path: &AttrPath) -> String {
    let schema = match path.schema.as_deref().map(str::to_ascii_lowercase) {
        Some(s) if !s.starts_with("urn:ietf:params:scim:schemas:core:2.0:") => format!("{s}:"),
        _ => String::new(),
    };
    let sub = path.sub_attr.as_deref().map(|s| format!(".{s}")).unwrap_or_default();
    format!("{schema}{}{sub}", path.name).to_ascii_lowercase()
}

/// The string values a filter compares for `path` in `resource`, folded (one Unicode
/// encoding, lower case): read by the filter evaluation's own rules and folded as it
/// folds, so an index never disagrees with it.
fn path_values(resource: &Value, path: &AttrPath) -> Vec<String> {
    annexa_scim::compared_values(resource, path).into_iter().filter_map(Value::as_str).map(fold).collect()
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

    /// The id of the User whose `userName` is `name` (ignoring case, Unicode encoding and
    /// surrounding white space).
    pub fn user_named(&self, name: &str) -> Option<&str> {
        self.by_user_name.get(&login_key(name)).map(String::as_str)
    }

    /// The resources of `kind` whose `key` (see [`eq_index_key`]) equals `value` ignoring
    /// case, when that index exists.
    pub fn eq_lookup(&self, kind: Kind, key: &str, value: &str) -> Option<Vec<&Held>> {
        let index = self.eq.get(&(kind, key.to_string()))?;
        Some(index.values.get(&fold(value)).into_iter().flatten().filter_map(|id| self.get(kind, id)).collect())
    }

    /// The resources of `kind` with a value of `key` that `test` accepts (given the value
    /// lower-cased), when that index exists: `co`, `sw` and `ew` read the index's distinct
    /// values instead of every resource.
    pub fn value_scan(&self, kind: Kind, key: &str, test: impl Fn(&str) -> bool) -> Option<Vec<&Held>> {
        let index = self.eq.get(&(kind, key.to_string()))?;
        let ids: BTreeSet<&String> = index.values.iter().filter(|(v, _)| test(v)).flat_map(|(_, ids)| ids).collect();
        Some(ids.into_iter().filter_map(|id| self.get(kind, id)).collect())
    }

    pub fn has_eq_index(&self, kind: Kind, key: &str) -> bool {
        self.eq.contains_key(&(kind, key.to_string()))
    }

    /// Builds the index of `path` over every resource of `kind` (no-op past the limit).
    pub fn build_eq_index(&mut self, kind: Kind, key: &str, path: &AttrPath) {
        if self.eq.len() >= MAX_EQ_INDEXES || self.has_eq_index(kind, key) {
            return;
        }
        let mut values: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (id, held) in self.of(kind) {
            for v in path_values(&held.view, path) {
                values.entry(v).or_default().insert(id.clone());
            }
        }
        self.eq.insert((kind, key.to_string()), EqIndex { path: path.clone(), values });
    }

    /// The Groups that list `id` as a member.
    pub fn groups_of(&self, id: &str) -> impl Iterator<Item = &String> {
        self.member_of.get(id).into_iter().flatten()
    }

    fn unindex(&mut self, kind: Kind, id: &str) {
        let Some(old) = self.of(kind).get(id).map(|h| h.view.clone()) else { return };
        for ((k, _), index) in self.eq.iter_mut() {
            if *k == kind {
                for v in path_values(&old, &index.path) {
                    remove_from(&mut index.values, &v, id);
                }
            }
        }
        match kind {
            Kind::User => {
                if let Some(n) = old.get("userName").and_then(Value::as_str) {
                    self.by_user_name.remove(&login_key(n));
                }
            }
            // `member_of` is kept by `Cache::apply`, from the members that changed.
            Kind::Group => {}
        }
    }

    fn index(&mut self, kind: Kind, id: &str, view: &Value) {
        for ((k, _), index) in self.eq.iter_mut() {
            if *k == kind {
                for v in path_values(view, &index.path) {
                    index.values.entry(v).or_default().insert(id.to_string());
                }
            }
        }
        match kind {
            Kind::User => {
                if let Some(n) = view.get("userName").and_then(Value::as_str) {
                    self.by_user_name.insert(login_key(n), id.to_string());
                }
            }
            Kind::Group => {}
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

    /// A system's resources, to change (created when new).
    pub fn system_mut(&mut self, system: &str) -> &mut SystemData {
        self.systems.entry(system.to_string()).or_default()
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
        // The Group as it was, kept alive to compare its members with the new ones.
        let old_group: Option<Arc<Value>> = match kind {
            Kind::Group => sys.groups.get(&row.id).map(|g| g.view.clone()),
            Kind::User => None,
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
                // Only members who joined or left see their `groups` change, unless the
                // Group's name (shown in each member's `groups`) changed or it is gone.
                let new_group: Option<Arc<Value>> = sys.groups.get(&row.id).map(|g| g.view.clone());
                let members = |g: &Option<Arc<Value>>| -> HashSet<String> { g.as_deref().map(member_ids).unwrap_or_default().into_iter().collect() };
                let (before, after) = (members(&old_group), members(&new_group));
                for left in before.difference(&after) {
                    remove_from(&mut sys.member_of, left, &row.id);
                }
                for joined in after.difference(&before) {
                    sys.member_of.entry(joined.clone()).or_default().insert(row.id.clone());
                }
                let name = |g: &Option<Arc<Value>>| g.as_deref().and_then(|v| v.get("displayName")).cloned();
                let touched: Vec<&String> = if name(&old_group) == name(&new_group) && !row.deleted {
                    before.symmetric_difference(&after).collect()
                } else {
                    before.union(&after).collect()
                };
                for member in touched {
                    sys.refresh_groups_of(member, &base);
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
