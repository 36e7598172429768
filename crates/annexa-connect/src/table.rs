//! Reading a CSV export with named columns, line numbers and strict limits.
//!
//! Every CSV importer goes through [`Table`]: it checks the header against the columns the
//! format requires, then hands out [`Row`]s that know their line number, so every error
//! can say `file:line: column `x`: expected ...`.

use crate::ImportError;
use std::collections::BTreeMap;

/// No legitimate identity field comes near this; a longer one is a broken or hostile file.
pub(crate) const MAX_FIELD_BYTES: usize = 64 * 1024;

pub(crate) struct Table<'a> {
    file: &'a str,
    reader: csv::Reader<&'a [u8]>,
    /// Canonical column name -> index in the file's records, and the name messages give
    /// it: the export's own where a mapping renamed it.
    index: Vec<(&'static str, usize, Box<str>)>,
    width: usize,
    lines: Lines<'a>,
    /// Reused for every row: one allocation per file, not per row.
    record: Fields,
}

/// A record's fields, checked as a whole for UTF-8 and NUL bytes when it is read (on the
/// read-ahead thread for a large file, [`Table::read_ahead`]), so that reading a field
/// costs no check of its own: per field, the checks were a quarter of the parsing of an
/// assignments file. A record that fails either keeps its bytes, and the field at fault
/// says so when it is read ([`Row::text`]).
enum Fields {
    /// Valid UTF-8, no NUL byte.
    Clean(csv::StringRecord),
    Raw(csv::ByteRecord),
}

impl Default for Fields {
    fn default() -> Fields {
        Fields::Raw(csv::ByteRecord::new())
    }
}

impl Fields {
    fn of(record: csv::ByteRecord) -> Fields {
        if record.as_slice().contains(&0) {
            return Fields::Raw(record);
        }
        match csv::StringRecord::from_byte_record(record) {
            Ok(clean) => Fields::Clean(clean),
            Err(e) => Fields::Raw(e.into_byte_record()),
        }
    }

    /// The record, to be filled again.
    fn into_bytes(self) -> csv::ByteRecord {
        match self {
            Fields::Clean(r) => r.into_byte_record(),
            Fields::Raw(r) => r,
        }
    }

    fn bytes(&self) -> &csv::ByteRecord {
        match self {
            Fields::Clean(r) => r.as_byte_record(),
            Fields::Raw(r) => r,
        }
    }
}

/// The line a record starts on, from its byte offset. csv's own `Position::line` is where
/// the reader stopped after the previous record, which lags behind by the blank lines it
/// skipped (and, with CRLF endings, by the `\n` of the previous record's `\r\n`).
struct Lines<'a> {
    bytes: &'a [u8],
    /// A byte offset already counted, and the 1-based line it is on.
    offset: usize,
    line: u64,
}

impl Lines<'_> {
    fn of_record(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else { return 0 };
        let mut start = usize::try_from(position.byte()).unwrap_or(usize::MAX).min(self.bytes.len());
        // csv skips empty lines (`\n`, `\r\n`, `\r`) before a record.
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        // A line ends with `\n`, `\r\n` or a lone `\r` (csv accepts all three). Without a
        // `\r` (most files) the `\n` are the breaks, counted a block at a time: byte by byte,
        // this was a tenth of reading a large file.
        let between = self.bytes.get(self.offset..start).unwrap_or_default();
        let breaks = if count_byte(between, b'\r') == 0 {
            count_byte(between, b'\n')
        } else {
            (self.offset..start)
                .filter(|&i| match self.bytes.get(i) {
                    Some(b'\n') => true,
                    Some(b'\r') => self.bytes.get(i + 1) != Some(&b'\n'),
                    _ => false,
                })
                .count()
        };
        self.line += breaks as u64;
        self.offset = start;
        self.line
    }
}

