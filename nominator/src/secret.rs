//! Signing secrets: read from a file or an environment variable, never from
//! the config itself, and never shown. A [`Signer`] prints as its public
//! address only; every error names where the secret was to come from and
//! what is wrong with it, never the secret.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use subxt_signer::sr25519::Keypair;
use subxt_signer::{ExposeSecret, SecretUri};

/// Where an account's signing secret (a secret URI or a mnemonic) comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    /// A file holding the secret (surrounding white space ignored).
    File(PathBuf),
    /// An environment variable holding the secret.
    Env(String),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "secret file {}", p.display()),
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// Why a secret cannot be used. Holds no part of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The file or variable cannot be read.
    #[error("{from}: cannot be read ({reason})")]
    Unreadable { from: SecretSource, reason: String },
    /// It is empty.
    #[error("{from}: is empty")]
    Empty { from: SecretSource },
    /// A secret URI with no phrase part (`//Alice`) stands for the public
    /// development phrase: anyone could sign with it.
    #[error("{from}: the secret URI has no phrase, so it would use the public development phrase; give the mnemonic (or 0x seed) before any //junction")]
    NoPhrase { from: SecretSource },
    /// Not a secret URI, mnemonic or 0x seed.
    #[error("{from}: not a valid secret URI, mnemonic or 0x seed ({kind})")]
    Invalid { from: SecretSource, kind: &'static str },
}

/// A loaded sr25519 signing key. `Debug` shows the public key only.
#[derive(Clone)]
pub struct Signer {
    keypair: Keypair,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer(0x{})", hex::encode(self.public()))
    }
}

impl Signer {
    /// Load and parse the secret at `source`.
    pub fn load(source: &SecretSource) -> Result<Self, SecretError> {
        let raw = match source {
            SecretSource::File(p) => std::fs::read_to_string(p)
                .map_err(|e| SecretError::Unreadable { from: source.clone(), reason: e.kind().to_string() })?,
            SecretSource::Env(v) => std::env::var(v).map_err(|e| SecretError::Unreadable {
                from: source.clone(),
                reason: match e {
                    std::env::VarError::NotPresent => "not set".into(),
                    std::env::VarError::NotUnicode(_) => "not UTF-8".into(),
                },
            })?,
        };
        Self::parse(raw.trim(), source)
    }

    /// Parse a secret URI or mnemonic; `source` only names it in errors.
    pub fn parse(secret: &str, source: &SecretSource) -> Result<Self, SecretError> {
        if secret.is_empty() {
            return Err(SecretError::Empty { from: source.clone() });
        }
        if secret.starts_with('/') {
            return Err(SecretError::NoPhrase { from: source.clone() });
        }
        let uri = SecretUri::from_str(secret).map_err(|_| SecretError::Invalid { from: source.clone(), kind: "unparsable" })?;
        if uri.phrase.expose_secret().is_empty() {
            return Err(SecretError::NoPhrase { from: source.clone() });
        }
        let keypair = Keypair::from_uri(&uri).map_err(|e| SecretError::Invalid {
            from: source.clone(),
            kind: match e {
                subxt_signer::sr25519::Error::Phrase(_) => "not a BIP-39 mnemonic",
                subxt_signer::sr25519::Error::Hex(_) | subxt_signer::sr25519::Error::InvalidSeed => "not a 32-byte 0x seed",
                _ => "unusable key",
            },
        })?;
        Ok(Self { keypair })
    }

    /// The 32-byte public key (the signer's account).
    pub fn public(&self) -> [u8; 32] {
        self.keypair.public_key().0
    }

    /// The signer's address under an SS58 prefix.
    pub fn address(&self, ss58_prefix: u16) -> String {
        schemas::ss58::encode(ss58_prefix, &self.public())
    }

    /// The key, for signing.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    // //Alice of the development phrase, prefix 42.
    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    fn src() -> SecretSource {
        SecretSource::Env("TEST_SECRET".into())
    }

    #[test]
    fn a_phrase_with_junctions_gives_its_account() {
        let s = Signer::parse(&format!("{PHRASE}//Alice"), &src()).unwrap();
        assert_eq!(s.address(42), ALICE);
        let bare = Signer::parse(PHRASE, &src()).unwrap();
        assert_ne!(bare.address(42), ALICE, "no junction: the root key");
    }

    #[test]
    fn a_uri_without_a_phrase_is_refused() {
        for secret in ["//Alice", "/soft", "//Alice///password"] {
            let e = Signer::parse(secret, &src()).unwrap_err();
            assert!(matches!(e, SecretError::NoPhrase { .. }), "{secret}: {e}");
        }
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let typo = "bottom drive obey lake curtain smoke basket hold race lonely fit wlak";
        let e = Signer::parse(typo, &src()).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("wlak") && !shown.contains("bottom"), "{shown}");
        assert!(shown.contains("TEST_SECRET"), "{shown}");
        let s = Signer::parse(PHRASE, &src()).unwrap();
        assert!(!format!("{s:?}").contains("bottom"));
    }

    #[test]
    fn files_and_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alice");
        std::fs::write(&path, format!("  {PHRASE}//Alice\n")).unwrap();
        assert_eq!(Signer::load(&SecretSource::File(path)).unwrap().address(42), ALICE);
        let missing = Signer::load(&SecretSource::File(dir.path().join("nope"))).unwrap_err();
        assert!(missing.to_string().contains("cannot be read"), "{missing}");
        let unset = Signer::load(&SecretSource::Env("STAKEFLOW_TEST_SURELY_UNSET".into())).unwrap_err();
        assert!(unset.to_string().contains("not set"), "{unset}");
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        assert!(matches!(Signer::load(&SecretSource::File(dir.path().join("empty"))), Err(SecretError::Empty { .. })));
    }
}
