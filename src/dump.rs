//! keepalived's signal dump files, written atomically.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::cli::Role;
use crate::ipc::Query;

/// keepalived 2.2.7's names: the VRRP process writes keepalived.data,
/// keepalived.stats and keepalived.json; the checker writes
/// keepalived_check.data. The checker's stats/json files are our additions.
pub fn file_name(role: Role, query: Query) -> Option<&'static str> {
    Some(match (role, query) {
        (Role::Vrrp, Query::Data) => "keepalived.data",
        (Role::Vrrp, Query::Stats) => "keepalived.stats",
        (Role::Vrrp, Query::Json) => "keepalived.json",
        (Role::Checker, Query::Data) => "keepalived_check.data",
        (Role::Checker, Query::Stats) => "keepalived_check.stats",
        (Role::Checker, Query::Json) => "keepalived_check.json",
        (_, Query::Metrics) => return None,
    })
}

/// Writes through a fresh, exclusively created temp file and renames it, so
/// readers never see half a dump and a planted symlink in /tmp is not
/// followed.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{base}.{}.{nanos}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
}
