#!/usr/bin/env python3
"""Runs checks.sql over a demo directory and prints timings and finding counts as JSON.

    run.py DIR [--database PATH]

DIR is written by `annexa demo --generate-only --directory-format csv --out DIR`. The SQL is
split at its `-- @phase NAME` and `-- @step NAME` markers; each part runs as one batch and is
timed. The database is in memory unless --database names a file.
"""

import argparse
import json
import re
import sys
import time
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
    for phase, step, text in parts(args.sql.read_text()):
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
    print(json.dumps({
        "duckdb": duckdb.__version__,
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "rows": dict(con.execute(
            "SELECT 'people', count(*) FROM people UNION ALL SELECT 'accounts', count(*) FROM accounts "
            "UNION ALL SELECT 'assignments', count(*) FROM assignments").fetchall()),
        "seconds": {k: round(v, 4) for k, v in phases.items()},
        "steps": {k: round(v, 4) for k, v in steps.items()},
        "findings": {k: counts[k] for k in order},
        "total_findings": sum(counts.values()),
    }, indent=2))


if __name__ == "__main__":
    main()
