//! HTTP response decoder: arbitrary bytes fed in arbitrary splits.
use rkeepalived_check::wire::http::ResponseParser;

pub fn run(data: &[u8]) {
    // First byte picks the split points so chunk boundaries are explored too.
    let (step, body) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).max(1), rest),
        None => return,
    };
    let mut parser = ResponseParser::new();
    let mut total = 0u64;
    for chunk in body.chunks(step) {
        if parser
            .feed(chunk, &mut |b| total += b.len() as u64)
            .is_err()
        {
            return;
        }
    }
    let _ = parser.finish();
    assert_eq!(total, parser.body_len());
}
