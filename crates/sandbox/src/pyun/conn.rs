//! Serving connections by hand (hyper http1 + an accept loop) so a fault can drop one unanswered.
//!
//! `axum::serve` gives a handler no way to close its connection. Here every connection gets a
//! [`DropConnection`] in its requests' extensions; a handler that fires it stops answering and
//! the connection task drops the socket, so the client sees "connection closed before message
//! completed" — the failure mode that makes a grant's outcome unknown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Closes the connection a request arrived on, without a response.
#[derive(Debug, Clone, Default)]
pub(crate) struct DropConnection(Arc<Notify>);

impl DropConnection {
    /// Asks the connection task to drop the socket; the caller should then never answer.
    pub(crate) fn fire(&self) {
        // `notify_one` keeps a permit, so this works even before the task waits on it.
        self.0.notify_one();
    }
}

/// Accepts connections forever; dropping this future (aborting its task) closes them all.
pub(crate) async fn serve(listener: TcpListener, router: Router) {
    // Connections live in a JoinSet so that aborting the accept loop aborts them too.
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "P云 sandbox: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(stream, router.clone()));
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    // Small answers on loopback: Nagle would only add latency to the benchmarks.
    let _ = stream.set_nodelay(true);
    let kill = DropConnection::default();
    let service = TowerToHyperService::new(router);
    let for_requests = kill.clone();
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(for_requests.clone());
        hyper::service::Service::call(&service, req)
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "P云 sandbox: connection ended with an error");
            }
        }
        () = kill.0.notified() => {
            // Dropping `connection` drops the socket: the client gets no response at all.
            tracing::debug!("P云 sandbox: dropping a connection as a fault asked");
        }
    }
}
