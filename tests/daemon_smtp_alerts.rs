//! Alert e-mails (`notification_email`, `notification_email_from`,
//! `smtp_server`, `smtp_helo_name`, `smtp_connect_timeout`, `smtp_alert`,
//! `smtp_alert_vrrp`, `no_email_faults`), against keepalived 2.2.7: the
//! same configuration runs under both, each in its own network namespace
//! with a fake SMTP server on 192.0.2.25 there, through the same events;
//! the SMTP dialogues must be the same (Date: normalised). Needs root.

mod daemon_util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use daemon_util::*;

/// One recorded SMTP session: every command line, the DATA block as one
/// entry (its `Date:` header replaced by `Date: <date>`).
type Sessions = Arc<Mutex<Vec<Vec<String>>>>;

/// A fake SMTP server on 192.0.2.25:2525 inside `ns` (a thread that
/// enters the namespace), answering every command with success.
fn fake_smtp(ns: &Netns) -> Sessions {
    ns.ip(&["addr", "add", "192.0.2.25/32", "dev", "lo"]);
    let sessions: Sessions = Arc::default();
    let rec = sessions.clone();
    let path = format!("/var/run/netns/{}", ns.name);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).expect("netns file");
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let l = TcpListener::bind("192.0.2.25:2525").expect("bind fake SMTP server");
        let _ = ready_tx.send(());
        for conn in l.incoming() {
            let Ok(mut w) = conn else { return };
            let _ = w.set_read_timeout(Some(Duration::from_secs(10)));
            let Ok(r) = w.try_clone() else { return };
            let mut r = BufReader::new(r);
            let idx = {
                let mut s = rec.lock().expect("lock");
                s.push(Vec::new());
                s.len() - 1
            };
            let _ = w.write_all(b"220 fake.example.org ESMTP\r\n");
            let mut data: Option<String> = None;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(block) = data.as_mut() {
                    if line.starts_with("Date: ") && block.is_empty() {
                        line = "Date: <date>\r\n".into();
                    }
                    block.push_str(&line);
                    if line == ".\r\n" {
                        let block = data.take().unwrap_or_default();
                        rec.lock().expect("lock")[idx].push(block);
                        let _ = w.write_all(b"250 2.0.0 queued\r\n");
                    }
                    continue;
                }
                rec.lock().expect("lock")[idx].push(line.clone());
                let reply: &[u8] = match line.as_str() {
                    "DATA\r\n" => {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    }
                    "QUIT\r\n" => b"221 bye\r\n",
                    _ => b"250 ok\r\n",
                };
                let _ = w.write_all(reply);
                if line == "QUIT\r\n" {
                    break;
                }
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("fake SMTP server ready");
    sessions
}

fn subjects(s: &Sessions) -> Vec<String> {
    s.lock()
        .expect("lock")
        .iter()
        .flat_map(|sess| sess.iter())
        .filter_map(|l| {
            l.lines()
                .find(|h| h.starts_with("Subject: "))
                .map(|h| h.trim_start_matches("Subject: ").to_string())
        })
        .collect()
}

fn config(global_extra: &str, instance_extra: &str, group: bool) -> String {
    let group = if group {
        "vrrp_sync_group G1 {\n    group {\n        VI_1\n    }\n    smtp_alert\n}\n"
    } else {
        ""
    };
    format!(
        "global_defs {{
    router_id rkd_mail
    notification_email {{
        ops@example.org
        noc@example.org
    }}
    smtp_server 192.0.2.25 2525
    smtp_connect_timeout 5
{global_extra}}}
{group}vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
{instance_extra}    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"
    )
}

struct Pair {
    ka_ns: Netns,
    rk_ns: Netns,
    ka_mail: Sessions,
    rk_mail: Sessions,
    ka: Option<Killed>,
    rk: Daemon,
    _scratch: Scratch,
}

fn start_both(tag: &str, conf: &str) -> Pair {
    let ka_ns = Netns::new(&format!("{tag}-ka"));
    let rk_ns = Netns::new(&format!("{tag}-rk"));
    start_with(tag, ka_ns, rk_ns, conf)
}

fn wait_subjects(p: &Pair, want: &[&str]) {
    wait_for(&format!("mails {want:?} under both"), LIMIT, || {
        let ok = |s: &Sessions| {
            let got = subjects(s);
            want.iter().all(|w| got.iter().any(|g| g == w))
        };
        ok(&p.ka_mail) && ok(&p.rk_mail)
    });
}

fn sessions(s: &Sessions) -> Vec<Vec<String>> {
    s.lock().expect("lock").clone()
}

