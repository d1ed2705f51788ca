//! HTTP_GET `digest` golden-tested against keepalived's own `genhash`, and
//! `regex` with keepalived's semantics (check_http.c `check_regex`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_check::checkers::{build, CheckOutcome};
use rkeepalived_check::spec::*;
use rkeepalived_check::CheckFailure;
use rkeepalived_script::{RunAs, ScriptRunner, ScriptSecurity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A body of 10,000 bytes whose only "NEEDLE" straddles offset 4096
/// (keepalived's read buffer is 4096 bytes).
fn big_body() -> Vec<u8> {
    let mut b = vec![b'x'; 10_000];
    b[4093..4099].copy_from_slice(b"NEEDLE");
    b
}

/// Canned responses by path; written in small pieces so bodies arrive in
/// several reads.
fn response(path: &str) -> Vec<u8> {
    match path {
        "/cl" => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello EXTRA".to_vec(),
        "/close" => b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close\n".to_vec(),
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n".to_vec(),
        "/404" => b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nnop".to_vec(),
        "/ab" => {
            let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
            r.extend(b"ab".repeat(100_000));
            r.extend(b"c");
            r
        }
        "/big" => {
            let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
            r.extend(big_body());
            r
        }
        "/bigchunked" => {
            let body = big_body();
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for c in body.chunks(3000) {
                r.extend(format!("{:x}\r\n", c.len()).as_bytes());
                r.extend(c);
                r.extend(b"\r\n");
            }
            r.extend(b"0\r\n\r\n");
            r
        }
        _ => b"HTTP/1.0 500 Oops\r\n\r\n".to_vec(),
    }
}

async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match sock.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                for piece in response(&path).chunks(1500) {
                    if sock.write_all(piece).await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

fn runner() -> ScriptRunner {
    ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    })
}

async fn check_url(addr: SocketAddr, url: UrlSpec) -> CheckOutcome {
    let kind = CheckKind::Http(Box::new(HttpSpec {
        tls: false,
        urls: vec![url],
        protocol: HttpProtocol::Http10,
        virtualhost: None,
        enable_sni: false,
        client_auth: None,
    }));
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_secs(1));
    timing.connect_timeout = Duration::from_secs(5);
    let spec = Arc::new(CheckerSpec {
        kind,
        conn: ConnOpts::to(addr),
        timing: Arc::new(timing),
    });
    build(&spec, &runner()).check().await
}

fn digest_url(path: &str, digest: &str) -> UrlSpec {
    let mut u = UrlSpec::path(path);
    u.digest = Some(digest.into());
    u.status_codes = StatusCodes(vec![(200, 299), (404, 404)]);
    u
}

/// Captured with `genhash -s 127.0.0.1 -p PORT -u PATH` from Debian's
/// keepalived 2.2.7 package against the responses above.
const GOLDEN: &[(&str, &str)] = &[
    ("/cl", "5d41402abc4b2a76b9719d911017c592"),
    ("/close", "1d5bf473b9bc3c37f90808efde36f36b"),
    // Chunk framing included: md5 of the de-chunked body would be 8ebae103....
    ("/chunked", "4b8e6072486154d02dc3e6e119f1c658"),
    ("/404", "a571d969c8661fb0342afd08e571dfa0"),
];

#[tokio::test]
async fn digest_matches_golden_genhash_output() {
    let addr = server().await;
    for (path, digest) in GOLDEN {
        let out = check_url(addr, digest_url(path, digest)).await;
        assert!(out.is_up(), "{path}: {out:?}");
    }
}

