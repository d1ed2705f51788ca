//! Is a routing daemon there to redistribute the announced routes?
//!
//! rkeepalived cannot see whether anything redistributes its announce
//! table; the best hint is a known daemon's control socket. On a director
//! BIRD or FRR often starts after rkeepalived (systemd starts both at
//! once), so the sockets are looked for during a grace period before the
//! operator is warned, and a daemon that shows up late is logged.

use std::path::Path;
use std::time::Duration;

/// Control sockets of the routing daemons we know.
pub const ROUTING_DAEMON_SOCKETS: &[&str] = &[
    "/run/bird/bird.ctl",
    "/var/run/bird/bird.ctl",
    "/run/frr/zserv.api",
    "/var/run/frr/zserv.api",
];

/// How long a routing daemon may take to come up before we warn.
pub const ROUTING_DAEMON_GRACE: Duration = Duration::from_secs(30);

/// How often the sockets are looked for during the grace period.
const POLL: Duration = Duration::from_secs(1);

/// The first of `sockets` that exists.
pub fn find(sockets: &[&'static str]) -> Option<&'static str> {
    sockets.iter().copied().find(|p| Path::new(p).exists())
}

/// What the watch concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Found at once: nothing is logged.
    Present(&'static str),
    /// Found during the grace period (logged at info).
    CameUp(&'static str),
    /// Still none after the grace period (warned).
    Missing,
}

/// Looks for `sockets` until one exists or `grace` has passed, and logs
/// the outcome with the announce `tables` for context.
pub async fn watch(sockets: &'static [&'static str], grace: Duration, tables: String) -> Outcome {
    if let Some(p) = find(sockets) {
        tracing::debug!("route announcement: routing daemon control socket {p} found");
        return Outcome::Present(p);
    }
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL.min(grace)).await;
        if let Some(p) = find(sockets) {
            tracing::info!("route announcement: routing daemon control socket {p} found");
            return Outcome::CameUp(p);
        }
    }
    warn_missing(Some(grace), sockets, &tables);
    Outcome::Missing
}

/// Starts [`watch`] beside the engine; outside a tokio runtime (tests
/// that build an announcer by hand) it only looks once and warns at once.
pub fn spawn_watch(tables: String) {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(watch(ROUTING_DAEMON_SOCKETS, ROUTING_DAEMON_GRACE, tables));
        }
        Err(_) => {
            if find(ROUTING_DAEMON_SOCKETS).is_none() {
                warn_missing(None, ROUTING_DAEMON_SOCKETS, &tables);
            }
        }
    }
}

fn warn_missing(after: Option<Duration>, sockets: &[&str], tables: &str) {
    let after = after.map_or(String::new(), |g| format!(" after {} s", g.as_secs()));
    tracing::warn!(
        "route announcement: no routing daemon found{after} ({}): the routes are installed in \
         table(s) {tables} but no router learns them until BIRD or FRR redistributes them \
         (conf/bird.conf, conf/frr.conf); IPVS and the checks work as usual",
        sockets.join(", "),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path of its own under the temporary directory (not created).
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rkd-routing-daemon-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("ctl")
    }

    fn leak(p: &Path) -> &'static [&'static str] {
        let s: &'static str = Box::leak(p.to_string_lossy().into_owned().into_boxed_str());
        Box::leak(vec![s].into_boxed_slice())
    }

    #[tokio::test(start_paused = true)]
    async fn a_daemon_that_comes_up_late_is_found_without_a_warning() {
        let sock = scratch("late");
        let sockets = leak(&sock);
        let w = tokio::spawn(watch(sockets, Duration::from_secs(30), "{100}".into()));
        tokio::time::sleep(Duration::from_millis(5500)).await;
        std::fs::write(&sock, b"").unwrap();
        assert_eq!(w.await.unwrap(), Outcome::CameUp(sockets[0]));
    }

    #[tokio::test(start_paused = true)]
    async fn no_daemon_within_the_grace_period_is_missing() {
        let sockets = leak(&scratch("missing"));
        let out = watch(sockets, Duration::from_secs(30), "{100}".into()).await;
        assert_eq!(out, Outcome::Missing);
    }

    #[tokio::test(start_paused = true)]
    async fn a_daemon_already_there_is_present() {
        let sock = scratch("present");
        std::fs::write(&sock, b"").unwrap();
        let sockets = leak(&sock);
        let out = watch(sockets, Duration::from_secs(30), "{100}".into()).await;
        assert_eq!(out, Outcome::Present(sockets[0]));
    }
}
