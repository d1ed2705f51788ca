//! SMTP multi-line reply decoding.
use rkeepalived_check::wire::smtp::ReplyParser;

pub fn run(data: &[u8]) {
    let mut parser = ReplyParser::new();
    let mut rest = data;
    while !rest.is_empty() {
        match parser.feed(rest) {
            Ok((n, _)) if n > 0 && n <= rest.len() => rest = &rest[n..],
            Ok((n, _)) => {
                assert!(n <= rest.len());
                break;
            }
            Err(_) => break,
        }
    }
}
