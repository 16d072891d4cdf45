//! The newest client release onto the bus (1KV's release monitor): a
//! releases source in GitHub's release format (the API's
//! `/repos/<owner>/<repo>/releases`, or a file of the same JSON) is polled;
//! the newest published, non-draft, non-prerelease release whose tag matches
//! the programme's tag format goes to `stakeflow.programme.releases` under
//! the network's key when it differs from the newest there (restarts
//! included). The scorer judges each round with the release seen by then,
//! and the API answers `/1kv/release` from the same records.

use std::time::Duration;

use bus::{BusConfig, Publisher};
use regex::Regex;
use schemas::{Release, topics};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::IngestError;
use crate::candidates::CandidateSource;

/// One release as GitHub's API lists it (the fields read).
#[derive(Debug, Deserialize)]
struct GithubRelease {
    tag_name: String,
    published_at: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
}

/// The release found in a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub tag: String,
    /// The tag format's first group (the whole match without one).
    pub version: String,
    pub published_at_ms: i64,
}

/// Why a releases source could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReleasesError {
    #[error("cannot read releases from {source_name}: {reason}")]
    Read { source_name: String, reason: String },
    #[error("releases from {source_name} are not GitHub's release list: {reason}")]
    Format { source_name: String, reason: String },
}

/// The newest release in a GitHub release list that `tag_format` accepts;
/// drafts, prereleases, unpublished ones and unreadable dates are passed over.
pub fn newest(json: &[u8], tag_format: &Regex) -> Result<Option<Found>, String> {
    let all: Vec<GithubRelease> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let found = all
        .into_iter()
        .filter(|r| !r.draft && !r.prerelease)
        .filter_map(|r| {
            let caps = tag_format.captures(&r.tag_name)?;
            let version = caps.get(1).or_else(|| caps.get(0))?.as_str().to_string();
            let published = humantime::parse_rfc3339_weak(r.published_at.as_deref()?).ok()?;
            let published_at_ms = published.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
            Some(Found { tag: r.tag_name, version, published_at_ms })
        })
        .max_by(|a, b| a.published_at_ms.cmp(&b.published_at_ms).then_with(|| a.tag.cmp(&b.tag)));
    Ok(found)
}

/// Read `source` once and find its newest release.
pub async fn read(source: &CandidateSource, client: &Option<reqwest::Client>, tag_format: &Regex) -> Result<Option<Found>, ReleasesError> {
    let source_name = source.to_string();
    let bytes = crate::candidates::fetch(source, client).await.map_err(|reason| ReleasesError::Read { source_name: source_name.clone(), reason })?;
    newest(&bytes, tag_format).map_err(|reason| ReleasesError::Format { source_name, reason })
}

/// Poll `source` every `poll` and publish each new newest release until `shutdown`.
/// A source that cannot be read or parsed is logged and tried again; the last
/// release published stays in force.
pub async fn publish_releases(
    bus: BusConfig,
    network: String,
    source: CandidateSource,
    poll: Duration,
    tag_format: Regex,
    shutdown: CancellationToken,
) -> Result<(), IngestError> {
    let publisher = Publisher::new(&bus)?;
    let client = crate::candidates::client(&source).map_err(|e| IngestError::Inconsistent { network: network.clone(), detail: e.to_string() })?;
    let mut published: Option<String> = None;
    loop {
        match read(&source, &client, &tag_format).await {
            Ok(Some(found)) if published.as_ref() != Some(&found.tag) => {
                let partition = publisher.partition_for(topics::RELEASES, network.as_bytes()).await?;
                let latest = bus::consumer::last_with_key(&bus, topics::RELEASES, partition, network.as_bytes()).await?;
                let on_topic = latest.and_then(|r| r.payload).and_then(|p| Release::decode(&p).ok()).map(|r| r.tag);
                if on_topic.as_ref() != Some(&found.tag) {
                    let now = schemas::clock::now_ms();
                    let record = Release {
                        network: network.clone(),
                        tag: found.tag.clone(),
                        version: found.version.clone(),
                        published_at_ms: found.published_at_ms,
                        observed_at_ms: now,
                    };
                    publisher.publish(topics::RELEASES, network.as_bytes(), &record.encode()?).await?;
                    tracing::info!(%network, tag = %found.tag, version = %found.version, "client release published");
                }
                published = Some(found.tag);
            }
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!(%network, source = %source, "no release in the source matches the tag format"),
            Err(e) => tracing::warn!(%network, error = %e, "releases not read; the last release stays in force"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format() -> Regex {
        Regex::new(r"^polkadot-v(\d+\.\d+\.\d+)$").unwrap()
    }

    #[test]
    fn the_newest_published_release_of_the_tag_format_is_found() {
        let json = br#"[
            {"tag_name": "polkadot-v1.17.0", "published_at": null, "draft": true, "prerelease": false},
            {"tag_name": "polkadot-v1.16.1", "published_at": "2024-10-01T10:00:00Z", "draft": false, "prerelease": true},
            {"tag_name": "polkadot-stable2409", "published_at": "2024-09-30T10:00:00Z", "draft": false, "prerelease": false},
            {"tag_name": "polkadot-v1.16.0", "published_at": "2024-09-26T13:23:45Z", "draft": false, "prerelease": false},
            {"tag_name": "polkadot-v1.15.2", "published_at": "2024-08-20T09:00:00Z"}
        ]"#;
        let found = newest(json, &format()).unwrap().unwrap();
        assert_eq!((found.tag.as_str(), found.version.as_str()), ("polkadot-v1.16.0", "1.16.0"));
        assert_eq!(found.published_at_ms, 1_727_357_025_000);
        let stable = Regex::new(r"^polkadot-stable\d{4}$").unwrap();
        assert_eq!(newest(json, &stable).unwrap().unwrap().version, "polkadot-stable2409", "no group: the whole tag");
        assert_eq!(newest(b"[]", &format()).unwrap(), None);
        assert!(newest(b"{\"message\": \"API rate limit exceeded\"}", &format()).is_err(), "an error answer is not a list");
    }

    #[tokio::test]
    async fn an_unreadable_source_says_which_without_its_secrets() {
        let source: CandidateSource = "http://127.0.0.1:9/repos/x/releases?access_token=s3cr3t".parse().unwrap();
        let client = crate::candidates::client(&source).unwrap();
        let err = read(&source, &client, &format()).await.unwrap_err().to_string();
        assert!(err.contains("127.0.0.1:9") && !err.contains("s3cr3t"), "{err}");
    }
}
