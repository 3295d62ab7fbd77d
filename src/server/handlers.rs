//! pgwire handlers: ecomsql's statements first, everything else delegated to
//! datafusion-postgres's `DfSessionService`.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::{DfSessionService, Parser, QueryHook};
use futures::{Sink, SinkExt};
use log::debug;
use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DescribePortalResponse, FieldInfo, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, ErrorHandler, PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::{NoticeResponse, TransactionStatus};
use pgwire::messages::startup::ParameterStatus;

use super::array_subquery::ArraySubqueryHook;
use super::auth::{AuthConfig, EcomStartupHandler, Role, SessionRole};
use super::interrupt::Interrupts;
use super::response::{error_info, map_error, output_response, schema_fields};
use crate::engine::{Engine, Notices};
use crate::error::SqlError;
use crate::statements::{Deallocate, EcomStatement, no_such_statement, split_statements};

/// The statement type datafusion-postgres stores per prepared statement. It
/// must stay exactly this: its cursor hook downcasts the portal store to it.
/// ecomsql's own statements are stored as `(sql, None)` and recognised again
/// from the text at Execute.
pub type DfStatement = (String, Option<(Statement, LogicalPlan)>);

/// Every handler of one server, shared by all its connections.
pub struct EcomHandlers {
    queries: Arc<EcomQueryHandler>,
    startup: Arc<EcomStartupHandler>,
    cancel: Arc<EcomCancelHandler>,
    auth: AuthConfig,
    connections: Arc<ConnectionManager>,
    /// Seeds the made-up SCRAM salts of unknown users.
    secret: Arc<[u8; 32]>,
}

impl EcomHandlers {
    pub fn new(engine: Arc<Engine>, interrupts: Arc<Interrupts>, auth: AuthConfig) -> Self {
        let connections = Arc::new(ConnectionManager::new());
        let secret = Arc::new(rand::random::<[u8; 32]>());
        let queries = Arc::new(EcomQueryHandler::for_session(
            Arc::clone(&engine),
            engine.session_context().clone(),
            Arc::clone(&interrupts),
        ));
        Self {
            queries,
            startup: Arc::new(EcomStartupHandler::new(
                auth.clone(),
                Arc::clone(&connections),
                Arc::clone(&secret),
            )),
            cancel: Arc::new(EcomCancelHandler {
                planning: DefaultCancelHandler::new(Arc::clone(&connections)),
                interrupts,
            }),
            auth,
            connections,
            secret,
        }
    }

    /// The handlers of one connection: its own copy of the session (so a
    /// `SET datafusion.*` stays in the connection that ran it) over the
    /// shared tables, functions, memory pool and model store, and the
    /// server-wide connection registry that cancel requests look in.
    pub fn for_connection(&self) -> Self {
        let engine = Arc::clone(&self.queries.engine);
        let state = datafusion::execution::SessionStateBuilder::new_from_existing(
            engine.session_context().state(),
        )
        .build();
        let ctx = datafusion::prelude::SessionContext::new_with_state(state);
        Self {
            queries: Arc::new(EcomQueryHandler::for_session(
                engine,
                ctx,
                Arc::clone(&self.queries.interrupts),
            )),
            // Its own: a SCRAM exchange is per connection.
            startup: Arc::new(EcomStartupHandler::new(
                self.auth.clone(),
                Arc::clone(&self.connections),
                Arc::clone(&self.secret),
            )),
            cancel: Arc::clone(&self.cancel),
            auth: self.auth.clone(),
            connections: Arc::clone(&self.connections),
            secret: Arc::clone(&self.secret),
        }
    }
}

impl PgWireServerHandlers for EcomHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(SqlStateErrorHandler)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::clone(&self.cancel)
    }
}

/// Cancel requests stop the connection's statement wherever it is: pgwire's
/// handler covers the planning step it races, [`Interrupts`] the execution
/// and the rows.
pub struct EcomCancelHandler {
    planning: DefaultCancelHandler,
    interrupts: Arc<Interrupts>,
}

#[async_trait]
impl CancelHandler for EcomCancelHandler {
    async fn on_cancel_request(&self, request: pgwire::messages::cancel::CancelRequest) {
        self.interrupts.cancel(request.pid, &request.secret_key);
        self.planning.on_cancel_request(request).await;
    }
}

/// Gives every error that reaches the client a real SQLSTATE instead of
/// datafusion-postgres's blanket XX000.
struct SqlStateErrorHandler;

impl ErrorHandler for SqlStateErrorHandler {
    fn on_error<C>(&self, _client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        let mapped = map_error(std::mem::replace(error, PgWireError::NotReadyForQuery));
        debug!("sending error: {mapped}");
        *error = mapped;
    }
}

