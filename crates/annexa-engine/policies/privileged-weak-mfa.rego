# Reference policy of the built-in check privileged-weak-mfa.
package annexa.reference.privileged_weak_mfa

metadata := {
	"id": "privileged-weak-mfa",
	"title": "Privileged access without phishing-resistant MFA",
	"severity": "high",
	"controls": ["A.8.2", "A.8.5"],
	"subjects": "accounts",
}

held(item) := [g.entitlement | some g in item.grants; g.privileged]

why(item) := "is a cloud root account" if item.account.root

why(item) := "is an admin account" if {
	not item.account.root
	item.account.type == "admin"
}

why(item) := sprintf("holds %s", [concat(", ", held(item))]) if {
	not item.account.root
	item.account.type != "admin"
	count(held(item)) > 0
}

factors(a) := concat(", ", a.mfa) if count(a.mfa) > 0

factors(a) := "none" if count(a.mfa) == 0

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.interactive
	a.mfa != null
	not "webauthn" in a.mfa
	reason := why(item)
	f := {
		"key": item.subject.key,
		"message": sprintf("%s account %s %s but has no phishing-resistant factor (has: %s)", [a.system, a.username, reason, factors(a)]),
		"values": {"mfa": a.mfa, "type": a.type, "root": a.root, "privileged_entitlements": held(item)},
	}
}
