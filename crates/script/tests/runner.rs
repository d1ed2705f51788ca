//! Real processes: exit codes, timeouts killing the process group, no zombies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rkeepalived_script::{ExitStatusKind, RunAs, Script, ScriptRunner, ScriptSecurity};

fn runner() -> ScriptRunner {
    ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    })
    .with_kill_grace(Duration::from_millis(300))
}

fn sh(body: &str) -> Script {
    Script {
        argv: vec!["/bin/sh".into(), "-c".into(), body.into()],
        user: None,
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rkc-run-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pid_alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; treat state Z as gone-but-unreaped.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Our direct children that are zombies.
fn zombie_children() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit(") ").next() else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 1 && fields[0] == "Z" && fields[1] == me {
            out.push(pid);
        }
    }
    out
}

async fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn exit_codes_args_and_output() {
    let r = runner();
    let out = r
        .run(
            &sh("echo \"$0:$1\"; echo err >&2; exit 3"),
            &["zero".into(), "one".into()],
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatusKind::Exited(3));
    assert_eq!(out.stdout, b"zero:one\n");
    assert_eq!(out.stderr, b"err\n");
    assert!(!out.output_truncated);
    let ok = r
        .run(&Script::parse("true").unwrap(), &[], Duration::from_secs(5))
        .await
        .unwrap();
    assert!(ok.success());
    let sig = r
        .run(&sh("kill -9 $$"), &[], Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sig.status, ExitStatusKind::Signaled(9));
}

/// Scripts get the daemon's environment, as keepalived's `execve(...,
/// environ)` gives them (lib/notify.c `system_call()`), plus `with_env`.
#[tokio::test]
async fn environment_is_the_daemons() {
    std::env::set_var("RKC_CLOUD_REGION", "test-region-1");
    let out = runner()
        .with_env("KEEPALIVED_TEST", "1")
        .run(&sh("env"), &[], Duration::from_secs(5))
        .await
        .unwrap();
    let env = String::from_utf8(out.stdout).unwrap();
    assert!(env.contains("RKC_CLOUD_REGION=test-region-1"), "{env}");
    assert!(env.contains("PATH="), "{env}");
    assert!(env.contains("KEEPALIVED_TEST=1"), "{env}");
}

#[tokio::test]
async fn output_capture_is_bounded() {
    let out = runner()
        .with_max_output(1000)
        .run(
            &sh("head -c 100000 /dev/zero"),
            &[],
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert!(out.success());
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.output_truncated);
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let d = temp_dir("tmo");
    let pidfile = d.join("bg.pid");
    // The script starts a background grandchild that ignores SIGTERM, then hangs.
    let body = format!(
        "(trap '' TERM; sleep 600) & echo $! > {}; sleep 600",
        pidfile.display()
    );
    let out = runner()
        .run(&sh(&body), &[], Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatusKind::TimedOut);
    let bg = read_pid(&pidfile);
    assert!(
        wait_until(|| !pid_alive(bg)).await,
        "background process {bg} survived the timeout"
    );
    assert!(
        wait_until(|| zombie_children().is_empty()).await,
        "zombies left: {:?}",
        zombie_children()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[tokio::test]
async fn cancelled_run_kills_the_group() {
    let d = temp_dir("cancel");
    let pidfile = d.join("leader.pid");
    let body = format!("echo $$ > {}; sleep 600", pidfile.display());
    let r = runner();
    let script = sh(&body);
    let fut = r.run(&script, &[], Duration::from_secs(600));
    let _ = tokio::time::timeout(Duration::from_millis(500), fut).await;
    assert!(wait_until(|| pidfile.exists()).await);
    let leader = read_pid(&pidfile);
    assert!(
        wait_until(|| !pid_alive(leader)).await,
        "script {leader} survived cancellation"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[tokio::test]
async fn many_runs_leave_no_zombies() {
    let r = runner();
    let runs = (0..50).map(|i| {
        let r = r.clone();
        async move {
            r.run(
                &sh(&format!("exit {}", i % 3)),
                &[],
                Duration::from_secs(10),
            )
            .await
            .unwrap()
        }
    });
    let outs = futures_join_all(runs).await;
    assert_eq!(outs.iter().filter(|o| o.success()).count(), 17);
    assert!(
        wait_until(|| zombie_children().is_empty()).await,
        "zombies left: {:?}",
        zombie_children()
    );
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn runs_as_the_configured_user() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root]) {
        return;
    }
    let nobody = RunAs::resolve("nobody", None).unwrap();
    let script = sh("id -u; id -G").with_user(nobody.clone());
    let out = runner()
        .run(&script, &[], Duration::from_secs(5))
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(nobody.uid.to_string().as_str()));
    // Supplementary groups dropped: only the primary group remains.
    assert_eq!(lines.next(), Some(nobody.gid.to_string().as_str()));
}

#[tokio::test]
async fn missing_program_is_a_typed_error() {
    let err = runner()
        .run(
            &Script::parse("/nonexistent/rkc-prog").unwrap(),
            &[],
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, rkeepalived_script::ScriptError::Spawn { .. }),
        "{err}"
    );
}

/// No `user` on the script and no usable default user (unknown
/// `script_user`, or enable_script_security without keepalived_script):
/// the script is refused, never run as root instead.
#[tokio::test]
async fn no_default_user_never_means_root() {
    let dir = temp_dir("nodefault");
    let marker = dir.join("ran");
    let runner = ScriptRunner::new(ScriptSecurity {
        enable_script_security: true,
        default_user: None,
    });
    let err = runner
        .run(
            &sh(&format!("touch {}", marker.display())),
            &[],
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.refusal(),
        rkeepalived_script::Refusal::DefaultUser,
        "{err}"
    );
    assert!(!marker.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
