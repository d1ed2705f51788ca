//! Local address watch for `ha_suspend`: keepalived suspends a virtual
//! server's checks while its address is not configured on this host (the
//! VRRP process adds/removes VIPs). We subscribe to rtnetlink address
//! events (RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR) and re-read the address
//! list on every event; if netlink is unavailable we poll.

use std::collections::HashSet;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use std::sync::Arc;
use std::time::Duration;

use nix::sys::socket::{
    bind, socket, AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use tokio::sync::watch;

pub type LocalAddrs = Arc<HashSet<IpAddr>>;

const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const POLL_FALLBACK: Duration = Duration::from_secs(1);

/// Current local addresses (getifaddrs).
pub fn local_addrs() -> HashSet<IpAddr> {
    let mut out = HashSet::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for ifa in addrs {
            let Some(sa) = ifa.address else { continue };
            if let Some(v4) = sa.as_sockaddr_in() {
                out.insert(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = sa.as_sockaddr_in6() {
                out.insert(IpAddr::V6(v6.ip()));
            }
        }
    }
    out
}

fn subscribe() -> nix::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::NetlinkRoute,
    )?;
    bind(
        fd.as_raw_fd(),
        &NetlinkAddr::new(0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR),
    )?;
    Ok(fd)
}

/// Start watching; the receiver always holds the current address set.
/// The task ends when every receiver is dropped.
pub fn spawn() -> watch::Receiver<LocalAddrs> {
    let (tx, rx) = watch::channel(Arc::new(local_addrs()));
    tokio::spawn(async move {
        let publish = |tx: &watch::Sender<LocalAddrs>| {
            let now = local_addrs();
            tx.send_if_modified(|cur| {
                if **cur != now {
                    *cur = Arc::new(now);
                    true
                } else {
                    false
                }
            });
        };
        // tokio's UdpSocket is a plain datagram-fd wrapper; a netlink socket works with it.
        let socket = subscribe()
            .map_err(std::io::Error::from)
            .and_then(|fd| tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd)));
        match socket {
            Ok(sock) => {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    tokio::select! {
                        _ = tx.closed() => return,
                        r = sock.recv(&mut buf) => {
                            // ENOBUFS means we missed events: a re-read covers it too.
                            if let Err(e) = r {
                                if e.raw_os_error() != Some(libc::ENOBUFS) {
                                    tracing::warn!("rtnetlink address watch failed ({e}); polling instead");
                                    break;
                                }
                            }
                            // Drain whatever else is queued, then re-read the list once.
                            while let Ok(Ok(_)) = tokio::time::timeout(Duration::ZERO, sock.recv(&mut buf)).await {}
                            publish(&tx);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("rtnetlink address watch unavailable ({e}); polling local addresses every {POLL_FALLBACK:?}"),
        }
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(POLL_FALLBACK) => publish(&tx),
            }
        }
    });
    rx
}
