//! Reading the `SSL { key }` private key as OpenSSL's
//! `SSL_CTX_use_PrivateKey_file(..., SSL_FILETYPE_PEM)` does for keepalived
//! (check_ssl.c `build_ssl_ctx()`), with the `password` keepalived hands to
//! OpenSSL through `SSL_CTX_set_default_passwd_cb()`:
//!
//! * plain keys: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1),
//!   `EC PRIVATE KEY` (SEC1);
//! * `ENCRYPTED PRIVATE KEY`: PKCS#8 with PBES2 (PBKDF2 or scrypt; AES-CBC
//!   or DES-EDE3-CBC), what `openssl pkcs8 -topk8` and `openssl genpkey
//!   -aes256` write;
//! * the legacy OpenSSL format, `Proc-Type: 4,ENCRYPTED` with `DEK-Info:
//!   CIPHER,IV` headers in an RSA or EC key (`openssl rsa -aes256`,
//!   `openssl ec -des3`, ...): the key is `EVP_BytesToKey(MD5, salt = the
//!   IV's first 8 bytes, one round)` as in OpenSSL's `PEM_do_header()`;
//!   AES-128/192/256-CBC, DES-EDE3-CBC and DES-CBC.
//!
//! As with OpenSSL, a password given for an unencrypted key is not used.
//! **Differences**: PKCS#12 PBE schemes (PKCS#8 v1, `openssl pkcs8 -v1 ...`)
//! and other legacy ciphers (Camellia, SEED, ...) are refused with an error
//! saying so, where OpenSSL may read them.

use aes::cipher::{BlockDecryptMut, KeyIvInit};

/// The DER of the first private key in `pem` (PKCS#8, PKCS#1 or SEC1),
/// None when the file has none, or why it cannot be read.
pub fn private_key_der(pem: &[u8], password: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    let blocks = pem::parse_many(pem).map_err(|e| format!("not a PEM file: {e}"))?;
    let Some(block) = blocks.iter().find(|b| {
        matches!(
            b.tag(),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY"
        )
    }) else {
        return Ok(None);
    };
    decode(block, password).map(Some)
}

fn decode(block: &pem::Pem, password: Option<&str>) -> Result<Vec<u8>, String> {
    fn need(password: Option<&str>) -> Result<&[u8], String> {
        password.map(str::as_bytes).ok_or_else(|| {
            "the private key is encrypted and the SSL block has no 'password'".to_string()
        })
    }
    if block.tag() == "ENCRYPTED PRIVATE KEY" {
        let pw = need(password)?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(block.contents())
            .map_err(|e| format!("invalid encrypted PKCS#8 key: {e}"))?;
        let doc = info.decrypt(pw).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid }) => {
                format!(
                    "unsupported PKCS#8 encryption {oid} (PBES2 with AES-CBC or DES-EDE3-CBC is)"
                )
            }
            _ => "cannot decrypt the private key with 'password' (wrong password?)".to_string(),
        })?;
        // A wrong password that still unpads must not pass for a key.
        let der = doc.as_bytes().to_vec();
        pkcs8::PrivateKeyInfo::try_from(der.as_slice()).map_err(|_| {
            "cannot decrypt the private key with 'password' (wrong password?)".to_string()
        })?;
        return Ok(der);
    }
    let headers = block.headers();
    match headers.get("Proc-Type") {
        Some(p) if p.trim() == "4,ENCRYPTED" => {}
        Some(p) => return Err(format!("unsupported Proc-Type '{p}'")),
        None => return Ok(block.contents().to_vec()),
    }
    let pw = need(password)?;
    let dek = headers
        .get("DEK-Info")
        .ok_or("encrypted key without DEK-Info")?;
    let (cipher, iv_hex) = dek
        .split_once(',')
        .ok_or_else(|| format!("invalid DEK-Info '{dek}'"))?;
    let iv = hex(iv_hex.trim()).ok_or_else(|| format!("invalid DEK-Info IV '{iv_hex}'"))?;
    let der = legacy_decrypt(cipher.trim(), &iv, pw, block.contents())?;
    // Without padding errors a wrong password is caught by the DER check.
    rustls::pki_types::PrivateKeyDer::try_from(der.clone()).map_err(|_| {
        "cannot decrypt the private key with 'password' (wrong password?)".to_string()
    })?;
    Ok(der)
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// OpenSSL's `EVP_BytesToKey(cipher, EVP_md5(), salt, pass, 1)`: the key
/// bytes only (the IV comes from DEK-Info).
fn bytes_to_key(pass: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    use md5::{Digest, Md5};
    let mut key = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while key.len() < len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(pass);
        h.update(salt);
        prev = h.finalize().to_vec();
        key.extend_from_slice(&prev);
    }
    key.truncate(len);
    key
}

/// `PEM_do_header()`: decrypt a legacy encrypted PEM body (PKCS#7 padding).
fn legacy_decrypt(cipher: &str, iv: &[u8], pass: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    fn run<C: BlockDecryptMut + KeyIvInit>(
        key: &[u8],
        iv: &[u8],
        data: &[u8],
    ) -> Result<Vec<u8>, String> {
        let c =
            C::new_from_slices(key, iv).map_err(|_| "invalid DEK-Info IV length".to_string())?;
        c.decrypt_padded_vec_mut::<block_padding::Pkcs7>(data)
            .map_err(|_| "cannot decrypt the private key with 'password' (wrong password?)".into())
    }
    let (key_len, iv_len) = match cipher {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        "DES-CBC" => (8, 8),
        other => return Err(format!("unsupported key encryption '{other}' (DEK-Info)")),
    };
    if iv.len() != iv_len {
        return Err("invalid DEK-Info IV length".into());
    }
    let key = bytes_to_key(pass, &iv[..8], key_len);
    match cipher {
        "AES-128-CBC" => run::<cbc::Decryptor<aes::Aes128>>(&key, iv, data),
        "AES-192-CBC" => run::<cbc::Decryptor<aes::Aes192>>(&key, iv, data),
        "AES-256-CBC" => run::<cbc::Decryptor<aes::Aes256>>(&key, iv, data),
        "DES-EDE3-CBC" => run::<cbc::Decryptor<des::TdesEde3>>(&key, iv, data),
        _ => run::<cbc::Decryptor<des::Des>>(&key, iv, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -md md5 -S 0001020304050607 -pass pass:secret -P -nosalt`
        // prints key=... ; the same derivation (one MD5 round per 16 bytes).
        let salt = [0u8, 1, 2, 3, 4, 5, 6, 7];
        let k = bytes_to_key(b"secret", &salt, 32);
        use md5::{Digest, Md5};
        let d1 = Md5::digest([&b"secret"[..], &salt].concat());
        let d2 = Md5::digest([&d1[..], &b"secret"[..], &salt].concat());
        assert_eq!(k, [&d1[..], &d2[..]].concat());
    }

    #[test]
    fn hex_rejects_odd_and_non_hex() {
        assert_eq!(hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(hex("0a0"), None);
        assert_eq!(hex("zz"), None);
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,000102030405060708090a0b0c0d0e0f\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ] {
            assert!(!matches!(private_key_der(input, Some("x")), Ok(Some(_))));
        }
    }
}
