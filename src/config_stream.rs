//! A configuration's JSON decoded as it is read, one virtual server at a
//! time.
//!
//! The checker child gets its configuration deflated (ipc.rs). Inflating
//! it whole and decoding the text with `serde_json::from_slice` has the
//! whole JSON (34 MB at keepalived issue #2318 size: 36,544 real servers)
//! next to the model decoded from it; decoding through
//! `serde_json::from_reader` instead keeps no text but reads it a byte at
//! a time, and took 1.7x as long (bench/scale/README.md, "Start to
//! READY"). Here the text is split as it arrives: every element of the
//! top-level `virtual_servers` array is cut out and decoded on its own
//! with `from_slice` (a few kB each), and the rest of the document, with
//! `"virtual_servers":[]` left in it, is decoded last. Same model, the
//! speed of `from_slice`, and never more text in memory than one virtual
//! server's.
//!
//! The splitter only tracks strings (with their escapes) and nesting; what
//! is not JSON of the expected shape is an error, never a panic, and the
//! decoders see every byte: anything the splitter lets through is checked
//! by serde.

use std::io::Read;

use rkeepalived_config::model::VirtualServer;
use rkeepalived_config::Config;

use crate::ipc::IpcError;

/// The top-level key whose array is split.
const KEY: &[u8] = b"virtual_servers";

/// Bytes read from the source at a time.
const CHUNK: usize = 1 << 16;

/// The [`Config`] whose JSON `source` yields.
pub fn decode<R: Read>(mut source: R) -> Result<Config, IpcError> {
    let mut splitter = Splitter::default();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        splitter.feed(&buf[..n])?;
    }
    splitter.finish()
}

/// Where the bytes being read go.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To the document without the virtual servers.
    #[default]
    Rest,
    /// Inside the `virtual_servers` array, between its elements: only
    /// whitespace and commas, dropped.
    Between,
    /// To the element being read.
    Element,
}

#[derive(Default)]
struct Splitter {
    /// The document without the virtual servers' elements.
    rest: Vec<u8>,
    /// The element being read.
    element: Vec<u8>,
    virtual_servers: Vec<VirtualServer>,
    mode: Mode,
    depth: u32,
    in_string: bool,
    /// The last chunk ended with the backslash of an escape.
    escaped: bool,
    /// The string being read is at depth 1 (a key, if a `:` follows).
    capturing_key: bool,
    /// The last string at depth 1, up to one byte longer than [`KEY`].
    key: Vec<u8>,
    /// The value being read at depth 1 is the `virtual_servers` one.
    value_is_key: bool,
    seen_array: bool,
}

impl Splitter {
    /// `bytes[run..end]` to where the bytes go now.
    fn flush(&mut self, bytes: &[u8], run: usize, end: usize) {
        let Some(part) = bytes.get(run..end) else {
            return;
        };
        match self.mode {
            Mode::Rest => self.rest.extend_from_slice(part),
            Mode::Element => self.element.extend_from_slice(part),
            Mode::Between => {}
        }
    }

