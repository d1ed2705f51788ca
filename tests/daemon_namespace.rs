//! `net_namespace`, `instance`, `use_pid_dir`, `data_use_instance` and the
//! process-name keywords, compared with keepalived 2.2.7 run on the same
//! configuration: the namespace the daemon runs in, the runtime files it
//! creates (pid files, dumps, status socket), daemons side by side, and
//! `ps -o comm,args` under each name keyword, also after a reload. Needs
//! root.

mod daemon_util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_util::*;

const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// Runs `program args` with its output in `log`; SIGTERM (then SIGKILL) on
/// drop.
fn spawn(program: &str, args: &[&str], env: &[(&str, &str)], log: &Path) -> Killed {
    let out = std::fs::File::create(log).expect("log");
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("RUST_LOG", "info")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Killed(cmd.spawn().unwrap_or_else(|e| panic!("{program}: {e}")))
}

/// Stops a daemon and waits for it (bounded).
fn stop(d: Killed) {
    drop(d);
}

/// Removes runtime paths a test's daemons create outside the scratch
/// directory, also when the test failed.
struct RunPaths(Vec<PathBuf>);

impl Drop for RunPaths {
    fn drop(&mut self) {
        for p in &self.0 {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn names_in(dir: &Path, filter: impl Fn(&str) -> bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| filter(n))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether `pid` has a mount on /run/keepalived (keepalived's private
/// mount namespace, core/namespaces.c set_run_mount()).
fn has_run_mount(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some("/run/keepalived"))
}

fn status_pid(conf: &str) -> Option<i64> {
    let out = Command::new(bin())
        .args(["--status", "-f", conf])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("pid")?.as_i64()
}

/// A VRRP advert seen on the namespace's wire (eth0's veth peer).
fn advert_seen(ns: &Netns) -> bool {
    let out = sh(&[
        "ip", "netns", "exec", &ns.name, "timeout", "6", "tcpdump", "-c", "1", "-n", "-i", "peer0",
        "vrrp",
    ]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("VRRP")
}

/// `net_namespace NS` + `instance` + `data_use_instance`, started from the
/// host's namespace (no `ip netns exec`): keepalived and rkeepalived both
/// run in NS (VIP and adverts there, not on the host), in a private mount
/// namespace, with the same pid files in /run/keepalived/NS/ and the same
/// dump names, all removed again on stop.
#[test]
fn net_namespace_runs_the_daemon_inside_with_keepalived_paths() {
    if !prerequisites(&["keepalived", "tcpdump"]) {
        return;
    }
    let scratch = Scratch::new("nsrun");
    let ns = Netns::new("nsrun");
    let inst = format!("lb{}", std::process::id());
    let conf = scratch.write(
        "keepalived.conf",
        &format!(
            "net_namespace {}\ninstance {inst}\n{}{}",
            ns.name,
            global_block("    data_use_instance\n"),
            vrrp_block("192.0.2.100")
        ),
    );
    let conf = conf.display().to_string();
    let pid_dir = Path::new("/run/keepalived").join(&ns.name);
    let _paths = RunPaths(vec![
        pid_dir.clone(),
        Path::new("/run/rkeepalived").join(&ns.name),
    ]);
    let main_pid = pid_dir.join(format!("keepalived_{inst}.pid"));
    let vrrp_pid = pid_dir.join(format!("vrrp_{inst}.pid"));
    let data = format!("keepalived.{}_{inst}.data", ns.name);

    // keepalived 2.2.7: its tmp_dir is $TMPDIR.
    let ka_tmp = scratch.subdir("ka", 0o755);
    let ka = spawn(
        KEEPALIVED,
        &["-n", "-l", "-G", "-f", &conf],
        &[("TMPDIR", &ka_tmp.display().to_string())],
        &scratch.p("ka.log"),
    );
    wait_for(
        "keepalived's pid files in /run/keepalived/NS",
        LIMIT,
        || {
            [&main_pid, &vrrp_pid]
                .iter()
                .all(|f| read_pid(f).is_some_and(alive))
        },
    );
    let ka_pid = read_pid(&main_pid).unwrap_or(0);
    assert!(has_run_mount(ka_pid), "keepalived mounts /run/keepalived");
    let ka_pids = names_in(&pid_dir, |n| n.ends_with(".pid"));
    sh(&["kill", "-USR1", &ka_pid.to_string()]);
    sh(&["kill", "-USR2", &ka_pid.to_string()]);
    wait_for("keepalived's dumps", LIMIT, || {
        ka_tmp.join(&data).exists() && ka_tmp.join("keepalived.stats").exists()
    });
    stop(ka);
    wait_for("keepalived removed /run/keepalived/NS", LIMIT, || {
        !pid_dir.exists()
    });
    let ka_dumps = names_in(&ka_tmp, |_| true);

    // Ours, started the same way (its dumps too go to $TMPDIR).
    let rk_tmp = scratch.subdir("rk", 0o755);
    let rk_tmp_s = rk_tmp.display().to_string();
    let rk = spawn(
        bin(),
        &["-n", "-l", "-G", "-f", &conf],
        &[("TMPDIR", &rk_tmp_s)],
        &scratch.p("daemon.log"),
    );
    wait_for("our pid files in /run/keepalived/NS", LIMIT, || {
        [&main_pid, &vrrp_pid]
            .iter()
            .all(|f| read_pid(f).is_some_and(alive))
    });
    let rk_pid = read_pid(&main_pid).unwrap_or(0);
    assert_eq!(rk_pid as u32, rk.0.id(), "the pid file names our daemon");
    assert!(has_run_mount(rk_pid), "we mount /run/keepalived too");
    assert_eq!(names_in(&pid_dir, |n| n.ends_with(".pid")), ka_pids);
    wait_for("the VIP inside the namespace", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    assert!(advert_seen(&ns), "adverts on the namespace's wire");
    let host = sh(&["ip", "-o", "addr", "show"]);
    assert!(
        !String::from_utf8_lossy(&host.stdout).contains(" 192.0.2.100/24"),
        "no VIP in the host's namespace"
    );
    // The status socket follows the namespace and instance; --status finds
    // it from the same configuration.
    assert!(Path::new("/run/rkeepalived")
        .join(&ns.name)
        .join(format!("status_{inst}.sock"))
        .exists());
    wait_for("--status answers", LIMIT, || {
        status_pid(&conf) == Some(rk_pid.into())
    });
    sh(&["kill", "-USR1", &rk_pid.to_string()]);
    sh(&["kill", "-USR2", &rk_pid.to_string()]);
    wait_for("our dumps", LIMIT, || {
        rk_tmp.join(&data).exists() && rk_tmp.join("keepalived.stats").exists()
    });
    let rk_dumps = names_in(&rk_tmp, |_| true);
    // keepalived also writes keepalived_parent.NS_INST.data (its parent's
    // own data): every dump of ours has keepalived's name.
    for d in &rk_dumps {
        assert!(
            ka_dumps.contains(d),
            "{d} not among keepalived's {ka_dumps:?}"
        );
    }
    let log = std::fs::read_to_string(scratch.p("daemon.log")).unwrap_or_default();
    assert!(
        log.contains(&format!(
            "Changing syslog ident to Keepalived_{}_{inst}",
            ns.name
        )),
        "{log}"
    );
    stop(rk);
    wait_for("we removed /run/keepalived/NS", LIMIT, || !pid_dir.exists());
    assert!(!Path::new("/run/rkeepalived").join(&ns.name).exists());
}

/// A namespace that does not exist: keepalived 2.2.7 logs two lines and
/// exits 0 (core/main.c jumps to its normal end); so do we.
#[test]
fn missing_namespace_exits_as_keepalived_does() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("nsmiss");
    let missing = format!("rkd-missing-{}", std::process::id());
    let conf = scratch.write(
        "keepalived.conf",
        &format!(
            "net_namespace {missing}\n{}{}",
            global_block(""),
            vrrp_block("192.0.2.100")
        ),
    );
    let conf = conf.display().to_string();
    let mut outs = Vec::new();
    for program in [KEEPALIVED, bin()] {
        let out = Command::new(program)
            .args(["-n", "-l", "-G", "-f", &conf])
            .env_remove("NOTIFY_SOCKET")
            .output()
            .expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        outs.push((program, out.status.code(), text));
    }
    for (program, code, text) in &outs {
        assert_eq!(*code, Some(0), "{program}: {text}");
        for line in [
            format!("Failed to open /run/netns/{missing}"),
            format!("Unable to set network namespace {missing} - exiting"),
        ] {
            assert!(text.contains(&line), "{program} lacks '{line}':\n{text}");
        }
    }
    assert!(!Path::new("/run/keepalived").join(&missing).exists());
}

/// Three daemons side by side with no path on their command lines, kept
/// apart by their configurations alone: `instance NAME` (pid files
/// /run/keepalived/keepalived_NAME.pid), `net_namespace NS`
/// (/run/keepalived/NS/) and `use_pid_dir` (/run/keepalived/keepalived.pid).
/// Each status socket is its own; stopping one leaves the others.
#[test]
fn two_daemons_side_by_side_by_instance_and_namespace() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("nssbs");
    let (na, nb, nc) = (
        Netns::new("sbs-i"),
        Netns::new("sbs-n"),
        Netns::new("sbs-u"),
    );
    let inst = format!("sbs{}", std::process::id());
    let run = Path::new("/run/keepalived");
    let _paths = RunPaths(vec![
        run.join(format!("keepalived_{inst}.pid")),
        run.join(format!("vrrp_{inst}.pid")),
        run.join(format!("vrrp_{inst}.owned.json")),
        run.join("keepalived.pid"),
        run.join("vrrp.pid"),
        run.join("vrrp.owned.json"),
        run.join(&nb.name),
        Path::new("/run/rkeepalived").join(&nb.name),
        Path::new("/run/rkeepalived").join(format!("status_{inst}.sock")),
    ]);
    let body = format!("{}{}", global_block(""), vrrp_block("192.0.2.100"));
    let conf_a = scratch.write("a.conf", &format!("instance {inst}\n{body}"));
    let conf_b = scratch.write("b.conf", &format!("net_namespace {}\n{body}", nb.name));
    let conf_c = scratch.write("c.conf", &format!("use_pid_dir\n{body}"));
    let [conf_a, conf_b, conf_c] = [conf_a, conf_b, conf_c].map(|c| c.display().to_string());
    let start = |ns: Option<&Netns>, conf: &str, tag: &str| {
        let dump = scratch.subdir(tag, 0o755).display().to_string();
        let mut args: Vec<&str> = Vec::new();
        if let Some(ns) = ns {
            args.extend(["netns", "exec", &ns.name, bin()]);
        }
        args.extend(["-n", "-l", "-G", "-f", conf, "--dump-dir", &dump]);
        let log = scratch.p(&format!("{tag}.log"));
        match ns {
            Some(_) => spawn("ip", &args, &[], &log),
            None => spawn(bin(), &args, &[], &log),
        }
    };
    let da = start(Some(&na), &conf_a, "a");
    let db = start(None, &conf_b, "b");
    let dc = start(Some(&nc), &conf_c, "c");
    let pid_a = run.join(format!("keepalived_{inst}.pid"));
    let pid_b = run.join(&nb.name).join("keepalived.pid");
    let pid_c = run.join("keepalived.pid");
    for (what, files) in [
        (
            "instance",
            vec![pid_a.clone(), run.join(format!("vrrp_{inst}.pid"))],
        ),
        (
            "namespace",
            vec![pid_b.clone(), run.join(&nb.name).join("vrrp.pid")],
        ),
        ("use_pid_dir", vec![pid_c.clone(), run.join("vrrp.pid")]),
    ] {
        wait_for(&format!("the {what} daemon's pid files"), LIMIT, || {
            files.iter().all(|f| read_pid(f).is_some_and(alive))
        });
    }
    let pids = [&pid_a, &pid_b, &pid_c].map(|p| read_pid(p).unwrap_or(0));
    let confs = [&conf_a, &conf_b, &conf_c];
    wait_for(
        "each status socket answers for its own daemon",
        LIMIT,
        || {
            confs
                .iter()
                .zip(pids)
                .all(|(c, p)| status_pid(c) == Some(p.into()))
        },
    );
    assert!(Path::new("/run/rkeepalived")
        .join(format!("status_{inst}.sock"))
        .exists());
    assert!(Path::new("/run/rkeepalived")
        .join(&nb.name)
        .join("status.sock")
        .exists());
    wait_for("each daemon holds its VIP in its namespace", LIMIT, || {
        [&na, &nb, &nc]
            .iter()
            .all(|n| n.addr_count("eth0", "192.0.2.100") == 1)
    });
    stop(da);
    assert!(!pid_a.exists(), "the stopped daemon removed its pid file");
    assert_eq!(status_pid(&conf_a), None);
    assert_eq!(status_pid(&conf_b), Some(pids[1].into()));
    assert_eq!(status_pid(&conf_c), Some(pids[2].into()));
    stop(db);
    stop(dc);
    assert!(!pid_c.exists());
    assert!(!run.join(&nb.name).exists());
}

/// (comm, argv) of a process.
fn identity(pid: i32) -> (String, Vec<String>) {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (comm, argv)
}

fn comms(dir: &Path) -> Vec<(String, Vec<String>)> {
    ["k.pid", "v.pid", "c.pid"]
        .iter()
        .map(|f| identity(read_pid(&dir.join(f)).unwrap_or(0)))
        .collect()
}

/// `process_name`, `process_names`, `checker_process_name` (truncated to
/// 15 bytes), then a reload to `vrrp_process_name` + the deprecated
/// `lvs_process_name` without `process_name`: `ps -o comm,args` shows the
/// same names for keepalived 2.2.7 and for ours (started as `keepalived`),
/// and the command lines stay the parent's.
#[test]
fn process_name_keywords_name_processes_like_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("pnames");
    let first = format!(
        "{}{}",
        global_block(
            "    process_name lbparent\n    process_names\n    checker_process_name my_checker_name_long\n"
        ),
        vrrp_block("192.0.2.100")
    );
    let second = format!(
        "{}{}",
        global_block("    vrrp_process_name vrrp_two\n    lvs_process_name lvs_two\n"),
        vrrp_block("192.0.2.100")
    );
    let link = scratch.p("keepalived");
    std::os::unix::fs::symlink(bin(), &link).expect("symlink");
    let link = link.display().to_string();
    let mut runs = Vec::new();
    let mut daemons = Vec::new();
    for (tag, program) in [("ka", KEEPALIVED), ("rk", link.as_str())] {
        let ns = Netns::new(&format!("pn-{tag}"));
        let dir = scratch.subdir(tag, 0o755);
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, &first).expect("conf");
        let p = |n: &str| dir.join(n).display().to_string();
        let dump = dir.display().to_string();
        let (conf_s, k, v, c) = (
            conf.display().to_string(),
            p("k.pid"),
            p("v.pid"),
            p("c.pid"),
        );
        let mut args = vec!["netns", "exec", &ns.name, program];
        args.extend(["--all", "-n", "-l", "-G", "-f", &conf_s]);
        args.extend(["-p", &k, "-r", &v, "-c", &c]);
        if tag == "rk" {
            args.extend(["--dump-dir", &dump]);
        }
        let log = if tag == "rk" { "daemon.log" } else { "ka.log" };
        daemons.push(spawn("ip", &args, &[], &scratch.p(log)));
        runs.push((ns, dir, conf));
    }
    let wait_names = |dir: &Path, want: [&str; 3]| {
        wait_for(&format!("names {want:?}"), LIMIT, || {
            let ids = comms(dir);
            ids.iter().map(|(c, _)| c.as_str()).eq(want)
        });
        let ids = comms(dir);
        for (comm, argv) in &ids {
            assert_eq!(argv, &ids[0].1, "{comm}: the parent's command line");
        }
    };
    for (_, dir, _) in &runs {
        wait_names(dir, ["lbparent", "keepalived_vrrp", "my_checker_name"]);
    }
    for (_, dir, conf) in &runs {
        std::fs::write(conf, &second).expect("conf");
        let k = read_pid(&dir.join("k.pid")).unwrap_or(0);
        sh(&["kill", "-HUP", &k.to_string()]);
    }
    // keepalived's set_process_name(NULL) names the parent `keepalived`;
    // ours goes back to the name it was started with, `keepalived` here.
    for (_, dir, _) in &runs {
        wait_names(dir, ["keepalived", "vrrp_two", "lvs_two"]);
    }
    let rk_log = std::fs::read_to_string(scratch.p("daemon.log")).unwrap_or_default();
    assert!(
        rk_log.contains("Process name my_checker_name_long more than 15 characters, truncating"),
        "{rk_log}"
    );
    assert!(
        rk_log.contains("'lvs_process_name' is deprecated - please use 'checker_process_name'"),
        "{rk_log}"
    );
    drop(daemons);
    std::thread::sleep(Duration::from_millis(100));
}

/// A reload cannot change `instance` (nor the namespace): keepalived 2.2.7
/// logs "Cannot change instance name at a reload - please restart
/// keepalived" and keeps its old global settings, so a `process_name`
/// changed by the same reload is not applied either. Ours does the same.
#[test]
fn reload_refuses_a_new_instance_name_like_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("nsreload");
    let conf = |inst: &str, name: &str| {
        format!(
            "instance {inst}\n{}{}",
            global_block(&format!("    process_name {name}\n")),
            vrrp_block("192.0.2.100")
        )
    };
    let mut runs = Vec::new();
    for (tag, program) in [("ka", KEEPALIVED), ("rk", bin())] {
        let ns = Netns::new(&format!("rl-{tag}"));
        let dir = scratch.subdir(tag, 0o755);
        let file = dir.join("keepalived.conf");
        std::fs::write(&file, conf("one", "pa")).expect("conf");
        let p = |n: &str| dir.join(n).display().to_string();
        let (f, k, v, c, d) = (
            file.display().to_string(),
            p("k.pid"),
            p("v.pid"),
            p("c.pid"),
            p(""),
        );
        let mut args = vec!["netns", "exec", &ns.name, program];
        args.extend(["-n", "-l", "-G", "-f", &f, "-p", &k, "-r", &v, "-c", &c]);
        if tag == "rk" {
            args.extend(["--dump-dir", &d]);
        }
        let log = dir.join("out.log");
        let daemon = spawn("ip", &args, &[], &log);
        runs.push((ns, dir, file, log, daemon));
    }
    let comm = |dir: &Path| identity(read_pid(&dir.join("k.pid")).unwrap_or(0)).0;
    for (_, dir, file, _, _) in &runs {
        wait_for("the renamed parent", LIMIT, || comm(dir) == "pa");
        wait_for("the VRRP child", LIMIT, || {
            read_pid(&dir.join("v.pid")).is_some_and(alive)
        });
        std::fs::write(file, conf("two", "pb")).expect("conf");
        sh(&[
            "kill",
            "-HUP",
            &read_pid(&dir.join("k.pid")).unwrap_or(0).to_string(),
        ]);
    }
    let line = "Cannot change instance name at a reload - please restart keepalived";
    for (_, dir, _, log, _) in &runs {
        wait_for(&format!("'{line}' in {}", log.display()), LIMIT, || {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .contains(line)
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(comm(dir), "pa", "{}: process_name applied", dir.display());
    }
}