impl<'a> Table<'a> {
    /// Opens `bytes` as CSV, requiring every column of `required` in the header and taking
    /// those of `optional` when present. `rename` maps a canonical name to the name the
    /// export uses instead.
    pub(crate) fn open(
        file: &'a str,
        bytes: &'a [u8],
        required: &[&'static str],
        optional: &[&'static str],
        rename: &BTreeMap<String, String>,
    ) -> Result<Table<'a>, ImportError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let expected_header = || required.join(",");
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ImportError::new(
                file,
                0,
                None,
                format!("the file is empty: expected a header line `{}` and data rows", expected_header()),
            ));
        }
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut lines = Lines { bytes, offset: 0, line: 1 };
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(ImportError::new(file, 1, None, "the file has no header line")),
            Err(e) => return Err(ImportError::new(file, 1, None, format!("unreadable header: {e}"))),
        }
        // Blank lines before the header are skipped, so it is not always line 1.
        let header_line = lines.of_record(header.position());
        let mut names = Vec::with_capacity(header.len());
        for (i, field) in header.iter().enumerate() {
            let name = std::str::from_utf8(field)
                .map_err(|_| ImportError::new(file, header_line, None, format!("header field {} is not valid UTF-8", i + 1)))?;
            names.push(name.trim().to_string());
        }
        let find = |canonical: &str| -> Option<usize> {
            let wanted = rename.get(canonical).map(String::as_str).unwrap_or(canonical);
            names.iter().position(|n| n.eq_ignore_ascii_case(wanted))
        };
        // A column read twice would be read from its first position only, silently.
        for &col in required.iter().chain(optional) {
            let Some(first) = find(col) else { continue };
            let name = &names[first];
            if let Some(second) = names.iter().skip(first + 1).position(|n| n.eq_ignore_ascii_case(name)) {
                return Err(ImportError::new(
                    file,
                    header_line,
                    Some(name),
                    format!(
                        "duplicate column in the header: fields {} and {} are both {}; each column must appear once",
                        first + 1,
                        first + 2 + second,
                        crate::error::quote(name)
                    ),
                ));
            }
        }
        let shown = |col: &'static str, i: usize| -> Box<str> {
            match (rename.contains_key(col), names.get(i)) {
                (true, Some(name)) => name.as_str().into(),
                _ => col.into(),
            }
        };
        let mut index = Vec::new();
        let mut missing = Vec::new();
        for &col in required {
            match find(col) {
                Some(i) => index.push((col, i, shown(col, i))),
                None => missing.push(rename.get(col).cloned().unwrap_or_else(|| col.to_string())),
            }
        }
        if !missing.is_empty() {
            return Err(ImportError::new(
                file,
                header_line,
                None,
                format!(
                    "wrong header: missing column(s) {}; expected a header with {} (found `{}`)",
                    missing.join(", "),
                    expected_header(),
                    names.join(",")
                ),
            ));
        }
        for &col in optional {
            if let Some(i) = find(col) {
                index.push((col, i, shown(col, i)));
            }
        }
        Ok(Table { file, reader, index, width: names.len(), lines, record: Fields::default() })
    }

    /// About how many data rows the file holds (its line breaks): what a parser reserves room
    /// for, since growing a vector of millions of records copies it each time it doubles.
    pub(crate) fn rows_hint(&self) -> usize {
        count_byte(self.lines.bytes, b'\n')
    }

    /// An error about `column` of the row on `line`, as [`Row::error`] words it, for a
    /// problem found once the rows are read ([`DeferredKeys`]): `value` is the column's text.
    pub(crate) fn error_at(&self, line: u64, column: &str, value: &str, message: impl Into<String>) -> ImportError {
        let shown = self.index.iter().find(|(c, _, _)| *c == column).map_or(column, |(_, _, shown)| &**shown);
        ImportError::new(self.file, line, Some(shown), message).with_value(value)
    }

    /// The next data row that is well formed, or `None` at the end of the file; a malformed
    /// one is refused through `refusals` (an error when strict, set aside when lenient).
    pub(crate) fn next_good_row(&mut self, refusals: &mut crate::error::Refusals) -> Result<Option<Row<'_>>, ImportError> {
        loop {
            match self.advance() {
                Ok(None) => return Ok(None),
                Ok(Some(line)) => return Ok(Some(Row { file: self.file, line, record: &self.record, index: &self.index })),
                Err(e) => refusals.refuse(e)?,
            }
        }
    }

    /// Reads the next data record into `self.record` and returns its line; `None` at the end.
    /// Returns no borrow, so that a caller may loop past refused records.
    fn advance(&mut self) -> Result<Option<u64>, ImportError> {
        let Table { file, reader, index, width, lines, record } = self;
        let mut bytes = std::mem::take(record).into_bytes();
        let read = Source { file, reader, lines, index, width: *width }.advance(&mut bytes);
        *record = if matches!(read, Ok(Some(_))) { Fields::of(bytes) } else { Fields::Raw(bytes) };
        read
    }

    /// Hands the rows to `read` as [`Rows`], read ahead on another thread: splitting the
    /// file into records and checking their shape, a fifth of reading an assignments file,
    /// is done there while `read` makes records of the rows before. The rows, refusals and
    /// errors are the same, in the same order, as [`Table::next_good_row`] gives them.
    pub(crate) fn read_ahead<R>(&mut self, read: impl FnOnce(&mut Rows<'_>) -> R) -> R {
        /// Records per batch: enough that passing a batch costs nothing beside reading it.
        const BATCH: usize = 1024;
        let Table { file, reader, index, width, lines, record: _ } = self;
        let (file, index, width): (&str, &[(&'static str, usize, Box<str>)], usize) = (file, index, *width);
        std::thread::scope(|scope| {
            let (full, batches) = std::sync::mpsc::sync_channel::<Vec<Read>>(4);
            let (spent, spares) = std::sync::mpsc::channel::<Vec<Read>>();
            scope.spawn(move || {
                let mut source = Source { file, reader, lines, index, width };
                loop {
                    // The records of a batch read before are filled again, not allocated.
                    let mut batch = spares.try_recv().unwrap_or_default();
                    let mut records: Vec<csv::ByteRecord> =
                        batch.drain(..).filter_map(|r| if let Read::Row(r, _) = r { Some(r.into_bytes()) } else { None }).collect();
                    let mut end = false;
                    while batch.len() < BATCH {
                        let mut record = records.pop().unwrap_or_default();
                        match source.advance(&mut record) {
                            Ok(Some(line)) => batch.push(Read::Row(Fields::of(record), line)),
                            Ok(None) => {
                                end = true;
                                break;
                            }
                            Err(e) => batch.push(Read::Refused(Some(e))),
                        }
                    }
                    // Sending fails when the rows are no longer wanted: stop there.
                    if full.send(batch).is_err() || end {
                        return;
                    }
                }
            });
            let mut rows = Rows { file, index, batches, spent, batch: Vec::new(), next: 0 };
            read(&mut rows)
        })
    }
}

/// Where [`Table`]'s records come from: the reader and what checking a record needs.
struct Source<'s, 'a> {
    file: &'s str,
    reader: &'s mut csv::Reader<&'a [u8]>,
    lines: &'s mut Lines<'a>,
    index: &'s [(&'static str, usize, Box<str>)],
    width: usize,
}

impl Source<'_, '_> {
    /// Reads the next data record into `record` and returns its line; `None` at the end.
    fn advance(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>, ImportError> {
        loop {
            match self.reader.read_byte_record(record) {
                Ok(false) => return Ok(None),
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Err(ImportError::new(self.file, line, None, format!("malformed CSV: {e}")));
                }
            }
            let line = self.lines.of_record(record.position());
            // A blank line (one empty field) is not a record.
            if record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if record.len() != self.width {
                // An unclosed quote swallows the following lines into one field.
                let hint = if record.iter().any(|f| f.contains(&b'\n') || f.contains(&b'\r')) {
                    " (a quoted field runs over several lines: is a `\"` left unclosed?)"
                } else if record.len() < self.width {
                    " (truncated row?)"
                } else {
                    ""
                };
                return Err(ImportError::new(
                    self.file,
                    line,
                    None,
                    format!("expected {} fields as in the header, found {}{hint}", self.width, record.len()),
                )
                .with_value(&record_text(record)));
            }
            // No field of a record that short is too long: most records need no look at each.
            let too_long =
                if record.as_slice().len() <= MAX_FIELD_BYTES { None } else { record.iter().position(|f| f.len() > MAX_FIELD_BYTES) };
            if let Some(i) = too_long {
                let col = self.index.iter().find(|(_, j, _)| *j == i).map(|(_, _, shown)| &**shown);
                return Err(ImportError::new(
                    self.file,
                    line,
                    col,
                    format!("field {} is {} bytes long; at most {} are accepted", i + 1, record[i].len(), MAX_FIELD_BYTES),
                )
                .with_value(&String::from_utf8_lossy(&record[i])));
            }
            return Ok(Some(line));
        }
    }
}

/// A record read ahead ([`Table::read_ahead`]): a row and its line, or why it is refused.
enum Read {
    Row(Fields, u64),
    Refused(Option<ImportError>),
}

/// The rows of a [`Table`], read ahead on another thread ([`Table::read_ahead`]).
pub(crate) struct Rows<'t> {
    file: &'t str,
    index: &'t [(&'static str, usize, Box<str>)],
    batches: std::sync::mpsc::Receiver<Vec<Read>>,
    /// Batches handed back to be filled again.
    spent: std::sync::mpsc::Sender<Vec<Read>>,
    batch: Vec<Read>,
    next: usize,
}

