//! Access certification campaigns as people run them: launched over a scope (the population
//! drawn from the identity graph and snapshotted with its proof), reviewed item by item or in
//! bulk, delegated, closed. A revoke becomes a task in the durable provisioning queue (a
//! manual one for a system Annexa cannot change), carried out by the connectors; the audits
//! verify it (`verify_revocations`).

use crate::{App, Error, Result};
use annexa_core::campaign::ItemKind;
use annexa_core::model::TaskAction;
use annexa_core::time::Instant;
use annexa_engine::campaign::{population, PopulationInput, ReviewerStrategy, Scope};
use annexa_engine::context::Context;
use annexa_store::campaign::{Campaign, Decided, DecisionRequest, ItemFilter, NewCampaign, ReviewerDiligence, StoredItem};
use annexa_store::provisioning::NewTask;
use annexa_store::{FindingFilter, FindingStatus};
use std::collections::HashSet;

/// A campaign to launch, as a person asks for it.
#[derive(Debug, Clone)]
pub struct CampaignRequest {
    pub name: String,
    /// Scope terms (`privileged`, `system:erp`, ...), all of which an item meets.
    pub scope: Vec<String>,
    /// `manager`, `entitlement-owner`, `system-owner` or `named:EMPLOYEE_ID`.
    pub reviewer: String,
    pub due: Instant,
    pub fallback: Option<String>,
    /// What opens it when no person does (`recurring:NAME`, `mover:EMPLOYEE_ID`).
    pub origin: Option<String>,
}

/// What `run_due_campaigns` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DueCampaigns {
    pub opened: Vec<Campaign>,
    /// Schedules and movers that were due but could not open, with why.
    pub not_opened: Vec<String>,
    /// Revalidations past due, closed with their account's disabling queued.
    pub expired: Vec<Campaign>,
    /// Campaigns past due whose undecided items went to the reviewers' managers: (id, items).
    pub escalated: Vec<(i64, u64)>,
    /// Reminders sent, and those that could not be (tried again at the next run).
    pub reminded: Vec<String>,
    pub not_sent: Vec<String>,
}

