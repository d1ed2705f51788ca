//! keepalived.conf-compatible configuration: lexer/parser, typed model,
//! diagnostics with file:line:col, and the control messages the supervisor
//! sends to the engine roles.

pub mod control;
pub mod model;

pub use control::Control;
pub use model::Config;
