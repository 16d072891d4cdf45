//! Who may report to `/submit`: anyone who reaches the port could otherwise
//! make a candidate look online. A node is admitted with a per-operator
//! token in the URL path (`ws://<host>/submit/<token>`: substrate accepts a
//! telemetry URL with a path), or from an address on the allowlist; with
//! neither configured, only from this machine (loopback). Pure.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// Why a reporter was refused (never quoting its token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not the `/submit` path.
    #[error("not a /submit path")]
    Path,
    /// A token that is not configured, or none where one is needed.
    #[error("no valid token in the path, and {0} is not on the allowlist")]
    Unauthorised(IpAddr),
}

/// The access settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Valid tokens (from `telemetry.submit_tokens_file`).
    pub tokens: BTreeSet<String>,
    /// Addresses admitted without a token (`telemetry.submit_allow`).
    pub allow: BTreeSet<IpAddr>,
}

impl Access {
    /// Whether a reporter from `peer` asking for `path` is admitted.
    pub fn admit(&self, path: &str, peer: IpAddr) -> Result<(), Refused> {
        let rest = path.strip_prefix("/submit").ok_or(Refused::Path)?;
        let token = match rest {
            "" | "/" => None,
            t if t.starts_with('/') => Some(t.trim_start_matches('/').trim_end_matches('/')),
            _ => return Err(Refused::Path),
        };
        if token.is_some_and(|t| self.tokens.contains(t)) || self.allow.contains(&peer) {
            return Ok(());
        }
        if self.tokens.is_empty() && self.allow.is_empty() && peer.is_loopback() {
            return Ok(());
        }
        Err(Refused::Unauthorised(peer))
    }

    /// Tokens from a file: one per line, `#` comments and blank lines ignored.
    pub fn tokens_from(text: &str) -> BTreeSet<String> {
        text.lines().map(|l| l.split('#').next().unwrap_or_default().trim()).filter(|l| !l.is_empty()).map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_token_or_an_allowed_address_admits_and_nothing_else_does() {
        let open = Access::default();
        assert_eq!(open.admit("/submit", ip("127.0.0.1")), Ok(()), "unconfigured: this machine only");
        assert!(open.admit("/submit", ip("203.0.113.9")).is_err());
        let cfg = Access { tokens: Access::tokens_from("# operators\nt0k3n-a\n\n t0k3n-b # second\n"), allow: BTreeSet::from([ip("10.0.0.7")]) };
        assert_eq!(cfg.tokens.len(), 2);
        assert_eq!(cfg.admit("/submit/t0k3n-b", ip("203.0.113.9")), Ok(()));
        assert_eq!(cfg.admit("/submit/t0k3n-a/", ip("203.0.113.9")), Ok(()));
        assert_eq!(cfg.admit("/submit", ip("10.0.0.7")), Ok(()), "allowlisted");
        let refused = cfg.admit("/submit/guess", ip("203.0.113.9")).unwrap_err();
        assert!(!refused.to_string().contains("guess"), "a token is never quoted: {refused}");
        assert_eq!(cfg.admit("/submit", ip("127.0.0.1")), Err(Refused::Unauthorised(ip("127.0.0.1"))), "configured: loopback is not special");
        assert_eq!(cfg.admit("/submitx", ip("10.0.0.7")), Err(Refused::Path));
        assert_eq!(cfg.admit("/other", ip("10.0.0.7")), Err(Refused::Path));
    }
}
