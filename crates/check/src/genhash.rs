//! keepalived's `genhash` (check_genhash.c): fetch one url and print the
//! MD5 digest that an HTTP_GET/SSL_GET `digest` line expects. Reached as
//! `rkeepalived -T ...` / `--genhash` or through a program named `genhash`
//! (a symlink), with genhash's options, output and exit codes, so existing
//! runbooks keep working.
//!
//! The digest is computed exactly as the checker computes it (the body as
//! received, chunk framing included: [`crate::wire::http::ResponseParser::raw_body`]).

use std::ffi::OsString;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::checkers::http::{build_request, hex};
use crate::conn::{tcp_connect_by, Deadline};
use crate::error::CheckFailure;
use crate::spec::{ConnOpts, HttpProtocol, SourceOpts};
use crate::wire::http::ResponseParser;

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenhashArgs {
    pub server: IpAddr,
    pub port: u16,
    pub url: String,
    pub ssl: bool,
    pub sni: bool,
    pub virtualhost: Option<String>,
    pub verbose: bool,
    pub fwmark: Option<u32>,
    pub protocol: HttpProtocol,
    /// None: wait forever (genhash's default).
    pub timeout: Option<Duration>,
}

/// genhash_usage(), byte for byte.
pub fn usage(prog: &str, am_genhash: bool) -> String {
    let genhash = if am_genhash { "" } else { " --genhash" };
    let mut u = format!(
        "Usage: {prog}{genhash} COMMAND [OPTIONS]\n\
         Commands:\n"
    );
    for l in [
        "   -s server-address -p port -u url",
        "   -S -s server-address -p port -u url",
        "   -h",
        "",
        "Options:",
        "Either long or short options are allowed.",
        "   --use-ssl         -S       Use SSL connection to remote server.",
        "   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).",
        "   --server          -s       Use the specified remote server address.",
        "   --port            -p       Use the specified remote server port.",
        "   --url             -u       Use the specified remote server url.",
        "   --use-virtualhost -V       Use the specified virtualhost in GET query.",
        "   --verbose         -v       Use verbose mode output.",
        "   --help            -h       Display this short inlined help screen.",
        "   --fwmark          -m       Use the specified FW mark.",
        "   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.",
        "                                1.0c means 1.0 with 'Connection: close'",
        "   --timeout         -t       Timeout in seconds",
    ] {
        u.push_str(l);
        u.push('\n');
    }
    u
}

const LONG: &[(&str, char, bool)] = &[
    ("help", 'h', false),
    ("verbose", 'v', false),
    ("use-ssl", 'S', false),
    ("use-sni", 'I', false),
    ("server", 's', true),
    ("use-virtualhost", 'V', true),
    ("port", 'p', true),
    ("url", 'u', true),
    ("fwmark", 'm', true),
    ("protocol", 'P', true),
    ("timeout", 't', true),
];

/// C `strtoul(s, &end, 10)` with keepalived's checks: leading blanks,
/// no sign, digits to the end.
fn parse_unsigned(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t']);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(t.parse::<u64>().unwrap_or(u64::MAX))
}

