//! keepalived's spelling of services in log lines, so that alerts written
//! for keepalived's messages ("Removing service [192.0.2.11]:tcp:80 from VS
//! [192.0.2.100]:tcp:80") match ours.

use std::fmt;
use std::net::IpAddr;

use rkeepalived_ipvs::model::{Protocol, ServiceKey};

use crate::spec::{RealServerSpec, VirtualServerSpec};

/// lib/utils.c `inet_sockaddrtotrio`: `[addr]:proto:port`.
pub struct Trio(pub IpAddr, pub Option<Protocol>, pub u16);

impl fmt::Display for Trio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.1 {
            Some(Protocol::Tcp) => "tcp",
            Some(Protocol::Udp) => "udp",
            Some(Protocol::Sctp) => "sctp",
            None => "none",
            Some(Protocol::Other(_)) => "?",
        };
        write!(f, "[{}]:{proto}:{}", self.0, self.2)
    }
}

/// The protocol keepalived's `service_type` holds for this virtual server
/// (a fwmark service has none in the key: keepalived's default is TCP).
fn service_type(vs: &VirtualServerSpec) -> Option<Protocol> {
    match vs.service.key {
        ServiceKey::Addr { proto, .. } => Some(proto),
        ServiceKey::Fwmark { .. } => Some(Protocol::Tcp),
    }
}

/// check_data.c `format_vs` (FMT_VS): `[addr]:proto:port`, `FWM n`, or
/// `[group]:port` for a virtual_server_group.
pub fn vs(vs: &VirtualServerSpec) -> String {
    if let Some(group) = vs
        .name
        .strip_prefix("group ")
        .and_then(|rest| rest.rsplit_once(' '))
        .map(|(name, _proto)| name)
    {
        return format!("[{group}]:{}", vs.service.key.port());
    }
    match vs.service.key {
        ServiceKey::Addr { proto, addr, port } => Trio(addr, Some(proto), port).to_string(),
        ServiceKey::Fwmark { mark, .. } => format!("FWM {mark}"),
    }
}

/// check_data.c `format_rs` (FMT_RS, FMT_CHK): the real server with its
/// virtual server's protocol.
pub fn rs(rs: &RealServerSpec, vs: &VirtualServerSpec) -> String {
    Trio(rs.dest.addr, service_type(vs), rs.dest.port).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trio_like_keepalived() {
        let v4: IpAddr = "192.0.2.11".parse().expect("ip");
        assert_eq!(
            Trio(v4, Some(Protocol::Tcp), 80).to_string(),
            "[192.0.2.11]:tcp:80"
        );
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(
            Trio(v6, Some(Protocol::Udp), 53).to_string(),
            "[2001:db8::1]:udp:53"
        );
        assert_eq!(Trio(v4, None, 80).to_string(), "[192.0.2.11]:none:80");
    }
}
