//! The engine's sockets: the raw VRRP sockets per interface and family
//! (one reader task each, feeding the engine's queue), the IPPROTO_AH
//! receive sockets of `auth_type AH` instances, and the GARP/NA senders.

use super::*;

impl Engine {
    pub(super) fn socket_for(
        &mut self,
        ifname: &str,
        family: Family,
        groups: &[IpAddr],
        receive: bool,
    ) -> Result<(), VrrpError> {
        let key: SockKey = (ifname.to_string(), family);
        if let Some(s) = self.sockets.get(&key) {
            for g in groups {
                s.join(*g)?;
            }
        } else {
            let idx = addr::ifindex(ifname)
                .ok_or_else(|| SocketError::NoInterface(ifname.to_string()))?;
            let sock = Arc::new(VrrpSocket::open(family, ifname, idx, groups)?);
            self.sockets.insert(key.clone(), sock);
        }
        if receive && !self.socket_tasks.contains_key(&key) {
            if let Some(sock) = self.sockets.get(&key).cloned() {
                let task = self.spawn_reader(key.clone(), sock);
                self.socket_tasks.insert(key, task);
            }
        }
        Ok(())
    }

    /// keepalived opens the receive socket of an `auth_type AH` instance with
    /// protocol IPPROTO_AH (`vrrp_create_sockpool`): open one per interface and
    /// feed its datagrams into the same queue (the decoder handles both).
    /// Sending needs nothing extra: the IP_HDRINCL socket sends any protocol.
    pub(super) fn ah_socket_for(
        &mut self,
        ifname: &str,
        groups: &[IpAddr],
    ) -> Result<(), VrrpError> {
        if let Some((s, _)) = self.ah_sockets.get(ifname) {
            for g in groups {
                s.join(*g)?;
            }
            return Ok(());
        }
        let idx =
            addr::ifindex(ifname).ok_or_else(|| SocketError::NoInterface(ifname.to_string()))?;
        let sock = Arc::new(VrrpSocket::open_proto(
            IPPROTO_AH,
            Family::Ipv4,
            ifname,
            idx,
            groups,
        )?);
        let key: SockKey = (ifname.to_string(), Family::Ipv4);
        let task = self.spawn_reader(key, sock.clone());
        self.ah_sockets.insert(ifname.to_string(), (sock, task));
        Ok(())
    }

    /// A task reading `sock` into the engine's datagram queue under `key`.
    fn spawn_reader(&self, key: SockKey, sock: Arc<VrrpSocket>) -> JoinHandle<()> {
        let tx = self.rx_tx.clone();
        tokio::spawn(async move {
            loop {
                let res = sock.recv().await;
                let failed = res.is_err();
                if tx.send((key.clone(), res)).await.is_err() {
                    return;
                }
                if failed {
                    // Do not spin on a persistently failing socket.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
    }

    pub(super) fn announcer(&mut self, ifname: &str) -> Option<Arc<Announcer>> {
        if let Some(a) = self.announcers.get(ifname) {
            return Some(a.clone());
        }
        let idx = addr::ifindex(ifname)?;
        match Announcer::open(ifname, idx) {
            Ok(a) => {
                let a = Arc::new(a);
                self.announcers.insert(ifname.to_string(), a.clone());
                Some(a)
            }
            Err(e) => {
                tracing::warn!(iface = ifname, error = %e, "cannot open GARP/NA sockets");
                None
            }
        }
    }
}
