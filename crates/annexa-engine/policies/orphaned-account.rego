# Reference policy of the built-in check orphaned-account: an enabled personal account that
# correlation linked to no one, with no accountable owner.
package annexa.reference.orphaned_account

metadata := {
	"id": "orphaned-account",
	"title": "Orphaned account",
	"severity": "high",
	"controls": ["A.5.16", "A.5.18"],
	"subjects": "accounts",
}

why(a) := sprintf("employee id %s is not in the HR feed", [a.employee_id]) if a.employee_id != null

why(a) := sprintf("%s belongs to more than one person in the HR feed, so it links to no one", [what(a)]) if {
	a.employee_id == null
	a.correlation_email != null
	a.correlation_email.shared
}

why(a) := sprintf("%s matches no one in the HR feed", [what(a)]) if {
	a.employee_id == null
	a.correlation_email != null
	not a.correlation_email.shared
}

why(a) := "no employee id, email or username links it to anyone in the HR feed" if {
	a.employee_id == null
	a.correlation_email == null
}

what(a) := sprintf("login %s, an e-mail address,", [a.username]) if a.correlation_email.from_login

what(a) := sprintf("email %s", [a.correlation_email.address]) if not a.correlation_email.from_login

findings contains f if {
	some item in input.items
	a := item.account
	a.status == "enabled"
	a.type in {"human", "admin"}
	not a.root
	item.person == null
	not item.owner_active
	f := {
		"key": item.subject.key,
		"message": sprintf("Enabled %s account %s belongs to no one: %s, and it has no accountable owner", [a.system, a.username, why(a)]),
		"values": {"employee_id": a.employee_id, "owner": a.owner, "type": a.type},
	}
}
