//! Cancel requests and `statement_timeout`, applied for the whole life of a
//! statement: planning, execution and the streaming of its rows.
//!
//! pgwire's own cancel only races the handler's `do_query`, which for
//! DataFusion returns as soon as the plan is built; the rows are produced
//! later, while pgwire drains the response stream. So each statement gets a
//! [`StatementGuard`] that stops the handler future and wraps the row (or
//! COPY) stream; dropping the stream drops DataFusion's execution, which
//! aborts its tasks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use pgwire::api::ClientInfo;
use pgwire::api::results::Response;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::SecretKey;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::{SqlError, SqlState};

/// Key under which datafusion-postgres's `SET statement_timeout` keeps the
/// session's timeout (milliseconds) in the connection metadata.
pub(super) const STATEMENT_TIMEOUT_KEY: &str = "statement_timeout_ms";

/// Every connection's cancel signal, by the (pid, secret key) pair that
/// cancel requests carry.
#[derive(Debug)]
pub struct Interrupts {
    sessions: Mutex<HashMap<(i32, Bytes), watch::Sender<u64>>>,
    /// The server's `--statement-timeout`, a session's starting value.
    default_timeout: Option<Duration>,
    /// Set once when the server shuts down: every statement stops.
    shutdown: watch::Sender<bool>,
    /// One clone per live [`StatementGuard`]: statements still running.
    running: Arc<()>,
}

impl Interrupts {
    pub fn new(default_timeout: Option<Duration>) -> Self {
        Self {
            sessions: Mutex::default(),
            default_timeout,
            shutdown: watch::channel(false).0,
            running: Arc::new(()),
        }
    }

    /// Stop every running statement with 57P01 (the server is shutting
    /// down); statements started later stop at once.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Statements (or suspended portals) not yet finished.
    pub fn running(&self) -> usize {
        Arc::strong_count(&self.running) - 1
    }

    /// The connection's interrupt handle, registered on its first statement
    /// (a cancel request before that has nothing to cancel). The handle lives
    /// in the connection's session extensions and unregisters when the
    /// connection ends.
    pub fn session<C: ClientInfo>(self: &Arc<Self>, client: &mut C) -> Arc<SessionInterrupt> {
        if let Some(existing) = client.session_extensions().get::<SessionInterrupt>() {
            return existing;
        }
        // A client may set it at connect time, as a startup parameter or
        // in `options=-c statement_timeout=...` (libpq's PGOPTIONS).
        let from_startup = client
            .metadata()
            .get("statement_timeout")
            .cloned()
            .or_else(|| {
                client.metadata().get("options").and_then(|options| {
                    options
                        .split_whitespace()
                        .filter_map(|o| o.strip_prefix("statement_timeout="))
                        .next_back()
                        .map(str::to_string)
                })
            })
            .and_then(|text| parse_duration(&text).ok());
        if let Some(timeout) = from_startup {
            client.metadata_mut().insert(
                STATEMENT_TIMEOUT_KEY.to_string(),
                timeout.as_millis().to_string(),
            );
        } else if let Some(timeout) = self.default_timeout
            && !client.metadata().contains_key(STATEMENT_TIMEOUT_KEY)
        {
            client.metadata_mut().insert(
                STATEMENT_TIMEOUT_KEY.to_string(),
                timeout.as_millis().to_string(),
            );
        }
        let (pid, secret) = client.pid_and_secret_key();
        let key = (pid, secret.to_bytes());
        client.session_extensions().get_or_insert_with(|| {
            let (sender, receiver) = watch::channel(0_u64);
            if let Ok(mut sessions) = self.sessions.lock() {
                sessions.insert(key.clone(), sender);
            }
            SessionInterrupt {
                registry: Arc::clone(self),
                key,
                receiver,
                shutdown: self.shutdown.subscribe(),
            }
        })
    }

    /// A cancel request: interrupts that connection's running statement, if
    /// any. Unknown keys are ignored, as Postgres does (no reply either way).
    pub fn cancel(&self, pid: i32, secret: &SecretKey) {
        let key = (pid, secret.to_bytes());
        if let Ok(sessions) = self.sessions.lock()
            && let Some(sender) = sessions.get(&key)
        {
            sender.send_modify(|epoch| *epoch += 1);
        }
    }
}

/// A statement_timeout value as Postgres reads it: a bare number is
/// milliseconds; `ms`, `s`, `min`, `h` units (`--statement-timeout` too).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim().trim_matches('\'');
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value: f64 = text[..split]
        .parse()
        .map_err(|_| format!("{text:?} is not a duration"))?;
    let seconds = match text[split..].trim() {
        "" | "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("unknown unit in {text:?}; use ms, s, min or h")),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?} must not be negative"));
    }
    Ok(Duration::from_secs_f64(value * seconds))
}

/// One connection's end of its cancel signal.
#[derive(Debug)]
pub struct SessionInterrupt {
    registry: Arc<Interrupts>,
    key: (i32, Bytes),
    receiver: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
}

impl Drop for SessionInterrupt {
    fn drop(&mut self) {
        if let Ok(mut sessions) = self.registry.sessions.lock() {
            sessions.remove(&self.key);
        }
    }
}