    fn capture(&mut self, part: &[u8]) {
        if self.capturing_key {
            let room = (KEY.len() + 1).saturating_sub(self.key.len());
            self.key.extend_from_slice(&part[..part.len().min(room)]);
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), IpcError> {
        // Bytes are copied in runs: `run` is the first one not yet copied.
        let mut run = 0;
        let mut i = 0;
        if self.escaped && !bytes.is_empty() {
            self.escaped = false;
            self.capture(&bytes[..1]);
            i = 1;
        }
        while i < bytes.len() {
            if self.in_string {
                let Some(off) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                    self.capture(&bytes[i..]);
                    break;
                };
                self.capture(&bytes[i..i + off]);
                i += off;
                if bytes[i] == b'\\' {
                    self.capture(&bytes[i..i + 1]);
                    match bytes.get(i + 1) {
                        Some(next) => {
                            self.capture(std::slice::from_ref(next));
                            i += 2;
                        }
                        None => {
                            self.escaped = true;
                            i += 1;
                        }
                    }
                } else {
                    self.in_string = false;
                    self.capturing_key = false;
                    i += 1;
                }
                continue;
            }
            let b = bytes[i];
            if self.mode == Mode::Between {
                match b {
                    b' ' | b'\t' | b'\n' | b'\r' | b',' => {}
                    b'{' => {
                        self.mode = Mode::Element;
                        run = i;
                        self.depth = 3;
                    }
                    b']' => {
                        self.mode = Mode::Rest;
                        run = i;
                        self.depth = 1;
                    }
                    _ => return Err(IpcError::Corrupt("a virtual server is not an object")),
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.capturing_key = self.depth == 1;
                    if self.capturing_key {
                        self.key.clear();
                    }
                }
                b':' if self.depth == 1 => self.value_is_key = self.key == KEY,
                b',' if self.depth == 1 => self.value_is_key = false,
                b'[' if self.depth == 1 && self.value_is_key => {
                    if self.seen_array {
                        return Err(IpcError::Corrupt("virtual_servers twice"));
                    }
                    self.value_is_key = false;
                    self.seen_array = true;
                    self.flush(bytes, run, i + 1);
                    run = i + 1;
                    self.mode = Mode::Between;
                    self.depth = 2;
                }
                b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err(IpcError::Corrupt("unbalanced configuration JSON"));
                    }
                    self.depth -= 1;
                    if self.mode == Mode::Element && self.depth == 2 {
                        self.flush(bytes, run, i + 1);
                        run = i + 1;
                        self.mode = Mode::Between;
                        self.virtual_servers
                            .push(serde_json::from_slice(&self.element)?);
                        self.element.clear();
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.flush(bytes, run, bytes.len());
        Ok(())
    }

    fn finish(self) -> Result<Config, IpcError> {
        if self.depth != 0 || self.in_string || self.mode != Mode::Rest {
            return Err(IpcError::Corrupt("truncated configuration JSON"));
        }
        let mut config: Config = serde_json::from_slice(&self.rest)?;
        if self.seen_array {
            config.virtual_servers = self.virtual_servers;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn example() -> Config {
        rkeepalived_config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/keepalived.conf"),
            &rkeepalived_config::LoadOptions::default(),
        )
        .expect("example config")
        .config
    }

    /// A reader that hands out `step` bytes at a time: every split of the
    /// text across reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn same_model_as_from_slice_whatever_the_reads() {
        let mut config = example();
        assert!(
            !config.virtual_servers.is_empty(),
            "the example has virtual servers"
        );
        // Names with quotes, backslashes and brackets in strings.
        config.virtual_servers[0].virtualhost = Some("a \"[{\\\" virtual_servers\":[".into());
        let json = serde_json::to_vec(&config).expect("encode");
        for step in [1, 2, 3, 7, 64, 4096, json.len()] {
            let back = decode(Trickle(&json, step)).expect("decode");
            assert_eq!(back, config, "step {step}");
        }
        let pretty = serde_json::to_vec_pretty(&config).expect("encode");
        assert_eq!(decode(&pretty[..]).expect("decode"), config);
        let empty = serde_json::to_vec(&Config::default()).expect("encode");
        assert_eq!(decode(&empty[..]).expect("decode"), Config::default());
    }

    #[test]
    fn bad_shapes_are_errors() {
        let json = serde_json::to_string(&example()).expect("encode");
        let cut = &json[..json.len() / 2];
        assert!(matches!(decode(cut.as_bytes()), Err(IpcError::Corrupt(_))));
        let twice = json.replacen(
            "\"virtual_servers\":[",
            "\"virtual_servers\":[],\"virtual_servers\":[",
            1,
        );
        assert!(decode(twice.as_bytes()).is_err());
        let scalar = json.replacen("\"virtual_servers\":[", "\"virtual_servers\":[1,", 1);
        assert!(matches!(
            decode(scalar.as_bytes()),
            Err(IpcError::Corrupt(_))
        ));
        for bad in [
            "",
            "}",
            "]]]",
            "{\"virtual_servers\":[{}]}",
            "{\"virtual_servers\":{}}",
            "[1]",
        ] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes[..]);
            let mut framed = b"{\"virtual_servers\":[".to_vec();
            framed.extend_from_slice(&bytes);
            let _ = decode(&framed[..]);
        }
    }
}
