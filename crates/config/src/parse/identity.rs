//! keepalived's root keywords that name the daemon (`net_namespace`,
//! `net_namespace_ipvs`, `namespace_with_ipsets`, `instance`,
//! `use_pid_dir`) and the global_defs process names and
//! `data_use_instance`, with keepalived 2.2.7's messages
//! (core/global_parser.c).

use super::Parser;
use crate::model::DaemonIdentity;
use crate::tree::Node;

/// Linux keeps 15 bytes of a process name (TASK_COMM_LEN - 1).
const COMM_MAX: usize = 15;

/// A root keyword of this module: handled (true) or not one (false).
pub(super) fn root_kw(p: &mut Parser, n: &Node) -> bool {
    let arg = n.args.first().map(|t| t.text.clone());
    let pos = n.name.pos.clone();
    let id = &mut p.cfg.global_defs.identity;
    let w = &mut p.warnings;
    match n.key() {
        // net_namespace_handler(): the first one wins, implies use_pid_dir.
        "net_namespace" => match arg {
            None => w.push(pos.warning("net_namespace name missing - ignoring")),
            Some(name) if id.net_namespace.is_none() => {
                id.net_namespace = Some(name);
                id.use_pid_dir = true;
            }
            Some(name) => w.push(pos.warning(format!(
                "Duplicate net_namespace definition {name} - ignoring"
            ))),
        },
        // net_namespace_ipvs_handler(): no name means the default namespace.
        "net_namespace_ipvs" => {
            if id.net_namespace_ipvs.is_some() {
                w.push(pos.warning(format!(
                    "Duplicate net_namespace_ipvs definition {} - ignoring",
                    arg.unwrap_or_default()
                )));
            } else {
                id.net_namespace_ipvs = Some(arg.unwrap_or_default());
            }
        }
        "namespace_with_ipsets" => id.namespace_with_ipsets = true,
        // instance_handler(): the first one wins, implies use_pid_dir.
        "instance" => match arg {
            None => w.push(pos.warning("instance name missing - ignoring")),
            Some(name) if id.instance.is_none() => {
                id.instance = Some(name);
                id.use_pid_dir = true;
            }
            Some(name) => {
                w.push(pos.warning(format!("Duplicate instance definition {name} - ignoring")))
            }
        },
        "use_pid_dir" => id.use_pid_dir = true,
        _ => return false,
    }
    true
}

/// A global_defs keyword of this module: handled (true) or not one (false).
pub(super) fn global_kw(p: &mut Parser, n: &Node) -> bool {
    let pos = n.name.pos.clone();
    let arg = n.args.first().map(|t| t.text.as_str());
    let mut save = |slot: fn(&mut DaemonIdentity) -> &mut Option<String>, src: Option<&str>| {
        let (id, w) = (&mut p.cfg.global_defs.identity, &mut p.warnings);
        // save_process_name()
        let Some(src) = src else {
            w.push(pos.warning("Process name missing"));
            return;
        };
        let mut name = src;
        if src.len() > COMM_MAX {
            w.push(pos.warning(format!(
                "Process name {src} more than {COMM_MAX} characters, truncating"
            )));
            let mut end = COMM_MAX;
            while !src.is_char_boundary(end) {
                end -= 1;
            }
            name = &src[..end];
        }
        *slot(id) = Some(name.to_owned());
    };
    match n.key() {
        // process_names_handler()
        "process_names" => {
            save(|i| &mut i.vrrp_process_name, Some("keepalived_vrrp"));
            save(|i| &mut i.checker_process_name, Some("keepalived_lvs"));
            save(|i| &mut i.bfd_process_name, Some("keepalived_bfd"));
        }
        "process_name" => save(|i| &mut i.process_name, arg),
        "vrrp_process_name" => save(|i| &mut i.vrrp_process_name, arg),
        "checker_process_name" => save(|i| &mut i.checker_process_name, arg),
        "lvs_process_name" => {
            // lvs_process_name_handler(), deprecated since 12/07/20.
            save(|i| &mut i.checker_process_name, arg);
            p.warnings.push(
                n.name.pos.warning(
                    "'lvs_process_name' is deprecated - please use 'checker_process_name'",
                ),
            );
        }
        "bfd_process_name" => save(|i| &mut i.bfd_process_name, arg),
        "data_use_instance" => p.cfg.global_defs.identity.data_use_instance = true,
        _ => return false,
    }
    true
}
