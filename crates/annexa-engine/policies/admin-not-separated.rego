# Reference policy of the built-in check admin-not-separated.
package annexa.reference.admin_not_separated

metadata := {
	"id": "admin-not-separated",
	"title": "Admin rights on an everyday account",
	"severity": "high",
	"controls": ["A.8.2"],
	"subjects": "accounts",
}

held(item) := [g.entitlement | some g in item.grants; g.privileged]

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.type == "human"
	item.person != null
	count(held(item)) > 0
	f := {
		"key": item.subject.key,
		"message": sprintf("Everyday account %s on %s holds privileged %s; use a separate admin account", [a.username, a.system, concat(", ", held(item))]),
		"values": {"type": a.type, "privileged_entitlements": held(item)},
	}
}
