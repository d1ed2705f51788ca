//! JSON kept DEFLATE-compressed in memory: the supervisor's copy of the
//! configuration (`ipc::ConfigWire`) and the checker's copy for
//! `keepalived_check.data` (`check_print::PackedDump`), both read rarely.

use std::io::{self, BufReader, BufWriter, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// `value` as DEFLATE-compressed JSON. Buffered: serde_json writes token by
/// token, and each write into the encoder zeroes its whole spare output
/// buffer (flate2's `run_vec` resizes it); unbuffered, a 10,000-dest
/// config spent 1.2 s (5 minutes under qemu TCG) in memset.
pub fn deflate_json<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut buffered = BufWriter::with_capacity(1 << 16, &mut z);
    serde_json::to_writer(&mut buffered, value)?;
    buffered.flush()?;
    drop(buffered);
    z.finish()
}

/// The value [`deflate_json`] packed.
pub fn inflate_json<T: DeserializeOwned>(deflated: &[u8]) -> io::Result<T> {
    let reader = flate2::read::DeflateDecoder::new(deflated);
    Ok(serde_json::from_reader(BufReader::new(reader))?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let v = vec!["a".to_string(); 1000];
        let packed = super::deflate_json(&v).unwrap();
        assert!(packed.len() < 100);
        assert_eq!(super::inflate_json::<Vec<String>>(&packed).unwrap(), v);
    }
}
