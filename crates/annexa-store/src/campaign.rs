//! Access certification campaigns: the population snapshotted at launch (`CampaignWriter`,
//! streamed in batches), review items read back, decisions recorded (validated whole,
//! applied once even under concurrent deciders, consistent across open campaigns, each
//! revocation queued as a provisioning task in the same transaction), delegation, and the
//! close that records the certifications the next audit sees. Every change is a ledger
//! entry in the transaction that makes it.

use crate::db::{DbRow, Tx, Value};
use crate::provisioning::NewTask;
use crate::{instant, Store, StoreError};
use annexa_core::campaign::{Population, ReviewItem};
use annexa_core::time::Instant;
use serde::Serialize;

/// Items buffered before they are written (a multiple of the rows SQLite takes per
/// statement, so that every statement is the one prepared and cached).
const BATCH: usize = 512;

/// A campaign to launch.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub scope: String,
    pub reviewer_strategy: String,
    pub fallback: Option<String>,
    pub due: Instant,
    /// The secret (hex) that keys the integrity codes of its reviewers' worksheets.
    pub worksheet_key: String,
    /// What opened it, when no person did (`recurring:NAME`, `mover:EMPLOYEE_ID`).
    pub origin: Option<String>,
}

/// A campaign as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub reviewer_strategy: String,
    pub fallback: Option<String>,
    pub due: Instant,
    pub status: String,
    pub created_at: Instant,
    pub created_by: String,
    pub items: i64,
    pub population_hash: String,
    /// The population proof: per import, records read, in scope, inactive, out of scope.
    pub population: serde_json::Value,
    pub closed_at: Option<Instant>,
    pub closed_by: Option<String>,
    /// At close: what happened to undecided items (`keep` or `revoke`).
    pub undecided: Option<String>,
    /// What opened it, when no person did (`recurring:NAME`, `mover:EMPLOYEE_ID`).
    pub origin: Option<String>,
    pub decided: i64,
    pub certified: i64,
    pub revoked: i64,
}

/// A review item as stored, with its decision.
#[derive(Debug, Clone, Serialize)]
pub struct StoredItem {
    pub id: i64,
    pub campaign_id: i64,
    #[serde(flatten)]
    pub item: ReviewItem,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Instant>,
    pub comment: Option<String>,
    pub delegated_by: Option<String>,
    pub revocation_task: Option<i64>,
    pub verified_absent_at: Option<Instant>,
    /// When the campaign closed without this access in the graph any more (removed
    /// outside the campaign, or by its revocation).
    pub gone_at: Option<Instant>,
    /// At close, the latest automatic import of the item's system had failed: what it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_failed: Option<String>,
}

/// Which items to read.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub reviewer: Option<String>,
    pub undecided: bool,
    pub system: Option<String>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// A decision on review items.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    pub items: Vec<i64>,
    /// The reviewer deciding (an employee id).
    pub reviewer: String,
    /// `certify` or `revoke`.
    pub decision: String,
    pub comment: Option<String>,
}

/// A decision on an account's revalidation (a campaign opened for a finding).
#[derive(Debug, Clone, Serialize)]
pub struct Revalidated {
    pub finding: String,
    pub campaign: i64,
    pub decision: String,
    pub reviewer: String,
    pub comment: Option<String>,
}

/// What a decision recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// Decisions that answer revalidations: the app records them on their findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revalidations: Vec<Revalidated>,
    pub items: Vec<i64>,
    /// Undecided items of the same access in other open campaigns, decided alike.
    pub also: Vec<i64>,
    /// Provisioning tasks queued for revocations.
    pub tasks: Vec<i64>,
    pub ledger_entry: u64,
}

const ITEM_COLUMNS: &str = "i.id, i.campaign_id, i.kind, i.system, i.account_id, i.entitlement, i.employee_id, i.holder, i.privileged, \
     i.last_used_at, i.granted_at, i.last_certified_at, i.import_id, i.line, i.reviewer, i.reviewer_basis, i.open_findings, i.sod_rules, \
     i.peer_share_permille, i.peers, i.recommendation, i.recommendation_reason, i.decision, i.decided_by, i.decided_at, i.comment, \
     i.delegated_by, i.revocation_task, i.verified_absent_at, i.gone_at, i.source_failed";

fn stored_item(r: &DbRow<'_>) -> Result<StoredItem, StoreError> {
    use annexa_core::campaign::{ItemKind, Recommendation};
    let text = |i: usize| -> Result<Option<String>, StoreError> { Ok(r.text(i)?.map(str::to_string)) };
    Ok(StoredItem {
        id: r.req_int(0)?,
        campaign_id: r.req_int(1)?,
        item: ReviewItem {
            kind: match r.req_text(2)? {
                "badge-zone" => ItemKind::BadgeZone,
                "account" => ItemKind::Account,
                _ => ItemKind::Assignment,
            },
            system: r.req_text(3)?.to_string(),
            account_id: r.req_text(4)?.to_string(),
            entitlement: r.req_text(5)?.to_string(),
            employee_id: text(6)?,
            holder: r.req_text(7)?.to_string(),
            privileged: r.req_int(8)? != 0,
            last_used_at: instant(r.int(9)?),
            granted_at: instant(r.int(10)?),
            last_certified_at: instant(r.int(11)?),
            origin: annexa_core::model::Origin { import_id: r.req_int(12)?, line: r.req_int(13)?.clamp(0, i64::from(u32::MAX)) as u32 },
            reviewer: text(14)?,
            reviewer_basis: r.req_text(15)?.to_string(),
            open_findings: r.req_int(16)?.clamp(0, i64::from(u32::MAX)) as u32,
            sod_rules: serde_json::from_str(r.req_text(17)?).unwrap_or_default(),
            peer_share: r.int(18)?.map(|p| p as f64 / 1000.0),
            peers: r.req_int(19)?.clamp(0, i64::from(u32::MAX)) as u32,
            recommendation: if r.req_text(20)? == "revoke" { Recommendation::Revoke } else { Recommendation::Certify },
            recommendation_reason: r.req_text(21)?.to_string(),
        },
        decision: text(22)?,
        decided_by: text(23)?,
        decided_at: instant(r.int(24)?),
        comment: text(25)?,
        delegated_by: text(26)?,
        revocation_task: r.int(27)?,
        verified_absent_at: instant(r.int(28)?),
        gone_at: instant(r.int(29)?),
        source_failed: text(30)?,
    })
}

