//! The compact snapshot encoding of one import's records.
//!
//! An audit must read millions of assignments in a fraction of a second; stepping through
//! that many rows costs seconds. So every import also stores its records as one blob:
//! a string dictionary (each distinct string once) followed by the records, fields as
//! LEB128 varints referring to the dictionary. Decoding allocates no string twice: every
//! field that repeats (system, entitlement, an assignment's account id) is a clone of a
//! dictionary entry. Strings that are each record's own (an account's id and login, a
//! person's name and e-mail address; from format 4 a badge's id and holder) are written
//! inline, length first: looking each up in a dictionary of millions only to find it new
//! cost more than the rest.
//! Records are stored in chunks with their byte length up front, so the chunks of a large
//! section decode on every core at once.
//!
//! Layout: `ANXS` magic, format version (varint), dictionary (count, then length-prefixed
//! UTF-8 strings), then five sections (people, accounts, entitlements, assignments,
//! badges). A section is its record count, its chunk count, and per chunk the number of
//! records, the byte length and the records, in the field order of the `put_*` functions.

use crate::StoreError;
use annexa_core::model::*;
use annexa_core::time::Instant;
use annexa_core::Name;
use chrono::{Datelike, NaiveDate};

const MAGIC: &[u8; 4] = b"ANXS";
/// Bumped whenever the layout changes. Format 3 writes strings that are seldom the same
/// twice (names, e-mail addresses, logins) inline instead of in the dictionary: every
/// string a format-2 snapshot held went through a hash table of all of them, the most of
/// writing an accounts file's snapshot, for strings that each appear once.
/// Format 4 writes a badge's id and holder inline too (a badge file's dictionary was its
/// ids, one per badge, each hashed for nothing).
pub const FORMAT: u64 = 4;
/// The oldest format this version reads (format 2: every string in the dictionary). An
/// older blob is refused, never misread.
pub const OLDEST_READ: u64 = 2;
/// Records per chunk: large enough that a chunk's thread pays for itself.
const CHUNK: usize = 65_536;

/// The records of one import, borrowed for encoding.
pub struct Records<'a> {
    pub people: &'a [Person],
    pub accounts: &'a [Account],
    pub entitlements: &'a [Entitlement],
    pub assignments: &'a [Assignment],
    pub badges: &'a [Badge],
}

/// The encoder's state: the dictionary so far and the body. It owns its strings (a copy of
/// each distinct one), so that a streamed import's records can be dropped once encoded.
struct Writer {
    /// FxHash: every string of every record is looked up here (85 million at 1,000,000
    /// people), where SipHash took seconds.
    dict: rustc_hash::FxHashMap<Box<str>, u64>,
    /// The dictionary as it will be written: each new string, length-prefixed.
    dict_bytes: Vec<u8>,
    body: Vec<u8>,
    /// The format written: [`FORMAT`], or format 2 where a test needs a blob an earlier
    /// version wrote.
    format: u64,
    /// Per field ([`Writer::name`]), the name it was last given and its dictionary entry.
    recent: [Option<(Name, u64)>; 4],
}

/// The fields [`Writer::name`] remembers the last name of.
mod field {
    pub(super) const SYSTEM: usize = 0;
    pub(super) const ACCOUNT: usize = 1;
    pub(super) const GRANTED_BY: usize = 2;
    pub(super) const CERTIFIED_BY: usize = 3;
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Writer {
    fn varint(&mut self, v: u64) {
        put_varint(&mut self.body, v);
    }
    fn new(body: usize) -> Writer {
        Writer {
            dict: Default::default(),
            dict_bytes: Vec::new(),
            body: Vec::with_capacity(body),
            format: FORMAT,
            recent: Default::default(),
        }
    }
    fn str(&mut self, s: &str) {
        let id = self.id_of(s);
        self.varint(id);
    }
    /// `s`'s dictionary entry, made if it is new.
    fn id_of(&mut self, s: &str) -> u64 {
        match self.dict.get(s) {
            Some(&id) => id,
            None => {
                let id = self.dict.len() as u64;
                put_varint(&mut self.dict_bytes, s.len() as u64);
                self.dict_bytes.extend_from_slice(s.as_bytes());
                self.dict.insert(s.into(), id);
                id
            }
        }
    }
    /// [`Writer::str`] for a field whose name is mostly the record before's (every record
    /// of a file names its system; an account's assignments come together): the same
    /// shared name as last time takes the same entry without hashing it. The name kept
    /// here stays alive, so no other name can be at its address meanwhile.
    fn name(&mut self, field: usize, n: &Name) {
        if let Some(Some((last, id))) = self.recent.get(field) {
            if std::sync::Arc::ptr_eq(last, n) {
                let id = *id;
                self.varint(id);
                return;
            }
        }
        let id = self.id_of(n);
        if let Some(slot) = self.recent.get_mut(field) {
            *slot = Some((n.clone(), id));
        }
        self.varint(id);
    }
    fn opt_name(&mut self, field: usize, n: Option<&Name>) {
        match n {
            None => self.body.push(0),
            Some(n) => {
                self.body.push(1);
                self.name(field, n)
            }
        }
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.body.push(0),
            Some(s) => {
                self.body.push(1);
                self.str(s)
            }
        }
    }
    /// A string that seldom repeats: inline, its length first.
    fn text(&mut self, s: &str) {
        if self.format < 3 {
            return self.str(s);
        }
        put_varint(&mut self.body, s.len() as u64);
        self.body.extend_from_slice(s.as_bytes());
    }
    fn opt_text(&mut self, s: Option<&str>) {
        match s {
            None => self.body.push(0),
            Some(s) => {
                self.body.push(1);
                self.text(s)
            }
        }
    }
    fn int(&mut self, v: i64) {
        // Zigzag keeps small negative numbers small.
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            None => self.body.push(0),
            Some(v) => {
                self.body.push(1);
                self.int(v)
            }
        }
    }
    fn instant(&mut self, v: Option<Instant>) {
        self.opt_int(v.map(|t| t.timestamp()));
    }
    fn date(&mut self, v: Option<NaiveDate>) {
        self.opt_int(v.map(|d| i64::from(d.num_days_from_ce())));
    }
    fn byte(&mut self, b: u8) {
        self.body.push(b);
    }

    /// Writes `items` as a chunked section.
    fn section<T>(&mut self, items: &[T], put: fn(&mut Writer, &T)) {
        self.varint(items.len() as u64);
        self.varint(items.len().div_ceil(CHUNK) as u64);
        for chunk in items.chunks(CHUNK) {
            let bytes = self.encoded(chunk, put, Vec::new());
            self.varint(chunk.len() as u64);
            self.varint(bytes.len() as u64);
            self.body.extend_from_slice(&bytes);
        }
    }

    /// `items` encoded after what `into` holds (the dictionary grows as they need).
    fn encoded<T>(&mut self, items: &[T], put: fn(&mut Writer, &T), into: Vec<u8>) -> Vec<u8> {
        let outer = std::mem::replace(&mut self.body, into);
        for item in items {
            put(self, item);
        }
        std::mem::replace(&mut self.body, outer)
    }

    /// The blob: magic, format, dictionary, then the body.
    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + self.dict_bytes.len() + 16);
        out.extend_from_slice(MAGIC);
        put_varint(&mut out, self.format);
        put_varint(&mut out, self.dict.len() as u64);
        out.extend_from_slice(&self.dict_bytes);
        out.extend_from_slice(&self.body);
        out
    }
}

