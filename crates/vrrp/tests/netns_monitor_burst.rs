//! The link/address monitor survives the burst of a large takeover.
//!
//! Becoming Master of 1,000 instances adds 4,000 VIPs, and each add comes
//! back on the monitor socket as an RTM_NEWADDR. With the kernel's default
//! receive buffer (rmem_default, 208 KiB; keepalived's own default is 64 KiB)
//! a burst like that overruns the socket while the engine is busy with the
//! takeover itself, and the engine has to treat it as lost events (an error
//! and a full resync). The monitor now asks for 8 MiB (`addr::MONITOR_RCVBUF`).
//!
//! The burst here is 2,000 IPv6 addresses added by `ip -batch` while the
//! monitor's only runtime thread is blocked, so nothing reads the socket
//! until the burst is over: every event must still arrive, with no overrun.
//! (With the default buffer the socket overran after 512 events.)

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rkeepalived_testkit::{prerequisites, Need, Netns};
use rkeepalived_vrrp::addr::{self, NetEvent};

const BURST: usize = 2000;

#[test]
fn a_burst_of_address_adds_does_not_overrun_the_monitor() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let ns = Netns::new("monburst");
    ns.ip(&["link", "add", "mb0", "type", "veth", "peer", "name", "mb1"]);
    ns.ip(&["link", "set", "mb0", "up"]);
    ns.ip(&["link", "set", "mb1", "up"]);
    let name = ns.name().to_string();
    let (added, overruns) = ns.run(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(2 * BURST);
            let _watch = addr::watch(tx).expect("monitor socket");
            // Blocking call on the runtime's only thread: the monitor socket
            // is not read until every address is in.
            let batch: String = (1..=BURST)
                .map(|i| format!("addr add 2001:db8:7::{i:x}/128 dev mb0 nodad\n"))
                .collect();
            let mut ip = Command::new("ip")
                .args(["-n", &name, "-batch", "-"])
                .stdin(Stdio::piped())
                .spawn()
                .expect("ip -batch");
            ip.stdin
                .take()
                .expect("stdin")
                .write_all(batch.as_bytes())
                .expect("write batch");
            assert!(ip.wait().expect("ip -batch").success(), "ip -batch failed");
            let (mut added, mut overruns) = (0usize, 0usize);
            let limit = Instant::now() + Duration::from_secs(30);
            while added < BURST && Instant::now() < limit {
                match tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
                    Ok(Some(NetEvent::AddressAdded { addr: Some(a), .. }))
                        if a.to_string().starts_with("2001:db8:7::") =>
                    {
                        added += 1
                    }
                    Ok(Some(NetEvent::Overrun)) => overruns += 1,
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            (added, overruns)
        })
    });
    assert_eq!(
        overruns, 0,
        "the monitor socket overran ({added} adds seen)"
    );
    assert_eq!(added, BURST, "every RTM_NEWADDR of the burst arrives");
}
