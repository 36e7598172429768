# Reference policy of the built-in check mover-access-review: per enabled account of a
# person who moved at least `review_days` ago, the access granted on request before the move
# that the new position's birthright does not give and that nobody has reviewed since the
# move, one finding per account. Without a role model nothing is explained, and every such
# grant is judged.
package annexa.reference.mover_access_review

metadata := {
	"id": "mover-access-review",
	"title": "Mover's access not reviewed",
	"severity": "low",
	"controls": ["A.5.18", "A.5.15"],
	"subjects": "accounts",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

# A `system:name` pattern (or a bare name, in any system), `*` as wildcard, any case.
matches(pattern, g) if {
	contains(pattern, ":")
	i := indexof(pattern, ":")
	glob.match(lower(trim_space(substring(pattern, 0, i))), ["\u0000"], lower(g.system))
	glob.match(lower(trim_space(substring(pattern, i + 1, -1))), ["\u0000"], lower(g.name))
}

matches(pattern, g) if {
	not contains(pattern, ":")
	glob.match(lower(trim_space(pattern)), ["\u0000"], lower(g.name))
}

# Whether one of the birthright rules gives the grant's entitlement, through one of its roles.
explains(rules, g) if {
	some rule in rules
	some role in input.role_model.birthright[rule]
	some pattern in input.role_model.roles[role]
	matches(pattern, g)
}

# `a, b, c, d, e and 3 more`.
named(names) := names[0] if count(names) == 1

named(names) := sprintf("%s and %s", [concat(", ", array.slice(names, 0, count(names) - 1)), names[count(names) - 1]]) if {
	count(names) > 1
	count(names) <= 5
}

named(names) := sprintf("%s and %d more", [concat(", ", array.slice(names, 0, 5)), count(names) - 5]) if count(names) > 5

# What moved (a new manager alone is not a move of position).
moved(m) := concat(", ", [sprintf("%s %s → %s", [c.attribute, c.before, c.after]) | some c in m.changes; c.attribute != "manager_id"])

who_moved(p) := sprintf("%s moved %d days ago (%s)", [p.display_name, days_since(p.latest_move.effective_at), moved(p.latest_move)])

# Granted on request, with an approver, before the move (an undated grant counts as before).
decided_before(g, moved_at) if {
	g.source == "request"
	g.granted_by != null
	g.granted_at == null
}

decided_before(g, moved_at) if {
	g.source == "request"
	g.granted_by != null
	g.granted_at != null
	g.granted_at < moved_at
}

reviewed_since(g, moved_at) if {
	g.last_certified_at != null
	g.last_certified_at >= moved_at
}

carried_over(item) := [g |
	moved_at := item.person.latest_move.effective_at
	some g in item.grants
	decided_before(g, moved_at)
	not reviewed_since(g, moved_at)
	not explains(item.person.birthright, g)
]

granted_text(g) := sprintf(" on %s", [g.granted_on]) if g.granted_on != null

granted_text(g) := "" if g.granted_on == null

message(item, held) := sprintf("%s; %s:%s, granted on request%s before the move, has not been reviewed since (due within %d days of a move)", [who_moved(item.person), held[0].system, held[0].name, granted_text(held[0]), input.parameters.review_days]) if count(held) == 1

message(item, held) := sprintf("%s; %d entitlements on %s account %s, granted on request before the move, have not been reviewed since (due within %d days of a move): %s", [who_moved(item.person), count(held), item.account.system, item.account.username, input.parameters.review_days, named(names)]) if {
	count(held) > 1
	names := sort([g.name | some g in held])
}

findings contains f if {
	some item in input.items
	item.account.status == "enabled"
	p := item.person
	p.status != "terminated"
	p.latest_move != null
	p.latest_move.effective_at + (input.parameters.review_days * 86400) <= input.as_of
	held := carried_over(item)
	count(held) > 0
	f := {"key": item.subject.key, "message": message(item, held), "values": {"count": count(held)}}
}
