//! Golden byte tests against ipvsadm 1.31 (libnl 3.7) talking to a Debian
//! 6.1 kernel, captured in the lab guest with
//! `strace -e trace=sendmsg,recvmsg -xx -s 65536 ipvsadm ...`
//! (`tests/data/ipvsadm-1.31-strace.txt`, one `### ipvsadm ARGS` header per
//! command). For every command we encode what rk-ipvsadm would send and
//! compare it byte for byte with what ipvsadm sent (the port id is zeroed;
//! ipvsadm's GET_INFO preamble is skipped since we don't send it), and we
//! decode the kernel's dump replies and print them like `ipvsadm -Sn`.

use rkeepalived_ipvs::ipvsadm::{self, Command, ListWhat};
use rkeepalived_ipvs::netlink::message::{
    dest_from_attrs, service_from_attrs, service_identity, service_key_from_attrs,
};
use rkeepalived_ipvs::netlink::message::{service_key_attrs, REQUEST_ACK, REQUEST_DUMP};
use rkeepalived_ipvs::netlink::{
    cmd, encode_request, op_message, parse_frames, CmdAttr, Frame, IpvsMessage, ServiceDump,
    SyncDaemon,
};

const CAPTURE: &str = include_str!("data/ipvsadm-1.31-strace.txt");
/// The IPVS family id the guest kernel assigned during the capture.
const FAMILY: u16 = 0x20;

/// One netlink message as strace printed it.
#[derive(Debug, Clone)]
struct Captured {
    len: u32,
    msg_type: u16,
    flags: u16,
    seq: u32,
    payload: Vec<u8>,
}

impl Captured {
    /// The bytes on the wire, with the port id zeroed, and the unused 12
    /// bytes of an IPv4 `union nf_inet_addr` in a dest nest cleared: ipvsadm
    /// leaves stack garbage there when a v4 real server sits in a v6 service
    /// (the kernel reads only 4 bytes for AF_INET).
    fn bytes(&self) -> Vec<u8> {
        let mut b = self.wire();
        // ADDR_FAMILY = AF_INET, then a 16-byte IPVS_DEST_ATTR_ADDR.
        let pattern = [6u8, 0, 11, 0, 2, 0, 0, 0, 20, 0, 1, 0];
        let mut i = 0;
        while i + pattern.len() + 16 <= b.len() {
            if b[i..i + pattern.len()] == pattern {
                let start = i + pattern.len() + 4;
                b[start..start + 12].fill(0);
            }
            i += 1;
        }
        b
    }

    fn wire(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(self.len.to_ne_bytes());
        b.extend(self.msg_type.to_ne_bytes());
        b.extend(self.flags.to_ne_bytes());
        b.extend(self.seq.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b.extend(&self.payload);
        b
    }
}

fn flag_value(text: &str) -> u16 {
    text.split('|')
        .map(|f| match f {
            "NLM_F_REQUEST" => 1,
            "NLM_F_MULTI" => 2,
            "NLM_F_ACK" => 4,
            "NLM_F_ECHO" => 8,
            "NLM_F_DUMP" => 0x300,
            "NLM_F_CAPPED" => 0x100,
            "0" => 0,
            hex => u16::from_str_radix(hex.trim_start_matches("0x"), 16).expect("flag"),
        })
        .fold(0, |a, b| a | b)
}

fn field<'a>(s: &'a str, name: &str) -> &'a str {
    let start = s.find(name).expect(name) + name.len();
    let rest = &s[start..];
    let end = rest.find([',', '}']).expect("field end");
    rest[..end].split_whitespace().next().expect("value")
}