/// Stores a campaign's population as it is drawn, in one transaction that
/// [`CampaignWriter::finish`] commits: nothing of a launch that fails is kept.
pub struct CampaignWriter<'s> {
    tx: Tx<'s>,
    id: i64,
    actor: String,
    at: Instant,
    batch: Vec<ReviewItem>,
    /// On SQLite, each item's access key and id, for `campaign_access`: sorted here and
    /// appended by `finish` (on PostgreSQL, `finish` copies them from the items).
    access: Vec<(i64, i64)>,
}

impl Store {
    /// Begins launching a campaign.
    pub fn begin_campaign(&mut self, new: &NewCampaign, actor: &str, at: Instant) -> Result<CampaignWriter<'_>, StoreError> {
        let mut tx = self.conn.transaction()?;
        let id = tx.insert_returning_id(
            "INSERT INTO campaigns (name, scope, reviewer_strategy, fallback, due_at, status, created_at, created_by, items, population_hash, \
             population, worksheet_key, origin) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, 0, '', '{}', ?, ?)",
            &[
                new.name.as_str().into(),
                new.scope.as_str().into(),
                new.reviewer_strategy.as_str().into(),
                new.fallback.as_deref().into(),
                new.due.timestamp().into(),
                at.timestamp().into(),
                actor.into(),
                new.worksheet_key.as_str().into(),
                new.origin.as_deref().into(),
            ],
        )?;
        Ok(CampaignWriter { tx, id, actor: actor.to_string(), at, batch: Vec::with_capacity(BATCH), access: Vec::new() })
    }
}

/// One item's values, in the order of `flush`'s columns.
fn item_values<'v>(id: i64, (i, sod, key): &'v (&'v ReviewItem, String, i64), v: &mut Vec<Value<'v>>) {
    v.extend([
        Value::from(id),
        i.kind.as_str().into(),
        Value::from(*key),
        i.system.as_str().into(),
        i.account_id.as_str().into(),
        i.entitlement.as_str().into(),
        i.employee_id.as_deref().into(),
        i.holder.as_str().into(),
        i.privileged.into(),
        i.last_used_at.map(|t| t.timestamp()).into(),
        i.granted_at.map(|t| t.timestamp()).into(),
        i.last_certified_at.map(|t| t.timestamp()).into(),
        i.origin.import_id.into(),
        i64::from(i.origin.line).into(),
        i.reviewer.as_deref().into(),
        i.reviewer_basis.as_str().into(),
        i64::from(i.open_findings).into(),
        sod.as_str().into(),
        i.peer_share.map(|s| (s * 1000.0).round() as i64).into(),
        i64::from(i.peers).into(),
        i.recommendation.as_str().into(),
        i.recommendation_reason.as_str().into(),
    ])
}

impl CampaignWriter<'_> {
    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn add(&mut self, item: ReviewItem) -> Result<(), StoreError> {
        self.batch.push(item);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut self.batch);
        let id = self.id;
        let rows: Vec<(&ReviewItem, String, i64)> =
            batch.iter().map(|i| (i, serde_json::to_string(&i.sod_rules).unwrap_or_default(), access_key(i))).collect();
        // The reviewer index takes each row at a random place of the campaign's own range
        // (it leads with the campaign), so one row per statement (see `Tx::insert_rows`).
        // Measured at 2.16 M items: cheaper than dropping the index and building it sorted
        // after the rows, which scans the whole table and sorts every campaign's keys.
        const COLUMNS: &[&str] = &[
            "campaign_id",
            "kind",
            "access_key",
            "system",
            "account_id",
            "entitlement",
            "employee_id",
            "holder",
            "privileged",
            "last_used_at",
            "granted_at",
            "last_certified_at",
            "import_id",
            "line",
            "reviewer",
            "reviewer_basis",
            "open_findings",
            "sod_rules",
            "peer_share_permille",
            "peers",
            "recommendation",
            "recommendation_reason",
        ];
        self.tx.bulk_insert_keyed("campaign_items", COLUMNS, &rows, |r, v| item_values(id, r, v))?;
        // SQLite numbers the rows of one transaction one after the other (AUTOINCREMENT, and
        // nobody else writes while it holds the lock): the batch's ids end at the last one.
        if let Some(last) = self.tx.last_insert_id() {
            let first = last - batch.len() as i64 + 1;
            self.access.extend(rows.iter().zip(first..).map(|((_, _, key), item)| (*key, item)));
        }
        Ok(())
    }

    /// Records the population's proof, appends the launch to the ledger and commits.
    pub fn finish(mut self, population: &Population) -> Result<i64, StoreError> {
        self.flush()?;
        self.record_access()?;
        let proof = serde_json::to_string(&population.imports).unwrap_or_default();
        self.tx.execute(
            "UPDATE campaigns SET items = ?, population_hash = ?, population = ? WHERE id = ?",
            &[(population.items as i64).into(), population.hash.as_str().into(), proof.as_str().into(), self.id.into()],
        )?;
        let mut name = String::new();
        let mut scope = String::new();
        self.tx.query_each("SELECT name, scope FROM campaigns WHERE id = ?", &[self.id.into()], |r| {
            name = r.req_text(0)?.to_string();
            scope = r.req_text(1)?.to_string();
            Ok(())
        })?;
        let data = serde_json::json!({
            "campaign": self.id, "name": name, "scope": scope, "items": population.items,
            "population_hash": population.hash, "imports": population.imports,
        });
        self.tx.ledger_append(&self.actor, self.at, &[crate::ledger::Change { kind: "campaign-launched", data }])?;
        self.tx.commit()?;
        Ok(self.id)
    }
}

