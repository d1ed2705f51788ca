//! Tracked-object watchers: vrrp_script pollers (interval/timeout/rise/fall)
//! and vrrp_track_file readers. They only report changes; the engine turns
//! them into priorities (see [`crate::instance::tracked_priority`]).

use std::path::Path;
use std::time::Duration;

use rkeepalived_config::model::{VrrpScript, VrrpTrackFile};
use rkeepalived_script::ScriptRunner;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::track::{ScriptStatus, ScriptTracker};

/// A change of one tracked object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackUpdate {
    Script {
        name: String,
        status: ScriptStatus,
    },
    ScriptError {
        name: String,
    },
    File {
        name: String,
        value: i64,
    },
    /// `vrrp_track_process` quorum gained (`up`) or lost
    /// ([`crate::track_process`]).
    Process {
        name: String,
        up: bool,
    },
}

/// Spawn a poller for one vrrp_script. Sends the initial state at once.
pub fn spawn_script(
    def: VrrpScript,
    runner: ScriptRunner,
    tx: mpsc::Sender<TrackUpdate>,
) -> JoinHandle<()> {
    spawn_script_resumed(def, runner, tx, None)
}

/// Like [`spawn_script`], for a reload: `previous` is the status the script had
/// before, carried over as keepalived's `clear_diff_script()` does, so a
/// reload does not send a tracked instance through "no result" (FAULT).
pub fn spawn_script_resumed(
    def: VrrpScript,
    runner: ScriptRunner,
    tx: mpsc::Sender<TrackUpdate>,
    previous: Option<ScriptStatus>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let name = def.name.clone();
        let mut filter = match previous {
            Some(p) => ScriptTracker::carried_over(def.rise, def.fall, def.init_fail, p),
            None => ScriptTracker::new(def.rise, def.fall, def.init_fail),
        };
        if tx
            .send(TrackUpdate::Script {
                name: name.clone(),
                status: filter.status(),
            })
            .await
            .is_err()
        {
            return;
        }
        // The one security check (rkeepalived_script::prepare): the
        // supervisor already removed refused scripts from the model; one that
        // stopped passing since (or whose user vanished) is treated as failing
        // and never run (never as root instead of its user).
        let user = def
            .user
            .as_ref()
            .map(|u| (u.user.as_str(), u.group.as_deref()));
        let script = match rkeepalived_script::prepare(&def.script, user, runner.security()) {
            Ok(p) => p.script,
            Err(e) => {
                tracing::error!(script = %name, "Disabling track script {name}: {e}; treated as failing");
                let _ = tx
                    .send(TrackUpdate::ScriptError { name: name.clone() })
                    .await;
                let _ = tx
                    .send(TrackUpdate::Script {
                        name,
                        status: ScriptStatus::Down,
                    })
                    .await;
                return;
            }
        };
        let mut tick = tokio::time::interval(def.interval.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let success = match runner
                .run(&script, &[], def.timeout.max(Duration::from_millis(10)))
                .await
            {
                Ok(out) => out.success(),
                Err(e) => {
                    tracing::warn!(script = %name, error = %e, "vrrp_script could not run");
                    if tx
                        .send(TrackUpdate::ScriptError { name: name.clone() })
                        .await
                        .is_err()
                    {
                        return;
                    }
                    false
                }
            };
            if let Some(status) = filter.record(success) {
                // keepalived vrrp_scheduler.c: "VRRP_Script(%s) succeeded" / "... failed".
                let verdict = if status == ScriptStatus::Up {
                    "succeeded"
                } else {
                    "failed"
                };
                tracing::info!(script = %name, ?status, "VRRP_Script({name}) {verdict}");
                if tx
                    .send(TrackUpdate::Script {
                        name: name.clone(),
                        status,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    })
}

/// keepalived reads the first integer of a track file; anything else is 0.
pub fn parse_track_value(text: &str) -> i64 {
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0)
}

fn read_track_file(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .map(|t| parse_track_value(&t))
        .unwrap_or(0)
}

/// How often track files are re-read (keepalived uses inotify; polling keeps
/// this portable and cheap).
pub const TRACK_FILE_POLL: Duration = Duration::from_millis(500);

/// Spawn a reader for one vrrp_track_file; reports the value on every change.
pub fn spawn_track_file(def: VrrpTrackFile, tx: mpsc::Sender<TrackUpdate>) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(init) = &def.init_file {
            if init.overwrite || !def.file.exists() {
                // keepalived: fopen_safe(path, "w") (trackers/track_file.c).
                let content = format!("{}\n", init.value);
                let written = rkeepalived_script::safe_file::write_replace(
                    &def.file,
                    content.as_bytes(),
                    rkeepalived_script::safe_file::PRIVATE_MODE,
                );
                if let Err(e) = written {
                    tracing::warn!(file = %def.file.display(), error = %e, "cannot initialise track file");
                }
            }
        }
        let mut last = None;
        loop {
            let value = read_track_file(&def.file);
            if last != Some(value) {
                last = Some(value);
                if tx
                    .send(TrackUpdate::File {
                        name: def.name.clone(),
                        value,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            tokio::time::sleep(TRACK_FILE_POLL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vrrp_script the child refuses (here: unknown user) is never run
    /// and reported as failing.
    #[tokio::test]
    async fn refused_vrrp_script_never_runs() {
        let dir = std::env::temp_dir().join(format!("rkv-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("ran");
        let mut def = VrrpScript::new("chk", format!("/bin/touch {}", marker.display()));
        def.user = Some(rkeepalived_config::model::ScriptUser {
            user: "rkv-no-such-user".into(),
            group: None,
        });
        def.interval = Duration::from_millis(20);
        let runner = ScriptRunner::new(rkeepalived_script::ScriptSecurity::root(false));
        let (tx, mut rx) = mpsc::channel(8);
        let task = spawn_script(def, runner, tx);
        let mut updates = Vec::new();
        while let Some(u) = rx.recv().await {
            updates.push(u);
        }
        task.await.unwrap();
        assert_eq!(
            updates[1..],
            [
                TrackUpdate::ScriptError { name: "chk".into() },
                TrackUpdate::Script {
                    name: "chk".into(),
                    status: ScriptStatus::Down
                }
            ]
        );
        assert!(!marker.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn track_values() {
        assert_eq!(parse_track_value("42\n"), 42);
        assert_eq!(parse_track_value("-3 extra"), -3);
        assert_eq!(parse_track_value("garbage"), 0);
        assert_eq!(parse_track_value(""), 0);
    }
}
