//! The metrics endpoint's HTTP request-head parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(head) = rkeepalived::metrics_http::parse_request_head(data) {
        assert!(!head.method.is_empty());
        assert!(head.path.starts_with('/'));
    }
});
