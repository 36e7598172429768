//! The HR feed: one row per person, canonical columns or an export's own, through a
//! [`Mapping`] (column names, value words, date format, columns the export lacks).

use crate::error::{quote, Refusals};
use crate::fields::email;
use crate::table::{KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Origin, Person, PersonStatus, WorkerType};
use annexa_core::time::parse_date;
use chrono::NaiveDate;
use std::collections::BTreeMap;

pub const REQUIRED: &[&str] = &[
    "employee_id",
    "email",
    "given_name",
    "family_name",
    "department",
    "title",
    "manager_id",
    "location",
    "worker_type",
    "status",
    "start_date",
    "end_date",
];
pub const OPTIONAL: &[&str] = &["screening_date"];

/// The columns whose value every row must have: an export cannot lack them.
const VALUE_REQUIRED: &[&str] = &["employee_id", "worker_type", "status"];

/// The columns whose words a mapping may translate (`[values.status]`).
const MAPPED_VALUES: &[&str] = &["status", "worker_type"];

/// How an HR export that is not in the canonical form reads as one (`--mapping FILE`):
///
/// ```toml
/// date_format = "%m/%d/%Y"          # the export's dates; ISO dates are read too
/// optional = ["location"]           # columns this export does not have
///
/// [columns]                         # canonical column = the export's column
/// employee_id = "Employee #"
///
/// [values.status]                   # the export's word = the canonical word
/// "Terminated" = "terminated"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Canonical column -> the export's column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Canonical column (`status`, `worker_type`) -> the export's word -> the canonical
    /// word. Words are matched without regard to case or surrounding spaces; a word the
    /// table does not list is read as a canonical word.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// The export's date format, in `strftime` form (`%m/%d/%Y`); ISO dates are read too.
    pub date_format: Option<String>,
    /// Columns the export does not have (their values are empty for everyone): only
    /// columns whose value may be empty.
    #[serde(default)]
    pub optional: Vec<String>,
}

impl Mapping {
    /// Reads a mapping file's TOML; the error names `file` and what is wrong.
    pub fn parse(file: &str, text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        mapping.check().map_err(|e| format!("{file}: {e}"))?;
        Ok(mapping)
    }

    /// What is wrong with the mapping, if anything (a mapping built in code is checked
    /// again by the importer).
    pub fn check(&self) -> Result<(), String> {
        let known: Vec<&str> = REQUIRED.iter().chain(OPTIONAL).copied().collect();
        if let Some(bad) = self.columns.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("[columns] names {bad:?}, which is not an HR column: expected some of {}", known.join(", ")));
        }
        for (column, words) in &self.values {
            let parse: fn(&str) -> bool = match column.as_str() {
                "status" => |w| PersonStatus::parse(w).is_some(),
                "worker_type" => |w| WorkerType::parse(w).is_some(),
                _ => return Err(format!("[values.{column}]: only the words of {} can be mapped", MAPPED_VALUES.join(" and "))),
            };
            let expected = if column == "status" { PersonStatus::expected() } else { WorkerType::expected() };
            if let Some((word, to)) = words.iter().find(|(_, to)| !parse(to)) {
                return Err(format!("[values.{column}] maps {word:?} to {to:?}, which is not a {column}: expected one of {expected}"));
            }
        }
        if let Some(format) = &self.date_format {
            check_date_format(format)?;
        }
        for column in &self.optional {
            if !known.contains(&column.as_str()) {
                return Err(format!("optional names {column:?}, which is not an HR column: expected some of {}", known.join(", ")));
            }
            if VALUE_REQUIRED.contains(&column.as_str()) {
                return Err(format!(
                    "optional names {column:?}, whose value every person needs: only a column whose value may be empty can be absent"
                ));
            }
        }
        Ok(())
    }

    /// The canonical word for the export's `word` in `column`.
    fn word<'w>(&'w self, column: &str, word: &'w str) -> &'w str {
        self.values
            .get(column)
            .and_then(|m| m.iter().find(|(from, _)| from.trim().eq_ignore_ascii_case(word)))
            .map_or(word, |(_, to)| to.as_str())
    }
}

