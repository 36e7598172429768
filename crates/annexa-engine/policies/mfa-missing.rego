# Reference policy of the built-in check mfa-missing.
package annexa.reference.mfa_missing

metadata := {
	"id": "mfa-missing",
	"title": "Interactive account without MFA",
	"severity": "high",
	"controls": ["A.5.17", "A.8.5"],
	"subjects": "accounts",
}

personal_or_root(a) if a.type in {"human", "admin"}

personal_or_root(a) if a.root

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.interactive
	personal_or_root(a)
	a.mfa != null
	every factor in a.mfa { factor == "none" }
	f := {
		"key": item.subject.key,
		"message": sprintf("%s account %s signs in interactively without any second factor", [a.system, a.username]),
		"values": {"mfa": a.mfa, "type": a.type},
	}
}
