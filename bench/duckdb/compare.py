#!/usr/bin/env python3
"""Compares annexa's findings with the DuckDB peer's, finding by finding.

    compare.py DIR ANNEXA_FINDINGS_JSON

Runs checks.sql over DIR again (untimed; see run.py), then matches the findings by id (the
hash of check and subject key) and compares everything else: check, severity, subject (kind,
key, label), controls, message, and the evidence: its values, parameters and as-of, and its
records (record kind, key, line, and the file's name; annexa adds the import's id, the file's
full path and its SHA-256, which the peer has no way to know). Prints one line per check
(`same`, or how many findings differ, are annexa's only or the peer's only), a few
differences field by field, and exits 1 when any check differs.

ANNEXA_FINDINGS_JSON is `annexa --format json findings list`: a JSON array, one finding a line.
Both sides are held as one digest per finding, so a million findings fit in memory.
"""

import hashlib
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
import run  # noqa: E402  (parts, fill_config)

SHOWN = 5


def canonical(check, severity, kind, key, label, controls, message, evidence):
    """The compared parts of a finding, in one form for both sides."""
    records = [(r["record"], r["key"], os.path.basename(r.get("file") or ""), r["line"]) for r in evidence["records"]]
    return {
        "check": check, "severity": severity, "subject": [kind, key, label], "controls": list(controls),
        "message": message, "records": records, "values": evidence["values"],
        "parameters": evidence.get("parameters"), "as_of": evidence.get("as_of"),
    }


def digest(c):
    return hashlib.sha1(json.dumps(c, sort_keys=True).encode()).digest()


def annexa_findings(path):
    """Yields (id, canonical) from `findings list --format json`, a line at a time."""
    with open(path) as f:
        for line in f:
            line = line.strip().rstrip(",")
            if line in ("[", "]", ""):
                continue
            x = json.loads(line)
            s = x["subject"]
            yield x["id"], canonical(x["check"], x["severity"], s["kind"], s["key"], s["label"], x["controls"],
                                     x["message"], x["evidence"])


def peer_findings(con, where="", params=()):
    """Yields (id, canonical) from the peer's `findings` table."""
    cur = con.execute(
        'SELECT id, "check", severity, subject_kind, subject_key, subject_label, controls, message, evidence::VARCHAR '
        f"FROM findings {where}", params)
    while rows := cur.fetchmany(10_000):
        for id_, check, sev, kind, key, label, controls, message, evidence in rows:
            yield id_, canonical(check, sev, kind, key, label, controls, message, json.loads(evidence))


def differences(a, b, path=""):
    """Field paths where two JSON values differ (the first few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: annexa {json.dumps(a.get(k))} / peer {json.dumps(b.get(k))}")
            else:
                out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: annexa {json.dumps(a)} / peer {json.dumps(b)}"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    directory, annexa_path = Path(sys.argv[1]), Path(sys.argv[2])
    con = duckdb.connect(":memory:")
    con.execute("SET file_search_path = '{}'".format(str(directory.resolve()).replace("'", "''")))
    configured = False
    for phase, _, text in run.parts(Path(run.__file__).with_name("checks.sql").read_text()):
        if phase != "setup" and not configured:
            run.fill_config(con, directory / "annexa.toml")
            configured = True
        con.execute(text)

    ours = {i: (c["check"], digest(c)) for i, c in annexa_findings(annexa_path)}
    theirs = {i: (c["check"], digest(c)) for i, c in peer_findings(con)}
    checks = [r[0] for r in con.execute("SELECT id FROM checks").fetchall()]
    checks += sorted({c for c, _ in ours.values()} - set(checks))
    differ, only_annexa, only_peer, same = Counter(), defaultdict(list), defaultdict(list), Counter()
    changed = defaultdict(list)
    for i, (check, d) in ours.items():
        if i not in theirs:
            only_annexa[check].append(i)
        elif theirs[i][1] != d:
            changed[check].append(i)
        else:
            same[check] += 1
    for i, (check, _) in theirs.items():
        if i not in ours:
            only_peer[check].append(i)

    print(f"{'check':26}{'same':>8}{'differ':>8}{'annexa only':>13}{'peer only':>11}")
    bad = []
    for check in checks:
        n = (len(changed[check]), len(only_annexa[check]), len(only_peer[check]))
        if any(n):
            bad.append(check)
        print(f"{check:26}{same[check]:>8,}{n[0]:>8,}{n[1]:>13,}{n[2]:>11,}")
    if not bad:
        print("every finding is the same on both sides: ids, severities, subjects, messages and evidence")
        return
    # A few of each kind of difference, field by field.
    annexa_of = lambda ids: {i: c for i, c in annexa_findings(annexa_path) if i in ids}
    for check in bad:
        ids = set(changed[check][:SHOWN])
        if ids:
            mine = annexa_of(ids)
            peer = dict(peer_findings(con, "WHERE id IN (SELECT unnest(?))", [list(ids)]))
            for i in sorted(ids):
                print(f"{check} {i} differs:")
                for d in differences(mine[i], peer[i])[:10]:
                    print(f"    {d}")
        for i in only_annexa[check][:SHOWN]:
            print(f"{check} {i}: annexa only: {annexa_of({i})[i]['subject']} {annexa_of({i})[i]['message']}")
        for i in only_peer[check][:SHOWN]:
            c = dict(peer_findings(con, "WHERE id = ?", [i]))[i]
            print(f"{check} {i}: peer only: {c['subject']} {c['message']}")
    print("findings differ for: " + ", ".join(bad))
    sys.exit(1)


if __name__ == "__main__":
    main()
