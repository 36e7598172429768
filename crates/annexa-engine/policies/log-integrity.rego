# Reference policy of the built-in check log-integrity: the evidence ledger does not verify,
# or it has entries and no signed checkpoint, or its newest checkpoint is older than
# `max_checkpoint_age_hours`. Its one subject is the ledger's verification status.
package annexa.reference.log_integrity

metadata := {
	"id": "log-integrity",
	"title": "Evidence ledger integrity",
	"severity": "critical",
	"controls": ["A.8.15"],
	"subjects": "ledger",
}

rank := {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

configured := object.get(input.parameters, "severity", metadata.severity)

# A stale checkpoint weakens the evidence (at most high); a log that fails to verify
# destroys it (the check's own severity).
at_most_high := configured if rank[configured] <= 3

at_most_high := "high" if rank[configured] > 3

hours_since(t) := floor((input.as_of - t) / 3600) if input.as_of >= t

hours_since(t) := ceil((input.as_of - t) / 3600) if input.as_of < t

findings contains f if {
	some item in input.items
	item.ledger.problem != null
	f := {"key": item.subject.key, "message": sprintf("The evidence ledger does not verify: %s", [item.ledger.problem])}
}

findings contains f if {
	some item in input.items
	l := item.ledger
	l.problem == null
	l.newest_checkpoint == null
	l.entries > 0
	f := {"key": item.subject.key, "message": sprintf("The evidence ledger has %d entries and no signed checkpoint", [l.entries]), "severity": at_most_high}
}

findings contains f if {
	some item in input.items
	l := item.ledger
	l.problem == null
	l.newest_checkpoint != null
	hours := hours_since(l.newest_checkpoint.at)
	hours > input.parameters.max_checkpoint_age_hours
	f := {
		"key": item.subject.key,
		"message": sprintf("The newest signed checkpoint of the evidence ledger is %d hours old (limit %d)", [hours, input.parameters.max_checkpoint_age_hours]),
		"severity": at_most_high,
	}
}
