# Reference policy of the built-in check revocation-not-fulfilled: access a reviewer revoked
# in a campaign that an import made after the decision still holds, once `days` have passed
# since the decision. Its subjects are Annexa's own records (the revocations not yet seen
# carried out); `still_held` names the import that last recorded the access, if any does.
package annexa.reference.revocation_not_fulfilled

metadata := {
	"id": "revocation-not-fulfilled",
	"title": "Revocation not carried out",
	"severity": "high",
	"controls": ["A.5.18"],
	"subjects": "revocations",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

seen(held) := sprintf("import #%d of %s", [held.import_id, held.imported_on])

what(r, held) := sprintf("%s on %s account %s was revoked in campaign #%d on %s (item %d) but %s still holds it", [r.entitlement, r.system, r.account_id, r.campaign, r.decided_on, r.item, seen(held)]) if r.kind == "assignment"

what(r, held) := sprintf("zone %s on %s badge %s was revoked in campaign #%d on %s (item %d) but %s still holds it", [r.entitlement, r.system, r.account_id, r.campaign, r.decided_on, r.item, seen(held)]) if r.kind == "badge-zone"

what(r, held) := sprintf("%s account %s was to be disabled after campaign #%d on %s (item %d) but %s still has it enabled", [r.system, r.account_id, r.campaign, r.decided_on, r.item, seen(held)]) if r.kind == "account"

findings contains f if {
	some item in input.items
	r := item.revocation
	held := item.still_held
	held != null
	# Only an import made after the decision can show it was not carried out.
	held.imported_at > r.decided_at
	days_since(r.decided_at) >= input.parameters.days
	f := {
		"key": item.subject.key,
		"message": sprintf("%s, past the %d-day fulfilment window", [what(r, held), input.parameters.days]),
		"values": {"campaign": r.campaign, "item": r.item, "import_id": held.import_id},
	}
}
