//! `application/x-www-form-urlencoded` bodies, written and read without a URL crate.
//!
//! Writing follows the WHATWG URL standard's form serializer: UTF-8 bytes, ASCII alphanumerics
//! and `*-._` kept, space as `+`, everything else `%XX` (upper-case). Reading is stricter than
//! WHATWG (which keeps a broken `%` escape literally and replaces bad UTF-8): a sandbox that
//! verifies signatures should refuse a body it cannot read exactly rather than guess.

/// Why a form body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    #[error("bad percent escape at byte {0}")]
    BadEscape(usize),
    /// A decoded name or value is not UTF-8.
    #[error("a form field is not valid UTF-8")]
    NotUtf8,
}

/// Encodes fields as a form body, in the order given.
pub fn encode<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(k.as_ref(), &mut out);
        out.push('=');
        encode_component(v.as_ref(), &mut out);
    }
    out
}

fn encode_component(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0F)]));
            }
        }
    }
}

/// Decodes a form body into fields, in order; empty segments (`a=1&&b=2`) are skipped.
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut fields = Vec::new();
    let mut offset = 0;
    for segment in body.split(|&b| b == b'&') {
        if !segment.is_empty() {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(eq) => (&segment[..eq], &segment[eq + 1..]),
                None => (segment, &segment[segment.len()..]),
            };
            let value_offset = offset + name.len() + 1;
            fields.push((
                decode_component(name, offset)?,
                decode_component(value, value_offset)?,
            ));
        }
        offset += segment.len() + 1;
    }
    Ok(fields)
}

fn decode_component(bytes: &[u8], offset: usize) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&c| hex_value(c));
                let lo = bytes.get(i + 2).and_then(|&c| hex_value(c));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(FormError::BadEscape(offset + i));
                };
                out.push(hi << 4 | lo);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_browsers_do() {
        let body = encode(&[
            ("plate", "粤BA1471"),
            ("subject", "a b&c=d+e/f*-._~"),
            ("metadata", r#"{"k":{"name":"n","value":1}}"#),
        ]);
        assert_eq!(
            body,
            "plate=%E7%B2%A4BA1471&subject=a+b%26c%3Dd%2Be%2Ff*-._%7E\
             &metadata=%7B%22k%22%3A%7B%22name%22%3A%22n%22%2C%22value%22%3A1%7D%7D"
        );
    }

    #[test]
    fn decodes_what_browsers_send() {
        let fields = decode(b"a=1+2&&b=%e7%b2%a4&c&d=").unwrap();
        let want = [("a", "1 2"), ("b", "粤"), ("c", ""), ("d", "")];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(fields, want);
    }

    #[test]
    fn broken_bodies_are_refused() {
        assert_eq!(decode(b"a=1&b=%G1"), Err(FormError::BadEscape(6)));
        assert_eq!(decode(b"a=%4"), Err(FormError::BadEscape(2)));
        assert_eq!(decode(b"a=%FF"), Err(FormError::NotUtf8));
    }

    // proptest needs OS randomness, absent on wasm32-unknown-unknown: properties run on the host.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn decode_inverts_encode(fields in prop::collection::vec((".{0,8}", ".{0,12}"), 0..6)) {
                let fields: Vec<(String, String)> =
                    fields.into_iter().filter(|(k, v)| !(k.is_empty() && v.is_empty())).collect();
                prop_assert_eq!(decode(encode(&fields).as_bytes()).unwrap(), fields);
            }

            #[test]
            fn decode_never_panics(body in prop::collection::vec(any::<u8>(), 0..64)) {
                let _ = decode(&body);
            }
        }
    }
}
