//! Rust side of the real-kernel IPVS lab (see `tests/lab/README.md`).
//!
//! Include it from any crate's integration test with
//! ```ignore
//! #[path = "../../tests/lab/harness.rs"] // from crates/<name>/tests/*.rs
//! mod lab;
//! // or, from the root package's tests/*.rs:  #[path = "lab/harness.rs"] mod lab;
//! ```
//! and use it like
//! ```ignore
//! let Some(lab) = lab::require() else { return }; // loud skip outside CI, panic in CI
//! let out = lab.run_script("#!/bin/bash\nipvsadm -Sn\n");
//! out.assert_success();
//! ```
//! Only std is used so that every crate can include it without new
//! dev-dependencies.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What a guest run produced.
#[derive(Debug, Clone)]
pub struct LabOutput {
    /// The script's exit code; 124 = lab timeout, 125 = lab/boot failure.
    pub status: i32,
    /// The script's stdout and stderr (merged, as seen on the serial console).
    pub stdout: String,
    /// lab.sh's own messages (build, boot, timeout diagnostics).
    pub lab_log: String,
    /// Files the script wrote to `$LAB_OUT` in the guest, copied back.
    pub out_dir: PathBuf,
}

impl LabOutput {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Panics with the whole transcript unless the script exited 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.success(),
            "lab script failed with status {}\n--- guest output ---\n{}\n--- lab.sh ---\n{}",
            self.status,
            self.stdout,
            self.lab_log
        );
        self
    }

    /// Keeps the transcript as `tests/lab/.build/results/NAME.txt` (libtest
    /// hides the output of passing tests; the labs' per-phase numbers are
    /// worth keeping) and returns the path.
    pub fn save(&self, name: &str) -> PathBuf {
        let dir = repo_root().join("tests/lab/.build/results");
        let path = dir.join(format!("{name}.txt"));
        let text = format!(
            "status {}\n{}\n--- lab.sh ---\n{}",
            self.status, self.stdout, self.lab_log
        );
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, text)) {
            eprintln!("cannot save lab transcript {}: {e}", path.display());
        }
        path
    }

    /// Lines of the guest output that start with `prefix`.
    pub fn lines_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.stdout.lines().filter(move |l| l.starts_with(prefix))
    }

    /// Text between `@@BEGIN name@@` and `@@END name@@` lines printed by the
    /// script (see [`section`] for the shell side), if present.
    pub fn section(&self, name: &str) -> Option<String> {
        let begin = format!("@@BEGIN {name}@@");
        let end = format!("@@END {name}@@");
        let mut inside = false;
        let mut found = false;
        let mut text = String::new();
        for line in self.stdout.lines() {
            if line == begin {
                inside = true;
                found = true;
            } else if line == end {
                inside = false;
            } else if inside {
                text.push_str(line);
                text.push('\n');
            }
        }
        found.then_some(text)
    }
}

/// Shell helper to paste into scripts: `section NAME CMD...` prints CMD's
/// output between markers that [`LabOutput::section`] extracts.
pub const SHELL_SECTION_FN: &str =
    "section() { local n=$1; shift; echo \"@@BEGIN $n@@\"; \"$@\" 2>&1; local rc=$?; echo \"@@END $n@@\"; return $rc; }\n";

/// Options of one guest run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Hard timeout of the guest in seconds (LAB_TIMEOUT), default 300.
    pub timeout_s: Option<u64>,
    /// Guest memory in MiB (LAB_MEM), default 1536.
    pub mem_mib: Option<u64>,
    /// Arguments passed to the script.
    pub args: Vec<String>,
    /// Extra environment for the script (only names starting with LAB_,
    /// RKL_, RKEEPALIVED_, RUST_ are passed into the guest).
    pub env: Vec<(String, String)>,
}

/// A usable lab (qemu present, kernel fetched, initramfs built).
#[derive(Debug, Clone)]
pub struct Lab {
    pub lab_sh: PathBuf,
    pub build_dir: PathBuf,
}

