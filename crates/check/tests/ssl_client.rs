//! SSL_GET with the top-level `SSL { ca certificate key }` block against a
//! backend that requires a client certificate (mTLS), and bad SSL files:
//! a clear error naming the keyword, never a dead checker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_check::checkers::build;
use rkeepalived_check::spec::CheckKind;
use rkeepalived_check::tls::ClientAuth;
use rkeepalived_config::model::SslConfig;
use rkeepalived_script::{RunAs, ScriptRunner, ScriptSecurity};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Pki {
    dir: std::path::PathBuf,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA, a server certificate and a client certificate (files: ca.pem,
/// client.pem, client.key).
fn pki(tag: &str) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let dir = std::env::temp_dir().join(format!("rkc-ssl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["checker.example.test".to_string()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["www.example.test".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("garbage.pem"), "not a certificate\n").unwrap();
    Pki {
        dir,
        ca_der: ca.der().clone(),
        server: (
            server.der().clone(),
            PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
        ),
    }
}

/// HTTPS server that requires a client certificate signed by the CA.
async fn mtls_server(pki: &Pki) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn config(pki: &Pki, ssl_block: &str, port: u16) -> rkeepalived_config::Config {
    let text = format!(
        r#"
{ssl_block}
virtual_server 192.0.2.1 443 {{
    protocol TCP
    real_server 127.0.0.1 {port} {{
        SSL_GET {{
            url {{
                path /
                digest 444bcb3a3fcf8389296c49467f27e1d6
            }}
            connect_timeout 3
        }}
    }}
}}
"#
    );
    let _ = pki;
    rkeepalived_config::parse_str(&text, "t.conf", &Default::default())
        .expect("parses")
        .config
}

async fn run_check(
    config: &rkeepalived_config::Config,
) -> rkeepalived_check::checkers::CheckOutcome {
    let plan = rkeepalived_check::from_config(config).expect("plan never fails on SSL files");
    let spec = Arc::clone(&plan.virtual_servers[0].real_servers[0].checkers[0]);
    assert!(matches!(spec.kind, CheckKind::Http(_)));
    let runner = ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    });
    tokio::time::timeout(Duration::from_secs(10), build(&spec, &runner).check())
        .await
        .expect("check ends")
}

#[tokio::test]
async fn ssl_get_presents_the_client_certificate() {
    let pki = pki("mtls");
    let addr = mtls_server(&pki).await;
    let d = pki.dir.display();
    // Without the SSL block the backend refuses the handshake.
    let out = run_check(&config(&pki, "", addr.port())).await;
    assert!(!out.is_up(), "{out:?}");
    // With it, the client certificate is presented and the check passes.
    let block =
        format!("SSL {{\n ca {d}/ca.pem\n certificate {d}/client.pem\n key {d}/client.key\n}}");
    let out = run_check(&config(&pki, &block, addr.port())).await;
    assert!(out.is_up(), "{out:?}");
    // Unreadable certificate: the plan still builds, the check runs (and
    // fails against this backend, which needs the certificate).
    let block = format!("SSL {{\n certificate {d}/missing.pem\n key {d}/client.key\n}}");
    let out = run_check(&config(&pki, &block, addr.port())).await;
    assert!(!out.is_up(), "{out:?}");
}

#[test]
fn bad_ssl_files_name_the_keyword() {
    let pki = pki("bad");
    let p = |f: &str| Some(pki.dir.join(f));
    let load = |ssl: SslConfig| ClientAuth::load(&ssl).unwrap_err();
    let e = load(SslConfig {
        certificate: p("missing.pem"),
        key: p("client.key"),
        ..Default::default()
    });
    assert_eq!(e.keyword, "certificate");
    assert!(e.to_string().starts_with("SSL certificate "), "{e}");
    assert!(e.to_string().contains("missing.pem"), "{e}");
    let e = load(SslConfig {
        certificate: p("client.pem"),
        key: p("garbage.pem"),
        ..Default::default()
    });
    assert_eq!(e.keyword, "key", "{e}");
    let e = load(SslConfig {
        ca: p("garbage.pem"),
        ..Default::default()
    });
    assert_eq!(e.keyword, "ca", "{e}");
    // A key that does not belong to the certificate.
    let e = load(SslConfig {
        certificate: p("ca.pem"),
        key: p("client.key"),
        ..Default::default()
    });
    assert_eq!(e.keyword, "key", "{e}");
    // Good files load.
    ClientAuth::load(&SslConfig {
        ca: p("ca.pem"),
        certificate: p("client.pem"),
        key: p("client.key"),
        password: None,
    })
    .unwrap();
}

/// `openssl ARGS...` in `dir` (the reference encoder for encrypted keys).
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The client key encrypted by OpenSSL in each format keepalived's
/// `SSL_CTX_use_PrivateKey_file()` reads with the `password` callback.
fn encrypted_keys(pki: &Pki) -> Vec<(&'static str, &'static str)> {
    let d = &pki.dir;
    let pass = "pass:s3cret pass";
    let keys = [
        // PKCS#8 PBES2, OpenSSL 3's default (PBKDF2-SHA256, AES-256-CBC).
        (
            "p8-aes.key",
            &[
                "pkcs8",
                "-topk8",
                "-in",
                "client.key",
                "-out",
                "p8-aes.key",
                "-passout",
                pass,
            ][..],
        ),
        (
            "p8-des3.key",
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "des3",
                "-in",
                "client.key",
                "-out",
                "p8-des3.key",
                "-passout",
                pass,
            ],
        ),
        (
            "p8-scrypt.key",
            &[
                "pkcs8",
                "-topk8",
                "-scrypt",
                "-in",
                "client.key",
                "-out",
                "p8-scrypt.key",
                "-passout",
                pass,
            ],
        ),
        // The legacy "Proc-Type: 4,ENCRYPTED" / DEK-Info format.
        (
            "legacy-aes128.key",
            &[
                "ec",
                "-in",
                "client.key",
                "-aes128",
                "-out",
                "legacy-aes128.key",
                "-passout",
                pass,
            ],
        ),
        (
            "legacy-aes256.key",
            &[
                "ec",
                "-in",
                "client.key",
                "-aes256",
                "-out",
                "legacy-aes256.key",
                "-passout",
                pass,
            ],
        ),
        (
            "legacy-des3.key",
            &[
                "ec",
                "-in",
                "client.key",
                "-des3",
                "-out",
                "legacy-des3.key",
                "-passout",
                pass,
            ],
        ),
    ];
    for (file, args) in keys {
        openssl(d, args);
        let text = std::fs::read_to_string(d.join(file)).unwrap();
        assert!(text.contains("ENCRYPTED"), "{file}:\n{text}");
    }
    keys.iter().map(|(f, _)| (*f, "s3cret pass")).collect()
}

