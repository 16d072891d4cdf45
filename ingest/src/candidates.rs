//! Candidate intake: the programme's candidate list, in the file format of the Thousand
//! Validators programme (1KV), so an existing 1KV `candidates/<chain>.json`
//! can be used as is. [`parse`] validates a whole file at once and reports
//! every problem with its line, so an operator can fix a file in one pass;
//! [`CandidateWatcher`] polls a file or URL and only ever hands out complete,
//! valid lists; [`publish_lists`] puts each new version on the candidates
//! topic, where the scorer reads it.

mod file;
mod publish;
mod source;

use std::fmt;

use schemas::CandidateEntry;
use serde::{Deserialize, Serialize};

pub use file::parse;
pub use publish::{list_record, publish_lists};
pub use source::{CandidateSource, CandidateWatcher, load};
pub(crate) use source::{client, fetch};

/// A validated candidate list, as read from its source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoadedList {
    /// In file order, as the contract's type (what goes onto the topic).
    pub candidates: Vec<CandidateEntry>,
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