/// Every `{nlmsg_len=...}, "\x.."` pair on a strace line.
fn parse_line(line: &str) -> Vec<Captured> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.find("{nlmsg_len=") {
        rest = &rest[pos..];
        let hdr_end = rest.find('}').expect("header end");
        let hdr = &rest[..hdr_end];
        let after = &rest[hdr_end + 1..];
        rest = after;
        let Some(hex) = after.strip_prefix(", \"") else {
            continue;
        };
        let hex = &hex[..hex.find('"').expect("closing quote")];
        let payload = hex
            .split("\\x")
            .filter(|s| !s.is_empty())
            .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
            .collect();
        let msg_type = field(hdr, "nlmsg_type=");
        out.push(Captured {
            len: field(hdr, "nlmsg_len=").parse().expect("len"),
            msg_type: u16::from_str_radix(msg_type.trim_start_matches("0x"), 16).unwrap_or(0),
            flags: flag_value(field(hdr, "nlmsg_flags=")),
            seq: field(hdr, "nlmsg_seq=").parse().expect("seq"),
            payload,
        });
    }
    out
}

struct Block {
    args: Vec<String>,
    sent: Vec<Captured>,
    received: Vec<Captured>,
    /// For each received message, the index in `sent` of the request it
    /// answers (ipvsadm opens a socket per request, so sequence numbers repeat).
    answers: Vec<usize>,
}

fn blocks() -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for line in CAPTURE.lines() {
        if let Some(cmdline) = line.strip_prefix("### ipvsadm ") {
            blocks.push(Block {
                args: ipvsadm::split_line(cmdline),
                sent: vec![],
                received: vec![],
                answers: vec![],
            });
            continue;
        }
        let block = blocks.last_mut().expect("header first");
        let ipvs = |c: &Captured| c.msg_type == FAMILY;
        if line.starts_with("sendmsg(") {
            block.sent.extend(parse_line(line).into_iter().filter(ipvs));
        } else if line.starts_with("recvmsg(") && !line.contains("MSG_PEEK") {
            let request = block.sent.len().saturating_sub(1);
            for c in parse_line(line).into_iter().filter(ipvs) {
                block.received.push(c);
                block.answers.push(request);
            }
        }
    }
    blocks
}

/// Decode the GET_SERVICE / GET_DEST replies of a `-Sn` block.
fn dump_from(block: &Block) -> Vec<ServiceDump> {
    let decode = |c: &Captured| -> IpvsMessage {
        match parse_frames(&c.bytes(), FAMILY)
            .expect("reply decodes")
            .as_slice()
        {
            [Frame::Ipvs { msg, .. }] => msg.clone(),
            other => panic!("unexpected frames {other:?}"),
        }
    };
    let replies_to = |command: u8| {
        block
            .received
            .iter()
            .zip(&block.answers)
            .filter(move |(_, a)| block.sent[**a].payload[0] == command)
    };
    let mut dumps: Vec<ServiceDump> = replies_to(cmd::GET_SERVICE)
        .map(|(c, _)| {
            let info = service_from_attrs(decode(c).service_attrs().expect("service"))
                .expect("valid service");
            ServiceDump {
                info,
                dests: vec![],
            }
        })
        .collect();
    // GET_DEST replies carry no service: pair them with their request's service nest.
    for (c, request) in replies_to(cmd::GET_DEST) {
        let req = &block.sent[*request];
        let req_msg =
            IpvsMessage::parse(req.payload[0], &req.payload[4..]).expect("request decodes");
        let key = service_key_from_attrs(req_msg.service_attrs().expect("service nest"))
            .expect("request service decodes");
        let idx = dumps
            .iter()
            .position(|d| d.info.service.key == key)
            .expect("listed service");
        let msg = decode(c);
        let family = dumps[idx].info.service.key.family();
        dumps[idx]
            .dests
            .push(dest_from_attrs(msg.dest_attrs().expect("dest"), family).expect("valid dest"));
    }
    dumps
}