impl CampaignWriter<'_> {
    /// Where each access sits in this campaign (`campaign_access`). The rows all go after
    /// every earlier campaign's; sorted, they append, many to a statement. On PostgreSQL
    /// the database copies them from the items.
    fn record_access(&mut self) -> Result<(), StoreError> {
        if let Tx::Postgres(_) = self.tx {
            self.tx.execute(
                "INSERT INTO campaign_access (campaign_id, access_key, item_id) SELECT campaign_id, access_key, id FROM campaign_items \
                 WHERE campaign_id = ?",
                &[self.id.into()],
            )?;
            return Ok(());
        }
        let mut access = std::mem::take(&mut self.access);
        access.sort_unstable();
        let id = self.id;
        self.tx.bulk_insert("campaign_access", &["campaign_id", "access_key", "item_id"], &access, |(key, item), v| {
            v.extend([Value::from(id), Value::from(*key), Value::from(*item)])
        })
    }
}

impl Store {
    /// One campaign, with its decision counts.
    pub fn campaign(&mut self, id: i64) -> Result<Campaign, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let found = read_campaigns(&mut tx, Some(id))?.pop();
        tx.commit()?;
        found.ok_or_else(|| StoreError::NotFound(format!("no campaign #{id}")))
    }

    /// The secret keying campaign `id`'s worksheet integrity codes (hex).
    pub fn campaign_worksheet_key(&mut self, id: i64) -> Result<String, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut key = None;
        tx.query_each("SELECT worksheet_key FROM campaigns WHERE id = ?", &[id.into()], |r| {
            key = Some(r.req_text(0)?.to_string());
            Ok(())
        })?;
        tx.commit()?;
        key.ok_or_else(|| StoreError::NotFound(format!("no campaign #{id}")))
    }

    /// The newest campaign opened by `origin` (`recurring:NAME`, `mover:EMPLOYEE_ID`).
    pub fn campaign_from(&mut self, origin: &str) -> Result<Option<Campaign>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut id = None;
        tx.query_each("SELECT MAX(id) FROM campaigns WHERE origin = ?", &[origin.into()], |r| {
            id = r.int(0)?;
            Ok(())
        })?;
        let found = match id {
            Some(id) => read_campaigns(&mut tx, Some(id))?.pop(),
            None => None,
        };
        tx.commit()?;
        Ok(found)
    }

    /// Every campaign, newest first.
    pub fn campaigns(&mut self) -> Result<Vec<Campaign>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = read_campaigns(&mut tx, None)?;
        tx.commit()?;
        Ok(out)
    }

    /// A campaign's items in id order, filtered, paged, streamed to `each`.
    pub fn campaign_items(
        &mut self,
        campaign: i64,
        filter: &ItemFilter,
        mut each: impl FnMut(StoredItem) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut clauses = vec!["i.campaign_id = ?".to_string()];
        let mut params: Vec<Value<'_>> = vec![campaign.into()];
        if let Some(r) = &filter.reviewer {
            clauses.push("i.reviewer = ?".into());
            params.push(r.as_str().into());
        }
        if filter.undecided {
            clauses.push("i.decision IS NULL".into());
        }
        if let Some(s) = &filter.system {
            clauses.push("i.system = ?".into());
            params.push(s.as_str().into());
        }
        params.push(filter.limit.map_or(i64::MAX, |l| l.min(i64::MAX as u64) as i64).into());
        params.push((filter.offset.min(i64::MAX as u64) as i64).into());
        tx.query_each(
            &format!("SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE {} ORDER BY i.id LIMIT ? OFFSET ?", clauses.join(" AND ")),
            &params,
            |r| each(stored_item(r)?),
        )?;
        tx.commit()
    }

    /// One review item by id.
    pub fn campaign_item(&mut self, id: i64) -> Result<Option<StoredItem>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(&format!("SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE i.id = ?"), &[id.into()], |r| {
            out = Some(stored_item(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Records a decision on `request.items`, as `actor` at `at` (see [`Store::decide_all`]).
    #[allow(clippy::too_many_arguments)] // the decision, how to revoke, who, when, and the key that signs
    pub fn decide(
        &mut self,
        request: &DecisionRequest,
        revocation: &dyn Fn(&StoredItem) -> NewTask,
        max_attempts: i64,
        actor: &str,
        at: Instant,
        signer: Option<&annexa_ledger::note::NoteSigner>,
    ) -> Result<Decided, StoreError> {
        self.decide_all(std::slice::from_ref(request), None, revocation, max_attempts, actor, at, signer)
    }

    /// Records several decisions (each with its own comment: a returned worksheet's rows)
    /// in one transaction and one ledger entry, with `source` (the file) in it. Every item
    /// is checked before anything is written (it exists, its campaign is open, the request's
    /// reviewer is its reviewer and not its holder, it is undecided, a comment is there where
    /// one is required); one bad item refuses everything, naming each. An item decided by
    /// someone else meanwhile refuses it too: nothing is decided twice. The same access
    /// undecided in another open campaign is decided alike; one decided otherwise there
    /// refuses it. `revocation` makes the provisioning task of a revoked item.
    ///
    /// With `signer`, the ledger checkpoint that covers the decision is signed in the same
    /// transaction: one durable commit instead of two.
    #[allow(clippy::too_many_arguments)] // the decisions, their file, how to revoke, who, when, the key
    pub fn decide_all(
        &mut self,
        requests: &[DecisionRequest],
        source: Option<serde_json::Value>,
        revocation: &dyn Fn(&StoredItem) -> NewTask,
        max_attempts: i64,
        actor: &str,
        at: Instant,
        signer: Option<&annexa_ledger::note::NoteSigner>,
    ) -> Result<Decided, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut problems = Vec::new();
        let mut checked: Vec<(&DecisionRequest, Option<&str>, Vec<StoredItem>)> = Vec::with_capacity(requests.len());
        for request in requests {
            if request.decision != "certify" && request.decision != "revoke" {
                return Err(StoreError::Invalid(format!("decision {:?} is not certify or revoke", request.decision)));
            }
            let comment = request.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let mut items: Vec<i64> = request.items.clone();
            items.sort_unstable();
            items.dedup();
            let found = check_items(&mut tx, &items, request, comment, &mut problems)?;
            checked.push((request, comment, found));
        }
        if checked.iter().all(|(_, _, f)| f.is_empty()) && problems.is_empty() {
            return Err(StoreError::Invalid("no review items to decide".into()));
        }
        if !problems.is_empty() {
            let more = if problems.len() > 10 { format!("; and {} more", problems.len() - 10) } else { String::new() };
            problems.truncate(10);
            return Err(StoreError::Invalid(format!("nothing was decided: {}{more}", problems.join("; "))));
        }
        let now = at.timestamp();
        let millis = at.timestamp_millis();
        let (mut decided, mut also, mut tasks, mut logged) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut revalidations = Vec::new();
        // Each campaign's origin, read once: a returned worksheet decides thousands of items
        // of one campaign.
        let mut origins: std::collections::HashMap<i64, Option<String>> = std::collections::HashMap::new();
        for (request, comment, found) in &checked {
            for item in found {
                let changed = tx.execute(
                    "UPDATE campaign_items SET decision = ?, decided_by = ?, decided_at = ?, decided_ms = ?, comment = ? WHERE id = ? AND decision IS NULL",
                    &[request.decision.as_str().into(), request.reviewer.as_str().into(), now.into(), millis.into(), (*comment).into(), item.id.into()],
                )?;
                if changed == 0 {
                    return Err(StoreError::Conflict(format!(
                        "item {} was decided by someone else meanwhile: nothing was decided",
                        item.id
                    )));
                }
                count_decision(&mut tx, item.campaign_id, &request.decision)?;
                decided.push(item.id);
                also.extend(decide_alike(&mut tx, item, request, now, millis)?);
                if request.decision == "revoke" {
                    let task = revocation(item);
                    crate::provisioning::insert_task(&mut tx, &task, max_attempts, at)?;
                    let mut task_id = None;
                    tx.query_each(
                        "SELECT id FROM provisioning_tasks WHERE idempotency_key = ?",
                        &[task.idempotency_key.as_str().into()],
                        |r| {
                            task_id = r.int(0)?;
                            Ok(())
                        },
                    )?;
                    if let Some(t) = task_id {
                        tx.execute("UPDATE campaign_items SET revocation_task = ? WHERE id = ?", &[t.into(), item.id.into()])?;
                        tasks.push(t);
                    }
                }
            }
            for item in found {
                if let std::collections::hash_map::Entry::Vacant(e) = origins.entry(item.campaign_id) {
                    let mut origin = None;
                    tx.query_each("SELECT origin FROM campaigns WHERE id = ?", &[item.campaign_id.into()], |r| {
                        origin = r.text(0)?.map(str::to_string);
                        Ok(())
                    })?;
                    e.insert(origin);
                }
                let origin = origins.get(&item.campaign_id).and_then(Option::as_deref);
                if let Some(finding) = origin.and_then(|o| o.strip_prefix("revalidation:")) {
                    revalidations.push(Revalidated {
                        finding: finding.to_string(),
                        campaign: item.campaign_id,
                        decision: request.decision.clone(),
                        reviewer: request.reviewer.clone(),
                        comment: comment.map(str::to_string),
                    });
                }
            }
            let items: Vec<i64> = found.iter().map(|i| i.id).collect();
            logged.push(
                serde_json::json!({ "items": items, "reviewer": request.reviewer, "decision": request.decision, "comment": comment }),
            );
        }
        let data = match (logged.len(), source) {
            (1, None) => {
                let mut one = logged.pop().unwrap_or_default();
                one["also"] = serde_json::json!(also);
                one["tasks"] = serde_json::json!(tasks);
                one
            }
            (_, source) => serde_json::json!({ "decisions": logged, "also": also, "tasks": tasks, "source": source }),
        };
        let entry = tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-decided", data }])?;
        if let Some(signer) = signer {
            tx.ledger_checkpoint_in(signer, at)?;
        }
        tx.commit()?;
        Ok(Decided { revalidations, items: decided, also, tasks, ledger_entry: entry })
    }

    /// Hands undecided items from their reviewer to another (an active person who does not
    /// hold the access), as `actor`.
    pub fn delegate(&mut self, items: &[i64], from: &str, to: &str, actor: &str, at: Instant) -> Result<usize, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut active = false;
        tx.query_each("SELECT status, end_date FROM people WHERE employee_id = ?", &[to.into()], |r| {
            let ended = r.text(1)?.is_some_and(|d| d < at.format("%Y-%m-%d").to_string().as_str());
            active = r.req_text(0)? != "terminated" && !ended;
            Ok(())
        })?;
        if !active {
            return Err(StoreError::Invalid(format!("{to} is not an active person in HR: items go to someone who can review them")));
        }
        for &id in items {
            let changed = tx.execute(
                "UPDATE campaign_items SET reviewer = ?, delegated_by = ? WHERE id = ? AND reviewer = ? AND decision IS NULL \
                 AND (employee_id IS NULL OR employee_id <> ?) AND campaign_id IN (SELECT id FROM campaigns WHERE status = 'open')",
                &[to.into(), from.into(), id.into(), from.into(), to.into()],
            )?;
            if changed == 0 {
                return Err(StoreError::Invalid(format!(
                    "item {id} cannot go from {from} to {to}: it is not {from}'s undecided item in an open campaign, or it is {to}'s own access"
                )));
            }
        }
        let data = serde_json::json!({ "items": items, "from": from, "to": to });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-delegated", data }])?;
        tx.commit()?;
        Ok(items.len())
    }

    /// Closes a campaign: undecided items are kept (left as they are) or revoked (queued
    /// like any revocation); certified assignments are recorded as certified, so that the
    /// next audit's `certification-overdue` sees them.
    #[allow(clippy::too_many_arguments)] // the campaign, what to mark, how to revoke, and who and when
    pub fn close_campaign(
        &mut self,
        id: i64,
        gone: &[i64],
        revoke_undecided: bool,
        revocation: &dyn Fn(&StoredItem) -> NewTask,
        max_attempts: i64,
        actor: &str,
        at: Instant,
    ) -> Result<Campaign, StoreError> {
        let mut tx = self.conn.transaction()?;
        let campaign = read_campaigns(&mut tx, Some(id))?.pop().ok_or_else(|| StoreError::NotFound(format!("no campaign #{id}")))?;
        if campaign.status != "open" {
            return Err(StoreError::Conflict(format!("campaign #{id} is already closed")));
        }
        let now = at.timestamp();
        // Access that disappeared since launch is marked, and is not revoked again.
        for item in gone {
            tx.execute("UPDATE campaign_items SET gone_at = ? WHERE id = ? AND campaign_id = ?", &[now.into(), (*item).into(), id.into()])?;
        }
        let mut revoked_at_close = 0u64;
        if revoke_undecided {
            let mut undecided = Vec::new();
            tx.query_each(
                &format!(
                    "SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE i.campaign_id = ? AND i.decision IS NULL AND i.gone_at IS NULL"
                ),
                &[id.into()],
                |r| {
                    undecided.push(stored_item(r)?);
                    Ok(())
                },
            )?;
            for item in &undecided {
                tx.execute(
                    "UPDATE campaign_items SET decision = 'revoke', decided_by = ?, decided_at = ?, decided_ms = ?, \
                     comment = 'undecided when the campaign closed' WHERE id = ?",
                    &[actor.into(), now.into(), at.timestamp_millis().into(), item.id.into()],
                )?;
                let task = revocation(item);
                crate::provisioning::insert_task(&mut tx, &task, max_attempts, at)?;
                tx.execute(
                    "UPDATE campaign_items SET revocation_task = (SELECT id FROM provisioning_tasks WHERE idempotency_key = ?) WHERE id = ?",
                    &[task.idempotency_key.as_str().into(), item.id.into()],
                )?;
                revoked_at_close += 1;
            }
            count_decisions(&mut tx, id, "revoke", revoked_at_close as i64)?;
        }
        // A source whose latest automatic import failed does not hold the campaign up: its
        // items are marked, so the evidence says their state was not confirmed by it.
        let mut failed: Vec<(String, String)> = Vec::new();
        tx.query_each(
            "SELECT DISTINCT f.system, f.error, f.last_failed_at FROM import_failures f \
             WHERE f.system IN (SELECT DISTINCT system FROM campaign_items WHERE campaign_id = ?) ORDER BY f.system",
            &[id.into()],
            |r| {
                let when = instant(r.int(2)?).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
                let error: String = r.req_text(1)?.chars().take(200).collect();
                failed.push((r.req_text(0)?.to_string(), format!("the latest import of {} failed on {when}: {error}", r.req_text(0)?)));
                Ok(())
            },
        )?;
        for (system, why) in &failed {
            tx.execute(
                "UPDATE campaign_items SET source_failed = ? WHERE campaign_id = ? AND system = ?",
                &[why.as_str().into(), id.into(), system.as_str().into()],
            )?;
        }
        // Certified assignments: the later certification wins.
        tx.execute(
            "INSERT INTO certifications (system, account_id, entitlement, certified_at, certified_by, campaign_id) \
             SELECT system, account_id, entitlement, decided_at, decided_by, campaign_id FROM campaign_items \
             WHERE campaign_id = ? AND decision = 'certify' AND kind = 'assignment' \
             ON CONFLICT (system, account_id, entitlement) DO UPDATE SET certified_at = excluded.certified_at, \
             certified_by = excluded.certified_by, campaign_id = excluded.campaign_id \
             WHERE excluded.certified_at >= certifications.certified_at",
            &[id.into()],
        )?;
        let undecided = if revoke_undecided { "revoke" } else { "keep" };
        tx.execute(
            "UPDATE campaigns SET status = 'closed', closed_at = ?, closed_by = ?, undecided = ? WHERE id = ?",
            &[now.into(), actor.into(), undecided.into(), id.into()],
        )?;
        let closed = read_campaigns(&mut tx, Some(id))?.pop().ok_or_else(|| StoreError::NotFound(format!("no campaign #{id}")))?;
        let data = serde_json::json!({
            "campaign": id, "items": closed.items, "certified": closed.certified, "revoked": closed.revoked,
            "revoked_at_close": revoked_at_close, "undecided": undecided, "gone": gone.len(), "population_hash": closed.population_hash,
            "failed_sources": failed.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-closed", data }])?;
        tx.commit()?;
        Ok(closed)
    }

    /// The open campaigns whose due date has passed at `now`.
    pub fn campaigns_past_due(&mut self, now: Instant) -> Result<Vec<Campaign>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = read_campaigns(&mut tx, None)?.into_iter().filter(|c| c.status == "open" && c.due < now).collect();
        tx.commit()?;
        Ok(out)
    }

    /// Hands the undecided items of campaign `id` that were not escalated yet to their
    /// reviewer's manager (an active person in HR who does not hold the access); returns
    /// how many moved. One ledger entry says from whom to whom.
    pub fn escalate_campaign(&mut self, id: i64, actor: &str, at: Instant) -> Result<u64, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut reviewers: Vec<String> = Vec::new();
        tx.query_each(
            "SELECT DISTINCT reviewer FROM campaign_items WHERE campaign_id = ? AND decision IS NULL AND escalated_at IS NULL AND reviewer IS NOT NULL ORDER BY reviewer",
            &[id.into()],
            |r| {
                reviewers.push(r.req_text(0)?.to_string());
                Ok(())
            },
        )?;
        let today = at.format("%Y-%m-%d").to_string();
        let mut moved = 0u64;
        let mut handed = Vec::new();
        for reviewer in reviewers {
            let mut manager = None;
            tx.query_each(
                "SELECT m.employee_id FROM people p JOIN people m ON m.employee_id = p.manager_id \
                 WHERE p.employee_id = ? AND m.status <> 'terminated' AND (m.end_date IS NULL OR m.end_date >= ?)",
                &[reviewer.as_str().into(), today.as_str().into()],
                |r| {
                    manager = Some(r.req_text(0)?.to_string());
                    Ok(())
                },
            )?;
            let Some(manager) = manager else { continue };
            let n = tx.execute(
                "UPDATE campaign_items SET reviewer = ?, delegated_by = ?, escalated_at = ? WHERE campaign_id = ? AND reviewer = ? \
                 AND decision IS NULL AND escalated_at IS NULL AND (employee_id IS NULL OR employee_id <> ?)",
                &[
                    manager.as_str().into(),
                    reviewer.as_str().into(),
                    at.timestamp().into(),
                    id.into(),
                    reviewer.as_str().into(),
                    manager.as_str().into(),
                ],
            )?;
            if n > 0 {
                moved += n;
                handed.push(serde_json::json!({ "from": reviewer, "to": manager, "items": n }));
            }
        }
        if moved > 0 {
            let data = serde_json::json!({ "campaign": id, "escalated": handed });
            tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-escalated", data }])?;
        }
        tx.commit()?;
        Ok(moved)
    }

    /// Per reviewer of campaign `id` with undecided items: how many, their e-mail address
    /// in HR, and whether a notice of `kind` was sent to them already.
    pub fn reviewers_to_notify(&mut self, id: i64, kind: &str) -> Result<Vec<(String, u64, Option<String>, bool)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT i.reviewer, COUNT(*), p.email, (SELECT COUNT(*) FROM campaign_notices n WHERE n.campaign_id = ? \
             AND n.reviewer = i.reviewer AND n.kind = ?) FROM campaign_items i LEFT JOIN people p ON p.employee_id = i.reviewer \
             WHERE i.campaign_id = ? AND i.decision IS NULL AND i.reviewer IS NOT NULL GROUP BY i.reviewer, p.email ORDER BY i.reviewer",
            &[id.into(), kind.into(), id.into()],
            |r| {
                out.push((r.req_text(0)?.to_string(), r.req_int(1)? as u64, r.text(2)?.map(str::to_string), r.req_int(3)? > 0));
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Records a notice sent (once per campaign, reviewer and kind), with a ledger entry.
    pub fn record_notice(
        &mut self,
        id: i64,
        reviewer: &str,
        kind: &str,
        channels: &[&str],
        actor: &str,
        at: Instant,
    ) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let joined = channels.join(" ");
        tx.execute(
            "INSERT INTO campaign_notices (campaign_id, reviewer, kind, sent_at, channels) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (campaign_id, reviewer, kind) DO NOTHING",
            &[id.into(), reviewer.into(), kind.into(), at.timestamp().into(), joined.as_str().into()],
        )?;
        let data = serde_json::json!({ "campaign": id, "reviewer": reviewer, "kind": kind, "channels": channels });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-reminded", data }])?;
        tx.commit()
    }

    /// The open campaigns.
    pub fn open_campaigns(&mut self) -> Result<Vec<Campaign>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = read_campaigns(&mut tx, None)?.into_iter().filter(|c| c.status == "open").collect();
        tx.commit()?;
        Ok(out)
    }

    /// Revocations decided and not yet seen gone: what the next audit verifies.
    pub fn pending_revocations(&mut self) -> Result<Vec<StoredItem>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE i.decision = 'revoke' AND i.verified_absent_at IS NULL ORDER BY i.id"
            ),
            &[],
            |r| {
                out.push(stored_item(r)?);
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Records revoked items as verified absent at `at` (an import after the decision no
    /// longer holds them), with one ledger entry.
    pub fn verify_revocations(&mut self, items: &[(i64, i64)], actor: &str, at: Instant) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tx = self.conn.transaction()?;
        for (id, _) in items {
            tx.execute("UPDATE campaign_items SET verified_absent_at = ? WHERE id = ?", &[at.timestamp().into(), (*id).into()])?;
        }
        let listed: Vec<serde_json::Value> =
            items.iter().map(|(id, import)| serde_json::json!({ "item": id, "import_id": import })).collect();
        let data = serde_json::json!({ "items": listed });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "campaign-revocations-verified", data }])?;
        tx.commit()
    }
}

