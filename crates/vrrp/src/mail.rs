//! VRRP alert e-mails: keepalived's `vrrp_smtp_notifier()` and
//! `vrrp_sync_smtp_notifier()` (vrrp/vrrp_notify.c). An instance or sync
//! group with `smtp_alert` (its own, else the global `smtp_alert_vrrp`,
//! else `smtp_alert`: resolved by the config crate) mails each state it
//! enters, once per state (`last_email_state`), FAULT not at all with
//! `no_email_faults`. No "Stopping" mail at shutdown: keepalived 2.2.7
//! queues one, but exits before its SMTP dialogue starts (it opens the
//! connection and closes it unanswered), so none ever arrives; we send none
//! rather than one keepalived users never received. Sending happens in [`rkeepalived_smtp::Mailer`]'s
//! background task: a dead mail server never delays the VRRP engine.

use std::collections::HashMap;

use rkeepalived_config::model::Config;
use rkeepalived_smtp::{vrrp_group_texts, vrrp_instance_texts, Mailer};

/// The mailer and the last state mailed per instance / group.
#[derive(Debug, Default)]
pub struct VrrpMail {
    mailer: Option<Mailer>,
    no_email_faults: bool,
    instance_alert: HashMap<String, bool>,
    group_alert: HashMap<String, bool>,
    last_instance: HashMap<String, String>,
    last_group: HashMap<String, String>,
}

impl VrrpMail {
    pub fn new(cfg: &Config) -> VrrpMail {
        let mut m = VrrpMail::default();
        m.reconfigure(cfg);
        m
    }

    /// A (re)loaded configuration: new settings; the states already
    /// mailed are kept (keepalived copies `last_email_state` on reload).
    pub fn reconfigure(&mut self, cfg: &Config) {
        self.mailer = Mailer::new(&cfg.global_defs);
        self.no_email_faults = cfg.global_defs.no_email_faults;
        self.instance_alert = cfg
            .vrrp_instances
            .iter()
            .map(|i| (i.name.clone(), i.smtp_alert))
            .collect();
        self.group_alert = cfg
            .vrrp_sync_groups
            .iter()
            .map(|g| (g.name.clone(), g.smtp_alert))
            .collect();
    }

    /// An instance entered `state` (`MASTER`, `BACKUP`, `FAULT`, `STOP`).
    pub fn instance(&mut self, name: &str, state: &str) {
        if state == "STOP" || !self.instance_alert.get(name).copied().unwrap_or(false) {
            return;
        }
        let Some((subject, body)) = vrrp_instance_texts(state) else {
            return;
        };
        if record(&mut self.last_instance, self.no_email_faults, name, state) {
            if let Some(mailer) = &self.mailer {
                mailer.alert(&format!("VRRP Instance {name} - {subject}"), body);
            }
        }
    }

    /// A sync group entered `state`.
    pub fn group(&mut self, name: &str, state: &str) {
        if state == "STOP" || !self.group_alert.get(name).copied().unwrap_or(false) {
            return;
        }
        let Some((subject, body)) = vrrp_group_texts(state) else {
            return;
        };
        if record(&mut self.last_group, self.no_email_faults, name, state) {
            if let Some(mailer) = &self.mailer {
                mailer.alert(&format!("VRRP Group {name} - {subject}"), body);
            }
        }
    }
}

/// `no_email_faults` and `last_email_state`: whether this state is to be
/// mailed (and if so, records it as the last one mailed).
fn record(
    last: &mut HashMap<String, String>,
    no_email_faults: bool,
    name: &str,
    state: &str,
) -> bool {
    if no_email_faults && state == "FAULT" {
        return false;
    }
    if last.get(name).map(String::as_str) == Some(state) {
        return false;
    }
    last.insert(name.to_string(), state.to_string());
    true
}

#[cfg(test)]
mod tests {
    use super::record;
    use std::collections::HashMap;

    #[test]
    fn once_per_state_and_no_email_faults() {
        let mut last = HashMap::new();
        assert!(record(&mut last, false, "VI_1", "MASTER"));
        assert!(!record(&mut last, false, "VI_1", "MASTER"));
        assert!(record(&mut last, false, "VI_1", "FAULT"));
        assert!(record(&mut last, true, "VI_1", "BACKUP"));
        assert!(!record(&mut last, true, "VI_1", "FAULT"));
        assert!(record(&mut last, true, "VI_1", "MASTER"));
    }
}
