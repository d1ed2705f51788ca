//! A reload costs O(change): with 200 virtual servers (1,000 TCP-checked
//! real servers) in the table, a reload that changes one real server's
//! weight sends exactly one IPVS op (an in-place `EditDest`), starts no
//! checker, and the op counter says so; changing 10 % of the services
//! sends one op per change. keepalived edits surviving virtual and real
//! servers in place on reload too (ipwrapper.c `clear_diff_services()`,
//! `vs_exist()` / `rs_exist()`), but it walks every service to do it.

use std::sync::Arc;

use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::Op;

mod reload_engine;
use reload_engine::{assert_one_weight_edit, TestEngine};

const SERVICES: usize = 200;
const DESTS: usize = 5;

/// `SERVICES` virtual servers on 192.0.2.1:10000+, `DESTS` real servers
/// each (on port 20000+ the service's number: one checker each); `weight(service, dest)` gives each real server's weight.
fn config(weight: impl Fn(usize, usize) -> u32) -> Arc<Config> {
    let mut text = String::from("global_defs {\n  router_id reload-ops\n}\n");
    for s in 0..SERVICES {
        text.push_str(&format!(
            "virtual_server 192.0.2.1 {} {{\n  delay_loop 3600\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n",
            10000 + s
        ));
        for d in 1..=DESTS {
            text.push_str(&format!(
                "  real_server 198.51.100.{d} {} {{\n    weight {}\n    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n",
                20000 + s,
                weight(s, d)
            ));
        }
        text.push_str("}\n");
    }
    let loaded = rkeepalived_config::parse_str(&text, "reload-ops.conf", &LoadOptions::default())
        .expect("generated config parses");
    Arc::new(loaded.config)
}

#[tokio::test]
async fn a_one_real_server_reload_is_one_ipvs_op_and_restarts_no_checker() {
    let t = TestEngine::start(&config(|_, _| 1), SERVICES * DESTS).await;
    assert_eq!(t.built(), SERVICES * DESTS);
    let (_, mut mark) = t.ops_since(0);

    // One real server's weight changes.
    let one = config(|s, d| if (s, d) == (123, 4) { 7 } else { 1 });
    t.tx.send(Control::Reload(one)).await.expect("reload");
    let stats = t.ask(Control::DumpStats).await;
    let (ops, end) = t.ops_since(mark);
    mark = end;
    assert_one_weight_edit(&ops);
    assert!(stats.contains("(last reload 1)"), "{stats}");
    assert_eq!(
        t.built(),
        SERVICES * DESTS,
        "a reload must not restart unchanged checkers"
    );
    let metrics = t.ask(Control::Metrics).await;
    assert!(
        metrics.contains("rkeepalived_check_ipvs_ops_last_reload 1\n"),
        "{metrics}"
    );

    // 10 % of the services get one changed real server each: one op each.
    let tenth = config(|s, d| if s % 10 == 0 && d == 2 { 3 } else { 1 });
    t.tx.send(Control::Reload(tenth)).await.expect("reload");
    let stats = t.ask(Control::DumpStats).await;
    let (ops, _) = t.ops_since(mark);
    // 20 weight changes, and service 123's real server back to weight 1.
    assert_eq!(ops.len(), SERVICES / 10 + 1, "{ops:?}");
    assert!(
        ops.iter().all(|op| matches!(op, Op::EditDest(..))),
        "{ops:?}"
    );
    assert!(
        stats.contains(&format!("(last reload {})", SERVICES / 10 + 1)),
        "{stats}"
    );
    assert_eq!(t.built(), SERVICES * DESTS);
    t.stop().await;
}
