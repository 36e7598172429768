//! Nonconformities and corrective actions (ISO/IEC 27001 clause 10.2), as people drive
//! them: opened from the findings of one control (named, or every open finding of a check)
//! or from a manual audit observation; actions added and completed; closed only after an
//! effectiveness check the store enforces. Every change signs a ledger checkpoint.

use crate::{App, Error, Result};
use annexa_core::finding::{ActionStatus, NcStatus};
use annexa_core::time::Instant;
use annexa_store::nonconformity::{NcSummary, NewNonconformity, Nonconformity};
use annexa_store::{FindingFilter, FindingStatus};

/// A nonconformity to open, as a person describes it.
#[derive(Debug, Clone, Default)]
pub struct NcRequest {
    pub title: String,
    /// A 2022 control id, or a 2013 one that maps to exactly one.
    pub control: Option<String>,
    /// What was observed; defaults to the title for a nonconformity of findings.
    pub description: Option<String>,
    pub root_cause: Option<String>,
    /// Findings by id (or unique prefix).
    pub findings: Vec<String>,
    /// Checks whose open findings it groups (each must test the control).
    pub checks: Vec<String>,
}

impl App {
    /// Opens a nonconformity.
    pub fn open_nc(&self, request: &NcRequest) -> Result<Nonconformity> {
        let control = match &request.control {
            None => None,
            Some(c) => {
                let found = annexa_core::catalog::Catalog::get().resolve(c);
                match found.as_slice() {
                    [one] => Some(one.id.clone()),
                    [] => return Err(Error::invalid(format!("{c:?} is not an Annex A control (2022 or 2013 id)"))),
                    many => {
                        let ids: Vec<&str> = many.iter().map(|x| x.id.as_str()).collect();
                        return Err(Error::invalid(format!("{c} maps to several 2022 controls ({}): name one", ids.join(", "))));
                    }
                }
            }
        };
        let mut store = self.store()?;
        let mut findings = request.findings.clone();
        for check in &request.checks {
            let def = annexa_engine::checks::check(check).ok_or_else(|| Error::from(annexa_engine::UnknownCheck(check.clone())))?;
            if let Some(control) = &control {
                if !def.controls.contains(&control.as_str()) {
                    return Err(Error::invalid(format!("check {check} tests {}, not {control}", def.controls.join(", "))));
                }
            }
            let open = store.finding_ids(&FindingFilter {
                check: Some(check.clone()),
                status: Some(FindingStatus::Open),
                ..Default::default()
            })?;
            if open.is_empty() {
                return Err(Error::invalid(format!("check {check} has no open findings")));
            }
            findings.extend(open);
        }
        if findings.is_empty() && request.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(Error::invalid("a nonconformity without findings is an audit observation: say what was observed (--description)"));
        }
        let new = NewNonconformity {
            title: request.title.clone(),
            control,
            description: request.description.clone().unwrap_or_else(|| request.title.clone()),
            root_cause: request.root_cause.clone(),
            findings,
        };
        let nc = store.open_nc(&new, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(nc)
    }

    /// Adds a corrective action to nonconformity `nc`; returns its number.
    pub fn add_nc_action(&self, nc: i64, description: &str, owner: &str, due: Instant) -> Result<i64> {
        let mut store = self.store()?;
        let seq = store.add_nc_action(nc, description, owner, due, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(seq)
    }

    /// Sets the status of action `seq` of nonconformity `nc`.
    pub fn set_nc_action(&self, nc: i64, seq: i64, status: ActionStatus) -> Result<()> {
        let mut store = self.store()?;
        store.set_nc_action(nc, seq, status, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(())
    }

    /// Records the root cause of nonconformity `nc`.
    pub fn set_nc_root_cause(&self, nc: i64, root_cause: &str) -> Result<()> {
        let mut store = self.store()?;
        store.set_nc_root_cause(nc, root_cause, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(())
    }

    /// Closes nonconformity `nc` after its effectiveness check (refused, with every reason,
    /// until it passes).
    pub fn close_nc(&self, nc: i64, effectiveness: &str) -> Result<Nonconformity> {
        let mut store = self.store()?;
        let closed = store.close_nc(nc, effectiveness, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(closed)
    }

    pub fn nc(&self, nc: i64) -> Result<Nonconformity> {
        Ok(self.store()?.nc(nc)?)
    }

    pub fn ncs(&self, status: Option<NcStatus>) -> Result<Vec<NcSummary>> {
        Ok(self.store()?.ncs(status)?)
    }
}

/// A nonconformity's number from `NC-7` or `7`.
pub fn nc_number(s: &str) -> Result<i64> {
    let digits = s.trim().strip_prefix("NC-").or_else(|| s.trim().strip_prefix("nc-")).unwrap_or(s.trim());
    digits.parse().map_err(|_| Error::invalid(format!("{s:?} is not a nonconformity: expected NC-7 or 7")))
}
