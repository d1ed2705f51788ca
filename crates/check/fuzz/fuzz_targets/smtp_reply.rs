#![no_main]
//! SMTP multi-line reply decoding.
use libfuzzer_sys::fuzz_target;
use rkeepalived_check::wire::smtp::ReplyParser;

fuzz_target!(|data: &[u8]| {
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
});
