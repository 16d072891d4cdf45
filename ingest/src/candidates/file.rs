//! Parsing and validation of a 1KV candidate file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use schemas::CandidateEntry;
use schemas::ss58;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{CandidatesError, LoadedList, Problem};

/// The SS58 prefix of Kusama, which `kusamaStash` must carry.
const KUSAMA_PREFIX: u16 = 2;

/// Only the shape that serde can check for us; candidates are checked by hand
/// so that every problem is reported, not just the first.
#[derive(Deserialize)]
struct RawFile {
    candidates: Vec<Value>,
}

/// Parse and validate a candidate file whose stashes must use `ss58_prefix`.
pub fn parse(bytes: &[u8], ss58_prefix: u16) -> Result<LoadedList, CandidatesError> {
    let digest = digest(bytes);
    // Editors on some systems write a BOM, which serde_json refuses.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let raw: RawFile = serde_json::from_slice(text).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let full = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        CandidatesError::Json {
            line,
            column,
            message,
        }
    })?;

    let lines: Vec<usize> = candidate_offsets(text)
        .into_iter()
        .map(|off| line_of(text, off))
        .collect();
    let mut seen = Seen::default();
    let mut problems = Vec::new();
    let mut candidates = Vec::with_capacity(raw.candidates.len());
    for (i, value) in raw.candidates.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        let (slot_id, checked) = check(value, line, ss58_prefix, &mut seen);
        match checked {
            Ok(candidate) => candidates.push(candidate),
            Err(messages) => problems.extend(messages.into_iter().map(|message| Problem {
                line,
                slot_id,
                message,
            })),
        }
    }
    if problems.is_empty() {
        Ok(LoadedList { candidates, digest })
    } else {
        Err(CandidatesError::Invalid { problems })
    }
}

/// Hex BLAKE2b-256 of the raw bytes: tells whether a source changed.
pub(super) fn digest(bytes: &[u8]) -> String {
    hex::encode(Blake2b::<U32>::digest(bytes))
}

/// First line at which each slotId, name and account was seen.
#[derive(Default)]
struct Seen {
    slots: HashMap<u32, usize>,
    names: HashMap<String, usize>,
    stashes: HashMap<[u8; 32], usize>,
}

impl Seen {
    /// Record `key` at `line`, or describe where it was seen first.
    fn first<K: std::hash::Hash + Eq>(
        map: &mut HashMap<K, usize>,
        key: K,
        line: usize,
    ) -> Option<usize> {
        match map.entry(key) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
    }
}

/// A field that is present and not `null` (1KV files write `null` for "none").
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Check one candidate: its slotId (if valid) and either the candidate or
/// every problem found with it.
fn check(
    value: &Value,
    line: usize,
    prefix: u16,
    seen: &mut Seen,
) -> (Option<u32>, Result<CandidateEntry, Vec<String>>) {
    let Some(obj) = value.as_object() else {
        return (None, Err(vec!["candidate must be a JSON object".into()]));
    };
    let mut errs: Vec<String> = Vec::new();

    let slot_id = match field(obj, "slotId") {
        None => {
            errs.push("slotId is missing".into());
            None
        }
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(id) => {
                if let Some(at) = Seen::first(&mut seen.slots, id, line) {
                    errs.push(format!("duplicate slotId {id} (also at line {at})"));
                }
                Some(id)
            }
            None => {
                errs.push(format!("slotId must be a non-negative integer, got {v}"));
                None
            }
        },
    };

    let name = match field(obj, "name") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            if let Some(at) = Seen::first(&mut seen.names, s.clone(), line) {
                errs.push(format!("duplicate name {s:?} (also at line {at})"));
            }
            Some(s.clone())
        }
        Some(Value::String(_)) | None => {
            errs.push("name is missing or empty".into());
            None
        }
        Some(v) => {
            errs.push(format!("name must be a string, got {v}"));
            None
        }
    };

    // Duplicates are found by account, whatever the encoding (even a wrong
    // network's, or the two-byte form of a one-byte prefix).
    if field(obj, "stash").is_none() {
        errs.push("stash is missing".into());
    }
    let stash = address(obj, "stash", prefix, &mut errs).map(|(stash, account)| {
        if let Some(at) = Seen::first(&mut seen.stashes, account, line) {
            errs.push(format!("duplicate stash {stash} (also at line {at})"));
        }
        stash
    });
    let kusama_stash = address(obj, "kusamaStash", KUSAMA_PREFIX, &mut errs).map(|(s, _)| s);

    let skip_self_stake = boolean(obj, "skipSelfStake").unwrap_or_else(|e| {
        errs.push(e);
        None
    });
    let kyc = match boolean(obj, "kyc") {
        Ok(Some(kyc)) => Some(kyc),
        Ok(None) => {
            errs.push("kyc is missing".into());
            None
        }
        Err(e) => {
            errs.push(e);
            None
        }
    };

    let matrix = handles(obj).unwrap_or_else(|e| {
        errs.extend(e);
        Vec::new()
    });

    let checked = match (slot_id, name, stash, kyc) {
        (Some(slot_id), Some(name), Some(stash), Some(kyc)) if errs.is_empty() => Ok(CandidateEntry {
            slot_id: i64::from(slot_id),
            name,
            stash,
            kusama_stash,
            skip_self_stake: skip_self_stake.unwrap_or(false),
            kyc,
            matrix,
        }),
        _ => Err(errs),
    };
    (slot_id, checked)
}

