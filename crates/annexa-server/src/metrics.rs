//! `/metrics` in the Prometheus text format: requests by method, declared route and status
//! with their latency as a histogram, and, read at each scrape, open findings by severity,
//! provisioning tasks by status, the ledger's size and the latest audit's time.
//!
//! The series are few and fixed, so they are kept here rather than through a global metrics
//! recorder: several servers in one process (the tests) each count their own.

use crate::auth::Principal;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The request counts a server keeps.
#[derive(Default)]
pub struct Requests {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Requests {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut series) = self.series.lock() else { return };
        let s = series.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let Ok(series) = self.series.lock() else { return };
        out.push_str("# HELP annexa_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE annexa_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "annexa_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                label(route),
                s.count
            );
        }
        out.push_str("# HELP annexa_http_request_duration_seconds Time to answer, by method and route.\n");
        out.push_str("# TYPE annexa_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((method, route, _), s) in series.iter() {
            let t = by_route.entry((method, route)).or_default();
            t.count += s.count;
            t.sum += s.sum;
            for (i, b) in s.buckets.iter().enumerate() {
                t.buckets[i] += b;
            }
        }
        for ((method, route), s) in by_route {
            let labels = format!("method=\"{method}\",route=\"{}\"", label(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "annexa_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}", s.buckets[i]);
            }
            let _ = writeln!(out, "annexa_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "annexa_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "annexa_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
    }
}

/// A label value, escaped as the text format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware of every route: counts the request and its time under its declared route
/// (never the path itself: ids would make a series each).
pub async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.requests.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The metrics, for a monitoring system with a token the policy lets read them.
#[utoipa::path(get, path = "/metrics", tag = "programme", responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> crate::api::ApiResult<Response> {
    let app = state.app_for(&principal);
    let m = crate::api::blocking(move || Ok(app.monitoring()?)).await?;
    let mut out = String::new();
    state.requests.render(&mut out);
    out.push_str("# HELP annexa_open_findings Findings open after the latest audits, by severity.\n# TYPE annexa_open_findings gauge\n");
    for s in annexa_core::finding::Severity::ALL {
        let n = m.open_findings.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "annexa_open_findings{{severity=\"{s}\"}} {n}");
    }
    out.push_str("# HELP annexa_provisioning_tasks Provisioning tasks, by status (pending is the queue's depth).\n");
    out.push_str("# TYPE annexa_provisioning_tasks gauge\n");
    for s in annexa_core::model::TaskStatus::ALL {
        let n = m.tasks.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "annexa_provisioning_tasks{{status=\"{s}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP annexa_ledger_entries Entries in the evidence ledger.\n# TYPE annexa_ledger_entries gauge\nannexa_ledger_entries {}",
        m.ledger_entries
    );
    if let Some(t) = m.last_audit {
        let _ = writeln!(
            out,
            "# HELP annexa_last_audit_timestamp_seconds When the latest audit run started.\n# TYPE annexa_last_audit_timestamp_seconds gauge\nannexa_last_audit_timestamp_seconds {}",
            t.timestamp()
        );
    }
    if let Some(seconds) = m.last_audit_seconds {
        let _ = writeln!(
            out,
            "# HELP annexa_last_audit_duration_seconds How long the latest audit run took.\n# TYPE annexa_last_audit_duration_seconds gauge\nannexa_last_audit_duration_seconds {seconds}"
        );
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
