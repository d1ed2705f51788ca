//! The script policy applied to a whole configuration, with keepalived
//! 2.2.7's outcomes and wording:
//!
//! * `check_vrrp_script_security()` (vrrp/vrrp.c): a refused `vrrp_script`
//!   is removed together with every `track_script` reference to it
//!   ("Disabling track script X due to insecure"); refused instance / sync
//!   group notify scripts and the FIFO scripts are dropped.
//! * `check_check_script_security()` / `check_misc_script_security()`
//!   (check/check_data.c, check/check_misc.c): a refused MISC_CHECK is
//!   removed from its real server ("Disabling misc script X due to
//!   insecure"); refused notify_up/down and quorum_up/down are dropped.
//! * `check_start_stop_script_secure()` (core/main.c): startup/shutdown.
//! * `get_default_script_user()` / `set_script_uid_gid()` (lib/notify.c):
//!   a script whose `user` (or, without one, whose default user) cannot be
//!   resolved is removed; it never runs as root instead.
//!
//! The supervisor runs [`secure_config`] on every configuration it loads
//! (start, `-t`, reload) before handing it to the children, so the children
//! only get scripts that passed. The children then build each script with
//! [`prepare_notify`] ([`crate::prepare`]) again, and refuse (disable) any
//! that stopped passing in between.

use rkeepalived_config::model::{Config, GlobalDefs, Notify, Origin, ScriptUser};

use crate::error::{Refusal, ScriptError};
use crate::security::{prepare, Prepared, ScriptSecurity};
use crate::user::RunAs;

/// Error: keepalived reports it as a configuration error (`-t` fails; the
/// daemon runs without the script). Warning: informational.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of [`secure_config`].
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The block the script is configured in (None: global_defs).
    pub origin: Option<Origin>,
    pub severity: Severity,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.origin {
            Some(o) => write!(
                f,
                "{}:{}:1: {what}: {}",
                o.file.display(),
                o.line,
                self.message
            ),
            None => write!(f, "{what}: {}", self.message),
        }
    }
}

/// The policy from `global_defs`, and what was wrong with it: an unknown
/// `script_user` (keepalived "Error setting global script uid/gid"), or
/// `enable_script_security` without `script_user` nor a `keepalived_script`
/// user. Either way scripts without their own `user` are refused.
pub fn policy(gd: &GlobalDefs) -> (ScriptSecurity, Option<String>) {
    let enforce = gd.enable_script_security;
    let (default_user, problem) = match &gd.script_user {
        Some(u) => match RunAs::resolve(&u.user, u.group.as_deref()) {
            Ok(r) => (Some(r), None),
            Err(e) => (
                None,
                Some(format!(
                    "script_user {}: {e} - Error setting global script uid/gid; scripts without their own user are disabled",
                    user_text(u)
                )),
            ),
        },
        None => match RunAs::default_script_user(enforce) {
            Ok(r) => (Some(r), None),
            Err(e) => (
                None,
                Some(format!("{e}; scripts without their own user are disabled")),
            ),
        },
    };
    (
        ScriptSecurity {
            enable_script_security: enforce,
            default_user,
        },
        problem,
    )
}

/// [`policy`] for a child process: problems are logged.
pub fn security_from_config(gd: &GlobalDefs) -> ScriptSecurity {
    let (security, problem) = policy(gd);
    if let Some(p) = problem {
        tracing::error!("{p}");
    }
    security
}

/// [`prepare`] for a configured script.
pub fn prepare_notify(n: &Notify, security: &ScriptSecurity) -> Result<Prepared, ScriptError> {
    prepare(
        &n.command,
        n.user
            .as_ref()
            .map(|u| (u.user.as_str(), u.group.as_deref())),
        security,
    )
}

fn user_text(u: &ScriptUser) -> String {
    match &u.group {
        Some(g) => format!("{} {g}", u.user),
        None => u.user.clone(),
    }
}

/// What kind of script, for keepalived's wording.
enum Kind<'a> {
    /// `vrrp_script NAME`.
    Track(&'a str),
    /// MISC_CHECK `misc_path`.
    Misc,
    /// A notify-style script: its keyword and its owner (`(VI_1)`, ...).
    Notify { keyword: &'a str, owner: &'a str },
}

