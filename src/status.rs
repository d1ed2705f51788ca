//! JSON status over a unix socket (`--status` is the client).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use crate::cli::DEFAULT_STATUS_SOCKET;
use crate::metrics::Exposition;

/// CLI override, then global_defs `status_socket`, then the default.
pub fn socket_path(cli: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    cli.or(configured)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATUS_SOCKET))
}

/// The listening status socket; removes its file when dropped.
pub struct Server {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn bind<E: Exposition>(path: &Path, source: Arc<E>) -> std::io::Result<Server> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if path.exists() {
            // A live daemon answers on it; a stale file from a crash does not.
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another daemon is serving this status socket",
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
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