/// How one reviewer reviewed: what an auditor looks at for rubber-stamping.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewerDiligence {
    pub reviewer: String,
    pub items: u64,
    pub decided: u64,
    pub certified: u64,
    pub revoked: u64,
    /// Certified of decided (0–1).
    pub certified_share: f64,
    /// Median hours from the launch to a decision.
    pub median_hours_to_decide: Option<f64>,
    /// Runs of at least [`FAST_RUN`] decisions, each less than a second after the one
    /// before (a bulk decision is one such run), and the items decided in them.
    pub fast_runs: u64,
    pub items_in_fast_runs: u64,
    /// Items certified although they had open findings.
    pub certified_with_open_findings: u64,
    /// Items certified although the recommendation was to revoke.
    pub certified_against_recommendation: u64,
}

/// Decisions in a row, each under a second after the last, that make a fast run.
pub const FAST_RUN: u64 = 5;

impl Store {
    /// Per reviewer of campaign `id`: decisions, time to decide, the share certified, fast
    /// runs, and certifications against findings or the recommendation.
    pub fn campaign_diligence(&mut self, id: i64) -> Result<Vec<ReviewerDiligence>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut launched = 0i64;
        tx.query_each("SELECT created_at FROM campaigns WHERE id = ?", &[id.into()], |r| {
            launched = r.req_int(0)?;
            Ok(())
        })?;
        let mut out: Vec<ReviewerDiligence> = Vec::new();
        let mut waits: Vec<i64> = Vec::new();
        let mut last_ms: Option<i64> = None;
        let mut run = 0u64;
        let finish_run = |d: &mut ReviewerDiligence, run: &mut u64| {
            if *run >= FAST_RUN {
                d.fast_runs += 1;
                d.items_in_fast_runs += *run;
            }
            *run = 0;
        };
        let close = |d: &mut ReviewerDiligence, waits: &mut Vec<i64>, run: &mut u64| {
            finish_run(d, run);
            if d.decided > 0 {
                d.certified_share = d.certified as f64 / d.decided as f64;
            }
            if !waits.is_empty() {
                waits.sort_unstable();
                d.median_hours_to_decide = Some(waits[waits.len() / 2] as f64 / 3600.0);
            }
            waits.clear();
        };
        // Decided items by the reviewer who decided them, in the order decided; undecided
        // ones by the reviewer they wait for.
        tx.query_each(
            "SELECT COALESCE(decided_by, reviewer, ''), decision, decided_at, decided_ms, open_findings, recommendation \
             FROM campaign_items WHERE campaign_id = ? ORDER BY 1, decided_ms, id",
            &[id.into()],
            |r| {
                let reviewer = r.req_text(0)?;
                if out.last().is_none_or(|d| d.reviewer != reviewer) {
                    if let Some(d) = out.last_mut() {
                        close(d, &mut waits, &mut run);
                    }
                    out.push(ReviewerDiligence { reviewer: reviewer.to_string(), ..Default::default() });
                    last_ms = None;
                }
                let d = out.last_mut().ok_or_else(|| StoreError::Corrupt("no reviewer".into()))?;
                d.items += 1;
                let Some(decision) = r.text(1)? else { return Ok(()) };
                d.decided += 1;
                if decision == "certify" {
                    d.certified += 1;
                    d.certified_with_open_findings += u64::from(r.req_int(4)? > 0);
                    d.certified_against_recommendation += u64::from(r.req_text(5)? == "revoke");
                } else {
                    d.revoked += 1;
                }
                if let Some(at) = r.int(2)? {
                    waits.push(at - launched);
                }
                let ms = r.int(3)?.unwrap_or_default();
                match last_ms {
                    Some(prev) if ms - prev < 1000 => run += 1,
                    _ => {
                        finish_run(d, &mut run);
                        run = 1;
                    }
                }
                last_ms = Some(ms);
                Ok(())
            },
        )?;
        if let Some(d) = out.last_mut() {
            close(d, &mut waits, &mut run);
        }
        tx.commit()?;
        Ok(out)
    }
}

