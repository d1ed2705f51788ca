//! `metrics_web_config FILE`: TLS and basic auth for the metrics endpoint,
//! read from the web configuration file of Prometheus' exporter-toolkit
//! (the `--web.config.file` of node_exporter and friends), so operators can
//! reuse theirs:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt        # relative paths: to the file's directory
//!   key_file: server.key
//!   min_version: TLS12           # optional: TLS12 or TLS13
//! basic_auth_users:
//!   prometheus: $2y$10$...       # bcrypt hash (htpasswd -nBC 10 prometheus)
//! ```
//!
//! Anything we do not implement (client certificates, cipher suites,
//! HTTP headers) is an error rather than silently ignored: an ignored
//! `client_auth_type` would serve clients the operator meant to refuse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Yaml {
        path: PathBuf,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
}

impl WebConfigError {
    fn invalid(path: &Path, what: impl Into<String>) -> WebConfigError {
        WebConfigError::Invalid {
            path: path.to_owned(),
            what: what.into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    tls_server_config: Option<TlsModel>,
    http_server_config: Option<HttpModel>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsModel {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    /// Go's crypto/tls knob; rustls always prefers the server's order.
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpModel {
    /// We only speak HTTP/1.1: `http2: false` is what we do anyway.
    http2: Option<bool>,
}

/// A loaded, validated web configuration.
pub struct WebConfig {
    pub path: PathBuf,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// user → bcrypt hash; empty: no authentication.
    users: BTreeMap<String, String>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("path", &self.path)
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A valid bcrypt hash of a random password nobody knows: unknown users
/// cost the same bcrypt round as known ones (no user enumeration by timing),
/// as exporter-toolkit does.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

impl WebConfig {
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the file at `path` (relative file names are taken
    /// from `path`'s directory, as exporter-toolkit does).
    pub fn parse(path: &Path, text: &str) -> Result<WebConfig, WebConfigError> {
        let model: FileModel = if text.trim().is_empty() {
            FileModel::default()
        } else {
            serde_yaml_ng::from_str(text).map_err(|source| WebConfigError::Yaml {
                path: path.to_owned(),
                source,
            })?
        };
        let _ = model.http_server_config.and_then(|h| h.http2);
        let dir = path.parent().unwrap_or(Path::new("."));
        let tls = match model.tls_server_config {
            None => None,
            Some(t) => Some(Arc::new(tls_config(path, dir, t)?)),
        };
        let users = model.basic_auth_users.unwrap_or_default();
        for (user, hash) in &users {
            if user.contains(':') {
                return Err(WebConfigError::invalid(
                    path,
                    format!("basic_auth_users: user name {user:?} contains ':'"),
                ));
            }
            if bcrypt::HashParts::from_str(hash).is_err() {
                return Err(WebConfigError::invalid(
                    path,
                    format!("basic_auth_users: the password of {user:?} is not a bcrypt hash"),
                ));
            }
        }
        Ok(WebConfig {
            path: path.to_owned(),
            tls,
            users,
        })
    }

    pub fn requires_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// Checks an `Authorization` header value. Runs bcrypt: call it off
    /// any latency-sensitive thread.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        if self.users.is_empty() {
            return true;
        }
        let Some((user, password)) = authorization.and_then(parse_basic) else {
            return false;
        };
        let (hash, known) = match self.users.get(&user) {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH, false),
        };
        bcrypt::verify(password.as_bytes(), hash).unwrap_or(false) && known
    }
}

/// `Basic base64(user:password)` → (user, password).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn tls_version(
    path: &Path,
    key: &str,
    v: &str,
) -> Result<&'static rustls::SupportedProtocolVersion, WebConfigError> {
    match v {
        "TLS12" => Ok(&rustls::version::TLS12),
        "TLS13" => Ok(&rustls::version::TLS13),
        other => Err(WebConfigError::invalid(
            path,
            format!("tls_server_config: {key} {other:?} is not supported (TLS12 or TLS13)"),
        )),
    }
}

fn tls_config(
    path: &Path,
    dir: &Path,
    t: TlsModel,
) -> Result<rustls::ServerConfig, WebConfigError> {
    if let Some(kind) = t.client_auth_type.as_deref() {
        if kind != "NoClientCert" {
            return Err(WebConfigError::invalid(
                path,
                format!("tls_server_config: client_auth_type {kind:?} is not supported (only NoClientCert); put a reverse proxy in front for client certificates"),
            ));
        }
    }
    let _ = t.prefer_server_cipher_suites;
    let (Some(cert_file), Some(key_file)) = (t.cert_file, t.key_file) else {
        return Err(WebConfigError::invalid(
            path,
            "tls_server_config needs cert_file and key_file",
        ));
    };
    let cert_file = dir.join(cert_file);
    let key_file = dir.join(key_file);
    let pem_err = |file: &Path, e: rustls::pki_types::pem::Error| {
        WebConfigError::invalid(path, format!("{}: {e}", file.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_file)
        .map_err(|e| pem_err(&cert_file, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(&cert_file, e))?;
    if certs.is_empty() {
        return Err(WebConfigError::invalid(
            path,
            format!("{}: no certificate", cert_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&key_file).map_err(|e| pem_err(&key_file, e))?;
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> =
        vec![&rustls::version::TLS12, &rustls::version::TLS13];
    if let Some(min) = t.min_version.as_deref() {
        let min = tls_version(path, "min_version", min)?;
        if std::ptr::eq(min, &rustls::version::TLS13) {
            versions.retain(|v| std::ptr::eq(*v, &rustls::version::TLS13));
        }
    }
    if let Some(max) = t.max_version.as_deref() {
        let max = tls_version(path, "max_version", max)?;
        if std::ptr::eq(max, &rustls::version::TLS12) {
            versions.retain(|v| std::ptr::eq(*v, &rustls::version::TLS12));
        }
    }
    if versions.is_empty() {
        return Err(WebConfigError::invalid(
            path,
            "tls_server_config: min_version is above max_version",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| WebConfigError::invalid(path, format!("tls_server_config: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            WebConfigError::invalid(
                path,
                format!("{} / {}: {e}", cert_file.display(), key_file.display()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, WebConfigError> {
        WebConfig::parse(Path::new("/nonexistent/web.yml"), text)
    }

    #[test]
    fn basic_auth_with_bcrypt() {
        let hash = bcrypt::hash("s3cret", 4).expect("hash");
        let cfg = parse(&format!("basic_auth_users:\n  prom: '{hash}'\n")).expect("parse");
        assert!(cfg.requires_auth() && cfg.tls.is_none());
        let header = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        assert!(cfg.authorized(Some(&header("prom", "s3cret"))));
        assert!(!cfg.authorized(Some(&header("prom", "wrong"))));
        assert!(!cfg.authorized(Some(&header("other", "s3cret"))));
        assert!(!cfg.authorized(None));
        assert!(!cfg.authorized(Some("Bearer x")));
        assert!(!cfg.authorized(Some("Basic !!!")));
    }

    #[test]
    fn empty_file_means_nothing_required() {
        let cfg = parse("").expect("parse");
        assert!(!cfg.requires_auth() && cfg.tls.is_none());
        assert!(cfg.authorized(None));
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for bad in [
            "basic_auth_users:\n  prom: plaintext\n",
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
            "tls_server_config:\n  cert_file: a\n",
            "tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
            "unknown_key: 1\n",
            "tls_server_config:\n  cert_file: /nonexistent/a.crt\n  key_file: /nonexistent/a.key\n",
            ": [",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn dummy_hash_is_valid() {
        assert!(bcrypt::HashParts::from_str(DUMMY_HASH).is_ok());
    }
}
