//! SMTP reply decoding (RFC 5321 §4.2): `NNN-text` continues a multi-line
//! reply, `NNN text` (or bare `NNN`) ends it.

/// Longest reply line we accept (RFC 5321 §4.5.3.1.5 says 512).
pub const MAX_LINE: usize = 4096;
/// Most lines in one multi-line reply.
const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpParseError {
    #[error("reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("malformed reply line")]
    BadLine,
    #[error("reply code changed inside a multi-line reply")]
    InconsistentCode,
    #[error("too many lines in one reply")]
    TooManyLines,
}

/// Incremental reply reader.
#[derive(Debug, Default, Clone)]
pub struct ReplyParser {
    line: Vec<u8>,
    code: Option<u16>,
    lines: usize,
}

impl ReplyParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes; returns `(consumed, Some(code))` once a full reply was read.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<u16>), SmtpParseError> {
        let mut consumed = 0;
        while consumed < data.len() {
            let rest = &data[consumed..];
            match rest.iter().position(|&b| b == b'\n') {
                None => {
                    self.line.extend_from_slice(rest);
                    if self.line.len() > MAX_LINE {
                        return Err(SmtpParseError::LineTooLong);
                    }
                    return Ok((data.len(), None));
                }
                Some(pos) => {
                    self.line.extend_from_slice(&rest[..pos]);
                    consumed += pos + 1;
                    if self.line.len() > MAX_LINE {
                        return Err(SmtpParseError::LineTooLong);
                    }
                    if let Some(code) = self.finish_line()? {
                        return Ok((consumed, Some(code)));
                    }
                }
            }
        }
        Ok((consumed, None))
    }

    fn finish_line(&mut self) -> Result<Option<u16>, SmtpParseError> {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.lines += 1;
        if self.lines > MAX_LINES {
            return Err(SmtpParseError::TooManyLines);
        }
        let (code, last) = match line.as_slice() {
            [a, b, c] => (digits(*a, *b, *c)?, true),
            [a, b, c, b' ', ..] => (digits(*a, *b, *c)?, true),
            [a, b, c, b'-', ..] => (digits(*a, *b, *c)?, false),
            _ => return Err(SmtpParseError::BadLine),
        };
        if self.code.is_some_and(|c| c != code) {
            return Err(SmtpParseError::InconsistentCode);
        }
        if last {
            self.code = None;
            self.lines = 0;
            Ok(Some(code))
        } else {
            self.code = Some(code);
            Ok(None)
        }
    }
}

fn digits(a: u8, b: u8, c: u8) -> Result<u16, SmtpParseError> {
    if !(b'2'..=b'5').contains(&a) || !b.is_ascii_digit() || !c.is_ascii_digit() {
        return Err(SmtpParseError::BadLine);
    }
    Ok(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line() {
        let mut p = ReplyParser::new();
        assert_eq!(
            p.feed(b"220 mail.example ESMTP\r\n").unwrap(),
            (24, Some(220))
        );
        let multi = b"250-mail.example\r\n250-PIPELINING\r\n250 HELP\r\n";
        for split in 0..multi.len() {
            let mut p = ReplyParser::new();
            let (n, code) = p.feed(&multi[..split]).unwrap();
            let result = if code.is_some() {
                code
            } else {
                p.feed(&multi[n.min(split)..]).unwrap().1
            };
            assert_eq!(result, Some(250), "split {split}");
        }
        assert_eq!(ReplyParser::new().feed(b"250\r\n").unwrap().1, Some(250));
    }

    #[test]
    fn errors() {
        assert_eq!(
            ReplyParser::new().feed(b"hello\r\n"),
            Err(SmtpParseError::BadLine)
        );
        assert_eq!(
            ReplyParser::new().feed(b"250-a\r\n251 b\r\n"),
            Err(SmtpParseError::InconsistentCode)
        );
        assert_eq!(
            ReplyParser::new().feed(&vec![b'2'; MAX_LINE + 2]),
            Err(SmtpParseError::LineTooLong)
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut p = ReplyParser::new();
            let mut data = &bytes[..];
            while let Ok((n, _)) = p.feed(data) {
                if n == 0 || n >= data.len() { break; }
                data = &data[n..];
            }
        }
    }
}
