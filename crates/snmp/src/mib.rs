//! An ordered snapshot of the served objects, and the AgentX Get / GetNext /
//! GetBulk elements of procedure over it (RFC 2741 §7.2.3).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::agentx::{SearchRange, Value, VarBind};
use crate::oid::Oid;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mib {
    objects: BTreeMap<Oid, Value>,
}

impl Mib {
    pub fn new() -> Mib {
        Mib::default()
    }

    pub fn insert(&mut self, oid: Oid, value: Value) {
        self.objects.insert(oid, value);
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Oid, &Value)> {
        self.objects.iter()
    }

    pub fn value(&self, oid: &Oid) -> Option<&Value> {
        self.objects.get(oid)
    }

    /// §7.2.3.1: Get. An object this snapshot lacks is noSuchObject when no
    /// object lives below its parent column, else noSuchInstance.
    pub fn get(&self, oid: &Oid) -> Value {
        if let Some(v) = self.objects.get(oid) {
            return v.clone();
        }
        let column = Oid(oid.0[..oid.0.len().saturating_sub(1)].to_vec());
        let has_column = self
            .objects
            .range((Bound::Excluded(&column), Bound::Unbounded))
            .next()
            .is_some_and(|(o, _)| o.starts_with(&column) && !column.is_null());
        if has_column {
            Value::NoSuchInstance
        } else {
            Value::NoSuchObject
        }
    }

    /// §7.2.3.2: GetNext within one search range: the first object after
    /// `start` (or at it, when `include`) and before `end` (if not empty).
    pub fn get_next(&self, range: &SearchRange) -> VarBind {
        let lower = if range.include {
            Bound::Included(&range.start)
        } else {
            Bound::Excluded(&range.start)
        };
        let found = self
            .objects
            .range((lower, Bound::Unbounded))
            .next()
            .filter(|(o, _)| range.end.is_null() || **o < range.end);
        match found {
            Some((o, v)) => VarBind {
                name: o.clone(),
                value: v.clone(),
            },
            None => VarBind {
                name: range.start.clone(),
                value: Value::EndOfMibView,
            },
        }
    }

    /// §7.2.3.3: GetBulk: the first `non_repeaters` ranges once, then up to
    /// `max_repetitions` rounds over the others, each round continuing from
    /// the previous answer. `limit` bounds the number of varbinds.
    pub fn get_bulk(
        &self,
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: &[SearchRange],
        limit: usize,
    ) -> Vec<VarBind> {
        let n = (non_repeaters as usize).min(ranges.len());
        let mut out: Vec<VarBind> = ranges[..n].iter().map(|r| self.get_next(r)).collect();
        let mut current: Vec<SearchRange> = ranges[n..].to_vec();
        if current.is_empty() {
            return out;
        }
        for _ in 0..max_repetitions {
            let mut all_end = true;
            for r in current.iter_mut() {
                if out.len() >= limit {
                    return out;
                }
                let vb = self.get_next(r);
                if vb.value != Value::EndOfMibView {
                    all_end = false;
                    r.start = vb.name.clone();
                    r.include = false;
                }
                out.push(vb);
            }
            if all_end {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oid(s: &str) -> Oid {
        s.parse().expect("oid")
    }

    fn sample() -> Mib {
        let mut m = Mib::new();
        m.insert(oid("1.3.6.1.4.1.9586.100.5.1.1.0"), Value::string("v"));
        m.insert(
            oid("1.3.6.1.4.1.9586.100.5.2.3.1.2.1"),
            Value::string("VI_1"),
        );
        m.insert(
            oid("1.3.6.1.4.1.9586.100.5.2.3.1.2.2"),
            Value::string("VI_2"),
        );
        m
    }

    #[test]
    fn get_distinguishes_missing_objects_and_instances() {
        let m = sample();
        assert_eq!(
            m.get(&oid("1.3.6.1.4.1.9586.100.5.1.1.0")),
            Value::string("v")
        );
        assert_eq!(
            m.get(&oid("1.3.6.1.4.1.9586.100.5.2.3.1.2.9")),
            Value::NoSuchInstance
        );
        assert_eq!(
            m.get(&oid("1.3.6.1.4.1.9586.100.5.9.9")),
            Value::NoSuchObject
        );
    }

    #[test]
    fn get_next_respects_include_and_end() {
        let m = sample();
        let r = |s: &str, include: bool, e: &str| SearchRange {
            start: oid(s),
            include,
            end: if e.is_empty() { Oid::default() } else { oid(e) },
        };
        assert_eq!(
            m.get_next(&r("1.3.6.1.4.1.9586.100.5.2.3.1.2.1", true, ""))
                .value,
            Value::string("VI_1")
        );
        assert_eq!(
            m.get_next(&r("1.3.6.1.4.1.9586.100.5.2.3.1.2.1", false, ""))
                .value,
            Value::string("VI_2")
        );
        assert_eq!(
            m.get_next(&r(
                "1.3.6.1.4.1.9586.100.5.1",
                false,
                "1.3.6.1.4.1.9586.100.5.2"
            ))
            .value,
            Value::string("v")
        );
        assert_eq!(
            m.get_next(&r(
                "1.3.6.1.4.1.9586.100.5.1.1.0",
                false,
                "1.3.6.1.4.1.9586.100.5.2"
            ))
            .value,
            Value::EndOfMibView
        );
    }

    #[test]
    fn get_bulk_walks_and_stops_at_the_end() {
        let m = sample();
        let vbs = m.get_bulk(
            0,
            10,
            &[SearchRange {
                start: oid("1.3.6.1.4.1.9586.100.5"),
                include: false,
                end: Oid::default(),
            }],
            100,
        );
        assert_eq!(vbs.len(), 4);
        assert_eq!(vbs[3].value, Value::EndOfMibView);
    }

    proptest! {
        /// Walking with GetNext visits every object once, in order.
        #[test]
        fn walk_visits_everything(oids in proptest::collection::btree_set(proptest::collection::vec(0u32..5, 1..6), 0..30)) {
            let mut m = Mib::new();
            for o in &oids {
                m.insert(Oid(o.clone()), Value::Integer(1));
            }
            let mut seen = Vec::new();
            let mut cur = SearchRange { start: Oid::default(), include: false, end: Oid::default() };
            loop {
                let vb = m.get_next(&cur);
                if vb.value == Value::EndOfMibView { break; }
                seen.push(vb.name.0.clone());
                cur.start = vb.name;
            }
            prop_assert_eq!(seen, oids.into_iter().collect::<Vec<_>>());
        }
    }
}
