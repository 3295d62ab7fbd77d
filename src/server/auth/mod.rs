//! Who may connect, and as what: `trust`, `password` (cleartext, meant for
//! TLS connections) or `scram` (SCRAM-SHA-256) against a users file, an
//! optional TLS requirement, and the role each session gets.

pub mod scram;
pub mod users;

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use log::{info, warn};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, ConnectionHandle, ConnectionManager, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{Authentication, SecretKey};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

pub use users::{Role, Users};

use scram::{Exchange, ScramError};

/// How clients prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Anyone, as any user, with the admin role (loopback only by default).
    Trust,
    /// The password in clear, checked against the verifier (use with TLS).
    Password,
    /// SCRAM-SHA-256: the password never crosses the wire.
    Scram,
    /// MD5 challenge-response, for clients too old for SCRAM; only users
    /// added with `--md5` can log in this way.
    Md5,
}

impl AuthMethod {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "trust" => Some(Self::Trust),
            "password" => Some(Self::Password),
            "scram" | "scram-sha-256" => Some(Self::Scram),
            "md5" => Some(Self::Md5),
            _ => None,
        }
    }
}

/// The role a session logged in with, kept in its session extensions.
#[derive(Debug, Clone, Copy)]
pub struct SessionRole(pub Role);

/// The users file, re-read when it changes so `ecomsql user add` takes
/// effect without a restart.
#[derive(Debug)]
pub struct UsersSource {
    path: PathBuf,
    cached: Mutex<(Option<SystemTime>, Arc<Users>)>,
}

impl UsersSource {
    pub fn open(path: PathBuf) -> Result<Self, String> {
        if !path.exists() {
            return Err(format!(
                "users file {} does not exist (create it with `ecomsql user add NAME --users {}`)",
                path.display(),
                path.display()
            ));
        }
        let users = Users::load(&path)?;
        if users.is_empty() {
            return Err(format!("users file {} has no users", path.display()));
        }
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        Ok(Self {
            path,
            cached: Mutex::new((modified, Arc::new(users))),
        })
    }

    fn current(&self) -> Arc<Users> {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let Ok(mut cached) = self.cached.lock() else {
            return Arc::new(Users::default());
        };
        if modified != cached.0 {
            match Users::load(&self.path) {
                Ok(users) => {
                    info!("reloaded users file {}", self.path.display());
                    *cached = (modified, Arc::new(users));
                }
                // Keep serving with the last good file.
                Err(e) => warn!("users file not reloaded: {e}"),
            }
        }
        Arc::clone(&cached.1)
    }
}

/// The server's authentication settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub method: AuthMethod,
    pub users: Option<Arc<UsersSource>>,
    pub require_tls: bool,
    /// Wait before answering a failed login (slows password guessing).
    pub failure_delay: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            method: AuthMethod::Trust,
            users: None,
            require_tls: false,
            failure_delay: Duration::from_millis(500),
        }
    }
}

/// Pids for cancel keys: unique per server, random secrets beside them.
static NEXT_PID: AtomicI32 = AtomicI32::new(10_000);

/// The startup handler of one connection.
pub struct EcomStartupHandler {
    config: AuthConfig,
    connections: Arc<ConnectionManager>,
    /// Makes up salts for unknown users, stable for this server's life.
    secret: Arc<[u8; 32]>,
    scram: Mutex<Option<Exchange>>,
    /// The salt of this connection's MD5 challenge.
    md5_salt: [u8; 4],
}

impl EcomStartupHandler {
    pub fn new(
        config: AuthConfig,
        connections: Arc<ConnectionManager>,
        secret: Arc<[u8; 32]>,
    ) -> Self {
        Self {
            config,
            connections,
            secret,
            scram: Mutex::new(None),
            md5_salt: rand::random(),
        }
    }

    fn user<C: ClientInfo>(client: &C) -> String {
        client
            .metadata()
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default()
    }

    fn users(&self) -> Arc<Users> {
        self.config
            .users
            .as_ref()
            .map(|u| u.current())
            .unwrap_or_default()
    }

