//! Checker alert e-mails (keepalived 2.2.7 check/check_*.c, ipwrapper.c):
//! a real server with `smtp_alert` (its own, else the global
//! `smtp_alert_checker`, else `smtp_alert`: resolved by the config crate)
//! mails when one of its checkers changes state, `[router_id] Realserver
//! [ip]:tcp:port of virtual server [vip]:tcp:port - UP|DOWN` with the
//! checker's own body line; a virtual server with `smtp_alert` mails its
//! quorum changes (`do_vs_notifies()`). Sent by a
//! [`rkeepalived_smtp::Mailer`] in the background, never blocking checks.

use rkeepalived_config::Config;
use rkeepalived_smtp::{Mailer, Settings};

use crate::health::{alive_weight, CheckerRef, HealthModel};
use crate::spec::{CheckKind, CheckPlan};

/// What the plan needs to mail: the resolved settings (`None` = no
/// `notification_email` or no `smtp_server`: nothing is mailed) and the
/// `smtp_alert` flag of each virtual / real server, by plan index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertPlan {
    pub settings: Option<Settings>,
    pub vs: Vec<bool>,
    /// `[vs][rs]`.
    pub rs: Vec<Vec<bool>>,
}

impl AlertPlan {
    /// The plan's virtual servers are the configuration's, in order
    /// ([`crate::plan::from_config`]), and so are their real servers.
    pub fn from_config(config: &Config) -> AlertPlan {
        let Some(settings) = Settings::from_global(&config.global_defs) else {
            return AlertPlan::default();
        };
        AlertPlan {
            settings: Some(settings),
            vs: config
                .virtual_servers
                .iter()
                .map(|v| v.smtp_alert)
                .collect(),
            rs: config
                .virtual_servers
                .iter()
                .map(|v| v.real_servers.iter().map(|r| r.smtp_alert).collect())
                .collect(),
        }
    }
}

/// The body line of each checker's mail (check_tcp.c `tcp_epilog`,
/// check_http.c, check_smtp.c, check_dns.c, check_ping.c, check_udp.c,
/// check_misc.c, check_bfd.c); FILE_CHECK sends none.
fn body(kind: &CheckKind, up: bool) -> Option<std::borrow::Cow<'static, str>> {
    Some(std::borrow::Cow::Borrowed(match (kind, up) {
        (CheckKind::Tcp, true) => "=> TCP CHECK succeed on service <=",
        (CheckKind::Tcp, false) => "=> TCP CHECK failed on service <=",
        (CheckKind::Http(_), true) => "=> CHECK succeed on service <=",
        (CheckKind::Http(_), false) => "=> CHECK failed on service : HTTP request failed <=",
        (CheckKind::Smtp(_), true) => "=> CHECK succeed on service <=",
        (CheckKind::Smtp(_), false) => "=> CHECK failed on service <=",
        (CheckKind::Dns(_), true) => "=> DNS_CHECK: succeed on service <=",
        (CheckKind::Dns(_), false) => "=> DNS_CHECK: failed on service <=",
        (CheckKind::Ping, true) => "=> ICMP CHECK succeed on service <=",
        (CheckKind::Ping, false) => "=> ICMP CHECK failed on service <=",
        (CheckKind::Udp(_), true) => "=> UDP CHECK succeed on service <=",
        (CheckKind::Udp(_), false) => "=> UDP CHECK failed on service <=",
        (CheckKind::Misc(_), true) => "=> MISC CHECK succeeded on service <=",
        (CheckKind::Misc(_), false) => "=> MISC CHECK failed on service <=",
        (CheckKind::File(_), _) => return None,
        // check_bfd.c bfd_check_handle_event(): names the session.
        (CheckKind::Bfd(name), up) => {
            return Some(std::borrow::Cow::Owned(format!(
                "=> BFD CHECK {name} {} on service <=",
                if up { "succeeded" } else { "failed" }
            )))
        }
    }))
}

