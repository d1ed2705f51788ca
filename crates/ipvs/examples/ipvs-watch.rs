//! ipvs-watch: waits until a TCP service's real server has a weight, and
//! prints the wall-clock time (seconds since the epoch) at which the kernel
//! first showed it. One netlink socket, polled every 5 ms: unlike a
//! loop of `ipvsadm -Ln -t` (a process start per poll, ~0.1-0.3 s under
//! qemu TCG), the poll adds at most ~5 ms to what it measures
//! (bench/scale/lab_reload.sh, issue #17 item 1).
//!
//!   ipvs-watch VIP:PORT RS_ADDR WEIGHT TIMEOUT_S
//!
//! Exit status: 0 seen (time on stdout), 1 timed out, 2 usage or netlink
//! error.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkeepalived_ipvs::model::{Protocol, ServiceKey};
use rkeepalived_ipvs::NetlinkIpvs;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| {
        let svc: SocketAddr = args.first()?.parse().ok()?;
        let rs: IpAddr = args.get(1)?.parse().ok()?;
        let weight: i32 = args.get(2)?.parse().ok()?;
        let timeout: f64 = args.get(3)?.parse().ok()?;
        Some((svc, rs, weight, Duration::from_secs_f64(timeout)))
    })();
    let Some((svc, rs, weight, timeout)) = parsed else {
        eprintln!("usage: ipvs-watch VIP:PORT RS_ADDR WEIGHT TIMEOUT_S");
        return ExitCode::from(2);
    };
    let key = ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: svc.ip(),
        port: svc.port(),
    };
    let mut client = match NetlinkIpvs::connect() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ipvs-watch: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    loop {
        // A service that is missing for a moment is polled again.
        if let Ok(dests) = client.dests(&key) {
            if dests
                .iter()
                .any(|d| d.dest.addr == rs && d.dest.weight == weight)
            {
                let at = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                println!("{}.{:09}", at.as_secs(), at.subsec_nanos());
                return ExitCode::SUCCESS;
            }
        }
        if started.elapsed() > timeout {
            return ExitCode::from(1);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
