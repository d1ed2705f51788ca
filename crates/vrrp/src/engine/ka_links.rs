//! The interfaces of the namespace as keepalived's interface queue shows
//! them in `/tmp/keepalived.data` (vrrp/vrrp_if.c `dump_if`): read from
//! sysfs and getifaddrs when the dump is asked for.

use std::net::IpAddr;

const IFF_UP: u32 = 0x1;
const IFF_BROADCAST: u32 = 0x2;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_POINTOPOINT: u32 = 0x10;
const IFF_NOARP: u32 = 0x80;
const IFF_MULTICAST: u32 = 0x1000;
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_LOOPBACK: u32 = 772;

pub(super) struct Link {
    pub name: String,
    pub index: u32,
    flags: u32,
    running: bool,
    pub mtu: u32,
    hw_type: u32,
    /// (address, broadcast address).
    pub mac: Option<(String, String)>,
    /// IPv4 addresses, primary first.
    pub v4: Vec<IpAddr>,
    /// IPv6 addresses, link-local first (keepalived's `sin6_addr`).
    pub v6: Vec<IpAddr>,
}

impl Link {
    pub fn up(&self) -> bool {
        self.flags & IFF_UP != 0 && self.running
    }

    /// `State = UP, RUNNING[, no broadcast][, loopback]...`
    pub fn state_text(&self) -> String {
        let f = self.flags;
        let mut s = format!(
            "{}UP, {}RUNNING",
            if f & IFF_UP != 0 { "" } else { "not " },
            if self.running { "" } else { "not " }
        );
        for (cond, word) in [
            (f & IFF_BROADCAST == 0, ", no broadcast"),
            (f & IFF_LOOPBACK != 0, ", loopback"),
            (f & IFF_POINTOPOINT != 0, ", point to point"),
            (f & IFF_NOARP != 0, ", no arp"),
            (f & IFF_MULTICAST == 0, ", no multicast"),
        ] {
            if cond {
                s.push_str(word);
            }
        }
        s
    }

    pub fn hw_type(&self) -> String {
        match self.hw_type {
            ARPHRD_LOOPBACK => "LOOPBACK".into(),
            ARPHRD_ETHER => "ETHERNET".into(),
            n => format!("UNKNOWN ({n})"),
        }
    }
}

fn read(name: &str, attr: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/{attr}"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn num(name: &str, attr: &str) -> u32 {
    read(name, attr)
        .and_then(|s| match s.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        })
        .unwrap_or(0)
}

/// Every interface of the current network namespace, by index.
pub(super) fn links() -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return links;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let flags = num(&name, "flags");
        let hw_type = num(&name, "type");
        let mac = read(&name, "address")
            .filter(|m| !m.is_empty() && m.chars().any(|c| c != '0' && c != ':'))
            .map(|m| (m, read(&name, "broadcast").unwrap_or_default()));
        links.push(Link {
            index: num(&name, "ifindex"),
            running: flags & IFF_UP != 0 && read(&name, "carrier").as_deref() == Some("1"),
            flags,
            mtu: num(&name, "mtu"),
            hw_type,
            mac,
            v4: Vec::new(),
            v6: Vec::new(),
            name,
        });
    }
    links.sort_by_key(|l| l.index);
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs {
            let Some(link) = links.iter_mut().find(|l| l.name == a.interface_name) else {
                continue;
            };
            let Some(sa) = a.address else { continue };
            if let Some(v4) = sa.as_sockaddr_in() {
                link.v4.push(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = sa.as_sockaddr_in6() {
                link.v6.push(IpAddr::V6(v6.ip()));
            }
        }
    }
    for l in &mut links {
        // Link-local first, order otherwise kept.
        l.v6.sort_by_key(|a| match a {
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            IpAddr::V4(_) => true,
        });
    }
    links
}