impl Rows<'_> {
    /// [`Table::next_good_row`], from the rows read ahead.
    pub(crate) fn next_good_row(&mut self, refusals: &mut crate::error::Refusals) -> Result<Option<Row<'_>>, ImportError> {
        let at = loop {
            let Some(read) = self.batch.get_mut(self.next) else {
                let spent = std::mem::take(&mut self.batch);
                // The reader may have stopped (at the end): nothing to hand back then.
                let _ = self.spent.send(spent);
                match self.batches.recv() {
                    Ok(batch) => (self.batch, self.next) = (batch, 0),
                    Err(_) => return Ok(None),
                }
                continue;
            };
            self.next += 1;
            match read {
                Read::Row(..) => break self.next - 1,
                Read::Refused(e) => {
                    if let Some(e) = e.take() {
                        refusals.refuse(e)?;
                    }
                }
            }
        };
        // INVARIANT: `at` is a row (the loop breaks on rows only); the second arm never runs.
        match self.batch.get(at) {
            Some(Read::Row(record, line)) => Ok(Some(Row { file: self.file, line: *line, record, index: self.index })),
            _ => Ok(None),
        }
    }
}

/// How many of `bytes` are `byte`: counted in blocks of 64 into a byte-sized sum, which the
/// compiler turns into vector instructions (byte by byte it took five instructions a byte,
/// 0.7 G for an assignments file of 150 MB, only to size a set).
fn count_byte(bytes: &[u8], byte: u8) -> usize {
    let mut blocks = bytes.chunks_exact(64);
    let mut n = 0;
    for block in &mut blocks {
        n += usize::from(block.iter().fold(0u8, |sum, &b| sum.wrapping_add(u8::from(b == byte))));
    }
    n + blocks.remainder().iter().filter(|&&b| b == byte).count()
}

