# Reference policy of the built-in check privilege-outlier: a person (not a leaver) who holds
# far more distinct privileged entitlements, over their enabled accounts, than the median of
# their peer group (same department and title). A peer group spans every batch, so Annexa
# gives each person its distribution: `peers.privileged_counts`, pairs [count, people].
package annexa.reference.privilege_outlier

metadata := {
	"id": "privilege-outlier",
	"title": "Privilege outlier",
	"severity": "low",
	"controls": ["A.8.2", "A.5.15"],
	"subjects": "holders",
}

held(item) := {g.entitlement |
	some a in item.accounts
	a.status == "enabled"
	some g in a.grants
	g.privileged
}

# How many of the group hold at most `c`.
at_most(histogram, c) := sum([pair[1] | some pair in histogram; pair[0] <= c])

# The upper median: the count at position floor(size / 2) of the group's sorted counts.
median(peers) := min({c |
	some pair in peers.privileged_counts
	c := pair[0]
	at_most(peers.privileged_counts, c) > floor(peers.size / 2)
})

findings contains f if {
	some item in input.items
	peers := item.peers
	peers != null
	peers.size >= input.parameters.min_peers
	n := count(held(item))
	n >= input.parameters.min_privileged
	m := median(peers)
	n > input.parameters.factor * max([m, 1])
	f := {
		"key": item.subject.key,
		"message": sprintf("%s holds %d privileged entitlements; peers (%s, %s, %d people) hold a median of %d", [item.person.display_name, n, peers.title, peers.department, peers.size, m]),
		"values": {"privileged_entitlements": n, "peer_median": m},
	}
}
