//! RPC endpoints, schema registries and candidate-list URLs often carry an
//! API key (in the user info, the path or the query): they are shown
//! everywhere (logs, errors, records, `/ready`) as scheme, host and port only.

use url::Url;

/// An endpoint as it may be shown: `wss://host:port`, with `/…` where a path
/// or query was left out; credentials never.
pub fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    if (url.path() != "/" && !url.path().is_empty()) || url.query().is_some() {
        shown.push_str("/…");
    }
    shown
}

/// `text` (an error from the RPC client, say) with the endpoint and its secrets replaced.
pub fn scrub(text: &str, url: &Url) -> String {
    let mut out = text.replace(url.as_str(), &redact(url)).replace(url.as_str().trim_end_matches('/'), &redact(url));
    let mut secrets: Vec<&str> = vec![url.username()];
    secrets.extend(url.password());
    secrets.extend(url.query());
    if url.path().len() > 1 {
        secrets.push(url.path());
    }
    for s in secrets.into_iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_user_info_path_and_query_are_never_shown() {
        let url: Url = "wss://user:s3cretpass@rpc.example.com:443/v1/k3y-abcdef?apikey=qwerty123".parse().unwrap();
        let shown = redact(&url);
        assert_eq!(shown, "wss://rpc.example.com/…");
        let err = format!("connection to {url} failed: 401 for path /v1/k3y-abcdef (apikey=qwerty123), user user");
        let scrubbed = scrub(&err, &url);
        for secret in ["s3cretpass", "k3y-abcdef", "qwerty123"] {
            assert!(!scrubbed.contains(secret), "{secret} in {scrubbed}");
        }
        assert_eq!(redact(&"ws://127.0.0.1:9944".parse().unwrap()), "ws://127.0.0.1:9944");
    }
}
