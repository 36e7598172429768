//! The reviewer's worksheet: one row per review item, with the context the reviewer needs,
//! two cells to fill (decision, comment) and an integrity code over everything else.
//!
//! The code is an HMAC-SHA256 (keyed with the campaign's secret, which never leaves the
//! database) of the row's other cells, so a reviewer can change the decision and the
//! comment but not which item, whose access, or what was recommended, without the import
//! noticing. XLSX adds what a spreadsheet can enforce itself (a protected sheet, a drop-down);
//! CSV carries the same columns and codes. Text cells that a spreadsheet would take for a
//! formula are written neutralised, and the code covers them as written.

use crate::ReportError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// The columns, in order; the reviewer fills `decision` and `comment`.
pub const COLUMNS: [&str; 15] = [
    "campaign",
    "item",
    "reviewer",
    "holder",
    "access",
    "privileged",
    "last used",
    "open findings",
    "sod rules",
    "peers holding it",
    "recommendation",
    "reason",
    "decision",
    "comment",
    "integrity",
];
const DECISION: usize = 12;
const COMMENT: usize = 13;
const INTEGRITY: usize = 14;
/// The sheet's name in the XLSX.
pub const SHEET: &str = "Review";

/// One item as the worksheet shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorksheetRow {
    pub campaign: i64,
    pub item: i64,
    pub reviewer: String,
    pub holder: String,
    pub access: String,
    pub privileged: bool,
    pub last_used: String,
    pub open_findings: u32,
    pub sod_rules: String,
    pub peers: String,
    pub recommendation: String,
    pub reason: String,
    pub decision: Option<String>,
    pub comment: Option<String>,
}

impl WorksheetRow {
    /// The cells a reviewer may not change, as written (neutralised where needed).
    fn locked(&self) -> [String; 12] {
        let safe = |s: &str| annexa_core::text::spreadsheet_safe(s).into_owned();
        [
            self.campaign.to_string(),
            self.item.to_string(),
            safe(&self.reviewer),
            safe(&self.holder),
            safe(&self.access),
            if self.privileged { "yes".into() } else { "no".into() },
            safe(&self.last_used),
            self.open_findings.to_string(),
            safe(&self.sod_rules),
            safe(&self.peers),
            safe(&self.recommendation),
            safe(&self.reason),
        ]
    }
}

/// A row read back: the item it names, what the reviewer filled in, and whether the rest
/// is as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedRow {
    /// The row's number in the file (1 is the header).
    pub row: usize,
    pub campaign: Option<i64>,
    pub item: i64,
    pub reviewer: String,
    pub decision: Option<String>,
    pub comment: Option<String>,
    /// The integrity code matches the other cells: only the decision and comment changed.
    pub intact: bool,
}

