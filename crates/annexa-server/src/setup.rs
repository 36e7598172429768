//! `/setup`: the page the one-time link of a fresh server opens, to create the first admin.
//! Plain HTML that works without JavaScript, under a Content-Security-Policy that allows
//! nothing but the page itself; every value shown is escaped.

use crate::api::session::{create_first_admin, cross_site_refused};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<AppState>> {
    axum::Router::new().route("/setup", axum::routing::get(form).post(submit))
}

/// The headers every page gets: no scripts, no framing, no sniffing, no caching, no
/// referrer to other sites.
pub fn page(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not `no-referrer`: with it a browser sends `Origin: null` on a page's own form posts,
    // which the cross-site check must refuse. `same-origin` still tells no other site.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Text made safe for HTML content and attribute values.
pub use annexa_core::text::escape_html as escape;

fn html(title: &str, content: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · Annexa</title><link rel=\"stylesheet\" href=\"/assets/annexa.css\"></head><body><main><h1>{title}</h1>{content}</main></body></html>\n"
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct Link {
    token: Option<String>,
}

async fn form(Query(link): Query<Link>) -> Response {
    page(StatusCode::OK, html("Create the first admin", &fields(link.token.as_deref().unwrap_or_default(), "", "", None)))
}

fn fields(token: &str, username: &str, employee: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<p>This server has no admin yet. The link <code>annexa serve</code> printed lets you create one, once.</p>{error}\
         <form method=\"post\" action=\"/setup\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
         <label for=\"username\">Username</label><input id=\"username\" name=\"username\" required autocomplete=\"username\" value=\"{}\">\
         <label for=\"password\">Password (at least {} characters)</label><input id=\"password\" name=\"password\" type=\"password\" required autocomplete=\"new-password\" minlength=\"{}\">\
         <label for=\"employee_id\">Your employee id in HR (optional)</label><input id=\"employee_id\" name=\"employee_id\" value=\"{}\">\
         <button type=\"submit\">Create the admin</button></form>",
        escape(token),
        escape(username),
        annexa_app::users::MIN_PASSWORD,
        annexa_app::users::MIN_PASSWORD,
        escape(employee)
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct Submitted {
    token: String,
    username: String,
    password: String,
    #[serde(default)]
    employee_id: String,
}

async fn submit(State(state): State<Arc<AppState>>, headers: HeaderMap, Form(f): Form<Submitted>) -> Response {
    if let Err(e) = cross_site_refused(&state, &headers) {
        return page(StatusCode::FORBIDDEN, html("Refused", &format!("<p class=\"error\">{}</p>", escape(&e.message))));
    }
    let (token, username, employee) = (f.token.clone(), f.username.clone(), f.employee_id.clone());
    let employee_id = Some(f.employee_id).filter(|e| !e.trim().is_empty());
    match create_first_admin(&state, f.token, f.username, f.password, employee_id).await {
        Ok(admin) => page(
            StatusCode::CREATED,
            html(
                "Admin created",
                &format!("<p>{} is the admin of this server. Sign in with that name and password.</p>", escape(&admin.username)),
            ),
        ),
        Err(e) => page(e.status, html("Create the first admin", &fields(&token, &username, &employee, Some(&e.message)))),
    }
}
