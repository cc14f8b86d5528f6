//! P云's two request signatures (digest §1.2): sorted `k=v` forms and raw JSON bodies, both MD5 with `&app_secret=`.
//!
//! The same functions sign outbound calls and verify them in the P云 sandbox, so a change to
//! either side is caught by the other's tests.

use md5::{Digest, Md5};

use super::urlencoded;

/// Name of the form field that carries the signature.
pub const SIGN_FIELD: &str = "sign";

/// Why a received request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// No `sign` field, or an empty `Authorization` header.
    #[error("the request carries no signature")]
    MissingSign,
    /// A field appears twice, so which value was signed is ambiguous.
    #[error("field `{0}` appears more than once")]
    DuplicateField(String),
    /// The signature does not match the content and secret.
    #[error("the signature does not match")]
    Mismatch,
}

/// Signs form fields: non-empty fields other than `sign`, sorted by name, `k=v&…&app_secret=`, MD5, upper hex.
///
/// ```
/// use protocol::pyun::sign_form;
/// let fields = [
///     ("app_id", "op74061a7d244f7b7"),
///     ("coupon_code", "7cb7cc3e4e27b8a"),
///     ("merchant", "62626601"),
///     ("plate", "粤BA1471"),
///     ("quantity", "1"),
///     ("reason", "测试派发"),
///     ("store_code", "4911419421"),
/// ];
/// assert_eq!(
///     sign_form(&fields, "e9ae5402dbabc68c1c4xxxx"),
///     "756E3F88FBDB2B82E0A6C37C5EE060E5"
/// );
/// ```
pub fn sign_form<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)], secret: &str) -> String {
    let mut signed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| *k != SIGN_FIELD && !v.is_empty())
        .collect();
    // Byte order on the name as P云 sorts; the value breaks ties only so that a (malformed)
    // repeated field still signs deterministically.
    signed.sort_unstable();
    let mut text = String::new();
    for (k, v) in signed {
        text.push_str(k);
        text.push('=');
        text.push_str(v);
        text.push('&');
    }
    text.push_str("app_secret=");
    text.push_str(secret);
    md5_upper(text.as_bytes())
}

/// Signs a JSON body: MD5 over the exact bytes sent, then `&app_secret=` and the secret, upper hex.
///
/// ```
/// use protocol::pyun::sign_json;
/// let body = r#"{"reason":"接口测试退款","pay_serial":"20220721102644066066610031","app_id":"op00961963581daa7","value":"1"}"#;
/// assert_eq!(
///     sign_json(body.as_bytes(), "6409292d66625a2a0912acfc61ed956c"),
///     "55D9BC675B3B042A015895FA9F9D037B"
/// );
/// ```
pub fn sign_json(body: &[u8], secret: &str) -> String {
    let mut h = Md5::new();
    h.update(body);
    h.update(b"&app_secret=");
    h.update(secret.as_bytes());
    hex::encode_upper(h.finalize())
}

/// Checks a received form (including its `sign` field) against the secret.
pub fn verify_form<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
    secret: &str,
) -> Result<(), SignError> {
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(SignError::DuplicateField(w[0].to_owned()));
    }
    let received = fields
        .iter()
        .find(|(k, _)| k.as_ref() == SIGN_FIELD)
        .map(|(_, v)| v.as_ref())
        .filter(|v| !v.is_empty())
        .ok_or(SignError::MissingSign)?;
    check(received, &sign_form(fields, secret))
}

/// Checks a received JSON body against the secret and its `Authorization` header value.
pub fn verify_json(body: &[u8], secret: &str, authorization: &str) -> Result<(), SignError> {
    let received = authorization.trim();
    if received.is_empty() {
        return Err(SignError::MissingSign);
    }
    check(received, &sign_json(body, secret))
}

/// Compares without an early exit, so timing does not reveal how much of a forgery was right.
/// The comparison is case-sensitive on purpose: the sandbox should catch a client that sends
/// lower-case hex, which P云 documents as upper-case.
fn check(received: &str, expected: &str) -> Result<(), SignError> {
    let (a, b) = (received.as_bytes(), expected.as_bytes());
    let diff = a
        .iter()
        .zip(b)
        .fold(u8::from(a.len() != b.len()), |acc, (x, y)| acc | (x ^ y));
    if diff == 0 {
        Ok(())
    } else {
        Err(SignError::Mismatch)
    }
}

fn md5_upper(bytes: &[u8]) -> String {
    hex::encode_upper(Md5::digest(bytes))
}

/// A form ready to POST: empty fields dropped, sorted, `sign` last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedForm {
    fields: Vec<(String, String)>,
}

