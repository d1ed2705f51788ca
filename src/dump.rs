//! keepalived's signal dump files, written atomically.

use std::path::Path;

use rkeepalived_script::safe_file::{self, SafeFileError};

use crate::cli::Role;
use crate::ipc::Query;

/// keepalived 2.2.7's names: the VRRP process writes keepalived.data,
/// keepalived.stats and keepalived.json; the checker writes
/// keepalived_check.data. The checker's stats/json files are our additions.
pub fn file_name(role: Role, query: Query) -> Option<&'static str> {
    Some(match (role, query) {
        (Role::Vrrp, Query::Data) => "keepalived.data",
        (Role::Vrrp, Query::Stats | Query::StatsClear) => "keepalived.stats",
        (Role::Vrrp, Query::Json | Query::KeepalivedJson) => "keepalived.json",
        (Role::Checker, Query::Data) => "keepalived_check.data",
        (Role::Checker, Query::Stats | Query::StatsClear) => "keepalived_check.stats",
        (Role::Checker, Query::Json | Query::KeepalivedJson) => "keepalived_check.json",
        // bfd/bfd_daemon.c: SIGUSR1 writes keepalived_bfd.data; the stats
        // and JSON files are ours.
        (Role::Bfd, Query::Data) => "keepalived_bfd.data",
        (Role::Bfd, Query::Stats | Query::StatsClear) => "keepalived_bfd.stats",
        (Role::Bfd, Query::Json | Query::KeepalivedJson) => "keepalived_bfd.json",
        (_, Query::Metrics | Query::Drain | Query::Undrain | Query::Liveness) => return None,
    })
}

/// The supervisor's SIGUSR1 file (core/main.c `print_parent_data()`).
pub const PARENT_DATA: &str = "keepalived_parent.data";

/// keepalived_parent.data: the global definitions as keepalived's parent
/// process prints them.
pub fn parent_data(gd: &rkeepalived_config::model::GlobalDefs, cli: &crate::cli::Cli) -> String {
    rkeepalived_dump::global::global_definitions(
        gd,
        &rkeepalived_dump::global::Context {
            prog: rkeepalived_dump::global::Prog::Parent,
            namespace: cli.namespace.clone(),
            umask: cli.umask.unwrap_or(crate::cli::KEEPALIVED_UMASK),
        },
    )
}

/// Writes a dump the way keepalived's `fopen_safe(path, "w")` does
/// (the CVE-2018-19044/19045 fixes): a fresh exclusively created temporary
/// file, mode 0600 whatever `-u` says, renamed over `path`. Readers never see
/// half a dump, and a symlink planted at `/tmp/keepalived.data` is replaced,
/// never followed.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<(), SafeFileError> {
    safe_file::write_replace(path, content, safe_file::PRIVATE_MODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_keepalived() {
        assert_eq!(file_name(Role::Vrrp, Query::Data), Some("keepalived.data"));
        assert_eq!(
            file_name(Role::Checker, Query::Data),
            Some("keepalived_check.data")
        );
        assert_eq!(file_name(Role::Vrrp, Query::Json), Some("keepalived.json"));
        assert_eq!(file_name(Role::Vrrp, Query::Metrics), None);
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = std::env::temp_dir().join(format!("rkd-dump-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("keepalived.data");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("rewrite");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(
            std::fs::read_dir(&dir).expect("ls").count(),
            1,
            "no temp files left"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn dumps_are_private_and_do_not_follow_symlinks() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("rkd-dump-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let target = dir.join("shadow");
        std::fs::write(&target, "secret\n").expect("target");
        let p = dir.join("keepalived.data");
        std::os::unix::fs::symlink(&target, &p).expect("plant");
        write_atomic(&p, b"dump").expect("write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "secret\n");
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        assert!(meta.file_type().is_file());
        assert_eq!(meta.mode() & 0o7777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
