//! JSON status over a unix socket (`--status` is the client).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use rkeepalived_script::safe_file;

use crate::metrics::Exposition;

/// CLI override, then global_defs `status_socket`, then the instance's
/// default (`derived`, see [`crate::instance::InstanceId::status_socket`]).
pub fn socket_path(cli: Option<&Path>, configured: Option<&Path>, derived: PathBuf) -> PathBuf {
    cli.or(configured).map(Path::to_path_buf).unwrap_or(derived)
}

/// The listening status socket; removes its file when dropped.
pub struct Server {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn bind<E: Exposition>(path: &Path, source: Arc<E>) -> std::io::Result<Server> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            safe_file::create_dir_all(dir)?;
        }
        clear_stale_socket(path)?;
        let listener = UnixListener::bind(path)?;
        safe_file::chmod_socket(path, 0o660).map_err(std::io::Error::other)?;
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((mut stream, _)) => {
                        let source = source.clone();
                        tokio::spawn(async move {
                            let status = source.status_json().await;
                            let text = format!("{status:#}\n");
                            let _ = stream.write_all(text.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        });
                    }
                    Err(e) => {
                        tracing::warn!("status socket accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(Server {
            path: path.to_owned(),
            task,
        })
    }
}

/// Makes room for binding at `path`: nothing there is fine; a socket nobody
/// answers on (left by a crash) is removed; a live one means another daemon
/// (`AddrInUse`). Anything else — a regular file, a directory, a symlink — is
/// never deleted: `AlreadyExists`, and the daemon refuses to start.
fn clear_stale_socket(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} is a {}, not a socket: refusing to remove it",
                path.display(),
                safe_file::kind_name(meta.file_type())
            ),
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "another daemon is serving this status socket",
        ));
    }
    std::fs::remove_file(path)
}

impl Server {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatusClientError {
    #[error("cannot connect to {path} (is rkeepalived running?): {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading status from {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no answer from {0} within 15s")]
    Timeout(PathBuf),
}

/// `rkeepalived --status`: fetch the JSON document.
pub async fn fetch(path: &Path) -> Result<String, StatusClientError> {
    let work = async {
        let mut stream = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|source| StatusClientError::Connect {
                path: path.to_owned(),
                source,
            })?;
        let mut out = String::new();
        stream
            .read_to_string(&mut out)
            .await
            .map_err(|source| StatusClientError::Read {
                path: path.to_owned(),
                source,
            })?;
        Ok(out)
    };
    tokio::time::timeout(Duration::from_secs(15), work)
        .await
        .unwrap_or_else(|_| Err(StatusClientError::Timeout(path.to_owned())))
}
