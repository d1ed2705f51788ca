//! A TLS server configuration for loopback tests: a fresh self-signed
//! certificate (rcgen) for `www.example.test`, ring's provider.

use std::sync::Arc;

use rustls::pki_types::PrivateKeyDer;

pub fn self_signed_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ServerConfig {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["www.example.test".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::try_from(key.serialize_der()).expect("key der"),
        )
        .expect("server config")
}