/// A `strftime` date format must be valid and name a whole date.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(format!("date_format {format:?} is not a valid strftime format (e.g. \"%m/%d/%Y\")"));
    }
    let probe = NaiveDate::from_ymd_opt(2024, 11, 28).unwrap_or_default();
    match NaiveDate::parse_from_str(&probe.format(format).to_string(), format) {
        Ok(d) if d == probe => Ok(()),
        _ => Err(format!("date_format {format:?} does not name a whole date: it needs a year, a month and a day (e.g. \"%m/%d/%Y\")")),
    }
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let mapping = &options.hr_mapping;
    mapping.check().map_err(|e| ImportError::new(file, 0, None, format!("the column mapping: {e}")))?;
    let absent = |c: &&'static str| mapping.optional.iter().any(|o| o == c);
    let required: Vec<&'static str> = REQUIRED.iter().filter(|c| !absent(c)).copied().collect();
    let optional: Vec<&'static str> = OPTIONAL.iter().chain(REQUIRED.iter().filter(|c| absent(c))).copied().collect();
    let mut table = Table::open(file, bytes, &required, &optional, &mapping.columns)?;
    let mut batch = ImportBatch::default();
    let mut refusals = Refusals::new(options);
    // Sized once: a set and a list of a million grown step by step rehash and copy each time.
    let rows = table.rows_hint();
    batch.people.reserve(rows);
    let mut ids = KeySet::with_capacity("employee_id", rows);
    // Split into records on another thread while the rows before become people.
    table.read_ahead(|rows| -> Result<(), ImportError> {
        while let Some(row) = rows.next_good_row(&mut refusals)? {
            match person(&row, mapping, &mut ids, &mut batch.warnings) {
                Ok(person) => batch.people.push(person),
                Err(e) => refusals.refuse_keyed(e, row.text("employee_id").ok())?,
            }
        }
        Ok(())
    })?;
    batch.rows = (batch.people.len() + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

/// One row as a person; what was read but ignored goes to `warnings`.
fn person(row: &Row<'_>, mapping: &Mapping, ids: &mut KeySet, warnings: &mut Vec<ImportError>) -> Result<Person, ImportError> {
    let employee_id = row.required("employee_id")?;
    ids.insert(row, "employee_id", employee_id.to_string())?;
    let worker_type = vocab(row, mapping, "worker_type", WorkerType::parse, WorkerType::expected)?;
    let status = vocab(row, mapping, "status", PersonStatus::parse, PersonStatus::expected)?;
    let start_date = date(row, mapping, "start_date")?;
    let mut end_date = date(row, mapping, "end_date")?;
    if let (Some(s), Some(e)) = (start_date, end_date) {
        if e < s {
            // A rehire's export often keeps the end date of the earlier employment: for a
            // person at work that date is over, not a contradiction. For a terminated person
            // one of the two dates is wrong, and which one decides whether they left.
            if status == PersonStatus::Terminated {
                return Err(row.error(
                    "end_date",
                    format!("end date {e} is before start date {s} of a terminated person: correct one of the two dates"),
                ));
            }
            warnings.push(row.error(
                "end_date",
                format!(
                    "end date {e} is before start date {s} of a person who is {status}: read as the end of an earlier \
                     employment (a rehire) and ignored"
                ),
            ));
            end_date = None;
        }
    }
    let manager = row.optional("manager_id")?;
    if manager == Some(employee_id) {
        return Err(row.error("manager_id", "a person cannot be their own manager"));
    }
    Ok(Person {
        employee_id: employee_id.into(),
        email: email(row, "email")?,
        given_name: row.text("given_name")?.to_string(),
        family_name: row.text("family_name")?.to_string(),
        department: row.text("department")?.to_string(),
        title: row.text("title")?.to_string(),
        manager_id: manager.map(Into::into),
        location: row.text("location")?.to_string(),
        worker_type,
        status,
        start_date,
        end_date,
        screening_date: date(row, mapping, "screening_date")?,
        origin: Origin { import_id: 0, line: row.line_u32() },
    })
}

/// A required word of a closed vocabulary, translated by the mapping's `[values.COLUMN]`.
fn vocab<T>(
    row: &Row<'_>,
    mapping: &Mapping,
    column: &str,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Result<T, ImportError> {
    let t = row.text(column)?;
    if t.is_empty() {
        return Err(row.error(column, format!("a value is required: one of {}", expected())));
    }
    parse(mapping.word(column, t)).ok_or_else(|| {
        let hint = if mapping.columns.is_empty() && mapping.values.is_empty() {
            String::new()
        } else {
            format!(" (or a word the mapping's [values.{column}] translates)")
        };
        row.error(column, format!("unknown value {}: expected one of {}{hint}", quote(t), expected()))
    })
}

/// An optional date: `YYYY-MM-DD` (or a date-time), or the mapping's `date_format`.
fn date(row: &Row<'_>, mapping: &Mapping, column: &str) -> Result<Option<NaiveDate>, ImportError> {
    let Some(t) = row.optional(column)? else { return Ok(None) };
    if let Some(format) = &mapping.date_format {
        if let Ok(d) = NaiveDate::parse_from_str(t, format) {
            return Ok(Some(d));
        }
    }
    parse_date(t).map(Some).ok_or_else(|| {
        let expected = match &mapping.date_format {
            Some(format) => format!("{format} (the mapping's date_format) or YYYY-MM-DD"),
            None => "YYYY-MM-DD".to_string(),
        };
        row.error(column, format!("{} is not a date: expected {expected}", quote(t)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

    #[test]
    fn canonical_feed() {
        let csv = format!(
            "{HEADER}\nE1,Ada@Example.com,Ada,Lovelace,Engineering,CTO,,London,employee,active,2020-01-01,\n\
             E2,bob@example.com,Bob,Byte,Engineering,Dev,E1,London,contractor,terminated,2021-03-01,2024-02-29\n"
        );
        let b = parse("hr.csv", csv.as_bytes(), &ImportOptions::default()).expect("valid");
        assert_eq!(b.people.len(), 2);
        assert_eq!(b.people[0].email.as_deref(), Some("ada@example.com"));
        assert_eq!(b.people[1].manager_id.as_deref(), Some("E1"));
        assert_eq!(b.people[1].status, PersonStatus::Terminated);
        assert_eq!(b.people[1].origin.line, 3);
    }

    #[test]
    fn mapped_columns() {
        let csv = "Employee Number,Work Email,First,Last,Dept,Job,Manager,Office,Type,State,Hire Date,Term Date\n\
                   100,a@x.io,A,B,Sales,Rep,,Paris,employee,active,2022-05-01,\n";
        let mut options = ImportOptions::default();
        for (k, v) in [
            ("employee_id", "Employee Number"),
            ("email", "Work Email"),
            ("given_name", "First"),
            ("family_name", "Last"),
            ("department", "Dept"),
            ("title", "Job"),
            ("manager_id", "Manager"),
            ("location", "Office"),
            ("worker_type", "Type"),
            ("status", "State"),
            ("start_date", "Hire Date"),
            ("end_date", "Term Date"),
        ] {
            options.hr_mapping.columns.insert(k.into(), v.into());
        }
        let b = parse("workday.csv", csv.as_bytes(), &options).expect("valid");
        assert_eq!(&*b.people[0].employee_id, "100");
        assert_eq!(b.people[0].department, "Sales");
    }
}