impl SessionInterrupt {
    /// Start a statement: cancel requests from now on, and the session's
    /// `statement_timeout` counted from now, interrupt it.
    pub fn start<C: ClientInfo>(&self, client: &C) -> StatementGuard {
        let mut cancel = self.receiver.clone();
        cancel.mark_unchanged();
        let timeout = client
            .metadata()
            .get(STATEMENT_TIMEOUT_KEY)
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis);
        StatementGuard {
            cancel,
            shutdown: self.shutdown.clone(),
            deadline: timeout.map(|t| Instant::now() + t),
            _running: Arc::clone(&self.registry.running),
        }
    }
}

/// What can stop one statement.
#[derive(Debug, Clone)]
pub struct StatementGuard {
    cancel: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
    deadline: Option<Instant>,
    _running: Arc<()>,
}

impl StatementGuard {
    /// The error for an interrupt that has already happened, without waiting.
    fn check(&self) -> Option<SqlError> {
        if *self.shutdown.borrow() {
            return Some(shutting_down());
        }
        // A dropped sender (connection gone) also stops the statement.
        if self.cancel.has_changed().unwrap_or(true) {
            return Some(cancelled());
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Some(timed_out()),
            _ => None,
        }
    }

    /// Completes with the error when the statement is cancelled or times out.
    async fn interrupted(mut self) -> SqlError {
        if let Some(e) = self.check() {
            return e;
        }
        let deadline = self.deadline;
        let timeout = async move {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = self.cancel.changed() => cancelled(),
            _ = shutdown.wait_for(|down| *down) => shutting_down(),
            () = timeout => timed_out(),
        }
    }

    /// Run the handler's part of a statement (parsing, planning, or all of
    /// one of ecomsql's statements) under the guard; an interrupt drops it.
    pub async fn run<T>(&self, work: impl Future<Output = PgWireResult<T>>) -> PgWireResult<T> {
        tokio::select! {
            result = work => result,
            e = self.clone().interrupted() => Err(interrupt_error(&e)),
        }
    }

    /// Put the guard on a response's row or COPY stream.
    pub fn guard_response(&self, response: Response) -> Response {
        match response {
            Response::Query(mut query) => {
                let rows =
                    std::mem::replace(&mut query.data_rows, Box::pin(futures::stream::empty()));
                query.data_rows = Box::pin(Guarded::new(rows, self.clone()));
                Response::Query(query)
            }
            Response::CopyOut(mut copy) => {
                let data =
                    std::mem::replace(&mut copy.data_stream, Box::pin(futures::stream::empty()));
                copy.data_stream = Box::pin(Guarded::new(data, self.clone()));
                Response::CopyOut(copy)
            }
            other => other,
        }
    }
}

fn cancelled() -> SqlError {
    SqlError::new(
        SqlState::QUERY_CANCELED,
        "canceling statement due to user request",
    )
}

fn timed_out() -> SqlError {
    SqlError::new(
        SqlState::QUERY_CANCELED,
        "canceling statement due to statement timeout",
    )
}

fn shutting_down() -> SqlError {
    SqlError::new(
        SqlState::ADMIN_SHUTDOWN,
        "terminating connection due to administrator command",
    )
}

fn interrupt_error(e: &SqlError) -> PgWireError {
    let mut info = super::response::error_info(e);
    // Postgres ends the session after a shutdown interrupt; pgwire closes
    // the connection after a FATAL error.
    if e.state == SqlState::ADMIN_SHUTDOWN {
        info.severity = "FATAL".into();
    }
    PgWireError::UserError(Box::new(info))
}

/// Rows between two looks at the clock and the cancel flag while the inner
/// stream has rows ready (when it has none, the guard waits on both).
const CHECK_EVERY: u32 = 64;

/// A stream that ends with a 57014 error once its statement is interrupted,
/// dropping the inner stream (and with it the query's execution).
struct Guarded<T> {
    inner: Option<Pin<Box<dyn Stream<Item = PgWireResult<T>> + Send>>>,
    guard: StatementGuard,
    wait: Pin<Box<dyn Future<Output = SqlError> + Send>>,
    since_check: u32,
}

impl<T> Guarded<T> {
    fn new(
        inner: Pin<Box<dyn Stream<Item = PgWireResult<T>> + Send>>,
        guard: StatementGuard,
    ) -> Self {
        Self {
            inner: Some(inner),
            wait: Box::pin(guard.clone().interrupted()),
            guard,
            since_check: 0,
        }
    }

    fn stop(&mut self, e: &SqlError) -> Poll<Option<PgWireResult<T>>> {
        self.inner = None;
        Poll::Ready(Some(Err(interrupt_error(e))))
    }
}

impl<T> Stream for Guarded<T> {
    type Item = PgWireResult<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        this.since_check += 1;
        if this.since_check >= CHECK_EVERY {
            this.since_check = 0;
            if let Some(e) = this.guard.check() {
                return this.stop(&e);
            }
        }
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(item) => {
                if item.is_none() {
                    this.inner = None;
                }
                Poll::Ready(item)
            }
            // Waiting on the query: wake up for an interrupt too.
            Poll::Pending => match this.wait.as_mut().poll(cx) {
                Poll::Ready(e) => this.stop(&e),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_postgres_reads_them() {
        assert_eq!(parse_duration("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("'1.5s'"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
