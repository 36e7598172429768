//! Resource versions as ETags (RFC 7644 §3.14, RFC 9110 §8.8.3, §13.1): a resource's
//! version is a counter, sent as a weak ETag; `If-Match` and `If-None-Match` are compared
//! with the weak comparison the SCIM examples use.

/// The ETag of version `n` of a resource.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// An `If-Match` / `If-None-Match` header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EtagError(pub String);

/// The opaque tags of a header value: `*` as `None`, else the list.
fn tags(header: &str) -> Result<Option<Vec<&str>>, EtagError> {
    let header = header.trim();
    if header == "*" {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let opaque = part.strip_prefix("W/").unwrap_or(part);
        let ok = opaque.len() >= 2 && opaque.starts_with('"') && opaque.ends_with('"') && !opaque[1..opaque.len() - 1].contains('"');
        if !ok {
            return Err(EtagError(format!("{part:?} is not an entity tag (expected W/\"…\" or \"…\")")));
        }
        out.push(opaque);
    }
    if out.is_empty() {
        return Err(EtagError("the header names no entity tag".into()));
    }
    Ok(Some(out))
}

/// Whether `If-Match: header` lets a change to a resource whose ETag is `current` go ahead
/// (false: answer 412 Precondition Failed).
pub fn if_match(header: &str, current: &str) -> Result<bool, EtagError> {
    let current = current.strip_prefix("W/").unwrap_or(current);
    Ok(tags(header)?.is_none_or(|list| list.contains(&current)))
}

/// Whether `If-None-Match: header` asks for nothing because the client has `current`
/// (true: answer 304 Not Modified to a GET).
/// The comparison is the same as `If-Match`'s; only what the answer means differs.
pub fn if_none_match(header: &str, current: &str) -> Result<bool, EtagError> {
    if_match(header, current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_preconditions() {
        let current = etag(7);
        assert_eq!(current, "W/\"7\"");
        for (header, matches) in [
            ("W/\"7\"", true),
            ("\"7\"", true), // weak comparison
            ("W/\"6\"", false),
            ("W/\"6\", W/\"7\"", true),
            ("*", true),
        ] {
            assert_eq!(if_match(header, &current), Ok(matches), "{header}");
            assert_eq!(if_none_match(header, &current), Ok(matches), "{header}");
        }
        for bad in ["7", "W/7", "", " , ", "\"a\"b\""] {
            assert!(if_match(bad, &current).is_err(), "{bad:?}");
        }
    }
}
