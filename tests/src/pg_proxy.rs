//! A TCP proxy in front of the machine's PostgreSQL, so a test can take the database away from
//! one server (and give it back) without stopping PostgreSQL, which other tests share.
//!
//! `stop()` closes the listener and every open connection, as a crashed or partitioned database
//! looks to its clients; `start()` listens again on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{AbortHandle, JoinSet};

/// The tasks of a listening proxy: the accept loop and one per relayed connection.
#[derive(Default)]
struct Running {
    accept: Option<AbortHandle>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

/// A loopback TCP proxy to PostgreSQL (`127.0.0.1:5432` unless told otherwise).
pub struct PgProxy {
    /// The address clients connect to.
    pub addr: SocketAddr,
    upstream: SocketAddr,
    running: Mutex<Running>,
}

impl PgProxy {
    /// Listens on a free loopback port and relays to the local PostgreSQL server.
    pub fn start_to_local_postgres() -> PgProxy {
        PgProxy::start_to("127.0.0.1:5432".parse().expect("address"))
    }

    /// Listens on a free loopback port and relays every connection to `upstream`.
    pub fn start_to(upstream: SocketAddr) -> PgProxy {
        let listener = bind("127.0.0.1:0".parse().expect("address"));
        let addr = listener.local_addr().expect("bound address");
        let proxy = PgProxy {
            addr,
            upstream,
            running: Mutex::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// Rewrites a `postgres://user@host:port/db` URL to reach the same database through us.
    pub fn route(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{path}", self.addr)
    }

    /// Listens again on the same port (after `stop`); a no-op while listening.
    pub fn start(&self) {
        if self.running.lock().expect("proxy state").accept.is_some() {
            return;
        }
        self.serve(bind(self.addr));
    }

    /// Closes the listener and every relayed connection: new connections are refused and open
    /// ones end at once, as when the database goes away.
    pub fn stop(&self) {
        let mut running = self.running.lock().expect("proxy state");
        if let Some(accept) = running.accept.take() {
            accept.abort();
        }
        // Aborting a relay drops both of its sockets, which closes them.
        running
            .connections
            .lock()
            .expect("connection set")
            .abort_all();
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let mut running = self.running.lock().expect("proxy state");
        let connections = Arc::clone(&running.connections);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of descriptors, say: do not spin.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
                let mut set = connections.lock().expect("connection set");
                // Reap relays that ended, so a long test does not accumulate them.
                while set.try_join_next().is_some() {}
                set.spawn(relay(client, upstream));
            }
        });
        running.accept = Some(accept.abort_handle());
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds `addr` with `SO_REUSEADDR`, so the port can be taken again right after `stop`; retries
/// for a while, since the aborted accept loop releases the old listener on its next poll.
fn bind(addr: SocketAddr) -> TcpListener {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        match socket.bind(addr).and_then(|()| socket.listen(128)) {
            Ok(listener) => return listener,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("proxy cannot listen on {addr}: {e}")
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

/// Copies bytes both ways until either side closes (or the task is aborted).
async fn relay(mut client: TcpStream, upstream: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
