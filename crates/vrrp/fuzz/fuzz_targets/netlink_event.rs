//! rtnetlink multicast messages (address and link changes) turned into the
//! engine's events. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(data) {
        if let NetlinkPayload::InnerMessage(inner) = msg.payload {
            let _ = rkeepalived_vrrp::addr::translate(&inner);
        }
    }
});