fn read_campaigns(tx: &mut Tx<'_>, id: Option<i64>) -> Result<Vec<Campaign>, StoreError> {
    let mut out = Vec::new();
    let only = if id.is_some() { "WHERE c.id = ?" } else { "" };
    let params: Vec<Value<'_>> = id.iter().map(|i| Value::from(*i)).collect();
    tx.query_each(
        &format!(
            "SELECT c.id, c.name, c.scope, c.reviewer_strategy, c.fallback, c.due_at, c.status, c.created_at, c.created_by, c.items, \
             c.population_hash, c.population, c.closed_at, c.closed_by, c.undecided, \
             c.decided, c.certified, c.revoked, c.origin FROM campaigns c {only} ORDER BY c.id DESC"
        ),
        &params,
        |r| {
            let text = |i: usize| -> Result<Option<String>, StoreError> { Ok(r.text(i)?.map(str::to_string)) };
            out.push(Campaign {
                id: r.req_int(0)?,
                name: r.req_text(1)?.to_string(),
                scope: r.req_text(2)?.to_string(),
                reviewer_strategy: r.req_text(3)?.to_string(),
                fallback: text(4)?,
                due: instant(r.int(5)?).unwrap_or_default(),
                status: r.req_text(6)?.to_string(),
                created_at: instant(r.int(7)?).unwrap_or_default(),
                created_by: r.req_text(8)?.to_string(),
                items: r.req_int(9)?,
                population_hash: r.req_text(10)?.to_string(),
                population: serde_json::from_str(r.req_text(11)?).unwrap_or_default(),
                closed_at: instant(r.int(12)?),
                closed_by: text(13)?,
                undecided: text(14)?,
                decided: r.req_int(15)?,
                certified: r.req_int(16)?,
                revoked: r.req_int(17)?,
                origin: text(18)?,
            });
            Ok(())
        },
    )?;
    Ok(out)
}

