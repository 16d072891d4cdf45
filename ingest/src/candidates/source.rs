//! Where a candidate list comes from, and watching it for changes.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::file::{digest, parse};
use super::{CandidatesError, LoadedList};

/// How long one HTTP fetch may take, so a stuck server cannot stall a watcher.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// A candidate file is small; anything bigger is a wrong URL, not a list.
const MAX_HTTP_BYTES: usize = 16 << 20;

/// A candidate file on disk or behind a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateSource {
    File(PathBuf),
    Url(url::Url),
}

impl FromStr for CandidateSource {
    type Err = url::ParseError;

    /// `http://…` and `https://…` are URLs; anything else is a file path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            url::Url::parse(s).map(Self::Url)
        } else {
            Ok(Self::File(PathBuf::from(s)))
        }
    }
}

impl fmt::Display for CandidateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            // A list URL may carry a token: shown (in logs, errors and records) redacted.
            Self::Url(url) => write!(f, "{}", redact::redact(url)),
        }
    }
}

/// Read and validate the list once.
pub async fn load(
    source: &CandidateSource,
    ss58_prefix: u16,
) -> Result<LoadedList, CandidatesError> {
    let bytes = read(source, &client(source)?).await?;
    parse(&bytes, ss58_prefix)
}

/// Why reading `source` failed, safe to show: reqwest's errors quote the URL in full.
fn reason(source: &CandidateSource, reason: impl fmt::Display) -> String {
    match source {
        CandidateSource::Url(url) => redact::scrub(&reason.to_string(), url),
        CandidateSource::File(_) => reason.to_string(),
    }
}

fn read_error(source: &CandidateSource, why: impl fmt::Display) -> CandidatesError {
    CandidatesError::Read { source_name: source.to_string(), reason: reason(source, why) }
}

/// An HTTP client with our timeout, built only for URL sources.
pub(crate) fn client(source: &CandidateSource) -> Result<Option<reqwest::Client>, CandidatesError> {
    match source {
        CandidateSource::File(_) => Ok(None),
        CandidateSource::Url(_) => reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map(Some)
            .map_err(|e| read_error(source, e)),
    }
}

/// The raw bytes of the source.
async fn read(
    source: &CandidateSource,
    client: &Option<reqwest::Client>,
) -> Result<Vec<u8>, CandidatesError> {
    fetch(source, client).await.map_err(|reason| CandidatesError::Read { source_name: source.to_string(), reason })
}

