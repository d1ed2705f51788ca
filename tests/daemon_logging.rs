//! Syslog output of the supervisor and both children: BSD syslog datagrams
//! with the `-S` facility and keepalived's identities (Keepalived,
//! Keepalived_vrrp, Keepalived_healthcheckers). Needs root.

mod daemon_util;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use daemon_util::*;

#[test]
fn syslog_lines_carry_facility_and_per_process_identity() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("syslog");
    let scratch = Scratch::new("syslog");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let sock_path = scratch.p("log.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind fake /dev/log");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let sock_arg = sock_path.display().to_string();
    let _d = Daemon::start(
        &ns,
        &scratch,
        &["--syslog-socket", &sock_arg, "-S", "local3"],
        &[],
    );

    let mut lines: Vec<String> = Vec::new();
    // local3 = facility 19; info = severity 6: PRI 19*8+6 = 158.
    let want = [
        "<158>Keepalived[",
        "<158>Keepalived_vrrp[",
        "<158>Keepalived_healthcheckers[",
    ];
    wait_for(
        "info lines from the supervisor and both children",
        LIMIT,
        || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = sock.recv(&mut buf) {
                lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            want.iter().all(|w| lines.iter().any(|l| l.starts_with(w)))
        },
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('<') && !l.ends_with('\n') && !l.contains('\u{1b}')),
        "one plain line per datagram: {lines:#?}"
    );
    let pri_ok = |l: &String| {
        let pri: u32 = l[1..l.find('>').unwrap_or(1)].parse().unwrap_or(0);
        pri / 8 == 19
    };
    assert!(
        lines.iter().all(pri_ok),
        "every line uses local3: {lines:#?}"
    );
}
