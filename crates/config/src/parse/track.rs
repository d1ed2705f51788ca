//! `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`, and the `track_*`
//! reference lists of instances and sync groups.

use std::path::PathBuf;

use super::keywords::ignored;
use super::{fixup, origin, Block, Parser};
use crate::diag::Pos;
use crate::model::*;
use crate::tree::Node;
use crate::values::PResult;

// ---------------------------------------------------------------------------
// vrrp_script
// ---------------------------------------------------------------------------

struct ScriptBuilder {
    s: VrrpScript,
    pos: Pos,
    timeout: Option<std::time::Duration>,
    have_script: bool,
}

impl Block<'_> for ScriptBuilder {
    type Output = ();

    /// keepalived: vrrp/vrrp_parser.c `vrrp_vscript_*_handler()`: bad
    /// values are reported and replaced or ignored, the script stays.
    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let s = &mut self.s;
        let w = &mut p.warnings;
        let name = s.name.clone();
        match k.key() {
            "script" => {
                // keepalived joins unquoted words into one command line; an
                // empty `script` leaves the script unset (removed at the end).
                s.script = k
                    .args
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.have_script = !s.script.is_empty();
            }
            "interval" => {
                if let Some(v) = script_secs(k, &name, w) {
                    s.interval = v;
                }
            }
            "timeout" => {
                if let Some(v) = script_secs(k, &name, w) {
                    self.timeout = Some(v);
                }
            }
            "weight" => {
                let t = k.arg(0, "a weight -253..253")?;
                s.weight = fixup::script_weight(t, &name, w);
                s.weight_reverse = match k.args.get(1) {
                    None => false,
                    Some(r) if r.text == "reverse" => true,
                    Some(r) => {
                        w.push(r.pos.warning(format!(
                            "vrrp_script {name} unknown weight option {}; ignoring it (as keepalived does)",
                            r.text
                        )));
                        false
                    }
                };
            }
            "rise" => s.rise = fixup::rise_fall(k, &name, w)?,
            "fall" => s.fall = fixup::rise_fall(k, &name, w)?,
            "user" => s.user = Some(k.script_user()?),
            "init_fail" => s.init_fail = k.flag()?,
            _ => p.push_unknown(k, "vrrp_script"),
        }
        Ok(())
    }

    fn finish(self, p: &mut Parser) -> PResult<()> {
        let mut s = self.s;
        s.timeout = self.timeout.unwrap_or(s.interval);
        if !self.have_script {
            // keepalived: vrrp/vrrp_parser.c `vrrp_vscript_end_handler()`;
            // its track_script references are then "not found, ignoring".
            p.warnings.push(self.pos.warning(format!(
                "No script set for vrrp_script {} - removing it (as keepalived does)",
                s.name
            )));
            return Ok(());
        }
        if let Some(first) = p.cfg.vrrp_script(&s.name) {
            // keepalived keeps both; references find the first
            // (`find_script_by_name()`) and the unused second is removed
            // ("Warning - script %s is not used", vrrp/vrrp.c).
            p.warnings.push(self.pos.warning(format!(
                "vrrp_script '{}' defined twice (first at line {}); ignoring this one (as keepalived does)",
                s.name, first.origin.line
            )));
            return Ok(());
        }
        p.cfg.vrrp_scripts.push(s);
        Ok(())
    }
}

