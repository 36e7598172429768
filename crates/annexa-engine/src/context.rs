//! What every check needs: the graph, indexed once, with accounts correlated to people.

use crate::config::{Config, EntitlementPatterns};
use crate::correlate::{correlate, people_by_email, Correlation, PeopleByEmail};
use annexa_core::finding::{finding_id, AssignmentEvidence, Evidence, Finding, Severity, SourceRecord, Subject, SubjectKind};
use annexa_core::graph::IdentityGraph;
use annexa_core::model::{Account, Origin, Person, PersonStatus};
use annexa_core::text::email_key;
use annexa_core::time::Instant;
use rustc_hash::FxHashMap as HashMap;

/// The graph as the checks see it, for one as-of instant.
pub struct Context<'g> {
    pub graph: &'g IdentityGraph,
    pub config: &'g Config,
    pub as_of: Instant,
    pub person_by_id: HashMap<&'g str, usize>,
    /// For each account, the person it belongs to (and how that was decided).
    pub correlation: Vec<Option<Correlation>>,
    /// For each account, the active person its `owner` names, if any.
    pub owner: Vec<Option<usize>>,
    /// For each person, their accounts.
    pub accounts_of_person: Vec<Vec<usize>>,
    /// People by lower-cased email; `None` where two people share it.
    pub person_by_email: PeopleByEmail<'g>,
    /// Grants grouped by account: `grants_of(a)` slices this.
    grant_order: Vec<u32>,
    grant_start: Vec<u32>,
    /// For each entitlement, whether it is privileged (by its source or the configuration).
    pub entitlement_privileged: Vec<bool>,
    /// Badges by employee id.
    pub badges_of_person: Vec<Vec<usize>>,
    /// What verifying the evidence ledger found, when the caller verified it.
    pub ledger: Option<LedgerStatus>,
    /// Revocations decided in campaigns and not yet verified: the input of
    /// `revocation-not-fulfilled` (which runs only when they are given).
    pub revocations: Option<Vec<annexa_core::campaign::Revocation>>,
    /// Records leave their file name and hash empty ([`crate::OwnRecords::records_by_import`]).
    pub records_by_import: bool,
    imports: HashMap<i64, (&'g str, &'g str)>,
}

impl<'g> Context<'g> {
    pub fn new(graph: &'g IdentityGraph, config: &'g Config, as_of: Instant) -> Context<'g> {
        // The people side (correlation, owners) and the access side (assignments resolved to
        // accounts and privilege) share nothing: build them on two cores.
        let (people, access) = std::thread::scope(|scope| {
            let access = scope.spawn(|| AccessIndex::new(graph, config));
            let people = PeopleIndex::new(graph, config);
            // A panic in the other half is a bug; surface it rather than run without it.
            let access = access.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            (people, access)
        });
        let mut badges_of_person = vec![Vec::new(); graph.people.len()];
        for (i, b) in graph.badges.iter().enumerate() {
            if let Some(p) = b.employee_id.as_deref().and_then(|e| people.person_by_id.get(e)) {
                badges_of_person[*p].push(i);
            }
        }
        let imports = graph.imports.iter().map(|i| (i.id, (i.file.as_str(), i.sha256.as_str()))).collect();
        Context {
            graph,
            config,
            as_of,
            person_by_id: people.person_by_id,
            correlation: people.correlation,
            owner: people.owner,
            accounts_of_person: people.accounts_of_person,
            person_by_email: people.person_by_email,
            grant_order: access.order,
            grant_start: access.start,
            entitlement_privileged: access.privileged,
            badges_of_person,
            imports,
            ledger: None,
            revocations: None,
            records_by_import: false,
        }
    }

    /// The indices (into `graph.grants`) of an account's grants.
    pub fn grants_of(&self, account: usize) -> impl Iterator<Item = usize> + '_ {
        let (s, e) = (self.grant_start[account] as usize, self.grant_start[account + 1] as usize);
        self.grant_order[s..e].iter().map(|i| *i as usize)
    }

    /// Whether grant `g` is of a privileged entitlement.
    pub fn privileged(&self, g: usize) -> bool {
        self.entitlement_privileged[self.graph.grants[g].entitlement as usize]
    }

    /// The entitlement of grant `g`.
    pub fn entitlement_of(&self, g: usize) -> &'g annexa_core::model::Entitlement {
        &self.graph.entitlements[self.graph.grants[g].entitlement as usize]
    }

    /// `system:entitlement` of grant `g`, as SoD rules and messages write it.
    pub fn grant_label(&self, g: usize) -> String {
        let e = self.entitlement_of(g);
        format!("{}:{}", e.system, e.name)
    }

    /// The evidence record of grant `g`.
    pub fn grant_source(&self, g: usize) -> SourceRecord {
        let grant = &self.graph.grants[g];
        self.source("assignment", self.graph.grant_key(grant), grant.origin)
    }

    /// The person an account is correlated to.
    pub fn person_of(&self, account: usize) -> Option<&'g Person> {
        self.correlation[account].as_ref().map(|c| &self.graph.people[c.person])
    }

    /// Whether an account holds any privileged entitlement.
    pub fn holds_privileged(&self, account: usize) -> bool {
        self.grants_of(account).any(|g| self.privileged(g))
    }

    /// The kind of import a record came from (`ldif`, `accounts`, ...).
    pub fn import_kind(&self, origin: Origin) -> Option<&'g str> {
        self.graph.import(origin.import_id).map(|i| i.kind.as_str())
    }

    pub fn source(&self, record: &'static str, key: String, origin: Origin) -> SourceRecord {
        let (file, sha256) = match self.records_by_import {
            true => ("", ""),
            false => self.imports.get(&origin.import_id).copied().unwrap_or(("", "")),
        };
        SourceRecord {
            record: record.into(),
            key,
            import_id: origin.import_id,
            file: file.to_string(),
            sha256: sha256.to_string(),
            line: origin.line,
        }
    }

    pub fn account_source(&self, a: &Account) -> SourceRecord {
        self.source("account", a.key(), a.origin)
    }

    pub fn person_source(&self, p: &Person) -> SourceRecord {
        self.source("person", annexa_core::key::part(&p.employee_id).into_owned(), p.origin)
    }

    /// A subject for an account: `system/account_id`, labelled with who it belongs to.
    pub fn account_subject(&self, account: usize) -> Subject {
        let a = &self.graph.accounts[account];
        let label = match self.person_of(account) {
            Some(p) => format!("{} ({})", a.username, p.display_name()),
            None if !a.display_name.is_empty() && a.display_name != a.username => {
                format!("{} ({})", a.username, a.display_name)
            }
            None => a.username.clone(),
        };
        Subject { kind: SubjectKind::Account, key: a.key(), label }
    }

    pub fn person_subject(&self, p: &Person) -> Subject {
        Subject { kind: SubjectKind::Person, key: annexa_core::key::part(&p.employee_id).into_owned(), label: p.display_name() }
    }

    /// Days from `then` to the as-of instant.
    pub fn days_since(&self, then: Instant) -> i64 {
        (self.as_of - then).num_days()
    }
}

