//! Whatever parses must print to text that parses back to the same Config.

use rkeepalived_config::{parse_str, print, LoadOptions};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        config_id: Some("fuzz".to_string()),
    };
    if let Ok(first) = parse_str(&text, "fuzz.conf", &opts) {
        let printed = print(&first.config);
        match parse_str(&printed, "printed.conf", &opts) {
            Ok(again) => assert_eq!(first.config, again.config, "\n{printed}"),
            Err(e) => panic!("printed config does not parse: {e}\n{printed}"),
        }
    }
}