/// The raw bytes of a file or URL (at most 16 MiB); the error says why, the URL's secrets left out.
pub(crate) async fn fetch(source: &CandidateSource, client: &Option<reqwest::Client>) -> Result<Vec<u8>, String> {
    match (source, client) {
        (CandidateSource::File(path), _) => tokio::fs::read(path).await.map_err(|e| reason(source, e)),
        (CandidateSource::Url(url), Some(client)) => {
            let mut response = client.get(url.clone()).send().await.map_err(|e| reason(source, e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("HTTP status {status}"));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| reason(source, e))? {
                if body.len() + chunk.len() > MAX_HTTP_BYTES {
                    return Err(format!("response larger than {MAX_HTTP_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        }
        (CandidateSource::Url(_), None) => Err("no HTTP client".into()),
    }
}

/// Watches a source: yields a new list each time its content changes (by
/// digest of the raw bytes). A broken version (unreadable, invalid) is logged
/// and counted, and the last good list stays in force: nothing is lost,
/// nothing half-applied.
pub struct CandidateWatcher {
    source: CandidateSource,
    ss58_prefix: u16,
    poll: Duration,
    /// `None` until first used; rebuilt if building it failed.
    client: Option<reqwest::Client>,
    polled: bool,
    /// Digest of the last list handed out.
    good: Option<String>,
    /// Digest of the last invalid content, reported once rather than every poll.
    bad: Option<String>,
    errors: u64,
}

impl CandidateWatcher {
    pub fn new(source: CandidateSource, ss58_prefix: u16, poll: Duration) -> Self {
        Self {
            source,
            ss58_prefix,
            poll,
            client: None,
            polled: false,
            good: None,
            bad: None,
            errors: 0,
        }
    }

    /// Wait for the next changed, valid list (the first call returns the first
    /// valid list). Errors are logged and counted in [`Self::errors`]; they
    /// never end the loop. Cancel-safe: state changes only between awaits.
    pub async fn next_change(&mut self) -> LoadedList {
        loop {
            if self.polled {
                tokio::time::sleep(self.poll).await;
            }
            match self.poll_once().await {
                Ok(Some(list)) => return list,
                Ok(None) => {}
                Err(e) => {
                    self.errors += 1;
                    tracing::warn!(error = %e, source = %self.source, "candidate list not updated; the last good list stays");
                }
            }
        }
    }

    /// Broken versions seen so far (read failures count once per poll,
    /// invalid content once per distinct version).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// One look at the source: a new valid list, nothing new, or an error.
    async fn poll_once(&mut self) -> Result<Option<LoadedList>, CandidatesError> {
        if self.client.is_none() {
            self.client = client(&self.source)?;
        }
        let bytes = read(&self.source, &self.client).await;
        self.polled = true;
        let bytes = bytes?;
        let digest = digest(&bytes);
        if self.good.as_ref() == Some(&digest) || self.bad.as_ref() == Some(&digest) {
            return Ok(None);
        }
        match parse(&bytes, self.ss58_prefix) {
            Ok(list) => {
                self.good = Some(digest);
                self.bad = None;
                Ok(Some(list))
            }
            Err(e) => {
                self.bad = Some(digest);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const ALICE_0: &str = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
    const BOB_0: &str = "14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3";
    const WAIT: Duration = Duration::from_secs(10);

    fn file(names: &[&str]) -> String {
        let stashes = [ALICE_0, BOB_0];
        let items: Vec<String> = names
            .iter()
            .zip(stashes)
            .enumerate()
            .map(|(i, (name, stash))| {
                format!(r#"{{"slotId": {i}, "name": "{name}", "stash": "{stash}", "kyc": true}}"#)
            })
            .collect();
        format!("{{\"candidates\": [\n{}\n]}}", items.join(",\n"))
    }

    /// Replace the file in one step, as a careful operator (or a volume sync) would.
    fn write(path: &std::path::Path, text: &str) {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }

    fn names(list: &LoadedList) -> Vec<&str> {
        list.candidates.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn source_from_str() {
        assert!(matches!(
            "https://example.org/c.json".parse(),
            Ok(CandidateSource::Url(_))
        ));
        assert!(matches!(
            "HTTP://example.org/c.json".parse(),
            Ok(CandidateSource::Url(_))
        ));
        assert_eq!(
            "candidates/polkadot.json".parse(),
            Ok(CandidateSource::File("candidates/polkadot.json".into()))
        );
        assert!("http://".parse::<CandidateSource>().is_err());
        assert_eq!("é".parse(), Ok(CandidateSource::File("é".into())));
    }

    #[tokio::test]
    async fn load_file_and_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("polkadot.json");
        write(&path, &file(&["alice", "bob"]));
        let list = load(&CandidateSource::File(path.clone()), 0)
            .await
            .expect("load");
        assert_eq!(names(&list), ["alice", "bob"]);
        let missing = CandidateSource::File(dir.path().join("nope.json"));
        match load(&missing, 0).await {
            Err(CandidatesError::Read { source_name, .. }) => {
                assert!(source_name.ends_with("nope.json"))
            }
            other => panic!("expected Read, got {other:?}"),
        }
    }

    /// A one-shot HTTP server answering every connection with `status` and `body`.
    async fn serve(status: &'static str, body: String) -> url::Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        url::Url::parse(&format!("http://{addr}/candidates.json")).expect("url")
    }

    #[tokio::test]
    async fn a_token_in_the_list_url_is_never_shown() {
        let url: url::Url = "http://127.0.0.1:9/lists/tok3n-abcdef/candidates.json?key=s3cr3tkey".parse().unwrap();
        let source = CandidateSource::Url(url);
        let err = load(&source, 0).await.expect_err("nothing listens on port 9").to_string();
        let shown = format!("{source} {err}");
        for secret in ["tok3n-abcdef", "s3cr3tkey"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }

    #[tokio::test]
    async fn load_url_and_http_error() {
        let ok = serve("200 OK", file(&["alice"])).await;
        let list = load(&CandidateSource::Url(ok), 0).await.expect("load");
        assert_eq!(names(&list), ["alice"]);
        let missing = serve("404 Not Found", String::new()).await;
        match load(&CandidateSource::Url(missing), 0).await {
            Err(CandidatesError::Read { reason, .. }) => {
                assert!(reason.contains("404"), "{reason}")
            }
            other => panic!("expected Read, got {other:?}"),
        }
    }

    /// Assert that no list comes for a while (absence can only be shown by waiting).
    async fn quiet(watcher: &mut CandidateWatcher, ms: u64) {
        let got = tokio::time::timeout(Duration::from_millis(ms), watcher.next_change()).await;
        assert!(got.is_err(), "unexpected list {got:?}");
    }

    /// Let the watcher poll (yielding nothing) until it has counted at least `n` errors.
    async fn until_errors(watcher: &mut CandidateWatcher, n: u64) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while watcher.errors() < n && tokio::time::Instant::now() < deadline {
            quiet(watcher, 20).await;
        }
        assert!(
            watcher.errors() >= n,
            "{} errors, expected {n}",
            watcher.errors()
        );
    }

    #[tokio::test]
    async fn watcher_follows_changes_and_keeps_last_good() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("polkadot.json");
        write(&path, &file(&["alice"]));
        let mut watcher = CandidateWatcher::new(
            CandidateSource::File(path.clone()),
            0,
            Duration::from_millis(10),
        );

        let first = tokio::time::timeout(WAIT, watcher.next_change())
            .await
            .expect("first list");
        assert_eq!(names(&first), ["alice"]);

        // Unchanged, even if rewritten with the same bytes: nothing comes.
        write(&path, &file(&["alice"]));
        quiet(&mut watcher, 150).await;

        write(&path, &file(&["alice", "bob"]));
        let second = tokio::time::timeout(WAIT, watcher.next_change())
            .await
            .expect("changed list");
        assert_eq!(names(&second), ["alice", "bob"]);
        assert_ne!(second.digest, first.digest);
        assert_eq!(watcher.errors(), 0);

        // A broken version is reported once (not every poll) and skipped.
        write(&path, &file(&["alice", "alice"]));
        until_errors(&mut watcher, 1).await;
        quiet(&mut watcher, 150).await;
        assert_eq!(watcher.errors(), 1);
        write(&path, "{\"candidates\": [");
        until_errors(&mut watcher, 2).await;
        quiet(&mut watcher, 100).await;
        assert_eq!(watcher.errors(), 2);

        // Going back to the list in force is no change.
        write(&path, &file(&["alice", "bob"]));
        quiet(&mut watcher, 150).await;

        // A vanished file counts as an error too, then a fixed file is picked up.
        std::fs::remove_file(&path).expect("remove");
        until_errors(&mut watcher, 3).await;
        write(&path, &file(&["bob"]));
        let fixed = tokio::time::timeout(WAIT, watcher.next_change())
            .await
            .expect("fixed list");
        assert_eq!(names(&fixed), ["bob"]);
    }

    #[tokio::test]
    async fn watcher_waits_for_a_first_valid_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("polkadot.json");
        write(&path, "not json");
        let mut watcher = CandidateWatcher::new(
            CandidateSource::File(path.clone()),
            0,
            Duration::from_millis(10),
        );
        until_errors(&mut watcher, 1).await;
        write(&path, &file(&[]));
        let list = tokio::time::timeout(WAIT, watcher.next_change())
            .await
            .expect("first valid list");
        assert!(list.candidates.is_empty());
    }
}
