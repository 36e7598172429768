# Reference policy of the built-in check service-account-no-owner.
package annexa.reference.service_account_no_owner

metadata := {
	"id": "service-account-no-owner",
	"title": "Service account without an accountable owner",
	"severity": "medium",
	"controls": ["A.5.9", "A.5.16"],
	"subjects": "accounts",
}

why(a) := "has no owner" if a.owner == null

why(a) := sprintf("names owner %s, who is not an active person in the HR feed", [a.owner]) if a.owner != null

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.type == "service"
	not item.owner_active
	f := {
		"key": item.subject.key,
		"message": sprintf("Service account %s on %s %s", [a.username, a.system, why(a)]),
		"values": {"owner": a.owner},
	}
}