/// What rk-ipvsadm sends for `cmd` (after family resolution), given the
/// services the kernel listed (for -S).
fn our_messages(cmd: &Command, listed: &[ServiceDump]) -> Vec<(u16, IpvsMessage)> {
    match cmd {
        Command::Save | Command::List(ListWhat::Services) => {
            let mut v = vec![(REQUEST_DUMP, IpvsMessage::new(cmd::GET_SERVICE, vec![]))];
            // ipvsadm asks for dests in its sorted order (rk-ipvsadm: kernel order).
            let mut listed: Vec<&ServiceDump> = listed.iter().collect();
            listed.sort_by(|a, b| ipvsadm::cmp_services(&a.info.service, &b.info.service));
            for s in listed {
                v.push((
                    REQUEST_DUMP,
                    IpvsMessage::new(
                        cmd::GET_DEST,
                        vec![CmdAttr::Service(service_identity(&s.info.service.key))],
                    ),
                ));
            }
            v
        }
        Command::List(ListWhat::Timeout) => {
            vec![(REQUEST_ACK, IpvsMessage::new(cmd::GET_CONFIG, vec![]))]
        }
        Command::List(ListWhat::Daemon) => {
            vec![(REQUEST_DUMP, IpvsMessage::new(cmd::GET_DAEMON, vec![]))]
        }
        Command::Zero(key) => vec![(
            REQUEST_ACK,
            IpvsMessage::new(
                cmd::ZERO,
                key.iter()
                    .map(|k| CmdAttr::Service(service_key_attrs(k)))
                    .collect(),
            ),
        )],
        Command::SetTimeouts(t) => vec![(REQUEST_ACK, t.to_message())],
        Command::StartDaemon(d) => vec![(REQUEST_ACK, d.start_message())],
        Command::StopDaemon(s) => vec![(REQUEST_ACK, SyncDaemon::stop_message(*s))],
        other => vec![(
            REQUEST_ACK,
            op_message(&ipvsadm::command_op(other).expect("table command")),
        )],
    }
}

#[test]
fn every_captured_request_matches_our_encoding() {
    let mut compared = 0;
    let mut captured = 0;
    let mut refused_by_us = Vec::new();
    let mut commands = std::collections::BTreeSet::new();
    for block in blocks() {
        let sent: Vec<&Captured> = block
            .sent
            .iter()
            .filter(|c| c.payload[0] != cmd::GET_INFO)
            .collect();
        captured += sent.len();
        // A command line we reject must be one ipvsadm rejected too, before
        // talking to the kernel: then it sent nothing but GET_INFO. Any other
        // refusal is a disagreement, never a silent skip.
        let Ok(cmd) = ipvsadm::parse_command(&block.args) else {
            if !sent.is_empty() {
                refused_by_us.push(block.args.join(" "));
            }
            continue;
        };
        let listed = if matches!(cmd, Command::Save) {
            dump_from(&block)
        } else {
            vec![]
        };
        let ours = our_messages(&cmd, &listed);
        assert_eq!(sent.len(), ours.len(), "message count for {:?}", block.args);
        for (theirs, (flags, msg)) in sent.iter().zip(ours) {
            commands.insert(msg.cmd);
            let bytes = encode_request(FAMILY, theirs.seq, flags, msg);
            assert_eq!(
                bytes,
                theirs.bytes(),
                "bytes differ for `ipvsadm {}`",
                block.args.join(" ")
            );
            compared += 1;
        }
    }
    assert!(
        refused_by_us.is_empty(),
        "we refuse command lines that ipvsadm sent to the kernel: {refused_by_us:?}"
    );
    // Every message ipvsadm sent (GET_INFO aside) was compared byte for byte.
    assert_eq!(
        compared, captured,
        "compared {compared} of {captured} captured messages"
    );
    assert_eq!(captured, 44, "the capture file holds 44 ipvsadm requests");
    // NEW/SET/DEL/GET service + dest, daemons, config, zero, flush.
    for c in [
        cmd::NEW_SERVICE,
        cmd::SET_SERVICE,
        cmd::DEL_SERVICE,
        cmd::GET_SERVICE,
        cmd::NEW_DEST,
        cmd::SET_DEST,
        cmd::DEL_DEST,
        cmd::GET_DEST,
        cmd::NEW_DAEMON,
        cmd::DEL_DAEMON,
        cmd::GET_DAEMON,
        cmd::SET_CONFIG,
        cmd::GET_CONFIG,
        cmd::ZERO,
        cmd::FLUSH,
    ] {
        assert!(commands.contains(&c), "no golden sample for command {c}");
    }
}