/// keepalived's message for a refused script of `kind`.
fn refusal_message(kind: &Kind<'_>, command: &str, e: &ScriptError) -> String {
    match kind {
        Kind::Track(name) => match e.refusal() {
            Refusal::CommandLine => {
                format!("No script set for vrrp_script {name} - removing ({e})")
            }
            Refusal::User => {
                format!("Unable to set uid/gid for script {command} ({e}) - removing vrrp_script {name}")
            }
            Refusal::DefaultUser => {
                format!("Unable to set default user for vrrp script {name} - removing ({e})")
            }
            Refusal::Insecure => format!("Disabling track script {name} due to insecure ({e})"),
            Refusal::NotFound => {
                format!("Disabling track script {name} since not found/accessible ({e})")
            }
            Refusal::NotExecutable | Refusal::Run => {
                format!("Disabling track script {name}: {e}")
            }
        },
        Kind::Misc => match e.refusal() {
            Refusal::CommandLine => {
                format!("No script path has been specified for MISC_CHECKER - skipping ({e})")
            }
            Refusal::User => {
                format!("Failed to set uid/gid for misc checker script {command} - removing ({e})")
            }
            Refusal::DefaultUser => {
                format!("Unable to set default user for misc script {command} - removing ({e})")
            }
            Refusal::Insecure => format!("Disabling misc script {command} due to insecure ({e})"),
            Refusal::NotFound => {
                format!("Disabling misc script {command} since not found/accessible ({e})")
            }
            Refusal::NotExecutable | Refusal::Run => {
                format!("Disabling misc script {command}: {e}")
            }
        },
        Kind::Notify { keyword, owner } => match e.refusal() {
            Refusal::CommandLine => {
                format!("{owner} Unable to parse {keyword} script '{command}' - ignoring ({e})")
            }
            Refusal::User => format!(
                "{owner} Invalid user/group for {keyword} script {command} - ignoring ({e})"
            ),
            Refusal::DefaultUser => format!(
                "{owner} Failed to set default user for {keyword} script {command} - ignoring ({e})"
            ),
            _ => format!("{owner} {keyword}: {e}"),
        },
    }
}

/// Checks every script of one process group (vrrp, checker, start/stop)
/// and collects keepalived's summary flags.
struct Pass<'a> {
    security: &'a ScriptSecurity,
    findings: &'a mut Vec<Finding>,
    any_script: bool,
    any_insecure: bool,
}

impl Pass<'_> {
    /// true = keep the script.
    fn check(
        &mut self,
        origin: Option<&Origin>,
        kind: Kind<'_>,
        command: &str,
        user: Option<&ScriptUser>,
    ) -> bool {
        let n = Notify {
            command: command.to_string(),
            user: user.cloned(),
        };
        match prepare_notify(&n, self.security) {
            Ok(p) => {
                self.any_script = true;
                if let Some(c) = p.insecure_component {
                    self.any_insecure = true;
                    self.findings.push(Finding {
                        origin: origin.cloned(),
                        severity: Severity::Warning,
                        message: format!(
                            "Unsafe permissions found for script '{}' ('{}' is not owned by root or is writable by a non-root user).",
                            n.command,
                            c.display()
                        ),
                    });
                }
                true
            }
            Err(e) => {
                if e.refusal() == Refusal::Insecure {
                    self.any_script = true;
                    self.any_insecure = true;
                }
                self.findings.push(Finding {
                    origin: origin.cloned(),
                    severity: Severity::Error,
                    message: refusal_message(&kind, command, &e),
                });
                false
            }
        }
    }

    /// Drop `slot` if its script is refused.
    fn notify(
        &mut self,
        origin: Option<&Origin>,
        keyword: &str,
        owner: &str,
        slot: &mut Option<Notify>,
    ) {
        let keep = match slot.as_ref() {
            None => return,
            Some(n) => self.check(
                origin,
                Kind::Notify { keyword, owner },
                &n.command,
                n.user.as_ref(),
            ),
        };
        if !keep {
            *slot = None;
        }
    }

    /// keepalived's "SECURITY VIOLATION" line when scripts run without
    /// `enable_script_security` (a warning: see SECURITY.md).
    fn summary(&mut self, what: &str) {
        if !self.security.enable_script_security && self.any_script {
            self.findings.push(Finding {
                origin: None,
                severity: Severity::Warning,
                message: format!(
                    "SECURITY VIOLATION - {what}scripts are being executed but script_security not enabled.{}",
                    if self.any_insecure {
                        " There are insecure scripts."
                    } else {
                        ""
                    }
                ),
            });
        }
    }
}

