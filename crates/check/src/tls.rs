//! TLS for SSL_GET the way keepalived does it: no certificate or hostname
//! verification (keepalived only checks that a handshake completes), and
//! SNI only when `enable_sni` is set.
//!
//! **Deliberate difference: session resumption.** keepalived 2.2.7 makes a
//! full handshake for every check (check_ssl.c `ssl_connect()`: `SSL_new()`
//! per attempt, never `SSL_set_session()`). Every SSL_GET checker with the
//! same `SSL` block shares one [`ClientConfig`] ([`shared_connector`]), and
//! so one session store sized to the number of those checkers
//! ([`SessionStore`]): a check resumes the session of the previous check
//! of the same server when the server offers it (TLS 1.3 tickets, TLS 1.2
//! ids or tickets), an abbreviated handshake of ~1/10 of the CPU on both
//! sides. Every check still opens its own TCP connection and completes a
//! TLS handshake, sends the request and reads and judges the whole
//! response, so a server that stops speaking TLS, answers another status
//! or body, or closes, fails that very check as with keepalived. What a
//! resumed handshake does not redo is the server's certificate signature:
//! keepalived verifies neither certificate nor name (`SSL_VERIFY_NONE`),
//! so the only case told apart differently is a server that can no longer
//! sign with its key but still honours its tickets (it fails keepalived's
//! next check, ours once its tickets are spent or expired). A server that
//! refuses resumption gets a full handshake. Sessions are kept per server
//! name, which is the address when no SNI is sent: real servers on one
//! address and different ports share theirs, and a ticket offered to the
//! wrong one only costs that check a full handshake.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock, Weak};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, NamedGroup, SignatureScheme};

/// Accepts any certificate; signatures are still checked against it, so
/// the handshake is a real TLS handshake.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Client config with the ring provider and no certificate verification.
pub fn no_verify_client_config() -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        .with_no_client_auth();
    config.enable_sni = true;
    Ok(config)
}

/// The name for the handshake: the virtualhost when SNI is wanted and it is
/// a DNS name; else the IP address (rustls sends no SNI for addresses).
pub fn server_name(sni: Option<&str>, ip: IpAddr) -> ServerName<'static> {
    sni.and_then(|name| ServerName::try_from(name.to_string()).ok())
        .unwrap_or(ServerName::IpAddress(ip.into()))
}

/// The top-level `SSL { password ca certificate key }` block, loaded for
/// SSL_GET (keepalived check_ssl.c `build_ssl_ctx`): the certificate chain
/// and key are presented to backends that ask for a client certificate
/// (mTLS); an encrypted key is decrypted with `password`
/// ([`crate::tls_key`]). The CA file is read and must parse, but as in
/// keepalived (`SSL_VERIFY_NONE`) it does not make the checker verify the
/// server.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAuth {
    pub certificate: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    pub ca: Option<std::path::PathBuf>,
    chain: Vec<CertificateDer<'static>>,
    key_der: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.debug_struct("ClientAuth")
            .field("certificate", &self.certificate)
            .field("key", &self.key)
            .field("ca", &self.ca)
            .finish()
    }
}

/// A problem with the `SSL` block, naming the keyword and the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SSL {keyword} {path}: {msg}")]
pub struct SslConfigError {
    pub keyword: &'static str,
    pub path: String,
    pub msg: String,
}

impl ClientAuth {
    /// Read and check the files of an `SSL` block.
    pub fn load(ssl: &rkeepalived_config::model::SslConfig) -> Result<Self, SslConfigError> {
        use rustls::pki_types::pem::PemObject;
        let err = |keyword: &'static str, path: &std::path::Path, msg: String| SslConfigError {
            keyword,
            path: path.display().to_string(),
            msg,
        };
        let read = |keyword: &'static str, path: &std::path::Path| {
            std::fs::read(path).map_err(|e| err(keyword, path, e.to_string()))
        };
        let certs = |keyword: &'static str, path: &std::path::Path| {
            let pem = read(keyword, path)?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(keyword, path, format!("not a PEM certificate file: {e}")))?;
            if certs.is_empty() {
                return Err(err(keyword, path, "no PEM certificate in the file".into()));
            }
            Ok(certs)
        };
        let chain = match &ssl.certificate {
            Some(p) => certs("certificate", p)?,
            None => Vec::new(),
        };
        if let Some(p) = &ssl.ca {
            certs("ca", p)?;
        }
        // keepalived reads the key from `key`, else OpenSSL finds it in the
        // certificate file (SSL_CTX_use_certificate_chain_file + a key in
        // the same PEM); only a chain without any key is an error.
        let key_path = ssl.key.as_ref().or(ssl.certificate.as_ref());
        let key_der = match key_path {
            None => None,
            Some(p) => {
                let pem = read("key", p)?;
                // OpenSSL asks `password` (SSL_CTX_set_default_passwd_cb)
                // only for an encrypted key: crate::tls_key.
                match crate::tls_key::private_key_der(&pem, ssl.password.as_deref()) {
                    Ok(Some(k)) => Some(k),
                    Ok(None) if ssl.key.is_none() => None,
                    Ok(None) => return Err(err("key", p, "no PEM private key in the file".into())),
                    Err(e) => return Err(err("key", p, e)),
                }
            }
        };
        if !chain.is_empty() && key_der.is_none() {
            let p = ssl
                .certificate
                .as_deref()
                .unwrap_or(std::path::Path::new(""));
            return Err(err(
                "key",
                p,
                "a certificate needs a private key ('key')".into(),
            ));
        }
        let auth = Self {
            certificate: ssl.certificate.clone(),
            key: ssl.key.clone(),
            ca: ssl.ca.clone(),
            chain,
            key_der,
        };
        // Catch a key that does not match the certificate now, not per check.
        client_config(Some(&auth)).map_err(|e| {
            err(
                "key",
                key_path
                    .map(|p| p.as_path())
                    .unwrap_or(std::path::Path::new("")),
                e.to_string(),
            )
        })?;
        Ok(auth)
    }
}