/// check_genhash_parse_cmdline(): `Err(messages)` means print the
/// messages (if any), then the usage, and exit 1.
pub fn parse_args(args: &[String]) -> Result<GenhashArgs, String> {
    let mut msgs = String::new();
    let mut bad = false;
    let (mut server, mut port, mut url) = (None, None, None);
    let mut a = GenhashArgs {
        server: IpAddr::from([0, 0, 0, 0]),
        port: 0,
        url: String::new(),
        ssl: false,
        sni: false,
        virtualhost: None,
        verbose: false,
        fwmark: None,
        protocol: HttpProtocol::Http10,
        timeout: None,
    };
    // Trivial sanity check (argc <= 2 with the program name).
    if args.len() <= 1 {
        return Err(msgs);
    }
    let mut opts: Vec<(char, Option<String>, String)> = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            rest.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(&(lname, c, needs)) = LONG.iter().find(|(n, _, _)| *n == name).or_else(|| {
                // getopt_long accepts unambiguous prefixes.
                let m: Vec<_> = LONG
                    .iter()
                    .filter(|(n, _, _)| n.starts_with(name))
                    .collect();
                (m.len() == 1 && !name.is_empty()).then(|| m[0])
            }) else {
                msgs.push_str(&format!("Unknown option {arg}\n"));
                bad = true;
                continue;
            };
            let value = if needs {
                match inline.or_else(|| {
                    let v = args.get(i).cloned();
                    i += usize::from(v.is_some());
                    v
                }) {
                    Some(v) => Some(v),
                    None => {
                        msgs.push_str(&format!("Missing parameter for option --{lname}\n"));
                        bad = true;
                        continue;
                    }
                }
            } else {
                None
            };
            opts.push((c, value, arg.clone()));
        } else if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                match LONG.iter().find(|(_, s, _)| *s == c) {
                    None => {
                        msgs.push_str(&format!("Unknown option -{c}\n"));
                        bad = true;
                    }
                    Some(&(_, _, false)) => opts.push((c, None, arg.clone())),
                    Some(&(_, _, true)) => {
                        let value: String = chars[j..].iter().collect();
                        j = chars.len();
                        let value = if value.is_empty() {
                            let v = args.get(i).cloned();
                            i += usize::from(v.is_some());
                            v
                        } else {
                            Some(value)
                        };
                        match value {
                            Some(v) => opts.push((c, Some(v), arg.clone())),
                            None => {
                                msgs.push_str(&format!("Missing parameter for option -{c}\n"));
                                bad = true;
                            }
                        }
                    }
                }
            }
        } else {
            // getopt permutes: operands are collected and reported at the end.
            rest.push(arg.clone());
        }
    }
    for (c, v, _) in opts {
        let v = v.unwrap_or_default();
        match c {
            'h' => bad = true,
            'v' => a.verbose = true,
            'S' => a.ssl = true,
            'I' => a.sni = true,
            's' => match v.parse::<IpAddr>() {
                Ok(ip) => server = Some(ip),
                Err(_) => return Err(format!("{msgs}server should be an IP, not {v}\n")),
            },
            'V' => a.virtualhost = Some(v),
            'p' => match v.parse::<i64>() {
                Ok(n) if (1..=65535).contains(&n) => port = Some(n as u16),
                _ => return Err(format!("{msgs}invalid port number '{v}'\n")),
            },
            'u' => url = Some(v),
            'm' => match parse_unsigned(&v) {
                Some(n) => a.fwmark = Some(n as u32),
                None => return Err(format!("{msgs}invalid fwmark '{v}'\n")),
            },
            'P' => {
                a.protocol = match v.as_str() {
                    "1.0" => HttpProtocol::Http10,
                    "1.0c" | "1.0C" => HttpProtocol::Http10Close,
                    "1.1" => HttpProtocol::Http11,
                    _ => return Err(format!("{msgs}invalid HTTP protocol version '{v}'\n")),
                }
            }
            't' => match parse_unsigned(&v) {
                Some(n) => a.timeout = Some(Duration::from_secs(u64::from(n as u32))),
                None => return Err(format!("{msgs}invalid timeout '{v}'\n")),
            },
            _ => bad = true,
        }
    }
    if bad {
        return Err(msgs);
    }
    if !rest.is_empty() {
        return Err(format!(
            "{msgs}Unexpected argument(s): {}\n",
            rest.join(" ")
        ));
    }
    match (server, port, url) {
        (Some(s), Some(p), Some(u)) => {
            a.server = s;
            a.port = p;
            a.url = u;
            Ok(a)
        }
        _ => Err(msgs),
    }
}

/// lib/utils.c `dump_buffer(buf, len, fp, 0)`.
pub fn dump_buffer(buf: &[u8]) -> String {
    let mut out = String::new();
    let padded = buf.len().div_ceil(16) * 16;
    for i in 0..padded {
        if i % 16 == 0 {
            out.push_str(&format!("{:04} ", i & 0xffff));
        }
        match buf.get(i) {
            Some(b) => out.push_str(&format!(" {b:02x}")),
            None => out.push_str("   "),
        }
        if (i + 1) % 8 == 0 {
            if (i + 1) % 16 != 0 {
                out.push_str(" -");
            } else {
                out.push_str("   ");
                for j in i - 15..=i {
                    out.push(match buf.get(j) {
                        Some(&b) if (0x20..=0x7e).contains(&b) => b as char,
                        Some(_) => '.',
                        None => ' ',
                    });
                }
                out.push('\n');
            }
        }
    }
    out
}

fn delim(title: &str) -> String {
    format!("-----------------------[{title}]-----------------------\n")
}

