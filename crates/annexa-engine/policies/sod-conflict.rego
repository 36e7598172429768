# Reference policy of the built-in check sod-conflict: a person (over all their accounts) or
# an account linked to no one, holding an entitlement from every side of a rule. One finding
# per holder and rule, its key the holder's and the rule's (`E1042#pay-approve`).
package annexa.reference.sod_conflict

metadata := {
	"id": "sod-conflict",
	"title": "Segregation-of-duties conflict",
	"severity": "high",
	"controls": ["A.5.3"],
	"subjects": "holders",
}

# A `system:name` pattern (or a bare name, in any system), `*` as wildcard, any case.
# The delimiter is one no entitlement holds, so that `*` matches any run of characters.
matches(pattern, g) if {
	contains(pattern, ":")
	[system, name] := split_once(pattern)
	glob.match(lower(trim_space(system)), ["\u0000"], lower(g.system))
	glob.match(lower(trim_space(name)), ["\u0000"], lower(g.name))
}

matches(pattern, g) if {
	not contains(pattern, ":")
	glob.match(lower(trim_space(pattern)), ["\u0000"], lower(g.name))
}

split_once(s) := [substring(s, 0, i), substring(s, i + 1, -1)] if i := indexof(s, ":")

# The grants of the holder's enabled accounts that satisfy a side, in account and grant order.
held(item, side) := [g.entitlement |
	some a in item.accounts
	a.status == "enabled"
	some g in a.grants
	satisfies(side, g)
]

# Once per grant, however many of the side's patterns it matches.
satisfies(side, g) if {
	some pattern in side
	matches(pattern, g)
}

findings contains f if {
	some item in input.items
	some rule in input.parameters.rules
	sides := [held(item, side) | some side in rule.sides]
	every h in sides { count(h) > 0 }
	texts := [concat(" + ", h) | some h in sides]
	base := {
		"key": sprintf("%s#%s", [item.subject.key, rule.id]),
		"message": sprintf("%s holds conflicting access under %s (%s): %s", [item.subject.label, rule.id, rule.description, concat(" vs ", texts)]),
		"values": {"rule": rule.id, "held": sides},
	}
	f := with_severity(base, rule)
}

with_severity(f, rule) := object.union(f, {"severity": rule.severity}) if rule.severity

with_severity(f, rule) := f if not rule.severity
