//! Ethernet frames seen by the ARP sniffer (conflict detection for VIPs).
//! Must never panic; an accepted frame is exactly what it claims to be.

use rkeepalived_vrrp::garp::{gratuitous_arp, ArpAnnouncement};

pub fn run(data: &[u8]) {
    if let Some(arp) = ArpAnnouncement::parse(data) {
        assert!(data.len() >= 42);
        // A gratuitous ARP built from what we parsed parses back the same.
        let again = ArpAnnouncement::parse(&gratuitous_arp(arp.sender_mac, arp.sender_ip))
            .expect("our own gratuitous ARP parses");
        assert_eq!(
            (again.sender_mac, again.sender_ip),
            (arp.sender_mac, arp.sender_ip)
        );
    }
    let _ = rkeepalived_vrrp::garp::parse_mac(&String::from_utf8_lossy(data));
}