/// Checks `items` for `request` (see [`Store::decide_all`]), adding what is wrong to
/// `problems`; returns the items found.
fn check_items(
    tx: &mut Tx<'_>,
    items: &[i64],
    request: &DecisionRequest,
    comment: Option<&str>,
    problems: &mut Vec<String>,
) -> Result<Vec<StoredItem>, StoreError> {
    let mut found = Vec::with_capacity(items.len());
    for &id in items {
        let mut row = None;
        let mut status = String::new();
        tx.query_each(
            &format!("SELECT {ITEM_COLUMNS}, c.status FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id WHERE i.id = ?"),
            &[id.into()],
            |r| {
                row = Some(stored_item(r)?);
                status = r.req_text(31)?.to_string();
                Ok(())
            },
        )?;
        let Some(item) = row else {
            problems.push(format!("item {id} does not exist"));
            continue;
        };
        if status != "open" {
            problems.push(format!("item {id} is in campaign #{}, which is closed", item.campaign_id));
        } else if item.item.employee_id.as_deref() == Some(request.reviewer.as_str()) {
            problems.push(format!("item {id} is {}'s own access: nobody reviews their own", request.reviewer));
        } else if item.item.reviewer.as_deref() != Some(request.reviewer.as_str()) {
            let whose = item.item.reviewer.as_deref().unwrap_or("nobody yet");
            problems.push(format!("item {id} is for {whose} to review, not {}", request.reviewer));
        } else if let Some(d) = &item.decision {
            problems.push(format!("item {id} was already decided ({d}) by {}", item.decided_by.as_deref().unwrap_or("?")));
        } else if comment.is_none() && request.decision == "revoke" && item.item.privileged {
            problems.push(format!("item {id} is privileged access: revoking it needs a comment"));
        } else if comment.is_none() && request.decision == "certify" && item.item.open_findings > 0 {
            problems.push(format!("item {id} has {} open finding(s): certifying it needs a comment", item.item.open_findings));
        }
        found.push(item);
    }
    Ok(found)
}

