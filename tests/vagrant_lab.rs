//! The Vagrant lab (vagrant/) cannot rot unseen: booting it takes minutes
//! (vagrant/boot-lab.sh, README there), so the suite checks what can be
//! checked in seconds with the real tools:
//! - `vagrant validate` passes with vagrant-libvirt installed (its provider
//!   options checked too), with `--ignore-provider`, and for the reduced
//!   TCG lab boot-lab.sh brings up (RKL_NODES, RKL_LIBVIRT_DRIVER=qemu,
//!   RKL_BIN, the lab and management networks in halves of
//!   198.51.100.0/24); an unknown RKL_NODES name is refused;
//! - every libvirt network it asks for is on a documentation range;
//! - the keepalived.conf that provision/director.sh renders from
//!   conf/keepalived.conf.in, for the MASTER and the BACKUP, passes
//!   `--config-test` of ours and of keepalived 2.2.7;
//! - the provisioning and box scripts parse (`bash -n`);
//! - the scale-out topology (`RKL_TOPOLOGY=ecmp`): `vagrant validate`
//!   (full and reduced), an unknown topology refused, and the files its
//!   provisioning renders pass `rkeepalived --config-test` (the director),
//!   `bird -p` (the director's BGP + BFD) and FRR's `vtysh --dryrun` (the
//!   router's multipath BGP + BFD).

mod daemon_util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use daemon_util::*;

fn vagrant_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vagrant")
}

