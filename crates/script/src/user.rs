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

    /// keepalived's default: `keepalived_script` if it exists, else root
    /// (keepalived then warns that the default user does not exist).
    pub fn default_script_user() -> Self {
        match lookup_user(DEFAULT_SCRIPT_USER) {
            Ok(Some(u)) => Self {
                name: DEFAULT_SCRIPT_USER.into(),
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            },
            Ok(None) => {
                tracing::warn!(
                    "default user '{DEFAULT_SCRIPT_USER}' for script execution does not exist - please create; scripts run as root"
                );
                Self::root()
            }
            Err(e) => {
                tracing::warn!("cannot resolve default script user: {e}; scripts run as root");
                Self::root()
            }
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
