# Who may call what in `annexa serve`. Every request to /api/v1 and every page is decided
# here: first the route (input.resource is null), then, where a handler has loaded what the
# request touches (a review item's reviewer, a finding's system), that resource as well. An
# admin may copy this file, change it and start the server with `annexa serve
# --authorization FILE` (the server records each policy it starts with, by SHA-256, in the
# ledger).
#
# input.principal: {"name", "role", "employee_id", "systems"}
# input.request:   {"method", "route"}   (the route as declared: /api/v1/findings/{id})
# input.resource:  null, {"reviewer": EMPLOYEE_ID} or {"system": NAME}
package annexa.authz

default allow := false

reads := {"GET", "HEAD"}

call := sprintf("%s %s", [input.request.method, input.request.route])

# Anyone signed in may ask who they are, sign out, and see and decide the review items that
# are theirs (the resource: whose item it is).
everyone := {"GET /api/v1/me", "POST /api/v1/sign-out", "GET /review", "POST /review/{id}", "POST /review/bulk"}

# Only an admin manages who may do what.
admin_only := {"GET /api/v1/tokens"}

# A reviewer sees and decides their own review items, nothing else.
reviewer_calls := {
	"GET /api/v1/campaigns/{id}/items",
	"GET /api/v1/campaigns/{id}/worksheet",
	"POST /api/v1/campaigns/{id}/worksheet",
	"POST /api/v1/items/{id}/decision",
	"POST /api/v1/items/delegate",
}

# A system owner sees the findings and controls of their systems, and handles those
# findings (acknowledges, accepts, dismisses, comments), through the API and the pages.
system_owner_calls := {
	"GET /",
	"GET /api/v1/findings",
	"GET /api/v1/findings/{id}",
	"POST /api/v1/findings/{id}/triage",
	"GET /api/v1/controls",
	"GET /findings",
	"GET /findings/{id}",
	"POST /findings/{id}/triage",
}

# Programme-wide roles: a resource does not narrow what they may see. (GET /metrics is a
# read of theirs too: give a monitoring system an auditor's token.)
programme := {"admin", "compliance-manager", "auditor"}

route_allowed if call in everyone

route_allowed if input.principal.role == "admin"

route_allowed if {
	input.principal.role == "compliance-manager"
	not call in admin_only
}

# An auditor reads everything and changes nothing.
route_allowed if {
	input.principal.role == "auditor"
	input.request.method in reads
	not call in admin_only
}

route_allowed if {
	input.principal.role == "reviewer"
	call in reviewer_calls
}

route_allowed if {
	input.principal.role == "system-owner"
	call in system_owner_calls
}

resource_allowed if input.resource == null

resource_allowed if {
	input.resource != null
	input.principal.role in programme
}

# Anyone's own review items (a system owner may review too).
resource_allowed if {
	input.principal.employee_id != null
	input.resource.reviewer == input.principal.employee_id
}

resource_allowed if {
	input.principal.role == "system-owner"
	input.resource.system in input.principal.systems
}

allow if {
	route_allowed
	resource_allowed
}
