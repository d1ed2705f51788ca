//! The metrics endpoint's exporter-toolkit web config (YAML read from disk):
//! any text loads to a config or a typed error, never a panic. The file sits
//! in a directory that does not exist, so relative certificate paths fail.

use std::path::Path;

use rkeepalived::web_config::WebConfig;

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(cfg) = WebConfig::parse(Path::new("/nonexistent-fuzz-dir/web.yml"), &text) {
        // Without users every request passes, and no bcrypt round runs.
        if !cfg.requires_auth() {
            assert!(cfg.authorized(None));
        }
    }
}