/// The live comparison: keepalived's genhash and our checker agree on
/// every response, the big ones (several reads, several chunks) included.
#[tokio::test]
async fn digest_matches_live_genhash() {
    let genhash = std::path::Path::new("/usr/bin/genhash");
    if !genhash.exists() {
        let why = "/usr/bin/genhash (Debian package keepalived) is not installed";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let addr = server().await;
    for path in ["/cl", "/close", "/chunked", "/404", "/big", "/bigchunked"] {
        let port = addr.port().to_string();
        let out = tokio::process::Command::new(genhash)
            .args(["-s", "127.0.0.1", "-p", &port, "-u", path])
            .output()
            .await
            .unwrap();
        let digest = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(digest.len(), 32, "genhash {path}: {out:?}");
        let verdict = check_url(addr, digest_url(path, &digest)).await;
        assert!(
            verdict.is_up(),
            "{path}: genhash {digest}, ours {verdict:?}"
        );
    }
}

fn regex_url(
    path: &str,
    pattern: &str,
    no_match: bool,
    min: Option<u32>,
    max: Option<u32>,
) -> UrlSpec {
    let mut u = UrlSpec::path(path);
    u.regex = Some(Box::new(
        UrlRegex::new(pattern, no_match, min, max).expect("regex compiles"),
    ));
    u
}

#[tokio::test]
async fn regex_matches_across_reads_with_offsets() {
    let addr = server().await;
    let up = |o: &CheckOutcome| o.is_up();
    // Straddles keepalived's 4096-byte buffer boundary and our reads.
    assert!(up(&check_url(
        addr,
        regex_url("/big", "NEE+DLE", false, None, None)
    )
    .await));
    assert!(up(&check_url(
        addr,
        regex_url("/bigchunked", "NEEDLE", false, None, None)
    )
    .await));
    // regex_no_match inverts.
    match check_url(addr, regex_url("/big", "NEEDLE", true, None, None)).await {
        CheckOutcome::Down(CheckFailure::Regex { .. }) => {}
        o => panic!("{o:?}"),
    }
    assert!(up(&check_url(
        addr,
        regex_url("/big", "HAYSTACK", true, None, None)
    )
    .await));
    // Offsets count from the response's first byte when the head arrives
    // with body bytes (keepalived's buffer still holds the head): the match
    // starts at 19 (head) + 4093 = 4112.
    assert!(up(&check_url(
        addr,
        regex_url("/big", "NEEDLE", false, Some(4112), Some(4112))
    )
    .await));
    assert!(!up(&check_url(
        addr,
        regex_url("/big", "NEEDLE", false, Some(4113), None)
    )
    .await));
    assert!(!up(&check_url(
        addr,
        regex_url("/big", "NEEDLE", false, None, Some(4111))
    )
    .await));
    // The regex sees the body as received (chunk framing included), like keepalived.
    assert!(up(&check_url(
        addr,
        regex_url(
            "/chunked",
            "chunked\r\n\r\n4;ext=1\r\nWiki",
            false,
            None,
            None
        )
    )
    .await));
    // The head is matched too when it arrives with body bytes (keepalived).
    assert!(up(&check_url(
        addr,
        regex_url("/close", "^HTTP/1.0 200 OK\r\nServer: x", false, None, None)
    )
    .await));
}

#[test]
fn a_regex_that_does_not_compile_is_dropped_with_an_error_naming_the_keyword() {
    let conf = r#"
virtual_server 192.0.2.1 80 {
    protocol TCP
    real_server 198.51.100.1 80 {
        HTTP_GET {
            url {
                path /health
                regex "(unclosed"
            }
        }
    }
}
"#;
    let config = rkeepalived_config::parse_str(conf, "t.conf", &Default::default())
        .expect("parses")
        .config;
    let plan = rkeepalived_check::from_config(&config).expect("a bad regex never fails the plan");
    let spec = &plan.virtual_servers[0].real_servers[0].checkers[0];
    match &spec.kind {
        CheckKind::Http(h) => {
            assert_eq!(h.urls[0].path, "/health");
            assert!(h.urls[0].regex.is_none());
        }
        k => panic!("{k:?}"),
    }
    assert!(UrlRegex::new("(unclosed", false, None, None)
        .unwrap_err()
        .to_string()
        .contains("unclosed"));
}

/// `regex_stack START MAX` (check_http.c `regex_stack_handler()`): read and
/// validated with keepalived's messages, dropped without a `regex` (as
/// `url_end_handler()` does). Its purpose in keepalived, a PCRE2 JIT stack
/// big enough for patterns that backtrack deeply, has no counterpart: the
/// `regex` crate matches in linear time without a stack, so such a pattern
/// over a 200 KB body matches with or without `regex_stack`.
#[tokio::test]
async fn regex_stack_is_validated_and_no_pattern_runs_out_of_stack() {
    let url = |opts: &str, regex: bool| {
        let re = if regex { "regex \"(?:a|b)+c\"" } else { "" };
        format!(
            "virtual_server 192.0.2.1 80 {{\n  protocol TCP\n  lb_kind NAT\n  real_server 198.51.100.1 80 {{\n    HTTP_GET {{\n      url {{\n        path /ab\n        {re}\n        {opts}\n      }}\n    }}\n  }}\n}}\n"
        )
    };
    let load = |text: String| {
        let l =
            rkeepalived_config::parse_str(&text, "t.conf", &Default::default()).expect("parses");
        let stack = match &l.config.virtual_servers[0].real_servers[0].checkers[0].kind {
            rkeepalived_config::model::CheckerKind::Http(h) => h.urls[0].regex_stack,
            k => panic!("{k:?}"),
        };
        let warnings: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
        (stack, warnings, l.not_acted_on)
    };
    let (stack, warnings, not_acted) = load(url("regex_stack 65536 1048576", true));
    assert_eq!(stack, Some((65536, 1048576)));
    assert!(
        warnings.is_empty() && not_acted.is_empty(),
        "{warnings:?} {not_acted:?}"
    );
    for (opts, msg) in [
        (
            "regex_stack 65536",
            "t.conf:9:9: regex_stack requires start and max values",
        ),
        (
            "regex_stack 64k 1048576",
            "t.conf:9:9: regex_stack invalid start value",
        ),
        (
            "regex_stack 65536 1M",
            "t.conf:9:9: regex_stack invalid max value",
        ),
        (
            "regex_stack 2 1",
            "t.conf:9:9: regex stack start cannot exceed max value",
        ),
    ] {
        let (stack, warnings, _) = load(url(opts, true));
        assert_eq!(stack, None, "{opts}");
        assert_eq!(
            warnings,
            [format!("{msg}; ignoring this line (as keepalived does)")],
            "{opts}"
        );
    }
    // strtoul(): a '-' wraps (so a negative max is huge and valid).
    assert_eq!(load(url("regex_stack 1 -1", true)).0, Some((1, u64::MAX)));
    let (stack, warnings, _) = load(url("regex_stack 1 2", false));
    assert_eq!(stack, None);
    assert!(
        warnings.len() == 1 && warnings[0].contains("regex parameters specified without regex"),
        "{warnings:?}"
    );

    let addr = server().await;
    let out = check_url(addr, regex_url("/ab", "(?:a|b)+c", false, None, None)).await;
    assert!(out.is_up(), "{out:?}");
}

/// `rkeepalived -T` / `genhash`: the same stdout as keepalived's genhash,
/// verbose dumps included (but the response time), for every response.
#[tokio::test]
async fn genhash_mode_prints_what_genhash_prints() {
    use rkeepalived_check::genhash::{fetch, parse_args};
    let genhash = std::path::Path::new("/usr/bin/genhash");
    if !genhash.exists() {
        let why = "/usr/bin/genhash (Debian package keepalived) is not installed";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let addr = server().await;
    let port = addr.port().to_string();
    let no_time = |s: &[u8]| {
        String::from_utf8_lossy(s)
            .lines()
            .filter(|l| !l.starts_with("Global response time"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    for path in ["/cl", "/close", "/chunked", "/404"] {
        for verbose in [false, true] {
            let mut args = vec!["-s", "127.0.0.1", "-p", &port, "-u", path];
            if verbose {
                args.push("-v");
            }
            let theirs = tokio::process::Command::new(genhash)
                .args(&args)
                .output()
                .await
                .unwrap();
            let a = parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            let (mut out, mut err) = (Vec::new(), Vec::new());
            fetch(&a, &mut out, &mut err).await;
            assert_eq!(
                no_time(&out),
                no_time(&theirs.stdout),
                "{path} verbose={verbose}"
            );
            assert_eq!(err, theirs.stderr, "{path}");
        }
    }
    // A refused connection: same message, exit status 0 in both.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let args = ["-s", "127.0.0.1", "-p", &closed, "-u", "/"];
    let theirs = std::process::Command::new(genhash)
        .args(args)
        .output()
        .unwrap();
    let a = parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    fetch(&a, &mut out, &mut err).await;
    assert_eq!(out, theirs.stdout);
    assert!(theirs.status.success());
}
