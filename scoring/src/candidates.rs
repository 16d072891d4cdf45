//! The programme's candidate list, in the file format of the Thousand
//! Validators programme (1KV), so an existing 1KV `candidates/<chain>.json`
//! can be used as is. [`parse`] validates a whole file at once and reports
//! every problem with its line, so an operator can fix a file in one pass;
//! [`CandidateWatcher`] polls a file or URL and only ever hands out complete,
//! valid lists.

mod file;
mod source;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use file::{parse, ss58_decode};
pub use source::{CandidateSource, CandidateWatcher, load};

/// One validator candidate of the programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub slot_id: u32,
    pub name: String,
    /// As written in the file (SS58 with the network's prefix).
    pub stash: String,
    /// The candidate's Kusama stash (SS58, prefix 2), if given.
    pub kusama_stash: Option<String>,
    pub skip_self_stake: bool,
    pub kyc: bool,
    /// Matrix handles (`riotHandle` or `matrix` in the file).
    pub matrix: Vec<String>,
}

/// A validated candidate list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CandidateList {
    /// In file order.
    pub candidates: Vec<Candidate>,
    /// Hex hash of the source bytes, to tell a change.
    pub digest: String,
}

/// One thing wrong with one candidate of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line where that candidate's object starts; 0 if unknown.
    pub line: usize,
    /// The candidate's slotId, if it has a valid one.
    pub slot_id: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(slot_id) = self.slot_id {
            write!(f, " (slotId {slot_id})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a candidate list could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CandidatesError {
    /// The file is not JSON of the expected shape.
    #[error("malformed candidate file at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file is well-formed but some candidates are wrong; all of them are listed.
    #[error("{}", list_problems(problems))]
    Invalid { problems: Vec<Problem> },
    /// The source could not be read (IO error, HTTP failure or non-2xx status).
    #[error("cannot read candidates from {source_name}: {reason}")]
    Read { source_name: String, reason: String },
}

/// One problem per line, so a log shows the whole list to fix.
fn list_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<&schemas::CandidateEntry> for Candidate {
    fn from(c: &schemas::CandidateEntry) -> Self {
        Candidate {
            slot_id: u32::try_from(c.slot_id).unwrap_or_default(),
            name: c.name.clone(),
            stash: c.stash.clone(),
            kusama_stash: c.kusama_stash.clone(),
            skip_self_stake: c.skip_self_stake,
            kyc: c.kyc,
            matrix: c.matrix.clone(),
        }
    }
}

impl From<&Candidate> for schemas::CandidateEntry {
    fn from(c: &Candidate) -> Self {
        schemas::CandidateEntry {
            slot_id: i64::from(c.slot_id),
            name: c.name.clone(),
            stash: c.stash.clone(),
            kusama_stash: c.kusama_stash.clone(),
            skip_self_stake: c.skip_self_stake,
            kyc: c.kyc,
            matrix: c.matrix.clone(),
        }
    }
}
