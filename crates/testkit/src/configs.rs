//! Generated configurations for scale tests.

use std::fmt::Write as _;

/// A configuration in the layout of bench/scale/gen_2318.py (keepalived
/// issue #2318): `vs_count` TUN virtual servers with `rs_per_vs`
/// TCP-checked real servers each, documentation addresses only.
pub fn issue_2318(vs_count: usize, rs_per_vs: usize) -> String {
    let mut out = String::with_capacity(vs_count * rs_per_vs * 160 + 1024);
    out.push_str("global_defs {\n    router_id scale2318\n}\n\n");
    for v in 0..vs_count {
        let vip = format!("203.0.113.{}", v % 250 + 1);
        let port = 1000 + v / 250;
        let _ = writeln!(out, "virtual_server {vip} {port} {{");
        out.push_str("    delay_loop 10\n    lb_algo wrr\n    lb_kind TUN\n    protocol TCP\n");
        for r in 0..rs_per_vs {
            let n = v * rs_per_vs + r;
            let rs = if n % 2 == 0 {
                format!("198.51.100.{}", n % 250 + 1)
            } else {
                format!("192.0.2.{}", n % 250 + 1)
            };
            let rport = 20000 + (n / 250) % 40000;
            let _ = writeln!(out, "    real_server {rs} {port} {{");
            out.push_str("        weight 1\n        TCP_CHECK {\n");
            let _ = writeln!(out, "            connect_port {rport}");
            out.push_str("            connect_timeout 3\n        }\n    }\n");
        }
        out.push_str("}\n");
    }
    out
}