/// Runs queries on both protocols.
pub struct EcomQueryHandler {
    engine: Arc<Engine>,
    upstream: Arc<DfSessionService>,
    parser: Arc<EcomParser>,
    interrupts: Arc<Interrupts>,
}

impl EcomQueryHandler {
    /// Queries of one session: datafusion-postgres over `ctx`, ecomsql's
    /// statements through the engine.
    fn for_session(
        engine: Arc<Engine>,
        ctx: datafusion::prelude::SessionContext,
        interrupts: Arc<Interrupts>,
    ) -> Self {
        // datafusion-postgres's own hooks (cursors, SET/SHOW, transactions)
        // after ours.
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(ArraySubqueryHook),
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        let upstream = Arc::new(DfSessionService::new_with_hooks(
            Arc::new(ctx.clone()),
            hooks,
        ));
        let parser = Arc::new(EcomParser {
            upstream: ExtendedQueryHandler::query_parser(upstream.as_ref()),
            ctx,
        });
        Self {
            engine,
            upstream,
            parser,
            interrupts,
        }
    }
}

/// Whether `sql` starts with `ROLLBACK TO [SAVEPOINT]`.
fn starts_with_rollback_to(sql: &str) -> bool {
    let first = match split_statements(sql) {
        Ok(statements) => statements.into_iter().next(),
        Err(_) => None,
    };
    first.is_some_and(|s| {
        matches!(
            EcomStatement::recognise(s.text),
            Ok(Some(EcomStatement::Savepoint(ref p))) if p.kind == crate::statements::SavepointKind::RollbackTo
        )
    })
}

/// `ROLLBACK TO` in a failed block reopens it, as in Postgres. pgwire
/// reads the connection's transaction state before running a statement
/// and has no step from failed back to open, so the state is put back to
/// open first; the statement then runs as in an open block.
fn reopen_for_rollback_to<C: ClientInfo>(client: &mut C, sql: &str) {
    if client.transaction_status() == TransactionStatus::Error && starts_with_rollback_to(sql) {
        client.set_transaction_status(TransactionStatus::Transaction);
    }
}