/// An optional SS58 field, as written and decoded; a wrong network prefix is
/// reported but the account still returned, so duplicates are found too.
fn address(
    obj: &Map<String, Value>,
    key: &str,
    prefix: u16,
    errs: &mut Vec<String>,
) -> Option<(String, [u8; 32])> {
    let v = field(obj, key)?;
    let Some(s) = v.as_str() else {
        errs.push(format!("{key} must be a string, got {v}"));
        return None;
    };
    let Some((p, account)) = ss58::decode(s) else {
        errs.push(format!("{key} {s:?} is not a valid SS58 address"));
        return None;
    };
    if p != prefix {
        errs.push(format!(
            "{key} {s} has network prefix {p}, expected {prefix}"
        ));
    }
    Some((s.to_string(), account))
}

/// An optional boolean field.
fn boolean(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(format!("{key} must be true or false, got {v}")),
    }
}

/// Matrix handles from `riotHandle` (1KV's name) or `matrix`: a string or an array of strings.
fn handles(obj: &Map<String, Value>) -> Result<Vec<String>, Vec<String>> {
    let (key, v) = match (field(obj, "riotHandle"), field(obj, "matrix")) {
        (None, None) => return Ok(Vec::new()),
        (Some(_), Some(_)) => {
            return Err(vec!["both riotHandle and matrix are given; use one".into()]);
        }
        (Some(v), None) => ("riotHandle", v),
        (None, Some(v)) => ("matrix", v),
    };
    let list: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for item in list {
        match item.as_str() {
            Some(h) if is_matrix_handle(h) => out.push(h.to_string()),
            Some(h) => errs.push(format!(
                "{key} {h:?} is not a Matrix handle like @user:server.org"
            )),
            None => errs.push(format!(
                "{key} must be a string or an array of strings, got {item}"
            )),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// `^@[A-Za-z0-9._=\-/]+:[A-Za-z0-9.\-]+(:[0-9]+)?$`, by hand.
fn is_matrix_handle(handle: &str) -> bool {
    let Some((user, server)) = handle.strip_prefix('@').and_then(|h| h.split_once(':')) else {
        return false;
    };
    let (host, port) = match server.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (server, None),
    };
    let all = |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(ok);
    all(user, |c| c.is_ascii_alphanumeric() || "._=-/".contains(c))
        && all(host, |c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && port.is_none_or(|p| all(p, |c| c.is_ascii_digit()))
}

/// Byte offsets of the elements of the top-level `"candidates"` array
/// (usually objects, but any value, so a stray string keeps the count right).
/// Only meant for text serde_json already accepted.
fn candidate_offsets(text: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    // The nesting depth just inside the candidates array, once found.
    let mut array_depth: Option<usize> = None;
    // Inside that array, after `[` or `,`: the next non-blank byte starts an element.
    let mut expect_element = false;
    // In a valid object, the last string closed at depth 1 before a `[` is that array's key.
    let mut last_key: &[u8] = b"";
    let mut string_start: Option<usize> = None;
    let mut escaped = false;
    for (i, &b) in text.iter().enumerate() {
        if let Some(start) = string_start {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                if depth == 1 {
                    last_key = text.get(start..i).unwrap_or_default();
                }
                string_start = None;
            }
            continue;
        }
        let in_array = array_depth == Some(depth);
        if in_array && expect_element && !b.is_ascii_whitespace() && b != b']' {
            out.push(i);
            expect_element = false;
        }
        match b {
            b'"' => string_start = Some(i + 1),
            b',' if in_array => expect_element = true,
            b'[' if depth == 1 && array_depth.is_none() && last_key == b"candidates" => {
                depth += 1;
                array_depth = Some(depth);
                expect_element = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if array_depth.is_some_and(|d| depth < d) {
                    break;
                }
            }
            _ => {}
        }
    }
    out
}

/// 1-based line of a byte offset.
fn line_of(text: &[u8], offset: usize) -> usize {
    text.iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: [u8; 32] = [
        0xd4, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f,
        0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85, 0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d,
        0xa2, 0x7d,
    ];
    const ALICE_42: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const ALICE_0: &str = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
    const ALICE_2: &str = "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F";

    fn encode(prefix: u16, account: [u8; 32]) -> String {
        ss58::encode(prefix, &account)
    }

    /// The two-byte prefix form, which can also spell prefixes below 64.
    fn two_byte(prefix: u16) -> [u8; 2] {
        [
            ((prefix & 0b1111_1100) >> 2) as u8 | 0b0100_0000,
            ((prefix >> 8) | ((prefix & 0b11) << 6)) as u8,
        ]
    }

    fn encode_raw(prefix: &[u8], account: [u8; 32]) -> String {
        let mut body = prefix.to_vec();
        body.extend_from_slice(&account);
        let hash = blake2::Blake2b512::new()
            .chain_update(b"SS58PRE")
            .chain_update(&body)
            .finalize();
        body.extend_from_slice(&hash[..2]);
        bs58::encode(body).into_string()
    }

    fn account(n: u8) -> [u8; 32] {
        [n; 32]
    }

    fn problems(text: &str, prefix: u16) -> Vec<(usize, Option<u32>, String)> {
        match parse(text.as_bytes(), prefix) {
            Err(CandidatesError::Invalid { problems }) => problems
                .into_iter()
                .map(|p| (p.line, p.slot_id, p.message))
                .collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn valid_file_round_trip() {
        let text = format!(
            r#"{{"candidates": [
  {{"slotId": 0, "name": "alice", "stash": "{ALICE_0}", "riotHandle": "@alice:matrix.org",
    "kusamaStash": "{ALICE_2}", "kyc": true, "extra": {{"nested": ["{{"]}}}},
  {{"slotId": 1, "name": "bob", "stash": "{bob}", "riotHandle": ["@bob:matrix.org", "@b.o-b/x=1:example.com:8448"],
    "skipSelfStake": true, "kyc": false}},
  {{"slotId": 2, "name": "carol", "stash": "{carol}", "matrix": "@carol:m.org", "kyc": false, "kusamaStash": null}},
  {{"slotId": 3, "name": "dave", "stash": "{dave}", "kyc": true}}
], "other": 1}}"#,
            bob = encode(0, account(1)),
            carol = encode(0, account(2)),
            dave = encode(0, account(3)),
        );
        let list = parse(text.as_bytes(), 0).expect("valid");
        assert_eq!(list.digest, digest(text.as_bytes()));
        assert_eq!(list.digest.len(), 64);
        let c = &list.candidates;
        assert_eq!(c.len(), 4);
        assert_eq!(
            c[0],
            CandidateEntry {
                slot_id: 0,
                name: "alice".into(),
                stash: ALICE_0.into(),
                kusama_stash: Some(ALICE_2.into()),
                skip_self_stake: false,
                kyc: true,
                matrix: vec!["@alice:matrix.org".into()],
            }
        );
        assert_eq!(
            c[1].matrix,
            vec!["@bob:matrix.org", "@b.o-b/x=1:example.com:8448"]
        );
        assert!(c[1].skip_self_stake);
        assert!(!c[1].kyc);
        assert_eq!(c[2].matrix, vec!["@carol:m.org"]);
        assert_eq!(c[2].kusama_stash, None);
        assert!(c[3].matrix.is_empty());
        assert_eq!(
            c.iter().map(|c| c.slot_id).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // The list itself round-trips through serde.
        let json = serde_json::to_string(&list).expect("serialize");
        assert_eq!(
            serde_json::from_str::<LoadedList>(&json).expect("deserialize"),
            list
        );
    }

    #[test]
    fn never_panics_on_cut_or_mangled_input() {
        let text = format!(
            "{{\"candidates\": [\n {{\"slotId\": 0, \"name\": \"a\\\"b\", \"stash\": \"{ALICE_0}\", \"kyc\": true, \"riotHandle\": [\"@a:m.org\"]}}\n]}}"
        );
        assert!(parse(text.as_bytes(), 0).is_ok());
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut], 0);
            for junk in [b'{', b'}', b'[', b']', b'"', b'\\', b',', 0xff] {
                let mut mangled = bytes.to_vec();
                mangled[cut] = junk;
                let _ = parse(&mangled, 0);
            }
        }
    }

    #[test]
    fn empty_list_is_valid() {
        let list = parse(br#"{"candidates": []}"#, 0).expect("valid");
        assert!(list.candidates.is_empty());
        assert!(!list.digest.is_empty());
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        let list = parse(b"\xEF\xBB\xBF{\"candidates\": []}", 0).expect("valid");
        assert!(list.candidates.is_empty());
    }

    #[test]
    fn every_rule_with_its_line() {
        let s = |n: u8| encode(0, account(n));
        let text = format!(
            r#"{{
  "note": "candidates [{{ in a string",
  "candidates": [
    {{"name": "no-slot", "stash": "{s1}", "kyc": true}},
    {{"slotId": -1, "name": "negative", "stash": "{s2}", "kyc": true}},
    {{"slotId": 2, "name": "", "stash": "{s3}", "kyc": true}},
    {{"slotId": 3, "name": "three", "stash": "{s4}", "kyc": true}},
    {{
      "slotId": 3,
      "name": "dup-slot", "stash": "{s5}", "kyc": true
    }},
    {{"slotId": 5, "name": "three", "stash": "{s6}", "kyc": true}},
    {{"slotId": 6, "name": "bad-stash", "stash": "not-an-address", "kyc": true}},
    {{"slotId": 7, "name": "no-stash", "kyc": true}},
    {{"slotId": 8, "name": "ksm", "stash": "{s9}", "kusamaStash": "{ALICE_0}", "kyc": true}},
    {{"slotId": 9, "name": "handle", "stash": "{s10}", "riotHandle": ["@ok:m.org", "nope"], "kyc": true}},
    {{"slotId": 10, "name": "no-kyc", "stash": "{s11}"}},
    {{"slotId": 11, "name": "skip", "stash": "{s12}", "skipSelfStake": "yes", "kyc": true}},
    "not an object",
    {{"slotId": 13, "name": "both", "stash": "{s13}", "riotHandle": "@a:m.org", "matrix": "@a:m.org", "kyc": true}},
    {{"slotId": 14, "name": "dup-stash", "stash": "{s4}", "kyc": true}}
  ]
}}"#,
            s1 = s(1),
            s2 = s(2),
            s3 = s(3),
            s4 = s(4),
            s5 = s(5),
            s6 = s(6),
            s9 = s(9),
            s10 = s(10),
            s11 = s(11),
            s12 = s(12),
            s13 = s(13),
        );
        let expected = vec![
            (4, None, "slotId is missing".to_string()),
            (
                5,
                None,
                "slotId must be a non-negative integer, got -1".to_string(),
            ),
            (6, Some(2), "name is missing or empty".to_string()),
            (
                8,
                Some(3),
                "duplicate slotId 3 (also at line 7)".to_string(),
            ),
            (
                12,
                Some(5),
                "duplicate name \"three\" (also at line 7)".to_string(),
            ),
            (
                13,
                Some(6),
                "stash \"not-an-address\" is not a valid SS58 address".to_string(),
            ),
            (14, Some(7), "stash is missing".to_string()),
            (
                15,
                Some(8),
                format!("kusamaStash {ALICE_0} has network prefix 0, expected 2"),
            ),
            (
                16,
                Some(9),
                "riotHandle \"nope\" is not a Matrix handle like @user:server.org".to_string(),
            ),
            (17, Some(10), "kyc is missing".to_string()),
            (
                18,
                Some(11),
                "skipSelfStake must be true or false, got \"yes\"".to_string(),
            ),
            (19, None, "candidate must be a JSON object".to_string()),
            (
                20,
                Some(13),
                "both riotHandle and matrix are given; use one".to_string(),
            ),
            (
                21,
                Some(14),
                format!("duplicate stash {} (also at line 7)", s(4)),
            ),
        ];
        assert_eq!(problems(&text, 0), expected);
    }

    #[test]
    fn two_problems_reported_together() {
        let text = format!(
            "{{\"candidates\": [\n  {{\"slotId\": 1, \"name\": \"a\", \"stash\": \"{ALICE_0}\", \"kyc\": true}},\n  \
             {{\"slotId\": 1, \"name\": \"a\", \"stash\": \"bad\", \"kyc\": true}}\n]}}"
        );
        let got = problems(&text, 0);
        assert_eq!(
            got,
            vec![
                (
                    3,
                    Some(1),
                    "duplicate slotId 1 (also at line 2)".to_string()
                ),
                (
                    3,
                    Some(1),
                    "duplicate name \"a\" (also at line 2)".to_string()
                ),
                (
                    3,
                    Some(1),
                    "stash \"bad\" is not a valid SS58 address".to_string()
                ),
            ]
        );
        let err = parse(text.as_bytes(), 0).expect_err("invalid");
        let shown = err.to_string();
        assert_eq!(shown.lines().count(), 3);
        assert_eq!(
            shown.lines().next(),
            Some("line 3 (slotId 1): duplicate slotId 1 (also at line 2)")
        );
    }

    #[test]
    fn same_account_under_two_encodings_is_a_duplicate() {
        let file = |a: &str, b: &str| {
            format!(
                "{{\"candidates\": [\n{{\"slotId\": 0, \"name\": \"a\", \"stash\": \"{a}\", \"kyc\": true}},\n\
                 {{\"slotId\": 1, \"name\": \"b\", \"stash\": \"{b}\", \"kyc\": true}}\n]}}"
            )
        };
        // Alice under prefixes 0 and 42: wrong network, and the same account.
        assert_eq!(
            problems(&file(ALICE_0, ALICE_42), 0),
            vec![
                (
                    3,
                    Some(1),
                    format!("stash {ALICE_42} has network prefix 42, expected 0")
                ),
                (
                    3,
                    Some(1),
                    format!("duplicate stash {ALICE_42} (also at line 2)")
                ),
            ]
        );
        // Alice under prefix 0 in its two-byte form: the right network, yet the same account.
        let alice_0_long = encode_raw(&two_byte(0), ALICE);
        assert_ne!(alice_0_long, ALICE_0);
        assert_eq!(ss58::decode(&alice_0_long), Some((0, ALICE)));
        assert_eq!(
            problems(&file(ALICE_0, &alice_0_long), 0),
            vec![(
                3,
                Some(1),
                format!("duplicate stash {alice_0_long} (also at line 2)")
            )]
        );
    }

    #[test]
    fn wrong_network_prefix() {
        let text = format!(
            "{{\"candidates\": [{{\"slotId\": 0, \"name\": \"a\", \"stash\": \"{ALICE_42}\", \"kyc\": true}}]}}"
        );
        assert_eq!(
            problems(&text, 0),
            vec![(
                1,
                Some(0),
                format!("stash {ALICE_42} has network prefix 42, expected 0")
            )]
        );
        assert!(parse(text.as_bytes(), 42).is_ok());
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        let text = "{\"candidates\": [\n  {\"slotId\": 0,,}\n]}";
        match parse(text.as_bytes(), 0) {
            Err(CandidatesError::Json {
                line,
                column,
                message,
            }) => {
                assert_eq!((line, column), (2, 16));
                assert!(!message.contains("at line"), "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("expected Json, got {other:?}"),
        }
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"candidates\": 5}",
            b"\xff",
            b"{\"candidates\": [], \"candidates\": []}",
        ] {
            assert!(
                matches!(parse(bad, 0), Err(CandidatesError::Json { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn matrix_handle_matcher() {
        for ok in [
            "@a:m.org",
            "@A.b_c=d-e/f:host-1.example.org",
            "@x:matrix.org:8448",
            "@1:2",
        ] {
            assert!(is_matrix_handle(ok), "{ok}");
        }
        for bad in [
            "",
            "@",
            "a:m.org",
            "@:m.org",
            "@a:",
            "@a",
            "@a b:m.org",
            "@a:m_org",
            "@a:m.org:",
            "@a:m.org:80a",
            "@a:m.org:1:2",
            "@é:m.org",
        ] {
            assert!(!is_matrix_handle(bad), "{bad}");
        }
    }

    #[test]
    fn offsets_skip_strings_and_nesting() {
        let text = br#"{"a": {"candidates": [{}]}, "b": "\"candidates\" [{", "candidates": [ {"x": [{}]}, {"y": "}"} , "s,", 7,[1]], "c": [{}]}"#;
        let offsets = candidate_offsets(text);
        let starts: Vec<&[u8]> = offsets.iter().map(|&o| &text[o..o + 4]).collect();
        assert_eq!(
            starts,
            [&br#"{"x""#[..], br#"{"y""#, br#""s,""#, b"7,[1", b"[1]]"]
        );
        assert!(candidate_offsets(br#"{"candidates": [ ]}"#).is_empty());
    }
}