/// Position of a vocabulary value in its `ALL` list.
fn ordinal<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

fn put_person(w: &mut Writer, p: &Person) {
    w.text(&p.employee_id);
    w.opt_text(p.email.as_deref());
    w.text(&p.given_name);
    w.text(&p.family_name);
    w.str(&p.department);
    w.str(&p.title);
    w.opt_str(p.manager_id.as_deref());
    w.str(&p.location);
    w.byte(ordinal(WorkerType::ALL, &p.worker_type));
    w.byte(ordinal(PersonStatus::ALL, &p.status));
    w.date(p.start_date);
    w.date(p.end_date);
    w.date(p.screening_date);
    w.varint(u64::from(p.origin.line));
}

fn put_account(w: &mut Writer, a: &Account) {
    w.name(field::SYSTEM, &a.system);
    w.text(&a.account_id);
    w.text(&a.username);
    w.opt_text(a.email.as_deref());
    w.opt_str(a.employee_id.as_deref());
    w.text(&a.display_name);
    w.byte(ordinal(AccountStatus::ALL, &a.status));
    w.byte(ordinal(AccountType::ALL, &a.kind));
    w.instant(a.created_at);
    w.instant(a.last_login_at);
    w.byte(a.last_login_known as u8 | (a.interactive as u8) << 1 | (a.root as u8) << 2);
    match &a.mfa {
        None => w.varint(0),
        Some(f) => {
            w.varint(f.len() as u64 + 1);
            for m in f {
                w.byte(ordinal(MfaFactor::ALL, m));
            }
        }
    }
    w.instant(a.password_last_set_at);
    w.opt_str(a.owner.as_deref());
    w.varint(a.credentials.len() as u64);
    for c in &a.credentials {
        w.str(&c.slot);
        w.byte(ordinal(CredentialKind::ALL, &c.kind));
        w.byte(c.active as u8);
        w.instant(c.rotated_at);
        w.instant(c.last_used_at);
    }
    w.varint(u64::from(a.origin.line));
}

fn put_entitlement(w: &mut Writer, e: &Entitlement) {
    w.str(&e.system);
    w.str(&e.name);
    w.byte(e.privileged as u8);
    w.opt_str(e.owner.as_deref());
    w.varint(u64::from(e.origin.line));
}

fn put_assignment(w: &mut Writer, a: &Assignment) {
    w.name(field::SYSTEM, &a.system);
    w.name(field::ACCOUNT, &a.account_id);
    w.str(&a.entitlement);
    w.instant(a.granted_at);
    w.opt_name(field::GRANTED_BY, a.granted_by.as_ref());
    w.byte(ordinal(GrantSource::ALL, &a.source));
    w.instant(a.last_certified_at);
    w.opt_name(field::CERTIFIED_BY, a.last_certified_by.as_ref());
    w.varint(u64::from(a.origin.line));
}

fn put_badge(w: &mut Writer, b: &Badge) {
    w.str(&b.system);
    if w.format < 4 {
        w.str(&b.badge_id);
        w.opt_str(b.employee_id.as_deref());
    } else {
        w.text(&b.badge_id);
        w.opt_text(b.employee_id.as_deref());
    }
    w.byte(ordinal(BadgeStatus::ALL, &b.status));
    w.instant(b.last_used_at);
    w.varint(b.zones.len() as u64);
    for z in &b.zones {
        w.str(z);
    }
    w.varint(u64::from(b.origin.line));
}

/// Encodes an import's records.
pub fn encode(r: &Records<'_>) -> Vec<u8> {
    encode_in(r, FORMAT)
}

fn encode_in(r: &Records<'_>, format: u64) -> Vec<u8> {
    let mut w = Writer::new(48 * (r.assignments.len() + r.accounts.len() + 16));
    w.format = format;
    w.section(r.people, put_person);
    w.section(r.accounts, put_account);
    w.section(r.entitlements, put_entitlement);
    w.section(r.assignments, put_assignment);
    w.section(r.badges, put_badge);
    w.finish()
}

/// Encodes the snapshot of a streamed import (accounts or assignments arriving in chunks,
/// see `Store::import_streamed`) as they come, so that each chunk of records can be dropped
/// once written: the import holds its file's bytes, not its records twice over. The
/// streamed section's chunks are handed out as parts as soon as they are full
/// ([`StreamEncoder::take_parts`]), so that the store writes them while the file is still
/// read; the head (magic, format, dictionary, the sections before) is known only at the
/// end ([`StreamEncoder::finish`]). The head and the parts, joined in order, are the same
/// bytes as a snapshot encoded whole.
pub struct StreamEncoder {
    w: Writer,
    /// Parts ready to be stored: each full chunk's frame (records, byte length), then its bytes.
    ready: Vec<Vec<u8>>,
    /// The streamed section's records and chunks handed out so far.
    records: usize,
    chunks: usize,
    current: Vec<u8>,
    current_records: usize,
    accounts: bool,
}