/// The state a report may change: the checker's and the quorum's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Before {
    checker_up: Option<bool>,
    quorum_up: Option<bool>,
}

impl Before {
    pub(crate) fn take(model: &HealthModel, at: CheckerRef) -> Before {
        let vh = model.virtual_servers.get(at.vs as usize);
        Before {
            checker_up: vh
                .and_then(|v| v.real_servers.get(at.rs as usize))
                .and_then(|r| r.checkers.get(at.checker as usize))
                .map(|c| c.up),
            quorum_up: vh.map(|v| v.quorum_up),
        }
    }
}

/// After a report was applied: the mails keepalived sends for it, the
/// virtual server's first (it is sent from inside
/// `update_svr_checker_state()`), then the real server's.
pub(crate) fn after_report(
    mailer: Option<&Mailer>,
    plan: &CheckPlan,
    model: &HealthModel,
    at: CheckerRef,
    before: Before,
) {
    let Some(mailer) = mailer else { return };
    let alerts = &plan.alerts;
    let (Some(vs), Some(vh)) = (
        plan.virtual_servers.get(at.vs as usize),
        model.virtual_servers.get(at.vs as usize),
    ) else {
        return;
    };
    let vs_text = crate::logfmt::vs(vs);
    if alerts.vs.get(at.vs as usize).copied().unwrap_or(false)
        && before.quorum_up.is_some_and(|q| q != vh.quorum_up)
    {
        // ipwrapper.c update_quorum_state(): the threshold the change was
        // measured against, then do_vs_notifies()'s message.
        let (q, h) = (i64::from(vs.quorum), i64::from(vs.hysteresis));
        let threshold = if vh.quorum_up { q + h } else { q - h };
        let sum = alive_weight(vs, vh);
        let what = if vh.quorum_up {
            "Gained quorum"
        } else {
            "Lost quorum"
        };
        mailer.alert(
            &format!(
                "Virtualserver {vs_text} - {}",
                if vh.quorum_up { "UP" } else { "DOWN" }
            ),
            &format!("=> {what} {q}+{h}={threshold} <= {sum} <="),
        );
    }
    let (Some(rs), Some(rh)) = (
        vs.real_servers.get(at.rs as usize),
        vh.real_servers.get(at.rs as usize),
    ) else {
        return;
    };
    let (Some(spec), Some(ch)) = (
        rs.checkers.get(at.checker as usize),
        rh.checkers.get(at.checker as usize),
    ) else {
        return;
    };
    let rs_alert = alerts
        .rs
        .get(at.vs as usize)
        .and_then(|v| v.get(at.rs as usize))
        .copied()
        .unwrap_or(false);
    if !rs_alert || before.checker_up.is_none_or(|u| u == ch.up) {
        return;
    }
    let Some(body) = body(&spec.kind, ch.up) else {
        return;
    };
    mailer.alert(
        &format!(
            "Realserver {} of virtual server {vs_text} - {}",
            crate::logfmt::rs(rs, vs),
            if rh.alive { "UP" } else { "DOWN" }
        ),
        &body,
    );
}

/// A new plan: a new mailer when the settings changed.
pub(crate) fn refresh(mailer: &mut Option<Mailer>, old: &CheckPlan, new: &CheckPlan) {
    if mailer.is_none() || old.alerts.settings != new.alerts.settings {
        *mailer = new.alerts.settings.clone().and_then(Mailer::from_settings);
    }
}

#[cfg(test)]
mod bfd_tests {
    use super::*;

    /// check_bfd.c: "=> BFD CHECK %s %s on service <=" with the session.
    #[test]
    fn bfd_check_mail_names_the_session() {
        let kind = CheckKind::Bfd(Box::new("b1".into()));
        assert_eq!(
            body(&kind, false).as_deref(),
            Some("=> BFD CHECK b1 failed on service <=")
        );
        assert_eq!(
            body(&kind, true).as_deref(),
            Some("=> BFD CHECK b1 succeeded on service <=")
        );
    }
}