/// [`no_verify_client_config`] presenting `auth`'s client certificate.
pub fn client_config(auth: Option<&ClientAuth>) -> Result<ClientConfig, rustls::Error> {
    let Some(auth) = auth.filter(|a| !a.chain.is_empty()) else {
        return no_verify_client_config();
    };
    let key = auth
        .key_der
        .as_ref()
        .and_then(|k| rustls::pki_types::PrivateKeyDer::try_from(k.clone()).ok())
        .ok_or_else(|| rustls::Error::General("no private key".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        .with_client_auth_cert(auth.chain.clone(), key)?;
    config.enable_sni = true;
    Ok(config)
}

/// rustls keeps up to this many TLS 1.3 tickets per server
/// (`ClientSessionMemoryCache`: its size is in tickets, 8 per server).
const TICKETS_PER_SERVER: usize = 8;

/// The smallest store (servers); it grows with the checkers.
const MIN_SERVERS: usize = 64;

/// The session store shared by the SSL_GET checkers of one `SSL` block:
/// rustls' in-memory cache (LRU by server), rebuilt larger when more
/// checkers use it than it holds servers, so 10,000 checkers do not evict
/// each other's sessions round after round (rustls' default store holds
/// 32 servers). A rebuild forgets the sessions: their next checks make a
/// full handshake, as keepalived's always do.
pub struct SessionStore {
    /// (servers it holds, the cache).
    cache: RwLock<(usize, Arc<ClientSessionMemoryCache>)>,
    /// Checkers using it ([`TlsLease`]s alive).
    users: AtomicUsize,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("servers", &self.capacity())
            .field("users", &self.users.load(Relaxed))
            .finish()
    }
}

impl SessionStore {
    fn new() -> Self {
        Self {
            cache: RwLock::new((
                MIN_SERVERS,
                Arc::new(ClientSessionMemoryCache::new(
                    MIN_SERVERS * TICKETS_PER_SERVER,
                )),
            )),
            users: AtomicUsize::new(0),
        }
    }

    /// How many servers it remembers.
    pub fn capacity(&self) -> usize {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).0
    }

    fn current(&self) -> Arc<ClientSessionMemoryCache> {
        Arc::clone(&self.cache.read().unwrap_or_else(|e| e.into_inner()).1)
    }

    /// One more checker: grow (doubling) when the checkers outnumber the
    /// servers it holds.
    fn add_user(&self) {
        let users = self.users.fetch_add(1, Relaxed) + 1;
        if users <= self.capacity() {
            return;
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if users > cache.0 {
            let servers = users.next_power_of_two().max(MIN_SERVERS);
            *cache = (
                servers,
                Arc::new(ClientSessionMemoryCache::new(
                    servers.saturating_mul(TICKETS_PER_SERVER),
                )),
            );
        }
    }
}

impl ClientSessionStore for SessionStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.current().set_kx_hint(server_name, group)
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.current().kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.current().set_tls12_session(server_name, value)
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.current().tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.current().remove_tls12_session(server_name)
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.current().insert_tls13_ticket(server_name, value)
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.current().take_tls13_ticket(server_name)
    }
}

/// An SSL_GET checker's share of a [`shared_connector`] config: counts the
/// checker as a user of the session store while it lives.
#[derive(Debug)]
pub struct TlsLease(Arc<SessionStore>);

impl TlsLease {
    /// The store this checker's sessions go to.
    pub fn store(&self) -> &Arc<SessionStore> {
        &self.0
    }
}

impl Drop for TlsLease {
    fn drop(&mut self) {
        self.0.users.fetch_sub(1, Relaxed);
    }
}

/// One config per distinct `SSL` block (None: no client certificate), for
/// as long as a checker uses it.
type Shared = (Option<ClientAuth>, Weak<ClientConfig>, Weak<SessionStore>);

static SHARED: Mutex<Vec<Shared>> = Mutex::new(Vec::new());

/// The client config for SSL_GET checkers with `auth`, shared by all of
/// them (one session store, see the module doc), and the caller's lease on
/// its session store.
pub fn shared_connector(
    auth: Option<&ClientAuth>,
) -> Result<(tokio_rustls::TlsConnector, TlsLease), rustls::Error> {
    // Only a client certificate makes configs differ.
    let auth = auth.filter(|a| !a.chain.is_empty());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    shared.retain(|(_, config, _)| config.strong_count() > 0);
    let found = shared.iter().find_map(|(a, config, store)| {
        (a.as_ref() == auth).then(|| Some((config.upgrade()?, store.upgrade()?)))?
    });
    let (config, store) = match found {
        Some(found) => found,
        None => {
            let store = Arc::new(SessionStore::new());
            let mut config = client_config(auth)?;
            config.resumption =
                Resumption::store(Arc::clone(&store) as Arc<dyn ClientSessionStore>);
            let config = Arc::new(config);
            shared.push((
                auth.cloned(),
                Arc::downgrade(&config),
                Arc::downgrade(&store),
            ));
            (config, store)
        }
    };
    drop(shared);
    store.add_user();
    Ok((tokio_rustls::TlsConnector::from(config), TlsLease(store)))
}
