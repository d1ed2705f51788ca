//! Shell completions (bash, zsh, fish) and the rkeepalived(8) man page are
//! generated from the CLI definition itself, so they cannot drift from the
//! flags the daemon accepts. The committed copies under `packaging/` (which
//! the .deb ships) must equal what this generates; to regenerate:
//!
//!     RKD_REGENERATE=1 cargo test --test generated_assets

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;
use rkeepalived::cli::Cli;

/// Sections of rkeepalived(8) that clap does not know: appended after the
/// generated NAME/SYNOPSIS/DESCRIPTION/OPTIONS.
const MAN_TAIL: &str = r#".SH "KEEPALIVED COMPATIBILITY"
rkeepalived reads
.BR keepalived.conf (5)
as keepalived 2.2.7 does, accepts keepalived's command line options, pid
files, signals and dump files, and programs the same IPVS table. The options
keepalived has and rkeepalived does not act on are accepted with a warning.
Every known difference is listed in
.IR /usr/share/doc/rkeepalived/config.md .
.SH SIGNALS
The supervisor (the process in the main pid file) handles keepalived's
signals and passes them to its children:
.TP
.B SIGHUP
Reload: the new configuration is parsed and validated first; a broken one is
refused and the running one is kept. Unchanged VRRP instances keep their
state and unchanged virtual servers keep their connections.
.TP
.BR SIGTERM ", " SIGINT
Stop: VRRP instances send a priority 0 advertisement and remove their
addresses, the checker removes the IPVS entries it created.
.TP
.B SIGUSR1
Write the state dumps to
.I /tmp/keepalived.data
(VRRP),
.I /tmp/keepalived_check.data
(checker) and
.I /tmp/keepalived_parent.data
(global definitions), in keepalived 2.2.7's layout.
.TP
.B SIGUSR2
Write the statistics dump to
.IR /tmp/keepalived.stats .
.PP
The numbers of the real-time signals keepalived uses (JSON dump, statistics
clear) are printed by
.BR "rkeepalived \-\-signum=" NAME ,
as by keepalived, e.g.
.BR "kill \-$(rkeepalived \-\-signum=JSON) $(cat /run/keepalived.pid)" .
.BR DRAIN " and " UNDRAIN
(rkeepalived extensions, SIGRTMIN+5 and SIGRTMIN+6) make the checker
withdraw the routes it announces (announce_route) and keep serving, or
announce them again.
.SH FILES
.TP
.I /etc/keepalived/keepalived.conf
The default configuration file.
.TP
.IR /run/keepalived.pid ", " /run/vrrp.pid ", " /run/checkers.pid
Pid files of the supervisor, the VRRP child and the checker child
(options \-p, \-r, \-c). With
.BI \-s " NS"
they are
.IR /run/keepalived/NS/keepalived.pid ,
and so on, as keepalived puts them.
.TP
.IR /tmp/keepalived.data ", " /tmp/keepalived.stats ", " /tmp/keepalived.json
Dumps written on the signals above, created mode 0600 without following
symbolic links.
.TP
.I /run/rkeepalived/status.sock
The status socket read by
.BR "rkeepalived \-\-status" .
With
.BI \-s " NS"
it is
.IR /run/rkeepalived/NS/status.sock ;
with a pid file of its own
.RI ( "\-p /x/lb1.pid" )
it is beside it
.RI ( /x/lb1.status.sock ),
so daemons side by side each have their own.
.TP
.I /usr/sbin/keepalived
Where no keepalived is installed, the package links it to rkeepalived; started
under that name rkeepalived behaves the same, and its three processes are
named keepalived.
.TP
.IR /etc/default/keepalived ", " /etc/sysconfig/keepalived ", " /etc/default/rkeepalived
Options read by rkeepalived.service (DAEMON_ARGS, KEEPALIVED_OPTIONS).
.SH "EXIT STATUS"
.TP
.B 0
Success (for \-t: the configuration is valid).
.TP
.B 1
A fatal error at start-up (another daemon running, a socket that cannot be
opened).
.TP
.B 5
The configuration has errors (as keepalived's KEEPALIVED_CHK_EXIT_CONFIG);
every error is printed as file:line:col.
.SH "SEE ALSO"
.BR keepalived.conf (5),
.BR keepalived (8),
.BR ipvsadm (8),
.BR systemctl (1)
"#;

fn packaging() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging")
}

/// (path under packaging/, contents) of every generated file.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "rkeepalived.bash"),
        (Shell::Zsh, "_rkeepalived"),
        (Shell::Fish, "rkeepalived.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "rkeepalived", &mut buf);
        out.push((PathBuf::from("completions").join(name), buf));
    }
    let mut man = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .section("8")
        .manual("System Administration")
        .source(format!("rkeepalived {}", env!("CARGO_PKG_VERSION")))
        .render(&mut man)
        .expect("render man page");
    man.extend_from_slice(MAN_TAIL.as_bytes());
    out.push((PathBuf::from("man/rkeepalived.8"), man));
    out
}

#[test]
fn completions_and_man_page_match_the_cli() {
    let regenerate = std::env::var_os("RKD_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (rel, text) in generated() {
        let path = packaging().join(&rel);
        if regenerate {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, &text).expect("write");
            continue;
        }
        if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale: {stale:?}; run RKD_REGENERATE=1 cargo test --test generated_assets"
    );
}

#[test]
fn completions_know_keepalived_flags() {
    let (_, bash) = generated()
        .into_iter()
        .find(|(p, _)| p.ends_with("rkeepalived.bash"))
        .expect("bash completion");
    let bash = String::from_utf8(bash).expect("utf-8");
    for flag in [
        "--use-file",
        "--vrrp",
        "--check",
        "--dont-fork",
        "--config-test",
    ] {
        assert!(
            bash.contains(flag),
            "{flag} missing from the bash completion"
        );
    }
}
