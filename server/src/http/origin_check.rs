//! Cross-site request forgery, defence in depth: a change made with the session cookie must
//! come from a page of ParkBridge's own origin.
//!
//! The cookie is already `SameSite=Strict`, which modern browsers honour; this check also covers
//! browsers that do not, and pages of a sibling site. Browsers name the page's origin in
//! `Origin` on every POST, PUT, PATCH and DELETE (older ones at least in `Referer`); a request
//! with neither is not from a browser page (curl, scripts) and passes. API keys and Mallcoo
//! signatures are not sent by browsers on their own, so calls without the cookie are not checked.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::access;
use crate::error::ApiError;

/// Refuses (403 `cross_origin`) a state-changing request that carries the session cookie and
/// names another origin than the host it was sent to.
pub async fn refuse_cross_origin(req: Request, next: Next) -> Result<Response, ApiError> {
    let changes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if changes
        && access::session_token(req.headers()).is_some()
        && !sent_from_own_origin(req.headers())
    {
        tracing::warn!(
            origin = ?req.headers().get(header::ORIGIN),
            path = %req.uri().path(),
            "refused a signed-in change sent from another origin"
        );
        return Err(ApiError::CrossOrigin);
    }
    Ok(next.run(req).await)
}

/// Whether the page that sent the request (if the client named one) is of the host it was sent
/// to: `Host`, or `X-Forwarded-Host` as set by a reverse proxy (a cross-site page cannot set that
/// header without a CORS preflight, which we never grant).
fn sent_from_own_origin(headers: &HeaderMap) -> bool {
    let origin = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok(),
        None => match headers.get(header::REFERER) {
            Some(referer) => referer.to_str().ok(),
            None => return true,
        },
    };
    // `Origin: null` (sandboxed frames, file: pages) and unreadable values name no origin of ours.
    let Some((scheme, authority)) = origin.and_then(scheme_and_authority) else {
        return false;
    };
    let page = with_port(authority, scheme);
    ["x-forwarded-host", header::HOST.as_str()]
        .into_iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .filter_map(|value| value.split(',').next())
        .any(|own| with_port(own.trim(), scheme).eq_ignore_ascii_case(&page))
}

/// `("https", "host:port")` of an origin or of a URL (whose path is ignored).
fn scheme_and_authority(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    // Credentials in a URL (`user@host`) never appear in an Origin; refuse rather than parse.
    (!authority.is_empty() && !authority.contains('@')).then_some((scheme, authority))
}

/// `host:port`, with the scheme's default port written out so that `a.example` and
/// `a.example:443` compare equal under https.
fn with_port(authority: &str, scheme: &str) -> String {
    let has_port = match authority.rsplit_once(':') {
        // An IPv6 literal (`[::1]`) has colons of its own.
        Some((_, port)) => !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    };
    if has_port {
        return authority.to_owned();
    }
    let port = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    format!("{authority}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_passes_and_other_origins_do_not() {
        let own = [
            &[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ][..],
            &[("host", "pb.example"), ("origin", "https://pb.example")],
            &[("host", "pb.example"), ("origin", "https://PB.example:443")],
            &[("host", "pb.example:443"), ("origin", "https://pb.example")],
            &[("host", "[::1]:8080"), ("origin", "http://[::1]:8080")],
            &[
                ("host", "pb.example"),
                ("referer", "https://pb.example/vip?x=1"),
            ],
            &[
                ("host", "10.0.0.5:8080"),
                ("x-forwarded-host", "pb.example"),
                ("origin", "https://pb.example"),
            ],
            &[("host", "pb.example")],
        ];
        for h in own {
            assert!(sent_from_own_origin(&headers(h)), "{h:?}");
        }
        let other = [
            &[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ][..],
            &[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8081"),
            ],
            &[
                ("host", "pb.example"),
                ("origin", "http://pb.example.evil.example"),
            ],
            &[("host", "pb.example"), ("origin", "null")],
            &[
                ("host", "pb.example"),
                ("referer", "https://evil.example/pb.example"),
            ],
            &[
                ("host", "pb.example"),
                ("origin", "https://evil.example"),
                ("referer", "https://pb.example/"),
            ],
            &[("origin", "https://pb.example")],
        ];
        for h in other {
            assert!(!sent_from_own_origin(&headers(h)), "{h:?}");
        }
    }
}
