//! Who a script runs as.

use nix::unistd::{Gid, Group, Uid, User};

use crate::error::ScriptError;

/// keepalived's default script user (lib/notify.c `set_default_script_user`).
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// A resolved uid/gid pair (plus the name, for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// root:root.
    pub fn root() -> Self {
        Self {
            name: "root".into(),
            uid: 0,
            gid: 0,
        }
    }

    /// Resolve `script_user USER [GROUP]` / per-script `user USER [GROUP]`.
    /// Without a group the user's primary group is used, as keepalived does.
    pub fn resolve(user: &str, group: Option<&str>) -> Result<Self, ScriptError> {
        let entry = lookup_user(user)?.ok_or_else(|| ScriptError::UnknownUser(user.to_string()))?;
        let gid = match group {
            None => entry.gid.as_raw(),
            Some(g) => lookup_group(g)?.ok_or_else(|| ScriptError::UnknownGroup(g.to_string()))?,
        };
        Ok(Self {
            name: user.to_string(),
            uid: entry.uid.as_raw(),
            gid,
        })
    }

    /// The daemon's own (effective) uid/gid: keepalived's `our_uid`/`our_gid`.
    pub fn daemon() -> Self {
        let uid = nix::unistd::geteuid().as_raw();
        Self {
            name: if uid == 0 {
                "root".into()
            } else {
                uid.to_string()
            },
            uid,
            gid: nix::unistd::getegid().as_raw(),
        }
    }

    /// keepalived `get_default_script_user()`: `keepalived_script` if that
    /// user exists; else the daemon's own user, but only without
    /// `enable_script_security` (with it, scripts without their own `user`
    /// are refused: keepalived "Unable to set default user keepalived_script
    /// for script").
    pub fn default_script_user(enable_script_security: bool) -> Result<Self, ScriptError> {
        match lookup_user(DEFAULT_SCRIPT_USER) {
            Ok(Some(u)) => Ok(Self {
                name: DEFAULT_SCRIPT_USER.into(),
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }),
            Ok(None) if !enable_script_security => Ok(Self::daemon()),
            Ok(None) => Err(ScriptError::NoDefaultUser(format!(
                "Unable to set default user {DEFAULT_SCRIPT_USER} for script (it does not exist and enable_script_security is set; set script_user)"
            ))),
            Err(e) if !enable_script_security => {
                tracing::warn!("cannot resolve default script user: {e}; scripts run as the daemon's user");
                Ok(Self::daemon())
            }
            Err(e) => Err(ScriptError::NoDefaultUser(format!(
                "Unable to set default user {DEFAULT_SCRIPT_USER} for script ({e})"
            ))),
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0 || self.gid == 0
    }
}

fn lookup_user(name: &str) -> Result<Option<User>, ScriptError> {
    // Numeric ids are accepted too.
    if let Ok(n) = name.parse::<u32>() {
        return User::from_uid(Uid::from_raw(n)).map_err(|source| ScriptError::UserLookup {
            name: name.into(),
            source,
        });
    }
    User::from_name(name).map_err(|source| ScriptError::UserLookup {
        name: name.into(),
        source,
    })
}

fn lookup_group(name: &str) -> Result<Option<u32>, ScriptError> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(Some(n));
    }
    Group::from_name(name)
        .map(|g| g.map(|g| Gid::as_raw(g.gid)))
        .map_err(|source| ScriptError::UserLookup {
            name: name.into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_root_and_nobody() {
        assert_eq!(RunAs::resolve("root", None).unwrap(), RunAs::root());
        let nobody = RunAs::resolve("nobody", Some("nogroup")).unwrap();
        assert_eq!(nobody.uid, 65534);
        assert!(matches!(
            RunAs::resolve("no-such-user-rkc", None),
            Err(ScriptError::UnknownUser(_))
        ));
        assert!(matches!(
            RunAs::resolve("root", Some("no-such-group-rkc")),
            Err(ScriptError::UnknownGroup(_))
        ));
    }
}