/// A streamed snapshot's bytes, in order: `head`, then each of `parts`.
pub struct Parted {
    pub head: Vec<u8>,
    pub parts: Vec<Vec<u8>>,
}

impl Parted {
    /// The snapshot as one blob, as the store joins the parts it reads back.
    #[cfg(test)]
    pub fn joined(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        for part in &self.parts {
            out.extend_from_slice(part);
        }
        out
    }
}

impl StreamEncoder {
    /// An encoder of a streamed accounts (`accounts`) or assignments file.
    pub fn new(accounts: bool) -> StreamEncoder {
        StreamEncoder { w: Writer::new(0), ready: Vec::new(), records: 0, chunks: 0, current: Vec::new(), current_records: 0, accounts }
    }

    pub fn accounts(&mut self, items: &[Account]) {
        self.add(items, put_account);
    }

    pub fn assignments(&mut self, items: &[Assignment]) {
        self.add(items, put_assignment);
    }

    fn add<T>(&mut self, items: &[T], put: fn(&mut Writer, &T)) {
        for part in items.chunks(CHUNK) {
            let room = CHUNK - self.current_records;
            let (now, later) = part.split_at(room.min(part.len()));
            self.current = self.w.encoded(now, put, std::mem::take(&mut self.current));
            self.current_records += now.len();
            if self.current_records == CHUNK {
                self.hand_out_current();
            }
            if !later.is_empty() {
                self.current = self.w.encoded(later, put, Vec::new());
                self.current_records = later.len();
            }
        }
    }

    /// Makes the chunk being filled a part: its frame, then its bytes (not copied).
    fn hand_out_current(&mut self) {
        let bytes = std::mem::take(&mut self.current);
        let mut frame = Vec::with_capacity(20);
        put_varint(&mut frame, self.current_records as u64);
        put_varint(&mut frame, bytes.len() as u64);
        self.ready.push(frame);
        self.ready.push(bytes);
        self.records += self.current_records;
        self.chunks += 1;
        self.current_records = 0;
    }

    /// The parts full since the last call, in order.
    pub fn take_parts(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.ready)
    }

    /// The head, and the parts not taken yet, with the entitlements the file named (known
    /// once it is read).
    pub fn finish(mut self, entitlements: &[Entitlement]) -> Parted {
        if self.current_records > 0 {
            self.hand_out_current();
        }
        // The entitlements first, on their own: their names complete the dictionary, which
        // comes before every section.
        self.w.section(entitlements, put_entitlement);
        let Writer { dict, dict_bytes, body: entitlement_section, format, .. } = self.w;
        let mut head = Vec::with_capacity(32 + dict_bytes.len() + entitlement_section.len());
        head.extend_from_slice(MAGIC);
        put_varint(&mut head, format);
        put_varint(&mut head, dict.len() as u64);
        head.extend_from_slice(&dict_bytes);
        let empty = |out: &mut Vec<u8>| out.extend_from_slice(&[0, 0]);
        let streamed_header = |out: &mut Vec<u8>| {
            put_varint(out, self.records as u64);
            put_varint(out, self.chunks as u64);
        };
        let mut tail = Vec::new();
        empty(&mut head); // people
        if self.accounts {
            streamed_header(&mut head);
            tail.extend_from_slice(&entitlement_section);
            empty(&mut tail); // assignments
        } else {
            empty(&mut head); // accounts
            head.extend_from_slice(&entitlement_section);
            streamed_header(&mut head);
        }
        empty(&mut tail); // badges
        let mut parts = self.ready;
        parts.push(tail);
        Parted { head, parts }
    }
}

struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
    dict: &'b [&'b str],
    /// The snapshot's format: which strings are inline (see [`Reader::text`]).
    format: u64,
    /// The shared names made so far, by dictionary index. Each chunk makes its own: threads
    /// cloning one `Arc` would fight over its reference count on every record.
    names: rustc_hash::FxHashMap<u32, Name>,
    /// Per dictionary entry used as a system: 0 not yet asked, 1 kept, 2 dropped.
    kept: Vec<u8>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("snapshot: {what}"))
}

/// Decides which systems' records are kept; shared by the threads decoding chunks.
type Keep<'k> = &'k (dyn Fn(&str) -> bool + Sync);

