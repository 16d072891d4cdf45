//! Picking up a changed configuration or secret file without a restart, so a
//! signing key rotates with no downtime: every pass, the network's settings
//! (from a [`SettingsSource`], when the process has one) and the bytes of
//! every secret they name are fingerprinted; the accounts are loaded again
//! only when the fingerprint changes. A change that does not load is
//! reported once and the accounts in force are kept.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

use crate::config::{Account, NetworkNominators};
use crate::secret::SecretSource;

/// Where a running nominator reads its settings again (the config file).
pub trait SettingsSource: Send + Sync {
    /// The network's `[nominator.networks.<name>]` now; `Ok(None)` when it is no
    /// longer configured (the accounts in force are kept), `Err` when the
    /// configuration does not load.
    fn settings(&self, network: &str) -> Result<Option<NetworkNominators>, String>;
}

/// What a refresh found.
#[derive(Debug)]
pub enum Refresh {
    /// Nothing changed.
    Same,
    /// New settings and accounts to use from now on.
    Changed(NetworkNominators, Vec<Account>),
    /// A change that does not load (reported once); the accounts in force stay.
    Broken(String),
}

fn secret_bytes(source: &SecretSource) -> Vec<u8> {
    match source {
        SecretSource::File(p) => std::fs::read(p).unwrap_or_else(|e| format!("unreadable: {e}").into_bytes()),
        SecretSource::Env(v) => std::env::var_os(v).map(|s| s.into_encoded_bytes()).unwrap_or_default(),
    }
}

/// A digest of the settings and of every secret they name (never kept, never shown).
fn fingerprint(settings: &NetworkNominators) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(serde_json::to_vec(settings).unwrap_or_default());
    for a in &settings.accounts {
        for source in [a.secret_source(), a.previous_source().ok().flatten()].into_iter().flatten() {
            let bytes = secret_bytes(&source);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
    }
    h.finalize().into()
}

/// The fingerprint of what is in force, and the last broken change reported.
#[derive(Debug)]
pub struct LiveSettings {
    fingerprint: [u8; 32],
    reported: Option<[u8; 32]>,
}

impl LiveSettings {
    /// Settings in force now.
    pub fn new(settings: &NetworkNominators) -> Self {
        Self { fingerprint: fingerprint(settings), reported: None }
    }

    /// Read again; `current` is what is in force.
    pub fn refresh(&mut self, network: &str, ss58_prefix: u16, current: &NetworkNominators, source: Option<&dyn SettingsSource>) -> Refresh {
        let settings = match source.map(|s| s.settings(network)) {
            None | Some(Ok(None)) => current.clone(),
            Some(Ok(Some(s))) => s,
            Some(Err(e)) => return self.broken(fingerprint(current), format!("the configuration does not load: {e}")),
        };
        let print = fingerprint(&settings);
        if print == self.fingerprint {
            self.reported = None;
            return Refresh::Same;
        }
        match settings.load(network, ss58_prefix) {
            Ok(accounts) => {
                self.fingerprint = print;
                self.reported = None;
                Refresh::Changed(settings, accounts)
            }
            Err(problems) => self.broken(print, problems.join("; ")),
        }
    }

    fn broken(&mut self, print: [u8; 32], why: String) -> Refresh {
        if self.reported == Some(print) {
            return Refresh::Same;
        }
        self.reported = Some(print);
        Refresh::Broken(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AccountConfig, Control};

    const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    #[test]
    fn a_rotated_secret_file_is_picked_up_and_a_broken_one_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{PHRASE}//Charlie")).unwrap();
        let settings = NetworkNominators { accounts: vec![AccountConfig::new(BOB, Control::Proxy, file.clone())], ..Default::default() };
        let mut live = LiveSettings::new(&settings);
        assert!(matches!(live.refresh("devnet", 42, &settings, None), Refresh::Same));

        std::fs::write(&file, format!("{PHRASE}//Dave")).unwrap();
        let Refresh::Changed(_, accounts) = live.refresh("devnet", 42, &settings, None) else { panic!("the new key is not picked up") };
        assert_eq!(accounts[0].signer.address(42), "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy");
        assert!(matches!(live.refresh("devnet", 42, &settings, None), Refresh::Same));

        std::fs::write(&file, "//Eve").unwrap();
        let Refresh::Broken(why) = live.refresh("devnet", 42, &settings, None) else { panic!() };
        assert!(why.contains("development phrase") && !why.contains(PHRASE), "{why}");
        assert!(matches!(live.refresh("devnet", 42, &settings, None), Refresh::Same), "reported once");
    }

    struct Fixed(Result<Option<NetworkNominators>, String>);
    impl SettingsSource for Fixed {
        fn settings(&self, _: &str) -> Result<Option<NetworkNominators>, String> {
            self.0.clone()
        }
    }

    #[test]
    fn a_changed_configuration_names_the_previous_key() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        std::fs::write(&old, format!("{PHRASE}//Charlie")).unwrap();
        std::fs::write(&new, format!("{PHRASE}//Dave")).unwrap();
        let before = NetworkNominators { accounts: vec![AccountConfig::new(BOB, Control::Proxy, old.clone())], ..Default::default() };
        let mut live = LiveSettings::new(&before);
        let after = NetworkNominators {
            accounts: vec![AccountConfig { previous_secret_file: Some(old), ..AccountConfig::new(BOB, Control::Proxy, new) }],
            ..Default::default()
        };
        let Refresh::Changed(_, accounts) = live.refresh("devnet", 42, &before, Some(&Fixed(Ok(Some(after.clone()))))) else { panic!() };
        assert!(accounts[0].previous.is_some());
        assert!(matches!(live.refresh("devnet", 42, &after, Some(&Fixed(Err("bad toml".into())))), Refresh::Broken(w) if w.contains("bad toml")));
    }
}