/// vrrp_script `interval`/`timeout`: whole seconds, 0 becomes 1, a bad
/// value is ignored. keepalived: vrrp/vrrp_parser.c
/// `vrrp_vscript_interval_handler()`, `vrrp_vscript_timeout_handler()`.
fn script_secs(
    k: &Node,
    name: &str,
    w: &mut Vec<crate::diag::Diagnostic>,
) -> Option<std::time::Duration> {
    let Some(t) = k.args.first() else {
        w.push(k.pos().warning(format!(
            "({name}): vrrp script {} needs a value; ignoring it (as keepalived does)",
            k.key()
        )));
        return None;
    };
    match crate::values::keepalived_int::<u64>(t, 0, i64::from(u32::MAX / 1_000_000), k.key(), w) {
        Ok(0) => {
            w.push(t.pos.warning(format!(
                "({name}): vrrp script {} must be greater than 0, setting to 1 (as keepalived does)",
                k.key()
            )));
            Some(std::time::Duration::from_secs(1))
        }
        Ok(v) => Some(std::time::Duration::from_secs(v)),
        Err(_) => {
            w.push(t.pos.warning(format!(
                "({name}): vrrp script {} '{}' invalid (whole seconds 1..4294); ignoring it (as keepalived does)",
                k.key(),
                t.text
            )));
            None
        }
    }
}

// ---------------------------------------------------------------------------
// vrrp_track_file
// ---------------------------------------------------------------------------

struct TrackFileBuilder {
    t: VrrpTrackFile,
    pos: Pos,
    file: Option<PathBuf>,
}

