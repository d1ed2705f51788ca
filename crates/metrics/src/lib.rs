//! The one Prometheus text exposition writer (format 0.0.4) used by the
//! supervisor and both engines, so that their parts join into one valid
//! scrape: every family gets `# HELP` and `# TYPE` (only `counter`,
//! `gauge`, `histogram`: the classic format has no `info` or `stateset`),
//! label values and help texts are escaped, and there is no OpenMetrics
//! `# EOF` marker.
//!
//! Naming follows Prometheus practice: base units (`_seconds`, `_bytes`),
//! counters end in `_total`, information is a `_info` gauge of value 1.
//! Every metric is listed in METRICS.md at the repository root.

use std::fmt::{Display, Write as _};

/// `Content-Type` of the exposition this crate writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metric types of the classic text format that we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample value: integers are printed exactly (a u64 counter above 2^53
/// would lose digits as f64), floats in Prometheus' notation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i128::from(v))
            }
        }
    )*};
}
int_value!(u8, u16, u32, u64, i8, i16, i32, i64, bool);

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v as i128)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_nan() => f.write_str("NaN"),
            Value::Float(x) if x == f64::INFINITY => f.write_str("+Inf"),
            Value::Float(x) if x == f64::NEG_INFINITY => f.write_str("-Inf"),
            Value::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A label set, escaped once and reusable for many samples (a checker's
/// labels serve its result, runs and histogram lines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(String);

impl Labels {
    pub fn new() -> Labels {
        Labels(String::new())
    }

    /// Adds `key="value"`; `key` must be a valid label name (a constant).
    pub fn with(mut self, key: &str, value: impl Display) -> Labels {
        self.push(key, value);
        self
    }

    pub fn push(&mut self, key: &str, value: impl Display) {
        debug_assert!(valid_label_name(key), "bad label name {key:?}");
        if !self.0.is_empty() {
            self.0.push(',');
        }
        self.0.push_str(key);
        self.0.push_str("=\"");
        let start = self.0.len();
        let _ = write!(self.0, "{value}");
        if self.0[start..].contains(['\\', '"', '\n']) {
            let escaped = escape_label_value(&self.0[start..]);
            self.0.truncate(start);
            self.0.push_str(&escaped);
        }
        self.0.push('"');
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `\` → `\\`, `"` → `\"`, newline → `\n` (the text format's label value escapes).
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes one exposition. Call [`Writer::family`] once per metric family,
/// then its samples; families must not repeat (across the parts that are
/// joined into one scrape either).
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// `# HELP` and `# TYPE` lines of a family.
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) -> &mut Writer {
        debug_assert!(valid_metric_name(name), "bad metric name {name:?}");
        debug_assert!(
            kind != Kind::Counter || name.ends_with("_total"),
            "counter {name} must end in _total"
        );
        let _ = writeln!(
            self.out,
            "# HELP {name} {}\n# TYPE {name} {}",
            escape_help(help),
            kind.as_str()
        );
        self
    }

    /// One sample line: `name{labels} value`.
    pub fn sample(&mut self, name: &str, labels: &Labels, value: impl Into<Value>) -> &mut Writer {
        self.line(name, labels, None, value.into());
        self
    }

    /// A sample with one more label after `labels` (`result`, `reason`, `le`).
    pub fn sample_with(
        &mut self,
        name: &str,
        labels: &Labels,
        key: &str,
        value_of_key: impl Display,
        value: impl Into<Value>,
    ) -> &mut Writer {
        let extra = Labels::new().with(key, value_of_key);
        self.line(name, labels, Some(&extra), value.into());
        self
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, help: &str, kind: Kind, value: impl Into<Value>) {
        self.family(name, help, kind);
        self.sample(name, &Labels::new(), value);
    }

    /// The `_bucket` (cumulative, `+Inf` added), `_sum` and `_count`
    /// samples of one histogram series; `buckets` are (upper bound,
    /// cumulative count) in ascending order.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &Labels,
        buckets: impl IntoIterator<Item = (f64, u64)>,
        count: u64,
        sum: f64,
    ) {
        let bucket = format!("{name}_bucket");
        for (le, n) in buckets {
            self.sample_with(&bucket, labels, "le", Value::Float(le), n);
        }
        self.sample_with(&bucket, labels, "le", "+Inf", count);
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count);
    }

    fn line(&mut self, name: &str, labels: &Labels, extra: Option<&Labels>, value: Value) {
        self.out.push_str(name);
        let extra = extra.filter(|e| !e.is_empty());
        if !labels.is_empty() || extra.is_some() {
            self.out.push('{');
            self.out.push_str(&labels.0);
            if let Some(e) = extra {
                if !labels.is_empty() {
                    self.out.push(',');
                }
                self.out.push_str(&e.0);
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    pub fn as_str(&self) -> &str {
        &self.out
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Joins the parts written by several [`Writer`]s (the supervisor's and
/// each engine's) into one exposition, each part newline-terminated.
pub fn join<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim_end_matches('\n');
        if part.is_empty() {
            continue;
        }
        out.push_str(part);
        out.push('\n');
    }
    out
}

/// Structural check of an exposition (what a scraper needs to accept it):
/// every sample belongs to the family declared just before it, no family
/// is declared twice, names and label names are valid. Returns the first
/// problem. Used by tests; `promtool check metrics` is the full check.
pub fn check(text: &str) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    let mut current: Option<(String, Kind)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or(format!("line {n}: bad TYPE line"))?;
            let kind = match kind {
                "counter" => Kind::Counter,
                "gauge" => Kind::Gauge,
                "histogram" => Kind::Histogram,
                other => return Err(format!("line {n}: type {other:?} is not allowed")),
            };
            if !seen.insert(name.to_string()) {
                return Err(format!("line {n}: family {name} declared twice"));
            }
            current = Some((name.to_string(), kind));
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or(format!("line {n}: no value"))?;
        let name = &line[..name_end];
        if !valid_metric_name(name) {
            return Err(format!("line {n}: bad metric name {name:?}"));
        }
        let Some((family, kind)) = &current else {
            return Err(format!("line {n}: sample {name} before any TYPE"));
        };
        let ok = match kind {
            Kind::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.strip_suffix(s) == Some(family.as_str())),
            _ => name == family,
        };
        if !ok {
            return Err(format!(
                "line {n}: sample {name} outside its family ({family})"
            ));
        }
        let value = line.rsplit(' ').next().unwrap_or("");
        if !matches!(value, "NaN" | "+Inf" | "-Inf") && value.parse::<f64>().is_err() {
            return Err(format!("line {n}: bad value {value:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn families_samples_and_escapes() {
        let mut w = Writer::new();
        w.family("x_total", "Things.\nMore \\ help.", Kind::Counter);
        let l = Labels::new().with("a", "q\"\\\nz").with("b", 7);
        w.sample("x_total", &l, 3u64);
        w.sample_with("x_total", &l, "result", "ok", u64::MAX);
        w.single("y", "Y.", Kind::Gauge, 0.5);
        let text = w.finish();
        assert_eq!(
            text,
            "# HELP x_total Things.\\nMore \\\\ help.\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"\\\\\\nz\",b=\"7\"} 3\n\
             x_total{a=\"q\\\"\\\\\\nz\",b=\"7\",result=\"ok\"} 18446744073709551615\n\
             # HELP y Y.\n# TYPE y gauge\ny 0.5\n"
        );
        check(&text).expect("valid");
    }

    #[test]
    fn histogram_lines() {
        let mut w = Writer::new();
        w.family("d_seconds", "D.", Kind::Histogram);
        w.histogram(
            "d_seconds",
            &Labels::new().with("k", "v"),
            [(0.5, 1), (1.0, 2)],
            3,
            4.25,
        );
        let text = w.finish();
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"0.5\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("d_seconds_sum{k=\"v\"} 4.25\n"), "{text}");
        assert!(text.contains("d_seconds_count{k=\"v\"} 3\n"), "{text}");
        check(&text).expect("valid");
    }

    #[test]
    fn join_and_check_catch_duplicates() {
        let mut a = Writer::new();
        a.single("a", "A.", Kind::Gauge, 1);
        let a = a.finish();
        assert_eq!(
            join([a.as_str(), "", "b 2"]),
            "# HELP a A.\n# TYPE a gauge\na 1\nb 2\n"
        );
        assert!(check(&join([a.as_str(), a.as_str()])).is_err());
        assert!(check("# TYPE i info\ni 1\n").is_err());
        assert!(check("# TYPE c counter\nc_total 1\n").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(Value::from(f64::INFINITY).to_string(), "+Inf");
        assert_eq!(Value::from(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::from(1.0).to_string(), "1");
        assert_eq!(Value::from(true).to_string(), "1");
    }

    proptest! {
        #[test]
        fn any_label_value_stays_one_valid_line(v in ".*") {
            let mut w = Writer::new();
            w.family("m", "M.", Kind::Gauge);
            w.sample("m", &Labels::new().with("l", &v), 1);
            let text = w.finish();
            prop_assert_eq!(text.lines().count(), 3);
            prop_assert!(check(&text).is_ok());
        }
    }
}