impl App {
    /// Launches a campaign: draws its population as of now and stores it with its proof,
    /// in one transaction. Refused when the scope holds nothing, or when items would have no
    /// reviewer (the strategy names nobody, or a leaver, and there is no fallback).
    pub fn create_campaign(&self, request: &CampaignRequest) -> Result<Campaign> {
        if request.name.trim().is_empty() {
            return Err(Error::invalid("the campaign needs a name (--name)"));
        }
        let scope = Scope::parse(&request.scope.join(",")).map_err(Error::invalid)?;
        let strategy = ReviewerStrategy::parse(&request.reviewer).map_err(Error::invalid)?;
        let now = self.now();
        if request.due <= now {
            return Err(Error::invalid(format!("the due date {} is not in the future", request.due.format("%Y-%m-%d"))));
        }
        let mut store = self.store()?;
        let loading = std::time::Instant::now();
        let graph = self.load_graph(&mut store)?;
        let config = &self.settings.config;
        let ctx = Context::new(&graph, config, now);
        let indexed = loading.elapsed();
        let active = |id: &str| {
            ctx.person_by_id.get(id).map(|&p| &graph.people[p]).is_some_and(|p| {
                p.status != annexa_core::model::PersonStatus::Terminated && p.end_date.is_none_or(|d| d >= now.date_naive())
            })
        };
        for (what, id) in [
            ("--fallback", request.fallback.as_deref()),
            (
                "the named reviewer",
                match &strategy {
                    ReviewerStrategy::Named(id) => Some(id.as_str()),
                    _ => None,
                },
            ),
        ] {
            if let Some(id) = id {
                if !active(id) {
                    return Err(Error::invalid(format!("{what} {id} is not an active person in the HR feed")));
                }
            }
        }
        let mut check_subjects = HashSet::new();
        for check in scope.checks() {
            if annexa_engine::checks::check(check).is_none() {
                return Err(annexa_engine::UnknownCheck(check.to_string()).into());
            }
            // The access a finding is about: the assignments its evidence names, or else its
            // subject (an account: all of its access).
            let filter = FindingFilter { check: Some(check.to_string()), status: Some(FindingStatus::Open), ..Default::default() };
            store.findings_each(&filter, false, |f| {
                let assignments: Vec<&str> =
                    f.finding.evidence.records.iter().filter(|r| r.record == "assignment").map(|r| r.key.as_str()).collect();
                if assignments.is_empty() {
                    check_subjects.insert(f.finding.subject.key.clone());
                } else {
                    check_subjects.extend(assignments.into_iter().map(str::to_string));
                }
                Ok(())
            })?;
        }
        let open_findings = store.open_findings_by_subject()?;
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| Error::internal(format!("no randomness for the campaign's worksheet key: {e}")))?;
        let new = NewCampaign {
            name: request.name.trim().to_string(),
            scope: scope.text(),
            reviewer_strategy: strategy.text(),
            fallback: request.fallback.clone(),
            due: request.due,
            worksheet_key: annexa_core::to_hex(&secret),
            origin: request.origin.clone(),
        };
        self.progress.step("drawing the campaign's population");
        let mut writer = store.begin_campaign(&new, &self.actor, now)?;
        let input = PopulationInput {
            scope: &scope,
            strategy: &strategy,
            fallback: request.fallback.as_deref(),
            check_subjects: &check_subjects,
            open_findings: &open_findings,
            params: &config.campaigns,
        };
        // The population is drawn on a thread of its own and written on this one as it
        // comes, in batches through a bounded channel: drawing and storing overlap, and
        // nothing holds more than a few batches.
        let started = std::time::Instant::now();
        let mut failed = None;
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<annexa_core::campaign::ReviewItem>>(8);
        let drawn = std::thread::scope(|threads| {
            let drawing = threads.spawn(|| {
                let mut batch = Vec::with_capacity(1024);
                let drawn = population(&ctx, &input, &mut |item| {
                    batch.push(item);
                    if batch.len() == 1024 {
                        // The writer stopped (it failed): the rest is not needed.
                        let _ = send.send(std::mem::replace(&mut batch, Vec::with_capacity(1024)));
                    }
                });
                let _ = send.send(batch);
                drop(send);
                drawn
            });
            for batch in receive {
                for item in batch {
                    if failed.is_none() {
                        if let Err(e) = writer.add(item) {
                            failed = Some(e);
                        }
                    }
                }
            }
            drawing.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let drawn_and_stored = started.elapsed();
        if drawn.items == 0 {
            return Err(Error::invalid(format!("the scope {} holds no access to review", scope.text())));
        }
        if drawn.without_reviewer > 0 {
            let advice = match &request.fallback {
                // The fallback's own access goes to their manager: one without a manager
                // leaves it to no one.
                Some(f) => format!(
                    "the fallback {f} cannot review their own access and has no manager in HR to take it: give a fallback who has one"
                ),
                None => "give --fallback EMPLOYEE_ID".to_string(),
            };
            return Err(Error::invalid(format!(
                "{} of {} items would have no reviewer (the {} strategy names nobody, or a leaver): {advice}",
                drawn.without_reviewer,
                drawn.items,
                strategy.text()
            )));
        }
        let finishing = std::time::Instant::now();
        let id = writer.finish(&drawn)?;
        self.progress.finish();
        self.checkpoint(&mut store)?;
        if std::env::var_os("ANNEXA_TIMINGS").is_some() {
            self.progress.note(&format!(
                "timings: graph loaded and indexed {:?}, items drawn and stored {drawn_and_stored:?}, indexes and commit {:?}",
                indexed,
                finishing.elapsed()
            ));
        }
        Ok(store.campaign(id)?)
    }

    /// Does what is due: closes unanswered revalidations (disabling their accounts) or
    /// escalates past-due campaigns; opens each recurring campaign of the configuration whose
    /// interval has passed since the last one it opened, a micro-certification for each mover
    /// with open `mover-access-review` findings not yet under review, and a revalidation for
    /// each new finding of the revalidation checks about an account (those findings are then
    /// acknowledged, owned by the review, due with it, and say so in a comment). One that
    /// cannot open (nothing in scope, no reviewer) is reported, not fatal to the others.
    pub fn run_due_campaigns(&self) -> Result<DueCampaigns> {
        let now = self.now();
        let config = &self.settings.config.campaigns;
        let mut done = DueCampaigns::default();
        self.handle_past_due(&mut done)?;
        self.open_revalidations(&mut done)?;
        let mut store = self.store()?;
        let open = |request: CampaignRequest, done: &mut DueCampaigns| -> Result<Option<Campaign>> {
            match self.create_campaign(&request) {
                Ok(c) => {
                    done.opened.push(c.clone());
                    Ok(Some(c))
                }
                Err(e) if e.kind == crate::ErrorKind::InvalidInput => {
                    done.not_opened.push(format!("{}: {e}", request.name));
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        };
        for r in &config.recurring {
            let origin = format!("recurring:{}", r.name);
            let last = store.campaign_from(&origin)?;
            if last.is_some_and(|c| c.created_at + chrono::Duration::days(i64::from(r.every_days)) > now) {
                continue;
            }
            let due = now + chrono::Duration::days(i64::from(r.due_days.unwrap_or(config.due_days)));
            let request = CampaignRequest {
                name: format!("{} {}", r.name, now.format("%Y-%m-%d")),
                scope: r.scope.clone(),
                reviewer: r.reviewer.clone(),
                due,
                fallback: r.fallback.clone(),
                origin: Some(origin),
            };
            open(request, &mut done)?;
        }
        if config.mover_reviews {
            // The movers whose carried-over access no one is reviewing yet: their findings
            // are open and nobody acknowledged them.
            let filter = FindingFilter {
                check: Some("mover-access-review".into()),
                state: Some(annexa_core::finding::FindingState::Open),
                ..Default::default()
            };
            let mut movers: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
            store.findings_each(&filter, false, |f| {
                if let Some(p) = f.finding.evidence.records.iter().find(|r| r.record == "person") {
                    movers.entry(annexa_core::key::unescape(&p.key).into_owned()).or_default().push(f.finding.id.clone());
                }
                Ok(())
            })?;
            for (person, findings) in movers {
                let due = now + chrono::Duration::days(i64::from(config.due_days));
                let request = CampaignRequest {
                    name: format!("Mover review: {person}"),
                    scope: vec!["check:mover-access-review".into(), format!("person:{person}")],
                    reviewer: config.mover_reviewer.clone(),
                    due,
                    fallback: config.mover_fallback.clone(),
                    origin: Some(format!("mover:{person}")),
                };
                let Some(c) = open(request, &mut done)? else { continue };
                let ids = crate::lifecycle::Selection::Ids(findings);
                self.triage(&ids, &annexa_store::lifecycle::Triage::Assign { owner: format!("campaign #{}", c.id), due: Some(c.due) })?;
                let note = format!("under review in campaign #{} \"{}\", due {}", c.id, c.name, c.due.format("%Y-%m-%d"));
                self.triage(&ids, &annexa_store::lifecycle::Triage::Comment { text: note })?;
            }
        }
        self.send_reminders(&mut done)?;
        Ok(done)
    }

    /// What a revalidation's answer means for its finding: confirmed, the account is kept
    /// and the finding accepted as a risk (approved by the reviewer, with the justification)
    /// until the confirmation expires; not confirmed, the finding says the account is being
    /// disabled (the next audit after that resolves it).
    fn record_revalidations(&self, decided: &Decided) -> Result<()> {
        use annexa_store::lifecycle::Triage;
        let days = i64::from(self.settings.config.campaigns.revalidation_valid_days);
        for r in &decided.revalidations {
            let ids = crate::lifecycle::Selection::Ids(vec![r.finding.clone()]);
            let justification = r.comment.clone().unwrap_or_else(|| "confirmed in its revalidation".into());
            let triage = match r.decision.as_str() {
                "certify" => Triage::Accept {
                    approver: r.reviewer.clone(),
                    reason: format!("account confirmed as still needed in revalidation campaign #{}: {justification}", r.campaign),
                    expires: self.now() + chrono::Duration::days(days.max(1)),
                },
                _ => Triage::Comment {
                    text: format!(
                        "not confirmed in revalidation campaign #{} by {}: the account is being disabled",
                        r.campaign, r.reviewer
                    ),
                },
            };
            match self.triage(&ids, &triage) {
                // A finding the audits no longer see needs nothing more.
                Err(e) if e.kind == crate::ErrorKind::Conflict => {}
                other => {
                    other?;
                }
            }
            // Its one item answered, the revalidation is over.
            self.close_campaign(r.campaign, false)?;
        }
        Ok(())
    }

    /// Opens a revalidation for each open finding of the configured checks about an
    /// account that nobody has acted on yet (see [`App::run_due_campaigns`]).
    fn open_revalidations(&self, done: &mut DueCampaigns) -> Result<()> {
        let config = &self.settings.config.campaigns;
        if !config.revalidations {
            return Ok(());
        }
        let mut store = self.store()?;
        let mut due: Vec<(String, String, String, Vec<String>)> = Vec::new();
        for check in &config.revalidation_checks {
            let filter =
                FindingFilter { check: Some(check.clone()), state: Some(annexa_core::finding::FindingState::Open), ..Default::default() };
            store.findings_each(&filter, false, |f| {
                if f.finding.subject.kind == annexa_core::finding::SubjectKind::Account {
                    due.push((f.finding.id, f.finding.check, f.finding.subject.key, f.finding.controls));
                }
                Ok(())
            })?;
        }
        if due.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let graph = self.load_graph(&mut store)?;
        let ctx = Context::new(&graph, &self.settings.config, now);
        let by_key: std::collections::HashMap<String, usize> = graph.accounts.iter().enumerate().map(|(i, a)| (a.key(), i)).collect();
        let open_findings = store.open_findings_by_subject()?;
        let mut without_reviewer = 0u64;
        for (finding, check, key, controls) in due {
            let Some(&account) = by_key.get(&key) else { continue };
            let item = annexa_engine::campaign::revalidation_item(
                &ctx,
                account,
                config.revalidation_fallback.as_deref(),
                open_findings.get(&key).copied().unwrap_or(1),
                config,
            );
            let name = format!("Revalidation of {key} ({check})");
            if item.reviewer.is_none() {
                without_reviewer += 1;
                continue;
            }
            let mut secret = [0u8; 32];
            getrandom::getrandom(&mut secret)
                .map_err(|e| Error::internal(format!("no randomness for the campaign's worksheet key: {e}")))?;
            let new = NewCampaign {
                name: name.clone(),
                scope: format!("check:{check},account:{key}"),
                reviewer_strategy: "account-owner".into(),
                fallback: config.revalidation_fallback.clone(),
                due: now + chrono::Duration::days(i64::from(config.revalidation_days)),
                worksheet_key: annexa_core::to_hex(&secret),
                origin: Some(format!("revalidation:{finding}")),
            };
            let proof = annexa_core::campaign::Population {
                items: 1,
                hash: annexa_core::to_hex(&<sha2::Sha256 as sha2::Digest>::digest(format!("{}\n", item.key()).as_bytes())),
                imports: vec![annexa_core::campaign::ImportCount {
                    import_id: item.origin.import_id,
                    read: 1,
                    in_scope: 1,
                    ..Default::default()
                }],
                without_reviewer: 0,
            };
            let reviewer = item.reviewer.clone().unwrap_or_default();
            let mut writer = store.begin_campaign(&new, &self.actor, now)?;
            writer.add(item)?;
            let id = writer.finish(&proof)?;
            self.checkpoint(&mut store)?;
            let campaign = store.campaign(id)?;
            let ids = crate::lifecycle::Selection::Ids(vec![finding]);
            self.triage(&ids, &annexa_store::lifecycle::Triage::Assign { owner: reviewer.clone(), due: Some(campaign.due) })?;
            let note = format!(
                "revalidation opened ({}): campaign #{id}, {reviewer} to confirm the account is still needed or have it disabled by {}",
                controls.join(", "),
                campaign.due.format("%Y-%m-%d")
            );
            self.triage(&ids, &annexa_store::lifecycle::Triage::Comment { text: note })?;
            done.opened.push(campaign);
        }
        if without_reviewer > 0 {
            done.not_opened.push(format!(
                "{without_reviewer} revalidation(s): no account owner, system owner or fallback can review them (campaigns.revalidation_fallback)"
            ));
        }
        Ok(())
    }

    /// Campaigns past their due date: an unanswered revalidation disables its account (or
    /// is escalated, by configuration); other campaigns' undecided items go to their
    /// reviewers' managers, once.
    fn handle_past_due(&self, done: &mut DueCampaigns) -> Result<()> {
        let mut store = self.store()?;
        let now = self.now();
        for c in store.campaigns_past_due(now)? {
            let revalidation = c.origin.as_deref().is_some_and(|o| o.starts_with("revalidation:"));
            if revalidation && self.settings.config.campaigns.revalidation_expiry == "disable" {
                let closed = self.close_campaign(c.id, true)?;
                done.expired.push(closed);
            } else {
                let moved = store.escalate_campaign(c.id, &self.actor, now)?;
                if moved > 0 {
                    self.checkpoint(&mut store)?;
                    done.escalated.push((c.id, moved));
                }
            }
        }
        Ok(())
    }

    /// Reminds the reviewers of open campaigns who still have items to decide: once per
    /// `remind_days_before` threshold as the due date nears, and once when it has passed
    /// (their items then go to their managers, who are reminded in turn). By e-mail to the
    /// address HR has for them and on the webhook, as configured; each notice sent is a
    /// ledger entry, and one that could not be sent is tried again at the next run.
    fn send_reminders(&self, done: &mut DueCampaigns) -> Result<()> {
        let n = &self.settings.config.notifications;
        if n.webhook_url.is_none() && n.smtp_host.is_none() {
            return Ok(());
        }
        let timeout = std::time::Duration::from_secs(u64::from(n.timeout_secs.max(1)));
        let smtp = n.smtp_host.as_ref().map(|host| annexa_connect::notify::Smtp {
            host: host.clone(),
            port: n.smtp_port,
            from: n.smtp_from.clone(),
            timeout,
        });
        let mut thresholds = n.remind_days_before.clone();
        thresholds.sort_unstable();
        let mut store = self.store()?;
        let now = self.now();
        for c in store.open_campaigns()? {
            let left = (c.due - now).num_seconds();
            let kind = if left < 0 {
                "overdue".to_string()
            } else {
                match thresholds.iter().find(|t| left <= i64::from(**t) * 86_400) {
                    Some(t) => format!("before-{t}"),
                    None => continue,
                }
            };
            for (reviewer, items, email, sent) in store.reviewers_to_notify(c.id, &kind)? {
                if sent {
                    continue;
                }
                let due = c.due.format("%Y-%m-%d");
                let text = if kind == "overdue" {
                    format!("Campaign #{} \"{}\" was due on {due}: {reviewer} has {items} item(s) to review.", c.id, c.name)
                } else {
                    format!("Campaign #{} \"{}\": {reviewer} has {items} item(s) to review by {due}.", c.id, c.name)
                };
                let how = format!("annexa campaign items {} --reviewer {reviewer} --undecided", c.id);
                let mut channels = Vec::new();
                if let (Some(smtp), Some(to)) = (&smtp, &email) {
                    let mail = annexa_connect::notify::Mail {
                        to: to.clone(),
                        subject: format!("Access review: {items} item(s) to decide by {due}"),
                        body: format!("{text}\n\nSee them with `{how}`, or ask for your worksheet.\n"),
                    };
                    match annexa_connect::notify::send_mail(smtp, &mail) {
                        Ok(()) => channels.push("email"),
                        Err(e) => done.not_sent.push(format!("e-mail to {reviewer} ({to}): {e}")),
                    }
                }
                if let Some(url) = &n.webhook_url {
                    let body = serde_json::json!({
                        "text": text, "campaign": c.id, "reviewer": reviewer, "items": items,
                        "due": due.to_string(), "kind": kind,
                    });
                    match annexa_connect::notify::post_webhook(url, &body, timeout) {
                        Ok(()) => channels.push("webhook"),
                        Err(e) => done.not_sent.push(format!("webhook for {reviewer}: {e}")),
                    }
                }
                if !channels.is_empty() {
                    store.record_notice(c.id, &reviewer, &kind, &channels, &self.actor, now)?;
                    done.reminded.push(format!("{reviewer} (campaign #{}, {kind}, by {})", c.id, channels.join(" and ")));
                }
            }
        }
        self.checkpoint(&mut store)?;
        Ok(())
    }

    pub fn campaign(&self, id: i64) -> Result<Campaign> {
        Ok(self.store()?.campaign(id)?)
    }

    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        Ok(self.store()?.campaigns()?)
    }

    /// A campaign's items, filtered and paged, handed to `each`.
    pub fn campaign_items(&self, id: i64, filter: &ItemFilter, mut each: impl FnMut(StoredItem) -> std::io::Result<()>) -> Result<()> {
        let mut store = self.store()?;
        store.campaign(id)?;
        Ok(store.campaign_items(id, filter, |i| each(i).map_err(annexa_store::StoreError::Io))?)
    }

    /// One review item by id.
    pub fn campaign_item(&self, id: i64) -> Result<StoredItem> {
        self.store()?.campaign_item(id)?.ok_or_else(|| Error::not_found(format!("no review item {id}")))
    }

    /// Records a reviewer's decision on items (see [`annexa_store::Store::decide`]).
    pub fn decide(&self, request: &DecisionRequest) -> Result<Decided> {
        let mut store = self.store()?;
        let now = self.now();
        let config = &self.settings.config;
        let revocation = |item: &StoredItem| self.revocation(item, now);
        // The checkpoint that covers the decision is signed in its transaction.
        let signer = self.signer()?;
        let decided = store.decide(request, &revocation, i64::from(config.provisioning.max_attempts), &self.actor, now, Some(&signer))?;
        self.record_revalidations(&decided)?;
        Ok(decided)
    }

    /// The undecided items of `reviewer` in campaign `id` (optionally of one system).
    pub fn undecided_items(&self, id: i64, reviewer: &str, system: Option<&str>) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        let filter =
            ItemFilter { reviewer: Some(reviewer.to_string()), undecided: true, system: system.map(str::to_string), ..Default::default() };
        self.campaign_items(id, &filter, |i| {
            ids.push(i.id);
            Ok(())
        })?;
        Ok(ids)
    }

    /// Hands items from one reviewer to another.
    pub fn delegate(&self, items: &[i64], from: &str, to: &str) -> Result<usize> {
        let mut store = self.store()?;
        let n = store.delegate(items, from, to, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(n)
    }

    /// Closes a campaign, keeping or revoking what is undecided. Items whose access the
    /// graph no longer holds are marked gone (and not revoked again).
    pub fn close_campaign(&self, id: i64, revoke_undecided: bool) -> Result<Campaign> {
        let mut store = self.store()?;
        let now = self.now();
        let campaign = store.campaign(id)?;
        let mut gone = Vec::new();
        // Undecided items whose access is gone are not revoked again (nor kept): marked.
        if campaign.decided < campaign.items {
            self.progress.step("comparing the campaign's items with the current imports");
            let present = present_access(&store.load_graph()?);
            store.campaign_items(id, &ItemFilter { undecided: true, ..Default::default() }, |i| {
                if !present.contains(&access_hash(i.item.kind, &i.item.system, &i.item.account_id, &i.item.entitlement)) {
                    gone.push(i.id);
                }
                Ok(())
            })?;
        }
        let revocation = |item: &StoredItem| self.revocation(item, now);
        let max_attempts = i64::from(self.settings.config.provisioning.max_attempts);
        let closed = store.close_campaign(id, &gone, revoke_undecided, &revocation, max_attempts, &self.actor, now)?;
        self.progress.finish();
        self.checkpoint(&mut store)?;
        Ok(closed)
    }

    /// Writes `reviewer`'s undecided items of campaign `id` to `path` (XLSX or CSV, by its
    /// name) for review offline; returns how many.
    pub fn export_worksheet(&self, id: i64, reviewer: &str, path: &std::path::Path) -> Result<usize> {
        let mut store = self.store()?;
        let campaign = store.campaign(id)?;
        if campaign.status != "open" {
            return Err(Error::conflict(format!("campaign #{id} is closed: there is nothing left to review")));
        }
        let key = worksheet_key(&store.campaign_worksheet_key(id)?)?;
        let mut rows = Vec::new();
        let filter = ItemFilter { reviewer: Some(reviewer.to_string()), undecided: true, ..Default::default() };
        store.campaign_items(id, &filter, |i| {
            rows.push(worksheet_row(&i));
            Ok(())
        })?;
        if rows.is_empty() {
            return Err(Error::invalid(format!("{reviewer} has no undecided items in campaign #{id}")));
        }
        annexa_report::worksheet::write(path, &rows, &key).map_err(|e| Error::new(crate::ErrorKind::Internal, e.to_string()))?;
        Ok(rows.len())
    }

    /// Writes `reviewer`'s worksheet of campaign `id` as [`App::export_worksheet`] does and
    /// returns it as bytes (XLSX, or CSV when `xlsx` is false), with how many items: the
    /// API's download.
    pub fn worksheet_bytes(&self, id: i64, reviewer: &str, xlsx: bool) -> Result<(usize, Vec<u8>)> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("cannot make a temporary directory for the worksheet", e))?;
        let path = dir.path().join(if xlsx { "worksheet.xlsx" } else { "worksheet.csv" });
        let items = self.export_worksheet(id, reviewer, &path)?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read the worksheet back", e))?;
        Ok((items, bytes))
    }