/// Decides the same access alike in the other open campaigns that hold it undecided;
/// refuses when one of them decided it the other way. Returns the items decided so.
fn decide_alike(tx: &mut Tx<'_>, item: &StoredItem, request: &DecisionRequest, now: i64, millis: i64) -> Result<Vec<i64>, StoreError> {
    let mut others: Vec<(i64, Option<String>, i64)> = Vec::new();
    tx.query_each(
        // Campaign by campaign (CROSS JOIN keeps SQLite's loops in this order: the few open
        // campaigns, the access in each, its item).
        "SELECT i.id, i.decision, i.campaign_id FROM campaigns c CROSS JOIN campaign_access a CROSS JOIN campaign_items i \
         WHERE c.status = 'open' AND a.campaign_id = c.id AND a.access_key = ? AND i.id = a.item_id AND i.system = ? AND i.account_id = ? AND i.entitlement = ? AND i.kind = ? AND i.id <> ?",
        &[
            access_key(&item.item).into(),
            item.item.system.as_str().into(),
            item.item.account_id.as_str().into(),
            item.item.entitlement.as_str().into(),
            item.item.kind.as_str().into(),
            item.id.into(),
        ],
        |r| {
            others.push((r.req_int(0)?, r.text(1)?.map(str::to_string), r.req_int(2)?));
            Ok(())
        },
    )?;
    let mut alike = Vec::new();
    for (other, decision, campaign) in others {
        match decision {
            Some(d) if d != request.decision => {
                return Err(StoreError::Conflict(format!(
                    "item {} is the same access as item {other}, already decided {d} in another open campaign: nothing was decided",
                    item.id
                )));
            }
            Some(_) => {}
            None => {
                let note = format!("decided with item {} (the same access)", item.id);
                tx.execute(
                    "UPDATE campaign_items SET decision = ?, decided_by = ?, decided_at = ?, decided_ms = ?, comment = ? WHERE id = ? AND decision IS NULL",
                    &[request.decision.as_str().into(), request.reviewer.as_str().into(), now.into(), millis.into(), note.as_str().into(), other.into()],
                )?;
                count_decision(tx, campaign, &request.decision)?;
                alike.push(other);
            }
        }
    }
    Ok(alike)
}

/// The campaign's counters, one more decision.
fn count_decision(tx: &mut Tx<'_>, campaign: i64, decision: &str) -> Result<(), StoreError> {
    count_decisions(tx, campaign, decision, 1)
}

fn count_decisions(tx: &mut Tx<'_>, campaign: i64, decision: &str, n: i64) -> Result<(), StoreError> {
    let (certified, revoked) = if decision == "certify" { (n, 0) } else { (0, n) };
    tx.execute(
        "UPDATE campaigns SET decided = decided + ?, certified = certified + ?, revoked = revoked + ? WHERE id = ?",
        &[n.into(), certified.into(), revoked.into(), campaign.into()],
    )?;
    Ok(())
}

/// The access an item reviews, hashed to a number (the first 8 bytes of a SHA-256 of its
/// kind, system, account and entitlement): equal for the same access in every campaign. The
/// names are compared too, so a collision only costs a look.
fn access_key(i: &ReviewItem) -> i64 {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [i.kind.as_str(), &i.system, &i.account_id, &i.entitlement] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}
