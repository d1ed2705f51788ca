//! Where the dump files go: one function for every writer, so a daemon
//! with another `instance` or `net_namespace` names them as keepalived
//! 2.2.7 does.
//!
//! keepalived (core/global_data.c `open_dump_file`, lib/utils.c
//! `make_tmp_filename`): the `.data` dumps (`keepalived.data`,
//! `keepalived_check.data`) become `keepalived.NS_INSTANCE.data` when
//! `data_use_instance` is set and the daemon has a namespace or an instance
//! name (`keepalived.NS.data`, `keepalived.INSTANCE.data`); the `.stats`
//! and `.json` dumps always keep their plain names. The directory is
//! `--dump-dir`, else keepalived's tmp_dir ([`tmp_dir`]).

use std::path::{Path, PathBuf};

use crate::cli::Role;
use crate::instance::InstanceId;
use crate::ipc::Query;

/// keepalived's tmp_dir (lib/utils.c `set_tmp_dir()`): `$TMPDIR` if it is
/// an absolute path, else /tmp. The dumps go there unless `--dump-dir`.
pub fn tmp_dir(tmpdir: Option<std::ffi::OsString>) -> PathBuf {
    match tmpdir.map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => PathBuf::from(crate::cli::DEFAULT_DUMP_DIR),
    }
}

/// The path of `role`'s dump for `query`, None if it writes none.
pub fn dump_path(
    dir: &Path,
    role: Role,
    query: Query,
    id: &InstanceId,
    data_use_instance: bool,
) -> Option<PathBuf> {
    let name = crate::dump::file_name(role, query)?;
    if query == Query::Data {
        return Some(data_file(dir, name, id, data_use_instance));
    }
    Some(dir.join(name))
}

/// Any `.data` dump by its plain name (`keepalived.data`,
/// `keepalived_check.data`, keepalived's `keepalived_parent.data`):
/// core/global_data.c `open_dump_file()`.
pub fn data_file(dir: &Path, name: &str, id: &InstanceId, data_use_instance: bool) -> PathBuf {
    if data_use_instance {
        dir.join(instance_data_name(name, id))
    } else {
        dir.join(name)
    }
}

/// `open_dump_file`'s `"%s/%.*s.%s%s%s%s"`: `stem.NS_INSTANCE.ext`.
fn instance_data_name(name: &str, id: &InstanceId) -> String {
    if id.namespace.is_none() && id.instance.is_none() {
        return name.to_owned();
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let ns = id.namespace.as_deref().unwrap_or("");
    let sep = if id.namespace.is_some() && id.instance.is_some() {
        "_"
    } else {
        ""
    };
    let inst = id.instance.as_deref().unwrap_or("");
    format!("{stem}.{ns}{sep}{inst}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ns: Option<&str>, inst: Option<&str>) -> InstanceId {
        InstanceId {
            namespace: ns.map(Into::into),
            instance: inst.map(Into::into),
            use_pid_dir: true,
            run_mounted: false,
        }
    }

    #[test]
    fn tmp_dir_follows_set_tmp_dir() {
        assert_eq!(tmp_dir(None), PathBuf::from("/tmp"));
        assert_eq!(tmp_dir(Some("/var/tmp".into())), PathBuf::from("/var/tmp"));
        assert_eq!(tmp_dir(Some("rel".into())), PathBuf::from("/tmp"));
    }

    #[test]
    fn data_dumps_follow_open_dump_file() {
        let d = Path::new("/tmp");
        let p = |role, q, id: &InstanceId, on| {
            dump_path(d, role, q, id, on).map(|p| p.display().to_string())
        };
        let both = id(Some("blue"), Some("lb1"));
        assert_eq!(
            p(Role::Vrrp, Query::Data, &both, true).as_deref(),
            Some("/tmp/keepalived.blue_lb1.data")
        );
        assert_eq!(
            p(Role::Checker, Query::Data, &id(Some("blue"), None), true).as_deref(),
            Some("/tmp/keepalived_check.blue.data")
        );
        assert_eq!(
            p(Role::Vrrp, Query::Data, &id(None, Some("lb1")), true).as_deref(),
            Some("/tmp/keepalived.lb1.data")
        );
        // Without data_use_instance, or without a name: the plain names.
        assert_eq!(
            p(Role::Vrrp, Query::Data, &both, false).as_deref(),
            Some("/tmp/keepalived.data")
        );
        assert_eq!(
            p(Role::Vrrp, Query::Data, &id(None, None), true).as_deref(),
            Some("/tmp/keepalived.data")
        );
        // make_tmp_filename: stats and json never carry the instance.
        assert_eq!(
            p(Role::Vrrp, Query::Stats, &both, true).as_deref(),
            Some("/tmp/keepalived.stats")
        );
        assert_eq!(
            p(Role::Vrrp, Query::Json, &both, true).as_deref(),
            Some("/tmp/keepalived.json")
        );
        assert_eq!(p(Role::Vrrp, Query::Metrics, &both, true), None);
        assert_eq!(
            data_file(d, "keepalived_parent.data", &both, true),
            PathBuf::from("/tmp/keepalived_parent.blue_lb1.data")
        );
    }
}
