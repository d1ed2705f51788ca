//! The Debian package: `cargo deb` packs the binary this test run built
//! (`--no-build --profile dev`; the release build is the same code), then
//! dpkg installs and purges it in a throw-away copy of this machine's root
//! (a private mount namespace, an overlay with a tmpfs upper layer, chroot),
//! so the host itself is never touched. An operator's existing
//! /etc/keepalived/keepalived.conf survives install and purge byte for
//! byte; purge leaves none of the package's files behind. A real
//! /usr/sbin/keepalived is never touched; without one the package provides
//! `keepalived` as a symlink that runs rkeepalived, removed again on purge.

mod daemon_util;

use std::path::PathBuf;
use std::process::Command;

use daemon_util::*;

/// Runs inside the chroot: `set -e`, one `OK ...` line per check.
const CHECKS: &str = r#"set -eu
deb=$1
mkdir -p /etc/keepalived
# This machine has keepalived 2.2.7 installed: the package must not touch it.
real_ka=$(sha256sum /usr/sbin/keepalived)
printf '! the operator'"'"'s own config\nglobal_defs {\n    router_id mine\n}\n' >/etc/keepalived/keepalived.conf
before=$(sha256sum /etc/keepalived/keepalived.conf)
dpkg -i "$deb" >/dev/null
dpkg-query -W -f='${Status}\n' rkeepalived | grep -qx 'install ok installed'
echo "OK installed"
/usr/sbin/rkeepalived --version >/dev/null 2>&1 || /usr/sbin/rkeepalived -v >/dev/null
for f in /lib/systemd/system/rkeepalived.service /etc/default/rkeepalived \
         /usr/lib/modules-load.d/rkeepalived.conf \
         /usr/share/man/man8/rkeepalived.8.gz /usr/share/man/man5/rkeepalived.conf.5.gz \
         /usr/share/bash-completion/completions/rkeepalived \
         /usr/share/zsh/vendor-completions/_rkeepalived \
         /usr/share/fish/vendor_completions.d/rkeepalived.fish \
         /usr/share/doc/rkeepalived/config.md \
         /usr/share/doc/rkeepalived/samples/keepalived.conf \
         /usr/share/doc/rkeepalived/kubernetes/rkeepalived-static-pod.yaml; do
  test -s "$f" || { echo "missing $f"; exit 1; }
done
echo "OK files"
dpkg-query -W -f='${Conffiles}\n' rkeepalived | grep -q '/etc/default/rkeepalived'
echo "OK conffile"
/usr/sbin/rkeepalived -t -f /usr/share/doc/rkeepalived/samples/keepalived.conf >/dev/null 2>&1
echo "OK sample passes -t"
test "$(sha256sum /etc/keepalived/keepalived.conf)" = "$before"
echo "OK operator config kept on install"
test ! -L /usr/sbin/keepalived && test "$(sha256sum /usr/sbin/keepalived)" = "$real_ka"
echo "OK real keepalived untouched"
dpkg --purge rkeepalived >/dev/null
if dpkg-query -W -f='${Status}\n' rkeepalived 2>/dev/null | grep -q 'ok installed'; then exit 1; fi
for f in /usr/sbin/rkeepalived /lib/systemd/system/rkeepalived.service /etc/default/rkeepalived \
         /usr/share/doc/rkeepalived; do
  if [ -e "$f" ]; then echo "left after purge: $f"; exit 1; fi
done
echo "OK purged"
test "$(sha256sum /etc/keepalived/keepalived.conf)" = "$before"
echo "OK operator config kept on purge"
test "$(sha256sum /usr/sbin/keepalived)" = "$real_ka"
echo "OK real keepalived untouched by purge"
# A host without keepalived: the package offers the name.
rm -f /usr/sbin/keepalived
dpkg -i "$deb" >/dev/null
test "$(readlink /usr/sbin/keepalived)" = rkeepalived
keepalived -v 2>&1 | grep -q '^rkeepalived v'
keepalived -t -f /usr/share/doc/rkeepalived/samples/keepalived.conf >/dev/null 2>&1
echo "OK keepalived symlink runs rkeepalived"
dpkg --purge rkeepalived >/dev/null
if [ -e /usr/sbin/keepalived ] || [ -L /usr/sbin/keepalived ]; then echo "left after purge: keepalived link"; exit 1; fi
echo "OK keepalived symlink removed on purge"
"#;

#[test]
fn deb_installs_and_purges_cleanly() {
    if !prerequisites(&["unshare", "dpkg", "chroot", "keepalived"]) {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let have_cargo_deb = Command::new(&cargo)
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::That(
        have_cargo_deb,
        "cargo-deb (scripts/setup-deps.sh installs it)",
    )]) {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rkd-deb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(work.clone());
    let deb = work.join("rkeepalived.deb");
    // The binary of this test run (its profile's directory): pack it as is.
    let built = PathBuf::from(bin());
    let out = Command::new(&cargo)
        .current_dir(&root)
        // Stripped (the dev binary carries ~150 MB of debug info) and
        // quickly compressed: what is tested is the package's layout.
        .args([
            "deb",
            "--no-build",
            "--strip",
            "--fast",
            "--profile",
            "dev",
            "-p",
            "rkeepalived",
            "--output",
        ])
        .arg(&deb)
        .output()
        .expect("cargo deb");
    assert!(
        out.status.success() && deb.is_file(),
        "cargo deb failed ({}):\n{}",
        built.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(work.join("checks.sh"), CHECKS).expect("checks");
    // A copy-on-write view of / for dpkg: the upper layer is a tmpfs that
    // vanishes with the mount namespace.
    let script = format!(
        r#"set -e
w={work}
mount -t tmpfs tmpfs "$w/layer"
mkdir -p "$w/layer/upper" "$w/layer/work" "$w/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$w/layer/upper,workdir=$w/layer/work" "$w/root"
cp "$w/rkeepalived.deb" "$w/checks.sh" "$w/root/tmp/"
chroot "$w/root" sh /tmp/checks.sh /tmp/rkeepalived.deb
"#,
        work = work.display()
    );
    std::fs::create_dir_all(work.join("layer")).expect("layer");
    std::fs::create_dir_all(work.join("root")).expect("root");
    let run = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--fork",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "install/purge checks failed:\n{stdout}\n{stderr}"
    );
    for ok in [
        "OK installed",
        "OK files",
        "OK conffile",
        "OK sample passes -t",
        "OK operator config kept on install",
        "OK purged",
        "OK operator config kept on purge",
        "OK real keepalived untouched",
        "OK real keepalived untouched by purge",
        "OK keepalived symlink runs rkeepalived",
        "OK keepalived symlink removed on purge",
    ] {
        assert!(
            stdout.lines().any(|l| l == ok),
            "missing '{ok}':\n{stdout}\n{stderr}"
        );
    }
}
