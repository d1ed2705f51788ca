//! The receiving side of the core, pure: which instance a decoded advert is
//! for, and whether it takes it (keepalived 2.2.7 `vrrp_scheduler.c`
//! `vrrp_dispatcher_read()` -> `vrrp_check_packet()`).
//!
//! Each instance has an [`Endpoint`]: the interface and family it receives
//! on, its VRID (in its [`RxPolicy`]), its advert source address (to filter
//! our own adverts), its unicast peers' TTL bounds and its IPsec AH state.
//! [`candidates`] picks the instances a datagram may be for (keepalived's
//! `vrrp_index_lookup()` by VRID, interface and family); [`Endpoint::accept`]
//! applies the receive policy. The I/O shell only decodes the bytes
//! ([`crate::socket::RawDatagram::decode`]) and hands the result to
//! [`crate::router::Router::handle`] as `Input::Datagram`.

use std::net::IpAddr;

use rkeepalived_config::model::{GlobalDefs, VrrpInstance};

use crate::auth_ah::{AhRole, AhState};
use crate::fsm::State;
use crate::instance as glue;
use crate::wire::{DropReason, Family, Received, RxPolicy};

/// `unicast_peer { ADDR min_ttl N max_ttl M }`: the TTL range accepted from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerTtl {
    pub addr: IpAddr,
    pub min: Option<u8>,
    pub max: Option<u8>,
}

/// What one instance receives adverts with.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The configured interface (adverts are received there, not on a vmac).
    pub ifname: String,
    pub family: Family,
    pub policy: RxPolicy,
    /// Our advert source address; `None` while there is none (held in FAULT).
    pub src: Option<IpAddr>,
    pub peer_ttls: Vec<PeerTtl>,
    /// `auth_type AH`: key and sequence counter (keepalived `ipsecah_counter`).
    pub ah: Option<AhState>,
}

impl Endpoint {
    /// The endpoint of `inst` as configured, with `src` and AH state.
    pub fn new(
        inst: &VrrpInstance,
        global: &GlobalDefs,
        src: Option<IpAddr>,
        ah: Option<AhState>,
    ) -> Endpoint {
        Endpoint {
            ifname: inst.interface.clone(),
            family: glue::family(inst.family),
            policy: glue::rx_policy(inst, global),
            src,
            peer_ttls: peer_ttls(inst),
            ah,
        }
    }

    /// Whether this instance receives adverts for `vrid` on `ifname`/`family`.
    pub fn matches(&self, ifname: &str, family: Family, vrid: u8) -> bool {
        self.ifname == ifname && self.family == family && self.policy.vrid == vrid
    }

    /// Whether `rx` is our own advert (looped back via a vmac or a second socket).
    pub fn is_own(&self, rx: &Received) -> bool {
        self.src == Some(rx.src)
    }

    /// Check `rx` for an instance in `state` (the receive policy with AH,
    /// then the unicast peer's TTL bounds). `check_vip_addr` is the fsm's
    /// `wants_vip_check`. A Master with AH resyncs its sequence counter on a
    /// lower priority advert (keepalived `vrrp_state_master_rx`).
    pub fn accept(
        &mut self,
        rx: &Received,
        state: State,
        check_vip_addr: bool,
        effective_priority: u8,
    ) -> Result<(), DropReason> {
        let role = match state {
            State::Backup => AhRole::Backup,
            State::Master => AhRole::Master,
            _ => AhRole::Other,
        };
        self.policy
            .check_with_ah(
                rx,
                check_vip_addr,
                self.ah.as_mut().map(|a| a.receiver(role)),
            )
            .and_then(|()| self.check_ttl(rx.src, rx.ttl))?;
        if let (Some(ah), Some(fields), State::Master) = (self.ah.as_mut(), &rx.ah, state) {
            let cmp = self.src.map_or(std::cmp::Ordering::Equal, |s| {
                crate::auth_ah::cmp_addr(rx.src, s)
            });
            if ah
                .counter
                .on_master_rx(fields.seq, rx.adv.priority, effective_priority, cmp)
            {
                tracing::info!(
                    vrid = self.policy.vrid,
                    seq = ah.counter.seq,
                    "IPSEC-AH : Syncing seq_num - Increment seq"
                );
            }
        }
        Ok(())
    }

    /// keepalived `vrrp_check_packet()`: a unicast peer's `min_ttl`/`max_ttl`.
    fn check_ttl(&self, src: IpAddr, ttl: Option<u8>) -> Result<(), DropReason> {
        let (Some(peer), Some(ttl)) = (self.peer_ttls.iter().find(|p| p.addr == src), ttl) else {
            return Ok(());
        };
        if peer.min.is_some_and(|m| ttl < m) || peer.max.is_some_and(|m| ttl > m) {
            return Err(DropReason::BadTtl);
        }
        Ok(())
    }
}

/// The TTL bounds of `inst`'s unicast peers.
pub fn peer_ttls(inst: &VrrpInstance) -> Vec<PeerTtl> {
    inst.unicast_peers
        .iter()
        .map(|p| PeerTtl {
            addr: p.addr,
            min: p.min_ttl,
            max: p.max_ttl,
        })
        .collect()
}

/// Indices of the endpoints that receive `vrid` on `ifname`/`family`, in order.
pub fn candidates<'a>(
    endpoints: impl IntoIterator<Item = Option<&'a Endpoint>>,
    ifname: &str,
    family: Family,
    vrid: u8,
) -> Vec<usize> {
    endpoints
        .into_iter()
        .enumerate()
        .filter(|(_, e)| e.is_some_and(|e| e.matches(ifname, family, vrid)))
        .map(|(i, _)| i)
        .collect()
}
