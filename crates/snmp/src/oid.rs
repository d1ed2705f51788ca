//! Object identifiers, ordered as SNMP orders them (lexicographically by
//! sub-identifier).

use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    pub fn new(subids: &[u32]) -> Oid {
        Oid(subids.to_vec())
    }

    /// This OID with `more` appended.
    pub fn child(&self, more: &[u32]) -> Oid {
        let mut v = self.0.clone();
        v.extend_from_slice(more);
        Oid(v)
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub fn is_null(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.0 {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Oid {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Oid, Self::Err> {
        let s = s.trim_start_matches('.');
        if s.is_empty() {
            return Ok(Oid::default());
        }
        s.split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_snmp_order() {
        let a: Oid = "1.3.6.1.4".parse().unwrap();
        let b: Oid = "1.3.6.1.4.1".parse().unwrap();
        let c: Oid = "1.3.6.1.10".parse().unwrap();
        assert!(a < b && b < c);
        assert_eq!(b.to_string(), ".1.3.6.1.4.1");
    }
}