impl<'b> Reader<'b> {
    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
            self.pos += 1;
            if shift >= 64 {
                return Err(corrupt("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    fn byte(&mut self) -> Result<u8, StoreError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn bytes(&mut self, len: usize) -> Result<&'b [u8], StoreError> {
        let out = self.buf.get(self.pos..self.pos.saturating_add(len)).ok_or_else(|| corrupt("truncated"))?;
        self.pos += len;
        Ok(out)
    }
    fn name_at(&mut self, i: usize) -> Result<Name, StoreError> {
        let s = *self.dict.get(i).ok_or_else(|| corrupt("string index out of range"))?;
        Ok(self.names.entry(i as u32).or_insert_with(|| Name::from(s)).clone())
    }
    fn name(&mut self) -> Result<Name, StoreError> {
        let i = self.varint()? as usize;
        self.name_at(i)
    }
    /// A system name, and whether its records are kept: decided once per distinct system.
    fn system(&mut self, keep: Keep<'_>) -> Result<(Name, bool), StoreError> {
        let i = self.varint()? as usize;
        let name = self.name_at(i)?;
        if self.kept.len() <= i {
            self.kept.resize(i + 1, 0);
        }
        if self.kept[i] == 0 {
            self.kept[i] = if keep(&name) { 1 } else { 2 };
        }
        Ok((name, self.kept[i] == 1))
    }
    fn string(&mut self) -> Result<String, StoreError> {
        let i = self.varint()? as usize;
        self.dict.get(i).map(|s| s.to_string()).ok_or_else(|| corrupt("string index out of range"))
    }
    /// A string written inline (format 3), its length first.
    fn inline_str(&mut self) -> Result<&'b str, StoreError> {
        let len = self.varint()? as usize;
        std::str::from_utf8(self.bytes(len)?).map_err(|_| corrupt("string is not UTF-8"))
    }
    /// A string written with `Writer::text`: inline from format 3, else in the dictionary.
    fn text(&mut self) -> Result<String, StoreError> {
        if self.format < 3 {
            return self.string();
        }
        self.inline_str().map(String::from)
    }
    /// A name written with `Writer::text` (one that each record has its own of: an
    /// account's id, a person's employee id).
    fn name_text(&mut self) -> Result<Name, StoreError> {
        if self.format < 3 {
            return self.name();
        }
        self.inline_str().map(Name::from)
    }
    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        Ok(match self.byte()? {
            0 => None,
            _ => Some(self.text()?),
        })
    }
    fn opt_name_text(&mut self) -> Result<Option<Name>, StoreError> {
        Ok(match self.byte()? {
            0 => None,
            _ => Some(self.name_text()?),
        })
    }
    fn opt_name(&mut self) -> Result<Option<Name>, StoreError> {
        Ok(match self.byte()? {
            0 => None,
            _ => Some(self.name()?),
        })
    }
    fn opt_string(&mut self) -> Result<Option<String>, StoreError> {
        Ok(match self.byte()? {
            0 => None,
            _ => Some(self.string()?),
        })
    }
    fn int(&mut self) -> Result<i64, StoreError> {
        let u = self.varint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(match self.byte()? {
            0 => None,
            _ => Some(self.int()?),
        })
    }
    fn instant(&mut self) -> Result<Option<Instant>, StoreError> {
        Ok(self.opt_int()?.and_then(|s| chrono::DateTime::from_timestamp(s, 0)))
    }
    fn date(&mut self) -> Result<Option<NaiveDate>, StoreError> {
        Ok(self.opt_int()?.and_then(|d| i32::try_from(d).ok()).and_then(NaiveDate::from_num_days_from_ce_opt))
    }
    fn vocab<T: Copy>(&mut self, all: &[T]) -> Result<T, StoreError> {
        let i = self.byte()? as usize;
        all.get(i).copied().ok_or_else(|| corrupt("unknown enumeration value"))
    }
    fn line(&mut self) -> Result<u32, StoreError> {
        u32::try_from(self.varint()?).map_err(|_| corrupt("line number out of range"))
    }
    fn count(&mut self) -> Result<usize, StoreError> {
        let n = self.varint()? as usize;
        // A count can never exceed the bytes left: refuse before reserving memory for it.
        if n > self.buf.len().saturating_sub(self.pos) {
            return Err(corrupt("count larger than the snapshot"));
        }
        Ok(n)
    }
}

/// Reads one record; `None` when its system is not kept.
type Get<T> = fn(&mut Reader<'_>, i64, Keep<'_>) -> Result<Option<T>, StoreError>;

/// Chunks a decoding thread may have ready ahead of the thread that takes them: what bounds
/// the memory a decode holds twice (a chunk decoded, not yet moved into place). Decoding
/// every chunk of a section at once held all its records twice, and at 1,000,000 people the
/// kernel zeroed 1.5 GB of fresh memory for chunks of assignments that were copied once and
/// given back (BENCHMARKS.md).
const AHEAD: usize = 2;

/// Runs `work` on every item on the cores (items dealt round-robin to one thread each),
/// while this thread hands each result to `take` in item order as it comes: moving one
/// chunk's records into place overlaps decoding the next ones (decoded in waves, each
/// wave's moving left the cores idle for a third of the time). Stops at the first error,
/// `take`'s or a result's. A thread that dies yields an error, never a missing result.
fn on_every_core<I: Sync, T: Send>(
    items: &[I],
    work: impl Fn(&I) -> Result<T, StoreError> + Sync,
    mut take: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len());
    if threads <= 1 {
        return items.iter().try_for_each(|i| take(work(i)?));
    }
    std::thread::scope(|scope| {
        let work = &work;
        let ready: Vec<std::sync::mpsc::Receiver<Result<T, StoreError>>> = (0..threads)
            .map(|t| {
                let (send, ready) = std::sync::mpsc::sync_channel(AHEAD);
                scope.spawn(move || {
                    for i in (t..items.len()).step_by(threads) {
                        // Refused when the taker stopped: nothing more is wanted.
                        if send.send(work(&items[i])).is_err() {
                            break;
                        }
                    }
                });
                ready
            })
            .collect();
        for i in 0..items.len() {
            let result = ready[i % threads].recv().unwrap_or_else(|_| Err(corrupt("a decoding thread failed")));
            take(result?)?;
        }
        Ok(())
    })
}

/// Reads a chunked section into `into`, decoding its chunks on every core when there are
/// several. Each chunk's records are moved into `into` once (callers reserve its room).
fn section<T: Send>(r: &mut Reader<'_>, import_id: i64, keep: Keep<'_>, get: Get<T>, into: &mut Vec<T>) -> Result<(), StoreError> {
    let count = r.count()?;
    let chunks = r.count()?;
    let mut parts: Vec<(usize, &[u8])> = Vec::with_capacity(chunks);
    let mut total = 0usize;
    for _ in 0..chunks {
        let n = r.varint()? as usize;
        let len = r.varint()? as usize;
        parts.push((n, r.bytes(len)?));
        total = total.saturating_add(n);
    }
    if total != count {
        return Err(corrupt("chunk sizes do not add up"));
    }
    let (dict, format) = (r.dict, r.format);
    let decode = |(n, bytes): &(usize, &[u8])| -> Result<Vec<T>, StoreError> {
        let mut c = Reader { buf: bytes, pos: 0, dict, format, names: Default::default(), kept: Vec::new() };
        let mut out = Vec::with_capacity((*n).min(bytes.len()));
        for _ in 0..*n {
            if let Some(x) = get(&mut c, import_id, keep)? {
                out.push(x);
            }
        }
        if c.pos != bytes.len() {
            return Err(corrupt("trailing bytes in a chunk"));
        }
        Ok(out)
    };
    into.reserve(count);
    on_every_core(&parts, decode, |part| {
        into.extend(part);
        Ok(())
    })
}

