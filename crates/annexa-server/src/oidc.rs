//! Sign-in through the organisation's OpenID Connect provider: the authorization code flow
//! with PKCE (S256) and a nonce, the ID token's signature checked against the provider's
//! published keys (RS256 or ES256) with its issuer, audience, expiry and nonce, and the
//! person matched to an Annexa user by one claim (`email` by default; a user made with
//! `annexa user add NAME --oidc` has no password at all).
//!
//! The flow's secrets (state, nonce, PKCE verifier) ride in a short-lived HttpOnly cookie
//! of their own (SameSite=Lax, since the provider sends the browser back with a top-level
//! navigation), so any instance can finish a sign-in another started. The provider's
//! metadata and keys are fetched when first needed and kept; an unknown key id fetches the
//! keys again once (the provider rotated them).

use crate::api::ApiError;
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The name of the cookie that carries a sign-in under way.
pub const FLOW_COOKIE: &str = "annexa_oidc";
/// How long a sign-in at the provider may take.
pub const FLOW_SECONDS: i64 = 600;
/// Clock skew allowed on the ID token's times.
const SKEW_SECONDS: i64 = 120;

/// How Annexa is registered with the provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `https://login.example.com` (http only on loopback).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The claim that is the Annexa username.
    pub username_claim: String,
    /// Time allowed for each request to the provider.
    pub timeout: Duration,
}

impl OidcConfig {
    /// Refuses an issuer that is not https, unless it is on this machine.
    pub fn check(&self) -> Result<(), String> {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| self.issuer.starts_with(p));
        if !self.issuer.starts_with("https://") && !loopback {
            return Err(format!("--oidc-issuer {}: must be https:// (http only on loopback)", self.issuer));
        }
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err("the OIDC client id and secret must not be empty".into());
        }
        Ok(())
    }
}

/// What the provider publishes about itself, and its keys.
#[derive(Debug, Clone)]
pub struct Provider {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    jwks_uri: String,
    keys: Vec<Jwk>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// A sign-in under way: what the callback must see again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

fn random(bytes: usize) -> Result<String, ApiError> {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).map_err(|e| ApiError::internal(&format!("no randomness: {e}")))?;
    Ok(B64URL.encode(b))
}

impl Flow {
    pub fn new() -> Result<Flow, ApiError> {
        Ok(Flow { state: random(24)?, nonce: random(24)?, verifier: random(32)? })
    }

    /// The cookie's value: three base64url words.
    pub fn cookie_value(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    pub fn from_cookie(value: &str) -> Option<Flow> {
        let mut parts = value.split('.');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        let word = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (parts.next().is_none() && word(state) && word(nonce) && word(verifier)).then(|| Flow {
            state: state.into(),
            nonce: nonce.into(),
            verifier: verifier.into(),
        })
    }

    /// The PKCE challenge: BASE64URL(SHA-256(verifier)).
    pub fn challenge(&self) -> String {
        B64URL.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

fn provider_error(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "OIDC: {what}");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        format!("the identity provider could not be used ({what}); try again or sign in with a password"),
    )
}

fn agent(config: &OidcConfig) -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(config.timeout).redirects(0).build()
}

fn get_json(config: &OidcConfig, url: &str) -> Result<serde_json::Value, ApiError> {
    let reply = agent(config).get(url).call().map_err(|e| provider_error(url, e))?;
    reply.into_json().map_err(|e| provider_error(url, e))
}

impl Provider {
    /// Reads the provider's metadata and keys (blocking: call on the blocking pool).
    pub fn discover(config: &OidcConfig) -> Result<Provider, ApiError> {
        let url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
        let meta = get_json(config, &url)?;
        let field = |k: &str| meta[k].as_str().map(String::from).ok_or_else(|| provider_error("its metadata", format!("no {k}")));
        if field("issuer")? != config.issuer {
            return Err(provider_error("its metadata", format!("issuer {:?} is not {:?}", meta["issuer"], config.issuer)));
        }
        let mut p = Provider {
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
            keys: Vec::new(),
        };
        p.refresh_keys(config)?;
        Ok(p)
    }

