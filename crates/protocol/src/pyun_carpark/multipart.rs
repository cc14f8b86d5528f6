//! A `multipart/form-data` body built byte for byte from a boundary the caller chooses (pyun-carpark.md §4.1).
//!
//! The boundary is a parameter because this crate draws no random numbers; the server passes a
//! fresh random one per request, tests pass a fixed one. A boundary that occurs inside a part
//! would cut that part short at P云, so it is refused rather than sent.

/// Longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY_CHARS: usize = 70;

/// One binary part (an image), not signed; only its hash is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The field name, e.g. `enter_image_file`.
    pub name: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A body ready to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    /// The `Content-Type` header value, boundary included.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a multipart body cannot be built with this boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// Empty, longer than 70 characters, or a character outside `A-Z a-z 0-9 ' + _ - .`.
    #[error("`{0}` is not a usable multipart boundary")]
    BadBoundary(String),
    /// The boundary occurs inside a part; choose another.
    #[error("the boundary occurs inside part `{0}`")]
    BoundaryInPart(String),
}

/// Builds the body: text parts (`text/plain; charset=UTF-8`) in the order given, then file parts
/// (`application/octet-stream`, `filename=""` as P云's sample sends).
pub fn build(
    boundary: &str,
    texts: &[(String, String)],
    files: &[FilePart],
) -> Result<Multipart, MultipartError> {
    check_boundary(boundary)?;
    let delimiter = format!("--{boundary}");
    for (name, value) in texts {
        if contains(value.as_bytes(), delimiter.as_bytes()) {
            return Err(MultipartError::BoundaryInPart(name.clone()));
        }
    }
    for f in files {
        if contains(&f.bytes, delimiter.as_bytes()) {
            return Err(MultipartError::BoundaryInPart(f.name.to_owned()));
        }
    }
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!(
                "{delimiter}\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for f in files {
        body.extend_from_slice(
            format!(
                "{delimiter}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                f.name
            )
            .as_bytes(),
        );
        body.extend_from_slice(&f.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("{delimiter}--\r\n").as_bytes());
    Ok(Multipart {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body,
    })
}

/// Only characters that need no quoting in the `Content-Type` header and are RFC 2046 `bchars`.
fn check_boundary(boundary: &str) -> Result<(), MultipartError> {
    let ok = !boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY_CHARS
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'+_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(MultipartError::BadBoundary(
            boundary.chars().take(MAX_BOUNDARY_CHARS + 10).collect(),
        ))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn body_byte_for_byte() {
        let m = build(
            "pb-7f3a",
            &texts(&[("plate", "粤B660PP"), ("sign", "AB")]),
            &[FilePart {
                name: "enter_image_file",
                bytes: vec![0, 0xFF, b'\r', b'\n'],
            }],
        )
        .unwrap();
        assert_eq!(m.content_type, "multipart/form-data; boundary=pb-7f3a");
        let mut expected = "--pb-7f3a\r\nContent-Disposition: form-data; name=\"plate\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n粤B660PP\r\n\
            --pb-7f3a\r\nContent-Disposition: form-data; name=\"sign\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nAB\r\n\
            --pb-7f3a\r\nContent-Disposition: form-data; name=\"enter_image_file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            .as_bytes()
            .to_vec();
        expected.extend_from_slice(&[0, 0xFF, b'\r', b'\n']);
        expected.extend_from_slice(b"\r\n--pb-7f3a--\r\n");
        assert_eq!(m.body, expected);
    }

    #[test]
    fn bad_or_colliding_boundaries_are_refused() {
        for b in ["", "has space", "quote\"", "semi;colon", &"x".repeat(71)] {
            assert!(
                matches!(build(b, &[], &[]), Err(MultipartError::BadBoundary(_))),
                "{b:?}"
            );
        }
        assert!(build(&"x".repeat(70), &[], &[]).is_ok());
        assert_eq!(
            build("b1", &texts(&[("reason", "a --b1 b")]), &[]),
            Err(MultipartError::BoundaryInPart("reason".into()))
        );
        let file = FilePart {
            name: "leave_image_file",
            bytes: b"..--b1..".to_vec(),
        };
        assert_eq!(
            build("b1", &[], &[file]),
            Err(MultipartError::BoundaryInPart("leave_image_file".into()))
        );
    }
}