const EXPECTED_SAVE: &str = "\
-A -t 192.0.2.9:80 -s sh -p 600 -M 255.255.255.0 -b sh-port
-a -t 192.0.2.9:80 -r 198.51.100.10:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum
-a -t 192.0.2.9:80 -r 198.51.100.11:80 -i -w 1 --tun-type gre --tun-nocsum
-A -u 192.0.2.10:53 -s wlc -p 30 --pe sip -o
-A --sctp-service 192.0.2.11:5060 -s nq
-A -t [2001:db8::1]:443 -s mh -b mh-fallback,mh-port
-a -t [2001:db8::1]:443 -r 198.51.100.8:443 -i -w 1 --tun-type ipip
-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 5
-A -f 7 -s wrr
-a -f 7 -r 198.51.100.6:0 -g -w 1
-A -f 8 -6 -s lc -p 300 -M 64
";

#[test]
fn captured_dump_prints_like_ipvsadm_save() {
    let saves: Vec<Block> = blocks().into_iter().filter(|b| b.args == ["-Sn"]).collect();
    assert_eq!(saves.len(), 2);
    for block in &saves {
        let dump = dump_from(block);
        assert_eq!(dump.len(), 6);
        assert!(
            dump.iter().all(|s| s.info.stats.is_some()),
            "stats64 decoded"
        );
        assert_eq!(ipvsadm::format_save(&dump), EXPECTED_SAVE);
    }
}