fn get_person(r: &mut Reader<'_>, import_id: i64, _: Keep<'_>) -> Result<Option<Person>, StoreError> {
    Ok(Some(Person {
        employee_id: r.name_text()?,
        email: r.opt_text()?,
        given_name: r.text()?,
        family_name: r.text()?,
        department: r.string()?,
        title: r.string()?,
        manager_id: r.opt_name()?,
        location: r.string()?,
        worker_type: r.vocab(WorkerType::ALL)?,
        status: r.vocab(PersonStatus::ALL)?,
        start_date: r.date()?,
        end_date: r.date()?,
        screening_date: r.date()?,
        origin: Origin { import_id, line: r.line()? },
    }))
}

fn get_account(r: &mut Reader<'_>, import_id: i64, keep: Keep<'_>) -> Result<Option<Account>, StoreError> {
    let (system, keep_it) = r.system(keep)?;
    let account_id = r.name_text()?;
    let username = r.text()?;
    let email = r.opt_text()?;
    let employee_id = r.opt_name()?;
    let display_name = r.text()?;
    let status = r.vocab(AccountStatus::ALL)?;
    let kind = r.vocab(AccountType::ALL)?;
    let created_at = r.instant()?;
    let last_login_at = r.instant()?;
    let flags = r.byte()?;
    let mfa = match r.varint()? {
        0 => None,
        n => Some((1..n).map(|_| r.vocab(MfaFactor::ALL)).collect::<Result<Vec<_>, _>>()?),
    };
    let password_last_set_at = r.instant()?;
    let owner = r.opt_string()?;
    let mut credentials = Vec::new();
    for _ in 0..r.count()? {
        credentials.push(Credential {
            slot: r.string()?,
            kind: r.vocab(CredentialKind::ALL)?,
            active: r.byte()? != 0,
            rotated_at: r.instant()?,
            last_used_at: r.instant()?,
        });
    }
    let line = r.line()?;
    Ok(keep_it.then_some(Account {
        system,
        account_id,
        username,
        email,
        employee_id,
        display_name,
        status,
        kind,
        created_at,
        last_login_at,
        last_login_known: flags & 1 != 0,
        mfa,
        password_last_set_at,
        interactive: flags & 2 != 0,
        root: flags & 4 != 0,
        owner,
        credentials,
        origin: Origin { import_id, line },
    }))
}

fn get_entitlement(r: &mut Reader<'_>, import_id: i64, keep: Keep<'_>) -> Result<Option<Entitlement>, StoreError> {
    let (system, keep_it) = r.system(keep)?;
    let e = Entitlement {
        system,
        name: r.name()?,
        privileged: r.byte()? != 0,
        owner: r.opt_string()?,
        origin: Origin { import_id, line: r.line()? },
    };
    Ok(keep_it.then_some(e))
}

fn get_badge(r: &mut Reader<'_>, import_id: i64, keep: Keep<'_>) -> Result<Option<Badge>, StoreError> {
    let (system, keep_it) = r.system(keep)?;
    let (badge_id, employee_id) = if r.format < 4 { (r.name()?, r.opt_name()?) } else { (r.name_text()?, r.opt_name_text()?) };
    let status = r.vocab(BadgeStatus::ALL)?;
    let last_used_at = r.instant()?;
    let mut zones = Vec::new();
    for _ in 0..r.count()? {
        zones.push(r.string()?);
    }
    let line = r.line()?;
    Ok(keep_it.then_some(Badge { system, badge_id, employee_id, status, last_used_at, zones, origin: Origin { import_id, line } }))
}

/// The record counts of a snapshot's five sections (people, accounts, entitlements,
/// assignments, badges), read from the chunk tables without decoding any record: lets the
/// caller reserve the graph's room once for every snapshot together.
pub fn counts(blob: &[u8]) -> Result<[usize; 5], StoreError> {
    if blob.get(..4) != Some(MAGIC.as_slice()) {
        return Err(corrupt("not an Annexa snapshot"));
    }
    let mut r = Reader { buf: blob, pos: 4, dict: &[], format: 0, names: Default::default(), kept: Vec::new() };
    if !(OLDEST_READ..=FORMAT).contains(&r.varint()?) {
        return Err(corrupt("unknown format"));
    }
    for _ in 0..r.count()? {
        let len = r.varint()? as usize;
        r.bytes(len)?;
    }
    let mut out = [0usize; 5];
    for slot in out.iter_mut() {
        *slot = r.count()?;
        for _ in 0..r.count()? {
            r.varint()?;
            let len = r.varint()? as usize;
            r.bytes(len)?;
        }
    }
    Ok(out)
}

/// A snapshot whose records are decoded, and whose assignments wait for every snapshot's
/// accounts and entitlements to be known, so that they can be resolved to positions.
pub struct Pending<'b> {
    import_id: i64,
    blob: &'b [u8],
    dict: Vec<&'b str>,
    format: u64,
    /// Where the assignments section starts.
    assignments: usize,
}

/// Decodes a snapshot's people, accounts, entitlements and badges into `g`, keeping only
/// the records whose system `keep` accepts (a later import may have replaced some of its
/// systems); its assignments are left for [`decode_grants`].
pub fn decode_records<'b>(
    import_id: i64,
    blob: &'b [u8],
    keep: Keep<'_>,
    g: &mut annexa_core::graph::IdentityGraph,
) -> Result<Pending<'b>, StoreError> {
    if blob.get(..4) != Some(MAGIC.as_slice()) {
        return Err(corrupt("not an Annexa snapshot"));
    }
    let mut r = Reader { buf: blob, pos: 4, dict: &[], format: 0, names: Default::default(), kept: Vec::new() };
    let format = r.varint()?;
    if !(OLDEST_READ..=FORMAT).contains(&format) {
        return Err(corrupt(&format!("format {format}, this version reads {OLDEST_READ} to {FORMAT}")));
    }
    let n = r.count()?;
    let mut dict: Vec<&str> = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.varint()? as usize;
        dict.push(std::str::from_utf8(r.bytes(len)?).map_err(|_| corrupt("string is not UTF-8"))?);
    }
    let pos = r.pos;
    let mut r = Reader { buf: blob, pos, dict: &dict, format, names: Default::default(), kept: Vec::new() };
    section(&mut r, import_id, keep, get_person, &mut g.people)?;
    section(&mut r, import_id, keep, get_account, &mut g.accounts)?;
    section(&mut r, import_id, keep, get_entitlement, &mut g.entitlements)?;
    let assignments = r.pos;
    r.count()?;
    for _ in 0..r.count()? {
        r.varint()?;
        let len = r.varint()? as usize;
        r.bytes(len)?;
    }
    section(&mut r, import_id, keep, get_badge, &mut g.badges)?;
    if r.pos != blob.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(Pending { import_id, blob, dict, format, assignments })
}

