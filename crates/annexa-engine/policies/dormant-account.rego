# Reference policy of the built-in check dormant-account: the same judgement as the native
# check, in Rego, over the documented input (docs/rego-input.schema.json).
package annexa.reference.dormant_account

metadata := {
	"id": "dormant-account",
	"title": "Dormant account",
	"severity": "medium",
	"controls": ["A.5.18", "A.8.2"],
	"subjects": "accounts",
}

# Whole days from t to the as-of time, truncated toward zero.
days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

judged(a) if {
	a.status == "enabled"
	not a.root
	a.last_login_known
	not skipped_service(a)
}

skipped_service(a) if {
	a.type == "service"
	not input.parameters.include_service
}

limit(a) := input.parameters.days + input.parameters.directory_slack_days if a.source_kind == "ldif"

limit(a) := input.parameters.days if a.source_kind != "ldif"

findings contains f if {
	some item in input.items
	a := item.account
	judged(a)
	a.last_login_at != null
	idle := days_since(a.last_login_at)
	idle > limit(a)
	f := {
		"key": item.subject.key,
		"message": sprintf("%s account %s has not been used for %d days (limit %d)", [a.system, a.username, idle, limit(a)]),
		"values": {"days_since_login": idle, "limit_days": limit(a)},
	}
}

findings contains f if {
	some item in input.items
	a := item.account
	judged(a)
	a.last_login_at == null
	a.created_at != null
	age := days_since(a.created_at)
	age > limit(a)
	f := {
		"key": item.subject.key,
		"message": sprintf("%s account %s was created %d days ago and never used (limit %d)", [a.system, a.username, age, limit(a)]),
		"values": {"days_since_created": age, "limit_days": limit(a)},
	}
}