    /// Applies the decisions of a returned worksheet of campaign `id`: every row is checked
    /// first (an item of this campaign, cells other than decision and comment unchanged, the
    /// row's reviewer still the item's, not decided yet, a comment where one is needed), and
    /// a file with any bad row applies nothing, naming each. Rows without a decision are
    /// left for later. One ledger entry records them all, with the file's SHA-256.
    pub fn import_decisions(&self, id: i64, path: &std::path::Path) -> Result<Decided> {
        // A reviewer's worksheet of even a very large campaign is far below this.
        const LIMIT: u64 = 256 << 20;
        let size = std::fs::metadata(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?.len();
        if size > LIMIT {
            return Err(Error::invalid(format!("{} is {size} bytes: a returned worksheet is at most {LIMIT}", path.display())));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        self.apply_worksheet(id, path, &bytes, &|_| true)
    }

    /// [`App::import_decisions`] of a worksheet given as `bytes`; `name` says its format by
    /// its extension and is what messages and the ledger cite. `may_decide_for` says whose
    /// rows the caller may return (a reviewer through the API: their own); a file with a
    /// row of anyone else's is refused whole, as forbidden, naming the rows.
    pub fn apply_worksheet(&self, id: i64, name: &std::path::Path, bytes: &[u8], may_decide_for: &dyn Fn(&str) -> bool) -> Result<Decided> {
        let path = name;
        let mut store = self.store()?;
        let campaign = store.campaign(id)?;
        if campaign.status != "open" {
            return Err(Error::conflict(format!("campaign #{id} is closed: it takes no more decisions")));
        }
        let key = worksheet_key(&store.campaign_worksheet_key(id)?)?;
        let rows = annexa_report::worksheet::read_bytes(path, bytes, &key).map_err(|e| Error::invalid(e.to_string()))?;
        let others: Vec<String> = rows
            .iter()
            .filter(|r| !may_decide_for(&r.reviewer))
            .map(|r| format!("row {} (item {}, {}'s to review)", r.row, r.item, r.reviewer))
            .collect();
        if !others.is_empty() {
            return Err(Error::forbidden(format!("{}: nothing was applied: not yours to decide: {}", path.display(), others.join("; "))));
        }
        let mut problems = Vec::new();
        let mut requests = Vec::new();
        let mut seen = HashSet::new();
        for r in &rows {
            let at = format!("row {}", r.row);
            if !r.intact {
                problems.push(format!("{at} (item {}): cells other than decision and comment were changed", r.item));
                continue;
            }
            if r.campaign != Some(id) {
                problems.push(format!("{at}: item {} belongs to another campaign's worksheet", r.item));
                continue;
            }
            if !seen.insert(r.item) {
                problems.push(format!("{at}: item {} appears twice", r.item));
                continue;
            }
            match r.decision.as_deref() {
                None => continue,
                Some("certify" | "revoke") => {}
                Some(other) => {
                    problems.push(format!("{at}: decision {other:?} is not certify or revoke"));
                    continue;
                }
            }
            requests.push(DecisionRequest {
                items: vec![r.item],
                reviewer: r.reviewer.clone(),
                decision: r.decision.clone().unwrap_or_default(),
                comment: r.comment.clone(),
            });
        }
        if !problems.is_empty() {
            return Err(Error::invalid(format!("{}: nothing was applied: {}", path.display(), problems.join("; "))));
        }
        if requests.is_empty() {
            return Err(Error::invalid(format!("{}: no row has a decision yet", path.display())));
        }
        let source = serde_json::json!({ "file": path.display().to_string(), "sha256": annexa_core::to_hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)) });
        let now = self.now();
        let revocation = |item: &StoredItem| self.revocation(item, now);
        let max_attempts = i64::from(self.settings.config.provisioning.max_attempts);
        let signer = self.signer()?;
        let decided =
            store.decide_all(&requests, Some(source), &revocation, max_attempts, &self.actor, now, Some(&signer)).map_err(|e| match e {
                // The store names items; the reviewer's file has rows.
                annexa_store::StoreError::Invalid(m) => Error::invalid(format!("{}: {}", path.display(), with_rows(&m, &rows))),
                e => e.into(),
            })?;
        self.record_revalidations(&decided)?;
        Ok(decided)
    }