/// Fetch the url and write genhash's output to `out` (stdout) and `err`
/// (stderr). genhash exits 0 once the command line was valid, whatever
/// happened to the request; so does this.
pub async fn fetch(a: &GenhashArgs, out: &mut dyn Write, err: &mut dyn Write) {
    let deadline = Deadline::after(
        a.timeout
            .unwrap_or(Duration::from_secs(u64::from(u32::MAX))),
    );
    let dst = SocketAddr::new(a.server, a.port);
    let conn = ConnOpts::with_source(
        dst,
        SourceOpts {
            fwmark: a.fwmark,
            ..SourceOpts::default()
        },
    );
    let stream = match tcp_connect_by(&conn, deadline).await {
        Ok(s) => s,
        Err(CheckFailure::Timeout(_)) => return line(out, "Timeout connecting"),
        Err(_) => return line(out, "Connection failed"),
    };
    let request = build_request(&a.url, a.virtualhost.as_deref(), dst, a.ssl, a.protocol);
    if !a.ssl {
        return exchange(stream, &request, a, deadline, out, err).await;
    }
    let connector = match crate::tls::no_verify_client_config() {
        Ok(c) => tokio_rustls::TlsConnector::from(Arc::new(c)),
        Err(_) => {
            let _ = err.write_all(b"Cannot initialize SSL context.\n");
            return;
        }
    };
    let name = crate::tls::server_name(
        a.sni.then_some(a.virtualhost.as_deref()).flatten(),
        a.server,
    );
    match deadline
        .run("TLS handshake", async {
            connector
                .connect(name, stream)
                .await
                .map_err(CheckFailure::Tls)
        })
        .await
    {
        Ok(tls) => exchange(tls, &request, a, deadline, out, err).await,
        Err(CheckFailure::Timeout(_)) => line(out, "Timeout connecting"),
        Err(_) => line(out, "SSL handshake/communication error connecting to"),
    }
}

fn line(out: &mut dyn Write, msg: &str) {
    let _ = writeln!(out, "{msg}");
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    a: &GenhashArgs,
    deadline: Deadline,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let started = Instant::now();
    if deadline
        .run("HTTP request", async {
            stream.write_all(request).await.map_err(CheckFailure::Io)
        })
        .await
        .is_err()
    {
        return line(out, "Cannot send get request to");
    }
    let mut parser = ResponseParser::new().raw_body();
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut head_shown = false;
    // The bytes read until the head is complete (verbose dump only).
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = deadline
            .run("HTTP response", async {
                match stream.read(&mut buf).await {
                    Ok(n) => Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                    Err(e) => Err(CheckFailure::Io(e)),
                }
            })
            .await;
        let n = match n {
            Ok(n) => n,
            Err(CheckFailure::Timeout(_)) => return line(out, "Timeout HTTP read"),
            Err(_) => return line(out, "Read error with"),
        };
        if n == 0 {
            break;
        }
        let data = &buf[..n];
        let had_head = parser.head().is_some();
        let mut body_parts: Vec<Vec<u8>> = Vec::new();
        if parser
            .feed(data, &mut |b| {
                md5.update(b);
                if a.verbose {
                    body_parts.push(b.to_vec());
                }
            })
            .is_err()
        {
            // keepalived parses no more than the head; anything it would not
            // digest ends the read here.
            break;
        }
        if a.verbose {
            if !had_head && !head_shown {
                let _ = out.write_all(delim("    HTTP Header Buffer    ").as_bytes());
            }
            if !had_head {
                pending.extend_from_slice(data);
            }
            if !had_head && parser.head().is_some() {
                head_shown = true;
                let body_len: usize = body_parts.iter().map(Vec::len).sum();
                let end = pending
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(pending.len(), |p| p + 4);
                let head = &pending[..end];
                let _ = out.write_all(dump_buffer(head).as_bytes());
                let _ = out.write_all(delim(" HTTP Header Ascii Buffer ").as_bytes());
                let _ = out.write_all(head);
                let _ = out.write_all(b"\n");
                if body_len > 0 {
                    let _ = out.write_all(delim("        HTML Buffer        ").as_bytes());
                }
            }
            for part in &body_parts {
                let _ = out.write_all(dump_buffer(part).as_bytes());
            }
        }
        if parser.is_complete() {
            break;
        }
    }
    if parser.head().is_none() {
        let _ = err.write_all(b"no data received from remote webserver\n");
        return;
    }
    let digest = md5.finalize();
    if a.verbose {
        let _ = out.write_all(b"\n");
        let _ = out.write_all(delim("    HTML hash resulting    ").as_bytes());
        let _ = out.write_all(dump_buffer(&digest).as_bytes());
        let _ = out.write_all(delim(" HTML hash final resulting ").as_bytes());
    }
    line(out, &hex(&digest));
    if a.verbose {
        let _ = write!(
            out,
            "\nGlobal response time for [{}] = {} usecs\n",
            a.url,
            started.elapsed().as_micros()
        );
    }
}

