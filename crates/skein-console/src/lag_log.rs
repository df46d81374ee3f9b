//! The lag history on disk, so that it outlives the process: a console restarted within the
//! hour shows the hour, and `skein report --since 1h` charts the past hour.
//!
//! One file per stack, `<state>/lag/<profile name>-<hash of the primary's address>.jsonl`
//! (`<state>`: `$SKEIN_STATE_DIR`, else `$XDG_STATE_HOME/skein`, else `~/.local/state/skein`;
//! the hash keeps two stacks that share a profile name apart), one JSON line per sample:
//! `{"t": ms, "n": [[name, role, replay_lag_ms, lag_bytes, state], …]}`, one line a second
//! whatever the sampling period (each node's reading the history keeps for that second:
//! [`LagHistory::push`]) — about 40 bytes per node per second (16 replicas: ~2.4 MB an hour). Lines older than [`KEEP`] are trimmed
//! every [`TRIM_EVERY`] appends. Writing is best effort: a full disk never stops sampling.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use skein_pg::{LagSample, NodeRole, ReplicaState};

use crate::history::LagHistory;

/// How much history the file keeps.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// Appends between two trims.
pub const TRIM_EVERY: u64 = 600;

/// One node's reading: name, role, replay lag (ms), bytes behind, state.
type Reading = (String, NodeRole, Option<u64>, Option<u64>, ReplicaState);

#[derive(Serialize, Deserialize)]
struct Line {
    t: u64,
    n: Vec<Reading>,
}

/// A profile's lag log.
#[derive(Debug, Clone)]
pub struct LagLog {
    path: PathBuf,
    appends: u64,
    /// The last append failed (logged once until one works again).
    failing: bool,
}

/// The file name (without extension) a profile's state files use: its name and a hash of its
/// primary's connection string, so two profiles of the same name stay apart; characters other
/// than letters, digits, `-` and `_` become `_`.
pub(crate) fn profile_key(profile: &skein_core::Profile) -> String {
    let h = skein_core::stable_hash(&profile.primary.url);
    safe_name(&format!("{}-{:08x}", profile.name, h as u32))
}

/// Appends `bytes` to the file at `path`, creating it and its directory when missing (blocking
/// I/O: call it on the blocking pool). The state files (lag log, alert log) are written so.
pub(crate) fn append_to(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(bytes)
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl LagLog {
    /// The log of a profile's stack in the default state directory; `None` when there is no
    /// home directory.
    pub fn for_profile(profile: &skein_core::Profile) -> Option<LagLog> {
        crate::state_dir().map(|d| LagLog::at(&d, &profile_key(profile)))
    }

    /// The log of `profile` under `dir`.
    pub fn at(dir: &Path, profile: &str) -> LagLog {
        let safe = safe_name(profile);
        LagLog {
            path: dir.join("lag").join(format!("{safe}.jsonl")),
            appends: 0,
            failing: false,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one sample (best effort).
    pub fn append(&mut self, sample: &LagSample) {
        let line = Line {
            t: sample.taken_at_ms,
            n: sample
                .nodes
                .iter()
                .map(|n| {
                    (
                        n.name.clone(),
                        n.role,
                        n.replay_lag_ms,
                        n.lag_bytes,
                        n.state,
                    )
                })
                .collect(),
        };
        let Ok(text) = serde_json::to_string(&line) else {
            return;
        };
        let written = append_to(&self.path, format!("{text}\n").as_bytes());
        match written {
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::warn!(
                    file = %self.path.display(),
                    "the lag history is not kept on disk: {e} (sampling goes on)"
                );
            }
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!(file = %self.path.display(), "the lag history is written again");
            }
            _ => {}
        }
        self.appends += 1;
        if self.appends % TRIM_EVERY == 0 {
            self.trim(sample.taken_at_ms.saturating_sub(KEEP.as_millis() as u64));
        }
    }

    /// Drops the lines taken before `before_ms` (rewrites the file through a temporary one).
    pub fn trim(&self, before_ms: u64) {
        let Ok(f) = std::fs::File::open(&self.path) else {
            return;
        };
        let tmp = self.path.with_extension("jsonl.tmp");
        let trimmed = (|| {
            let mut out = std::fs::File::create(&tmp)?;
            for line in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
                let keep = serde_json::from_str::<Line>(&line).is_ok_and(|l| l.t >= before_ms);
                if keep {
                    writeln!(out, "{line}")?;
                }
            }
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = trimmed {
            // The file keeps its old lines (they are skipped when read); it is trimmed next time.
            tracing::warn!(file = %self.path.display(), "trimming the lag history failed: {e}");
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Fills `history` with the samples taken at or after `since_ms`, oldest first; returns
    /// how many were read. Lines that do not parse (a torn last line) are skipped.
    pub fn load_into(&self, history: &mut LagHistory, since_ms: u64) -> usize {
        let Ok(f) = std::fs::File::open(&self.path) else {
            return 0;
        };
        let mut n = 0;
        for line in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
            let Ok(l) = serde_json::from_str::<Line>(&line) else {
                continue;
            };
            if l.t < since_ms {
                continue;
            }
            for (name, role, lag, bytes, state) in l.n {
                history.push_point(&name, role, l.t, lag, bytes, state);
            }
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_pg::{LagLevel, NodeStatus};

    fn sample(t: u64, lag: u64) -> LagSample {
        LagSample {
            taken_at_ms: t,
            nodes: vec![NodeStatus {
                name: "replica1".into(),
                role: NodeRole::Replica,
                reachable: true,
                state: ReplicaState::Streaming,
                lag_bytes: Some(lag * 8),
                replay_lag_ms: Some(lag),
                write_lag_ms: None,
                flush_lag_ms: None,
                upstream: None,
                upstream_lag_bytes: None,
                upstream_replay_lag_ms: None,
                lsn: None,
                receive_lsn: None,
                last_replay_at: None,
                timeline_id: None,
                tls: None,
                level: LagLevel::Ok,
                error: None,
            }],
        }
    }

    #[test]
    fn samples_survive_a_restart_and_old_ones_are_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = LagLog::at(dir.path(), "prod/eu");
        assert!(log.path().ends_with("lag/prod_eu.jsonl"));
        for t in 1..=5 {
            log.append(&sample(t * 1000, t));
        }
        // A torn last line (a crash mid-write) is skipped.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .and_then(|mut f| write!(f, "{{\"t\": 6000, \"n\": [["))
            .expect("tear");
        let mut h = LagHistory::new(Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(log.load_into(&mut h, 2500), 3);
        let s = h.series(None);
        assert_eq!(s[0].t_ms, vec![3000, 4000, 5000]);
        assert_eq!(s[0].replay_lag_ms, vec![Some(3), Some(4), Some(5)]);
        log.trim(4000);
        let mut h = LagHistory::new(Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(log.load_into(&mut h, 0), 2);
    }
}
