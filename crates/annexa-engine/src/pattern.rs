//! `system:entitlement` patterns with `*` wildcards, as SoD rules, roles and the
//! privileged list write them.

/// A compiled `system:name` pattern. Without a `:`, the pattern names an entitlement in
/// any system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementPattern {
    system: String,
    name: String,
    /// The name as written, for planning changes (the matching fields are lower-cased).
    original: String,
}

impl EntitlementPattern {
    pub fn new(pattern: &str) -> EntitlementPattern {
        let (system, name) = match pattern.split_once(':') {
            Some((s, n)) => (s.trim(), n.trim()),
            None => ("*", pattern.trim()),
        };
        EntitlementPattern { system: system.to_lowercase(), name: name.to_lowercase(), original: name.to_string() }
    }

    /// The entitlement's name, as written, when the pattern names exactly one entitlement
    /// of `system`.
    pub fn exact_in(&self, system: &str) -> Option<String> {
        (self.system == system.to_lowercase() && !self.name.contains('*')).then(|| self.original.clone())
    }

    pub fn matches(&self, system: &str, name: &str) -> bool {
        glob(&self.system, &system.to_lowercase()) && glob(&self.name, &name.to_lowercase())
    }
}

/// Case-sensitive glob with `*` only (callers lower-case both sides).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Case-insensitive glob over a person attribute.
pub fn matches_attribute(pattern: &str, value: &str) -> bool {
    glob(&pattern.to_lowercase(), &value.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let cases = [
            ("erp:AP-Clerk", "erp", "ap-clerk", true),
            ("erp:AP-*", "erp", "AP-Approver", true),
            ("erp:AP-*", "crm", "AP-Approver", false),
            ("Domain Admins", "corp-ad", "Domain Admins", true),
            ("*:*admin*", "github", "org-Admins", true),
            ("*:admin", "github", "admins", false),
        ];
        for (p, s, n, want) in cases {
            assert_eq!(EntitlementPattern::new(p).matches(s, n), want, "{p} vs {s}:{n}");
        }
        assert!(glob("a*b*c", "aXXbYc"));
        assert!(!glob("a*b*c", "aXXbY"));
    }
}
