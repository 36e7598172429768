-- Annexa's built-in checks written as DuckDB SQL over the CSV exports of the demo
-- organisation: the benchmark peer of `annexa audit` (see bench/run).
--
-- Input: a directory written by
--   annexa demo --generate-only --directory-format csv [--first-audit] --out DIR
-- File names below are relative to it (run.py sets `file_search_path`).
--
-- Semantics follow crates/annexa-engine/src/checks/*.rs (the source of truth). The rules
-- come from the directory's annexa.toml, as annexa reads them: run.py fills the `config_*`
-- tables below from it (SoD rules, roles, birthright rules) and stops on anything else in it,
-- so check parameters are the defaults. Correlation uses the default username rules, as the
-- demo configuration sets none. As-of is 2026-10-01T00:00:00Z.
--
-- Like annexa, a check whose configuration is missing is not evaluated (no findings at all,
-- listed in `not_evaluated` with annexa's reason): sod-conflict without SoD rules, and the
-- checks that judge access by the role model without birthright rules.
--
-- run.py times each `-- @phase` (setup, load, check, store) and each `-- @step` inside a
-- phase; the checks are one step each, after the shared `context` step.

-- @phase setup
SET TimeZone = 'UTC';
SET VARIABLE as_of = TIMESTAMPTZ '2026-10-01 00:00:00+00';

-- Whole days from `t` to the as-of instant, truncated toward zero (chrono's num_days).
CREATE MACRO days_since(t) AS CAST(trunc((epoch(getvariable('as_of')) - epoch(t)) / 86400) AS BIGINT);
-- correlate.rs: `slug` (lower-case; no whitespace, apostrophes or hyphens) and
-- `bare_username` (`DOMAIN\jdoe`, `jdoe@corp.example` -> `jdoe`; empty -> NULL, no match).
CREATE MACRO slug(s) AS regexp_replace(lower(s), '[\s''-]', '', 'g');
CREATE MACRO bare_username(u) AS nullif(lower(trim(split_part(split_part(u, '\', -1), '@', 1))), '');
-- context.rs `account_subject`: the label of an account, with its person when correlated.
CREATE MACRO account_label(username, display_name, person_name) AS CASE
    WHEN person_name IS NOT NULL THEN username || ' (' || person_name || ')'
    WHEN coalesce(display_name, '') <> '' AND display_name <> username THEN username || ' (' || display_name || ')'
    ELSE username END;
CREATE MACRO person_name(given, family) AS trim(given || ' ' || family);
-- Instants in evidence as annexa writes them.
CREATE MACRO rfc3339(t) AS strftime(t, '%Y-%m-%dT%H:%M:%SZ');
-- One evidence record: what kind of record, its key, the file and line it came from.
CREATE MACRO src(record, key, file, line) AS json_object('record', record, 'key', key, 'file', file, 'line', line);
-- A JSON object without its null members, as annexa writes an assignment's details (a JSON
-- merge patch deletes the members it sets to null).
CREATE MACRO compact(j) AS json_merge_patch('{}', j);
-- grouped.rs `named`: the entitlements a finding over several assignments names, sorted:
-- `a, b and c`, or the first five and how many more.
CREATE MACRO named(names) AS CASE
    WHEN len(names) = 1 THEN names[1]
    WHEN len(names) <= 5 THEN array_to_string(names[1:len(names) - 1], ', ') || ' and ' || names[len(names)]
    ELSE array_to_string(names[1:5], ', ') || ' and ' || (len(names) - 5) || ' more' END;
-- An AWS credential-report value: `N/A`, `not_supported` and `no_information` are absence.
CREATE MACRO aws_time(t) AS CASE WHEN t IN ('N/A', 'not_supported', 'no_information') THEN NULL ELSE CAST(t AS TIMESTAMPTZ) END;
CREATE MACRO aws_flag(t) AS coalesce(lower(t) = 'true', false);

-- The generic accounts CSV, normalised as the importer does (accounts.rs): emails
-- lower-cased, vocabularies to canonical spelling, an empty `mfa` is "not reported".
CREATE MACRO accounts_csv(path) AS TABLE
SELECT system, account_id, username, lower(email) AS email, employee_id, display_name,
       lower(status) IN ('enabled', 'active') AS enabled,
       CASE lower(type) WHEN 'privileged' THEN 'admin' ELSE lower(type) END AS kind,
       created_at, last_login_at, true AS last_login_known,
       CASE WHEN mfa IS NOT NULL THEN list_transform(string_split(lower(mfa), '|'),
           lambda f: CASE trim(f) WHEN 'fido2' THEN 'webauthn' WHEN 'smartcard' THEN 'webauthn' ELSE trim(f) END) END AS mfa,
       password_last_set_at, lower(type) <> 'service' AS interactive, false AS root, owner
FROM read_csv(path, header = true, auto_detect = false, columns = {
    'system': 'VARCHAR', 'account_id': 'VARCHAR', 'username': 'VARCHAR', 'email': 'VARCHAR',
    'employee_id': 'VARCHAR', 'display_name': 'VARCHAR', 'status': 'VARCHAR', 'type': 'VARCHAR',
    'created_at': 'TIMESTAMPTZ', 'last_login_at': 'TIMESTAMPTZ', 'mfa': 'VARCHAR',
    'password_last_set_at': 'TIMESTAMPTZ', 'owner': 'VARCHAR'});

-- The generic assignments CSV (assignments.rs): an empty source is `unknown`.
CREATE MACRO assignments_csv(path) AS TABLE
SELECT system, account_id, entitlement, coalesce(privileged, false) AS privileged, granted_at,
       granted_by, coalesce(lower(source), 'unknown') AS source,
       last_certified_at, last_certified_by
FROM read_csv(path, header = true, auto_detect = false, union_by_name = true, columns = {
    'system': 'VARCHAR', 'account_id': 'VARCHAR', 'entitlement': 'VARCHAR', 'privileged': 'BOOLEAN',
    'granted_at': 'TIMESTAMPTZ', 'granted_by': 'VARCHAR', 'source': 'VARCHAR',
    'last_certified_at': 'TIMESTAMPTZ', 'last_certified_by': 'VARCHAR'});

-- The checks, in annexa's order: id, default severity, controls, default parameters
-- (registry.rs, config.rs). sod-conflict's parameters are its rules, set from the
-- configuration in the `context` step. log-integrity judges annexa's own ledger: no peer.
CREATE TABLE checks (id VARCHAR, severity VARCHAR, controls VARCHAR[], parameters JSON);
INSERT INTO checks VALUES
    ('orphaned-account', 'high', ['A.5.16', 'A.5.18'], '{}'),
    ('leaver-access', 'critical', ['A.5.18', 'A.6.5', 'A.7.2'], '{"sla_hours":24}'),
    ('dormant-account', 'medium', ['A.5.18', 'A.8.2'], '{"days":90,"directory_slack_days":14,"include_service":false}'),
    ('mfa-missing', 'high', ['A.5.17', 'A.8.5'], '{}'),
    ('privileged-weak-mfa', 'high', ['A.8.2', 'A.8.5'], '{}'),
    ('stale-credential', 'medium', ['A.5.17', 'A.8.5'], '{"days":90,"max_password_age_days":0}'),
    ('root-account-use', 'critical', ['A.8.2'], '{"days":30}'),
    ('sod-conflict', 'high', ['A.5.3'], '{"rules":[]}'),
    ('shared-account', 'medium', ['A.5.16'], '{"generic_names":["admin","administrator","shared","test","temp","training",' ||
        '"guest","info","support","helpdesk","reception","demo","scanner","kiosk","team","office","noreply","generic"]}'),
    ('service-account-no-owner', 'medium', ['A.5.9', 'A.5.16'], '{}'),
    ('admin-not-separated', 'high', ['A.8.2'], '{}'),
    ('certification-overdue', 'medium', ['A.5.18'], '{"privileged_days":90,"standard_days":365,"include_undated":false}'),
    ('mover-residual-access', 'medium', ['A.5.18'], '{"grace_days":14}'),
    ('mover-access-review', 'low', ['A.5.18', 'A.5.15'], '{"review_days":30}'),
    ('unexplained-access', 'medium', ['A.5.15', 'A.5.18'], '{}'),
    ('privilege-outlier', 'low', ['A.8.2', 'A.5.15'], '{"min_peers":5,"factor":3.0,"min_privileged":3}'),
    ('contractor-no-end-date', 'medium', ['A.5.16', 'A.6.1'], '{}');

-- The configuration (annexa.toml), which run.py fills right after this phase. Patterns are
-- kept as written and as LIKE patterns: lower-cased (annexa compares lower-cased), `*` ->
-- `%`, and `%`, `_` and `\` escaped with `\` (so compare with `LIKE p ESCAPE '\'`).
-- SoD rules ([[sod.rules]]); severity and mitigation are NULL when not set.
CREATE TABLE config_sod_rules (ord INTEGER, id VARCHAR, description VARCHAR, severity VARCHAR, mitigation VARCHAR, sides INTEGER);
-- Each side's `system:entitlement` patterns, one row each (a pattern without `system:` is
-- for any system).
CREATE TABLE config_sod_sides (rule VARCHAR, side INTEGER, ord INTEGER, pattern VARCHAR, system_like VARCHAR, entitlement_like VARCHAR);
-- Birthright rules ([[birthright]]), in order.
CREATE TABLE config_birthright (ord INTEGER, id VARCHAR);
-- Who a rule applies to: every attribute listed must match one of its patterns (one row per
-- pattern); a rule without rows applies to everyone.
CREATE TABLE config_birthright_when (rule VARCHAR, attribute VARCHAR, value_like VARCHAR);
-- What a rule gives: the entitlement patterns of its roles ([[roles]]), expanded.
CREATE TABLE config_birthright_gives (rule VARCHAR, system_like VARCHAR, entitlement_like VARCHAR);

-- @phase load
-- Each file into a table, typed and normalised as its importer does. Insertion order is
-- preserved, so a row's file line is its rowid + 2 (line 1 is the header).
CREATE TABLE people AS
SELECT employee_id, lower(email) AS email, given_name, family_name, department, title, manager_id, location,
       lower(worker_type) AS worker_type,
       CASE WHEN lower(status) IN ('on-leave', 'on_leave') THEN 'leave' ELSE lower(status) END AS status,
       start_date, end_date, screening_date
FROM read_csv('hr.csv', header = true, auto_detect = false, columns = {
    'employee_id': 'VARCHAR', 'email': 'VARCHAR', 'given_name': 'VARCHAR', 'family_name': 'VARCHAR',
    'department': 'VARCHAR', 'title': 'VARCHAR', 'manager_id': 'VARCHAR', 'location': 'VARCHAR',
    'worker_type': 'VARCHAR', 'status': 'VARCHAR', 'start_date': 'DATE', 'end_date': 'DATE',
    'screening_date': 'DATE'});

CREATE TABLE ad_accounts AS SELECT * FROM accounts_csv('corp-ad-accounts.csv');
CREATE TABLE app_accounts AS SELECT * FROM accounts_csv('app-accounts.csv');
CREATE TABLE ad_assignments AS SELECT * FROM assignments_csv('corp-ad-assignments.csv');
CREATE TABLE app_assignments AS SELECT * FROM assignments_csv('app-assignments.csv');

-- The AWS IAM credential report (aws.rs), imported as system `aws-prod` as the demo does.
CREATE TABLE aws_report AS SELECT * FROM read_csv('aws-credential-report.csv', header = true, all_varchar = true);
CREATE TABLE aws_accounts AS
SELECT 'aws-prod' AS system, "user" AS account_id, "user" AS username, NULL::VARCHAR AS email,
       NULL::VARCHAR AS employee_id, arn AS display_name,
       password OR aws_flag(access_key_1_active) OR aws_flag(access_key_2_active)
           OR aws_flag(cert_1_active) OR aws_flag(cert_2_active) AS enabled,
       CASE WHEN root THEN 'admin' WHEN password THEN 'human' ELSE 'service' END AS kind,
       aws_time(user_creation_time) AS created_at,
       -- The last use of the password or of either key (inactive keys included).
       greatest(aws_time(password_last_used), aws_time(access_key_1_last_used_date),
                aws_time(access_key_2_last_used_date)) AS last_login_at,
       NOT (password_last_used = 'no_information' AND aws_time(access_key_1_last_used_date) IS NULL
            AND aws_time(access_key_2_last_used_date) IS NULL) AS last_login_known,
       [CASE WHEN aws_flag(mfa_active) THEN 'totp' ELSE 'none' END] AS mfa,
       aws_time(password_last_changed) AS password_last_set_at,
       root OR password AS interactive, root, NULL::VARCHAR AS owner,
       'aws-credential-report.csv' AS file, line
FROM (SELECT *, "user" = '<root_account>' AS root, "user" = '<root_account>' OR aws_flag(password_enabled) AS password,
             rowid + 2 AS line
      FROM aws_report);
-- Access keys (a certificate is not a stale-credential subject; none is active in the demo).
CREATE TABLE aws_keys AS
SELECT * FROM (
    SELECT 'aws-prod' AS system, "user" AS account_id, 'access_key_1' AS slot, aws_flag(access_key_1_active) AS active,
           aws_time(access_key_1_last_rotated) AS rotated_at, aws_time(access_key_1_last_used_date) AS last_used_at
    FROM aws_report
    UNION ALL
    SELECT 'aws-prod', "user", 'access_key_2', aws_flag(access_key_2_active),
           aws_time(access_key_2_last_rotated), aws_time(access_key_2_last_used_date)
    FROM aws_report)
WHERE active OR rotated_at IS NOT NULL;

CREATE TABLE badges AS
SELECT 'hq-badges' AS system, badge_id, employee_id,
       CASE WHEN lower(status) IN ('active', 'enabled') THEN 'active' ELSE 'inactive' END AS status,
       last_used_at, list_filter(list_transform(regexp_split_to_array(zones, '[|;]'), lambda z: trim(z)), lambda z: z <> '') AS zones
FROM read_csv('badges.csv', header = true, auto_detect = false, columns = {
    'badge_id': 'VARCHAR', 'employee_id': 'VARCHAR', 'status': 'VARCHAR', 'last_used_at': 'TIMESTAMPTZ',
    'zones': 'VARCHAR'});

CREATE VIEW accounts AS
SELECT *, 'corp-ad-accounts.csv' AS file, rowid + 2 AS line FROM ad_accounts
UNION ALL SELECT *, 'app-accounts.csv', rowid + 2 FROM app_accounts
UNION ALL SELECT * FROM aws_accounts;
CREATE VIEW assignments AS
SELECT *, 'corp-ad-assignments.csv' AS file, rowid + 2 AS line FROM ad_assignments
UNION ALL SELECT *, 'app-assignments.csv', rowid + 2 FROM app_assignments;

-- @phase check
-- @step context
-- What every check needs (context.rs): accounts correlated to people, owners resolved.
-- Assignments (2M rows) are not copied: each check filters them first, then joins accounts.
CREATE TEMP TABLE person_email AS
SELECT email, min(employee_id) AS employee_id, count(*) = 1 AS is_unique FROM people WHERE email IS NOT NULL GROUP BY email;
-- The default username rules `{given}.{family}` (1) and `{g}{family}` (2).
CREATE TEMP TABLE person_login AS
SELECT rule, login, min(employee_id) AS employee_id, count(*) = 1 AS is_unique
FROM (SELECT employee_id, slug(given_name) AS g, slug(family_name) AS f FROM people) p,
     LATERAL (VALUES (1, g || '.' || f), (2, left(g, 1) || f)) AS r(rule, login)
GROUP BY rule, login;

CREATE TEMP TABLE acct AS
SELECT a.* EXCLUDE (bare), a.system || '/' || a.account_id AS key,
       -- correlate.rs: employee id, then a unique email (a shared one stops there), then the
       -- username rules in order, each only when unique. Service and shared accounts and
       -- cloud roots belong to no person.
       CASE WHEN a.kind NOT IN ('human', 'admin') OR a.root THEN NULL
            WHEN pid.employee_id IS NOT NULL THEN pid.employee_id
            WHEN pe.email IS NOT NULL THEN CASE WHEN pe.is_unique THEN pe.employee_id END
            WHEN l1.login IS NOT NULL THEN CASE WHEN l1.is_unique THEN l1.employee_id END
            WHEN l2.login IS NOT NULL AND l2.is_unique THEN l2.employee_id END AS person,
       -- The owner names an active person by employee id, else by a unique email.
       coalesce(CASE WHEN oid.employee_id IS NOT NULL THEN oid.status <> 'terminated'
                     ELSE oep.status <> 'terminated' END, false) AS owner_active,
       a.mfa IS NOT NULL AND len(list_filter(a.mfa, lambda f: f <> 'none')) = 0 AS mfa_none,
       list_contains(a.mfa, 'webauthn') AS mfa_strong
FROM (SELECT *, bare_username(username) AS bare FROM accounts) a
LEFT JOIN people pid ON pid.employee_id = a.employee_id
LEFT JOIN person_email pe ON pe.email = a.email
LEFT JOIN person_login l1 ON l1.rule = 1 AND l1.login = a.bare
LEFT JOIN person_login l2 ON l2.rule = 2 AND l2.login = a.bare
LEFT JOIN people oid ON oid.employee_id = a.owner
LEFT JOIN person_email oe ON oe.email = lower(a.owner) AND oe.is_unique
LEFT JOIN people oep ON oep.employee_id = oe.employee_id;

-- The distinct entitlements held (the engine memoises its pattern matching per entitlement).
CREATE TEMP TABLE held_entitlements AS SELECT DISTINCT system, entitlement FROM assignments;

-- Each account's privileged entitlements, as `system:name`. An entitlement is privileged as
-- its source marks it (the demo configures no `[privileged]` patterns).
CREATE TEMP TABLE privileged_held AS
SELECT system, account_id, list(system || ':' || entitlement ORDER BY file, line) AS held,
       list(src('assignment', system || '/' || account_id || '/' || entitlement, file, line) ORDER BY file, line) AS records
FROM assignments WHERE privileged GROUP BY system, account_id;

-- Checks without their configuration are not evaluated (annexa's reasons, word for word):
-- sod-conflict without SoD rules (access.rs), and the checks that judge access by the role
-- model (unexplained-access, mover-residual-access) without birthright rules: with no rule
-- giving anything, every assignment would be "unexplained".
CREATE TEMP TABLE not_evaluated AS
SELECT 'sod-conflict' AS "check", 'no segregation-of-duties rules are configured (`sod.rules`)' AS reason
WHERE NOT EXISTS (SELECT 1 FROM config_sod_rules)
UNION ALL
SELECT c, 'no role model: no birthright rules give roles to people (`birthright` and `roles`)'
FROM (VALUES ('mover-residual-access'), ('unexplained-access')) AS t(c)
WHERE NOT EXISTS (SELECT 1 FROM config_birthright);
CREATE MACRO evaluated(c) AS NOT EXISTS (SELECT 1 FROM not_evaluated n WHERE n."check" = c);

-- sod-conflict's evidence parameters are its rules, as annexa.toml states them.
UPDATE checks SET parameters = json_object('rules', coalesce((
    SELECT list(compact(json_object('id', r.id, 'description', r.description, 'severity', r.severity,
                                    'sides', (SELECT list(s.patterns ORDER BY s.side)
                                              FROM (SELECT side, list(pattern ORDER BY ord) AS patterns FROM config_sod_sides
                                                    WHERE rule = r.id GROUP BY side) s),
                                    'mitigation', r.mitigation)) ORDER BY r.ord)
    FROM config_sod_rules r), []))
WHERE id = 'sod-conflict';

-- @step orphaned-account
CREATE TEMP TABLE f_orphaned_account AS
SELECT 'orphaned-account' AS "check", 'high' AS severity, 'account' AS subject_kind, key AS subject_key,
       account_label(username, display_name, NULL) AS subject_label,
       'Enabled ' || system || ' account ' || username || ' belongs to no one: ' ||
       CASE WHEN employee_id IS NOT NULL THEN 'employee id ' || employee_id || ' is not in the HR feed'
            WHEN email IS NOT NULL THEN 'email ' || email || ' matches no one in the HR feed'
            ELSE 'no employee id, email or username links it to anyone in the HR feed' END ||
       ', and it has no accountable owner' AS message,
       [src('account', key, file, line)] AS records,
       json_object('employee_id', employee_id, 'email', email, 'owner', owner, 'type', kind) AS "values"
FROM acct
WHERE enabled AND kind IN ('human', 'admin') AND NOT root AND person IS NULL AND NOT owner_active;

-- @step leaver-access
CREATE TEMP TABLE f_leaver_access AS
WITH leavers AS (
    -- Left: terminated (at the end of the last day, if known), or past the end date.
    SELECT *, person_name(given_name, family_name) AS name, rowid + 2 AS line,
           CAST(end_date AS TIMESTAMPTZ) + INTERVAL 1 DAY AS left_at
    FROM people
), late AS (
    SELECT *, CASE WHEN left_at IS NULL THEN 'is terminated in HR (no end date on record)'
                   ELSE 'left on ' || strftime(end_date, '%Y-%m-%d') || ' (' || days_since(left_at) || ' days ago)' END AS since
    FROM leavers
    WHERE (status = 'terminated' OR left_at <= getvariable('as_of'))
      AND (left_at IS NULL OR left_at + INTERVAL 24 HOUR <= getvariable('as_of'))
)
SELECT 'leaver-access' AS "check", 'critical' AS severity, 'account' AS subject_kind, a.key AS subject_key,
       account_label(a.username, a.display_name, p.name) AS subject_label,
       p.name || ' ' || p.since || ' but ' || a.system || ' account ' || a.username || ' is still enabled' AS message,
       [src('person', p.employee_id, 'hr.csv', p.line), src('account', a.key, a.file, a.line)] AS records,
       json_object('status', p.status, 'end_date', p.end_date, 'left_at', rfc3339(p.left_at), 'sla_hours', 24,
                   'account_status', 'enabled') AS "values"
FROM late p JOIN acct a ON a.person = p.employee_id
WHERE a.enabled
UNION ALL
SELECT 'leaver-access', 'critical', 'badge', b.system || '/' || b.badge_id,
       'badge ' || b.badge_id || ' (' || p.name || ')',
       p.name || ' ' || p.since || ' but badge ' || b.badge_id || ' still opens ' || array_to_string(b.zones, ', '),
       [src('person', p.employee_id, 'hr.csv', p.line), src('badge', b.system || '/' || b.badge_id, 'badges.csv', b.rowid + 2)],
       json_object('status', p.status, 'end_date', p.end_date, 'left_at', rfc3339(p.left_at), 'sla_hours', 24,
                   'badge_last_used_at', rfc3339(b.last_used_at), 'zones', b.zones)
FROM late p JOIN badges b ON b.employee_id = p.employee_id
WHERE b.status = 'active';

-- @step dormant-account
-- The limit is 90 days, plus `directory_slack_days` for LDIF imports: none here.
CREATE TEMP TABLE f_dormant_account AS
WITH measured AS (
    SELECT *, days_since(last_login_at) AS idle, days_since(created_at) AS age FROM acct
    WHERE enabled AND NOT root AND last_login_known AND kind <> 'service'
)
SELECT 'dormant-account' AS "check", 'medium' AS severity, 'account' AS subject_kind, a.key AS subject_key,
       account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) AS subject_label,
       CASE WHEN a.last_login_at IS NOT NULL
            THEN a.system || ' account ' || a.username || ' has not been used for ' || a.idle || ' days (limit 90)'
            ELSE a.system || ' account ' || a.username || ' was created ' || a.age || ' days ago and never used (limit 90)' END AS message,
       [src('account', a.key, a.file, a.line)] AS records,
       CASE WHEN a.last_login_at IS NOT NULL
            THEN json_object('last_login_at', rfc3339(a.last_login_at), 'days_since_login', a.idle, 'limit_days', 90)
            ELSE json_object('last_login_at', NULL, 'created_at', rfc3339(a.created_at), 'days_since_created', a.age, 'limit_days', 90) END AS "values"
FROM measured a LEFT JOIN people p ON p.employee_id = a.person
WHERE CASE WHEN a.last_login_at IS NOT NULL THEN a.idle > 90 ELSE a.age > 90 END;

-- @step mfa-missing
CREATE TEMP TABLE f_mfa_missing AS
SELECT 'mfa-missing' AS "check", 'high' AS severity, 'account' AS subject_kind, a.key AS subject_key,
       account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) AS subject_label,
       a.system || ' account ' || a.username || ' signs in interactively without any second factor' AS message,
       [src('account', a.key, a.file, a.line)] AS records,
       json_object('mfa', a.mfa, 'type', a.kind) AS "values"
FROM acct a LEFT JOIN people p ON p.employee_id = a.person
WHERE a.enabled AND a.interactive AND (a.kind IN ('human', 'admin') OR a.root) AND a.mfa_none;

-- @step privileged-weak-mfa
CREATE TEMP TABLE f_privileged_weak_mfa AS
SELECT 'privileged-weak-mfa' AS "check", 'high' AS severity, 'account' AS subject_kind, a.key AS subject_key,
       account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) AS subject_label,
       a.system || ' account ' || a.username || ' ' ||
       CASE WHEN a.root THEN 'is a cloud root account' WHEN a.kind = 'admin' THEN 'is an admin account'
            ELSE 'holds ' || array_to_string(h.held, ', ') END ||
       ' but has no phishing-resistant factor (has: ' ||
       CASE WHEN len(a.mfa) = 0 THEN 'none' ELSE array_to_string(a.mfa, ', ') END || ')' AS message,
       [src('account', a.key, a.file, a.line)] AS records,
       json_object('mfa', a.mfa, 'type', a.kind, 'root', a.root, 'privileged_entitlements', coalesce(h.held, [])) AS "values"
FROM acct a
LEFT JOIN privileged_held h ON h.system = a.system AND h.account_id = a.account_id
LEFT JOIN people p ON p.employee_id = a.person
WHERE a.enabled AND a.interactive AND a.mfa IS NOT NULL AND NOT a.mfa_strong
  AND (a.root OR a.kind = 'admin' OR h.held IS NOT NULL);

-- @step stale-credential
-- Password age is not judged: `max_password_age_days` is 0 (the default).
CREATE TEMP TABLE f_stale_credential AS
SELECT 'stale-credential' AS "check", 'medium' AS severity, 'credential' AS subject_kind,
       a.key || '/' || k.slot AS subject_key,
       account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) || ' ' || k.slot AS subject_label,
       'Active access-key ' || k.slot || ' of ' || a.system || ' account ' || a.username || ' is not rotated for ' ||
       days_since(k.rotated_at) || ' days (limit 90)' ||
       CASE WHEN k.last_used_at IS NULL THEN ' and never used in the ' || days_since(k.rotated_at) || ' days since it was issued' ELSE '' END AS message,
       [src('account', a.key, a.file, a.line)] AS records,
       json_object('slot', k.slot, 'kind', 'access-key', 'rotated_at', rfc3339(k.rotated_at), 'days_since_rotation', days_since(k.rotated_at),
                   'last_used_at', rfc3339(k.last_used_at), 'limit_days', 90) AS "values"
FROM aws_keys k
JOIN acct a ON a.system = k.system AND a.account_id = k.account_id
LEFT JOIN people p ON p.employee_id = a.person
WHERE k.active AND k.rotated_at IS NOT NULL AND days_since(k.rotated_at) > 90;

-- @step root-account-use
CREATE TEMP TABLE f_root_account_use AS
WITH roots AS (
    SELECT a.*, (SELECT list(k.slot ORDER BY k.slot) FROM aws_keys k
                 WHERE k.system = a.system AND k.account_id = a.account_id AND k.active) AS keys,
           days_since(a.last_login_at) AS last_used
    FROM acct a WHERE a.root
)
SELECT 'root-account-use' AS "check", 'critical' AS severity, 'account' AS subject_kind, key AS subject_key,
       account_label(username, display_name, NULL) AS subject_label,
       'Root account of ' || system || ' ' ||
       concat_ws(' and ', CASE WHEN len(keys) > 0 THEN 'has active access keys (' || array_to_string(keys, ', ') || ')' END,
                          CASE WHEN last_used <= 30 THEN 'was used ' || last_used || ' days ago (within 30 days)' END) AS message,
       [src('account', key, file, line)] AS records,
       json_object('active_access_keys', coalesce(keys, []), 'last_used_at', rfc3339(last_login_at), 'days_since_use', last_used) AS "values"
FROM roots
WHERE len(keys) > 0 OR last_used <= 30;

-- @step sod-conflict
-- Holders: each person across all their accounts, and each uncorrelated account alone;
-- only enabled accounts' assignments count.
CREATE TEMP TABLE f_sod_conflict AS
WITH matched AS (
    -- Which side of which rule each entitlement held satisfies (most satisfy none).
    SELECT DISTINCT e.system, e.entitlement, d.rule, d.side FROM held_entitlements e
    JOIN config_sod_sides d ON lower(e.system) LIKE d.system_like ESCAPE '\' AND lower(e.entitlement) LIKE d.entitlement_like ESCAPE '\'
), hits AS (
    SELECT coalesce(a.person, a.key) AS holder, a.person IS NOT NULL AS is_person, m.rule, m.side,
           s.system || ':' || s.entitlement AS held,
           src('assignment', s.system || '/' || s.account_id || '/' || s.entitlement, s.file, s.line) AS record, s.file, s.line
    FROM assignments s
    JOIN matched m ON m.system = s.system AND m.entitlement = s.entitlement
    JOIN acct a ON a.system = s.system AND a.account_id = s.account_id
    WHERE a.enabled
), sides AS (
    SELECT holder, is_person, rule, side, list(held ORDER BY file, line) AS held, list(record ORDER BY file, line) AS records
    FROM hits GROUP BY ALL
), conflicts AS (
    -- A conflict: something held from every side of the rule.
    SELECT c.holder, c.is_person, r.*, c.held, c.records,
           CASE WHEN c.is_person THEN person_name(p.given_name, p.family_name)
                ELSE account_label(a.username, a.display_name, NULL) END AS label,
           CASE WHEN c.is_person THEN [src('person', p.employee_id, 'hr.csv', p.rowid + 2)] ELSE [] END AS person_record
    FROM (SELECT holder, is_person, rule, list(held ORDER BY side) AS held, flatten(list(records ORDER BY side)) AS records
          FROM sides GROUP BY ALL) c
    JOIN config_sod_rules r ON r.id = c.rule AND len(c.held) = r.sides
    LEFT JOIN people p ON c.is_person AND p.employee_id = c.holder
    LEFT JOIN acct a ON NOT c.is_person AND a.key = c.holder
)
-- A rule without a severity has the check's.
SELECT 'sod-conflict' AS "check", coalesce(severity, 'high') AS severity, CASE WHEN is_person THEN 'person' ELSE 'account' END AS subject_kind,
       holder || '#' || id AS subject_key, label AS subject_label,
       label || ' holds conflicting access under ' || id || ' (' || description || '): ' ||
       array_to_string(list_transform(held, lambda h: array_to_string(h, ' + ')), ' vs ') AS message,
       list_concat(person_record, records) AS records,
       json_object('rule', id, 'held', held, 'mitigation', mitigation) AS "values"
FROM conflicts;

-- @step shared-account
CREATE TEMP TABLE f_shared_account AS
WITH candidates AS (
    SELECT *, rtrim(lower(username), '0123456789-_.') AS stem FROM acct
    WHERE enabled AND NOT root AND kind <> 'service' AND person IS NULL AND NOT owner_active
), judged AS (
    -- The default `generic_names` stems: the stem itself, or the stem followed by - _ or .
    SELECT *, stem IN ('admin', 'administrator', 'shared', 'test', 'temp', 'training', 'guest', 'info', 'support',
                       'helpdesk', 'reception', 'demo', 'scanner', 'kiosk', 'team', 'office', 'noreply', 'generic')
              OR regexp_matches(stem, '^(admin|administrator|shared|test|temp|training|guest|info|support|helpdesk|' ||
                                      'reception|demo|scanner|kiosk|team|office|noreply|generic)[-_.]') AS generic
    FROM candidates
)
SELECT 'shared-account' AS "check", 'medium' AS severity, 'account' AS subject_kind, key AS subject_key,
       account_label(username, display_name, NULL) AS subject_label,
       system || ' account ' || username || ' ' || CASE WHEN kind = 'shared' THEN 'is a shared account' ELSE 'has a generic name' END ||
       ', belongs to no person and has no accountable owner' AS message,
       [src('account', key, file, line)] AS records,
       json_object('type', kind, 'generic_name', generic, 'owner', owner) AS "values"
FROM judged
WHERE kind = 'shared' OR generic;

-- @step service-account-no-owner
CREATE TEMP TABLE f_service_account_no_owner AS
SELECT 'service-account-no-owner' AS "check", 'medium' AS severity, 'account' AS subject_kind, key AS subject_key,
       account_label(username, display_name, NULL) AS subject_label,
       'Service account ' || username || ' on ' || system || ' ' ||
       CASE WHEN owner IS NULL THEN 'has no owner' ELSE 'names owner ' || owner || ', who is not an active person in the HR feed' END AS message,
       [src('account', key, file, line)] AS records,
       json_object('owner', owner) AS "values"
FROM acct
WHERE enabled AND kind = 'service' AND NOT owner_active;

-- @step admin-not-separated
CREATE TEMP TABLE f_admin_not_separated AS
SELECT 'admin-not-separated' AS "check", 'high' AS severity, 'account' AS subject_kind, a.key AS subject_key,
       account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) AS subject_label,
       'Everyday account ' || a.username || ' on ' || a.system || ' holds privileged ' || array_to_string(h.held, ', ') ||
       '; use a separate admin account' AS message,
       list_prepend(src('account', a.key, a.file, a.line), h.records) AS records,
       json_object('type', a.kind, 'privileged_entitlements', h.held) AS "values"
FROM acct a
JOIN privileged_held h ON h.system = a.system AND h.account_id = a.account_id
JOIN people p ON p.employee_id = a.person
WHERE a.enabled AND a.kind = 'human';

-- @step certification-overdue
-- One finding per enabled account (grouped.rs): the review of that account's access, covering
-- each of its assignments certified (or, never certified, granted) longer ago than its
-- interval. Undated assignments (directory memberships) are not judged: `include_undated`
-- is false. Messages give dates, not ages, so a finding reads the same every day its facts
-- do.
CREATE TEMP TABLE f_certification_overdue AS
WITH overdue AS (
    SELECT s.*, a.key AS account_key, a.username,
           account_label(a.username, a.display_name, person_name(p.given_name, p.family_name)) AS label,
           s.system || '/' || s.account_id || '/' || s.entitlement AS key,
           strftime(coalesce(s.last_certified_at, s.granted_at), '%Y-%m-%d') AS day,
           CASE WHEN s.privileged THEN 90 ELSE 365 END AS interval_days,
           CASE WHEN s.privileged THEN 'privileged' ELSE 'standard' END AS class
    FROM assignments s
    JOIN acct a ON a.system = s.system AND a.account_id = s.account_id
    LEFT JOIN people p ON p.employee_id = a.person
    -- More than `interval` whole days ago: at or before as-of minus interval + 1 days.
    WHERE a.enabled
      AND coalesce(s.last_certified_at, s.granted_at)
          <= getvariable('as_of') - to_days(CASE WHEN s.privileged THEN 91 ELSE 366 END)
), accounts AS (
    -- Each account's overdue assignments, by entitlement name, with their details (absent
    -- ones left out; `privileged` only when it is). `one` is the assignment, when only one
    -- is overdue: the finding then says what it would say of it alone.
    SELECT account_key, any_value(system) AS system, any_value(username) AS username, any_value(label) AS label,
           count(*) AS n, count(*) FILTER (WHERE privileged) AS privileged, min(day) AS oldest,
           any_value({'entitlement': entitlement, 'certified': last_certified_at IS NOT NULL, 'day': day,
                      'class': class, 'interval_days': interval_days}) AS one,
           list(entitlement ORDER BY entitlement) AS names,
           list(src('assignment', key, file, line) ORDER BY entitlement) AS records,
           list(compact(CASE WHEN last_certified_at IS NOT NULL
                             THEN json_object('entitlement', entitlement, 'last_certified_at', rfc3339(last_certified_at),
                                              'last_certified_by', last_certified_by, 'privileged', CASE WHEN privileged THEN true END)
                             ELSE json_object('entitlement', entitlement, 'granted_at', rfc3339(granted_at),
                                              'privileged', CASE WHEN privileged THEN true END) END)
                ORDER BY entitlement) AS assignments
    FROM overdue GROUP BY account_key
)
-- A privileged assignment makes the account's finding high.
SELECT 'certification-overdue' AS "check", CASE WHEN privileged > 0 THEN 'high' ELSE 'medium' END AS severity,
       'account' AS subject_kind, account_key AS subject_key, label AS subject_label,
       CASE WHEN n = 1 THEN one.entitlement || ' on ' || system || ' account ' || username ||
                             CASE WHEN one.certified THEN ' was last certified on ' || one.day
                                  ELSE ' was granted on ' || one.day || ' and never certified' END ||
                             ', over its ' || one.class || ' interval of ' || one.interval_days || ' days'
            ELSE n || ' entitlements' || CASE WHEN privileged > 0 THEN ' (' || privileged || ' privileged)' ELSE '' END ||
                 ' on ' || system || ' account ' || username || ' are overdue for certification: ' || named(names) ||
                 '; the oldest was last certified or granted on ' || oldest END AS message,
       records,
       json_object('count', n, 'entitlements', names, 'assignments', assignments) AS "values"
FROM accounts;

-- @step mover-residual-access
-- The mover checks judge what changed between HR imports (annexa's JML events); the peer
-- reads one HR export, which records no move, so they find nothing here, like annexa's
-- audit of the same files. mover-residual-access is still not evaluated without a role model.
-- (Empty tables of the findings' shape.)
CREATE TEMP TABLE f_mover_residual_access AS SELECT * FROM f_certification_overdue WHERE false;

-- @step mover-access-review
CREATE TEMP TABLE f_mover_access_review AS SELECT * FROM f_certification_overdue WHERE false;

-- @step unexplained-access
-- One finding per enabled personal account, covering its assignments that no birthright rule
-- applying to its person, nor an approved request (`request` with an approver), explains.
-- (A mover's old position explains access too; the input records no moves.) Without
-- birthright rules the check is not evaluated (see `not_evaluated`).
--
-- First the rules that apply to each position, i.e. the person attributes a rule may test
-- (hr.csv's empty cells as annexa's empty strings): decided once per distinct position, not
-- per person. A rule applies when each attribute it lists matches one of its patterns.
CREATE TEMP TABLE positions AS
SELECT row_number() OVER () AS position, *
FROM (SELECT DISTINCT coalesce(department, '') AS department, coalesce(title, '') AS title,
             coalesce(location, '') AS location, coalesce(worker_type, '') AS worker_type, coalesce(status, '') AS status
      FROM people);
CREATE TEMP TABLE person_position AS
SELECT p.employee_id, pos.position
FROM people p JOIN positions pos
  ON pos.department = coalesce(p.department, '') AND pos.title = coalesce(p.title, '')
 AND pos.location = coalesce(p.location, '') AND pos.worker_type = coalesce(p.worker_type, '')
 AND pos.status = coalesce(p.status, '');
CREATE TEMP TABLE position_rules AS
WITH wanted AS (
    -- How many attributes each rule tests.
    SELECT r.id AS rule, count(DISTINCT w.attribute) AS attributes
    FROM config_birthright r LEFT JOIN config_birthright_when w ON w.rule = r.id GROUP BY r.id
), matched AS (
    -- How many of them each position matches.
    SELECT p.position, w.rule, count(DISTINCT w.attribute) AS attributes
    FROM positions p JOIN config_birthright_when w
      ON lower(CASE w.attribute WHEN 'department' THEN p.department WHEN 'title' THEN p.title
                                WHEN 'location' THEN p.location WHEN 'worker_type' THEN p.worker_type
                                WHEN 'status' THEN p.status END) LIKE w.value_like ESCAPE '\'
    GROUP BY ALL
)
SELECT p.position, x.rule
FROM positions p CROSS JOIN wanted x
LEFT JOIN matched m ON m.position = p.position AND m.rule = x.rule
WHERE coalesce(m.attributes, 0) = x.attributes;

-- Then which entitlements each position's rules explain, once over the distinct entitlements
-- held and positions, and the assignments of personal accounts they leave unexplained.
CREATE TEMP TABLE f_unexplained_access AS
WITH explained AS (
    SELECT DISTINCT e.system, e.entitlement, r.position
    FROM held_entitlements e
    JOIN config_birthright_gives g ON lower(e.system) LIKE g.system_like ESCAPE '\' AND lower(e.entitlement) LIKE g.entitlement_like ESCAPE '\'
    JOIN position_rules r ON r.rule = g.rule
), holders AS (
    -- Enabled personal accounts with their person and position.
    SELECT a.key, a.system, a.account_id, a.username, a.person, p.rowid + 2 AS person_line,
           person_name(p.given_name, p.family_name) AS name, p.department, p.title, pp.position
    FROM acct a JOIN people p ON p.employee_id = a.person JOIN person_position pp ON pp.employee_id = a.person
    WHERE a.enabled AND a.kind <> 'service'
), unexplained AS (
    SELECT s.entitlement, s.source, s.granted_by, s.granted_at, s.file, s.line,
           s.system || '/' || s.account_id || '/' || s.entitlement AS grant_key, h.*
    FROM assignments s JOIN holders h ON h.system = s.system AND h.account_id = s.account_id
    WHERE evaluated('unexplained-access')
      AND NOT (s.source = 'request' AND s.granted_by IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM explained x
                      WHERE x.system = s.system AND x.entitlement = s.entitlement AND x.position = h.position)
), accounts AS (
    SELECT key, any_value(system) AS system, any_value(username) AS username, any_value(name) AS name,
           any_value(person) AS person, any_value(person_line) AS person_line,
           any_value(department) AS department, any_value(title) AS title,
           count(*) AS n, any_value({'entitlement': entitlement, 'source': source}) AS one,
           list(entitlement ORDER BY entitlement) AS names,
           list(src('assignment', grant_key, file, line) ORDER BY entitlement) AS records,
           list(compact(json_object('entitlement', entitlement, 'source', source, 'granted_by', granted_by,
                                    'granted_at', rfc3339(granted_at))) ORDER BY entitlement) AS assignments
    FROM unexplained GROUP BY key
)
SELECT 'unexplained-access' AS "check", 'medium' AS severity, 'account' AS subject_kind, key AS subject_key,
       account_label(username, NULL, name) AS subject_label,
       -- One assignment: what a finding about it alone would say, which depends on its source.
       CASE WHEN n = 1 THEN one.entitlement || ' on ' || system || ' account ' || username || ' of ' || name || ' ' ||
                            CASE one.source
                                WHEN 'birthright' THEN 'is marked birthright, but no birthright rule gives it to this person'
                                WHEN 'request' THEN 'is marked as requested, but no approver is recorded'
                                WHEN 'manual' THEN 'was granted manually, with no role or approved request behind it'
                                ELSE 'has no recorded reason, and no role or birthright rule gives it' END
            ELSE n || ' entitlements on ' || system || ' account ' || username || ' of ' || name ||
                 ' have no role, birthright rule or approved request behind them: ' || named(names) END AS message,
       -- The assignments' records, then the person's.
       list_append(records, src('person', person, 'hr.csv', person_line)) AS records,
       json_object('count', n, 'entitlements', names, 'assignments', assignments,
                   'department', department, 'title', title) AS "values"
FROM accounts;

-- @step privilege-outlier
CREATE TEMP TABLE f_privilege_outlier AS
WITH counts AS (
    SELECT a.person, count(DISTINCT (s.system, s.entitlement)) AS n
    FROM assignments s JOIN acct a ON a.system = s.system AND a.account_id = s.account_id
    WHERE s.privileged AND a.enabled AND a.person IS NOT NULL GROUP BY a.person
), members AS (
    -- Peer groups: people not terminated, by department and title.
    SELECT p.*, p.rowid + 2 AS line, coalesce(c.n, 0) AS n FROM people p LEFT JOIN counts c ON c.person = p.employee_id
    WHERE p.status <> 'terminated'
), groups AS (
    -- The engine's median: the element at index len/2 of the sorted counts (0-based).
    SELECT department, title, count(*) AS size, list_sort(list(n))[count(*) // 2 + 1] AS median
    FROM members GROUP BY department, title HAVING count(*) >= 5
)
SELECT 'privilege-outlier' AS "check", 'low' AS severity, 'person' AS subject_kind, m.employee_id AS subject_key,
       person_name(m.given_name, m.family_name) AS subject_label,
       person_name(m.given_name, m.family_name) || ' holds ' || m.n || ' privileged entitlements; peers (' || g.title || ', ' ||
       g.department || ', ' || g.size || ' people) hold a median of ' || g.median AS message,
       [src('person', m.employee_id, 'hr.csv', m.line)] AS records,
       json_object('privileged_entitlements', m.n, 'peer_median', g.median, 'peer_group_size', g.size,
                   'department', g.department, 'title', g.title) AS "values"
FROM members m JOIN groups g ON g.department = m.department AND g.title = m.title
WHERE m.n >= 3 AND m.n > 3.0 * greatest(g.median, 1);

-- @step contractor-no-end-date
CREATE TEMP TABLE f_contractor_no_end_date AS
SELECT 'contractor-no-end-date' AS "check", 'medium' AS severity, 'person' AS subject_kind, employee_id AS subject_key,
       person_name(given_name, family_name) AS subject_label,
       worker_type || ' ' || person_name(given_name, family_name) ||
       CASE WHEN end_date IS NULL THEN ' has no end date'
            ELSE ' is still active in HR, past the end date ' || strftime(end_date, '%Y-%m-%d') END AS message,
       [src('person', employee_id, 'hr.csv', rowid + 2)] AS records,
       json_object('worker_type', worker_type, 'end_date', end_date, 'status', status) AS "values"
FROM people
WHERE worker_type <> 'employee' AND status <> 'terminated'
  AND (end_date IS NULL OR end_date < CAST(getvariable('as_of') AS DATE));

-- @phase store
-- The findings as annexa stores them: a stable id from check and subject
-- (`F-` + 16 hex digits of SHA-256(check NUL subject key)), and the evidence as JSON.
CREATE TABLE findings AS
SELECT 'F-' || left(sha256(f."check" || chr(0) || f.subject_key), 16) AS id, f."check", f.severity,
       f.subject_kind, f.subject_key, f.subject_label, c.controls, f.message,
       json_object('records', f.records, 'values', f."values", 'parameters', c.parameters,
                   'as_of', rfc3339(getvariable('as_of'))) AS evidence
FROM (
    SELECT * FROM f_orphaned_account
    UNION ALL SELECT * FROM f_leaver_access
    UNION ALL SELECT * FROM f_dormant_account
    UNION ALL SELECT * FROM f_mfa_missing
    UNION ALL SELECT * FROM f_privileged_weak_mfa
    UNION ALL SELECT * FROM f_stale_credential
    UNION ALL SELECT * FROM f_root_account_use
    UNION ALL SELECT * FROM f_sod_conflict
    UNION ALL SELECT * FROM f_shared_account
    UNION ALL SELECT * FROM f_service_account_no_owner
    UNION ALL SELECT * FROM f_admin_not_separated
    UNION ALL SELECT * FROM f_certification_overdue
    UNION ALL SELECT * FROM f_mover_residual_access
    UNION ALL SELECT * FROM f_mover_access_review
    UNION ALL SELECT * FROM f_unexplained_access
    UNION ALL SELECT * FROM f_privilege_outlier
    UNION ALL SELECT * FROM f_contractor_no_end_date
) f JOIN checks c ON c.id = f."check";