/// The evidence ledger as its verification left it: the input of `log-integrity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerStatus {
    pub entries: u64,
    /// Why the ledger does not verify (which entry or checkpoint), if it does not.
    pub problem: Option<String>,
    /// The size and signing time of the newest signed checkpoint.
    pub newest_checkpoint: Option<(u64, Instant)>,
}

/// Builds a finding with its stable id, the check's controls and the as-of time, and hands
/// it on: findings leave the check in small batches as they are found, so a check's output
/// is never held whole (an organisation's first audit finds hundreds of thousands).
pub struct FindingBuilder<'c> {
    pub check: &'static crate::checks::CheckDef,
    pub severity: Severity,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub as_of: Instant,
    pub out: Emitter<'c>,
    /// Why the check could not judge, when its configuration is missing.
    pub not_evaluated: Option<String>,
    /// The part of the check's subjects this run of it covers (all of them but for a check
    /// run in parts: [`Part`]).
    pub part: Part,
}

/// Which part of a check's subjects one run of it covers. A check that finds something on
/// nearly every account of a first audit (certification-overdue: millions of findings at
/// 1,000,000 people) runs in several parts over consecutive accounts, each on whichever
/// core is free, so that the findings are found and prepared for the store on one core
/// (their memory written, read and freed where it is warm) while the other does the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    pub of: usize,
}

impl Part {
    /// All of the subjects.
    pub const WHOLE: Part = Part { index: 0, of: 1 };

