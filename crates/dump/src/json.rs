//! keepalived's `json_writer` (lib/json_writer.c, from iproute2) in its
//! non-pretty mode, byte for byte: no whitespace, `/` escaped as `\/`, and
//! its quirk of writing a backslash as `\n`. Exporters parse the file
//! keepalived writes with it, so ours writes the same bytes.

use crate::cfmt;

/// A compact JSON writer with keepalived's escaping.
#[derive(Debug, Default)]
pub struct JsonWriter {
    out: String,
    /// A value was written at this level: the next one needs a comma.
    sep: bool,
}

impl JsonWriter {
    pub fn new() -> Self {
        Self::default()
    }

    fn eor(&mut self) {
        if self.sep {
            self.out.push(',');
        }
    }

    fn puts(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\u{c}' => self.out.push_str("\\f"),
                '\u{8}' => self.out.push_str("\\b"),
                // sic: json_writer.c writes a backslash as "\n".
                '\\' => self.out.push_str("\\n"),
                '"' => self.out.push_str("\\\""),
                '/' => self.out.push_str("\\/"),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn raw(&mut self, v: &str) {
        self.eor();
        self.out.push_str(v);
        self.sep = true;
    }

    pub fn start_object(&mut self) {
        self.eor();
        self.out.push('{');
        self.sep = false;
    }

    pub fn end_object(&mut self) {
        self.out.push('}');
        self.sep = true;
    }

    pub fn start_array(&mut self) {
        self.eor();
        self.out.push('[');
        self.sep = false;
    }

    pub fn end_array(&mut self) {
        self.out.push(']');
        self.sep = true;
    }

    pub fn name(&mut self, name: &str) {
        self.eor();
        self.puts(name);
        self.out.push(':');
        self.sep = false;
    }

    pub fn string(&mut self, v: &str) {
        self.eor();
        self.puts(v);
        self.sep = true;
    }

    pub fn uint(&mut self, v: u64) {
        self.raw(&v.to_string());
    }

    pub fn bool(&mut self, v: bool) {
        self.raw(if v { "true" } else { "false" });
    }

    /// `jsonw_float`: `%g`.
    pub fn float(&mut self, v: f64) {
        self.raw(&cfmt::g(v));
    }

    /// `jsonw_float_fmt(wr, "%f", v)`.
    pub fn float_f(&mut self, v: f64) {
        self.raw(&cfmt::f(v));
    }

    pub fn string_field(&mut self, name: &str, v: &str) {
        self.name(name);
        self.string(v);
    }

    pub fn uint_field(&mut self, name: &str, v: u64) {
        self.name(name);
        self.uint(v);
    }

    pub fn bool_field(&mut self, name: &str, v: bool) {
        self.name(name);
        self.bool(v);
    }

    pub fn float_field(&mut self, name: &str, v: f64) {
        self.name(name);
        self.float(v);
    }

    /// `jsonw_destroy`: the document and its final newline.
    pub fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_jsonw() {
        let mut w = JsonWriter::new();
        w.start_array();
        for i in 0..2 {
            w.start_object();
            w.name("data");
            w.start_object();
            w.string_field("iname", "VI_1");
            w.uint_field("vrid", 51 + i);
            w.float_field("adver_int", 1.0);
            w.name("vips");
            w.start_array();
            w.string("192.0.2.1/24 dev eth0");
            w.string("a\\b\"c");
            w.end_array();
            w.end_object();
            w.end_object();
        }
        w.end_array();
        assert_eq!(
            w.finish(),
            "[{\"data\":{\"iname\":\"VI_1\",\"vrid\":51,\"adver_int\":1,\"vips\":[\"192.0.2.1\\/24 dev eth0\",\"a\\nb\\\"c\"]}},{\"data\":{\"iname\":\"VI_1\",\"vrid\":52,\"adver_int\":1,\"vips\":[\"192.0.2.1\\/24 dev eth0\",\"a\\nb\\\"c\"]}}]\n"
        );
    }
}
