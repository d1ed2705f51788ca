//! Canonical keepalived.conf output.
//!
//! Every effective value is written explicitly, so the text parses back to an
//! equal [`Config`] whatever keepalived's defaults and inheritance rules are
//! (and documents what the daemon actually runs with). `Origin`s are not
//! printed (they compare equal).

use std::fmt::Write;
use std::time::Duration;

use crate::model::*;
use crate::parse::fmt_duration;

mod addresses;
mod bfd;
mod global;
mod identity;
mod lvs;
mod vrrp;

use addresses::{route, rule, vip};
use global::global_defs;
use lvs::{virtual_server, virtual_server_group};
use vrrp::{sync_group, vrrp_instance, vrrp_script, vrrp_track_file, vrrp_track_process};

/// Render `cfg` as keepalived.conf text.
pub fn print(cfg: &Config) -> String {
    let mut w = Out::default();
    identity::root(&mut w, &cfg.global_defs.identity);
    global_defs(&mut w, &cfg.global_defs);
    if !cfg.static_ipaddresses.is_empty() {
        w.open("static_ipaddress");
        for a in &cfg.static_ipaddresses {
            w.line(&vip(a));
        }
        w.close();
    }
    if !cfg.static_routes.is_empty() {
        w.open("static_routes");
        for r in &cfg.static_routes {
            w.line(&route(r));
        }
        w.close();
    }
    if !cfg.static_rules.is_empty() {
        w.open("static_rules");
        for r in &cfg.static_rules {
            w.line(&rule(r));
        }
        w.close();
    }
    for s in &cfg.vrrp_scripts {
        vrrp_script(&mut w, s);
    }
    for t in &cfg.vrrp_track_files {
        vrrp_track_file(&mut w, t);
    }
    for t in &cfg.vrrp_track_processes {
        vrrp_track_process(&mut w, t);
    }
    for b in &cfg.bfd_instances {
        bfd::bfd_instance(&mut w, b);
    }
    for v in &cfg.vrrp_instances {
        vrrp_instance(&mut w, v);
    }
    for g in &cfg.vrrp_sync_groups {
        sync_group(&mut w, g);
    }
    if let Some(s) = &cfg.ssl {
        w.open("SSL");
        opt(&mut w, "password", s.password.as_deref().map(q));
        opt(&mut w, "ca", s.ca.as_ref().map(|p| q(&p.to_string_lossy())));
        opt(
            &mut w,
            "certificate",
            s.certificate.as_ref().map(|p| q(&p.to_string_lossy())),
        );
        opt(
            &mut w,
            "key",
            s.key.as_ref().map(|p| q(&p.to_string_lossy())),
        );
        w.close();
    }
    for g in &cfg.virtual_server_groups {
        virtual_server_group(&mut w, g);
    }
    for vs in &cfg.virtual_servers {
        virtual_server(&mut w, vs);
    }
    w.s
}

#[derive(Default)]
struct Out {
    s: String,
    depth: usize,
}

impl Out {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.s.push_str("    ");
        }
        self.s.push_str(text);
        self.s.push('\n');
    }
    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
    }
    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }
    fn kv(&mut self, key: &str, value: impl std::fmt::Display) {
        self.line(&format!("{key} {value}"));
    }
    fn flag(&mut self, key: &str, value: bool) {
        self.kv(key, onoff(value));
    }
    fn time(&mut self, key: &str, d: Duration) {
        self.kv(key, fmt_duration(d));
    }
    /// A keyword that keepalived takes without a value: written only when set.
    fn plain(&mut self, key: &str, on: bool) {
        if on {
            self.line(key);
        }
    }
    /// keepalived rejects 0 for these timers; 0 is the default anyway.
    fn time_nonzero(&mut self, key: &str, d: Duration) {
        if !d.is_zero() {
            self.time(key, d);
        }
    }
}

fn opt(w: &mut Out, key: &str, value: Option<String>) {
    if let Some(v) = value {
        w.kv(key, v);
    }
}

fn onoff(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn rev(b: bool) -> &'static str {
    if b {
        " reverse"
    } else {
        ""
    }
}

fn fam(f: AddressFamily) -> String {
    match f {
        AddressFamily::Inet => " inet".into(),
        AddressFamily::Inet6 => " inet6".into(),
    }
}

/// Quote a word when it would not survive as a bare word. `$` is written as
/// an octal escape so parameter substitution never sees it.
pub fn q(s: &str) -> String {
    let safe = !s.is_empty()
        && !s.starts_with(['@', '~', '!', '#'])
        && s != "include"
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | ',' | '+' | '=' | '%')
        });
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\044"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn notify(n: &Notify) -> String {
    let mut s = q(&n.command);
    if let Some(u) = &n.user {
        let _ = write!(s, " {}", q(&u.user));
        if let Some(g) = &u.group {
            let _ = write!(s, " {}", q(g));
        }
    }
    s
}

fn user(u: &ScriptUser) -> String {
    match &u.group {
        Some(g) => format!("{} {}", q(&u.user), q(g)),
        None => q(&u.user),
    }
}
