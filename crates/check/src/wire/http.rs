//! HTTP/1.x response decoding for HTTP_GET/SSL_GET: status line, headers,
//! and the body framed by Content-Length, chunked transfer-encoding, or
//! connection close. Body bytes are handed to a sink: decoded, or with
//! [`ResponseParser::raw_body`] as received, which is what keepalived's
//! digest (and genhash) and `regex` see.

/// Largest status line + headers we accept.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest chunk-size line / trailer line.
const MAX_LINE: usize = 1024;
/// Most bytes of one response we read (head, body and chunk framing).
///
/// keepalived reads until EOF and digests the body as it comes (check_http.c
/// `http_read_thread` / `http_process_response`), through a 4,096-byte
/// buffer (`MAX_BUFFER_LENGTH`), so an endless body keeps it reading and
/// hashing forever. A health page is small; 16 MiB leaves room for a
/// digested file yet ends an endless stream after a few ms of work.
pub const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpParseError {
    #[error("response head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("malformed status line")]
    BadStatusLine,
    #[error("malformed header line")]
    BadHeader,
    #[error("invalid Content-Length")]
    BadContentLength,
    #[error("malformed chunk")]
    BadChunk,
    #[error("connection closed before the response was complete")]
    Truncated,
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
}

/// Validated response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// `(major, minor)` from `HTTP/major.minor`.
    pub version: (u8, u8),
    pub status: u16,
    pub content_length: Option<u64>,
    pub chunked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// Reading the hex size line.
    Size(Vec<u8>),
    Data(u64),
    /// Expecting the CRLF after chunk data (count of bytes of it seen).
    DataEnd(u8),
    /// Reading trailer lines after the last chunk (current line).
    Trailer(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunk),
    UntilClose,
    Done,
}

/// Incremental response decoder.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    state: State,
    head_buf: Vec<u8>,
    head: Option<ResponseHead>,
    body_len: u64,
    /// Bytes fed so far (head, body and framing) and the most allowed.
    fed: u64,
    limit: u64,
    /// keepalived's body: a chunked body is not decoded (see [`Self::raw_body`]).
    raw: bool,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    pub fn new() -> Self {
        Self::with_limit(MAX_RESPONSE)
    }

    /// A parser that fails with [`HttpParseError::TooLarge`] once more than
    /// `limit` bytes of an incomplete response were fed (or a Content-Length
    /// announces more).
    pub fn with_limit(limit: u64) -> Self {
        Self {
            state: State::Head,
            head_buf: Vec::new(),
            head: None,
            body_len: 0,
            fed: 0,
            limit,
            raw: false,
        }
    }

    /// The body exactly as keepalived and genhash digest it and match
    /// `regex` against it (check_http.c `http_process_response`): every
    /// byte after the head up to Content-Length, else up to EOF, with
    /// `Transfer-Encoding: chunked` *not* decoded (the chunk sizes and
    /// CRLFs are part of the digest). keepalived reads no other header.
    pub fn raw_body(mut self) -> Self {
        self.raw = true;
        self
    }

    /// The head, once parsed.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.head.as_ref()
    }

    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Feed bytes read from the connection; body bytes go to `sink`.
    /// Bytes after a complete response are ignored.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), HttpParseError> {
        if self.state != State::Done {
            self.fed = self.fed.saturating_add(data.len() as u64);
            if self.fed > self.limit {
                return Err(HttpParseError::TooLarge(self.limit));
            }
        }
        while !data.is_empty() {
            match &mut self.state {
                State::Done => return Ok(()),
                State::Head => {
                    let already = self.head_buf.len();
                    self.head_buf.extend_from_slice(data);
                    // Search from a little before the old end so a CRLFCRLF split across reads is found.
                    let from = already.saturating_sub(3);
                    match find(&self.head_buf[from..], b"\r\n\r\n") {
                        Some(pos) => {
                            let end = from + pos + 4;
                            let head = parse_head(&self.head_buf[..end])?;
                            if (self.raw || !head.chunked)
                                && head
                                    .content_length
                                    .is_some_and(|n| n.saturating_add(end as u64) > self.limit)
                            {
                                return Err(HttpParseError::TooLarge(self.limit));
                            }
                            let consumed_from_data = end - already;
                            data = &data[consumed_from_data..];
                            self.state = if self.raw {
                                match head.content_length {
                                    Some(0) => State::Done,
                                    Some(n) => State::Length(n),
                                    None => State::UntilClose,
                                }
                            } else if head.chunked {
                                State::Chunked(Chunk::Size(Vec::new()))
                            } else if let Some(n) = head.content_length {
                                if n == 0 {
                                    State::Done
                                } else {
                                    State::Length(n)
                                }
                            } else if head.status == 204
                                || head.status == 304
                                || (100..200).contains(&head.status)
                            {
                                State::Done
                            } else {
                                State::UntilClose
                            };
                            self.head = Some(head);
                            self.head_buf = Vec::new();
                        }
                        None => {
                            if self.head_buf.len() > MAX_HEAD {
                                return Err(HttpParseError::HeadTooLarge);
                            }
                            return Ok(());
                        }
                    }
                }
                State::Length(remaining) => {
                    let take = (*remaining).min(data.len() as u64) as usize;
                    sink(&data[..take]);
                    self.body_len += take as u64;
                    *remaining -= take as u64;
                    data = &data[take..];
                    if *remaining == 0 {
                        self.state = State::Done;
                    }
                }
                State::UntilClose => {
                    sink(data);
                    self.body_len += data.len() as u64;
                    return Ok(());
                }
                State::Chunked(chunk) => match chunk {
                    Chunk::Size(line) => {
                        let (taken, complete) = take_line(data, line)?;
                        data = &data[taken..];
                        if complete {
                            let size = parse_chunk_size(line)?;
                            *chunk = if size == 0 {
                                Chunk::Trailer(Vec::new())
                            } else {
                                Chunk::Data(size)
                            };
                        }
                    }
                    Chunk::Data(remaining) => {
                        let take = (*remaining).min(data.len() as u64) as usize;
                        sink(&data[..take]);
                        self.body_len += take as u64;
                        *remaining -= take as u64;
                        data = &data[take..];
                        if *remaining == 0 {
                            *chunk = Chunk::DataEnd(0);
                        }
                    }
                    Chunk::DataEnd(seen) => {
                        let expected = b"\r\n"[*seen as usize];
                        if data[0] != expected {
                            return Err(HttpParseError::BadChunk);
                        }
                        data = &data[1..];
                        *seen += 1;
                        if *seen == 2 {
                            *chunk = Chunk::Size(Vec::new());
                        }
                    }
                    Chunk::Trailer(line) => {
                        let (taken, complete) = take_line(data, line)?;
                        data = &data[taken..];
                        if complete {
                            if line.is_empty() {
                                self.state = State::Done;
                            } else {
                                line.clear();
                            }
                        }
                    }
                },
            }
        }
        Ok(())
    }

    /// The peer closed the connection: complete if the framing allows it.
    pub fn finish(&mut self) -> Result<&ResponseHead, HttpParseError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                self.head.as_ref().ok_or(HttpParseError::Truncated)
            }
            _ => Err(HttpParseError::Truncated),
        }
    }
}

