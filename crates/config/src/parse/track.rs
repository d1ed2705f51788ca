//! `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`, and the `track_*`
//! reference lists of instances and sync groups.

use std::path::PathBuf;

use super::keywords::ignored;
use super::{origin, reverse_flag, Block, Parser};
use crate::diag::Pos;
use crate::model::*;
use crate::tree::Node;
use crate::values::{int, PResult};

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

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let s = &mut self.s;
        match k.key() {
            "script" => {
                s.script = k.string(0)?;
                self.have_script = true;
                if k.args.len() > 1 {
                    // keepalived joins unquoted words into one command line.
                    s.script = k
                        .args
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                }
            }
            "interval" => s.interval = k.secs(0, 1, 4294)?,
            "timeout" => self.timeout = Some(k.secs(0, 1, 4294)?),
            "weight" => {
                s.weight = k.int(0, -253, 253)?;
                s.weight_reverse = reverse_flag(k, 1)?;
            }
            "rise" => s.rise = k.int(0, 1, i64::from(u32::MAX))?,
            "fall" => s.fall = k.int(0, 1, i64::from(u32::MAX))?,
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
            return Err(self
                .pos
                .error(format!("vrrp_script '{}' has no 'script' line", s.name)));
        }
        if p.cfg.vrrp_script(&s.name).is_some() {
            return Err(self
                .pos
                .error(format!("vrrp_script '{}' defined twice", s.name)));
        }
        p.cfg.vrrp_scripts.push(s);
        Ok(())
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

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let t = &mut self.t;
        match k.key() {
            "file" => self.file = Some(PathBuf::from(k.string(0)?)),
            "weight" => {
                t.weight = k.int(0, -254, 254)?;
                t.reverse = reverse_flag(k, 1)?;
            }
            "init_file" => {
                let mut init = TrackFileInit {
                    value: 0,
                    overwrite: false,
                };
                for a in &k.args {
                    if a.text == "overwrite" {
                        init.overwrite = true;
                    } else {
                        init.value = int(a, -254, 254, "init_file")?;
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
        t.file = self.file.ok_or_else(|| {
            self.pos
                .error(format!("vrrp_track_file '{}' has no 'file' line", t.name))
        })?;
        if p.cfg.vrrp_track_file(&t.name).is_some() {
            return Err(self
                .pos
                .error(format!("vrrp_track_file '{}' defined twice", t.name)));
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
}

impl Block<'_> for SyncGroupBuilder {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let g = &mut self.g;
        match k.key() {
            "group" => {
                for t in k.block_words() {
                    g.group.push(t.text.clone());
                }
            }
            "track_interface" => g.track_interfaces = p.track_refs(k, Tracked::Interface)?,
            "track_script" => g.track_scripts = p.track_refs(k, Tracked::Script)?,
            "track_file" => g.track_files = p.track_refs(k, Tracked::File)?,
            "notify_master" => g.notify_master = Some(k.notify()?),
            "notify_backup" => g.notify_backup = Some(k.notify()?),
            "notify_fault" => g.notify_fault = Some(k.notify()?),
            "notify_stop" => g.notify_stop = Some(k.notify()?),
            "notify" => g.notify = Some(k.notify()?),
            "notify_priority_changes" => g.notify_priority_changes = k.flag()?,
            "smtp_alert" => g.smtp_alert = k.flag()?,
            "global_tracking" => g.global_tracking = k.flag()?,
            "sync_group_tracking_weight" => g.sync_group_tracking_weight = k.flag()?,
            "track_process" | "track_bfd" | "notify_deleted" => p.warnings.push(ignored(k)),
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
}

impl Tracked {
    /// The weight range keepalived accepts in the list.
    fn weight_range(self) -> (i64, i64) {
        match self {
            Tracked::Script => (-253, 253),
            Tracked::Interface | Tracked::File => (-254, 254),
        }
    }

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
        }
    }

    /// (list keyword, definition keyword) for the "not defined" warning.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Tracked::Interface => ("track_interface", "interface"),
            Tracked::Script => ("track_script", "vrrp_script"),
            Tracked::File => ("track_file", "vrrp_track_file"),
        }
    }
}

impl Parser {
    /// `track_interface|track_script|track_file { NAME [weight N [reverse]] }`.
    /// The weight defaults to the script's/file's (interfaces: 0).
    /// Undefined scripts/files: warning and ignored, as keepalived does.
    pub(super) fn track_refs(&mut self, n: &Node, what: Tracked) -> PResult<Vec<TrackRef>> {
        let (min, max) = what.weight_range();
        let mut out = Vec::new();
        for k in n.require_block()? {
            let (weight, reverse) = track_weight(k, min, max)?;
            match what.target(&self.cfg, k.key()) {
                Some((name, def_weight, def_reverse)) => out.push(TrackRef {
                    name,
                    weight: weight.unwrap_or(def_weight),
                    reverse: if weight.is_some() {
                        reverse
                    } else {
                        def_reverse
                    },
                }),
                None => {
                    let (list, def) = what.words();
                    self.warnings.push(k.pos().warning(format!(
                        "{list} '{}' is not a defined {def}; ignoring it (as keepalived does)",
                        k.key()
                    )))
                }
            }
        }
        Ok(out)
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
        };
        self.feed(&mut b, block);
        b.finish(self)
    }
}

/// `weight N [reverse|noreverse|no_reverse]` after a track name.
fn track_weight(k: &Node, min: i64, max: i64) -> PResult<(Option<i32>, bool)> {
    match k.args.first() {
        None => Ok((None, false)),
        Some(t) if t.text == "weight" => {
            let w = k.int(1, min, max)?;
            Ok((Some(w), reverse_flag(k, 2)?))
        }
        Some(t) => Err(t.pos.error(format!(
            "'{}': unexpected '{}' (expected 'weight N [reverse]')",
            k.key(),
            t.text
        ))),
    }
}
