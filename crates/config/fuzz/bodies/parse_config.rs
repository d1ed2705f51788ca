//! Arbitrary bytes through the whole loader (lexer, tree, parser,
//! validation): must return Ok or a ConfigError, never panic or hang.

use rkeepalived_config::{parse_str, LoadOptions};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        config_id: Some("fuzz".to_string()),
    };
    let _ = parse_str(&text, "fuzz.conf", &opts);
}
