//! Load for `bench/scim`: creates Users over SCIM from several threads, puts them in
//! Groups, then times filtered list queries. Prints one line per phase.
//!
//!   scim_load URL TOKEN USERS THREADS GROUPS
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::scim_client::{ScimClient, ScimOptions};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(name: &str, mut times: Vec<Duration>, wall: Duration) {
    times.sort();
    println!(
        "{name}: {} requests in {:.2} s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );
}

/// Runs `work(i)` for i in 0..n over `threads` threads, each with its own client; returns
/// each call's time and the wall time.
fn parallel(url: &str, token: &str, n: usize, threads: usize, work: impl Fn(&ScimClient, usize) + Sync) -> (Vec<Duration>, Duration) {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let times = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let client = ScimClient::new(url, token, ScimOptions { retries: 0, ..Default::default() }).expect("client");
                    let mut times = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return times;
                        }
                        let t = Instant::now();
                        work(&client, i);
                        times.push(t.elapsed());
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect::<Vec<_>>()
    });
    (times, started.elapsed())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, users, threads, groups] = &args[..] else {
        eprintln!("usage: scim_load URL TOKEN USERS THREADS GROUPS");
        std::process::exit(2);
    };
    let users: usize = users.parse().expect("USERS");
    let threads: usize = threads.parse().expect("THREADS");
    let groups: usize = groups.parse().expect("GROUPS");
    let departments = ["Engineering", "Sales", "Finance", "Support", "Legal", "Marketing", "Operations", "Research"];

    let ids: Vec<std::sync::OnceLock<String>> = (0..users).map(|_| std::sync::OnceLock::new()).collect();
    let (times, wall) = parallel(url, token, users, threads, |c, i| {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": format!("user{i:06}@example.com"),
            "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{}", i % 997)},
            "emails": [{"value": format!("user{i:06}@example.com"), "type": "work", "primary": true}],
            "title": format!("Engineer {}", i % 50),
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": format!("E{i:06}"), "department": departments[i % departments.len()]},
        });
        let r = c.request("POST", "/Users", Some(&user), None).expect("create");
        let _ = ids[i].set(r.body["id"].as_str().unwrap_or_default().to_string());
    });
    report("create users", times, wall);

    // Groups, filled with PATCH add in chunks of 1,000 members.
    let started = Instant::now();
    let client = ScimClient::new(url, token, ScimOptions::default()).expect("client");
    let mut patches = 0;
    for g in 0..groups {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("group-{g:02}")});
        let gid = client.request("POST", "/Groups", Some(&body), None).expect("group").body["id"].as_str().unwrap_or_default().to_string();
        let members: Vec<&str> = (g..users).step_by(groups.max(1)).filter_map(|i| ids[i].get().map(String::as_str)).collect();
        for chunk in members.chunks(1000) {
            let value: Vec<serde_json::Value> = chunk.iter().map(|id| json!({"value": id})).collect();
            let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": value}]});
            client.request("PATCH", &format!("/Groups/{gid}"), Some(&ops), None).expect("members");
            patches += 1;
        }
    }
    println!("groups: {groups} groups, {patches} PATCH requests of up to 1,000 members, {:.2} s", started.elapsed().as_secs_f64());

    // Reads of one resource from THREADS clients: throughput of a read endpoint.
    let (times, wall) = parallel(url, token, 20_000.min(users * 4).max(1), threads, |c, i| {
        if let Some(id) = ids[(i * 7919) % users.max(1)].get() {
            c.request("GET", &format!("/Users/{id}"), None, None).expect("read");
        }
    });
    report(&format!("GET /Users/{{id}}, {threads} client threads"), times, wall);

    // Queries, one at a time: latency without queueing behind other requests.
    let enc = |f: &str| f.replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D");
    let n = users.max(1);
    let query = |name: &str, count: usize, filter: &(dyn Fn(usize) -> String + Sync), tail: &str| {
        let (times, wall) = parallel(url, token, count, 1, |c, i| {
            c.request("GET", &format!("/Users?filter={}{tail}", enc(&filter(i))), None, None).expect("query");
        });
        report(name, times, wall);
    };
    query("userName eq (always indexed)", 2000, &|i| format!("userName eq \"user{:06}@example.com\"", (i * 7919) % n), "");
    query(
        "externalId-style eq: employeeNumber eq (index built by the first query)",
        2000,
        &|i| format!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"E{:06}\"", (i * 7919) % n),
        "",
    );
    query("title eq \"Engineer N\" and emails[...] (index, then 2,000 matches filtered)", 200, &|i| format!("title eq \"Engineer {}\" and emails[type eq \"work\" and value ew \"7@example.com\"]", i % 50), "&count=100");
    query("department eq, sortBy userName, page 2 (12,500 matches sorted)", 200, &|i| format!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"{}\"", departments[i % departments.len()]), "&sortBy=userName&startIndex=101&count=100");
    query("emails.value ew (the index's distinct values read)", 100, &|i| format!("emails.value ew \"{:03}@example.com\"", i % 1000), "&count=100");
    query("active eq false or not (title pr) (no index answers it: every User read)", 50, &|_| "active eq false or not (title pr)".to_string(), "&count=100");
    query("name.familyName co (the index's distinct values read)", 100, &|i| format!("name.familyName co \"ly{}\"", i % 997), "&count=100");
}
