//! Printing lists as an aligned table, JSON or CSV (`--format`).

use clap::ValueEnum;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
    /// JUnit XML, for `annexa audit` in CI systems.
    Junit,
    /// A workbook, for exports (`annexa soa export`).
    Xlsx,
    /// A self-contained page, for exports (`annexa soa export`).
    Html,
}

/// A list to print: column names and string cells.
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn print(&self, format: Format) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match format {
            Format::Table => self.write_aligned(&mut out)?,
            Format::Junit => anyhow::bail!("--format junit is for `annexa audit`; lists print as table, json or csv"),
            Format::Xlsx | Format::Html => {
                anyhow::bail!("--format xlsx and html are for exports (`annexa soa export`); lists print as table, json or csv")
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.headers)?;
                for r in &self.rows {
                    w.write_record(r.iter().map(|c| csv_cell(c).into_owned()))?;
                }
                w.flush()?;
            }
            Format::Json => {
                let items: Vec<serde_json::Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let obj = self.headers.iter().zip(r).map(|(h, v)| (h.to_string(), serde_json::Value::String(v.clone()))).collect();
                        serde_json::Value::Object(obj)
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &items)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// The rows as aligned columns (the `table` format), on `out`.
    pub fn write_aligned(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_string()
        };
        writeln!(out, "{}", line(self.headers.clone()))?;
        for r in &self.rows {
            writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
        }
        Ok(())
    }
}

/// A CSV cell as Annexa writes it: safe to open in a spreadsheet (no formula runs).
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    annexa_core::text::spreadsheet_safe(cell)
}

/// Prints any serializable value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}
