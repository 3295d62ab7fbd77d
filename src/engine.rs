//! The engine: the one place that owns the DataFusion `SessionContext`, the
//! data folder, the model store and the registration of ecomsql's functions.
//! The server, the CLI and the tests all go through it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;

use crate::catalog::{RegistrationReport, register_data_folder};
use crate::error::{SqlState, sql_err};
use crate::functions;
use crate::models::{ModelRegistry, ModelStore};
use crate::statements::EcomStatement;

/// The catalog ecomsql's tables live in; it is also what
/// `current_database()` answers.
pub const CATALOG: &str = "ecomsql";
/// The schema the data folder's tables are registered in.
pub const SCHEMA: &str = "public";
/// The model folder's name inside the data folder.
pub const MODELS_DIR_NAME: &str = "_models";

/// What one statement produced.
pub enum Output {
    /// A result set, streamed.
    Rows(SendableRecordBatchStream),
    /// A command without rows, with its Postgres command tag (e.g. `DROP MODEL`).
    Command(String),
}

impl Output {
    /// A result set from batches already in memory.
    pub fn batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let stream = futures::stream::iter(batches.into_iter().map(Ok));
        Self::Rows(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rows(stream) => f
                .debug_tuple("Rows")
                .field(&stream.schema().fields().len())
                .finish(),
            Self::Command(tag) => f.debug_tuple("Command").field(tag).finish(),
        }
    }
}

/// Progress messages of a long statement (training), sent to the client as
/// Postgres NOTICEs by the server and to standard error by the CLI.
#[derive(Debug, Clone, Default)]
pub struct Notices(Option<tokio::sync::mpsc::UnboundedSender<String>>);

impl Notices {
    /// Notices that go nowhere.
    pub fn none() -> Self {
        Self(None)
    }

    /// Notices and the receiving end to forward them from.
    pub fn channel() -> (Self, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Self(Some(tx)), rx)
    }

    /// True once the receiving end is gone: the statement was cancelled or
    /// timed out (the server dropped it) or the client disconnected. Long
    /// training loops check it so a cancelled CREATE MODEL stops its
    /// blocking work, not just its async part.
    pub fn cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|tx| tx.is_closed())
    }

    pub fn send(&self, message: impl Into<String>) {
        if let Some(tx) = &self.0 {
            // A receiver that went away (client disconnected) is not an error.
            let _ = tx.send(message.into());
        }
    }
}

/// Builds an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    data_dir: PathBuf,
    models_dir: Option<PathBuf>,
    memory_limit: Option<usize>,
}