#[test]
fn captured_replies_round_trip() {
    // decode -> encode -> decode of every kernel reply is lossless (unknown
    // attributes such as IPVS_STATS_ATTR_PAD are kept) and has the same
    // length; bytes differ only in NLA_F_NESTED, which the kernel's stats
    // nests omit and we always set (as libnl does).
    let mut n = 0;
    for block in blocks() {
        for c in &block.received {
            let frames = parse_frames(&c.wire(), FAMILY).expect("decodes");
            let [Frame::Ipvs { msg, seq }] = frames.as_slice() else {
                panic!("{frames:?}")
            };
            let again = encode_request(FAMILY, *seq, c.flags, msg.clone());
            assert_eq!(
                again.len(),
                c.wire().len(),
                "reply of `ipvsadm {}`",
                block.args.join(" ")
            );
            let reparsed = parse_frames(&again, FAMILY).expect("re-decodes");
            assert_eq!(
                reparsed,
                frames,
                "reply of `ipvsadm {}`",
                block.args.join(" ")
            );
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} replies");
}

#[test]
fn save_text_parses_back_to_the_same_rules() {
    // `ipvsadm -Sn` text -> desired state -> printed again: identical.
    use rkeepalived_ipvs::netlink::{DestInfo, ServiceInfo};
    let state = ipvsadm::state_from_rules(EXPECTED_SAVE).expect("rules parse");
    let dump: Vec<ServiceDump> = state
        .services
        .values()
        .map(|e| ServiceDump {
            info: ServiceInfo {
                service: e.service.clone(),
                stats: None,
            },
            dests: e
                .dests
                .values()
                .map(|d| DestInfo {
                    dest: *d,
                    active_conns: 0,
                    inact_conns: 0,
                    persist_conns: 0,
                    stats: None,
                })
                .collect(),
        })
        .collect();
    assert_eq!(ipvsadm::format_save(&dump), EXPECTED_SAVE);
}

/// The requests ipvsadm sent for `args` (its GET_INFO preamble skipped).
fn sent_for(args: &[&str]) -> Vec<Captured> {
    let block = blocks()
        .into_iter()
        .find(|b| b.args == args)
        .unwrap_or_else(|| panic!("no `ipvsadm {}` in the capture", args.join(" ")));
    block
        .sent
        .into_iter()
        .filter(|c| c.payload[0] != cmd::GET_INFO)
        .collect()
}

/// keepalived's `lvs_timeouts tcp 100 tcpfin 20 udp 30` (libipvs.c
/// `ipvs_set_timeout()`) goes out as the very requests ipvsadm sends: first
/// GET_CONFIG to save the kernel's values (`ipvsadm -Ln --timeout`), then
/// SET_CONFIG with all three values (`ipvsadm --set 100 20 30`); the stop
/// restores the saved values with the same SET_CONFIG layout.
#[test]
fn lvs_timeouts_requests_match_ipvsadm_bytes() {
    use rkeepalived_ipvs::globals::KERNEL_DEFAULT_TIMEOUTS;
    use rkeepalived_ipvs::netlink::Timeouts;
    use rkeepalived_ipvs::{TimeoutKeeper, TimeoutStep};

    let want = Some(Timeouts {
        tcp: 100,
        tcp_fin: 20,
        udp: 30,
    });
    let mut keeper = TimeoutKeeper::new();
    assert_eq!(keeper.next(want), TimeoutStep::ReadOriginal);
    let get = sent_for(&["-Ln", "--timeout"]);
    assert_eq!(get.len(), 1);
    assert_eq!(
        encode_request(FAMILY, get[0].seq, REQUEST_ACK, Timeouts::get_message()),
        get[0].bytes(),
        "GET_CONFIG differs from ipvsadm -Ln --timeout"
    );
    keeper.got_original(KERNEL_DEFAULT_TIMEOUTS);
    let TimeoutStep::Set(t) = keeper.next(want) else {
        panic!("configured timeouts must be set")
    };
    let set = sent_for(&["--set", "100", "20", "30"]);
    assert_eq!(set.len(), 1);
    assert_eq!(
        encode_request(FAMILY, set[0].seq, REQUEST_ACK, t.to_message()),
        set[0].bytes(),
        "SET_CONFIG differs from ipvsadm --set 100 20 30"
    );
    // Restore on stop: the saved kernel defaults, all three fields present.
    assert_eq!(keeper.next(None), TimeoutStep::Set(KERNEL_DEFAULT_TIMEOUTS));
}

/// `lvs_flush` at start and `lvs_flush_on_stop` send IPVS_CMD_FLUSH exactly
/// as `ipvsadm -C` does.
#[test]
fn lvs_flush_request_matches_ipvsadm_clear() {
    let sent = sent_for(&["-C"]);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        encode_request(
            FAMILY,
            sent[0].seq,
            REQUEST_ACK,
            op_message(&rkeepalived_ipvs::Op::Flush)
        ),
        sent[0].bytes()
    );
}

/// `lvs_sync_daemon rkid0 id 5` (port and group left at the kernel's
/// defaults, so not sent, as keepalived's ipvs_syncd_cmd() does) starts the
/// master daemon with the bytes of `ipvsadm --start-daemon master
/// --mcast-interface rkid0 --syncid 5`, and the backup one likewise.
#[test]
fn lvs_sync_daemon_requests_match_ipvsadm_bytes() {
    use rkeepalived_ipvs::netlink::DaemonState;
    use rkeepalived_ipvs::syncd::{SyncdConfig, DEFAULT_SYNC_GROUP, DEFAULT_SYNC_PORT};
    for (state, id, args) in [
        (
            DaemonState::Master,
            5,
            [
                "--start-daemon",
                "master",
                "--mcast-interface",
                "rkid0",
                "--syncid",
                "5",
            ],
        ),
        (
            DaemonState::Backup,
            6,
            [
                "--start-daemon",
                "backup",
                "--mcast-interface",
                "rkid0",
                "--syncid",
                "6",
            ],
        ),
    ] {
        let cfg = SyncdConfig::new(
            "rkid0",
            id,
            None,
            DEFAULT_SYNC_PORT,
            None,
            DEFAULT_SYNC_GROUP,
        );
        let sent = sent_for(&args);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            encode_request(
                FAMILY,
                sent[0].seq,
                REQUEST_ACK,
                cfg.daemon(state).start_message()
            ),
            sent[0].bytes(),
            "{args:?}"
        );
    }
}
