//! keepalived's `net_namespace_ipvs NAME`: the IPVS generic-netlink socket
//! is opened in /var/run/netns/NAME (the default namespace without a name)
//! while the daemon runs elsewhere (core/namespaces.c `nl_ipvs_connect()`).
//! The host kernel has no IPVS, so this checks where the socket is born:
//! it is listed in the named namespace's /proc/net/netlink, not in ours,
//! and the thread is back in its own namespace afterwards. Needs root.

use std::os::fd::AsRawFd;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket};
use rkeepalived_ipvs::netns::{in_namespace, set_ipvs_namespace};
use rkeepalived_ipvs::{IpvsError, NetlinkIpvs};
use rkeepalived_testkit::{prerequisites, Need, Netns};

fn socket_inode(s: &Socket) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/fd/{}", s.as_raw_fd()))
        .expect("fd")
        .ino()
}

/// The inodes of the netlink sockets of the calling thread's namespace.
fn netlink_inodes() -> Vec<u64> {
    std::fs::read_to_string("/proc/thread-self/net/netlink")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().last()?.parse().ok())
        .collect()
}

fn devices() -> String {
    std::fs::read_to_string("/proc/thread-self/net/dev").unwrap_or_default()
}

#[test]
fn net_namespace_ipvs_opens_the_socket_in_the_named_namespace() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let ns = Netns::new("ipvsns");
    let dev = format!("rkdv{}", std::process::id() % 100_000);
    let peer = format!("{dev}p");
    ns.ip(&["link", "add", &dev, "type", "veth", "peer", "name", &peer]);

    // The thread switches for the closure only.
    let inside = in_namespace(Some(ns.name()), devices).expect("enter");
    assert!(inside.contains(&dev), "{inside}");
    assert!(!devices().contains(&dev), "the thread is back home");

    // A socket born inside lives there (bound afterwards, as connect() does).
    let mut sock = in_namespace(Some(ns.name()), || Socket::new(NETLINK_GENERIC))
        .expect("enter")
        .expect("socket");
    sock.bind_auto().expect("bind");
    let ino = socket_inode(&sock);
    let there = in_namespace(Some(ns.name()), netlink_inodes).expect("enter");
    assert!(
        there.contains(&ino),
        "not in the namespace: {ino} {there:?}"
    );
    assert!(!netlink_inodes().contains(&ino), "listed in our namespace");

    // No name: the default namespace, pid 1's (keepalived's ""; pid 1 of
    // this test machine may refuse us its namespace, so only the path).
    assert_eq!(
        rkeepalived_ipvs::netns::namespace_path(""),
        std::path::Path::new("/proc/1/ns/net")
    );

    // A missing namespace fails the connect with keepalived's words
    // instead of opening the socket here.
    let missing = format!("rkd-missing-ipvs-{}", std::process::id());
    set_ipvs_namespace(Some(missing));
    let err = NetlinkIpvs::connect().err();
    set_ipvs_namespace(None);
    match err {
        Some(IpvsError::Io(e)) => {
            assert!(
                e.to_string().contains("Failed to open namespace fds"),
                "{e}"
            )
        }
        other => panic!("connect in a missing namespace: {other:?}"),
    }
}
