//! Canonical keepalived.conf output.
use crate::model::Config;
pub fn print(_cfg: &Config) -> String {
    String::new()
}