/// Encrypted client keys with `password`: every format OpenSSL writes
/// loads, and the backend that requires the client certificate accepts it.
#[tokio::test]
async fn ssl_password_decrypts_encrypted_client_keys() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Tool("openssl")]) {
        return;
    }
    let pki = pki("password");
    let addr = mtls_server(&pki).await;
    let d = pki.dir.display();
    for (file, password) in encrypted_keys(&pki) {
        let block = format!(
            "SSL {{\n password \"{password}\"\n ca {d}/ca.pem\n certificate {d}/client.pem\n key {d}/{file}\n}}"
        );
        let cfg = config(&pki, &block, addr.port());
        assert_eq!(
            cfg.ssl.as_ref().and_then(|s| s.password.as_deref()),
            Some(password)
        );
        ClientAuth::load(cfg.ssl.as_ref().unwrap()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let out = run_check(&cfg).await;
        assert!(out.is_up(), "{file}: {out:?}");
    }
    // A password for a key that is not encrypted is not used (OpenSSL
    // calls the callback only for encrypted keys).
    let block =
        format!("SSL {{\n password unused\n certificate {d}/client.pem\n key {d}/client.key\n}}");
    assert!(run_check(&config(&pki, &block, addr.port())).await.is_up());
}

/// A wrong or missing password: an error naming the key file and the
/// `password` keyword; the checker keeps running (the check fails against
/// a backend requiring the certificate), as with any bad SSL file.
#[tokio::test]
async fn wrong_or_missing_ssl_password_is_a_clear_error() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Tool("openssl")]) {
        return;
    }
    let pki = pki("badpass");
    let addr = mtls_server(&pki).await;
    let p = |f: &str| Some(pki.dir.join(f));
    for (file, _) in encrypted_keys(&pki) {
        for password in [Some("wrong"), Some(""), None] {
            let e = ClientAuth::load(&SslConfig {
                certificate: p("client.pem"),
                key: p(file),
                password: password.map(String::from),
                ..Default::default()
            })
            .map(|_| ())
            .expect_err(file);
            assert_eq!(e.keyword, "key", "{e}");
            let msg = e.to_string();
            assert!(msg.starts_with("SSL key ") && msg.contains(file), "{msg}");
            assert!(msg.contains("'password'"), "{file} {password:?}: {msg}");
        }
    }
    let d = pki.dir.display();
    let block = format!(
        "SSL {{\n password wrong\n certificate {d}/client.pem\n key {d}/legacy-aes256.key\n}}"
    );
    let out = run_check(&config(&pki, &block, addr.port())).await;
    assert!(!out.is_up(), "{out:?}");
}

