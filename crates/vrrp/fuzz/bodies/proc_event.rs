//! Process-event connector datagrams (track_process): any bytes decode to
//! an event or a typed error, never a panic, and a decoded event feeds the
//! pid table without panicking either.

use rkeepalived_vrrp::proc_event::{comm_str, decode, ProcEvent, SeqTracker};
use rkeepalived_vrrp::proc_table::ProcTable;

pub fn run(data: &[u8]) {
    let Ok(msg) = decode(data) else {
        return;
    };
    assert!(data.len() >= 76);
    let _ = msg.event.is_process();
    let mut seq = SeqTracker::default();
    let _ = seq.observe(&msg);
    let _ = seq.observe(&msg);
    let mut t = ProcTable::new(0);
    match msg.event {
        ProcEvent::Fork {
            parent_tgid,
            child_tgid,
            ..
        } => t.fork(parent_tgid, child_tgid),
        ProcEvent::Comm { tgid, comm, .. } => {
            assert!(comm_str(&comm).len() <= 16);
            t.comm(&[], tgid, comm_str(&comm));
        }
        ProcEvent::Exit { tgid, .. } | ProcEvent::Exec { tgid, .. } => t.exit(tgid),
        ProcEvent::Ack { .. } | ProcEvent::Other { .. } => {}
    }
    assert!(t.counts().is_empty());
}
