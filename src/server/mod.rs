//! The Postgres wire-protocol server.
//!
//! datafusion-postgres does the protocol work (type encoding, pg_catalog,
//! cursors, `SET`/`SHOW`); ecomsql wraps its handlers to recognise its own
//! statements first, to report real SQLSTATEs, and owns the accept loop so it
//! can bind ephemeral ports and shut down cleanly.

mod array_subquery;
pub mod auth;
mod copy;
mod function_parameters;
mod handlers;
mod interrupt;
mod introspection;
mod parameters;
mod response;
mod rewrite;
mod roles;
mod settings;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use log::{info, warn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub use auth::{AuthConfig, AuthMethod};
pub use handlers::EcomHandlers;
pub use interrupt::{Interrupts, parse_duration};

use crate::engine::Engine;

/// Where and how to listen.
#[derive(Clone)]
pub struct ServerOptions {
    pub host: String,
    pub port: u16,
    /// Every session's starting `statement_timeout` (`None`: no limit).
    pub statement_timeout: Option<Duration>,
    /// Connections served at once; the next client gets 53300.
    pub max_connections: usize,
    /// How long shutdown waits for interrupted statements to report their
    /// error before closing the remaining connections.
    pub shutdown_grace: Duration,
    /// Who may connect (trust by default).
    pub auth: AuthConfig,
    /// Serve TLS with this acceptor (from [`tls::acceptor`]).
    pub tls: Option<pgwire::tokio::TlsAcceptor>,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("statement_timeout", &self.statement_timeout)
            .field("max_connections", &self.max_connections)
            .field("auth", &self.auth)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5433,
            statement_timeout: None,
            max_connections: 100,
            shutdown_grace: Duration::from_secs(5),
            auth: AuthConfig::default(),
            tls: None,
        }
    }
}

/// A bound server, ready to accept connections.
pub struct Server {
    listener: TcpListener,
    handlers: Arc<EcomHandlers>,
    interrupts: Arc<Interrupts>,
    options: ServerOptions,
}

impl Server {
    /// Bind the listening socket (port 0 picks a free port; see
    /// [`Server::local_addr`]).
    pub async fn bind(engine: Arc<Engine>, options: &ServerOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind((options.host.as_str(), options.port)).await?;
        let interrupts = Arc::new(Interrupts::new(options.statement_timeout));
        Ok(Self {
            listener,
            handlers: Arc::new(EcomHandlers::new(
                engine,
                Arc::clone(&interrupts),
                options.auth.clone(),
            )),
            interrupts,
            options: options.clone(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` completes, then stop accepting, stop running
    /// statements with 57P01 and close the open connections.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        info!("listening on {}", self.local_addr()?);
        let mut connections = JoinSet::new();
        let active = Arc::new(AtomicUsize::new(0));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        if active.load(Ordering::Acquire) >= self.options.max_connections {
                            warn!("{peer}: refused, {} connections already", self.options.max_connections);
                            // Not counted, and bounded by its own timeout.
                            tokio::spawn(refuse_too_many(socket));
                            continue;
                        }
                        let slot = ConnectionSlot::take(&active);
                        let handlers = Arc::new(self.handlers.for_connection());
                        let tls = self.options.tls.clone();
                        connections.spawn(async move {
                            let _slot = slot;
                            if let Err(e) = socket.set_nodelay(true) {
                                warn!("{peer}: cannot set TCP_NODELAY: {e}");
                            }
                            if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                                warn!("{peer}: connection ended with an error: {e}");
                            }
                        });
                    }
                    // Running out of file descriptors must not end the server.
                    Err(e) => warn!("accept failed: {e}"),
                },
                // Reap finished connections so the set does not grow.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(self.listener);
        info!(
            "shutting down: no new connections, stopping {} running statements, closing {} connections",
            self.interrupts.running(),
            connections.len()
        );
        self.interrupts.shut_down();
        // Give interrupted statements time to send their 57P01 (pgwire then
        // closes those connections); idle ones are closed after that.
        let deadline = tokio::time::Instant::now() + self.options.shutdown_grace;
        while self.interrupts.running() > 0 && tokio::time::Instant::now() < deadline {
            tokio::select! {
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        connections.shutdown().await;
        Ok(())
    }
}

/// One of `--max-connections`, given back when the connection ends.
struct ConnectionSlot(Arc<AtomicUsize>);

impl ConnectionSlot {
    fn take(active: &Arc<AtomicUsize>) -> Self {
        active.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(active))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answer a client over the connection limit as Postgres does: read its
/// startup packet (declining SSL or GSS encryption first), then a FATAL
/// 53300. Reading first matters: closing a socket with unread input resets
/// it, and the client may lose the message.
async fn refuse_too_many(mut socket: TcpStream) {
    const SSL_REQUEST: u32 = 80_877_103;
    const GSSENC_REQUEST: u32 = 80_877_104;
    let exchange = async {
        loop {
            let length = socket.read_u32().await? as usize;
            if !(8..=10_000).contains(&length) {
                break;
            }
            let mut body = vec![0_u8; length - 4];
            socket.read_exact(&mut body).await?;
            let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            if code == SSL_REQUEST || code == GSSENC_REQUEST {
                socket.write_all(b"N").await?;
                continue;
            }
            break;
        }
        let message = too_many_connections_message();
        socket.write_all(&message).await?;
        socket.flush().await?;
        socket.shutdown().await
    };
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), exchange).await {
        log::debug!("refusing a connection: {e}");
    }
}

/// The ErrorResponse bytes of "sorry, too many clients already".
fn too_many_connections_message() -> Vec<u8> {
    let fields: [(u8, &str); 4] = [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', crate::error::SqlState::TOO_MANY_CONNECTIONS.code()),
        (b'M', "sorry, too many clients already"),
    ];
    let mut body = Vec::new();
    for (tag, value) in fields {
        body.push(tag);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    message.extend_from_slice(&body);
    message
}
