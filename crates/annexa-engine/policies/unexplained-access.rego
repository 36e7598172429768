# Reference policy of the built-in check unexplained-access: per enabled account of a person
# (service accounts aside), the grants that no birthright rule applying to the person gives
# (nor one that applied before their latest move: keeping that too long is
# mover-residual-access's to judge) and that no approved request explains, one finding per
# account.
package annexa.reference.unexplained_access

metadata := {
	"id": "unexplained-access",
	"title": "Unexplained access",
	"severity": "medium",
	"controls": ["A.5.15", "A.5.18"],
	"subjects": "accounts",
}

# Without birthright rules, explained and unexplained access cannot be told apart.
not_evaluated := "no role model: no birthright rules give roles to people (`birthright` and `roles`)" if {
	count(input.role_model.birthright) == 0
}

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

explained(p, g) if explains(p.birthright, g)

explained(p, g) if {
	p.latest_move != null
	explains(p.latest_move.birthright_before, g)
}

approved(g) if {
	g.source == "request"
	g.granted_by != null
}

why(g) := "is marked birthright, but no birthright rule gives it to this person" if g.source == "birthright"

why(g) := "is marked as requested, but no approver is recorded" if g.source == "request"

why(g) := "was granted manually, with no role or approved request behind it" if g.source == "manual"

why(g) := "has no recorded reason, and no role or birthright rule gives it" if g.source == "unknown"

unexplained(item) := [g |
	some g in item.grants
	not approved(g)
	not explained(item.person, g)
]

message(item, held) := sprintf("%s on %s account %s of %s %s", [held[0].name, held[0].system, item.account.username, item.person.display_name, why(held[0])]) if count(held) == 1

message(item, held) := sprintf("%d entitlements on %s account %s of %s have no role, birthright rule or approved request behind them: %s", [count(held), item.account.system, item.account.username, item.person.display_name, named(names)]) if {
	count(held) > 1
	names := sort([g.name | some g in held])
}

findings contains f if {
	some item in input.items
	item.account.status == "enabled"
	item.account.type != "service"
	item.person != null
	held := unexplained(item)
	count(held) > 0
	f := {"key": item.subject.key, "message": message(item, held), "values": {"count": count(held)}}
}
