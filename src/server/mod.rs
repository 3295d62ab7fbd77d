//! The Postgres wire-protocol server.
//!
//! datafusion-postgres does the protocol work (type encoding, pg_catalog,
//! cursors, `SET`/`SHOW`); ecomsql wraps its handlers to recognise its own
//! statements first, to report real SQLSTATEs, and owns the accept loop so it
//! can bind ephemeral ports and shut down cleanly.

mod copy;
mod handlers;
mod introspection;
mod parameters;
mod response;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use log::{info, warn};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use handlers::EcomHandlers;

use crate::engine::Engine;

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub host: String,
    pub port: u16,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5433,
        }
    }
}

/// A bound server, ready to accept connections.
pub struct Server {
    listener: TcpListener,
    handlers: Arc<EcomHandlers>,
}

impl Server {
    /// Bind the listening socket (port 0 picks a free port; see
    /// [`Server::local_addr`]).
    pub async fn bind(engine: Arc<Engine>, options: &ServerOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind((options.host.as_str(), options.port)).await?;
        Ok(Self {
            listener,
            handlers: Arc::new(EcomHandlers::new(engine)),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` completes, then stop accepting and close the
    /// open connections.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        info!("listening on {}", self.local_addr()?);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        let handlers = Arc::new(self.handlers.for_connection());
                        connections.spawn(async move {
                            if let Err(e) = socket.set_nodelay(true) {
                                warn!("{peer}: cannot set TCP_NODELAY: {e}");
                            }
                            if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
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
        info!(
            "shutting down: no new connections, closing {} open",
            connections.len()
        );
        connections.shutdown().await;
        Ok(())
    }
}