#[async_trait]
impl SimpleQueryHandler for EcomQueryHandler {
    async fn on_query<C>(
        &self,
        client: &mut C,
        query: pgwire::messages::simplequery::Query,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        reopen_for_rollback_to(client, &query.query);
        self._on_query(client, query).await
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = match split_statements(query) {
            Ok(statements) => statements,
            Err(e) => return Ok(vec![Response::Error(Box::new(error_info(&e)))]),
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        // Like Postgres: results of the statements before a failing one are
        // sent, the rest of the string is not run.
        let mut responses = Vec::with_capacity(statements.len());
        let session = self.interrupts.session(client);
        super::settings::remember(client);
        for statement in statements {
            // Each statement has its own statement_timeout, as in Postgres.
            let guard = session.start(client);
            match guard.run(self.run_statement(statement.text, client)).await {
                Ok(rs) => {
                    // pgwire moves the connection's transaction state only
                    // after the whole query; the next statement must see
                    // this one's BEGIN or COMMIT ("BEGIN; SAVEPOINT s").
                    let mut status = client.transaction_status();
                    for r in &rs {
                        status = match r {
                            Response::TransactionStart(_) => status.to_in_transaction_state(),
                            Response::TransactionEnd(_) => status.to_idle_state(),
                            Response::Error(_) => status.to_error_state(),
                            _ => status,
                        };
                    }
                    client.set_transaction_status(status);
                    responses.extend(rs.into_iter().map(|r| guard.guard_response(r)));
                }
                Err(e) => {
                    responses.push(Response::Error(Box::new(map_error(e).into())));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

impl EcomQueryHandler {
    /// One statement of a simple query: ours, or datafusion-postgres's.
    async fn run_statement<C>(&self, sql: &str, client: &mut C) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        authorize(client, sql)?;
        match EcomStatement::recognise(sql) {
            Ok(Some(EcomStatement::Deallocate(deallocate))) => {
                deallocate_statement(&deallocate, client.portal_store()).map(|r| vec![r])
            }
            Ok(Some(EcomStatement::Copy(copy))) => super::copy::copy_out(&self.engine, &copy)
                .await
                .map(|r| vec![r]),
            Ok(Some(EcomStatement::Savepoint(savepoint))) => {
                savepoint_response(&savepoint, client.transaction_status()).map(|r| vec![r])
            }
            Ok(Some(EcomStatement::Discard(discard))) => {
                self.discard(&discard, client).await.map(|r| vec![r])
            }
            Ok(Some(ours)) => self
                .run_own(&ours, client, &Format::UnifiedText)
                .await
                .map(|r| vec![r]),
            Ok(None) => {
                let sql = super::rewrite::rewrite(sql);
                <DfSessionService as SimpleQueryHandler>::do_query(&self.upstream, client, &sql)
                    .await
            }
            Err(e) => Err(user_error(e)),
        }
    }
}

impl EcomQueryHandler {
    /// Run one of ecomsql's statements, forwarding its progress messages to
    /// the client as NOTICEs while it runs (psql prints them as they come).
    async fn run_own<C>(
        &self,
        statement: &EcomStatement,
        client: &mut C,
        format: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (notices, mut messages) = Notices::channel();
        let execution = statement.execute(&self.engine, &notices);
        tokio::pin!(execution);
        let result = loop {
            tokio::select! {
                result = &mut execution => break result,
                Some(message) = messages.recv() => send_notice(client, message).await?,
            }
        };
        while let Ok(message) = messages.try_recv() {
            send_notice(client, message).await?;
        }
        let output = result.map_err(|e| PgWireError::ApiError(Box::new(e)))?;
        output_response(output, format, client)
    }
}

async fn send_notice<C>(client: &mut C, message: String) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let info = ErrorInfo::new("NOTICE".into(), "00000".into(), message);
    client
        .send(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
            info,
        )))
        .await?;
    Ok(())
}

#[async_trait]
impl ExtendedQueryHandler for EcomQueryHandler {
    type Statement = DfStatement;
    type QueryParser = EcomParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::clone(&self.parser)
    }

    async fn on_execute<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Execute,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let portal_name = message.name.as_deref().unwrap_or(pgwire::api::DEFAULT_NAME);
        let sql = match client.portal_store().get_portal(portal_name) {
            Some(pgwire::api::store::Entry::Value(portal)) => {
                Some(portal.statement.statement.0.clone())
            }
            _ => None,
        };
        if let Some(sql) = sql {
            reopen_for_rollback_to(client, &sql);
        }
        self._on_execute(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.interrupts.session(client);
        super::settings::remember(client);
        let guard = session.start(client);
        let response = guard.run(self.run_portal(client, portal, max_rows)).await?;
        Ok(guard.guard_response(response))
    }

    /// A portal opened by `DECLARE ... CURSOR` carries no plan, so the
    /// parser cannot describe it; its rows are already being produced, and
    /// their description is the cursor's. (psycopg describes a named
    /// cursor's portal before its first FETCH and reads rows by that
    /// description.)
    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        target: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if target.statement.statement.1.is_none() {
            let state = target.state();
            let state = state.lock().await;
            if let PortalExecutionState::Suspended(response) = &*state {
                return Ok(DescribePortalResponse::new(
                    response.row_schema().as_ref().clone(),
                ));
            }
        }
        let schema = self.parser.get_result_schema(
            &target.statement.statement,
            Some(&target.result_column_format),
        )?;
        Ok(DescribePortalResponse::new(schema))
    }
}

impl EcomQueryHandler {
    /// One Execute of a portal that has not started: ours, or
    /// datafusion-postgres's.
    async fn run_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<DfStatement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = DfStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (sql, parsed) = &portal.statement.statement;
        if parsed.is_none()
            && let Some(ours) = EcomStatement::recognise(sql).map_err(user_error)?
        {
            if let EcomStatement::Deallocate(deallocate) = &ours {
                return deallocate_statement(deallocate, client.portal_store());
            }
            if let EcomStatement::Copy(copy) = &ours {
                return super::copy::copy_out(&self.engine, copy).await;
            }
            if let EcomStatement::Savepoint(savepoint) = &ours {
                return savepoint_response(savepoint, client.transaction_status());
            }
            if let EcomStatement::TypeIntrospection = &ours {
                return super::introspection::respond(portal);
            }
            if let EcomStatement::Discard(discard) = &ours {
                return self.discard(discard, client).await;
            }
            return self
                .run_own(&ours, client, &portal.result_column_format)
                .await;
        }
        <DfSessionService as ExtendedQueryHandler>::do_query(
            &self.upstream,
            client,
            portal,
            max_rows,
        )
        .await
    }
}

/// Parses prepared statements: ecomsql's own are kept as text, the rest go
/// to datafusion-postgres's parser and planner.
pub struct EcomParser {
    upstream: Arc<Parser>,
    ctx: datafusion::prelude::SessionContext,
}

