# Reference policy of the built-in check shared-account.
package annexa.reference.shared_account

metadata := {
	"id": "shared-account",
	"title": "Shared or generic account",
	"severity": "medium",
	"controls": ["A.5.16"],
	"subjects": "accounts",
}

# `DOMAIN\jdoe` and `jdoe@corp.example` are `jdoe`.
bare(u) := lower(trim_space(split(parts[count(parts) - 1], "@")[0])) if parts := split(u, "\\")

# The name without the digits and separators it ends with (`test01` is `test`).
stem(u) := trim_right(bare(u), "0123456789-_.")

stem_matches(st, s) if st == s

stem_matches(st, s) if {
	some sep in ["-", "_", "."]
	startswith(st, concat("", [s, sep]))
}

generic(a) if {
	some name in input.parameters.generic_names
	stem_matches(stem(a.username), lower(name))
}

why(a) := "is a shared account" if a.type == "shared"

why(a) := "has a generic name" if {
	a.type != "shared"
	generic(a)
}

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	not a.root
	a.type != "service"
	item.person == null
	not item.owner_active
	reason := why(a)
	f := {
		"key": item.subject.key,
		"message": sprintf("%s account %s %s, belongs to no person and has no accountable owner", [a.system, a.username, reason]),
		"values": {"type": a.type, "owner": a.owner},
	}
}
