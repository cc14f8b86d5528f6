//! Can we reach each partner? Its base URL's host resolves, a TCP connection opens and, for
//! https, the TLS handshake completes with a certificate our client trusts — no request is
//! sent. Then the clock: one `HEAD` of P云's base URL, whose `Date` must be within 60 s of ours
//! (P云 and Mallcoo refuse stale signatures).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hyper::Uri;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::parks::Usage;
use super::{Report, Status};
use crate::cli::serve::ServeArgs;
use crate::pyun_client::PyunClient;

/// The largest clock difference that passes.
const MAX_SKEW_SECS: i64 = 60;

/// Adds a reachability row per partner and the clock row.
pub(in crate::cli) async fn check(
    args: &ServeArgs,
    usage: Usage,
    timeout: Duration,
    report: &mut Report,
) {
    let pyun = reach("P云", &args.pyun_base_url, usage.pyun, timeout, report).await;
    reach(
        "Mallcoo",
        &args.mallcoo_base_url,
        usage.mallcoo,
        timeout,
        report,
    )
    .await;
    if !pyun {
        report.add(
            "clock",
            Status::Warn,
            "not checked: P云's address did not answer",
        );
        return;
    }
    let client = PyunClient::new(&args.pyun_base_url, timeout);
    let unused = if usage.pyun {
        Status::Fail
    } else {
        Status::Warn
    };
    match client.head_date().await {
        Err(e) => report.add(
            "clock",
            unused,
            format!("HEAD {}: {}", args.pyun_base_url, e.message()),
        ),
        Ok((status, None)) => report.add(
            "clock",
            Status::Warn,
            format!("P云 answered HEAD with {status} but no Date header to compare with"),
        ),
        Ok((_, Some(date))) => match DateTime::parse_from_rfc2822(&date) {
            Err(_) => report.add(
                "clock",
                Status::Warn,
                format!("P云's Date header is unreadable: {date:?}"),
            ),
            Ok(theirs) => {
                let skew = (Utc::now() - theirs.with_timezone(&Utc)).num_milliseconds();
                let words = if skew >= 0 { "ahead of" } else { "behind" };
                let text = format!(
                    "ours is {:.1} s {words} P云's Date header ({date})",
                    skew.unsigned_abs() as f64 / 1000.0
                );
                if skew.abs() <= MAX_SKEW_SECS * 1000 {
                    report.add("clock", Status::Ok, text);
                } else {
                    report.add(
                        "clock",
                        Status::Fail,
                        format!("{text}: more than {MAX_SKEW_SECS} s; P云 and Mallcoo refuse signatures off by minutes — fix NTP (timedatectl)"),
                    );
                }
            }
        },
    }
}

/// Adds `name`'s row; true when it was reached. A partner no car park uses only warns.
async fn reach(name: &str, url: &str, used: bool, timeout: Duration, report: &mut Report) -> bool {
    let check = format!("{name} address");
    match probe(url, timeout).await {
        Ok(detail) => {
            report.add(check, Status::Ok, format!("{url}: {detail}"));
            true
        }
        Err(why) if used => {
            report.add(check, Status::Fail, format!("{url}: {why}"));
            false
        }
        Err(why) => {
            report.add(
                check,
                Status::Warn,
                format!("{url}: {why} (no car park uses {name} yet)"),
            );
            false
        }
    }
}

/// Resolves, connects and (https) shakes hands with `url`'s host, each step within `timeout`.
async fn probe(url: &str, timeout: Duration) -> Result<String, String> {
    let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri
        .host()
        .ok_or("the URL names no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let started = Instant::now();
    let addrs: Vec<_> =
        tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| format!("{host} did not resolve within {timeout:?}"))?
            .map_err(|e| format!("{host} does not resolve: {e}"))?
            .collect();
    let first = addrs
        .first()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    let resolved = started.elapsed();
    let started = Instant::now();
    let stream = tokio::time::timeout(timeout, TcpStream::connect(&addrs[..]))
        .await
        .map_err(|_| format!("no TCP connection to {host}:{port} within {timeout:?}"))?
        .map_err(|e| format!("cannot connect to {host}:{port} ({first}): {e}"))?;
    let peer = stream
        .peer_addr()
        .map_or_else(|_| first.to_string(), |a| a.to_string());
    let connected = started.elapsed();
    let mut detail = format!(
        "resolved in {} ms, connected to {peer} in {} ms",
        resolved.as_millis(),
        connected.as_millis()
    );
    if !https {
        detail.push_str(", plain HTTP (no TLS)");
        return Ok(detail);
    }
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
    let started = Instant::now();
    let tls = tokio::time::timeout(timeout, tls_connector().connect(name, stream))
        .await
        .map_err(|_| {
            format!("connected to {peer}, but no TLS handshake with {host} within {timeout:?}")
        })?
        .map_err(|e| {
            format!("connected to {peer}, but the TLS handshake with {host} failed: {e}")
        })?;
    let version = tls
        .get_ref()
        .1
        .protocol_version()
        .map_or("TLS".to_owned(), |v| format!("{v:?}"));
    detail.push_str(&format!(
        ", {version} handshake in {} ms (certificate valid for {host})",
        started.elapsed().as_millis()
    ));
    Ok(detail)
}

/// The TLS client the outbound calls use: ring, Mozilla's roots.
fn tls_connector() -> TlsConnector {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports rustls' default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}