#[async_trait]
impl QueryParser for EcomParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        authorize(client, sql)?;
        if EcomStatement::recognise(sql).map_err(user_error)?.is_some() {
            return Ok(Some((sql.to_string(), None)));
        }
        let sql = super::rewrite::rewrite(sql);
        match self.upstream.parse_sql(client, &sql, types).await? {
            Some((query, Some((statement, plan)))) => {
                let plan = super::parameters::typed_plan(&self.ctx, &statement, plan, types).await;
                let plan = match statement {
                    Statement::Query(_) => super::parameters::with_every_parameter(plan, types),
                    _ => plan,
                };
                Ok(Some((query, Some((statement, plan)))))
            }
            other => Ok(other),
        }
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        if let (sql, None) = stmt
            && let Ok(Some(EcomStatement::TypeIntrospection)) = EcomStatement::recognise(sql)
        {
            return Ok(vec![Type::OID_ARRAY]);
        }
        self.upstream.get_parameter_types(stmt)
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        if let (sql, None) = stmt
            && let Some(ours) = EcomStatement::recognise(sql).map_err(user_error)?
        {
            if let EcomStatement::TypeIntrospection = ours {
                return Ok(super::introspection::fields(
                    column_format.unwrap_or(&Format::UnifiedText),
                ));
            }
            return match ours.result_schema() {
                Some(schema) => schema_fields(&schema, column_format),
                None => Ok(Vec::new()),
            };
        }
        self.upstream.get_result_schema(stmt, column_format)
    }
}

/// `DEALLOCATE name` drops that prepared statement (26000 if there is none).
/// `DEALLOCATE ALL` is acknowledged: pgwire's statement store cannot list its
/// statements to drop them, and a client that prepares again under an old
/// name replaces the old statement, so clients behave as after a real
/// DEALLOCATE ALL; the statements are freed when the connection closes.
fn deallocate_statement<S: PortalStore>(
    deallocate: &Deallocate,
    store: &S,
) -> PgWireResult<Response> {
    match &deallocate.name {
        None => Ok(Response::Execution(Tag::new("DEALLOCATE ALL"))),
        Some(name) => {
            if store.get_statement(name).is_none() {
                return Err(user_error(no_such_statement(name)));
            }
            store.rm_statement(name);
            Ok(Response::Execution(Tag::new("DEALLOCATE")))
        }
    }
}

/// A savepoint statement's answer for the connection's transaction state
/// (see [`crate::statements::Savepoint`]). A ROLLBACK TO in a failed block
/// finds it open again ([`reopen_for_rollback_to`]).
fn savepoint_response(
    savepoint: &crate::statements::Savepoint,
    status: TransactionStatus,
) -> PgWireResult<Response> {
    use crate::error::SqlState;
    let tag = Tag::new(savepoint.tag());
    match (status, savepoint.kind) {
        (TransactionStatus::Idle, _) => Err(user_error(SqlError::new(
            SqlState::NO_ACTIVE_SQL_TRANSACTION,
            format!("{} can only be used in transaction blocks", savepoint.tag()),
        ))),
        (TransactionStatus::Error, _) => Err(user_error(SqlError::new(
            SqlState::IN_FAILED_SQL_TRANSACTION,
            "current transaction is aborted, commands ignored until end of transaction block",
        ))),
        (TransactionStatus::Transaction, _) => Ok(Response::Execution(tag)),
    }
}

impl EcomQueryHandler {
    /// `DISCARD ALL` closes the connection's portals (cursors) and, like
    /// `RESET ALL`, puts the session's settings back; it cannot run in a
    /// transaction block. `RESET name` puts one setting back. The other
    /// forms have nothing to discard.
    async fn discard<C>(
        &self,
        discard: &crate::statements::Discard,
        client: &mut C,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if discard.all {
            if client.transaction_status() != TransactionStatus::Idle {
                return Err(user_error(SqlError::new(
                    crate::error::SqlState::ACTIVE_SQL_TRANSACTION,
                    "DISCARD ALL cannot run inside a transaction block",
                )));
            }
            client.portal_store().clear_portals();
        }
        let server = self
            .engine
            .session_context()
            .state()
            .config()
            .options()
            .clone();
        let reported = {
            let session = self.parser.ctx.state_ref();
            let mut state = session.write();
            super::settings::reset(
                client,
                &discard.reset,
                state.config_mut().options_mut(),
                &server,
            )
            .map_err(user_error)?
        };
        for (name, value) in reported {
            client
                .send(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                    name, value,
                )))
                .await?;
        }
        Ok(Response::Execution(Tag::new(discard.tag)))
    }
}

/// Whether the session may run `sql`: not nested deeper than planning can
/// take, and only statements that read for read-only sessions.
fn authorize<C: ClientInfo>(client: &C, sql: &str) -> PgWireResult<()> {
    crate::statements::check_depth(sql).map_err(user_error)?;
    let read_only = client
        .session_extensions()
        .get::<SessionRole>()
        .is_some_and(|r| r.0 == Role::ReadOnly);
    if !read_only {
        return Ok(());
    }
    let user = client
        .metadata()
        .get(pgwire::api::METADATA_USER)
        .map_or("", String::as_str);
    super::roles::check_read_only(sql, user).map_err(user_error)
}

fn user_error(e: SqlError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(&e)))
}
