# Reference policy of the built-in check contractor-no-end-date.
package annexa.reference.contractor_no_end_date

metadata := {
	"id": "contractor-no-end-date",
	"title": "Contractor without an end date",
	"severity": "medium",
	"controls": ["A.5.16", "A.6.1"],
	"subjects": "people",
}

message(p) := sprintf("%s %s has no end date", [p.worker_type, p.display_name]) if p.end_date == null

message(p) := sprintf("%s %s is still active in HR, past the end date %s", [p.worker_type, p.display_name, p.end_date]) if {
	p.end_date != null
	p.end_date < input.as_of_date
}

findings contains f if {
	some item in input.items
	p := item.person
	p.worker_type != "employee"
	p.status != "terminated"
	m := message(p)
	f := {
		"key": item.subject.key,
		"message": m,
		"values": {"worker_type": p.worker_type, "end_date": p.end_date, "status": p.status},
	}
}