/// `text` without its leading and trailing white space, as `str::trim`; most fields begin
/// and end with a character that is plainly not white space, and need no more look.
fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        [one] if one.is_ascii_graphic() => text,
        [] => text,
        _ => text.trim(),
    }
}

/// A record's fields as one line of text, for a quarantine report.
fn record_text(record: &csv::ByteRecord) -> String {
    let fields: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    fields.join(",")
}

/// A column as a row reads it: by its name, found among the file's columns on every read,
/// or as a [`Column`], found once per file ([`Table::column`]).
pub(crate) trait ColumnRef: Copy {
    /// The canonical name.
    fn name(&self) -> &str;
    /// Where it is in the table's columns, if the file has it.
    fn slot(&self, index: &[(&'static str, usize, Box<str>)]) -> Option<usize>;
}

impl ColumnRef for &str {
    fn name(&self) -> &str {
        self
    }
    fn slot(&self, index: &[(&'static str, usize, Box<str>)]) -> Option<usize> {
        index.iter().position(|(c, _, _)| c == self)
    }
}

/// A column of one table, found once: the large files' parsers read ten columns of
/// millions of rows, and finding each by name (several names have the same length, so
/// their bytes are compared) was a sixth of the reading.
#[derive(Clone, Copy)]
pub(crate) struct Column {
    name: &'static str,
    slot: Option<usize>,
}

impl ColumnRef for Column {
    fn name(&self) -> &str {
        self.name
    }
    fn slot(&self, _: &[(&'static str, usize, Box<str>)]) -> Option<usize> {
        self.slot
    }
}

impl Table<'_> {
    /// `name` among this table's columns, for its rows to read as a [`Column`].
    pub(crate) fn column(&self, name: &'static str) -> Column {
        Column { name, slot: name.slot(&self.index) }
    }
}

/// One data row.
pub(crate) struct Row<'t> {
    pub file: &'t str,
    pub line: u64,
    record: &'t Fields,
    index: &'t [(&'static str, usize, Box<str>)],
}

impl Row<'_> {
    /// An error about `column` (a canonical name; the message names the column as the
    /// export does), quoting its value in a quarantine report.
    pub(crate) fn error(&self, column: &str, message: impl Into<String>) -> ImportError {
        match self.index.iter().find(|(c, _, _)| *c == column) {
            Some((_, i, shown)) => ImportError::new(self.file, self.line, Some(shown), message)
                .with_value(String::from_utf8_lossy(self.record.bytes().get(*i).unwrap_or_default()).trim()),
            None => ImportError::new(self.file, self.line, Some(column), message),
        }
    }

    /// The trimmed text of `column` ("" when the column is absent from the file).
    pub(crate) fn text(&self, column: impl ColumnRef) -> Result<&str, ImportError> {
        let Some(&(_, i, _)) = column.slot(self.index).and_then(|slot| self.index.get(slot)) else {
            return Ok("");
        };
        let bytes = match self.record {
            Fields::Clean(record) => return Ok(trim(record.get(i).unwrap_or_default())),
            Fields::Raw(record) => record.get(i).unwrap_or_default(),
        };
        let column = column.name();
        let text = std::str::from_utf8(bytes)
            .map(str::trim)
            .map_err(|e| self.error(column, format!("not valid UTF-8 (byte {} of the field)", e.valid_up_to() + 1)))?;
        // PostgreSQL refuses NUL in text, and no name or identifier holds one: a NUL is a
        // broken export (or one trying to cut a value short where it is compared).
        // A byte loop: fields are short, and `find` with a `char` costs more to set up.
        if let Some(at) = text.bytes().position(|b| b == 0) {
            return Err(self.error(column, format!("contains a NUL byte (byte {} of the value)", at + 1)));
        }
        Ok(text)
    }

    /// `Some(text)` when the column is present and not empty.
    pub(crate) fn optional(&self, column: impl ColumnRef) -> Result<Option<&str>, ImportError> {
        let t = self.text(column)?;
        Ok(if t.is_empty() { None } else { Some(t) })
    }

    /// The text of a column that must not be empty.
    pub(crate) fn required(&self, column: impl ColumnRef) -> Result<&str, ImportError> {
        match self.text(column)? {
            "" => Err(self.error(column.name(), "a value is required")),
            t => Ok(t),
        }
    }

    pub(crate) fn line_u32(&self) -> u32 {
        u32::try_from(self.line).unwrap_or(u32::MAX)
    }
}

/// Remembers keys seen so far, to reject the second row with the same key.
pub(crate) struct KeySet<K = String> {
    seen: rustc_hash::FxHashMap<K, u64>,
    what: &'static str,
}

impl<K: std::hash::Hash + Eq> KeySet<K> {
    pub(crate) fn new(what: &'static str) -> KeySet<K> {
        KeySet { seen: rustc_hash::FxHashMap::default(), what }
    }

    /// With room for `rows` keys: growing a set of millions rehashes every key each time.
    pub(crate) fn with_capacity(what: &'static str, rows: usize) -> KeySet<K> {
        let mut seen = rustc_hash::FxHashMap::default();
        seen.reserve(rows);
        KeySet { seen, what }
    }

    /// Records `key`; a key seen before is an error naming both lines (`shown` renders it).
    pub(crate) fn insert_with(&mut self, row: &Row<'_>, column: &str, key: K, shown: impl FnOnce(&K) -> String) -> Result<(), ImportError> {
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                Err(row.error(column, duplicate_message(self.what, &shown(e.key()), *e.get())))
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(row.line);
                Ok(())
            }
        }
    }
}

