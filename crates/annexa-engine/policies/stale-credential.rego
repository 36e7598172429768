# Reference policy of the built-in check stale-credential: active access keys and API tokens
# not rotated (or never used) within the limit, and passwords older than a maximum when one
# is set. Its findings are about the credential (a subject of the account's item).
package annexa.reference.stale_credential

metadata := {
	"id": "stale-credential",
	"title": "Stale credential",
	"severity": "medium",
	"controls": ["A.5.17", "A.8.5"],
	"subjects": "accounts",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

limit := input.parameters.days

reasons(c) := array.concat(
	[sprintf("not rotated for %d days (limit %d)", [days_since(c.rotated_at), limit]) | days_since(c.rotated_at) > limit],
	[sprintf("never used in the %d days since it was issued", [days_since(c.rotated_at)]) | c.last_used_at == null; days_since(c.rotated_at) > limit],
)

findings contains f if {
	some item in input.items
	a := item.account
	some c in a.credentials
	c.active
	c.kind != "certificate"
	c.rotated_at != null
	count(reasons(c)) > 0
	f := {
		"key": c.subject.key,
		"message": sprintf("Active %s %s of %s account %s is %s", [c.kind, c.slot, a.system, a.username, concat(" and ", reasons(c))]),
		"values": {"slot": c.slot, "kind": c.kind, "days_since_rotation": days_since(c.rotated_at), "limit_days": limit},
	}
}

findings contains f if {
	input.parameters.max_password_age_days > 0
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.password_last_set_at != null
	age := days_since(a.password_last_set_at)
	age > input.parameters.max_password_age_days
	f := {
		"key": a.password_subject.key,
		"message": sprintf("Password of %s account %s is %d days old (maximum %d)", [a.system, a.username, age, input.parameters.max_password_age_days]),
		"values": {"password_age_days": age, "max_password_age_days": input.parameters.max_password_age_days},
	}
}