/// keepalived 2.2.7 itself with the same encrypted keys and password: its
/// checker (on bench/check/fake_ipvs.so, this host kernel has no IPVS)
/// passes SSL_GET against the backend requiring the client certificate,
/// and adds the real server, as ours does.
#[tokio::test]
async fn ssl_password_matches_keepalived() {
    use rkeepalived_testkit::{prerequisites, Need};
    if !prerequisites(&[
        Need::Root,
        Need::Keepalived,
        Need::Tool("openssl"),
        Need::Tool("cc"),
    ]) {
        return;
    }
    let pki = pki("kapass");
    let addr = mtls_server(&pki).await;
    let d = &pki.dir;
    let fake = d.join("fake_ipvs.so");
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/check/fake_ipvs.c");
    let st = std::process::Command::new("cc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&fake)
        .arg(&src)
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(st.success(), "building fake_ipvs.so");
    let mut cases: Vec<(&str, &str, bool)> = encrypted_keys(&pki)
        .into_iter()
        .filter(|(f, _)| ["p8-aes.key", "legacy-aes256.key"].contains(f))
        .map(|(f, p)| (f, p, true))
        .collect();
    // The control: a wrong password, never up (keepalived's checker stops
    // at "Cant load key file"; ours runs without the certificate).
    cases.push(("legacy-aes256.key", "wrong", false));
    for (file, password, up) in cases {
        let block = format!(
            "SSL {{\n password \"{password}\"\n certificate {}/client.pem\n key {}/{file}\n}}",
            d.display(),
            d.display()
        );
        let text = format!(
            "{block}\nvirtual_server 192.0.2.1 443 {{\n protocol TCP\n delay_loop 1\n alpha\n real_server 127.0.0.1 {} {{\n  SSL_GET {{\n   url {{\n    path /\n   }}\n   connect_timeout 2\n   retry 0\n  }}\n }}\n}}\n",
            addr.port()
        );
        let file_tag = format!("{file}-{up}");
        let conf = d.join(format!("{file_tag}.conf"));
        std::fs::write(&conf, &text).unwrap();
        let ops = d.join(format!("{file_tag}.ops"));
        let mut ka = std::process::Command::new("/usr/sbin/keepalived")
            .args(["-n", "-C", "-l", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(d.join(format!("{file_tag}.pid")))
            .arg("-c")
            .arg(d.join(format!("{file_tag}-check.pid")))
            .env("LD_PRELOAD", &fake)
            .env("FAKE_IPVS_LOG", &ops)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // keepalived adds the real server (NEW_DEST, command 5; `alpha`:
        // not before) once its SSL_GET with the decrypted key succeeds.
        let dest = format!("127.0.0.1:{}", addr.port());
        let mut added = false;
        for _ in 0..if up { 100 } else { 40 } {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let log = std::fs::read_to_string(&ops).unwrap_or_default();
            if log.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() == 4 && f[1] == "5" && f[2] == dest
            }) {
                added = true;
                break;
            }
        }
        let _ = ka.kill();
        let _ = ka.wait();
        assert_eq!(
            added, up,
            "keepalived with {file} and password {password:?}"
        );
        let cfg = rkeepalived_config::parse_str(&text, "k.conf", &Default::default())
            .expect("parses")
            .config;
        assert_eq!(run_check(&cfg).await.is_up(), up, "ours with {file}");
    }
}