/// Accumulate one CRLF-terminated line into `line` (without the CRLF).
/// Returns (bytes consumed, line complete).
fn take_line(data: &[u8], line: &mut Vec<u8>) -> Result<(usize, bool), HttpParseError> {
    match data.iter().position(|&b| b == b'\n') {
        Some(pos) => {
            line.extend_from_slice(&data[..pos]);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.len() > MAX_LINE {
                return Err(HttpParseError::BadChunk);
            }
            Ok((pos + 1, true))
        }
        None => {
            line.extend_from_slice(data);
            if line.len() > MAX_LINE {
                return Err(HttpParseError::BadChunk);
            }
            Ok((data.len(), false))
        }
    }
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpParseError> {
    // Chunk extensions after ';' are ignored.
    let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
    let hex = std::str::from_utf8(hex)
        .map_err(|_| HttpParseError::BadChunk)?
        .trim();
    if hex.is_empty() || hex.len() > 15 {
        return Err(HttpParseError::BadChunk);
    }
    u64::from_str_radix(hex, 16).map_err(|_| HttpParseError::BadChunk)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse `HTTP/1.1 200 OK\r\nHeader: v\r\n...\r\n\r\n`.
pub fn parse_head(bytes: &[u8]) -> Result<ResponseHead, HttpParseError> {
    let text = std::str::from_utf8(bytes).map_err(|_| HttpParseError::BadHeader)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(HttpParseError::BadStatusLine)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts
        .next()
        .and_then(|v| v.strip_prefix("HTTP/"))
        .ok_or(HttpParseError::BadStatusLine)?;
    let version = match version.as_bytes() {
        [maj @ b'0'..=b'9', b'.', min @ b'0'..=b'9'] => (maj - b'0', min - b'0'),
        _ => return Err(HttpParseError::BadStatusLine),
    };
    let code = parts.next().ok_or(HttpParseError::BadStatusLine)?;
    if code.len() != 3 {
        return Err(HttpParseError::BadStatusLine);
    }
    let status: u16 = code.parse().map_err(|_| HttpParseError::BadStatusLine)?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(HttpParseError::BadHeader)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value
                .parse()
                .map_err(|_| HttpParseError::BadContentLength)?;
            if content_length.is_some_and(|old| old != n) {
                return Err(HttpParseError::BadContentLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    Ok(ResponseHead {
        version,
        status,
        content_length,
        chunked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]], eof: bool) -> Result<(ResponseHead, Vec<u8>), HttpParseError> {
        let mut p = ResponseParser::new();
        let mut body = Vec::new();
        for c in chunks {
            p.feed(c, &mut |b| body.extend_from_slice(b))?;
        }
        if eof {
            p.finish()?;
        }
        assert!(p.is_complete());
        Ok((p.head().cloned().unwrap(), body))
    }

    #[test]
    fn content_length_body() {
        let (h, body) = parse_all(
            &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello trailing"],
            false,
        )
        .unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.version, (1, 1));
        assert_eq!(body, b"hello");
    }

    #[test]
    fn until_close_split_everywhere() {
        let resp: &[u8] = b"HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\nbody bytes";
        for split in 0..resp.len() {
            let (h, body) = parse_all(&[&resp[..split], &resp[split..]], true).unwrap();
            assert_eq!(h.status, 404);
            assert_eq!(body, b"body bytes");
        }
    }

    #[test]
    fn chunked_body_is_decoded_with_any_split() {
        // RFC 9112 §7.1 example shape, with an extension and a trailer.
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n";
        for split in 0..resp.len() {
            let (_, body) = parse_all(&[&resp[..split], &resp[split..]], false).unwrap();
            assert_eq!(body, b"Wikipedia in \r\n\r\nchunks.");
        }
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(b"FTP/1.0 200 OK\r\n\r\n", &mut |_| {}),
            Err(HttpParseError::BadStatusLine)
        );
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(b"HTTP/1.1 2000 OK\r\n\r\n", &mut |_| {}),
            Err(HttpParseError::BadStatusLine)
        );
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", &mut |_| {}),
            Err(HttpParseError::BadContentLength)
        );
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                &mut |_| {}
            ),
            Err(HttpParseError::BadChunk)
        );
        let mut p = ResponseParser::new();
        p.feed(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(p.finish().unwrap_err(), HttpParseError::Truncated);
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(&vec![b'a'; MAX_HEAD + 10], &mut |_| {}),
            Err(HttpParseError::HeadTooLarge)
        );
    }

    #[test]
    fn responses_larger_than_the_limit_are_refused() {
        // An endless body (no Content-Length, until close) ends at the limit.
        let mut p = ResponseParser::with_limit(100);
        p.feed(b"HTTP/1.0 200 OK\r\n\r\n", &mut |_| {}).unwrap();
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = p.feed(b"0123456789", &mut |_| {}) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(HttpParseError::TooLarge(100)));
        // Chunk framing counts too: 1-byte chunks cost 6 bytes each.
        let mut p = ResponseParser::with_limit(100);
        p.feed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            &mut |_| {},
        )
        .unwrap();
        let mut body = 0;
        let r = (0..100).try_for_each(|_| p.feed(b"1\r\nx\r\n", &mut |b| body += b.len()));
        assert_eq!(r, Err(HttpParseError::TooLarge(100)));
        assert!(body < 20, "{body}");
        // A Content-Length beyond the limit fails at the head.
        let mut p = ResponseParser::with_limit(100);
        assert_eq!(
            p.feed(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
                &mut |_| {}
            ),
            Err(HttpParseError::TooLarge(100))
        );
        // Within the limit, and bytes after a complete response, are fine.
        let mut p = ResponseParser::with_limit(100);
        p.feed(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            &mut |_| {},
        )
        .unwrap();
        assert!(p.is_complete());
        p.feed(&[b'z'; 500], &mut |_| {}).unwrap();
    }

    #[test]
    fn raw_body_keeps_chunk_framing_and_honours_content_length() {
        let resp: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        for split in 0..resp.len() {
            let mut p = ResponseParser::new().raw_body();
            let mut body = Vec::new();
            p.feed(&resp[..split], &mut |b| body.extend_from_slice(b))
                .unwrap();
            p.feed(&resp[split..], &mut |b| body.extend_from_slice(b))
                .unwrap();
            assert!(!p.is_complete(), "chunked is read to EOF");
            p.finish().unwrap();
            assert_eq!(body, b"5\r\nhello\r\n0\r\n\r\n");
        }
        // keepalived reads Content-Length even beside chunked.
        let mut p = ResponseParser::new().raw_body();
        let mut body = Vec::new();
        p.feed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello",
            &mut |b| body.extend_from_slice(b),
        )
        .unwrap();
        assert!(p.is_complete());
        assert_eq!(body, b"5\r\n");
    }

    proptest::proptest! {
        #[test]
        fn raw_mode_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..6)) {
            let mut p = ResponseParser::new().raw_body();
            for c in &chunks {
                if p.feed(c, &mut |_| {}).is_err() { break; }
            }
            let _ = p.finish();
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..6)) {
            let mut p = ResponseParser::new();
            for c in &chunks {
                if p.feed(c, &mut |_| {}).is_err() { break; }
            }
            let _ = p.finish();
        }

        #[test]
        fn arbitrary_after_valid_head_never_panics(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut p = ResponseParser::new();
            let _ = p.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &mut |_| {});
            let _ = p.feed(&tail, &mut |_| {});
        }
    }
}
