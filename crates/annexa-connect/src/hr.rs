//! The HR feed: one row per person, canonical columns or a column mapping.

use crate::fields::{date, email, vocab};
use crate::table::{KeySet, Table};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Origin, Person, PersonStatus, WorkerType};

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

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    for key in options.hr_columns.keys() {
        if !REQUIRED.contains(&key.as_str()) && !OPTIONAL.contains(&key.as_str()) {
            return Err(ImportError::new(
                file,
                0,
                None,
                format!(
                    "the column mapping names {key:?}, which is not an HR column: expected one of {}",
                    REQUIRED.iter().chain(OPTIONAL).copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut table = Table::open(file, bytes, REQUIRED, OPTIONAL, &options.hr_columns)?;
    let mut batch = ImportBatch::default();
    let mut ids = KeySet::new("employee_id");
    while let Some(row) = table.next_row() {
        let row = row?;
        let employee_id = row.required("employee_id")?;
        ids.insert(&row, "employee_id", employee_id.to_string())?;
        let start_date = date(&row, "start_date")?;
        let end_date = date(&row, "end_date")?;
        if let (Some(s), Some(e)) = (start_date, end_date) {
            if e < s {
                return Err(row.error("end_date", format!("end date {e} is before start date {s}")));
            }
        }
        let manager = row.optional("manager_id")?;
        if manager == Some(employee_id) {
            return Err(row.error("manager_id", "a person cannot be their own manager"));
        }
        batch.people.push(Person {
            employee_id: employee_id.into(),
            email: email(&row, "email")?,
            given_name: row.text("given_name")?.to_string(),
            family_name: row.text("family_name")?.to_string(),
            department: row.text("department")?.to_string(),
            title: row.text("title")?.to_string(),
            manager_id: manager.map(Into::into),
            location: row.text("location")?.to_string(),
            worker_type: vocab(&row, "worker_type", WorkerType::parse, WorkerType::expected, None)?,
            status: vocab(&row, "status", PersonStatus::parse, PersonStatus::expected, None)?,
            start_date,
            end_date,
            screening_date: date(&row, "screening_date")?,
            origin: Origin { import_id: 0, line: row.line_u32() },
        });
    }
    batch.rows = batch.people.len() as u64;
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

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
            options.hr_columns.insert(k.into(), v.into());
        }
        let b = parse("workday.csv", csv.as_bytes(), &options).expect("valid");
        assert_eq!(&*b.people[0].employee_id, "100");
        assert_eq!(b.people[0].department, "Sales");
    }
}
