//! The metrics endpoint's HTTP request-head parser never panics.

pub fn run(data: &[u8]) {
    if let Ok(head) = rkeepalived::metrics_http::parse_request_head(data) {
        assert!(!head.method.is_empty());
        assert!(head.path.starts_with('/'));
    }
}