    /// This part of `0..len`: the parts are consecutive and each index is in exactly one.
    pub fn range(self, len: usize) -> std::ops::Range<usize> {
        let of = self.of.max(1) as u128;
        let at = |i: usize| (len as u128 * (i as u128).min(of) / of) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// Where a check's findings go: a batch at a time, to whoever consumes them.
pub struct Emitter<'c> {
    batch: Vec<Finding>,
    send: &'c (dyn Fn(Vec<Finding>) -> bool + Sync),
    /// The consumer stopped (it failed): what follows is dropped.
    stopped: bool,
}

/// Findings handed on at a time: enough to amortise the hand-over, few enough that a batch
/// is still in the core's own cache when it is prepared for the store, right after it was
/// built (256 at a time, the first had left it: a first audit prepared 4 % slower).
const BATCH: usize = 64;

impl<'c> Emitter<'c> {
    /// An emitter handing batches to `send`, which says whether to go on.
    pub fn new(send: &'c (dyn Fn(Vec<Finding>) -> bool + Sync)) -> Emitter<'c> {
        Emitter { batch: Vec::new(), send, stopped: false }
    }

    fn push(&mut self, f: Finding) {
        if self.stopped {
            return;
        }
        self.batch.push(f);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    /// Hands on what is left.
    pub fn flush(&mut self) {
        if !self.batch.is_empty() && !self.stopped {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            self.stopped = !(self.send)(batch);
        }
    }
}

impl FindingBuilder<'_> {
    /// Says that the check cannot judge (no configuration to judge by), and why: the audit
    /// reports it once, instead of findings that would mean nothing.
    pub fn not_evaluated(&mut self, reason: &str) {
        self.not_evaluated = Some(reason.to_string());
    }

    pub fn push(&mut self, subject: Subject, message: String, records: Vec<SourceRecord>, values: serde_json::Value) {
        self.push_with_severity(self.severity, subject, message, records, values);
    }

    pub fn push_with_severity(
        &mut self,
        severity: Severity,
        subject: Subject,
        message: String,
        records: Vec<SourceRecord>,
        values: serde_json::Value,
    ) {
        self.push_covering(severity, subject, message, records, values, Vec::new());
    }

    /// A finding about an account's access that covers `assignments` (`grouped.rs`).
    pub fn push_covering(
        &mut self,
        severity: Severity,
        subject: Subject,
        message: String,
        records: Vec<SourceRecord>,
        values: serde_json::Value,
        assignments: Vec<AssignmentEvidence>,
    ) {
        let values = match values {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        self.out.push(Finding {
            id: finding_id(self.check.id, &subject.key),
            check: self.check.id.to_string(),
            severity,
            subject,
            controls: self.check.controls.iter().map(|c| c.to_string()).collect(),
            message,
            evidence: Evidence { records, values, assignments, parameters: self.parameters.clone(), as_of: Some(self.as_of) },
        });
    }
}

/// Who is who: people by id, accounts correlated to people, owners resolved.
struct PeopleIndex<'g> {
    person_by_id: HashMap<&'g str, usize>,
    correlation: Vec<Option<Correlation>>,
    owner: Vec<Option<usize>>,
    accounts_of_person: Vec<Vec<usize>>,
    person_by_email: PeopleByEmail<'g>,
}

impl<'g> PeopleIndex<'g> {
    fn new(graph: &'g IdentityGraph, config: &Config) -> PeopleIndex<'g> {
        let person_by_id: HashMap<&str, usize> = graph.people.iter().enumerate().map(|(i, p)| (&*p.employee_id, i)).collect();
        let person_by_email = people_by_email(graph);
        let correlation = correlate(graph, &config.correlation, &person_by_id, &person_by_email);
        let owner = graph
            .accounts
            .iter()
            .map(|a| {
                let o = a.owner.as_deref()?;
                let p = person_by_id.get(o).copied().or_else(|| person_by_email.get(&email_key(o)).copied().flatten())?;
                (graph.people[p].status != PersonStatus::Terminated).then_some(p)
            })
            .collect();
        let mut accounts_of_person = vec![Vec::new(); graph.people.len()];
        for (a, c) in correlation.iter().enumerate() {
            if let Some(c) = c {
                accounts_of_person[c.person].push(a);
            }
        }
        PeopleIndex { person_by_id, correlation, owner, accounts_of_person, person_by_email }
    }
}

/// Who holds what: grants grouped by account, and which entitlements are privileged.
struct AccessIndex {
    privileged: Vec<bool>,
    order: Vec<u32>,
    start: Vec<u32>,
}

impl AccessIndex {
    fn new(graph: &IdentityGraph, config: &Config) -> AccessIndex {
        // Counting sort of grants by account: one pass, no per-account vectors.
        let mut start = vec![0u32; graph.accounts.len() + 1];
        for g in &graph.grants {
            start[g.account as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; graph.grants.len()];
        for (i, g) in graph.grants.iter().enumerate() {
            let slot = &mut fill[g.account as usize];
            order[*slot as usize] = i as u32;
            *slot += 1;
        }
        let patterns = EntitlementPatterns::new(&config.privileged.entitlements);
        let privileged = graph.entitlements.iter().map(|e| e.privileged || patterns.any(&e.system, &e.name)).collect();
        AccessIndex { privileged, order, start }
    }
}

#[cfg(test)]
mod tests {
    use super::Part;

    /// The parts of any length are consecutive, cover it, and hold each index once, also
    /// when there are more parts than indexes.
    #[test]
    fn parts_cover_every_index_once() {
        for len in [0, 1, 2, 7, 8, 9, 1_000_003] {
            for of in [1, 2, 3, 8, 16] {
                let mut next = 0;
                for index in 0..of {
                    let r = Part { index, of }.range(len);
                    assert_eq!(r.start, next, "len {len}, part {index} of {of}");
                    assert!(r.end >= r.start);
                    next = r.end;
                }
                assert_eq!(next, len, "len {len} in {of} parts");
            }
        }
        assert_eq!(Part::WHOLE.range(5), 0..5);
        assert_eq!(Part { index: 9, of: 8 }.range(5), 5..5, "a part past the last is empty");
    }
}
