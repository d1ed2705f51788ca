//! `vrrp_track_process NAME { ... }`.
//!
//! keepalived: vrrp/vrrp_parser.c `vrrp_tprocess_*_handler()` and
//! `vrrp_tprocess_end_handler()`, vrrp/vrrp_data.c `alloc_vrrp_process()`.
//! Every bad value is reported and ignored (the block stays), as keepalived
//! does; a block without `process` is removed.

use std::time::Duration;

use super::{origin, Block, Parser};
use crate::diag::Pos;
use crate::model::*;
use crate::tree::Node;
use crate::values::{keepalived_decimal, keepalived_number, KeepalivedNumber, PResult};

struct TrackProcessBuilder {
    t: VrrpTrackProcess,
    pos: Pos,
    have_process: bool,
}

impl Block<'_> for TrackProcessBuilder {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let t = &mut self.t;
        let w = &mut p.warnings;
        let name = t.name.clone();
        match k.key() {
            // `vrrp_tprocess_process_handler()`: the first word is the
            // process, further words its parameters (which imply an exact
            // parameter match unless one was chosen, and full_command).
            "process" => {
                let Some(first) = k.args.first() else {
                    w.push(k.pos().warning(format!(
                        "No process given for track process {name} - ignoring (as keepalived does)"
                    )));
                    return Ok(());
                };
                if self.have_process {
                    w.push(k.pos().warning(format!(
                        "Process already set for track process {name} - ignoring {} (as keepalived does)",
                        first.text
                    )));
                    return Ok(());
                }
                self.have_process = true;
                t.process = first.text.clone();
                if k.args.len() > 1 {
                    t.params = k.args[1..].iter().map(|a| a.text.clone()).collect();
                    if t.param_match == ParamMatch::None {
                        t.param_match = ParamMatch::Exact;
                    }
                    t.full_command = true;
                }
            }
            // `vrrp_tprocess_match_handler()`.
            "param_match" => match k.args.first().map(|a| a.text.as_str()) {
                None => {
                    t.param_match = ParamMatch::Exact;
                    t.full_command = true;
                }
                Some("initial") => {
                    t.param_match = ParamMatch::Initial;
                    t.full_command = true;
                }
                Some("partial") => {
                    t.param_match = ParamMatch::Partial;
                    t.full_command = true;
                }
                Some(other) => w.push(k.pos().warning(format!(
                    "Invalid param_match type {other} - ignoring (as keepalived does)"
                ))),
            },
            "full_command" => t.full_command = true,
            // `vrrp_tprocess_weight_handler()`.
            "weight" => {
                let Some(v) = k.args.first() else {
                    w.push(k.pos().warning(format!(
                        "No weight specified for track process {name} - ignoring (as keepalived does)"
                    )));
                    return Ok(());
                };
                if t.weight != 0 {
                    w.push(k.pos().warning(format!(
                        "Weight already set for track process {name} - ignoring {} (as keepalived does)",
                        v.text
                    )));
                    return Ok(());
                }
                let Some(weight) = read_number(&v.text, -254, 254, false) else {
                    w.push(v.pos.warning(format!(
                        "Weight ({}) for vrrp_track_process {name} must be between [-254..254] inclusive. Ignoring... (as keepalived does)",
                        v.text
                    )));
                    return Ok(());
                };
                if let Some(r) = k.args.get(1) {
                    if r.text == "reverse" {
                        t.reverse = true;
                    } else {
                        w.push(r.pos.warning(format!(
                            "vrrp_track_process {name} unknown weight option {}; ignoring it (as keepalived does)",
                            r.text
                        )));
                    }
                }
                t.weight = i32::try_from(weight).unwrap_or(0);
            }
            // `vrrp_tprocess_quorum_handler()`.
            "quorum" => {
                let text = k.args.first().map(|a| a.text.as_str()).unwrap_or("");
                let Some(q) = read_number(text, 1, 65535, true).and_then(|v| u32::try_from(v).ok())
                else {
                    w.push(k.pos().warning(format!(
                        "Quorum ({text}) for vrrp_track_process {name} must be between [1..65535] inclusive. Ignoring... (as keepalived does)"
                    )));
                    return Ok(());
                };
                if q > t.quorum_max {
                    w.push(k.pos().warning(
                        "Quorum is greater than quorum_max - ignoring (as keepalived does)",
                    ));
                    return Ok(());
                }
                t.quorum = q;
            }
            // `vrrp_tprocess_quorum_max_handler()`.
            "quorum_max" => {
                let text = k.args.first().map(|a| a.text.as_str()).unwrap_or("");
                let Some(q) = read_number(text, 0, 65535, true).and_then(|v| u32::try_from(v).ok())
                else {
                    w.push(k.pos().warning(format!(
                        "quorum_max ({text}) for vrrp_track_process {name} must be between [0..65535] inclusive. Ignoring... (as keepalived does)"
                    )));
                    return Ok(());
                };
                // quorum_max 0 is allowed if no quorum was given.
                if (q != 0 || t.quorum > 1) && q < t.quorum {
                    w.push(
                        k.pos().warning(
                            "quorum_max is less than quorum - ignoring (as keepalived does)",
                        ),
                    );
                    return Ok(());
                }
                t.quorum_max = q;
                if q == 0 {
                    t.quorum = 0;
                } else if t.quorum == 0 {
                    t.quorum = 1;
                }
            }
            // `vrrp_tprocess_delay_general()`.
            kw @ ("delay" | "terminate_delay" | "fork_delay") => {
                let text = k.args.first().map(|a| a.text.as_str()).unwrap_or("");
                let d = match keepalived_decimal(text, 1, 3600 * 1_000_000, 6) {
                    KeepalivedNumber::Exact(v) | KeepalivedNumber::Prefix(v)
                        if !text.is_empty() =>
                    {
                        u64::try_from(v).ok().map(Duration::from_micros)
                    }
                    _ => None,
                };
                let Some(d) = d else {
                    let prefix = kw.strip_suffix("delay").unwrap_or("");
                    w.push(k.pos().warning(format!(
                        "{prefix}delay ({text}) for vrrp_track_process {name} must be between [0.000001..3600] inclusive. Ignoring... (as keepalived does)"
                    )));
                    return Ok(());
                };
                if kw != "fork_delay" {
                    t.terminate_delay = Some(d);
                }
                if kw != "terminate_delay" {
                    t.fork_delay = Some(d);
                }
            }
            _ => p.push_unknown(k, "vrrp_track_process"),
        }
        Ok(())
    }

    /// `vrrp_tprocess_end_handler()`.
    fn finish(self, p: &mut Parser) -> PResult<()> {
        let t = self.t;
        if !self.have_process {
            p.warnings.push(self.pos.warning(format!(
                "track process '{}' process name not specified - removing it (as keepalived does)",
                t.name
            )));
            return Ok(());
        }
        if !t.full_command && t.process.len() > 15 {
            // The kernel's comm holds 15 characters: such a name never matches.
            p.warnings.push(self.pos.warning(format!(
                "track process '{}': process name '{}' is longer than the 15 characters of a process's comm and never matches without full_command (keepalived behaves the same)",
                t.name, t.process
            )));
        }
        if let Some(first) = p.cfg.vrrp_track_process(&t.name) {
            // keepalived keeps both; references find the first
            // (vrrp/vrrp_track.c `find_tracked_process_by_name()`).
            p.warnings.push(self.pos.warning(format!(
                "vrrp_track_process '{}' defined twice (first at line {}); ignoring this one (as keepalived does)",
                t.name, first.origin.line
            )));
            return Ok(());
        }
        p.cfg.vrrp_track_processes.push(t);
        Ok(())
    }
}

/// `read_int_strvec()` / `read_unsigned_strvec()` (`ignore_error` true: a
/// number followed by text keeps the number read, as [`keepalived_number`]).
fn read_number(text: &str, min: i64, max: i64, unsigned: bool) -> Option<i64> {
    match keepalived_number(text, min, max, unsigned) {
        KeepalivedNumber::Exact(v) | KeepalivedNumber::Prefix(v) if !text.is_empty() => Some(v),
        _ => None,
    }
}

impl Parser {
    pub(super) fn vrrp_track_process(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        let b = TrackProcessBuilder {
            t: VrrpTrackProcess {
                origin: origin(n.pos()),
                ..VrrpTrackProcess::new(name, "")
            },
            pos: n.pos().clone(),
            have_process: false,
        };
        self.build(b, block)?;
        Ok(())
    }
}
