//! Splitting a keepalived script string into argv.
//!
//! keepalived 2.x execs scripts directly (no shell) after splitting the
//! configured string into words: whitespace separates words, `'...'` is
//! literal, `"..."` allows `\` escapes, and `\` escapes the next character
//! outside quotes.

use crate::error::CommandLineError;

/// Split `line` into words. Returns an error on unbalanced quotes, a trailing
/// backslash, a NUL byte, or an empty result.
pub fn parse_command_line(line: &str) -> Result<Vec<String>, CommandLineError> {
    if line.contains('\0') {
        return Err(CommandLineError::NulByte);
    }
    let mut words = Vec::new();
    let mut current = String::new();
    // Whether `current` is a started word (so `''` yields an empty argument).
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => current.push(q),
                        None => return Err(CommandLineError::UnterminatedQuote { quote: '\'' }),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => current.push(e),
                            None => return Err(CommandLineError::UnterminatedQuote { quote: '"' }),
                        },
                        Some(q) => current.push(q),
                        None => return Err(CommandLineError::UnterminatedQuote { quote: '"' }),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => current.push(e),
                    None => return Err(CommandLineError::TrailingBackslash),
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    if words.is_empty() {
        return Err(CommandLineError::Empty);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        parse_command_line(s).expect("valid command line")
    }

    #[test]
    fn plain_words() {
        assert_eq!(split("/bin/check  a\tb "), ["/bin/check", "a", "b"]);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            split(r#"/x 'a b' "c \"d\"" e\ f ''"#),
            ["/x", "a b", "c \"d\"", "e f", ""]
        );
        assert_eq!(split(r#"/x pre'mid'post"#), ["/x", "premidpost"]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_command_line("   "), Err(CommandLineError::Empty));
        assert_eq!(
            parse_command_line("/x 'a"),
            Err(CommandLineError::UnterminatedQuote { quote: '\'' })
        );
        assert_eq!(
            parse_command_line("/x \"a"),
            Err(CommandLineError::UnterminatedQuote { quote: '"' })
        );
        assert_eq!(
            parse_command_line("/x a\\"),
            Err(CommandLineError::TrailingBackslash)
        );
        assert_eq!(parse_command_line("/x\0"), Err(CommandLineError::NulByte));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in ".*") {
            let _ = parse_command_line(&s);
        }

        #[test]
        fn simple_words_round_trip(words in proptest::collection::vec("[a-zA-Z0-9/._-]{1,12}", 1..6)) {
            proptest::prop_assert_eq!(parse_command_line(&words.join(" ")).unwrap(), words);
        }
    }
}
