#!/usr/bin/env python3
"""Runs checks.sql over a demo directory and prints timings and finding counts as JSON.

    run.py DIR [--database PATH]

DIR is written by `annexa demo --generate-only --directory-format csv --out DIR`. The SQL is
split at its `-- @phase NAME` and `-- @step NAME` markers; each part runs as one batch and is
timed. Right after the `setup` phase, the rules of DIR/annexa.toml (SoD rules, roles, birthright
rules) fill the script's `config_*` tables; a configuration the script would not honour (check
parameters, other sections) stops the run rather than let the peer disagree silently. The
database is in memory unless --database names a file.

The output names the checks the script did not evaluate (their configuration is missing), with
annexa's reason, besides every check's count of findings (0 for those).
"""

import argparse
import json
import re
import sys
import time
import tomllib
from pathlib import Path

import duckdb

MARKER = re.compile(r"^--\s*@(phase|step)\s+(\S+)\s*$")


def parts(sql):
    """Yields (phase, step or None, text) for every marked part of the script."""
    phase, step, lines = None, None, []
    for line in sql.splitlines(keepends=True):
        m = MARKER.match(line)
        if not m:
            lines.append(line)
            continue
        if phase and "".join(lines).strip():
            yield phase, step, "".join(lines)
        lines = []
        if m[1] == "phase":
            phase, step = m[2], None
        else:
            step = m[2]
    if phase and "".join(lines).strip():
        yield phase, step, "".join(lines)


# The parts of annexa.toml the script reads; anything else would change what annexa finds.
READ = {"sod", "roles", "birthright"}
# The person attributes a birthright condition may test that the script's positions hold.
ATTRIBUTES = {"department", "title", "location", "worker_type", "status"}


def like(glob):
    """A `*` glob (annexa's pattern.rs) as a LIKE pattern with `\\` escapes, lower-cased as annexa
    compares."""
    p = glob.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return p.replace("*", "%")


def entitlement_like(pattern):
    """`system:name` (`name` alone: any system) as two LIKE patterns, as pattern.rs splits it."""
    system, sep, name = pattern.partition(":")
    if not sep:
        system, name = "*", pattern
    return like(system.strip()), like(name.strip())


def fill_config(con, path):
    """Fills the script's config_* tables from annexa.toml (none: no rules at all)."""
    config = tomllib.loads(path.read_text()) if path.exists() else {}
    unread = sorted(set(config) - READ) + [f"sod.{k}" for k in sorted(set(config.get("sod", {})) - {"rules"})]
    if unread:
        sys.exit(f"{path}: checks.sql does not read {', '.join(unread)} (only sod.rules, roles and birthright)")
    for i, r in enumerate(config.get("sod", {}).get("rules", [])):
        con.execute("INSERT INTO config_sod_rules VALUES (?, ?, ?, ?, ?, ?)",
                    [i, r["id"], r["description"], r.get("severity"), r.get("mitigation"), len(r["sides"])])
        for side, patterns in enumerate(r["sides"]):
            for j, pattern in enumerate(patterns):
                con.execute("INSERT INTO config_sod_sides VALUES (?, ?, ?, ?, ?, ?)",
                            [r["id"], side, j, pattern, *entitlement_like(pattern)])
    roles = {r["id"]: r["entitlements"] for r in config.get("roles", [])}
    for i, b in enumerate(config.get("birthright", [])):
        con.execute("INSERT INTO config_birthright VALUES (?, ?)", [i, b["id"]])
        when = b.get("when", {})
        if not isinstance(when, dict) or set(when) - ATTRIBUTES:
            sys.exit(f"{path}: birthright {b['id']}: checks.sql reads conditions on {', '.join(sorted(ATTRIBUTES))} only")
        for attribute, patterns in when.items():
            for pattern in [patterns] if isinstance(patterns, str) else patterns:
                con.execute("INSERT INTO config_birthright_when VALUES (?, ?, ?)", [b["id"], attribute, like(pattern)])
        # A role the configuration does not define gives nothing (annexa's validation says so).
        for role in b["roles"]:
            for pattern in roles.get(role, []):
                con.execute("INSERT INTO config_birthright_gives VALUES (?, ?, ?)", [b["id"], *entitlement_like(pattern)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path, help="demo directory with the CSV files")
    ap.add_argument("--database", default=":memory:", help="DuckDB database file (default: in memory)")
    ap.add_argument("--sql", type=Path, default=Path(__file__).with_name("checks.sql"))
    args = ap.parse_args()

    con = duckdb.connect(args.database)
    # The script names its files relative to the demo directory.
    con.execute("SET file_search_path = '{}'".format(str(args.dir.resolve()).replace("'", "''")))
    phases, steps = {}, {}
    configured = False
    for phase, step, text in parts(args.sql.read_text()):
        if phase != "setup" and not configured:
            fill_config(con, args.dir / "annexa.toml")
            configured = True
        start = time.perf_counter()
        try:
            con.execute(text)
        except duckdb.Error as e:
            sys.exit(f"{args.sql}: {phase}{'/' + step if step else ''}: {e}")
        elapsed = time.perf_counter() - start
        phases[phase] = phases.get(phase, 0.0) + elapsed
        if step:
            steps[step] = elapsed

    counts = dict(con.execute(
        'SELECT c.id, count(f.id) FROM checks c LEFT JOIN findings f ON f."check" = c.id GROUP BY c.id'
    ).fetchall())
    order = [r[0] for r in con.execute("SELECT id FROM checks").fetchall()]
    not_evaluated = dict(con.execute('SELECT "check", reason FROM not_evaluated').fetchall())
    print(json.dumps({
        "duckdb": duckdb.__version__,
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "rows": dict(con.execute(
            "SELECT 'people', count(*) FROM people UNION ALL SELECT 'accounts', count(*) FROM accounts "
            "UNION ALL SELECT 'assignments', count(*) FROM assignments").fetchall()),
        "seconds": {k: round(v, 4) for k, v in phases.items()},
        "steps": {k: round(v, 4) for k, v in steps.items()},
        "findings": {k: counts[k] for k in order},
        "not_evaluated": {k: not_evaluated[k] for k in order if k in not_evaluated},
        "total_findings": sum(counts.values()),
    }, indent=2))


if __name__ == "__main__":
    main()