/// Check every script in `cfg` through [`prepare`] and remove the refused
/// ones the way keepalived does. Returns the findings (errors first make
/// `-t` fail; the configuration is usable either way).
pub fn secure_config(cfg: &mut Config) -> Vec<Finding> {
    secure_config_skipping(cfg, &|_| false)
}

/// [`secure_config`], skipping the virtual servers `script_free` knows to
/// have no script (quorum, notify or MISC_CHECK): the supervisor's
/// re-parse cache knows it of every virtual server a reload took
/// unchanged (rkeepalived_config `ReparseCache::script_free`), so that a
/// reload does not walk every real server for scripts it has not got
/// (36,544 of them at keepalived issue #2318 size). The result is
/// [`secure_config`]'s as long as `script_free` is right.
pub fn secure_config_skipping(
    cfg: &mut Config,
    script_free: &dyn Fn(&rkeepalived_config::model::VirtualServer) -> bool,
) -> Vec<Finding> {
    let (security, problem) = policy(&cfg.global_defs);
    let mut findings = Vec::new();
    let has_scripts_without_user = has_script_without_user(cfg, script_free);
    if let Some(p) = problem {
        // An unknown script_user is a parse error in keepalived; a missing
        // keepalived_script user only matters to scripts that need it.
        if cfg.global_defs.script_user.is_some() || has_scripts_without_user {
            findings.push(Finding {
                origin: None,
                severity: Severity::Error,
                message: p,
            });
        }
    }
    let mut fifo_script_checked = false;

    // VRRP process: keepalived checks only when there are instances.
    if !cfg.vrrp_instances.is_empty() {
        let mut pass = Pass {
            security: &security,
            findings: &mut findings,
            any_script: false,
            any_insecure: false,
        };
        let mut removed = Vec::new();
        for s in &cfg.vrrp_scripts {
            if !pass.check(
                Some(&s.origin),
                Kind::Track(&s.name),
                &s.script,
                s.user.as_ref(),
            ) {
                removed.push(s.name.clone());
            }
        }
        cfg.vrrp_scripts.retain(|s| !removed.contains(&s.name));
        for v in &mut cfg.vrrp_instances {
            let owner = format!("({})", v.name);
            let o = Some(&v.origin);
            pass.notify(o, "notify_backup", &owner, &mut v.notify_backup);
            pass.notify(o, "notify_master", &owner, &mut v.notify_master);
            pass.notify(o, "notify_fault", &owner, &mut v.notify_fault);
            pass.notify(o, "notify_stop", &owner, &mut v.notify_stop);
            pass.notify(o, "notify", &owner, &mut v.notify);
            pass.notify(
                o,
                "notify_master_rx_lower_pri",
                &owner,
                &mut v.notify_master_rx_lower_pri,
            );
            v.track_scripts.retain(|t| !removed.contains(&t.name));
        }
        for g in &mut cfg.vrrp_sync_groups {
            let owner = format!("({})", g.name);
            let o = Some(&g.origin);
            pass.notify(o, "notify_backup", &owner, &mut g.notify_backup);
            pass.notify(o, "notify_master", &owner, &mut g.notify_master);
            pass.notify(o, "notify_fault", &owner, &mut g.notify_fault);
            pass.notify(o, "notify_stop", &owner, &mut g.notify_stop);
            pass.notify(o, "notify", &owner, &mut g.notify);
            g.track_scripts.retain(|t| !removed.contains(&t.name));
        }
        let gd = &mut cfg.global_defs;
        if let Some(f) = &mut gd.notify_fifo {
            pass.notify(None, "notify_fifo_script", "(global_defs)", &mut f.script);
            fifo_script_checked = true;
        }
        if let Some(f) = &mut gd.vrrp_notify_fifo {
            pass.notify(
                None,
                "vrrp_notify_fifo_script",
                "(global_defs)",
                &mut f.script,
            );
        }
        pass.summary("");
    }

    // Checker process: only with virtual servers.
    if !cfg.virtual_servers.is_empty() {
        let mut pass = Pass {
            security: &security,
            findings: &mut findings,
            any_script: false,
            any_insecure: false,
        };
        for vs in &mut cfg.virtual_servers {
            if script_free(vs) {
                continue;
            }
            for rs in &mut vs.real_servers {
                let mut checkers = std::mem::take(&mut rs.checkers);
                checkers.retain(|c| match &c.kind {
                    rkeepalived_config::model::CheckerKind::Misc(m) => {
                        pass.check(Some(&c.origin), Kind::Misc, &m.misc_path, m.user.as_ref())
                    }
                    _ => true,
                });
                rs.checkers = checkers;
            }
        }
        for vs in &mut cfg.virtual_servers {
            if script_free(vs) {
                continue;
            }
            let o = Some(&vs.origin);
            let owner = "(virtual_server)";
            pass.notify(o, "quorum_up", owner, &mut vs.quorum_up);
            pass.notify(o, "quorum_down", owner, &mut vs.quorum_down);
            for rs in &mut vs.real_servers {
                // Named only when it has a script: at keepalived issue
                // #2318 size this loop formats 36,544 addresses otherwise,
                // on every reload (issue #17 item 1).
                if rs.notify_up.is_none() && rs.notify_down.is_none() {
                    continue;
                }
                let o = Some(&rs.origin);
                let owner = format!("(real_server {})", rs.addr);
                pass.notify(o, "notify_up", &owner, &mut rs.notify_up);
                pass.notify(o, "notify_down", &owner, &mut rs.notify_down);
            }
        }
        let gd = &mut cfg.global_defs;
        if let Some(f) = &mut gd.notify_fifo {
            if !fifo_script_checked {
                pass.notify(None, "notify_fifo_script", "(global_defs)", &mut f.script);
            }
        }
        if let Some(f) = &mut gd.lvs_notify_fifo {
            pass.notify(
                None,
                "lvs_notify_fifo_script",
                "(global_defs)",
                &mut f.script,
            );
        }
        pass.summary("check ");
    }

    // Parent: startup/shutdown scripts (core/main.c).
    let gd = &mut cfg.global_defs;
    if gd.startup_script.is_some() || gd.shutdown_script.is_some() {
        let mut pass = Pass {
            security: &security,
            findings: &mut findings,
            any_script: false,
            any_insecure: false,
        };
        pass.notify(
            None,
            "startup_script",
            "(global_defs)",
            &mut gd.startup_script,
        );
        pass.notify(
            None,
            "shutdown_script",
            "(global_defs)",
            &mut gd.shutdown_script,
        );
        pass.summary("start/shutdown ");
    }
    findings
}

