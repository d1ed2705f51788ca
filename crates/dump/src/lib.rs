//! keepalived 2.2.7's dump file formats, shared by the supervisor and both
//! engines so that tools written for keepalived's files keep working:
//!
//! * [`global::global_definitions`]: the `------< Global definitions >------`
//!   section every `.data` file starts with (core/global_data.c
//!   `dump_global_data`);
//! * [`cfmt`]: the C formatting those files use (`%g`, `%f`, `ctime_r` with
//!   microseconds);
//! * [`json::JsonWriter`]: keepalived's `jsonw` writer (lib/json_writer.c),
//!   byte for byte, for `/tmp/keepalived.json`;
//! * [`bfd`]: the BFD sections (`keepalived_bfd.data`'s topology, the VRRP
//!   process's tracked BFDs), from the configuration;
//! * [`cmd_str`]: how keepalived prints a script's command line
//!   (lib/notify.c `cmd_str_r`).

pub mod bfd;
pub mod cfmt;
pub mod global;
pub mod json;

use rkeepalived_config::model::{GlobalDefs, Notify};

/// keepalived's `cmd_str()` (lib/notify.c `cmd_str_r`): every word of the
/// command in single quotes, separated by spaces (a first word starting with
/// `<` or `>`, bash's file test, is left bare).
pub fn cmd_str(command: &str) -> String {
    let words = rkeepalived_script::parse_command_line(command)
        .unwrap_or_else(|_| vec![command.to_string()]);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 && (w.starts_with('<') || w.starts_with('>')) {
                w.clone()
            } else {
                format!("'{w}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`cmd_str`] of the command as keepalived runs it: the program resolved
/// through `PATH` and symlinks (keepalived's `check_script_secure()`
/// replaces `args[0]` with its real path, so `/bin/true` prints as
/// `'/usr/bin/true'`).
pub fn cmd_str_resolved(command: &str) -> String {
    let Ok(mut words) = rkeepalived_script::parse_command_line(command) else {
        return cmd_str(command);
    };
    if let Some(first) = words.first_mut() {
        if let Some(real) = resolve_program(first) {
            *first = real;
        }
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 && (w.starts_with('<') || w.starts_with('>')) {
                w.clone()
            } else {
                format!("'{w}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn resolve_program(prog: &str) -> Option<String> {
    let found = if prog.contains('/') {
        std::path::PathBuf::from(prog)
    } else {
        let path =
            std::env::var("PATH").unwrap_or_else(|_| rkeepalived_script::DEFAULT_PATH.into());
        path.split(':')
            .map(|d| std::path::Path::new(d).join(prog))
            .find(|p| p.is_file())?
    };
    std::fs::canonicalize(found)
        .ok()
        .and_then(|p| p.into_os_string().into_string().ok())
}

/// The uid:gid a configured script runs as: its own `user`, else the
/// default script user (`script_user`, else `keepalived_script`, else the
/// daemon's user); 0:0 when none resolves.
pub fn script_ids(n: &Notify, gd: &GlobalDefs) -> (u32, u32) {
    if let Some(u) = &n.user {
        if let Ok(r) = rkeepalived_script::RunAs::resolve(&u.user, u.group.as_deref()) {
            return (r.uid, r.gid);
        }
    }
    default_script_ids(gd).unwrap_or((0, 0))
}

/// keepalived `get_default_script_user()`: None when no default user can
/// be set (script security on, no `script_user`, no `keepalived_script`).
pub fn default_script_ids(gd: &GlobalDefs) -> Option<(u32, u32)> {
    let (security, _) = rkeepalived_script::config::policy(gd);
    security.default_user.map(|r| (r.uid, r.gid))
}

/// The host name keepalived falls back to for `router_id` and the SMTP
/// defaults (`get_local_name()`).
pub fn local_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "[unknown]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_str_quotes_every_word() {
        assert_eq!(cmd_str("/bin/true"), "'/bin/true'");
        assert_eq!(cmd_str("/x.sh a \"b c\""), "'/x.sh' 'a' 'b c'");
        assert_eq!(cmd_str("</dev/null"), "</dev/null");
    }
}
