# Reference policy of the built-in check certification-overdue: an account's assignments
# whose last certification (or grant) is older than their interval, one finding per account.
package annexa.reference.certification_overdue

metadata := {
	"id": "certification-overdue",
	"title": "Access certification overdue",
	"severity": "medium",
	"controls": ["A.5.18"],
	"subjects": "accounts",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

interval(g) := input.parameters.privileged_days if g.privileged

interval(g) := input.parameters.standard_days if not g.privileged

kind(g) := "privileged" if g.privileged

kind(g) := "standard" if not g.privileged

# What is overdue about one assignment.
entry(g) := {"g": g, "day": g.last_certified_on, "how": "certified"} if {
	g.last_certified_at != null
	days_since(g.last_certified_at) > interval(g)
}

entry(g) := {"g": g, "day": g.granted_on, "how": "granted"} if {
	g.last_certified_at == null
	g.granted_at != null
	days_since(g.granted_at) > interval(g)
}

entry(g) := {"g": g, "day": null, "how": "undated"} if {
	g.last_certified_at == null
	g.granted_at == null
	input.parameters.include_undated
}

single(a, e) := sprintf("%s on %s account %s was last certified on %s, over its %s interval of %d days", [e.g.name, e.g.system, a.username, e.day, kind(e.g), interval(e.g)]) if e.how == "certified"

single(a, e) := sprintf("%s on %s account %s was granted on %s and never certified, over its %s interval of %d days", [e.g.name, e.g.system, a.username, e.day, kind(e.g), interval(e.g)]) if e.how == "granted"

single(a, e) := sprintf("%s on %s account %s has no record of a grant or a certification", [e.g.name, e.g.system, a.username]) if e.how == "undated"

# `a, b, c, d, e and 3 more`.
named(names) := names[0] if count(names) == 1

named(names) := sprintf("%s and %s", [concat(", ", array.slice(names, 0, count(names) - 1)), names[count(names) - 1]]) if {
	count(names) > 1
	count(names) <= 5
}

named(names) := sprintf("%s and %d more", [concat(", ", array.slice(names, 0, 5)), count(names) - 5]) if count(names) > 5

privileged_text(entries) := sprintf(" (%d privileged)", [n]) if {
	n := count([e | some e in entries; e.g.privileged])
	n > 0
}

privileged_text(entries) := "" if count([e | some e in entries; e.g.privileged]) == 0

oldest_text(entries) := sprintf("; the oldest was last certified or granted on %s", [min(days)]) if {
	days := [e.day | some e in entries; e.day != null]
	count(days) > 0
}

oldest_text(entries) := "" if count([e | some e in entries; e.day != null]) == 0

many(a, entries) := sprintf("%d entitlements%s on %s account %s are overdue for certification: %s%s", [count(entries), privileged_text(entries), a.system, a.username, named(sort([e.g.name | some e in entries])), oldest_text(entries)])

message(a, entries) := single(a, entries[0]) if count(entries) == 1

message(a, entries) := many(a, entries) if count(entries) > 1

rank := {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

configured := object.get(input.parameters, "severity", metadata.severity)

# A privileged assignment overdue makes the finding at least high.
finding(item, base) := object.union(base, {"severity": severity}) if {
	some e in overdue(item)
	e.g.privileged
	severity := at_least_high(configured)
}

at_least_high(s) := s if rank[s] >= 3

at_least_high(s) := "high" if rank[s] < 3

finding(item, base) := base if {
	not any_privileged(item)
}

any_privileged(item) if {
	some e in overdue(item)
	e.g.privileged
}

overdue(item) := [e | some g in item.grants; e := entry(g)]

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	entries := overdue(item)
	count(entries) > 0
	f := finding(item, {"key": item.subject.key, "message": message(a, entries), "values": {"count": count(entries)}})
}
