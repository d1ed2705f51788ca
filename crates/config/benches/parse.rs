//! Load time of large configurations (an operator's reload latency).
//! `cargo bench -p rkeepalived-config --bench parse`
//!
//! Compare with keepalived on the same machine: write the generated text to
//! a file (`RK_WRITE_BENCH_CONF=/tmp/big.conf`) and time
//! `keepalived -t -f /tmp/big.conf`.

use std::fmt::Write;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkeepalived_config::{parse_str, print, LoadOptions};

/// `n_vs` virtual servers with 8 real servers and an HTTP_GET each, plus
/// `n_vs / 8` VRRP instances with a few VIPs.
fn big_config(n_vs: usize) -> String {
    let mut s = String::from("global_defs {\n    router_id bench\n}\n");
    for i in 0..n_vs / 8 {
        let _ = write!(
            s,
            "vrrp_instance VI_{i} {{\n    interface eth{}\n    virtual_router_id {}\n    priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        192.0.2.{}/24\n        198.51.100.{}/24\n    }}\n}}\n",
            i / 255,
            i % 255 + 1,
            i % 250 + 1,
            i % 250 + 1
        );
    }
    for v in 0..n_vs {
        let _ = write!(
            s,
            "virtual_server 203.0.113.{} {} {{\n    delay_loop 6\n    lb_algo wlc\n    lb_kind DR\n    protocol TCP\n",
            v % 250 + 1,
            1000 + v
        );
        for r in 0..8 {
            let _ = write!(
                s,
                "    real_server 198.51.100.{} {} {{\n        weight 1\n        HTTP_GET {{\n            url {{\n                path /health\n                status_code 200-299\n            }}\n            connect_timeout 3\n            retry 3\n            delay_before_retry 3\n        }}\n    }}\n",
                r + 1,
                1000 + v
            );
        }
        s.push_str("}\n");
    }
    s
}

fn bench(c: &mut Criterion) {
    let opts = LoadOptions {
        config_id: Some("bench".into()),
    };
    let mut group = c.benchmark_group("load");
    for n in [10usize, 100, 1000] {
        let text = big_config(n);
        if n == 1000 {
            if let Some(path) = std::env::var_os("RK_WRITE_BENCH_CONF") {
                let _ = std::fs::write(path, &text);
            }
        }
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse_str", n), &text, |b, t| {
            b.iter(|| parse_str(t, "bench.conf", &opts).map(|l| l.config.virtual_servers.len()))
        });
        let cfg = match parse_str(&text, "bench.conf", &opts) {
            Ok(l) => l.config,
            Err(e) => panic!("bench config must load: {e}"),
        };
        group.bench_with_input(BenchmarkId::new("print", n), &cfg, |b, c| {
            b.iter(|| print(c).len())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
