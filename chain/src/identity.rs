//! An account's identity at a block: registration, judgements, super and subs.

use scale_value::{At, Composite, Value, ValueDef};
use subxt::dynamic;

use crate::staking::{AccountId, lenient, value_bytes};
use crate::value_json::value_to_json;
use crate::{ChainClient, ChainError};

/// What the identity pallet says about one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityState {
    /// IdentityOf is set for the account.
    pub has_identity: bool,
    /// Info fields by name (display, legal, web, email, twitter, riot, matrix, ...), as text.
    pub fields: Vec<(String, String)>,
    /// (registrar index, judgement name).
    pub judgements: Vec<(u32, String)>,
    /// The super-identity and this account's name under it.
    pub super_of: Option<(AccountId, Option<String>)>,
    /// Sub-identities.
    pub subs: Vec<AccountId>,
    /// The registration info as JSON (`{}` when none).
    pub info_json: String,
    /// Values that did not decode.
    pub undecoded: Vec<crate::staking::UndecodedStorage>,
}

impl IdentityState {
    /// The text of info field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Identity `Data`: None, Raw bytes (shown as text), or a hash (shown as hex).
fn data_text<T>(v: &Value<T>) -> Option<String> {
    match &v.value {
        ValueDef::Variant(var) if var.name == "None" => None,
        ValueDef::Variant(var) if var.name.starts_with("Raw") => {
            let bytes = var.values.values().next().and_then(value_bytes).unwrap_or_default();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        ValueDef::Variant(var) => var.values.values().next().and_then(value_bytes).map(|b| format!("0x{}", hex::encode(b))),
        _ => value_bytes(v).map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Every `(registrar, judgement)` pair inside `v`, through any list newtypes.
fn judgement_pairs<T>(v: &Value<T>) -> Vec<(u32, String)> {
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(p)) if p.len() == 2 && p[0].as_u128().is_some() => match &p[1].value {
            ValueDef::Variant(var) => vec![(p[0].as_u128().unwrap_or_default() as u32, var.name.clone())],
            _ => Vec::new(),
        },
        ValueDef::Composite(Composite::Unnamed(items)) => items.iter().flat_map(judgement_pairs).collect(),
        _ => Vec::new(),
    }
}

/// Every account inside `v`, through any list newtypes.
fn accounts_in<T>(v: &Value<T>) -> Vec<AccountId> {
    if let Some(acct) = value_bytes(v).and_then(|b| AccountId::try_from(b).ok()) {
        return vec![acct];
    }
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(items)) => items.iter().flat_map(accounts_in).collect(),
        _ => Vec::new(),
    }
}

/// Parse a registration (judgements + info).
pub(crate) fn registration<T>(reg: &Value<T>, state: &mut IdentityState) {
    // Newer runtimes store (Registration, Option<Username>).
    let reg = if reg.at("judgements").is_some() {
        reg
    } else {
        match &reg.value {
            ValueDef::Composite(Composite::Unnamed(parts)) if !parts.is_empty() => &parts[0],
            _ => reg,
        }
    };
    state.has_identity = true;
    if let Some(j) = reg.at("judgements") {
        state.judgements = judgement_pairs(j);
    }
    if let Some(info) = reg.at("info") {
        state.info_json = value_to_json(info).to_string();
        if let ValueDef::Composite(Composite::Named(fields)) = &info.value {
            for (name, v) in fields {
                if let Some(text) = data_text(v) {
                    state.fields.push((name.clone(), text));
                }
            }
        }
    }
}

impl ChainClient {
    /// The identity of `who` at `block`.
    pub async fn identity(&self, block: u64, who: AccountId) -> Result<IdentityState, ChainError> {
        let at = self.api().at_block(block).await.map_err(|e| self.fail(format!("open block {block}"), e))?;
        let st = at.storage();
        let mut state = IdentityState { info_json: "{}".into(), ..Default::default() };
        if let Some(v) = st
            .try_fetch(dynamic::storage::<(AccountId,), Value>("Identity", "IdentityOf"), (who,))
            .await
            .map_err(|e| self.fail("read Identity.IdentityOf", e))?
            && let Some(v) = lenient(&v, || format!("Identity.IdentityOf 0x{}", hex::encode(who)), &mut state.undecoded)
        {
            registration(&v, &mut state);
        }
        if let Some(v) = st
            .try_fetch(dynamic::storage::<(AccountId,), Value>("Identity", "SuperOf"), (who,))
            .await
            .map_err(|e| self.fail("read Identity.SuperOf", e))?
            && let Some(v) = lenient(&v, || format!("Identity.SuperOf 0x{}", hex::encode(who)), &mut state.undecoded)
        {
            if let ValueDef::Composite(Composite::Unnamed(p)) = &v.value
                && let Some(main) = p.first().and_then(value_bytes).and_then(|b| <AccountId>::try_from(b).ok())
            {
                state.super_of = Some((main, p.get(1).and_then(data_text)));
            }
        }
        if let Some(v) = st
            .try_fetch(dynamic::storage::<(AccountId,), Value>("Identity", "SubsOf"), (who,))
            .await
            .map_err(|e| self.fail("read Identity.SubsOf", e))?
            && let Some(v) = lenient(&v, || format!("Identity.SubsOf 0x{}", hex::encode(who)), &mut state.undecoded)
        {
            if let ValueDef::Composite(Composite::Unnamed(p)) = &v.value
                && let Some(list) = p.get(1)
            {
                state.subs = accounts_in(list);
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Value {
        Value::unnamed_variant(format!("Raw{}", s.len()), [Value::from_bytes(s.as_bytes())])
    }

    #[test]
    fn registration_with_judgements_and_fields() {
        let none = || Value::unnamed_variant("None", []);
        let reg = Value::named_composite([
            (
                "judgements",
                Value::unnamed_composite([Value::unnamed_composite([Value::u128(0), Value::unnamed_variant("Reasonable", [])])]),
            ),
            ("deposit", Value::u128(5)),
            (
                "info",
                Value::named_composite([("display", raw("Alice")), ("legal", none()), ("riot", raw("@alice:matrix.org"))]),
            ),
        ]);
        let mut s = IdentityState::default();
        registration(&reg, &mut s);
        assert!(s.has_identity);
        assert_eq!(s.judgements, vec![(0, "Reasonable".to_string())]);
        assert_eq!(s.field("display"), Some("Alice"));
        assert_eq!(s.field("legal"), None);
        assert_eq!(s.field("riot"), Some("@alice:matrix.org"));

        // Two judgements inside a BoundedVec newtype.
        let two = Value::unnamed_composite([Value::unnamed_composite([
            Value::unnamed_composite([Value::u128(0), Value::unnamed_variant("Reasonable", [])]),
            Value::unnamed_composite([Value::u128(2), Value::unnamed_variant("KnownGood", [])]),
        ])]);
        assert_eq!(judgement_pairs(&two), vec![(0, "Reasonable".to_string()), (2, "KnownGood".to_string())]);
        let acct = |b: u8| Value::unnamed_composite([Value::from_bytes([b; 32])]);
        let subs = Value::unnamed_composite([Value::unnamed_composite([acct(1), acct(2)])]);
        assert_eq!(accounts_in(&subs), vec![[1u8; 32], [2u8; 32]]);

        // (Registration, Option<Username>) on newer runtimes.
        let mut t = IdentityState::default();
        registration(&Value::unnamed_composite([reg, Value::unnamed_variant("None", [])]), &mut t);
        assert_eq!(t.field("display"), Some("Alice"));
    }
}