/// Is this invocation genhash? Either the program is named `genhash`, or
/// an option is `-T` / `--genhash` (keepalived main.c: it should be the
/// first option; options before it are ignored with a warning). Returns
/// the genhash arguments (program first) and whether the program is named
/// genhash.
pub fn genhash_invocation(argv: &[OsString]) -> Option<(Vec<String>, bool)> {
    let prog = argv.first()?.to_string_lossy().into_owned();
    let base = std::path::Path::new(&prog)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if base == "genhash" || base == "rkeepalived-genhash" {
        return Some((std::iter::once(prog).chain(args).collect(), true));
    }
    let at = args
        .iter()
        .take_while(|a| a.as_str() != "--")
        .position(|a| a == "-T" || a == "--genhash")?;
    if at > 0 {
        eprintln!(
            "Warning -- `{}` not used as first option, previous options ignored",
            args[at]
        );
    }
    Some((
        std::iter::once(prog)
            .chain(args.into_iter().skip(at + 1))
            .collect(),
        false,
    ))
}

/// Run genhash: parse, fetch, print. Exit status 1 on a bad command line,
/// else 0 (as genhash).
pub fn main(args: Vec<String>, am_genhash: bool) -> u8 {
    let prog = args.first().cloned().unwrap_or_else(|| "genhash".into());
    let parsed = parse_args(&args[1.min(args.len())..]);
    let a = match parsed {
        Ok(a) => a,
        Err(msgs) => {
            eprint!("{msgs}{}", usage(&prog, am_genhash));
            return 1;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    rt.block_on(fetch(&a, &mut out, &mut err));
    let _ = out.flush();
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_line_like_genhash() {
        let a = parse_args(&args("-s 192.0.2.1 -p 80 -u /x")).unwrap();
        assert_eq!(
            (a.server.to_string(), a.port, a.url.as_str()),
            ("192.0.2.1".into(), 80, "/x")
        );
        let a = parse_args(&args(
            "-vS -s192.0.2.1 --port=443 --url /y -V www -I -P 1.0c -t 3 -m 7",
        ))
        .unwrap();
        assert!(a.verbose && a.ssl && a.sni);
        assert_eq!(a.protocol, HttpProtocol::Http10Close);
        assert_eq!(a.timeout, Some(Duration::from_secs(3)));
        assert_eq!(a.fwmark, Some(7));
        assert_eq!(a.virtualhost.as_deref(), Some("www"));
        assert_eq!(parse_args(&args("-s 192.0.2.1 -p 80")), Err(String::new()));
        assert_eq!(
            parse_args(&args("-s localhost -p 80 -u /")),
            Err("server should be an IP, not localhost\n".into())
        );
        assert_eq!(
            parse_args(&args("-s 192.0.2.1 -p 0 -u /")),
            Err("invalid port number '0'\n".into())
        );
        assert_eq!(
            parse_args(&args("-s 192.0.2.1 -p 80 -u / extra")),
            Err("Unexpected argument(s): extra\n".into())
        );
        assert_eq!(
            parse_args(&args("-x -s 192.0.2.1 -p 80 -u /")),
            Err("Unknown option -x\n".into())
        );
    }

    #[test]
    fn dump_buffer_like_keepalived() {
        assert_eq!(
            dump_buffer(b"hello"),
            "0000  68 65 6c 6c 6f          -                           hello           \n"
        );
    }

    #[test]
    fn invocation_by_name_or_first_option() {
        let v = |s: &str| s.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            genhash_invocation(&v("/usr/bin/genhash -s 1")),
            Some((args("/usr/bin/genhash -s 1"), true))
        );
        assert_eq!(
            genhash_invocation(&v("rkeepalived -T -s 1")),
            Some((args("rkeepalived -s 1"), false))
        );
        assert_eq!(
            genhash_invocation(&v("rkeepalived -n -T -s 1")),
            Some((args("rkeepalived -s 1"), false))
        );
        assert_eq!(genhash_invocation(&v("rkeepalived -n -l")), None);
    }
}
