//! The /metrics HTTP request-line parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((method, path)) = rkeepalived::metrics::parse_request_head(data) {
        assert!(!method.is_empty());
        assert!(path.starts_with('/'));
    }
});
