//! VRRP advertisement codec (RFC 3768 §5, RFC 5798 §5).