/// BACKUP at start, then MASTER: one mail each (none at stop), the dialogue (HELO with
/// the local name, MAIL FROM root@<local name>, RCPT TO per address, DATA
/// headers, body, QUIT) identical to keepalived 2.2.7's. The sync group's
/// own `smtp_alert` mails the group's states too.
#[test]
fn vrrp_state_mails_match_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let conf = config("", "    smtp_alert\n", true);
    let mut p = start_both("smtpvrrp", &conf);
    wait_subjects(
        &p,
        &[
            "[rkd_mail] VRRP Instance VI_1 - Entering MASTER state",
            "[rkd_mail] VRRP Group G1 - Entering MASTER state",
        ],
    );
    // Any straggler mail of the same events.
    std::thread::sleep(Duration::from_millis(1500));
    let ka = sessions(&p.ka_mail);
    let rk = sessions(&p.rk_mail);
    let mut ka_sorted = ka.clone();
    let mut rk_sorted = rk.clone();
    ka_sorted.sort();
    rk_sorted.sort();
    assert_eq!(
        rk_sorted, ka_sorted,
        "SMTP sessions, ours vs keepalived 2.2.7"
    );
    let master = rk
        .iter()
        .find(|s| s.iter().any(|l| l.contains("VI_1 - Entering MASTER")))
        .expect("MASTER mail");
    assert_eq!(master[1], "MAIL FROM:<root@".to_string() + &master[1][16..]);
    assert_eq!(master[2], "RCPT TO:<ops@example.org>\r\n");
    assert_eq!(master[3], "RCPT TO:<noc@example.org>\r\n");
    assert_eq!(master[4], "DATA\r\n");
    assert!(master[5].ends_with(
        "Subject: [rkd_mail] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
         To: ops@example.org, noc@example.org\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n.\r\n"
    ));
    assert_eq!(master[6], "QUIT\r\n");
    drop(p.ka.take());
    p.rk.signal("TERM");
    assert!(p.rk.wait_exit(LIMIT).success());
    std::thread::sleep(Duration::from_millis(1500));
    // keepalived 2.2.7 opens the connections of its "Stopping" mails but
    // exits before the greeting: no mail arrives, and none from us.
    let done = |m: &Sessions| -> Vec<Vec<String>> {
        let mut v: Vec<_> = sessions(m).into_iter().filter(|s| !s.is_empty()).collect();
        v.sort();
        v
    };
    assert_eq!(done(&p.rk_mail), done(&p.ka_mail), "after stop");
    assert!(!subjects(&p.rk_mail).iter().any(|s| s.contains("Stopping")));
    let _ = (&p.ka_ns, &p.rk_ns);
}

/// `no_email_faults`: an instance going to FAULT (its tracked interface
/// down) and back sends no FAULT mail, but the BACKUP/MASTER ones; without
/// it the FAULT mail is sent. Explicit `smtp_helo_name` and
/// `notification_email_from`, and the global `smtp_alert_vrrp`.
#[test]
fn no_email_faults_matches_keepalived() {
    fault_cycle("smtpnofault", true);
}

#[test]
fn fault_mail_matches_keepalived() {
    fault_cycle("smtpfault", false);
}

fn fault_cycle(tag: &str, no_faults: bool) {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let global = format!(
        "    smtp_helo_name lb1.example.org\n    notification_email_from keepalived@example.org\n    smtp_alert_vrrp\n{}",
        if no_faults { "    no_email_faults\n" } else { "" }
    );
    let conf = config(
        &global,
        "    track_interface {\n        dum0\n    }\n",
        false,
    );
    let add_dummy = |ns: &Netns| {
        // A veth pair (the host may have no dummy module).
        ns.ip(&[
            "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
        ]);
        ns.ip(&["link", "set", "dum1", "up"]);
        ns.ip(&["link", "set", "dum0", "up"]);
    };
    // The dummy must exist before the daemons read the configuration.
    let ka_ns = Netns::new(&format!("{tag}-ka"));
    let rk_ns = Netns::new(&format!("{tag}-rk"));
    add_dummy(&ka_ns);
    add_dummy(&rk_ns);
    let mut p = start_with(tag, ka_ns, rk_ns, &conf);
    let master = "[rkd_mail] VRRP Instance VI_1 - Entering MASTER state";
    wait_subjects(&p, &[master]);
    p.ka_ns.ip(&["link", "set", "dum0", "down"]);
    p.rk_ns.ip(&["link", "set", "dum0", "down"]);
    wait_for("both lost the VIP (FAULT)", LIMIT, || {
        p.ka_ns.addr_count("eth0", "192.0.2.100") == 0
            && p.rk_ns.addr_count("eth0", "192.0.2.100") == 0
    });
    std::thread::sleep(Duration::from_millis(1500));
    p.ka_ns.ip(&["link", "set", "dum0", "up"]);
    p.rk_ns.ip(&["link", "set", "dum0", "up"]);
    wait_for("both MASTER again", LIMIT, || {
        let n = |s: &Sessions| subjects(s).iter().filter(|x| *x == master).count();
        n(&p.ka_mail) == 2 && n(&p.rk_mail) == 2
    });
    std::thread::sleep(Duration::from_millis(1500));
    let ka = subjects(&p.ka_mail);
    let rk = subjects(&p.rk_mail);
    assert_eq!(rk, ka, "mail subjects in order, ours vs keepalived 2.2.7");
    let fault = "[rkd_mail] VRRP Instance VI_1 - Entering FAULT state";
    assert_eq!(rk.iter().any(|s| s == fault), !no_faults, "{rk:?}");
    let mut ka_s = sessions(&p.ka_mail);
    let mut rk_s = sessions(&p.rk_mail);
    ka_s.sort();
    rk_s.sort();
    assert_eq!(rk_s, ka_s, "SMTP sessions, ours vs keepalived 2.2.7");
    assert_eq!(rk_s[0][0], "HELO lb1.example.org\r\n");
    assert_eq!(rk_s[0][1], "MAIL FROM:<keepalived@example.org>\r\n");
    drop(p.ka.take());
    p.rk.signal("TERM");
    assert!(p.rk.wait_exit(LIMIT).success());
}