impl Block<'_> for TrackFileBuilder {
    type Output = ();

    /// keepalived: trackers/track_file.c `track_file_*_handler()`.
    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let t = &mut self.t;
        let w = &mut p.warnings;
        match k.key() {
            "file" => {
                let f = PathBuf::from(k.string(0)?);
                if self.file.is_some() {
                    w.push(k.pos().warning(format!(
                        "File already set for track file {} - ignoring {} (as keepalived does)",
                        t.name,
                        f.display()
                    )));
                } else {
                    self.file = Some(f);
                }
            }
            "weight" => {
                let v = k.arg(0, "a weight -254..254")?;
                t.weight = match crate::values::keepalived_int(v, -254, 254, "weight", w) {
                    Ok(x) => x,
                    Err(_) => {
                        w.push(v.pos.warning(format!(
                            "Weight ({}) for track_file {} must be between [-254..254]; using 1 (as keepalived does)",
                            v.text, t.name
                        )));
                        1
                    }
                };
                t.reverse = match k.args.get(1) {
                    None => false,
                    Some(r) if r.text == "reverse" => true,
                    Some(r) => {
                        w.push(r.pos.warning(format!(
                            "track_file {} unknown weight option {}; ignoring it (as keepalived does)",
                            t.name, r.text
                        )));
                        false
                    }
                };
            }
            "init_file" => {
                let mut init = TrackFileInit {
                    value: 0,
                    overwrite: false,
                };
                // keepalived: trackers/track_file.c `track_file_init_handler()`:
                // an invalid number is 0, one outside -254..254 is kept with
                // a warning, an unknown word is reported and skipped.
                for a in &k.args {
                    let word = a.text.trim_start();
                    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                        init.value = match crate::values::keepalived_number(
                            word,
                            i32::MIN.into(),
                            i32::MAX.into(),
                            false,
                        ) {
                            crate::values::KeepalivedNumber::Exact(v) => v,
                            _ => {
                                w.push(a.pos.warning(format!(
                                    "Track file {} init value {} is invalid; using 0 (as keepalived does)",
                                    t.name, a.text
                                )));
                                0
                            }
                        };
                        if !(-254..=254).contains(&init.value) {
                            w.push(a.pos.warning(format!(
                                "Track file {} init value {} is outside sensible range [-254, 254] (keepalived warns too)",
                                t.name, init.value
                            )));
                        }
                    } else if word == "overwrite" {
                        init.overwrite = true;
                    } else {
                        w.push(a.pos.warning(format!(
                            "Unknown track file init option {word}; ignoring it (as keepalived does)"
                        )));
                    }
                }
                t.init_file = Some(init);
            }
            _ => p.push_unknown(k, "vrrp_track_file"),
        }
        Ok(())
    }

    fn finish(self, p: &mut Parser) -> PResult<()> {
        let mut t = self.t;
        let Some(file) = self.file else {
            p.warnings.push(self.pos.warning(format!(
                "No file set for track_file {} - ignoring it (as keepalived does)",
                t.name
            )));
            return Ok(());
        };
        t.file = file;
        if let Some(first) = p.cfg.vrrp_track_file(&t.name) {
            // keepalived keeps both; references find the first
            // (trackers/track_file.c `find_tracked_file_by_name()`).
            p.warnings.push(self.pos.warning(format!(
                "vrrp_track_file '{}' defined twice (first at line {}); ignoring this one (as keepalived does)",
                t.name, first.origin.line
            )));
            return Ok(());
        }
        p.cfg.vrrp_track_files.push(t);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// vrrp_sync_group
// ---------------------------------------------------------------------------

struct SyncGroupBuilder {
    g: VrrpSyncGroup,
    pos: Pos,
    /// After a second `group` block keepalived has left the sync group
    /// (see `keyword`).
    left: bool,
}

impl Block<'_> for SyncGroupBuilder {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        if self.left {
            p.warnings.push(k.pos().warning(format!(
                "'{}' is not part of vrrp_sync_group {}: keepalived reads it at the top level after the second 'group' block (\"Unknown keyword\"); ignored (as keepalived does)",
                k.key(),
                self.g.name
            )));
            return Ok(());
        }
        let g = &mut self.g;
        match k.key() {
            "group" => {
                // keepalived: vrrp/vrrp_parser.c `vrrp_group_handler()`:
                // "Group list already specified for sync group %s".
                if g.group.is_empty() {
                    for t in k.block_words() {
                        g.group.push(t.text.clone());
                    }
                } else {
                    // keepalived does not skip the block: its `}` ends the
                    // sync group, so the rest of the group is lost.
                    p.warnings.push(k.pos().warning(format!(
                        "Group list already specified for sync group {}; ignoring this one, and keepalived ends the sync group at its '}}' (as keepalived does)",
                        g.name
                    )));
                    self.left = true;
                }
            }
            "track_interface" => p.track_refs(k, Tracked::Interface, &mut g.track_interfaces)?,
            "track_script" => p.track_refs(k, Tracked::Script, &mut g.track_scripts)?,
            "track_file" => p.track_refs(k, Tracked::File, &mut g.track_files)?,
            "track_process" => p.track_refs(k, Tracked::Process, &mut g.track_processes)?,
            "track_bfd" => p.track_bfd_refs(k, &g.name, &mut g.track_bfds)?,
            // keepalived: `vrrp_gnotify_*_handler()`: "vrrp group %s:
            // notify_* script already specified - ignoring".
            "notify_master" => first_notify(&mut g.notify_master, k, &mut p.warnings)?,
            "notify_backup" => first_notify(&mut g.notify_backup, k, &mut p.warnings)?,
            "notify_fault" => first_notify(&mut g.notify_fault, k, &mut p.warnings)?,
            "notify_stop" => first_notify(&mut g.notify_stop, k, &mut p.warnings)?,
            "notify" => first_notify(&mut g.notify, k, &mut p.warnings)?,
            "notify_priority_changes" => g.notify_priority_changes = k.flag()?,
            "smtp_alert" => g.smtp_alert = k.flag()?,
            // keepalived: vrrp_parser.c vrrp_gglobal_tracking_handler() warns and
            // sets sgroup_tracking_weight (arguments are not read).
            "global_tracking" => {
                p.warnings.push(k.pos().warning(format!(
                    "({}) global_tracking is deprecated. Use track_interface/script/file on the sync group",
                    g.name
                )));
                g.global_tracking = true;
                g.sync_group_tracking_weight = true;
            }
            "sync_group_tracking_weight" => g.sync_group_tracking_weight = k.flag()?,
            "notify_deleted" => p.warnings.push(ignored(k)),
            _ => p.push_unknown(k, "vrrp_sync_group"),
        }
        Ok(())
    }

    fn finish(self, p: &mut Parser) -> PResult<()> {
        let g = self.g;
        if p.cfg.vrrp_sync_groups.iter().any(|x| x.name == g.name) {
            return Err(self
                .pos
                .error(format!("vrrp_sync_group '{}' defined twice", g.name)));
        }
        p.cfg.vrrp_sync_groups.push(g);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// track_interface / track_script / track_file lists
// ---------------------------------------------------------------------------

/// What a `track_*` list names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tracked {
    Interface,
    Script,
    File,
    Process,
}

