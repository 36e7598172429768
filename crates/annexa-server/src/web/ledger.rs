//! The evidence ledger for the auditor: its size, its signed checkpoints, the verifier key
//! to check them with, a verification of the whole ledger on request, its newest entries,
//! and an entry's page with its inclusion proof, checked here.

use super::*;
use axum::extract::{Path, Query};

/// The newest entries and signed checkpoints the overview lists.
const RECENT: u64 = 25;
const CHECKPOINTS: u64 = 10;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct LedgerQuery {
    /// Verify the whole ledger now (it reads every entry: asked for, not on every view).
    #[serde(default)]
    verify: String,
    /// Go to this entry.
    #[serde(default)]
    seq: String,
}

struct EntryRow {
    seq: u64,
    at: String,
    actor: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    signed_in: Option<SignedIn>,
    size: u64,
    vkey: Option<String>,
    checkpoints: Vec<(u64, String)>,
    newest_note: Option<String>,
    entries: Vec<EntryRow>,
    verified: Option<Result<String, String>>,
}

pub(super) async fn overview(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Query(q): Query<LedgerQuery>) -> Response {
    if let Some(seq) = given(&q.seq) {
        return match seq.trim_start_matches('#').parse::<u64>() {
            Ok(n) => Redirect::to(&format!("/ledger/{n}")).into_response(),
            Err(_) => failure(ApiError::bad_request(format!("entry {seq:?}: expected a number"))),
        };
    }
    let app = state.app_for(&p);
    let verify = q.verify == "true";
    let read_all = read(move || {
        let (size, checkpoints) = app.ledger_checkpoints(CHECKPOINTS)?;
        let vkey = app.ledger_verifier().ok().map(|v| v.to_vkey());
        let entries = app.recent_ledger_entries(RECENT)?;
        let verified = if verify {
            Some(match app.verify_ledger(None, &[])? {
                Ok(v) => Ok(format!(
                    "all {} entries verify against {} signed checkpoint(s); the newest covers {}",
                    v.entries, v.checkpoints, v.last_checkpoint
                )),
                Err(t) => Err(t.to_string()),
            })
        } else {
            None
        };
        Ok((size, checkpoints, vkey, entries, verified))
    })
    .await;
    let (size, checkpoints, vkey, entries, verified) = match read_all {
        Ok(x) => x,
        Err(r) => return r,
    };
    let at =
        |secs: i64| chrono::DateTime::from_timestamp(secs, 0).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default();
    let t = LedgerPage {
        signed_in: Some(SignedIn::of(&p)),
        size,
        vkey,
        newest_note: checkpoints.first().map(|c| c.note.clone()),
        checkpoints: checkpoints.iter().map(|c| (c.size, at(c.created_at))).collect(),
        entries: entries.into_iter().map(|e| EntryRow { seq: e.seq, at: at(e.recorded_at), actor: e.actor, kind: e.kind }).collect(),
        verified,
    };
    render(StatusCode::OK, &t)
}

#[derive(Template)]
#[template(path = "ledger_entry.html")]
struct EntryPage {
    signed_in: Option<SignedIn>,
    proof: annexa_app::ledger::EntryProof,
    body: String,
    bundle: String,
}

pub(super) async fn entry(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Path(seq): Path<u64>) -> Response {
    let app = state.app_for(&p);
    let proof = match read(move || Ok(app.entry_proof(seq)?)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    // The entry's body is canonical JSON text inside the stored value: shown parsed.
    let body = match &proof.body {
        serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s).map(|v| pretty(&v)).unwrap_or_else(|_| s.clone()),
        other => pretty(other),
    };
    let bundle = proof.bundle.as_ref().map(pretty).unwrap_or_default();
    render(StatusCode::OK, &EntryPage { signed_in: Some(SignedIn::of(&p)), body, bundle, proof })
}
