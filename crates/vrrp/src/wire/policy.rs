//! Instance-level validation ([`RxPolicy`]), in keepalived's `vrrp_check_packet()` order.

use super::*;

// ---------------------------------------------------------------------------
// Instance-level validation
// ---------------------------------------------------------------------------

/// What a local instance expects of adverts (the per-instance half of RFC 5798 §7.1 /
/// RFC 3768 §7.1). Build it from the instance configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxPolicy {
    pub version: Version,
    pub family: Family,
    pub vrid: u8,
    /// Expected v2 authentication ([`Auth::None`] for v3).
    pub auth: Auth,
    /// Our advert interval. v2 adverts must match it exactly (RFC 3768 §7.1).
    pub adver_int: AdverInt,
    /// Configured virtual addresses (`virtual_ipaddress`, not the excluded ones).
    pub vips: Vec<IpAddr>,
    /// `unicast_peer` list; empty means multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// `check_unicast_src` / global `vrrp_check_unicast_src`.
    pub check_unicast_src: bool,
    /// Accept v3/IPv4 unicast adverts whose checksum uses keepalived's legacy
    /// pseudo-header (`old_unicast_checksum`, auto-detected by keepalived).
    pub accept_legacy_unicast_checksum: bool,
}

impl RxPolicy {
    /// Check `rx` against this instance. `check_vip_addr` is false only when
    /// `vrrp_skip_check_adv_addr` is set and the advert comes from the master we
    /// already know (see `fsm::Instance::wants_vip_check`).
    ///
    /// Order and outcomes follow keepalived 2.2.7 `vrrp_check_packet()`; where RFC
    /// and keepalived differ we follow keepalived (interoperability) and say so.
    ///
    /// An `auth_type AH` advert cannot be authenticated without the instance's key
    /// and sequence counter: it fails here with [`DropReason::AhIcvMismatch`]; use
    /// [`Self::check_with_ah`].
    pub fn check(&self, rx: &Received, check_vip_addr: bool) -> Result<(), DropReason> {
        self.check_with_ah(rx, check_vip_addr, None)
    }

    /// [`Self::check`] for an instance with `auth_type AH`: `ah` carries its key,
    /// its anti-replay counter (moved by an accepted sequence number even when a
    /// later check drops the advert, as keepalived does) and its state.
    pub fn check_with_ah(
        &self,
        rx: &Received,
        check_vip_addr: bool,
        ah: Option<AhReceiver<'_>>,
    ) -> Result<(), DropReason> {
        let adv = &rx.adv;
        if rx.family != self.family {
            return Err(DropReason::WrongProtocol);
        }
        if adv.vrid != self.vrid {
            return Err(DropReason::VridMismatch);
        }
        let unicast = !self.unicast_peers.is_empty();
        // RFC 5798 §7.1: TTL/HL MUST be 255 — keepalived skips this for unicast peers.
        if !unicast {
            if let Some(ttl) = rx.ttl {
                if ttl != VRRP_TTL {
                    return Err(DropReason::BadTtl);
                }
            }
        }
        if adv.version != self.version {
            return Err(DropReason::BadVersion);
        }
        if self.version == Version::V2 {
            if adv.auth.type_number() != self.auth.type_number() {
                return Err(DropReason::AuthTypeMismatch);
            }
            match (&self.auth, &adv.auth) {
                (Auth::Password(ours), Auth::Password(theirs))
                    if !constant_time_eq(ours, theirs) =>
                {
                    return Err(DropReason::AuthFailure);
                }
                (_, Auth::Ah) => {
                    // keepalived `vrrp_in_chk_ipsecah`, at the place of the password check.
                    let (Some(fields), Some(mut recv)) = (&rx.ah, ah) else {
                        return Err(DropReason::AhIcvMismatch);
                    };
                    crate::auth_ah::verify(fields, &mut recv, unicast)?;
                }
                _ => {}
            }
            // RFC 3768 §7.1: MUST drop on Adver Int mismatch (prevents two masters).
            if adv.adver_int != self.adver_int {
                return Err(DropReason::AdverIntMismatch);
            }
        } else if adv.adver_int.centiseconds() == 0 {
            // Deviation from keepalived (which accepts it): a learned 0 interval would
            // make Master_Down_Interval = Skew_Time and flap; refuse and count instead.
            return Err(DropReason::ZeroAdverInt);
        }
        if check_vip_addr && adv.addrs.len() != self.vips.len() {
            return Err(DropReason::AddrCountMismatch);
        }
        if rx.checksum == ChecksumVariant::LegacyUnicast
            && !(unicast && self.accept_legacy_unicast_checksum)
        {
            return Err(DropReason::LegacyChecksum);
        }
        if rx.is_multicast() == unicast {
            return Err(DropReason::UnicastMulticastMismatch);
        }
        if check_vip_addr {
            // keepalived: every configured VIP MUST appear in the advert.
            if self.vips.iter().any(|v| !adv.addrs.contains(v)) {
                return Err(DropReason::AddrListMismatch);
            }
            if unicast && self.check_unicast_src && !self.unicast_peers.contains(&rx.src) {
                return Err(DropReason::UnknownUnicastPeer);
            }
        }
        // RFC 5798 §5.1.2.1 (IPv6 source is link-local) is a sender rule; keepalived
        // does not enforce it on receive (a peer may use a global mcast_src_ip), nor do we.
        Ok(())
    }
}

/// Compare secrets without an early exit.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
