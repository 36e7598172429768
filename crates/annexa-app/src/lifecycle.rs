//! The findings lifecycle as people drive it: acknowledge (owner, due date), accept as a
//! risk (approver, reason, expiry), dismiss as a false positive, reopen, comment; on
//! findings named by id or chosen by a filter, each decision a ledger entry.

use crate::{App, Error, Result};
use annexa_store::lifecycle::{Comment, DueDays, Overdue, Triage, Triaged};
use annexa_store::{FindingFilter, FindingStatus};

/// Which findings a decision is about.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These ids (or unique prefixes of at least 6 characters).
    Ids(Vec<String>),
    /// Every latest finding the filter selects (open ones, unless it says otherwise).
    Filter(FindingFilter),
}

impl App {
    /// Days to a finding's due date by severity rank, from the configuration.
    pub fn due_days(&self) -> DueDays {
        self.settings.config.findings.due_days.by_rank()
    }

    /// `filter` with the configured due dates.
    pub(crate) fn with_due_days(&self, filter: &FindingFilter) -> FindingFilter {
        FindingFilter { due_days: self.due_days(), ..filter.clone() }
    }

    /// Applies `triage` to the findings `selection` names, as this app's actor, and signs a
    /// checkpoint. Nothing is applied if any named finding is unknown, ambiguous or (for
    /// anything but a comment) remediated.
    pub fn triage(&self, selection: &Selection, triage: &Triage) -> Result<Triaged> {
        let mut store = self.store()?;
        let ids = match selection {
            Selection::Ids(ids) => {
                if let Some(short) = ids.iter().find(|id| id.len() < 6) {
                    return Err(Error::invalid(format!(
                        "finding id {short:?} is too short: give the id or at least its first 6 characters"
                    )));
                }
                ids.clone()
            }
            Selection::Filter(filter) => {
                let mut filter = self.with_due_days(filter);
                if filter.status.is_none() && filter.state.is_none() && !matches!(triage, Triage::Comment { .. }) {
                    filter.status = Some(FindingStatus::Open);
                }
                store.finding_ids(&filter)?
            }
        };
        if ids.is_empty() {
            return Err(Error::invalid("no finding matches: nothing was decided"));
        }
        let done = store.triage(&ids, triage, &self.due_days(), &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(done)
    }

    /// The comments on a finding, oldest first.
    pub fn finding_comments(&self, id: &str) -> Result<Vec<Comment>> {
        Ok(self.store()?.finding_comments(id)?)
    }

    /// The findings someone still has to act on that are past their due date at `at`.
    pub fn overdue(&self, at: annexa_core::time::Instant) -> Result<Overdue> {
        Ok(self.store()?.overdue(&self.due_days(), at)?)
    }
}