    fn refresh_keys(&mut self, config: &OidcConfig) -> Result<(), ApiError> {
        let set = get_json(config, &self.jwks_uri)?;
        self.keys = serde_json::from_value(set["keys"].clone()).map_err(|e| provider_error("its keys", e))?;
        Ok(())
    }

    /// Where to send the browser.
    pub fn authorize_url(&self, config: &OidcConfig, redirect_uri: &str, flow: &Flow) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &flow.challenge())
            .append_pair("code_challenge_method", "S256")
            .finish();
        let sep = if self.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{sep}{query}", self.authorization_endpoint)
    }

    /// Trades the code for an ID token and returns the username it vouches for (blocking).
    pub fn finish(&mut self, config: &OidcConfig, redirect_uri: &str, flow: &Flow, code: &str) -> Result<String, ApiError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_urlencoded::byte_serialize(config.client_id.as_bytes()).collect::<String>(),
            form_urlencoded::byte_serialize(config.client_secret.as_bytes()).collect::<String>()
        ));
        let reply = agent(config).post(&self.token_endpoint).set("Authorization", &format!("Basic {basic}")).send_form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &config.client_id),
            ("code_verifier", &flow.verifier),
        ]);
        let tokens: serde_json::Value = match reply {
            Ok(r) => r.into_json().map_err(|e| provider_error("its token answer", e))?,
            Err(ureq::Error::Status(status, r)) => {
                let why = r.into_string().unwrap_or_default();
                tracing::warn!(status, answer = %why.chars().take(300).collect::<String>(), "OIDC: the token endpoint refused the code");
                return Err(refused("the identity provider refused the sign-in: start again"));
            }
            Err(e) => return Err(provider_error("its token endpoint", e)),
        };
        let id_token = tokens["id_token"].as_str().ok_or_else(|| refused("the identity provider sent no ID token"))?;
        let claims = self.verified_claims(config, id_token)?;
        check_claims(config, &claims, &flow.nonce, chrono::Utc::now().timestamp())?;
        let username = claims[&config.username_claim]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| refused(&format!("the ID token has no {} claim to match a user by", config.username_claim)))?;
        if config.username_claim == "email" && claims["email_verified"] == serde_json::Value::Bool(false) {
            return Err(refused("the identity provider has not verified this e-mail address"));
        }
        Ok(username.to_string())
    }

    /// The token's claims, once its signature verifies with one of the provider's keys.
    fn verified_claims(&mut self, config: &OidcConfig, jwt: &str) -> Result<serde_json::Value, ApiError> {
        let bad = || refused("the ID token is not a valid signed token from the identity provider");
        let mut parts = jwt.split('.');
        let (h, p, sig) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        let decode = |s: &str| B64URL.decode(s).map_err(|_| bad());
        let header: serde_json::Value = serde_json::from_slice(&decode(h)?).map_err(|_| bad())?;
        let alg = header["alg"].as_str().unwrap_or_default().to_string();
        let kid = header["kid"].as_str().map(String::from);
        let signature = decode(sig)?;
        let message = format!("{h}.{p}");
        let mut verified = self.verify_with_keys(&alg, kid.as_deref(), message.as_bytes(), &signature);
        if verified.is_none() {
            // A key id we do not know: the provider may have rotated its keys.
            self.refresh_keys(config)?;
            verified = self.verify_with_keys(&alg, kid.as_deref(), message.as_bytes(), &signature);
        }
        if verified != Some(true) {
            return Err(bad());
        }
        serde_json::from_slice(&decode(p)?).map_err(|_| bad())
    }

    /// `None` when no key has the id; else whether the signature verified.
    fn verify_with_keys(&self, alg: &str, kid: Option<&str>, message: &[u8], signature: &[u8]) -> Option<bool> {
        let candidates: Vec<&Jwk> = self.keys.iter().filter(|k| kid.is_none() || k.kid.as_deref() == kid).collect();
        if candidates.is_empty() {
            return None;
        }
        Some(candidates.iter().any(|k| verify(alg, k, message, signature)))
    }
}