/// The integrity code of the locked cells: 16 bytes of the HMAC, hex.
fn code(key: &[u8], locked: &[String]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    for cell in locked {
        // Length-prefixed, so that no two rows share a code by moving text between cells.
        mac.update(&(cell.len() as u64).to_be_bytes());
        mac.update(cell.as_bytes());
    }
    let tag = mac.finalize().into_bytes();
    tag[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `rows` to `path`: XLSX when it ends in `.xlsx`, else CSV.
pub fn write(path: &Path, rows: &[WorksheetRow], key: &[u8]) -> Result<(), ReportError> {
    let failed = |message: String| ReportError::Write { file: path.display().to_string(), message };
    if is_xlsx(path) {
        write_xlsx(path, rows, key).map_err(|e| failed(e.to_string()))
    } else {
        write_csv(path, rows, key).map_err(failed)
    }
}

fn is_xlsx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

fn write_csv(path: &Path, rows: &[WorksheetRow], key: &[u8]) -> Result<(), String> {
    let mut out = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    out.write_record(COLUMNS).map_err(|e| e.to_string())?;
    for r in rows {
        let locked = r.locked();
        let mut record: Vec<String> = locked.to_vec();
        let safe = |s: &Option<String>| annexa_core::text::spreadsheet_safe(s.as_deref().unwrap_or_default()).into_owned();
        record.push(safe(&r.decision));
        record.push(safe(&r.comment));
        record.push(code(key, &locked));
        out.write_record(&record).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn write_xlsx(path: &Path, rows: &[WorksheetRow], key: &[u8]) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Color, DataValidation, Format, FormatBorder, ProtectionOptions, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET)?;
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xD9E1F2)).set_border_bottom(FormatBorder::Thin);
    let fill = Format::new().set_unlocked().set_background_color(Color::RGB(0xFFF2CC)).set_text_wrap();
    let wrap = Format::new().set_text_wrap();
    let widths = [9.0, 8.0, 11.0, 28.0, 32.0, 9.0, 11.0, 8.0, 14.0, 12.0, 14.0, 40.0, 12.0, 40.0, 34.0];
    for (c, (name, width)) in COLUMNS.iter().zip(widths).enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &header)?;
        sheet.set_column_width(c as u16, width)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        let locked = r.locked();
        for (c, cell) in locked.iter().enumerate() {
            sheet.write_string_with_format(row, c as u16, cell, &wrap)?;
        }
        let safe = |s: &Option<String>| annexa_core::text::spreadsheet_safe(s.as_deref().unwrap_or_default()).into_owned();
        sheet.write_string_with_format(row, DECISION as u16, safe(&r.decision), &fill)?;
        sheet.write_string_with_format(row, COMMENT as u16, safe(&r.comment), &fill)?;
        sheet.write_string(row, INTEGRITY as u16, code(key, &locked))?;
    }
    let last = rows.len().max(1) as u32;
    let choice = DataValidation::new()
        .allow_list_strings(&["certify", "revoke"])?
        .set_error_title("Decision")?
        .set_error_message("Choose certify or revoke (or leave it empty for later).")?;
    sheet.add_data_validation(1, DECISION as u16, last, DECISION as u16, &choice)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last, (COLUMNS.len() - 1) as u16)?;
    sheet.protect_with_options(&ProtectionOptions { use_autofilter: true, sort: false, ..ProtectionOptions::default() });
    workbook.save(path)?;
    Ok(())
}

/// Reads back a worksheet this module wrote (XLSX or CSV, by its name), checking each row's
/// integrity code. A file that is not such a worksheet (wrong columns, not a spreadsheet)
/// is an error naming the file; a row whose item is not a number is one naming the row.
pub fn read(path: &Path, key: &[u8]) -> Result<Vec<ReturnedRow>, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::Read { file: path.display().to_string(), message: e.to_string() })?;
    read_bytes(path, &bytes, key)
}

/// [`read`], of the file's bytes already read (`path` names it and says its format): the
/// caller hashes exactly what is parsed.
pub fn read_bytes(path: &Path, bytes: &[u8], key: &[u8]) -> Result<Vec<ReturnedRow>, ReportError> {
    let failed = |message: String| ReportError::Read { file: path.display().to_string(), message };
    let table: Vec<Vec<String>> = if is_xlsx(path) { read_xlsx(bytes).map_err(failed)? } else { read_csv(bytes).map_err(failed)? };
    let Some((head, body)) = table.split_first() else { return Err(failed("it is empty: expected the worksheet's header row".into())) };
    let head: Vec<&str> = head.iter().map(|h| h.trim()).collect();
    if head != COLUMNS {
        return Err(failed(format!("its header is not the worksheet's: expected {}", COLUMNS.join(", "))));
    }
    let mut out = Vec::with_capacity(body.len());
    for (i, cells) in body.iter().enumerate() {
        let row = i + 2;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |c: usize| cells.get(c).map(String::as_str).unwrap_or_default();
        let item =
            cell(1).trim().parse::<i64>().map_err(|_| failed(format!("row {row}: item {:?} is not an item number", excerpt(cell(1)))))?;
        let locked: Vec<String> = (0..12).map(|c| cell(c).to_string()).collect();
        let filled = |c: usize| Some(cell(c).trim().to_string()).filter(|s| !s.is_empty());
        out.push(ReturnedRow {
            row,
            campaign: cell(0).trim().parse().ok(),
            item,
            reviewer: cell(2).to_string(),
            decision: filled(DECISION).map(|d| d.to_lowercase()),
            comment: filled(COMMENT),
            intact: code(key, &locked) == cell(INTEGRITY).trim(),
        });
    }
    Ok(out)
}

