//! rk-ipvsadm: an ipvsadm-compatible subset on top of rkeepalived-ipvs.
//!
//!   rk-ipvsadm -A -t 192.0.2.1:80 -s wrr -p 300
//!   rk-ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 2
//!   rk-ipvsadm -Sn                  # identical to `ipvsadm -Sn`
//!   rk-ipvsadm -R < rules           # pipelined restore
//!   rk-ipvsadm --apply rules [--flush-foreign]   # reconcile to a desired state
//!
//! `--apply` reads `ipvsadm -S` rules (or JSON with a .json name, see
//! `rkeepalived_ipvs::ipvsadm::state_from_json`) and prints how many ops it
//! needed on stderr.

use std::io::Read;
use std::process::ExitCode;

use rkeepalived_ipvs::ipvsadm::{self, Command, ListWhat};
use rkeepalived_ipvs::{sync, IpvsBackend, IpvsError, NetlinkIpvs, OwnedSet};

fn fail(cmd: &Command, e: IpvsError) -> ExitCode {
    match e.errno() {
        Some(errno) => eprintln!("{}", ipvsadm::error_text(cmd, errno)),
        None => eprintln!("{e}"),
    }
    ExitCode::from(255)
}

fn run(cmd: Command) -> ExitCode {
    let mut client = match NetlinkIpvs::connect() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Can't initialize ipvs: {e}");
            return ExitCode::from(255);
        }
    };
    let result = match &cmd {
        Command::Save => client
            .dump_all()
            .map(|d| print!("{}", ipvsadm::format_save(&d))),
        Command::List(ListWhat::Timeout) => client.timeouts().map(|t| {
            println!(
                "Timeout (tcp tcpfin udp): {} {} {}",
                t.tcp, t.tcp_fin, t.udp
            )
        }),
        Command::List(ListWhat::Daemon) => client.daemons().map(|ds| {
            for d in ds {
                print!(
                    "{} sync daemon (mcast={}, syncid={}",
                    d.state.name(),
                    d.mcast_ifn,
                    d.sync_id
                );
                // Kernels >= 4.7 report the multicast parameters too.
                if let (Some(maxlen), Some(group), Some(port), Some(ttl)) =
                    (d.sync_maxlen, d.mcast_group, d.mcast_port, d.mcast_ttl)
                {
                    print!(", maxlen={maxlen}, group={group}, port={port}, ttl={ttl}");
                }
                println!(")");
            }
        }),
        Command::List(ListWhat::Services) => client.info().and_then(|info| {
            let dump = client.dump_all()?;
            print!("{}", ipvsadm::format_list(&info, &dump));
            Ok(())
        }),
        Command::Zero(key) => client.zero(key.as_ref()),
        Command::SetTimeouts(t) => client.set_timeouts(*t),
        Command::StartDaemon(d) => client.start_daemon(d),
        Command::StopDaemon(state) => client.stop_daemon(*state),
        Command::Restore => return restore(&mut client),
        Command::Apply { path, flush } => return apply(&mut client, path, *flush),
        other => match ipvsadm::command_op(other) {
            Some(op) => client.apply(&op),
            None => Ok(()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&cmd, e),
    }
}

/// `-R`: every line is a command; all modifying ones go out pipelined.
fn restore(client: &mut NetlinkIpvs) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("reading stdin: {e}");
        return ExitCode::from(2);
    }
    let mut cmds = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let args = ipvsadm::split_line(line);
        if args.is_empty() || args[0].starts_with('#') {
            continue;
        }
        match ipvsadm::parse_command(&args) {
            Ok(c) => match ipvsadm::command_op(&c) {
                Some(op) => cmds.push((c, op)),
                None => {
                    eprintln!("line {}: not a table command", n + 1);
                    return ExitCode::from(2);
                }
            },
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                return ExitCode::from(2);
            }
        }
    }
    let ops: Vec<_> = cmds.iter().map(|(_, op)| op.clone()).collect();
    let mut code = ExitCode::SUCCESS;
    for ((cmd, _), result) in cmds.iter().zip(client.apply_batch(&ops)) {
        if let Err(e) = result {
            code = fail(cmd, e);
        }
    }
    code
}

fn apply(client: &mut NetlinkIpvs, path: &str, flush: bool) -> ExitCode {
    let desired = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            if path.ends_with(".json") {
                ipvsadm::state_from_json(&text).map_err(|e| e.to_string())
            } else {
                ipvsadm::state_from_rules(&text).map_err(|e| e.to_string())
            }
        }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut owned = if flush {
        OwnedSet::flush_all()
    } else {
        OwnedSet::new()
    };
    match sync(client, &desired, &mut owned) {
        Ok(report) => {
            let c = client.counters();
            eprintln!(
                "planned {} ops, applied {}, failed {} ({} netlink requests in {} datagrams)",
                report.planned.len(),
                report.applied,
                report.failed.len(),
                c.requests,
                c.datagrams
            );
            for (op, e) in &report.failed {
                eprintln!("  {op}: {e}");
            }
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(255)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match ipvsadm::parse_command(&args) {
        Ok(cmd) => run(cmd),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