/// Finds accounts and entitlements by name, for resolving assignments to positions.
pub struct Resolver<'g> {
    accounts: rustc_hash::FxHashMap<(&'g str, &'g str), u32>,
    entitlements: rustc_hash::FxHashMap<(&'g str, &'g str), u32>,
    added: Added,
    pub grants: Vec<annexa_core::model::Grant>,
    pub unattached: u64,
}

/// Entitlements only assignments name, added after the graph's own.
struct Added {
    entitlements: Vec<Entitlement>,
    index: rustc_hash::FxHashMap<(Name, Name), u32>,
    /// The position of the first: the graph's own come before.
    base: u32,
}

impl Added {
    /// The position of entitlement `name` of `system`: the graph's own (`known`), or one
    /// added for it.
    fn entitlement(&mut self, known: &rustc_hash::FxHashMap<(&str, &str), u32>, system: &str, name: &str, origin: Origin) -> u32 {
        if let Some(i) = known.get(&(system, name)) {
            return *i;
        }
        let key: (Name, Name) = (system.into(), name.into());
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let i = self.base + self.entitlements.len() as u32;
        self.entitlements.push(Entitlement { system: key.0.clone(), name: key.1.clone(), privileged: false, owner: None, origin });
        self.index.insert(key, i);
        i
    }
}

impl<'g> Resolver<'g> {
    pub fn new(accounts: &'g [Account], entitlements: &'g [Entitlement], grants: usize) -> Resolver<'g> {
        Resolver {
            accounts: accounts.iter().enumerate().map(|(i, a)| ((&*a.system, &*a.account_id), i as u32)).collect(),
            entitlements: entitlements.iter().enumerate().map(|(i, e)| ((&*e.system, &*e.name), i as u32)).collect(),
            added: Added { entitlements: Vec::new(), index: Default::default(), base: entitlements.len() as u32 },
            grants: Vec::with_capacity(grants),
            unattached: 0,
        }
    }

    /// The entitlements that only assignments named, to append to the graph's.
    pub fn into_parts(self) -> (Vec<annexa_core::model::Grant>, Vec<Entitlement>, u64) {
        (self.grants, self.added.entitlements, self.unattached)
    }
}

/// What one chunk of assignments decodes to: its grants, how many had no account, and the
/// grants whose entitlement no entitlement record names (position in `grants`, system,
/// name), to be given one after all chunks are in.
type ChunkGrants<'b> = (Vec<annexa_core::model::Grant>, u64, Vec<(usize, &'b str, &'b str)>);

/// Decodes a pending snapshot's assignments as grants, its chunks on every core. Accounts
/// and entitlements are looked up once per distinct name in a chunk, not per assignment.
pub fn decode_grants(p: &Pending<'_>, keep: Keep<'_>, resolver: &mut Resolver<'_>) -> Result<(), StoreError> {
    let mut r = Reader { buf: p.blob, pos: p.assignments, dict: &p.dict, format: p.format, names: Default::default(), kept: Vec::new() };
    let count = r.count()?;
    let mut chunks: Vec<(usize, &[u8])> = Vec::new();
    let mut total = 0usize;
    for _ in 0..r.count()? {
        let n = r.varint()? as usize;
        let len = r.varint()? as usize;
        chunks.push((n, r.bytes(len)?));
        total = total.saturating_add(n);
    }
    if total != count {
        return Err(corrupt("chunk sizes do not add up"));
    }
    let Resolver { accounts, entitlements, added, grants: all, unattached: all_unattached } = resolver;
    let (accounts, entitlements) = (&*accounts, &*entitlements);
    let decode = |(n, bytes): &(usize, &[u8])| -> Result<ChunkGrants<'_>, StoreError> {
        let mut r = Reader { buf: bytes, pos: 0, dict: &p.dict, format: p.format, names: Default::default(), kept: Vec::new() };
        let text = |i: u64| p.dict.get(i as usize).copied().ok_or_else(|| corrupt("string index out of range"));
        let mut account_of: rustc_hash::FxHashMap<(u64, u64), Option<u32>> = Default::default();
        let mut entitlement_of: rustc_hash::FxHashMap<(u64, u64), Option<u32>> = Default::default();
        let mut grants = Vec::with_capacity(*n);
        let (mut unattached, mut missing) = (0u64, Vec::new());
        for _ in 0..*n {
            let system = r.varint()?;
            let account = r.varint()?;
            let entitlement = r.varint()?;
            let granted_at = r.instant()?;
            let granted_by = r.opt_name()?;
            let source = r.vocab(GrantSource::ALL)?;
            let last_certified_at = r.instant()?;
            let last_certified_by = r.opt_name()?;
            let origin = Origin { import_id: p.import_id, line: r.line()? };
            let found = match account_of.get(&(system, account)) {
                Some(found) => *found,
                None => {
                    let (s, a) = (text(system)?, text(account)?);
                    let found = if keep(s) { accounts.get(&(s, a)).copied() } else { None };
                    account_of.insert((system, account), found);
                    found
                }
            };
            let Some(account) = found else {
                if keep(text(system)?) {
                    unattached += 1;
                }
                continue;
            };
            let known = match entitlement_of.get(&(system, entitlement)) {
                Some(e) => *e,
                None => {
                    let e = entitlements.get(&(text(system)?, text(entitlement)?)).copied();
                    entitlement_of.insert((system, entitlement), e);
                    e
                }
            };
            if known.is_none() {
                missing.push((grants.len(), text(system)?, text(entitlement)?));
            }
            grants.push(annexa_core::model::Grant {
                account,
                entitlement: known.unwrap_or(u32::MAX),
                source,
                granted_at,
                granted_by,
                last_certified_at,
                last_certified_by,
                origin,
            });
        }
        if r.pos != bytes.len() {
            return Err(corrupt("a chunk's length does not match its records"));
        }
        Ok((grants, unattached, missing))
    };
    on_every_core(&chunks, decode, |(mut grants, unattached, missing)| {
        for (at, system, name) in missing {
            let origin = grants[at].origin;
            grants[at].entitlement = added.entitlement(entitlements, system, name, origin);
        }
        *all_unattached += unattached;
        all.extend(grants);
        Ok(())
    })
}

