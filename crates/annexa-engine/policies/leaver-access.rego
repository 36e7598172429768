# Reference policy of the built-in check leaver-access: a person who has left, past the
# SLA, with an enabled account or an active badge. Its findings are about the account or the
# badge still open (subjects of the person's item).
package annexa.reference.leaver_access

metadata := {
	"id": "leaver-access",
	"title": "Leaver still has access",
	"severity": "critical",
	"controls": ["A.5.18", "A.6.5", "A.7.2"],
	"subjects": "people",
}

days_since(t) := floor((input.as_of - t) / 86400) if input.as_of >= t

days_since(t) := ceil((input.as_of - t) / 86400) if input.as_of < t

# When the person stopped being entitled: the end of their last day.
left_at(p) := p.end_date_start + 86400 if p.end_date_start != null

# Has left: terminated in HR, or past the end of their last day.
left(p) if p.status == "terminated"

left(p) if {
	p.status != "terminated"
	p.end_date_start != null
	left_at(p) <= input.as_of
}

# Past the SLA: no end date on record (already late), or the SLA after leaving has passed.
overdue(p) if p.end_date_start == null

overdue(p) if {
	p.end_date_start != null
	left_at(p) + input.parameters.sla_hours * 3600 <= input.as_of
}

since(p) := sprintf("left on %s (%d days ago)", [p.end_date, days_since(left_at(p))]) if p.end_date_start != null

since(p) := "is terminated in HR (no end date on record)" if p.end_date_start == null

findings contains f if {
	some item in input.items
	p := item.person
	left(p)
	overdue(p)
	some a in item.accounts
	a.status == "enabled"
	f := {
		"key": a.subject.key,
		"message": sprintf("%s %s but %s account %s is still enabled", [p.display_name, since(p), a.system, a.username]),
		"values": {"status": p.status, "end_date": p.end_date, "sla_hours": input.parameters.sla_hours},
	}
}

findings contains f if {
	some item in input.items
	p := item.person
	left(p)
	overdue(p)
	some b in item.badges
	b.status == "active"
	f := {
		"key": b.subject.key,
		"message": sprintf("%s %s but badge %s still opens %s", [p.display_name, since(p), b.badge_id, concat(", ", b.zones)]),
		"values": {"status": p.status, "end_date": p.end_date, "sla_hours": input.parameters.sla_hours, "zones": b.zones},
	}
}