/// What a row says whose `key` (a `what`) an earlier row, on line `first`, has.
pub(crate) fn duplicate_message(what: &str, key: &str, first: u64) -> String {
    format!("duplicate {what} {}: already on line {first}; each must appear once", crate::error::quote(key))
}

/// Keys checked for repeats once the rows are read, instead of row by row: for a file of
/// millions of rows a set of its keys is hundreds of megabytes that every row probes at a
/// random place (at 17 million assignments, a third of the parsing), where writing each key
/// down in order and sorting them once costs a fraction of that. For strict imports: a
/// repeat fails the whole file, so finding it at the end changes nothing but when, and
/// [`DeferredKeys::first_repeat`] finds the one a row-by-row check meets first. Lenient
/// imports set a repeated row aside as they read it, with [`KeySet`].
pub(crate) struct DeferredKeys<K> {
    keys: Vec<(K, u32)>,
}

/// A key found twice: on `line`, after `first` (the first line with it).
pub(crate) struct Repeat<K> {
    pub key: K,
    pub line: u64,
    pub first: u64,
}

impl<K: Ord + Copy> DeferredKeys<K> {
    pub(crate) fn with_capacity(rows: usize) -> DeferredKeys<K> {
        DeferredKeys { keys: Vec::with_capacity(rows) }
    }

