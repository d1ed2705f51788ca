//! Runs BFD sessions and prints each state change as a line
//! `<unix time ms> <name> <Up|Down> <diag>`.
//!
//!     bfd-node NAME=NEIGHBOR[,src=ADDR][,rx=MS][,tx=MS][,idle=MS][,mult=N][,passive][,ttl=N][,max_hops=N] ...
//!
//! Intervals in milliseconds (fractions allowed, as keepalived's parser);
//! defaults are keepalived's (10 ms, 10 ms, 1000 ms, 5). Example:
//!
//!     bfd-node peer=192.0.2.2,rx=100,tx=100,mult=3 peer6=2001:db8::2,rx=100,tx=100,mult=3

use std::io::Write as _;

use rkeepalived_bfd::{BfdEngine, SessionConfig};

fn ms_to_us(v: &str) -> Result<u32, String> {
    let f: f64 = v.parse().map_err(|_| format!("bad interval {v}"))?;
    if !(0.001..=4_294_967.0).contains(&f) {
        return Err(format!("interval {v} out of range"));
    }
    Ok((f * 1000.0).round() as u32)
}

fn parse(arg: &str) -> Result<SessionConfig, String> {
    let (name, rest) = arg.split_once('=').ok_or("expected NAME=NEIGHBOR[,...]")?;
    let mut parts = rest.split(',');
    let neighbor = parts
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|e| format!("{arg}: neighbor: {e}"))?;
    let mut cfg = SessionConfig::new(name, neighbor);
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let num = |v: &str| v.parse::<i64>().map_err(|e| format!("{p}: {e}"));
        match k {
            "src" => cfg.source = Some(v.parse().map_err(|e| format!("{p}: {e}"))?),
            "rx" => cfg.min_rx_us = ms_to_us(v)?,
            "tx" => cfg.min_tx_us = ms_to_us(v)?,
            "idle" => cfg.idle_tx_us = ms_to_us(v)?,
            "mult" => cfg.multiplier = u8::try_from(num(v)?).map_err(|e| e.to_string())?,
            "passive" => cfg.passive = true,
            "ttl" => cfg.ttl = Some(u8::try_from(num(v)?).map_err(|e| e.to_string())?),
            "max_hops" => {
                cfg.max_hops = match num(v)? {
                    -1 => u8::MAX,
                    n => u8::try_from(n).map_err(|e| e.to_string())?,
                }
            }
            _ => return Err(format!("unknown option {p}")),
        }
    }
    Ok(cfg)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let configs: Result<Vec<_>, _> = std::env::args().skip(1).map(|a| parse(&a)).collect();
    let configs = match configs {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => {
            eprintln!("usage: bfd-node NAME=NEIGHBOR[,src=ADDR][,rx=MS][,tx=MS][,idle=MS][,mult=N][,passive][,ttl=N][,max_hops=N] ...");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("bfd-node: {e}");
            std::process::exit(2);
        }
    };
    let (handle, mut events) = match BfdEngine::spawn(configs) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("bfd-node: {e}");
            std::process::exit(1);
        }
    };
    while let Some(ev) = events.recv().await {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{now} {} {} {}", ev.name, ev.state, ev.diag);
        let _ = out.flush();
    }
    handle.shutdown();
}