fn start_with(tag: &str, ka_ns: Netns, rk_ns: Netns, conf: &str) -> Pair {
    let scratch = Scratch::new(tag);
    let ka_mail = fake_smtp(&ka_ns);
    let rk_mail = fake_smtp(&rk_ns);
    let ka_conf = scratch.write("ka.conf", conf);
    scratch.write("keepalived.conf", conf);
    let ka = spawn_keepalived(&ka_ns, &scratch, &ka_conf, &["-P", "-D"], "ka.log");
    let rk = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    Pair {
        ka_ns,
        rk_ns,
        ka_mail,
        rk_mail,
        ka: Some(ka),
        rk,
        _scratch: scratch,
    }
}

/// A TCP listener on `addr` inside `ns` (a thread that enters it), accepting
/// and closing connections until the test ends.
fn listen_in(ns: &Netns, addr: &'static str) {
    let path = format!("/var/run/netns/{}", ns.name);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).expect("netns file");
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let l = TcpListener::bind(addr).expect("bind real server");
        let _ = ready_tx.send(());
        for c in l.incoming() {
            drop(c);
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("real server ready");
}

/// Checker alerts (`smtp_alert_checker` globally, `smtp_alert` on the
/// virtual server): a real server whose TCP_CHECK fails mails `DOWN` with
/// check_tcp.c's body, the virtual server mails its lost quorum
/// (ipwrapper.c do_vs_notifies), and both mail again when the real server
/// answers. keepalived 2.2.7 cannot run its checker on this host (no IPVS
/// in the kernel), so the expected texts are its format strings.
#[test]
fn real_server_check_mails() {
    if !prerequisites(&[]) {
        return;
    }
    let tag = "smtpcheck";
    let scratch = Scratch::new(tag);
    let ns = Netns::new(tag);
    ns.ip(&["addr", "add", "192.0.2.30/32", "dev", "lo"]);
    let mail = fake_smtp(&ns);
    scratch.write(
        "keepalived.conf",
        "global_defs {
    router_id rkd_mail
    notification_email {
        ops@example.org
    }
    notification_email_from lb@example.org
    smtp_server 192.0.2.25 2525
    smtp_helo_name lb1.example.org
    smtp_connect_timeout 5
    smtp_alert_checker
}
virtual_server 192.0.2.100 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    smtp_alert
    real_server 192.0.2.30 8080 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
",
    );
    let mut d = Daemon::start(&ns, &scratch, &["-C"], &[]);
    let rs_down = "[rkd_mail] Realserver [192.0.2.30]:tcp:8080 of virtual server [192.0.2.100]:tcp:8080 - DOWN";
    let vs_down = "[rkd_mail] Virtualserver [192.0.2.100]:tcp:8080 - DOWN";
    wait_for("DOWN mails", LIMIT, || {
        let s = subjects(&mail);
        s.iter().any(|x| x == rs_down) && s.iter().any(|x| x == vs_down)
    });
    listen_in(&ns, "192.0.2.30:8080");
    let rs_up =
        "[rkd_mail] Realserver [192.0.2.30]:tcp:8080 of virtual server [192.0.2.100]:tcp:8080 - UP";
    let vs_up = "[rkd_mail] Virtualserver [192.0.2.100]:tcp:8080 - UP";
    wait_for("UP mails", LIMIT, || {
        let s = subjects(&mail);
        s.iter().any(|x| x == rs_up) && s.iter().any(|x| x == vs_up)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        subjects(&mail),
        vec![vs_down, rs_down, vs_up, rs_up],
        "in keepalived's order"
    );
    let all = sessions(&mail);
    let data = |i: usize| all[i][4].clone();
    assert!(
        data(0).contains("\r\n\r\n=> Lost quorum 1+0=1 <= 0 <=\r\n"),
        "{}",
        data(0)
    );
    assert!(
        data(1).contains("\r\n\r\n=> TCP CHECK failed on service <=\r\n"),
        "{}",
        data(1)
    );
    assert!(
        data(2).contains("\r\n\r\n=> Gained quorum 1+0=1 <= 1 <=\r\n"),
        "{}",
        data(2)
    );
    assert!(
        data(3).contains("\r\n\r\n=> TCP CHECK succeed on service <=\r\n"),
        "{}",
        data(3)
    );
    assert_eq!(all[0][0], "HELO lb1.example.org\r\n");
    assert_eq!(all[0][1], "MAIL FROM:<lb@example.org>\r\n");
    d.signal("TERM");
    assert!(d.wait_exit(LIMIT).success());
}