impl Tracked {
    /// The referenced object: its name and default weight/reverse. None if
    /// it is not defined (interfaces need no definition).
    fn target(self, cfg: &Config, name: &str) -> Option<(String, i32, bool)> {
        match self {
            Tracked::Interface => Some((name.to_string(), 0, false)),
            Tracked::Script => cfg
                .vrrp_script(name)
                .map(|s| (s.name.clone(), s.weight, s.weight_reverse)),
            Tracked::File => cfg
                .vrrp_track_file(name)
                .map(|f| (f.name.clone(), f.weight, f.reverse)),
            Tracked::Process => cfg
                .vrrp_track_process(name)
                .map(|t| (t.name.clone(), t.weight, t.reverse)),
        }
    }

    /// (list keyword, definition keyword) for the "not defined" warning.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Tracked::Interface => ("track_interface", "interface"),
            Tracked::Script => ("track_script", "vrrp_script"),
            Tracked::File => ("track_file", "vrrp_track_file"),
            Tracked::Process => ("track_process", "vrrp_track_process"),
        }
    }
}

impl Parser {
    /// `track_interface|track_script|track_file { NAME [weight N [reverse]] }`.
    /// The weight defaults to the script's/file's (interfaces: 0).
    /// keepalived: vrrp/vrrp_track.c `alloc_track_if()`,
    /// `alloc_track_script()`, trackers/track_file.c `alloc_track_file()`:
    /// undefined scripts/files, duplicates, an unknown option or `weight`
    /// without a value drop the entry; an invalid weight falls back to the
    /// default (interfaces: 0); +/-254 becomes +/-253 (interfaces, scripts);
    /// an unknown word after the weight is ignored (files: drops the entry).
    /// Entries are appended to `out`, the object's list so far: a second
    /// block adds to the first, and a name tracked by an earlier block is a
    /// duplicate too (keepalived appends every block to one list and checks
    /// the whole list).
    pub(super) fn track_refs(
        &mut self,
        n: &Node,
        what: Tracked,
        out: &mut Vec<TrackRef>,
    ) -> PResult<()> {
        let (list, def) = what.words();
        for k in n.require_block()? {
            let Some((name, def_weight, def_reverse)) = what.target(&self.cfg, k.key()) else {
                self.warnings.push(k.pos().warning(format!(
                    "{list} '{}' is not a defined {def}; ignoring it (as keepalived does)",
                    k.key()
                )));
                continue;
            };
            if out.iter().any(|t| t.name == name) {
                self.warnings.push(k.pos().warning(format!(
                    "duplicate {list} {name} - ignoring (as keepalived does)"
                )));
                continue;
            }
            if let Some(t) = track_weight(k, what, def_weight, def_reverse, &mut self.warnings) {
                out.push(TrackRef {
                    name,
                    weight: t.0,
                    reverse: t.1,
                });
            }
        }
        Ok(())
    }

    pub(super) fn vrrp_script(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        let mut s = VrrpScript::new(name, "");
        s.origin = origin(n.pos());
        let b = ScriptBuilder {
            s,
            pos: n.pos().clone(),
            timeout: None,
            have_script: false,
        };
        self.build(b, block)?;
        Ok(())
    }