    pub(crate) fn push(&mut self, key: K, line: u32) {
        self.keys.push((key, line));
    }

    /// The repeat with the smallest line: the row a row-by-row check refuses first, and
    /// the line its key first appeared on.
    pub(crate) fn first_repeat(mut self) -> Option<Repeat<K>> {
        // By key, then by line: each key's lines in order, the first two are what counts.
        self.keys.sort_unstable();
        self.keys
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| Repeat { key: pair[1].0, line: u64::from(pair[1].1), first: u64::from(pair[0].1) })
            .min_by_key(|r| r.line)
    }
}

impl KeySet<String> {
    pub(crate) fn insert(&mut self, row: &Row<'_>, column: &str, key: String) -> Result<(), ImportError> {
        self.insert_with(row, column, key, |k| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row's line and fields, and every refusal's line and reason, as read.
    type Read = (Vec<(u64, Vec<String>)>, Vec<(u64, String)>);

    fn fields(row: &Row<'_>) -> (u64, Vec<String>) {
        (row.line, row.record.bytes().iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect())
    }

    /// Lines as a person counts them in an editor, whatever ends them.
    #[test]
    fn each_row_names_the_line_it_starts_on() {
        let text = "account,group\na,1\n\r\nb,2\r\nc,3\r\"d\nx\",4\n\ne,5\n";
        let mut table = Table::open("f.csv", text.as_bytes(), &["account", "group"], &[], &BTreeMap::new()).unwrap();
        let mut refusals = lenient();
        let mut lines = Vec::new();
        while let Some(row) = table.next_good_row(&mut refusals).unwrap() {
            lines.push((row.text("account").unwrap().to_string(), row.line));
        }
        let expected = [("a", 2), ("b", 4), ("c", 5), ("d\nx", 6), ("e", 9)].map(|(a, l)| (a.to_string(), l));
        assert_eq!(lines, expected);
    }

    #[test]
    fn bytes_are_counted_as_one_by_one() {
        let text: Vec<u8> = (0..1_000u32).flat_map(|i| format!("row {i},Åsa\n{}", "x".repeat((i % 70) as usize)).into_bytes()).collect();
        for len in [0, 1, 63, 64, 65, 200, text.len()] {
            let part = &text[..len];
            assert_eq!(count_byte(part, b'\n'), part.iter().filter(|&&b| b == b'\n').count(), "{len} bytes");
        }
        assert_eq!(count_byte(&[b'\n'; 300], b'\n'), 300, "a block of nothing else does not overflow its sum");
    }

    #[test]
    fn trimming_is_str_trim() {
        for text in ["", " ", "a", " a", "a ", "\ta\r", "a b", "é", " é", "é\u{2003}", "\u{a0}x", "x\u{a0}", "\u{3000}", "#", "~ "] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    /// A field is read the same whether its record was checked whole (clean) or not: a
    /// record with invalid UTF-8 or a NUL in one field still gives its other fields.
    #[test]
    fn fields_of_clean_and_faulty_records_read_alike() {
        let index: Vec<(&'static str, usize, Box<str>)> = vec![("a", 0, "a".into()), ("b", 1, "B".into())];
        fn row<'t>(fields: &'t Fields, index: &'t [(&'static str, usize, Box<str>)]) -> Row<'t> {
            Row { file: "f.csv", line: 2, record: fields, index }
        }
        let clean = Fields::of(csv::ByteRecord::from(vec![" Åsa ".as_bytes(), b"x/y@example.com"]));
        assert!(matches!(clean, Fields::Clean(_)));
        assert_eq!((row(&clean, &index).text("a").unwrap(), row(&clean, &index).text("b").unwrap()), ("Åsa", "x/y@example.com"));
        for bad in [&b"x\xff"[..], b"x\0y"] {
            let faulty = Fields::of(csv::ByteRecord::from(vec![" Åsa ".as_bytes(), bad]));
            assert!(matches!(faulty, Fields::Raw(_)));
            assert_eq!(row(&faulty, &index).text("a").unwrap(), "Åsa");
            let e = row(&faulty, &index).text("b").unwrap_err().to_string();
            assert!(e.contains("f.csv") && e.contains("B") && (e.contains("UTF-8") || e.contains("NUL")), "{e}");
        }
    }

