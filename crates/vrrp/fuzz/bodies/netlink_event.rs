//! rtnetlink multicast messages (address and link changes) turned into the
//! engine's events. Must never panic.

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

pub fn run(data: &[u8]) {
    if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(data) {
        if let NetlinkPayload::InnerMessage(inner) = msg.payload {
            let _ = rkeepalived_vrrp::addr::translate(&inner);
        }
    }
}