    pub(super) fn vrrp_track_file(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        let b = TrackFileBuilder {
            t: VrrpTrackFile {
                name,
                origin: origin(n.pos()),
                file: PathBuf::new(),
                weight: defaults::TRACK_FILE_WEIGHT,
                reverse: false,
                init_file: None,
            },
            pos: n.pos().clone(),
            file: None,
        };
        self.build(b, block)?;
        Ok(())
    }

    /// Sync groups are kept even when a statement failed (the error is
    /// reported; the group's members still refer to it).
    pub(super) fn sync_group(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        let mut g = VrrpSyncGroup::new(name);
        g.origin = origin(n.pos());
        let mut b = SyncGroupBuilder {
            g,
            pos: n.pos().clone(),
            left: false,
        };
        self.feed(&mut b, block);
        b.finish(self)
    }
}

/// `weight N [reverse|noreverse]` after a track name, read as keepalived
/// does (see [`Parser::track_refs`]); None drops the entry.
fn track_weight(
    k: &Node,
    what: Tracked,
    def_weight: i32,
    def_reverse: bool,
    w: &mut Vec<crate::diag::Diagnostic>,
) -> Option<(i32, bool)> {
    let (list, _) = what.words();
    let name = k.key();
    let Some(first) = k.args.first() else {
        return Some((def_weight, def_reverse));
    };
    if first.text != "weight" {
        w.push(first.pos.warning(format!(
            "unknown {list} {name} option {}; ignoring this entry (as keepalived does)",
            first.text
        )));
        return None;
    }
    let Some(v) = k.args.get(1) else {
        w.push(first.pos.warning(format!(
            "weight without value specified for {list} {name}; ignoring this entry (as keepalived does)"
        )));
        return None;
    };
    let fallback = match what {
        Tracked::Interface => 0,
        Tracked::Script | Tracked::File | Tracked::Process => def_weight,
    };
    let mut weight = match crate::values::keepalived_int::<i32>(v, -254, 254, "weight", w) {
        Ok(x) => x,
        Err(_) => {
            let range = match what {
                Tracked::File | Tracked::Process => "[-254..254]",
                Tracked::Interface | Tracked::Script => "[-253..253]",
            };
            w.push(v.pos.warning(format!(
                "{list} {name}: weight {} must be between {range}; using {fallback} (as keepalived does)",
                v.text
            )));
            fallback
        }
    };
    // keepalived vrrp/vrrp_track.c `alloc_track_process()` keeps +/-254.
    if weight.abs() == 254 && !matches!(what, Tracked::File | Tracked::Process) {
        let fixed = weight.signum() * 253;
        w.push(v.pos.warning(format!(
            "weight for {name} cannot be +/-254. Setting to {fixed} (as keepalived does)"
        )));
        weight = fixed;
    }
    let mut reverse = def_reverse && what != Tracked::Interface;
    if let Some(r) = k.args.get(2) {
        match (r.text.as_str(), what) {
            ("reverse", _) => reverse = true,
            ("noreverse", Tracked::Script | Tracked::File | Tracked::Process) => reverse = false,
            (other, Tracked::File) => {
                w.push(r.pos.warning(format!(
                    "unknown {list} {name} weight option {other}; ignoring this entry (as keepalived does)"
                )));
                return None;
            }
            (other, _) => w.push(r.pos.warning(format!(
                "unknown {list} {name} weight option {other}; ignoring it (as keepalived does)"
            ))),
        }
    }
    Some((weight, reverse))
}

/// The first `notify*` of a sync group counts; later ones are ignored.
fn first_notify(
    slot: &mut Option<Notify>,
    k: &Node,
    w: &mut Vec<crate::diag::Diagnostic>,
) -> PResult<()> {
    let n = k.notify()?;
    if slot.is_some() {
        w.push(k.pos().warning(format!(
            "{} script already specified - ignoring {} (as keepalived does)",
            k.key(),
            n.command
        )));
    } else {
        *slot = Some(n);
    }
    Ok(())
}
