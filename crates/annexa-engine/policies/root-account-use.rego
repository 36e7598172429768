# Reference policy of the built-in check root-account-use.
package annexa.reference.root_account_use

metadata := {
	"id": "root-account-use",
	"title": "Cloud root account in use",
	"severity": "critical",
	"controls": ["A.8.2"],
	"subjects": "accounts",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

keys(a) := [c.slot | some c in a.credentials; c.active; c.kind == "access-key"]

key_reason(a) := [sprintf("has active access keys (%s)", [concat(", ", keys(a))])] if count(keys(a)) > 0

key_reason(a) := [] if count(keys(a)) == 0

use_reason(a) := [sprintf("was used %d days ago (within %d days)", [days_since(a.last_login_at), input.parameters.days])] if {
	a.last_login_at != null
	days_since(a.last_login_at) <= input.parameters.days
}

use_reason(a) := [] if a.last_login_at == null

use_reason(a) := [] if {
	a.last_login_at != null
	days_since(a.last_login_at) > input.parameters.days
}

findings contains f if {
	some item in input.items
	a := item.account
	a.root
	reasons := array.concat(key_reason(a), use_reason(a))
	count(reasons) > 0
	f := {
		"key": item.subject.key,
		"message": sprintf("Root account of %s %s", [a.system, concat(" and ", reasons)]),
		"values": {"active_access_keys": keys(a)},
	}
}