impl SignedForm {
    /// Signs the fields; empty values and any stale `sign` are dropped first, so what is sent is
    /// exactly what was signed.
    pub fn new<K, V>(fields: impl IntoIterator<Item = (K, V)>, secret: &str) -> SignedForm
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, v)| k != SIGN_FIELD && !v.is_empty())
            .collect();
        fields.sort_unstable();
        let sign = sign_form(&fields, secret);
        fields.push((SIGN_FIELD.to_owned(), sign));
        SignedForm { fields }
    }

    /// All fields as sent, `sign` included.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The value of one field, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The signature.
    pub fn sign(&self) -> &str {
        self.get(SIGN_FIELD).unwrap_or_default()
    }

    /// The `application/x-www-form-urlencoded` request body.
    pub fn to_urlencoded(&self) -> String {
        urlencoded::encode(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM_SECRET: &str = "e9ae5402dbabc68c1c4xxxx";
    const FORM_SIGN: &str = "756E3F88FBDB2B82E0A6C37C5EE060E5";
    const JSON_BODY: &str = r#"{"reason":"接口测试退款","pay_serial":"20220721102644066066610031","app_id":"op00961963581daa7","value":"1"}"#;
    const JSON_SECRET: &str = "6409292d66625a2a0912acfc61ed956c";
    const JSON_SIGN: &str = "55D9BC675B3B042A015895FA9F9D037B";

    fn vector_fields() -> Vec<(&'static str, &'static str)> {
        // Deliberately unsorted: sorting is the signer's job.
        vec![
            ("store_code", "4911419421"),
            ("reason", "测试派发"),
            ("plate", "粤BA1471"),
            ("app_id", "op74061a7d244f7b7"),
            ("quantity", "1"),
            ("coupon_code", "7cb7cc3e4e27b8a"),
            ("merchant", "62626601"),
        ]
    }

    #[test]
    fn published_form_vector_reproduces() {
        assert_eq!(sign_form(&vector_fields(), FORM_SECRET), FORM_SIGN);
    }

    #[test]
    fn published_json_vector_reproduces() {
        assert_eq!(sign_json(JSON_BODY.as_bytes(), JSON_SECRET), JSON_SIGN);
        assert_eq!(
            verify_json(JSON_BODY.as_bytes(), JSON_SECRET, &format!(" {JSON_SIGN} ")),
            Ok(())
        );
    }

    #[test]
    fn sign_and_empty_fields_do_not_change_the_signature() {
        let mut fields = vector_fields();
        fields.push(("sign", "WHATEVER"));
        fields.push(("parking_serial", ""));
        assert_eq!(sign_form(&fields, FORM_SECRET), FORM_SIGN);
    }

    #[test]
    fn signed_form_carries_what_it_signed() {
        let mut fields = vector_fields();
        fields.push(("parking_serial", ""));
        let form = SignedForm::new(fields, FORM_SECRET);
        assert_eq!(form.sign(), FORM_SIGN);
        assert_eq!(form.get("parking_serial"), None);
        assert_eq!(form.fields().last().map(|(k, _)| k.as_str()), Some("sign"));
        assert_eq!(verify_form(form.fields(), FORM_SECRET), Ok(()));
        let decoded = urlencoded::decode(form.to_urlencoded().as_bytes()).unwrap();
        assert_eq!(decoded, form.fields());
    }

    #[test]
    fn tampered_or_unsigned_forms_are_refused() {
        let form = SignedForm::new(vector_fields(), FORM_SECRET);
        let mut fields = form.fields().to_vec();
        assert_eq!(verify_form(&fields, "other"), Err(SignError::Mismatch));
        fields[0].1.push('x');
        assert_eq!(verify_form(&fields, FORM_SECRET), Err(SignError::Mismatch));
        let lower: Vec<_> = form
            .fields()
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == "sign" {
                        v.to_lowercase()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        assert_eq!(verify_form(&lower, FORM_SECRET), Err(SignError::Mismatch));
        assert_eq!(
            verify_form(&vector_fields(), FORM_SECRET),
            Err(SignError::MissingSign)
        );
        let mut dup = form.fields().to_vec();
        dup.push(("plate".into(), "沪A68688".into()));
        assert_eq!(
            verify_form(&dup, FORM_SECRET),
            Err(SignError::DuplicateField("plate".into()))
        );
    }

    #[test]
    fn tampered_json_is_refused() {
        let body = JSON_BODY.replace("\"1\"", "\"100\"");
        assert_eq!(
            verify_json(body.as_bytes(), JSON_SECRET, JSON_SIGN),
            Err(SignError::Mismatch)
        );
        assert_eq!(
            verify_json(JSON_BODY.as_bytes(), JSON_SECRET, ""),
            Err(SignError::MissingSign)
        );
    }
}
