//! Accepting connections: HTTP/1.1 with a header-read timeout, and a graceful stop.
//!
//! `axum::serve` sets no timer, so a client that opens a connection and sends its headers a
//! byte at a time (slow-loris), or never sends anything, or keeps an idle keep-alive connection,
//! holds a socket and a task forever. hyper's `header_read_timeout` bounds all three: it runs
//! from the moment a connection opens or its previous answer is sent until a request's headers
//! are complete. HTTP/1.1 only: ParkBridge is reached over plain HTTP/1.1 (directly, or behind
//! nginx which speaks HTTP/1.1 upstream), and hyper-util's protocol detection for h2c runs
//! without a timer, so a silent client would again be held forever.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (idle connections close at once) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Every connection task holds a receiver: `closed()` on the sender resolves when the last
    // one has finished.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to be freed rather
                    // than spin on the error.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tokio::spawn(connection(
            &builder,
            stream,
            remote,
            app.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(());
    stop_tx.closed().await;
}

/// One connection's life: serve it until the client leaves, the header timeout closes it, or
/// a stop is asked for (then the request in flight, if any, is answered first).
fn connection(
    builder: &http1::Builder,
    stream: TcpStream,
    remote: SocketAddr,
    app: Router,
    mut stop: watch::Receiver<()>,
) -> impl Future<Output = ()> + Send + 'static {
    let _ = stream.set_nodelay(true);
    // What `into_make_service_with_connect_info` did: handlers read the peer address (login
    // rate limits).
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(req)
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    async move {
        let mut conn = std::pin::pin!(conn);
        let result = tokio::select! {
            result = conn.as_mut() => result,
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            // Header timeouts, clients that hang up mid-request: routine, not server faults.
            tracing::debug!(%remote, error = %e, "connection ended with an error");
        }
    }
}