/// At most 40 characters of a cell, for messages.
fn excerpt(s: &str) -> String {
    let mut e: String = s.chars().take(40).collect();
    if e.len() < s.len() {
        e.push('…');
    }
    e
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("not a CSV worksheet: {e}"))?;
        out.push(record.iter().map(str::to_string).collect());
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not an XLSX workbook: {e}"))?;
    let range = workbook.worksheet_range(SHEET).map_err(|e| format!("no sheet {SHEET:?}: {e}"))?;
    Ok(range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(item: i64) -> WorksheetRow {
        WorksheetRow {
            campaign: 3,
            item,
            reviewer: "E1".into(),
            holder: "=HYPERLINK(\"x\") (Zoë)".into(),
            access: "erp:AP/enter".into(),
            privileged: item % 2 == 0,
            last_used: "2026-11-20".into(),
            open_findings: 1,
            sod_rules: String::new(),
            peers: "33 % of 3".into(),
            recommendation: "certify".into(),
            reason: "used on 2026-11-20".into(),
            decision: None,
            comment: None,
        }
    }

    /// Whatever a reviewer sends back, the reader answers rows or an error naming the file.
    #[test]
    fn damaged_files_are_errors_not_panics() {
        let key = [1u8; 32];
        let junk: [&[u8]; 5] =
            [b"", b"\xff\xfe\x00garbage", b"PK\x03\x04\x14\x00\x00\x00broken zip", b"campaign,item\n1,2\n", b"\"unterminated"];
        for bytes in junk {
            for name in ["w.csv", "w.xlsx"] {
                let out = read_bytes(Path::new(name), bytes, &key);
                if let Err(e) = out {
                    assert!(e.to_string().starts_with(name), "{e}");
                }
            }
        }
    }

    /// Both formats round-trip: the reviewer's cells come back, the codes match, and a
    /// change to any other cell is detected.
    #[test]
    fn a_worksheet_round_trips_and_an_edit_outside_the_decision_is_detected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = [9u8; 32];
        for name in ["w.xlsx", "w.csv"] {
            let path = dir.path().join(name);
            write(&path, &[row(1), row(2)], &key).expect("write");
            let back = read(&path, &key).expect("read");
            assert_eq!(back.len(), 2, "{name}");
            assert!(back.iter().all(|r| r.intact && r.decision.is_none()), "{name}: {back:?}");
            assert!(read(&path, &[1u8; 32]).expect("read").iter().all(|r| !r.intact), "{name}: another key");
        }
        // A CSV edited: a decision filled (fine), and a holder changed (detected).
        let path = dir.path().join("w.csv");
        let text = std::fs::read_to_string(&path).expect("csv");
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[1] = lines[1].replacen(",,,", ",revoke,left the team,", 1);
        lines[2] = lines[2].replace("erp:AP/enter", "erp:AP/view");
        std::fs::write(&path, lines.join("\n")).expect("edit");
        let back = read(&path, &key).expect("read");
        assert_eq!(
            (back[0].decision.as_deref(), back[0].comment.as_deref(), back[0].intact),
            (Some("revoke"), Some("left the team"), true)
        );
        assert!(!back[1].intact);
        // Not a worksheet at all.
        std::fs::write(&path, "a,b\n1,2\n").expect("other");
        assert!(read(&path, &key).expect_err("refused").to_string().contains("header is not the worksheet's"));
    }
}
