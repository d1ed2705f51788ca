//! Instance options around addresses that need engine state:
//! `promote_secondaries` (a sysctl held while the instance runs) and
//! `notify_priority_changes` (FIFO lines on effective-priority changes).

use super::*;

/// keepalived vrrp_notify.c notify_fifo(): `MASTER_PRIORITY` when the
/// instance is MASTER, `BACKUP_PRIORITY` in any other state
/// (send_instance_priority_notifies()).
pub(crate) fn priority_event(state: State) -> &'static str {
    if state == State::Master {
        "MASTER_PRIORITY"
    } else {
        "BACKUP_PRIORITY"
    }
}

/// keepalived vrrp.c vrrp_complete_instance(): an instance's own
/// `notify_priority_changes`, else its sync group's (the global
/// `vrrp_notify_priority_changes` is not supported). Our model holds plain
/// booleans, so an explicit `notify_priority_changes false` on the instance
/// does not override a group's `true`.
pub(crate) fn notifies_priority_changes(cfg: &VrrpInstance, all: &Config) -> bool {
    cfg.notify_priority_changes
        || all
            .vrrp_sync_groups
            .iter()
            .any(|g| g.notify_priority_changes && g.group.contains(&cfg.name))
}

impl Engine {
    /// keepalived vrrp_if_config.c set_promote_secondaries(): with
    /// `promote_secondaries`, net.ipv4.conf.<interface>.promote_secondaries
    /// is set to 1 when the instance starts (so deleting the primary VIP of
    /// a subnet promotes the next one instead of flushing them all), and the
    /// original value is put back when the daemon stops
    /// (reset_promote_secondaries()).
    pub(super) fn set_promote_secondaries(&mut self, cfg: &VrrpInstance) {
        if !cfg.promote_secondaries {
            return;
        }
        let iface = cfg.interface.as_str();
        match addr::set_ipv4_conf(iface, "promote_secondaries", "1") {
            Ok(old) => {
                if !self
                    .sysctl_restore
                    .iter()
                    .any(|(i, k, _)| i == iface && *k == "promote_secondaries")
                {
                    self.sysctl_restore
                        .push((iface.to_string(), "promote_secondaries", old));
                }
            }
            Err(e) => {
                tracing::warn!(instance = %cfg.name, %iface, error = %e, "cannot set promote_secondaries")
            }
        }
    }

    /// `notify_priority_changes`: `INSTANCE "VI_1" BACKUP_PRIORITY 90` on the
    /// FIFOs (keepalived vrrp_track.c vrrp_set_effective_priority()). Not
    /// passed to notify scripts, as in keepalived 2.2.7.
    pub(super) fn notify_priority_change(&mut self, idx: usize, priority: u8, state: State) {
        let cfg = &self.instances[idx].cfg;
        if !notifies_priority_changes(cfg, &self.cfg) {
            return;
        }
        let event = priority_event(state);
        let name = cfg.name.clone();
        self.notifier
            .fifo_only(crate::notify::Subject::Instance(&name), event, priority);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::model::VrrpSyncGroup;

    #[test]
    fn priority_event_names_match_keepalived() {
        assert_eq!(priority_event(State::Master), "MASTER_PRIORITY");
        assert_eq!(priority_event(State::Backup), "BACKUP_PRIORITY");
        assert_eq!(priority_event(State::Fault), "BACKUP_PRIORITY");
    }

    #[test]
    fn notify_priority_changes_from_instance_or_sync_group() {
        let mut all = Config::default();
        let mut v = VrrpInstance::new("VI_1", "eth0", 1);
        assert!(!notifies_priority_changes(&v, &all));
        v.notify_priority_changes = true;
        assert!(notifies_priority_changes(&v, &all));
        v.notify_priority_changes = false;
        let mut g = VrrpSyncGroup::new("G");
        g.group = vec!["VI_1".into()];
        g.notify_priority_changes = true;
        all.vrrp_sync_groups.push(g);
        assert!(notifies_priority_changes(&v, &all));
        v.name = "VI_2".into();
        assert!(!notifies_priority_changes(&v, &all));
    }
}