    /// Logged in: cancel key, role, parameters, ReadyForQuery.
    async fn accept<C>(&self, client: &mut C, role: Role) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let secret = SecretKey::I32(rand::random());
        client.set_pid_and_secret_key(pid, secret.clone());
        let (handle, guard) = self.connections.register(pid, secret);
        client
            .session_extensions()
            .insert::<Arc<ConnectionHandle>>(handle);
        client.session_extensions().insert(guard);
        client.session_extensions().insert(SessionRole(role));
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.server_version = crate::functions::server_version();
        parameters.is_superuser = role == Role::Admin;
        finish_authentication(client, &parameters).await
    }

    /// A failed login, after the delay; the same words whether the user
    /// exists or not.
    async fn reject<C: ClientInfo>(&self, client: &C) -> PgWireError {
        tokio::time::sleep(self.config.failure_delay).await;
        let user = Self::user(client);
        warn!(
            "{}: password authentication failed for user {user:?}",
            client.socket_addr()
        );
        fatal(
            crate::error::SqlState::INVALID_PASSWORD.code(),
            format!("password authentication failed for user \"{user}\""),
        )
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

fn protocol_violation(message: String) -> PgWireError {
    fatal("08P01", message)
}

#[async_trait]
impl StartupHandler for EcomStartupHandler {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                if self.config.require_tls && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this server requires TLS: connect with sslmode=require (or stronger)"
                            .into(),
                    ));
                }
                match self.config.method {
                    AuthMethod::Trust => self.accept(client, Role::Admin).await?,
                    AuthMethod::Password => {
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::CleartextPassword,
                            ))
                            .await?;
                    }
                    AuthMethod::Scram => {
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                                vec!["SCRAM-SHA-256".into()],
                            )))
                            .await?;
                    }
                    AuthMethod::Md5 => {
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::MD5Password(self.md5_salt.to_vec()),
                            ))
                            .await?;
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let user = Self::user(client);
                let users = self.users();
                let known = users.get(&user).cloned();
                match self.config.method {
                    AuthMethod::Trust => {
                        return Err(protocol_violation("unexpected password message".into()));
                    }
                    AuthMethod::Md5 => {
                        let answer = message.into_password()?.password;
                        let expected =
                            known.as_ref().and_then(|u| u.md5.as_deref()).map(|stored| {
                                // md5(hex(md5(password || user)) || salt), as libpq sends it.
                                let mut input =
                                    stored.trim_start_matches("md5").as_bytes().to_vec();
                                input.extend_from_slice(&self.md5_salt);
                                format!("md5{:x}", md5::compute(input))
                            });
                        match (known, expected) {
                            (Some(u), Some(expected))
                                if scram::constant_time_eq(
                                    expected.as_bytes(),
                                    answer.as_bytes(),
                                ) =>
                            {
                                self.accept(client, u.role).await?;
                            }
                            _ => return Err(self.reject(client).await),
                        }
                    }
                    AuthMethod::Password => {
                        let password = message.into_password()?.password;
                        match known {
                            Some(u) if u.verifier.matches(&password) => {
                                self.accept(client, u.role).await?;
                            }
                            _ => return Err(self.reject(client).await),
                        }
                    }
                    AuthMethod::Scram => {
                        let pending = self.scram.lock().ok().and_then(|mut s| s.take());
                        match pending {
                            None => {
                                let initial = message.into_sasl_initial_response()?;
                                if initial.auth_method != "SCRAM-SHA-256" {
                                    return Err(protocol_violation(format!(
                                        "SASL mechanism {} is not offered; use SCRAM-SHA-256",
                                        initial.auth_method
                                    )));
                                }
                                let data = initial.data.unwrap_or_default();
                                let verifier = known.as_ref().map(|u| &u.verifier);
                                let (exchange, server_first) =
                                    Exchange::start(&data, verifier, &user, self.secret.as_ref())
                                        .map_err(|e| match e {
                                        ScramError::BadMessage(m) => protocol_violation(m),
                                        ScramError::WrongPassword => {
                                            protocol_violation("unexpected".into())
                                        }
                                    })?;
                                if let Ok(mut slot) = self.scram.lock() {
                                    *slot = Some(exchange);
                                }
                                client
                                    .send(PgWireBackendMessage::Authentication(
                                        Authentication::SASLContinue(
                                            server_first.into_bytes().into(),
                                        ),
                                    ))
                                    .await?;
                            }
                            Some(exchange) => {
                                let response = message.into_sasl_response()?;
                                match exchange.finish(&response.data) {
                                    Ok(server_final) => {
                                        client
                                            .feed(PgWireBackendMessage::Authentication(
                                                Authentication::SASLFinal(
                                                    server_final.into_bytes().into(),
                                                ),
                                            ))
                                            .await?;
                                        let role = known.map_or(Role::ReadOnly, |u| u.role);
                                        self.accept(client, role).await?;
                                    }
                                    Err(ScramError::BadMessage(m)) => {
                                        return Err(protocol_violation(m));
                                    }
                                    Err(ScramError::WrongPassword) => {
                                        return Err(self.reject(client).await);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