/// Whether any script relies on the default user (the policy problem only
/// matters then, as in keepalived, where it is reported on first use).
fn has_script_without_user(
    cfg: &Config,
    script_free: &dyn Fn(&rkeepalived_config::model::VirtualServer) -> bool,
) -> bool {
    let notify_without_user = |n: &Option<Notify>| n.as_ref().is_some_and(|n| n.user.is_none());
    let gd = &cfg.global_defs;
    cfg.vrrp_scripts.iter().any(|s| s.user.is_none())
        || cfg.vrrp_instances.iter().any(|v| {
            [
                &v.notify_backup,
                &v.notify_master,
                &v.notify_fault,
                &v.notify_stop,
                &v.notify,
                &v.notify_master_rx_lower_pri,
            ]
            .into_iter()
            .any(notify_without_user)
        })
        || cfg.vrrp_sync_groups.iter().any(|g| {
            [
                &g.notify_backup,
                &g.notify_master,
                &g.notify_fault,
                &g.notify_stop,
                &g.notify,
            ]
            .into_iter()
            .any(notify_without_user)
        })
        || cfg.virtual_servers.iter().any(|vs| {
            !script_free(vs)
                && (notify_without_user(&vs.quorum_up)
                    || notify_without_user(&vs.quorum_down)
                    || vs.real_servers.iter().any(|rs| {
                        notify_without_user(&rs.notify_up)
                            || notify_without_user(&rs.notify_down)
                            || rs.checkers.iter().any(|c| {
                                matches!(&c.kind, rkeepalived_config::model::CheckerKind::Misc(m) if m.user.is_none())
                            })
                    }))
        })
        || [
            &gd.notify_fifo,
            &gd.vrrp_notify_fifo,
            &gd.lvs_notify_fifo,
        ]
        .into_iter()
        .flatten()
        .any(|f| notify_without_user(&f.script))
        || notify_without_user(&gd.startup_script)
        || notify_without_user(&gd.shutdown_script)
}
