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
        tokio::spawn(async move {
            let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
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