    /// Decides up to `count` of `reviewer`'s undecided items of campaign `id` one at a time
    /// (certify, with a comment), as a reviewer clicking through would, and returns how long
    /// each took end to end (connection, checks, write, ledger entry, checkpoint): the
    /// decision benchmark of BENCHMARKS.md.
    pub fn bench_decisions(&self, id: i64, reviewer: &str, count: usize) -> Result<Vec<std::time::Duration>> {
        let items = self.undecided_items(id, reviewer, None)?;
        let mut took = Vec::with_capacity(count.min(items.len()));
        for item in items.into_iter().take(count) {
            let started = std::time::Instant::now();
            self.decide(&DecisionRequest {
                items: vec![item],
                reviewer: reviewer.to_string(),
                decision: "certify".into(),
                comment: Some("benchmark".into()),
            })?;
            took.push(started.elapsed());
        }
        Ok(took)
    }

    /// Writes campaign `id`'s evidence as an XLSX workbook: a summary, the population proof,
    /// each reviewer's diligence, and every item with its decision (reviewer, time, comment,
    /// the recommendation shown). Returns how many items.
    pub fn campaign_report_xlsx(&self, id: i64, path: &std::path::Path) -> Result<u64> {
        let (c, diligence) = self.campaign_report(id)?;
        let wrote = |e: annexa_report::ReportError| Error::new(crate::ErrorKind::Internal, e.to_string());
        let day = |t: Option<Instant>| t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
        let mut t = annexa_report::tables::Tables::new();
        t.table("Summary", &["field", "value"]).map_err(wrote)?;
        let fields = [
            ("campaign", c.id.to_string()),
            ("name", c.name.clone()),
            ("status", c.status.clone()),
            ("scope", c.scope.clone()),
            ("reviewers", c.reviewer_strategy.clone()),
            ("fallback", c.fallback.clone().unwrap_or_default()),
            ("launched", format!("{} by {}", day(Some(c.created_at)), c.created_by)),
            ("due", day(Some(c.due))),
            ("closed", c.closed_by.as_ref().map(|by| format!("{} by {by}", day(c.closed_at))).unwrap_or_default()),
            ("items", c.items.to_string()),
            ("decided", c.decided.to_string()),
            ("certified", c.certified.to_string()),
            ("revoked", c.revoked.to_string()),
            ("undecided at close", c.undecided.clone().unwrap_or_default()),
            ("population sha256", c.population_hash.clone()),
        ];
        for (k, v) in fields {
            t.row(&[k.to_string(), v]).map_err(wrote)?;
        }
        t.table("Population", &["import", "records read", "in scope", "inactive", "out of scope"]).map_err(wrote)?;
        for i in c.population.as_array().into_iter().flatten() {
            let cell = |k: &str| i[k].to_string();
            t.row(&[cell("import_id"), cell("read"), cell("in_scope"), cell("inactive"), cell("out_of_scope")]).map_err(wrote)?;
        }
        t.table(
            "Diligence",
            &[
                "reviewer",
                "items",
                "decided",
                "certified",
                "revoked",
                "median hours",
                "fast runs",
                "items in fast runs",
                "certified with findings",
                "certified against advice",
            ],
        )
        .map_err(wrote)?;
        for d in &diligence {
            t.row(&[
                d.reviewer.clone(),
                d.items.to_string(),
                d.decided.to_string(),
                d.certified.to_string(),
                d.revoked.to_string(),
                d.median_hours_to_decide.map(|h| format!("{h:.1}")).unwrap_or_default(),
                d.fast_runs.to_string(),
                d.items_in_fast_runs.to_string(),
                d.certified_with_open_findings.to_string(),
                d.certified_against_recommendation.to_string(),
            ])
            .map_err(wrote)?;
        }
        t.table(
            "Items",
            &[
                "item",
                "kind",
                "holder",
                "access",
                "privileged",
                "last used",
                "open findings",
                "sod rules",
                "recommendation",
                "reason",
                "reviewer",
                "decision",
                "decided by",
                "decided at",
                "comment",
                "revocation task",
                "verified absent",
                "gone at close",
                "source failed",
            ],
        )
        .map_err(wrote)?;
        let mut n = 0u64;
        let mut failed = None;
        self.campaign_items(id, &ItemFilter::default(), |i| {
            let x = &i.item;
            let row = [
                i.id.to_string(),
                x.kind.as_str().to_string(),
                x.holder.clone(),
                if x.entitlement.is_empty() { x.system.clone() } else { format!("{}:{}", x.system, x.entitlement) },
                if x.privileged { "yes".into() } else { "no".into() },
                day(x.last_used_at),
                x.open_findings.to_string(),
                x.sod_rules.join(" "),
                x.recommendation.as_str().to_string(),
                x.recommendation_reason.clone(),
                x.reviewer.clone().unwrap_or_default(),
                i.decision.clone().unwrap_or_default(),
                i.decided_by.clone().unwrap_or_default(),
                day(i.decided_at),
                i.comment.clone().unwrap_or_default(),
                i.revocation_task.map(|t| t.to_string()).unwrap_or_default(),
                day(i.verified_absent_at),
                day(i.gone_at),
                i.source_failed.clone().unwrap_or_default(),
            ];
            n += 1;
            if let Err(e) = t.row(&row) {
                failed.get_or_insert(e);
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(wrote(e));
        }
        t.save(path).map_err(wrote)?;
        Ok(n)
    }

    /// A campaign with how each reviewer reviewed (its items are read with
    /// [`App::campaign_items`]).
    pub fn campaign_report(&self, id: i64) -> Result<(Campaign, Vec<ReviewerDiligence>)> {
        let mut store = self.store()?;
        let campaign = store.campaign(id)?;
        let diligence = store.campaign_diligence(id)?;
        Ok((campaign, diligence))
    }

    /// The provisioning task that carries out the revocation of `item`: removing the
    /// membership (or the badge's zone), by the system's connector, or by a person where
    /// Annexa has no automatic connector to it.
    fn revocation(&self, item: &StoredItem, now: Instant) -> NewTask {
        let config = &self.settings.config;
        let automatic =
            item.item.kind != ItemKind::BadgeZone && config.connectors.iter().any(|c| c.system == item.item.system && !c.is_manual());
        // An account revalidated and not confirmed is disabled; other access is removed.
        let (action, entitlement) = match item.item.kind {
            ItemKind::Account => (TaskAction::DisableAccount, None),
            _ => (TaskAction::RemoveMembership, Some(item.item.entitlement.clone())),
        };
        NewTask {
            idempotency_key: format!("campaign-item:{}:revoke", item.id),
            event_id: None,
            employee_id: item.item.employee_id.clone(),
            system: item.item.system.clone(),
            action,
            account_id: item.item.account_id.clone(),
            entitlement,
            not_before: now,
            manual: !automatic,
        }
    }
}

/// A hash of one access (an assignment, or a badge's zone), to tell cheaply whether the
/// graph still holds an item's access: millions of items need no string copies.
fn access_hash(kind: ItemKind, system: &str, account: &str, entitlement: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (kind.as_str(), system, account, entitlement).hash(&mut h);
    h.finish()
}

/// The access the graph holds now: assignments of enabled accounts, zones of active badges.
fn present_access(graph: &annexa_core::graph::IdentityGraph) -> HashSet<u64> {
    let mut out = HashSet::with_capacity(graph.grants.len());
    for a in graph.accounts.iter().filter(|a| a.is_enabled()) {
        out.insert(access_hash(ItemKind::Account, &a.system, &a.account_id, ""));
    }
    for g in &graph.grants {
        let a = &graph.accounts[g.account as usize];
        if a.is_enabled() {
            let e = &graph.entitlements[g.entitlement as usize];
            out.insert(access_hash(ItemKind::Assignment, &e.system, &a.account_id, &e.name));
        }
    }
    for b in graph.badges.iter().filter(|b| b.status == annexa_core::model::BadgeStatus::Active) {
        for z in &b.zones {
            out.insert(access_hash(ItemKind::BadgeZone, &b.system, &b.badge_id, z));
        }
    }
    out
}

/// An item as its reviewer's worksheet shows it.
fn worksheet_row(i: &StoredItem) -> annexa_report::worksheet::WorksheetRow {
    let x = &i.item;
    annexa_report::worksheet::WorksheetRow {
        campaign: i.campaign_id,
        item: i.id,
        reviewer: x.reviewer.clone().unwrap_or_default(),
        holder: x.holder.clone(),
        access: format!("{}:{}", x.system, x.entitlement),
        privileged: x.privileged,
        last_used: x.last_used_at.map_or_else(|| "never".to_string(), |t| t.format("%Y-%m-%d").to_string()),
        open_findings: x.open_findings,
        sod_rules: x.sod_rules.join(" "),
        peers: x.peer_share.map(|s| format!("{:.0} % of {}", s * 100.0, x.peers)).unwrap_or_default(),
        recommendation: x.recommendation.as_str().to_string(),
        reason: x.recommendation_reason.clone(),
        decision: None,
        comment: None,
    }
}

/// `message` with each "item N" followed by its row in the worksheet.
fn with_rows(message: &str, rows: &[annexa_report::worksheet::ReturnedRow]) -> String {
    let mut out = message.to_string();
    for r in rows {
        out = out.replace(&format!("item {} ", r.item), &format!("item {} (row {}) ", r.item, r.row));
    }
    out
}

/// A campaign's worksheet secret, from its hex form.
fn worksheet_key(hex: &str) -> Result<[u8; 32]> {
    crate::ledger::unhex_hash(hex).map_err(|_| Error::internal("the campaign's worksheet key is damaged"))
}
