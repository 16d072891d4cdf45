//! The nominator's settings read again while it runs: when the config file
//! changes (its modification time), or on SIGHUP. The nominator re-reads the
//! secret files itself, so rotating a key needs no restart either way.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use nominator::{NetworkNominators, NominatorConfig};

/// A [`nominator::reload::SettingsSource`] over the config file.
pub struct ConfigReload {
    path: Option<PathBuf>,
    hup: Arc<AtomicBool>,
    state: Mutex<(Option<SystemTime>, Option<Result<NominatorConfig, String>>)>,
}

impl ConfigReload {
    /// Read `path` again when it changes or when SIGHUP arrives (a task listens from now on).
    pub fn new(path: Option<PathBuf>) -> Self {
        let hup = Arc::new(AtomicBool::new(false));
        let flag = hup.clone();
        // Registered now, so a SIGHUP from this moment on never takes the default action (exit).
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        tokio::spawn(async move {
            let Ok(mut signal) = signal else { return };
            while signal.recv().await.is_some() {
                tracing::info!("SIGHUP: the nominator settings are read again at the next pass");
                flag.store(true, Ordering::SeqCst);
            }
        });
        Self { path, hup, state: Mutex::new((None, None)) }
    }
}

impl nominator::reload::SettingsSource for ConfigReload {
    fn settings(&self, network: &str) -> Result<Option<NetworkNominators>, String> {
        let modified = self.path.as_ref().and_then(|p| std::fs::metadata(p).ok()?.modified().ok());
        let hup = self.hup.swap(false, Ordering::SeqCst);
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if hup || state.1.is_none() || state.0 != modified {
            state.0 = modified;
            state.1 = Some(crate::config::nominator_section(self.path.as_deref()).map_err(|e| format!("{e:#}")));
        }
        match &state.1 {
            Some(Ok(cfg)) => Ok(cfg.networks.get(network).cloned()),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use nominator::reload::SettingsSource;

    use super::*;

    fn write(path: &std::path::Path, min_bond: f64) {
        std::fs::write(path, format!("[nominator.networks.devnet]\nmin_bond = {min_bond}\n")).unwrap();
    }

    #[tokio::test]
    async fn a_changed_file_is_read_again_and_a_broken_one_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stakeflow.toml");
        write(&path, 10.0);
        let reload = ConfigReload::new(Some(path.clone()));
        assert_eq!(reload.settings("devnet").unwrap().map(|n| n.min_bond), Some(10.0));
        assert_eq!(reload.settings("other").unwrap(), None);
        // A new modification time (file systems with coarse times: set it explicitly).
        write(&path, 20.0);
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(later).unwrap();
        assert_eq!(reload.settings("devnet").unwrap().map(|n| n.min_bond), Some(20.0));
        std::fs::write(&path, "[nominator.networks.devnet]\nmin_bond = \"lots\"\n").unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(later + std::time::Duration::from_secs(5)).unwrap();
        assert!(reload.settings("devnet").unwrap_err().contains("min_bond"));
        // SIGHUP reads it again even when its time did not change.
        write(&path, 30.0);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(later + std::time::Duration::from_secs(5)).unwrap();
        assert!(reload.settings("devnet").unwrap_err().contains("min_bond"), "unchanged time: the broken one stays");
        let sent = std::process::Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while reload.settings("devnet").ok().flatten().map(|n| n.min_bond) != Some(30.0) {
            assert!(std::time::Instant::now() < deadline, "SIGHUP did not make it read the file again");
            tokio::task::yield_now().await;
        }
    }
}