fn verify(alg: &str, key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    use ring::signature::{self, UnparsedPublicKey};
    let part = |v: &Option<String>| v.as_deref().and_then(|s| B64URL.decode(s).ok());
    match (alg, key.kty.as_str()) {
        ("RS256", "RSA") => match (part(&key.n), part(&key.e)) {
            (Some(n), Some(e)) => signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            _ => false,
        },
        ("ES256", "EC") if key.crv.as_deref() == Some("P-256") => match (part(&key.x), part(&key.y)) {
            (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, signature).is_ok()
            }
            _ => false,
        },
        // Never `none`, never a symmetric algorithm: only the provider's published keys.
        _ => false,
    }
}

fn refused(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// The checks OpenID Connect Core 3.1.3.7 asks of an ID token: issuer, audience (and the
/// authorized party when there are several), expiry, issue time, nonce.
fn check_claims(config: &OidcConfig, c: &serde_json::Value, nonce: &str, now: i64) -> Result<(), ApiError> {
    if c["iss"].as_str() != Some(config.issuer.as_str()) {
        return Err(refused("the ID token was issued by another provider"));
    }
    let audiences: Vec<&str> = match &c["aud"] {
        serde_json::Value::String(a) => vec![a.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&config.client_id.as_str()) {
        return Err(refused("the ID token is meant for another client"));
    }
    if audiences.len() > 1 && c["azp"].as_str() != Some(config.client_id.as_str()) {
        return Err(refused("the ID token's authorized party is another client"));
    }
    let exp = c["exp"].as_i64().ok_or_else(|| refused("the ID token has no expiry"))?;
    if exp + SKEW_SECONDS < now {
        return Err(refused("the ID token has expired: sign in again"));
    }
    if c["iat"].as_i64().is_some_and(|iat| iat > now + SKEW_SECONDS) {
        return Err(refused("the ID token was issued in the future: check the clocks"));
    }
    let sent = c["nonce"].as_str().unwrap_or_default();
    if !annexa_app::tokens::same_secret(sent, nonce) {
        return Err(refused("the ID token is not this sign-in's (its nonce differs)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer: "https://idp.example".into(),
            client_id: "annexa".into(),
            client_secret: "s".into(),
            username_claim: "email".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn a_flow_survives_its_cookie_and_nothing_else_passes_for_one() {
        let f = Flow::new().expect("flow");
        assert_eq!(Flow::from_cookie(&f.cookie_value()), Some(f.clone()));
        for bad in ["", "a.b", "a.b.c.d", "a.b.c;d", "a..c", &"x".repeat(300)] {
            assert_eq!(Flow::from_cookie(bad), None, "{bad:?}");
        }
        // RFC 7636 appendix B.
        let known = Flow { state: "s".into(), nonce: "n".into(), verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into() };
        assert_eq!(known.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn an_id_token_must_be_for_us_from_our_issuer_in_time_and_of_this_sign_in() {
        let now = 1_800_000_000;
        let good = serde_json::json!({"iss": "https://idp.example", "aud": "annexa", "exp": now + 60, "iat": now, "nonce": "n1"});
        assert!(check_claims(&config(), &good, "n1", now).is_ok());
        let with = |k: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        for (claims, why) in [
            (with("iss", "https://evil.example".into()), "another provider"),
            (with("aud", "other".into()), "another client"),
            (with("aud", serde_json::json!(["annexa", "other"])), "authorized party"),
            (with("exp", (now - 600).into()), "expired"),
            (with("iat", (now + 3600).into()), "future"),
            (with("nonce", "n2".into()), "nonce"),
        ] {
            let e = check_claims(&config(), &claims, "n1", now).expect_err(why);
            assert!(e.message.contains(why), "{why}: {}", e.message);
        }
        let several = with("aud", serde_json::json!(["annexa", "other"]));
        assert!(check_claims(&config(), &with_azp(several), "n1", now).is_ok());
    }

    fn with_azp(mut c: serde_json::Value) -> serde_json::Value {
        c["azp"] = "annexa".into();
        c
    }

    #[test]
    fn only_the_providers_asymmetric_keys_verify() {
        let key = Jwk { kty: "oct".into(), kid: None, n: None, e: None, crv: None, x: None, y: None };
        assert!(!verify("HS256", &key, b"m", b"s"));
        assert!(!verify("none", &key, b"m", b""));
    }
}