impl EngineBuilder {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            models_dir: None,
            memory_limit: None,
        }
    }

    /// Cap the memory queries and model training may reserve in
    /// DataFusion's memory pool; what does not fit spills where DataFusion
    /// can, and fails with 53200 where it cannot.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Keep models somewhere other than `<data>/_models`.
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }

    /// Register the data folder's tables and ecomsql's functions. Problems
    /// with single files are in [`Engine::registration`], not errors.
    pub async fn build(self) -> Result<Engine> {
        if !self.data_dir.is_dir() {
            return Err(sql_err(
                SqlState::UNDEFINED_OBJECT,
                format!("data folder {} does not exist", self.data_dir.display()),
            ));
        }
        // Off: ecomsql registers its own information_schema (Postgres's type
        // names; `catalog::information_schema`), which DataFusion would
        // otherwise answer for itself.
        let config = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema(CATALOG, SCHEMA);
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = self.memory_limit {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(crate::optimizer::CooperativeJoins))
            // First, so type coercion sees the rewritten pattern and the
            // new aggregates.
            .with_analyzer_rules(
                [
                    Arc::new(crate::optimizer::LikeEscape) as _,
                    Arc::new(crate::optimizer::SingleRowSubqueries) as _,
                ]
                .into_iter()
                .chain(datafusion::optimizer::Analyzer::new().rules)
                .collect(),
            )
            .build();
        let ctx = SessionContext::new_with_state(state);
        let models_dir = self
            .models_dir
            .unwrap_or_else(|| self.data_dir.join(MODELS_DIR_NAME));
        let files =
            crate::catalog::DataFolderStore::new(&self.data_dir, &models_dir).map_err(|e| {
                sql_err(
                    SqlState::IO_ERROR,
                    format!("data folder {}: {e}", self.data_dir.display()),
                )
            })?;
        ctx.register_object_store(
            datafusion::execution::object_store::ObjectStoreUrl::local_filesystem().as_ref(),
            Arc::new(files),
        );
        setup_pg_catalog(&ctx, CATALOG, crate::catalog::roles::CatalogRoles).map_err(|e| *e)?;
        // ecomsql's functions join the snapshot of Postgres's pg_proc;
        // pg_class knows where the tables' files are, for pg_table_size.
        let relation_files = crate::catalog::RelationFiles::default();
        if let Some(catalog) = ctx.catalog(CATALOG)
            && let Some(pg_catalog) = catalog.schema("pg_catalog")
        {
            catalog.register_schema(
                "pg_catalog",
                Arc::new(crate::catalog::pg_proc::PgCatalogWithFunctions::new(
                    pg_catalog,
                    relation_files.clone(),
                )),
            )?;
        }
        functions::register_catalog_functions(&ctx, &relation_files).await?;

        let registration = register_data_folder(&ctx, &self.data_dir).await?;
        let models = Arc::new(ModelRegistry::new(ModelStore::new(models_dir)));
        functions::register_all(&ctx, &models);
        register_models_view(&ctx, models.store())?;
        // Last, so information_schema.routines sees every table function.
        if let Some(catalog) = ctx.catalog(CATALOG) {
            let state = ctx.state();
            let inner = datafusion::catalog::information_schema::InformationSchemaProvider::new(
                Arc::clone(state.catalog_list()),
            )
            .with_table_functions(state.table_functions().clone());
            catalog.register_schema(
                datafusion::catalog::information_schema::INFORMATION_SCHEMA,
                Arc::new(crate::catalog::information_schema::PgInformationSchema::new(inner)),
            )?;
        }
        Ok(Engine {
            ctx,
            data_dir: self.data_dir,
            models,
            registration,
        })
    }
}

/// The `ecomsql` schema with its `models` view.
fn register_models_view(ctx: &SessionContext, store: &ModelStore) -> Result<()> {
    use crate::catalog::models_view::{ModelsView, SCHEMA, VIEW};
    use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
    let Some(catalog) = ctx.catalog(CATALOG) else {
        return Err(sql_err(
            SqlState::INTERNAL_ERROR,
            format!("catalog {CATALOG} is missing"),
        ));
    };
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table(VIEW.to_string(), Arc::new(ModelsView::new(store.clone())))?;
    catalog.register_schema(SCHEMA, schema)?;
    Ok(())
}

/// A DataFusion session with ecomsql's tables, functions and models.
pub struct Engine {
    ctx: SessionContext,
    data_dir: PathBuf,
    models: Arc<ModelRegistry>,
    registration: RegistrationReport,
}

impl Engine {
    pub fn builder(data_dir: impl Into<PathBuf>) -> EngineBuilder {
        EngineBuilder::new(data_dir)
    }

    pub fn session_context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn model_store(&self) -> &ModelStore {
        self.models.store()
    }

    /// Loaded models (what the SQL functions use).
    pub fn models(&self) -> &Arc<ModelRegistry> {
        &self.models
    }

    /// The tables registered at start-up and the files that were skipped.
    pub fn registration(&self) -> &RegistrationReport {
        &self.registration
    }

    /// Run one statement: ecomsql's own statements here, everything else
    /// through DataFusion. Rows are streamed, not collected.
    pub async fn execute(&self, sql: &str) -> Result<Output> {
        self.execute_with_notices(sql, &Notices::none()).await
    }

    /// [`Engine::execute`], sending progress messages to `notices`.
    pub async fn execute_with_notices(&self, sql: &str, notices: &Notices) -> Result<Output> {
        crate::statements::check_depth(sql)?;
        if let Some(statement) = EcomStatement::recognise(sql)? {
            return statement.execute(self, notices).await;
        }
        let df = self.ctx.sql(sql).await?;
        Ok(Output::Rows(df.execute_stream().await?))
    }
}