    fn lenient() -> crate::error::Refusals {
        crate::error::Refusals::new(&crate::ImportOptions { lenient: true, ..Default::default() })
    }

    fn refused(refusals: crate::error::Refusals) -> Vec<(u64, String)> {
        refusals.into_rows().into_iter().map(|r| (r.line, r.reason)).collect()
    }

    /// A file with what a row-by-row reader must get right, over several batches: blank
    /// lines, CRLF endings, a quoted field over two lines, rows too short and too long,
    /// non-ASCII and `/` in values.
    fn awkward() -> String {
        let mut text = String::from("\u{feff}account,group\n");
        for i in 0..3_000 {
            match i % 500 {
                7 => text.push_str("\n\r\n"),
                11 => text.push_str(&format!("åsa/{i}@example.com,\"grp\nsplit\"\r\n")),
                13 => text.push_str("short\n"),
                17 => text.push_str("a,b,c\n"),
                _ => text.push_str(&format!("u{i},grp/ü{}\n", i % 7)),
            }
        }
        text
    }

    #[test]
    fn rows_read_ahead_are_the_rows_read_in_turn() {
        let text = awkward();
        let mut table = Table::open("f.csv", text.as_bytes(), &["account", "group"], &[], &BTreeMap::new()).unwrap();
        let mut refusals = lenient();
        let mut in_turn: Read = (Vec::new(), Vec::new());
        while let Some(row) = table.next_good_row(&mut refusals).unwrap() {
            assert!(matches!(row.record, Fields::Clean(_)), "line {}: checked whole when read", row.line);
            in_turn.0.push(fields(&row));
        }
        in_turn.1 = refused(refusals);

        let mut table = Table::open("f.csv", text.as_bytes(), &["account", "group"], &[], &BTreeMap::new()).unwrap();
        let mut refusals = lenient();
        let mut ahead: Read = (Vec::new(), Vec::new());
        table.read_ahead(|rows| {
            while let Some(row) = rows.next_good_row(&mut refusals).unwrap() {
                assert!(matches!(row.record, Fields::Clean(_)), "line {}: checked whole when read ahead", row.line);
                ahead.0.push(fields(&row));
            }
        });
        ahead.1 = refused(refusals);
        assert_eq!(ahead, in_turn);
        assert_eq!((in_turn.0.len(), in_turn.1.len()), (3_000 - 3 * 6, 12));
        assert!(in_turn.0.iter().any(|(_, f)| f[1] == "grp\nsplit"));
    }

    #[test]
    fn reading_ahead_stops_when_the_rows_are_no_longer_wanted() {
        let text = awkward();
        let mut table = Table::open("f.csv", text.as_bytes(), &["account", "group"], &[], &BTreeMap::new()).unwrap();
        // Strict: the first short row ends the reading; the reader thread must stop too.
        let mut strict = crate::error::Refusals::new(&crate::ImportOptions::default());
        let outcome = table.read_ahead(|rows| loop {
            match rows.next_good_row(&mut strict) {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            }
        });
        let e = outcome.unwrap_err();
        assert_eq!(e.line, 17, "{e}");
        assert!(e.message.contains("truncated row"), "{e}");
        // And after a few rows only.
        let mut table = Table::open("f.csv", text.as_bytes(), &["account", "group"], &[], &BTreeMap::new()).unwrap();
        let first = table.read_ahead(|rows| rows.next_good_row(&mut lenient()).unwrap().map(|r| r.line));
        assert_eq!(first, Some(2));
    }
}
