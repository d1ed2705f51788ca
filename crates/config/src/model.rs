//! The typed configuration model (filled in by the parser work).

use serde::{Deserialize, Serialize};

/// A whole, validated keepalived.conf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {}
