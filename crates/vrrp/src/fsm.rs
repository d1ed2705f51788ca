//! VRRP state machine (RFC 5798 §6).
