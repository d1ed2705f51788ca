//! TLS for SSL_GET the way keepalived does it: no certificate or hostname
//! verification (keepalived only checks that a handshake completes), and
//! SNI only when `enable_sni` is set.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

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
