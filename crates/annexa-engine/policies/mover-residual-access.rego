# Reference policy of the built-in check mover-residual-access: per enabled account of a
# person who moved (department, title or location) at least `grace_days` ago, the access only
# their old position's birthright rules gave, one finding per account. A person's
# `birthright` and their latest move's `birthright_before` name the rules whose condition
# they meet now and met before; `input.role_model` says which entitlements each rule gives.
package annexa.reference.mover_residual_access

metadata := {
	"id": "mover-residual-access",
	"title": "Mover kept old access",
	"severity": "medium",
	"controls": ["A.5.18"],
	"subjects": "accounts",
}

# Without birthright rules, what the old position gave is unknown.
not_evaluated := "no role model: no birthright rules give roles to people (`birthright` and `roles`)" if {
	count(input.role_model.birthright) == 0
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

# The access only the old position gave; requested access someone decided on is
# mover-access-review's.
residual(item) := [g |
	some g in item.grants
	not decided(g)
	explains(item.person.latest_move.birthright_before, g)
	not explains(item.person.birthright, g)
]

decided(g) if {
	g.source == "request"
	g.granted_by != null
}

message(item, held) := sprintf("%s and still holds %s:%s, which only their old position's birthright gave", [who_moved(item.person), held[0].system, held[0].name]) if count(held) == 1

message(item, held) := sprintf("%s and %s account %s still holds %d entitlements that only their old position's birthright gave: %s", [who_moved(item.person), item.account.system, item.account.username, count(held), named(names)]) if {
	count(held) > 1
	names := sort([g.name | some g in held])
}

findings contains f if {
	some item in input.items
	item.account.status == "enabled"
	p := item.person
	p.status != "terminated"
	p.latest_move != null
	p.latest_move.effective_at + (input.parameters.grace_days * 86400) <= input.as_of
	held := residual(item)
	count(held) > 0
	f := {"key": item.subject.key, "message": message(item, held), "values": {"count": count(held)}}
}
