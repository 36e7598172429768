//! The pages' side of OIDC sign-in ([`crate::oidc`]): `/sign-in/oidc` sends the browser to
//! the provider with a fresh flow; `/sign-in/oidc/callback` finishes it and starts a session
//! like a password sign-in does.

use super::*;
use crate::oidc::{Flow, Provider, FLOW_COOKIE, FLOW_SECONDS};
use axum::extract::Query;

fn redirect_uri(state: &AppState) -> String {
    format!("{}/sign-in/oidc/callback", state.config.public_url)
}

fn secure(state: &AppState) -> &'static str {
    if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// The provider, read once and kept.
async fn provider(state: &Arc<AppState>) -> Result<Provider, ApiError> {
    if let Some(p) = state.oidc_provider.lock().ok().and_then(|p| p.clone()) {
        return Ok(p);
    }
    let Some(config) = state.config.oidc.clone() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured"));
    };
    let p = blocking(move || Provider::discover(&config)).await?;
    if let Ok(mut kept) = state.oidc_provider.lock() {
        *kept = Some(p.clone());
    }
    Ok(p)
}

pub(super) async fn start(State(state): State<Arc<AppState>>) -> Response {
    let Some(config) = state.config.oidc.clone() else {
        return failure(ApiError::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured"));
    };
    let p = match provider(&state).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    let flow = match Flow::new() {
        Ok(f) => f,
        Err(e) => return failure(e),
    };
    let mut r = Redirect::to(&p.authorize_url(&config, &redirect_uri(&state), &flow)).into_response();
    // Lax, not Strict: the provider sends the browser back by a top-level navigation from
    // its own site, which must carry this cookie. Only the callback's path sees it.
    let cookie = format!(
        "{FLOW_COOKIE}={}; Path=/sign-in/oidc; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}{}",
        flow.cookie_value(),
        secure(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn flow_cookie(headers: &HeaderMap) -> Option<Flow> {
    crate::api::session::cookie(headers, FLOW_COOKIE).and_then(|v| Flow::from_cookie(&v))
}

pub(super) async fn callback(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<Callback>) -> Response {
    let again = |status, message: String| {
        render(status, &SignInPage { signed_in: None, username: String::new(), error: Some(message), oidc: state.config.oidc.is_some() })
    };
    let Some(config) = state.config.oidc.clone() else {
        return failure(ApiError::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured"));
    };
    if let Some(e) = q.error {
        let detail: String = q.error_description.unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect();
        return again(
            StatusCode::UNAUTHORIZED,
            format!("the identity provider did not sign you in ({e}{}{detail})", if detail.is_empty() { "" } else { ": " }),
        );
    }
    let (Some(code), Some(sent_state)) = (q.code, q.state) else {
        return again(StatusCode::BAD_REQUEST, "the identity provider sent no code: start again".into());
    };
    let Some(flow) = flow_cookie(&headers) else {
        return again(StatusCode::BAD_REQUEST, "this sign-in was not started here, or took too long: start again".into());
    };
    if !annexa_app::tokens::same_secret(&sent_state, &flow.state) {
        return again(StatusCode::BAD_REQUEST, "this sign-in's state does not match: start again".into());
    }
    let mut p = match provider(&state).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    let uri = redirect_uri(&state);
    let finished = blocking(move || {
        let username = p.finish(&config, &uri, &flow, &code)?;
        Ok((username, p))
    })
    .await;
    let (username, refreshed) = match finished {
        Ok(x) => x,
        Err(e) if e.status.is_client_error() => return again(e.status, e.message),
        Err(e) => return failure(e),
    };
    if let Ok(mut kept) = state.oidc_provider.lock() {
        *kept = Some(refreshed);
    }
    let app = annexa_app::App::new(state.settings.clone(), "server").with_pool(state.store.clone());
    let name = username.clone();
    let signed = match blocking(move || Ok(app.sign_in_federated(&name)?)).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return again(
                StatusCode::FORBIDDEN,
                format!("the identity provider vouched for {username}, but Annexa has no such user: an admin adds one with `annexa user add {username} --role ROLE --oidc`"),
            )
        }
        Err(e) => return failure(e),
    };
    let cookie = match crate::api::session::session_cookie(&state, &signed) {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    tracing::info!(user = %signed.user.username, "signed in through the identity provider");
    // A page of our own that moves on to the dashboard: the browser came here from the
    // provider's site, and a redirect would carry that, so the SameSite=Strict session
    // cookie would not go with the next request.
    let mut r = page(
        StatusCode::OK,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=/\"><title>Signed in · Annexa</title>\
         <link rel=\"stylesheet\" href=\"/assets/annexa.css\"></head><body><main><p>Signed in. <a href=\"/\">Continue</a>.</p></main></body></html>"
            .into(),
    );
    r.headers_mut().append(header::SET_COOKIE, cookie);
    if let Ok(clear) =
        HeaderValue::from_str(&format!("{FLOW_COOKIE}=; Path=/sign-in/oidc; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&state)))
    {
        r.headers_mut().append(header::SET_COOKIE, clear);
    }
    r
}
