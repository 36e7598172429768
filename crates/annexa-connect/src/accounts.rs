//! Generic accounts CSV: one row per login in any system.

use crate::error::{quote, Refusals};
use crate::fields::{email, instant, note_system, system, vocab, Interner};
use crate::table::{Column, KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor, Origin};

pub const REQUIRED: &[&str] = &[
    "system",
    "account_id",
    "username",
    "email",
    "employee_id",
    "display_name",
    "status",
    "type",
    "created_at",
    "last_login_at",
    "mfa",
    "password_last_set_at",
    "owner",
];

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let (mut batch, accounts) = crate::whole(|emit| parse_streamed(file, bytes, options, usize::MAX, emit))?;
    batch.accounts = accounts;
    Ok(batch)
}

/// [`parse`], handing the accounts to `emit` as they are read, `chunk` at a time (with
/// `usize::MAX`, once, in a vector sized for the whole file), so that they can be stored
/// while the rest is read; the batch returned holds everything else. `emit` returns false
/// when its receiver stopped (storing failed): reading stops there.
pub fn parse_streamed(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    chunk: usize,
    emit: &mut dyn FnMut(Vec<Account>) -> bool,
) -> Result<ImportBatch, ImportError> {
    let mut table = Table::open(file, bytes, REQUIRED, &[], &Default::default())?;
    let mut batch = ImportBatch::default();
    let rows = table.rows_hint();
    let mut pending = Vec::with_capacity(rows.min(chunk));
    let mut accounts = 0usize;
    let mut interner = Interner::default();
    let mut keys: AccountKeys = KeySet::with_capacity("account", rows);
    let mut refusals = Refusals::new(options);
    let columns = Columns::of(&table);
    // The system of the row before, by identity: a file's systems are noted once each.
    let mut last_system = 0usize;
    let stopped = table.read_ahead(|rows| -> Result<bool, ImportError> {
        while let Some(row) = rows.next_good_row(&mut refusals)? {
            match account(&row, &columns, options, &mut interner, &mut keys) {
                Ok(account) => {
                    if Interner::identity(&account.system) != last_system {
                        last_system = Interner::identity(&account.system);
                        note_system(&mut batch.systems, &account.system);
                    }
                    pending.push(account);
                    accounts += 1;
                    if pending.len() >= chunk && !emit(std::mem::replace(&mut pending, Vec::with_capacity(chunk))) {
                        return Ok(true);
                    }
                }
                Err(e) => refusals.refuse(e)?,
            }
        }
        Ok(false)
    })?;
    if stopped {
        return Ok(batch);
    }
    emit(pending);
    // A file without rows still speaks for the system it was given (`--allow-empty`
    // then retires that system's records).
    if let Some(system) = options.system.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        note_system(&mut batch.systems, system);
    }
    batch.rows = (accounts + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

type AccountKeys = KeySet<(annexa_core::Name, annexa_core::Name)>;

/// The columns an account is read from, found once per file.
struct Columns {
    system: Column,
    account_id: Column,
    username: Column,
    email: Column,
    employee_id: Column,
    display_name: Column,
    status: Column,
    kind: Column,
    created_at: Column,
    last_login_at: Column,
    mfa: Column,
    password_last_set_at: Column,
    owner: Column,
}

impl Columns {
    fn of(table: &Table<'_>) -> Columns {
        Columns {
            system: table.column("system"),
            account_id: table.column("account_id"),
            username: table.column("username"),
            email: table.column("email"),
            employee_id: table.column("employee_id"),
            display_name: table.column("display_name"),
            status: table.column("status"),
            kind: table.column("type"),
            created_at: table.column("created_at"),
            last_login_at: table.column("last_login_at"),
            mfa: table.column("mfa"),
            password_last_set_at: table.column("password_last_set_at"),
            owner: table.column("owner"),
        }
    }
}

fn account(
    row: &Row<'_>,
    c: &Columns,
    options: &ImportOptions,
    interner: &mut Interner,
    keys: &mut AccountKeys,
) -> Result<Account, ImportError> {
    let system = system(row, c.system, options, interner)?;
    let account_id = row.required(c.account_id)?;
    let account_id: annexa_core::Name = account_id.into();
    keys.insert_with(row, "account_id", (system.clone(), account_id.clone()), |(s, a)| format!("{s}/{a}"))?;
    let kind = vocab(row, c.kind, AccountType::parse, AccountType::expected, None)?;
    Ok(Account {
        system,
        account_id,
        username: row.text(c.username)?.to_string(),
        email: email(row, c.email)?,
        employee_id: row.optional(c.employee_id)?.map(Into::into),
        display_name: row.text(c.display_name)?.to_string(),
        status: vocab(row, c.status, AccountStatus::parse, AccountStatus::expected, None)?,
        kind,
        created_at: instant(row, c.created_at)?,
        last_login_at: instant(row, c.last_login_at)?,
        last_login_known: true,
        mfa: mfa(row, c.mfa)?,
        password_last_set_at: instant(row, c.password_last_set_at)?,
        interactive: kind != AccountType::Service,
        root: false,
        owner: row.optional(c.owner)?.map(String::from),
        credentials: Vec::new(),
        origin: Origin { import_id: 0, line: row.line_u32() },
    })
}

/// `totp|push` -> factors; empty -> not reported (`None`); `none` -> no factor.
fn mfa(row: &Row<'_>, column: Column) -> Result<Option<Vec<MfaFactor>>, ImportError> {
    let Some(text) = row.optional(column)? else { return Ok(None) };
    let mut factors = Vec::new();
    for part in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let f = MfaFactor::parse(part).ok_or_else(|| {
            row.error("mfa", format!("unknown MFA factor {}: expected `|`-separated {}", quote(part), MfaFactor::expected()))
        })?;
        if !factors.contains(&f) {
            factors.push(f);
        }
    }
    if factors.len() > 1 && factors.contains(&MfaFactor::None) {
        return Err(row.error("mfa", format!("{} lists `none` together with a factor", quote(text))));
    }
    Ok(Some(factors))
}
