//! Arbitrary bytes through the whole loader (lexer, tree, parser,
//! validation): must return Ok or a ConfigError, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkeepalived_config::{parse_str, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        config_id: Some("fuzz".to_string()),
    };
    let _ = parse_str(&text, "fuzz.conf", &opts);
});