/// Decodes one snapshot on its own into `g` (its assignments resolved against its own
/// accounts and entitlements and those already in `g`): for tests and the fuzz target.
pub fn decode(import_id: i64, blob: &[u8], keep: Keep<'_>, g: &mut annexa_core::graph::IdentityGraph) -> Result<(), StoreError> {
    let pending = decode_records(import_id, blob, keep, g)?;
    let mut resolver = Resolver::new(&g.accounts, &g.entitlements, 0);
    decode_grants(&pending, keep, &mut resolver)?;
    let (grants, added, unattached) = resolver.into_parts();
    g.grants.extend(grants);
    g.entitlements.extend(added);
    g.unattached_assignments += unattached;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use annexa_core::graph::IdentityGraph;
    use annexa_core::time::parse_instant;

    fn records() -> (Vec<Person>, Vec<Account>, Vec<Entitlement>, Vec<Assignment>, Vec<Badge>) {
        let t = parse_instant("2026-03-04T05:06:07Z");
        let people = vec![Person {
            employee_id: "E1".into(),
            email: Some("a@x.io".into()),
            given_name: "Zoë".into(),
            family_name: "O'Brien".into(),
            department: "Eng".into(),
            title: "Dev".into(),
            manager_id: None,
            location: "".into(),
            worker_type: WorkerType::Vendor,
            status: PersonStatus::Leave,
            start_date: NaiveDate::from_ymd_opt(1999, 12, 31),
            end_date: None,
            screening_date: NaiveDate::from_ymd_opt(1969, 1, 1),
            origin: Origin { import_id: 9, line: 2 },
        }];
        let accounts = vec![Account {
            system: "aws".into(),
            account_id: "<root_account>".into(),
            username: "root".into(),
            email: None,
            employee_id: None,
            display_name: "arn".into(),
            status: AccountStatus::Disabled,
            kind: AccountType::Admin,
            created_at: t,
            last_login_at: None,
            last_login_known: false,
            mfa: Some(vec![MfaFactor::Totp, MfaFactor::Webauthn]),
            password_last_set_at: parse_instant("1960-01-01T00:00:00Z"),
            interactive: true,
            root: true,
            owner: Some("E1".into()),
            credentials: vec![Credential {
                slot: "access_key_1".into(),
                kind: CredentialKind::AccessKey,
                active: true,
                rotated_at: t,
                last_used_at: None,
            }],
            origin: Origin { import_id: 9, line: 70_000 },
        }];
        let entitlements = vec![Entitlement {
            system: "aws".into(),
            name: "Admins".into(),
            privileged: true,
            owner: None,
            origin: Origin { import_id: 9, line: 3 },
        }];
        let assignments = vec![Assignment {
            system: "aws".into(),
            account_id: "<root_account>".into(),
            entitlement: "Admins".into(),
            granted_at: None,
            granted_by: Some("E1".into()),
            source: GrantSource::Request,
            last_certified_at: t,
            last_certified_by: None,
            origin: Origin { import_id: 9, line: 4 },
        }];
        let badges = vec![Badge {
            system: "hq".into(),
            badge_id: "B1".into(),
            employee_id: Some("E1".into()),
            status: BadgeStatus::Inactive,
            last_used_at: t,
            zones: vec!["lobby".into(), "lab".into()],
            origin: Origin { import_id: 9, line: 5 },
        }];
        (people, accounts, entitlements, assignments, badges)
    }

    #[test]
    fn every_field_survives_a_round_trip() {
        let (people, accounts, entitlements, assignments, badges) = records();
        let blob = encode(&Records {
            people: &people,
            accounts: &accounts,
            entitlements: &entitlements,
            assignments: &assignments,
            badges: &badges,
        });
        let mut g = IdentityGraph::default();
        decode(9, &blob, &|_| true, &mut g).expect("decodes");
        let mut from_records = IdentityGraph {
            accounts: accounts.clone(),
            entitlements: entitlements.clone(),
            assignments: assignments.clone(),
            ..Default::default()
        };
        from_records.resolve();
        assert_eq!(g.grants, from_records.grants);
        assert_eq!(g.grants.len(), 1);
        assert_eq!((g.people, g.accounts, g.entitlements, g.badges), (people, accounts, entitlements, badges));
        let mut only_hq = IdentityGraph::default();
        decode(9, &blob, &|s| s == "hq", &mut only_hq).expect("decodes");
        assert_eq!((only_hq.accounts.len(), only_hq.badges.len(), only_hq.people.len()), (0, 1, 1));
    }

    /// Snapshots earlier versions wrote (format 2: every string in the dictionary; format
    /// 3: a badge's id and holder still in it) read as they did; the current format writes
    /// seldom-repeated strings inline, and is smaller for it when each appears once.
    #[test]
    fn format_2_and_3_snapshots_read_as_they_did() {
        let (people, mut accounts, entitlements, assignments, mut badges) = records();
        accounts[0].email = Some("åsa.berg@example.com".into());
        accounts[0].username = "ÅSA.Berg@example.com".into();
        badges[0].badge_id = "Bädge/0001".into();
        let records =
            Records { people: &people, accounts: &accounts, entitlements: &entitlements, assignments: &assignments, badges: &badges };
        let (old, three, new) = (encode_in(&records, 2), encode_in(&records, 3), encode(&records));
        assert!(old != three && three != new && old != new);
        assert_eq!((old[4], three[4], new[4]), (2, 3, 4), "the format follows the magic");
        let (mut from_old, mut from_three, mut from_new) = (IdentityGraph::default(), IdentityGraph::default(), IdentityGraph::default());
        decode(9, &old, &|_| true, &mut from_old).expect("format 2 decodes");
        decode(9, &three, &|_| true, &mut from_three).expect("format 3 decodes");
        decode(9, &new, &|_| true, &mut from_new).expect("format 4 decodes");
        for (format, earlier) in [(2, &from_old), (3, &from_three)] {
            assert_eq!(
                (&earlier.people, &earlier.accounts, &earlier.grants, &earlier.badges),
                (&from_new.people, &from_new.accounts, &from_new.grants, &from_new.badges),
                "format {format}"
            );
        }
        assert_eq!((from_new.people, from_new.accounts, from_new.badges), (people, accounts, badges));
        assert_eq!(counts(&old).expect("counts"), counts(&new).expect("counts"));
        assert_eq!(counts(&three).expect("counts"), counts(&new).expect("counts"));
        // Format 1, and formats this version does not know yet, are refused.
        for format in [1u8, 5] {
            let mut other = new.clone();
            other[4] = format;
            assert!(decode(9, &other, &|_| true, &mut IdentityGraph::default()).is_err(), "format {format}");
            assert!(counts(&other).is_err(), "format {format}");
        }
    }

    /// A streamed import's snapshot, encoded chunk by chunk in pieces that straddle the
    /// snapshot's own chunks, decodes to what the whole-file encoding gives.
    #[test]
    fn a_snapshot_encoded_as_records_stream_in_decodes_like_one_encoded_whole() {
        let (_, accounts, entitlements, _, _) = records();
        let n = 2 * CHUNK + 123;
        let assignments: Vec<Assignment> = (0..n)
            .map(|i| Assignment {
                system: "aws".into(),
                account_id: format!("user-{}", i % 5_000).into(),
                entitlement: format!("group/{}", i / 5_000).into(),
                granted_at: None,
                granted_by: (i % 3 == 0).then(|| "E1".into()),
                source: GrantSource::Manual,
                last_certified_at: None,
                last_certified_by: None,
                origin: Origin { import_id: 9, line: i as u32 + 2 },
            })
            .collect();
        let whole = encode(&Records { people: &[], accounts: &[], entitlements: &entitlements, assignments: &assignments, badges: &[] });
        let mut streamed = StreamEncoder::new(false);
        let mut taken = Vec::new();
        for piece in assignments.chunks(16_384 + 7) {
            streamed.assignments(piece);
            taken.extend(streamed.take_parts());
        }
        // Each full chunk is handed out as soon as it is full: a frame and its bytes.
        assert_eq!(taken.len(), 2 * 2);
        let mut parted = streamed.finish(&entitlements);
        parted.parts.splice(0..0, taken);
        assert_eq!(parted.parts.len(), 3 * 2 + 1, "three chunks, then the sections after");
        let streamed = parted.joined();
        // The accounts they name, as another import would have brought them.
        let holders: Vec<Account> = (0..5_000).map(|i| Account { account_id: format!("user-{i}").into(), ..accounts[0].clone() }).collect();
        let graph = || IdentityGraph { accounts: holders.clone(), ..Default::default() };
        let (mut a, mut b) = (graph(), graph());
        decode(9, &whole, &|_| true, &mut a).expect("whole");
        decode(9, &streamed, &|_| true, &mut b).expect("streamed");
        assert_eq!((a.grants.len(), a.unattached_assignments), (n, 0), "every assignment resolved");
        assert_eq!((b.entitlements, b.grants), (a.entitlements, a.grants));

        let mut streamed = StreamEncoder::new(true);
        streamed.accounts(&accounts);
        let mut g = IdentityGraph::default();
        decode(9, &streamed.finish(&[]).joined(), &|_| true, &mut g).expect("accounts");
        assert_eq!(g.accounts, accounts);
    }

    /// Many more chunks than the decoding threads hold ahead: every grant in its place, in
    /// file order, and an entitlement that only assignments name added once, whichever
    /// chunk names it.
    #[test]
    fn assignments_over_many_chunks_decode_in_order() {
        let (_, accounts, _, _, _) = records();
        let n = (4 * AHEAD + 5) * CHUNK + 17;
        let assignments: Vec<Assignment> = (0..n)
            .map(|i| Assignment {
                system: "aws".into(),
                account_id: format!("user-{}", i % 1_000).into(),
                entitlement: format!("group/{}", i % 7).into(),
                granted_at: None,
                granted_by: None,
                source: GrantSource::Manual,
                last_certified_at: None,
                last_certified_by: None,
                origin: Origin { import_id: 4, line: i as u32 + 2 },
            })
            .collect();
        let blob = encode(&Records { people: &[], accounts: &[], entitlements: &[], assignments: &assignments, badges: &[] });
        let holders: Vec<Account> = (0..1_000).map(|i| Account { account_id: format!("user-{i}").into(), ..accounts[0].clone() }).collect();
        let mut g = IdentityGraph { accounts: holders, ..Default::default() };
        decode(4, &blob, &|_| true, &mut g).expect("decodes");
        assert_eq!((g.grants.len(), g.unattached_assignments, g.entitlements.len()), (n, 0, 7));
        for (i, grant) in g.grants.iter().enumerate() {
            assert_eq!(grant.origin.line, i as u32 + 2, "grant {i} in file order");
            let (account, entitlement) = (&g.accounts[grant.account as usize], &g.entitlements[grant.entitlement as usize]);
            assert_eq!((&*account.account_id, &*entitlement.name), (&*format!("user-{}", i % 1_000), &*format!("group/{}", i % 7)));
        }
    }

    #[test]
    fn damaged_snapshots_are_refused_never_misread() {
        let (people, accounts, entitlements, assignments, badges) = records();
        let blob = encode(&Records {
            people: &people,
            accounts: &accounts,
            entitlements: &entitlements,
            assignments: &assignments,
            badges: &badges,
        });
        for cut in 0..blob.len() {
            let mut g = IdentityGraph::default();
            assert!(decode(9, &blob[..cut], &|_| true, &mut g).is_err(), "a snapshot cut at {cut} was accepted");
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert!(decode(9, &longer, &|_| true, &mut IdentityGraph::default()).is_err());
        let mut wrong_format = blob;
        wrong_format[4] = 99;
        let err = decode(9, &wrong_format, &|_| true, &mut IdentityGraph::default()).expect_err("format");
        assert!(err.to_string().contains("format 99"), "{err}");
    }
}
