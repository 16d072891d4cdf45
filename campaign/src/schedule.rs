//! Where the faults fall: a pure function of the seed, so a failing
//! campaign is replayed exactly with the same `--seed`.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A process the campaign runs. With the embedded store the scorer and
/// the nominator share one (the nominator reads the scorer's rounds from
/// the store), so they are one process; ingest is its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Ingest,
    Programme,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Ingest, Role::Programme];

    /// Its name, for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Programme => "score+nominate",
        }
    }

    /// The `stakeflow` subcommand that starts it.
    pub fn command(self) -> &'static [&'static str] {
        match self {
            Role::Ingest => &["ingest"],
            Role::Programme => &["run", "--service", "score", "--service", "nominate"],
        }
    }

    /// Its data directory's name.
    pub fn dir(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Programme => "programme",
        }
    }
}

/// One `kill -9`: whom, and how long after the previous fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kill {
    pub role: Role,
    pub after: Duration,
}

/// `count` kills; each role is hit in turn-free random order, at a random
/// instant from 50 ms to `max_gap` after the previous one (so some land
/// while a process is still starting, resuming or backfilling).
pub fn kills(seed: u64, count: usize, max_gap: Duration) -> Vec<Kill> {
    let mut rng = StdRng::seed_from_u64(seed);
    let max_ms = (max_gap.as_millis() as u64).max(51);
    (0..count)
        .map(|i| {
            // Every role at least once in any campaign of three or more.
            let role = if i < Role::ALL.len() { Role::ALL[i] } else { Role::ALL[rng.random_range(0..Role::ALL.len())] };
            Kill { role, after: Duration::from_millis(rng.random_range(50..max_ms)) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_campaign_and_every_role_is_hit() {
        let a = kills(7, 100, Duration::from_secs(4));
        assert_eq!(a, kills(7, 100, Duration::from_secs(4)));
        assert_ne!(a, kills(8, 100, Duration::from_secs(4)));
        for role in Role::ALL {
            assert!(a.iter().filter(|k| k.role == role).count() > 30, "{role:?}");
        }
        assert!(a.iter().all(|k| k.after >= Duration::from_millis(50) && k.after < Duration::from_secs(4)));
        // Spread over the range, not bunched at one end.
        assert!(a.iter().any(|k| k.after < Duration::from_secs(1)) && a.iter().any(|k| k.after > Duration::from_secs(3)));
    }
}
