//! Tables written as an XLSX workbook an auditor opens: one sheet per table, a bold frozen
//! header, filters, column widths fitted to the content (within bounds), wrapped text, and
//! every cell written as text, neutralised where a spreadsheet would take it for a formula. A table longer
//! than a sheet holds continues on the next sheet, named after it.

use crate::ReportError;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};
use std::path::Path;

/// Rows a sheet holds besides its header (Excel's limit is 1,048,576 rows).
const ROWS_PER_SHEET: u32 = 1_048_575;

/// A workbook being written, table by table.
pub struct Tables {
    workbook: Workbook,
    /// The current table: its name, header, the sheet it is on, rows written on that
    /// sheet, and each column's widest cell so far.
    current: Option<Current>,
    sheets: usize,
}

struct Current {
    name: String,
    header: Vec<String>,
    part: u32,
    rows: u32,
    widths: Vec<usize>,
}

fn failed(e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Write { file: "the workbook".into(), message: e.to_string() }
}

impl Default for Tables {
    fn default() -> Self {
        Tables::new()
    }
}

impl Tables {
    pub fn new() -> Tables {
        Tables { workbook: Workbook::new(), current: None, sheets: 0 }
    }

    /// Starts a table on a sheet of its own.
    pub fn table(&mut self, name: &str, header: &[&str]) -> Result<(), ReportError> {
        self.finish_sheet()?;
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        self.open_sheet(name.to_string(), header, 1)
    }

    fn open_sheet(&mut self, name: String, header: Vec<String>, part: u32) -> Result<(), ReportError> {
        let sheet_name = if part == 1 { name.clone() } else { format!("{name} ({part})") };
        let bold = Format::new().set_bold().set_background_color(Color::RGB(0xD9E1F2)).set_border_bottom(FormatBorder::Thin);
        let sheet = self.workbook.add_worksheet();
        sheet.set_name(&sheet_name).map_err(failed)?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold).map_err(failed)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        let widths = header.iter().map(|h| h.chars().count()).collect();
        self.current = Some(Current { name, header, part, rows: 0, widths });
        self.sheets += 1;
        Ok(())
    }

    /// Adds a row to the current table.
    pub fn row(&mut self, cells: &[String]) -> Result<(), ReportError> {
        let full = self.current.as_ref().is_some_and(|c| c.rows >= ROWS_PER_SHEET);
        if full {
            let (name, header, part) = {
                let c = self.current.as_ref().ok_or_else(|| failed(rust_xlsxwriter::XlsxError::ParameterError("no table".into())))?;
                (c.name.clone(), c.header.clone(), c.part + 1)
            };
            self.finish_sheet()?;
            self.open_sheet(name, header, part)?;
        }
        let wrap = Format::new().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top);
        let index = self.sheets - 1;
        let Some(c) = self.current.as_mut() else { return Err(failed(rust_xlsxwriter::XlsxError::ParameterError("no table".into()))) };
        c.rows += 1;
        let sheet = self.workbook.worksheet_from_index(index).map_err(failed)?;
        for (i, cell) in cells.iter().enumerate() {
            let cell = annexa_core::text::spreadsheet_safe(cell);
            sheet.write_string_with_format(c.rows, i as u16, cell.as_ref(), &wrap).map_err(failed)?;
            if let Some(w) = c.widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
        Ok(())
    }

    /// The current sheet's filter and column widths.
    fn finish_sheet(&mut self) -> Result<(), ReportError> {
        let Some(c) = self.current.take() else { return Ok(()) };
        let sheet = self.workbook.worksheet_from_index(self.sheets - 1).map_err(failed)?;
        sheet.autofilter(0, 0, c.rows.max(1), (c.header.len().max(1) - 1) as u16).map_err(failed)?;
        for (i, w) in c.widths.iter().enumerate() {
            sheet.set_column_width(i as u16, (*w as f64 + 2.0).clamp(8.0, 60.0)).map_err(failed)?;
        }
        Ok(())
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<(), ReportError> {
        self.finish_sheet()?;
        self.workbook.save(path).map_err(|e| ReportError::Write { file: path.display().to_string(), message: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_become_sheets_with_their_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.xlsx");
        let mut t = Tables::new();
        t.table("Summary", &["field", "value"]).expect("table");
        t.row(&["campaign".into(), "=1+1".into()]).expect("row");
        t.table("Items", &["item", "decision"]).expect("table");
        for i in 0..3 {
            t.row(&[i.to_string(), "certify".into()]).expect("row");
        }
        t.save(&path).expect("save");
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("open");
        assert_eq!(book.sheet_names(), ["Summary", "Items"]);
        let summary = book.worksheet_range("Summary").expect("summary");
        // Text, never a formula.
        assert_eq!(summary.get((1, 1)).map(ToString::to_string).as_deref(), Some("'=1+1"));
        assert_eq!(book.worksheet_range("Items").expect("items").height(), 4);
    }
}