/// Walks up from the including crate's manifest dir to the checkout root.
pub fn repo_root() -> PathBuf {
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .find(|dir| dir.join("tests/lab/lab.sh").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(start)
}

/// Why the lab cannot run here, or `Ok` with the lab ready to use.
fn prepare() -> Result<Lab, String> {
    let root = repo_root();
    let lab_sh = root.join("tests/lab/lab.sh");
    if !lab_sh.is_file() {
        return Err(format!("{} not found", lab_sh.display()));
    }
    if !nix_is_root() {
        return Err("the lab needs root (9p export of / and netns inside the guest)".into());
    }
    for tool in [
        "qemu-system-x86_64",
        "busybox",
        "cpio",
        "depmod",
        "ipvsadm",
        "keepalived",
    ] {
        if !on_path(tool) {
            return Err(format!(
                "'{tool}' not installed (apt-get install -y qemu-system-x86 busybox-static kmod cpio ipvsadm keepalived)"
            ));
        }
    }
    let out = Command::new("bash")
        .arg(&lab_sh)
        .arg("build")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", lab_sh.display()))?;
    if !out.status.success() {
        return Err(format!(
            "lab.sh build failed (kernel download or initramfs build):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let build_dir = std::env::var_os("LAB_BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/lab/.build"));
    Ok(Lab { lab_sh, build_dir })
}

fn nix_is_root() -> bool {
    // std has no geteuid; /proc/self/status "Uid: real effective ...".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].iter().map(PathBuf::from))
        .any(|dir| dir.join(tool).is_file())
}

/// The lab, or a loud skip: prints why and returns `None` outside CI;
/// panics in CI (env `CI` set), so a missing prerequisite never passes
/// silently there. The (slow, first-time) build happens once per process.
pub fn require() -> Option<Lab> {
    static LAB: OnceLock<Result<Lab, String>> = OnceLock::new();
    match LAB.get_or_init(prepare) {
        Ok(lab) => Some(lab.clone()),
        Err(why) => {
            // Panics when CI is set: the lab never skips silently there.
            rkeepalived_testkit::skip(&format!("needs the qemu lab: {why}"));
            None
        }
    }
}

/// Convenience: [`require`] + [`Lab::run_script`]; `None` when skipped.
pub fn run_script(script_text: &str) -> Option<LabOutput> {
    require().map(|lab| lab.run_script(script_text))
}

impl Lab {
    pub fn run_script(&self, script_text: &str) -> LabOutput {
        self.run_script_with(script_text, &RunOptions::default())
    }

    /// Boots a guest, runs `script_text` (needs a `#!` line) in the host-root
    /// chroot and returns its output. The guest output is also echoed to
    /// stderr line by line as it arrives (visible with `--nocapture`).
    pub fn run_script_with(&self, script_text: &str, opts: &RunOptions) -> LabOutput {
        let scratch = self.build_dir.join("scripts");
        let _ = std::fs::create_dir_all(&scratch);
        let unique = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let script = scratch.join(format!("script-{unique}.sh"));
        let out_dir = scratch.join(format!("out-{unique}"));
        if let Err(e) =
            std::fs::write(&script, script_text).and_then(|_| std::fs::create_dir_all(&out_dir))
        {
            return LabOutput {
                status: 125,
                stdout: String::new(),
                lab_log: format!("cannot write {}: {e}", script.display()),
                out_dir,
            };
        }
        let mut cmd = Command::new("bash");
        cmd.arg(&self.lab_sh)
            .arg("run")
            .arg(&script)
            .args(&opts.args)
            .env("LAB_OUT_COPY", &out_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = opts.timeout_s {
            cmd.env("LAB_TIMEOUT", t.to_string());
        }
        if let Some(m) = opts.mem_mib {
            cmd.env("LAB_MEM", m.to_string());
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return LabOutput {
                    status: 125,
                    stdout: String::new(),
                    lab_log: format!("cannot start lab.sh: {e}"),
                    out_dir,
                }
            }
        };
        let mut stderr = child.stderr.take();
        let lab_log_reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(err) = stderr.as_mut() {
                let _ = err.read_to_string(&mut text);
            }
            text
        });
        let mut stdout = String::new();
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                eprintln!("[lab] {line}");
                stdout.push_str(&line);
                stdout.push('\n');
            }
        }
        let status = child.wait().ok().and_then(|s| s.code()).unwrap_or(125);
        let lab_log = lab_log_reader.join().unwrap_or_default();
        let _ = std::fs::remove_file(&script);
        LabOutput {
            status,
            stdout,
            lab_log,
            out_dir,
        }
    }
}