/// `vagrant validate ARGS` in vagrant/ with its own Vagrant home (so the
/// test neither reads nor writes root's ~/.vagrant.d) and the given knobs.
fn vagrant_validate(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("vagrant");
    cmd.arg("validate")
        .args(args)
        .current_dir(vagrant_dir())
        .env("VAGRANT_HOME", home)
        .env("VAGRANT_DOTFILE_PATH", home.join("dot"))
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .env("VAGRANT_DEFAULT_PROVIDER", "libvirt");
    for var in [
        "RKL_TOPOLOGY",
        "RKL_CLIENT_PREFIX",
        "RKL_BOX",
        "RKL_NODES",
        "RKL_BIN",
        "RKL_MEMORY",
        "RKL_LIBVIRT_DRIVER",
        "RKL_MGMT_NET",
        "RKL_MGMT_MODE",
        "RKL_LAN_PREFIX",
        "RKL_LAN_NETMASK",
        "RKL_LIBVIRT_POOL",
        "RKL_BOOT_TIMEOUT",
        "RKL_CONSOLE_DIR",
        "RKL_SYNC_TYPE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run vagrant")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn vagrantfile_validates_for_full_and_reduced_labs() {
    if !prerequisites(&["vagrant"]) {
        return;
    }
    let plugins = Command::new("vagrant")
        .args(["plugin", "list"])
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .output()
        .expect("vagrant plugin list");
    let plugins = text(&plugins);
    assert!(
        plugins.contains("vagrant-libvirt"),
        "vagrant-libvirt is not installed (scripts/setup-deps.sh): {plugins}"
    );
    let scratch = Scratch::new("vagrant_validate");
    let home = scratch.p("vagrant.d");
    let bin = scratch.write("rkeepalived", "");

    let full = vagrant_validate(&home, &[], &[]);
    assert!(full.status.success(), "vagrant validate: {}", text(&full));
    assert!(
        text(&full).contains("validated successfully"),
        "{}",
        text(&full)
    );

    let ignore = vagrant_validate(&home, &["--ignore-provider"], &[]);
    assert!(
        ignore.status.success(),
        "vagrant validate --ignore-provider: {}",
        text(&ignore)
    );

    let reduced = vagrant_validate(
        &home,
        &[],
        &[
            ("RKL_BOX", "rkl/bookworm"),
            ("RKL_NODES", "director1,director2,web01"),
            ("RKL_LIBVIRT_DRIVER", "qemu"),
            ("RKL_MEMORY", "320"),
            ("RKL_MGMT_MODE", "none"),
            ("RKL_LAN_PREFIX", "198.51.100"),
            ("RKL_LAN_NETMASK", "255.255.255.128"),
            ("RKL_MGMT_NET", "198.51.100.128/25"),
            ("RKL_LIBVIRT_POOL", "rkl-lab"),
            ("RKL_BOOT_TIMEOUT", "900"),
            ("RKL_BIN", bin.to_str().expect("utf-8 path")),
        ],
    );
    assert!(
        reduced.status.success(),
        "vagrant validate (reduced TCG lab): {}",
        text(&reduced)
    );

    for env in [
        &[("RKL_TOPOLOGY", "ecmp")][..],
        &[
            ("RKL_TOPOLOGY", "ecmp"),
            ("RKL_NODES", "router,director1,director2,web01,client"),
            ("RKL_LIBVIRT_DRIVER", "qemu"),
            ("RKL_MEMORY", "320"),
            ("RKL_BIN", bin.to_str().expect("utf-8 path")),
        ][..],
    ] {
        let ecmp = vagrant_validate(&home, &[], env);
        assert!(
            ecmp.status.success() && text(&ecmp).contains("validated successfully"),
            "vagrant validate {env:?}: {}",
            text(&ecmp)
        );
    }
    let topo = vagrant_validate(&home, &[], &[("RKL_TOPOLOGY", "mesh")]);
    assert!(
        text(&topo).contains("unknown topology mesh"),
        "{}",
        text(&topo)
    );

    let unknown = vagrant_validate(&home, &[], &[("RKL_NODES", "director1,web03")]);
    assert!(!unknown.status.success(), "RKL_NODES=web03 accepted");
    assert!(
        text(&unknown).contains("unknown VM(s) web03"),
        "{}",
        text(&unknown)
    );
}

/// Every libvirt network of the lab is on a documentation range: the
/// management network overrides vagrant-libvirt's 192.168.121.0/24, and
/// the lab network is 192.0.2.0/24, isolated.
#[test]
fn vagrantfile_networks_are_documentation_ranges() {
    let vf = std::fs::read_to_string(vagrant_dir().join("Vagrantfile")).expect("Vagrantfile");
    assert!(
        vf.contains(
            r#"lv.management_network_address = ENV.fetch("RKL_MGMT_NET", "198.51.100.0/24")"#
        ),
        "management network not on 198.51.100.0/24"
    );
    assert!(vf.contains(r#"ENV.fetch("RKL_LAN_PREFIX", "192.0.2")"#));
    assert!(vf.contains(r#"libvirt__forward_mode: "none""#));
    assert!(vf.contains(r#"ENV.fetch("RKL_CLIENT_PREFIX", "203.0.113")"#));
    assert!(
        !vf.contains(r#"libvirt__network_name: "rkl-client", libvirt__forward_mode: "nat""#),
        "the client network must be isolated"
    );
    let code: String = vf
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !code.contains("192.168.") && !code.contains("10.") && !code.contains("172.16."),
        "a non-documentation range in the Vagrantfile"
    );
}

/// director.sh's sed, applied to conf/keepalived.conf.in.
fn render(state: &str, priority: &str, iface: &str, router_id: &str) -> String {
    let tpl = std::fs::read_to_string(vagrant_dir().join("conf/keepalived.conf.in"))
        .expect("conf/keepalived.conf.in");
    let director = std::fs::read_to_string(vagrant_dir().join("provision/director.sh"))
        .expect("provision/director.sh");
    // The placeholders this test fills are the ones director.sh fills.
    for ph in ["STATE", "PRIORITY", "IFACE", "VIP", "LAN", "ROUTER_ID"] {
        assert!(
            director.contains(&format!("s/@{ph}@/")),
            "director.sh no longer fills @{ph}@"
        );
    }
    let out = tpl
        .replace("@STATE@", state)
        .replace("@PRIORITY@", priority)
        .replace("@IFACE@", iface)
        .replace("@VIP@", "192.0.2.100")
        .replace("@LAN@", "192.0.2")
        .replace("@ROUTER_ID@", router_id);
    assert!(!out.contains('@'), "placeholder left: {out}");
    out
}

/// Run in a namespace that has the interface the config names (eth0), as
/// keepalived's config test checks that it exists.
#[test]
fn provisioned_director_configs_pass_config_test() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("vagrant_conf");
    let ns = Netns::new("vagrant_conf");
    let keepalived = rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]);
    for (state, prio, host) in [
        ("MASTER", "150", "director1"),
        ("BACKUP", "100", "director2"),
    ] {
        let conf = scratch.write(&format!("{host}.conf"), &render(state, prio, "eth0", host));
        let conf = conf.to_str().expect("utf-8 path");
        let ours = ns.exec(&[bin(), "--config-test", "-f", conf]);
        assert!(ours.status.success(), "{host}: {}", text(&ours));
        if keepalived {
            let theirs = ns.exec(&["keepalived", "--config-test", "-f", conf]);
            assert!(
                theirs.status.success(),
                "keepalived, {host}: {}",
                text(&theirs)
            );
        }
    }
}

#[test]
fn lab_scripts_parse() {
    let dir = vagrant_dir();
    for script in [
        "provision/director.sh",
        "provision/web.sh",
        "provision/router.sh",
        "provision/director-ecmp.sh",
        "provision/client.sh",
        "provision/lib.sh",
        "make-box.sh",
        "boot-lab.sh",
    ] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(dir.join(script))
            .output()
            .expect("bash -n");
        assert!(out.status.success(), "{script}: {}", text(&out));
    }
}

/// The scale-out topology's files, rendered by its provisioning scripts
/// (`RKL_RENDER_ONLY`), are accepted by the programs that read them.
#[test]
fn ecmp_topology_configs_pass_their_checkers() {
    if !prerequisites(&["bird", "vtysh"]) {
        return;
    }
    let scratch = Scratch::new("vagrant_ecmp");
    let repo = env!("CARGO_MANIFEST_DIR");
    let dir = scratch.p("director2");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = Command::new("bash")
        .arg(vagrant_dir().join("provision/director-ecmp.sh"))
        .args([
            "director2",
            "192.0.2.32",
            "192.0.2.100",
            "192.0.2",
            "192.0.2.2",
        ])
        .env("RKL_RENDER_ONLY", &dir)
        .env("RKL_REPO", repo)
        .output()
        .expect("director-ecmp.sh");
    assert!(out.status.success(), "{}", text(&out));
    let conf = std::fs::read_to_string(dir.join("keepalived.conf")).expect("keepalived.conf");
    for want in [
        "router_id director2",
        "virtual_server 192.0.2.100 80",
        "real_server 192.0.2.21 80",
        "real_server 192.0.2.22 80",
        "lvs_sched mh",
        "announce_route",
    ] {
        assert!(conf.contains(want), "{want} missing:\n{conf}");
    }
    let ours = sh(&[
        bin(),
        "--config-test",
        "-f",
        dir.join("keepalived.conf").to_str().expect("utf-8 path"),
    ]);
    assert!(ours.status.success(), "{}", text(&ours));
    let bird = sh(&[
        "bird",
        "-p",
        "-c",
        dir.join("bird.conf").to_str().expect("utf-8 path"),
    ]);
    assert!(bird.status.success(), "bird -p: {}", text(&bird));
    let sysctl = std::fs::read_to_string(dir.join("90-rkeepalived-anycast.conf")).expect("sysctl");
    assert!(sysctl.contains("net.ipv4.vs.sloppy_tcp = 1"));

    let rdir = scratch.p("router");
    std::fs::create_dir_all(&rdir).expect("mkdir");
    let out = Command::new("bash")
        .arg(vagrant_dir().join("provision/router.sh"))
        .args([
            "192.0.2.2",
            "203.0.113.2",
            "192.0.2.31,192.0.2.32,192.0.2.33",
        ])
        .env("RKL_RENDER_ONLY", &rdir)
        .output()
        .expect("router.sh");
    assert!(out.status.success(), "{}", text(&out));
    let frr = std::fs::read_to_string(rdir.join("frr.conf")).expect("frr.conf");
    for d in ["192.0.2.31", "192.0.2.32", "192.0.2.33"] {
        assert!(frr.contains(&format!("neighbor {d} bfd")), "{frr}");
    }
    assert!(frr.contains("maximum-paths 16"), "{frr}");
    let dry = sh(&[
        "vtysh",
        "--dryrun",
        "-f",
        rdir.join("frr.conf").to_str().expect("utf-8 path"),
    ]);
    assert!(dry.status.success(), "vtysh --dryrun: {}", text(&dry));
}
