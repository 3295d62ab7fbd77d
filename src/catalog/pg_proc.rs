//! ecomsql's functions in `pg_catalog.pg_proc`, so psql's `\df` and BI
//! tools' function pickers list them with their arguments.
//!
//! datafusion-pg-catalog serves a static snapshot of Postgres's own
//! `pg_proc`; this wraps its `pg_catalog` schema so `pg_proc` has those rows
//! plus one per ecomsql function, in the `public` schema;
//! `crate::functions::pg_get_function` gives their argument and result
//! texts.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::rows::{read_all, serve};

/// One ecomsql function as `\df` shows it.
#[derive(Debug)]
pub struct FunctionEntry {
    pub name: &'static str,
    /// `f` scalar or table function, `a` aggregate (Postgres's `prokind`).
    pub kind: char,
    pub arguments: &'static str,
    pub result: &'static str,
}

/// Every SQL function ecomsql adds (Postgres built-ins it implements, such
/// as `version()` or `current_setting`, are Postgres's own and already in
/// the snapshot). A test checks this against the registered functions.
pub const FUNCTIONS: &[FunctionEntry] = &[
    FunctionEntry {
        name: "predict_purchase",
        kind: 'f',
        arguments: "model text, VARIADIC features \"any\"",
        result: "double precision",
    },
    FunctionEntry {
        name: "explain_purchase",
        kind: 'f',
        arguments: "model text, VARIADIC features \"any\"",
        result: "record[] (feature text, contribution double precision)",
    },
    FunctionEntry {
        name: "sentiment",
        kind: 'f',
        arguments: "[model text,] review text",
        result: "double precision",
    },
    FunctionEntry {
        name: "sentiment_label",
        kind: 'f',
        arguments: "[model text,] review text",
        result: "text",
    },
    FunctionEntry {
        name: "sentiment_aspects",
        kind: 'f',
        arguments: "review text",
        result: "record (quality, price, delivery, service, packaging, fit double precision)",
    },
    FunctionEntry {
        name: "detect_language",
        kind: 'f',
        arguments: "review text",
        result: "text",
    },
    FunctionEntry {
        name: "roc_auc",
        kind: 'a',
        arguments: "score double precision, label boolean",
        result: "double precision",
    },
    FunctionEntry {
        name: "log_loss",
        kind: 'a',
        arguments: "score double precision, label boolean",
        result: "double precision",
    },
    FunctionEntry {
        name: "brier_score",
        kind: 'a',
        arguments: "score double precision, label boolean",
        result: "double precision",
    },
    FunctionEntry {
        name: "forecast_ar",
        kind: 'a',
        arguments: "time, value double precision, horizon bigint [, options text]",
        result: "record[] (ts, step, forecast, lower, upper, method)",
    },
    FunctionEntry {
        name: "forecast_ar",
        kind: 'f',
        arguments: "model text, horizon bigint [, confidence_level double precision]",
        result: "SETOF record (series, ts, step, forecast, lower, upper, method)",
    },
    FunctionEntry {
        name: "recommend",
        kind: 'f',
        arguments: "model text, k bigint [, user_id [, options text]]",
        result: "SETOF record (user_id, item_id, score, rank, source)",
    },
    FunctionEntry {
        name: "recommend_fold_in",
        kind: 'f',
        arguments: "model text, query text, k bigint [, options text]",
        result: "SETOF record (user_id, item_id, score, rank, source)",
    },
    FunctionEntry {
        name: "similar_items",
        kind: 'f',
        arguments: "model text, item_id, k bigint [, options text]",
        result: "SETOF record (item_id, similar_item_id, score, rank, source)",
    },
    FunctionEntry {
        name: "model_weights",
        kind: 'f',
        arguments: "model text",
        result: "SETOF record",
    },
    FunctionEntry {
        name: "model_info",
        kind: 'f',
        arguments: "model text",
        result: "SETOF record (property text, value text)",
    },
    FunctionEntry {
        name: "model_versions",
        kind: 'f',
        arguments: "model text",
        result: "SETOF record (version, created_at, training_rows, metric, metric_value, current)",
    },
    FunctionEntry {
        name: "single_value",
        kind: 'a',
        arguments: "anyelement",
        result: "anyelement",
    },
];

/// Our functions' oids: far above the ones datafusion-pg-catalog hands out
/// to tables and schemas (from 16384 up).
const FIRST_OID: i32 = 900_000_000;

/// The entry of one of our function oids.
pub fn entry_by_oid(oid: i64) -> Option<&'static FunctionEntry> {
    let index = usize::try_from(oid - i64::from(FIRST_OID)).ok()?;
    FUNCTIONS.get(index)
}

/// `pg_catalog` with ecomsql's functions in `pg_proc`, `pg_index`'s vector
/// columns as arrays ([`super::pg_index`]), `pg_class`'s missing columns
/// ([`super::pg_class`]) and `pg_type`'s receive/send functions as oids
/// ([`super::pg_type`]).
#[derive(Debug)]
pub struct PgCatalogWithFunctions {
    inner: Arc<dyn SchemaProvider>,
    /// The snapshot's rows, read once: they never change.
    builtin_rows: Arc<tokio::sync::OnceCell<Vec<RecordBatch>>>,
    /// `pg_index` with array columns ([`super::pg_index`]), made once.
    index: tokio::sync::OnceCell<Option<Arc<dyn TableProvider>>>,
    /// Filled by `pg_class` scans, read by `pg_table_size`.
    files: super::RelationFiles,
    /// The snapshot's function names → oids, for `pg_type`.
    proc_oids: Arc<tokio::sync::OnceCell<std::collections::HashMap<String, i32>>>,
}

impl PgCatalogWithFunctions {
    pub fn new(inner: Arc<dyn SchemaProvider>, files: super::RelationFiles) -> Self {
        Self {
            inner,
            builtin_rows: Arc::default(),
            index: tokio::sync::OnceCell::new(),
            files,
            proc_oids: Arc::default(),
        }
    }
}

#[async_trait]
impl SchemaProvider for PgCatalogWithFunctions {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let table = self.inner.table(name).await?;
        if name.eq_ignore_ascii_case("pg_class") {
            let Some(table) = table else {
                return Ok(None);
            };
            let namespaces = self.inner.table("pg_namespace").await?;
            return Ok(Some(Arc::new(super::pg_class::ClassTable::new(
                table,
                namespaces,
                self.files.clone(),
            ))));
        }
        if name.eq_ignore_ascii_case("pg_type") {
            let Some(table) = table else {
                return Ok(None);
            };
            let procs = self.inner.table("pg_proc").await?;
            return Ok(Some(Arc::new(super::pg_type::TypeTable::new(
                table,
                procs,
                Arc::clone(&self.proc_oids),
            ))));
        }
        if name.eq_ignore_ascii_case("pg_index") {
            let index = self.index.get_or_init(|| async {
                table.map(|t| Arc::new(super::pg_index::IndexTable::new(t)) as _)
            });
            return Ok(index.await.clone());
        }
        if !name.eq_ignore_ascii_case("pg_proc") {
            return Ok(table);
        }
        let Some(builtin) = table else {
            return Ok(None);
        };
        let namespaces = self.inner.table("pg_namespace").await?;
        Ok(Some(Arc::new(ProcTable {
            schema: nullable(&builtin.schema()),
            builtin,
            builtin_rows: Arc::clone(&self.builtin_rows),
            namespaces,
        })))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<Field>>(),
    ))
}

/// The snapshot's rows (read on first use) plus ours, with ours in the
/// `public` schema's current oid (looked up per scan: datafusion-pg-catalog
/// hands out schema oids as it goes).
#[derive(Debug)]
struct ProcTable {
    schema: SchemaRef,
    builtin: Arc<dyn TableProvider>,
    builtin_rows: Arc<tokio::sync::OnceCell<Vec<RecordBatch>>>,
    namespaces: Option<Arc<dyn TableProvider>>,
}

impl ProcTable {
    async fn public_oid(&self, state: &dyn Session) -> Result<Option<i32>> {
        let Some(namespaces) = &self.namespaces else {
            return Ok(None);
        };
        for batch in read_all(namespaces.as_ref(), state, |b| Ok(b.clone())).await? {
            let (Some(oids), Some(names)) =
                (batch.column_by_name("oid"), batch.column_by_name("nspname"))
            else {
                continue;
            };
            let oids = cast(oids, &DataType::Int32)?;
            let names = cast(names, &DataType::Utf8)?;
            let (oids, names) = (oids.as_primitive::<Int32Type>(), names.as_string::<i32>());
            for i in 0..batch.num_rows() {
                if names.is_valid(i) && names.value(i) == "public" && oids.is_valid(i) {
                    return Ok(Some(oids.value(i)));
                }
            }
        }
        Ok(None)
    }

    fn our_rows(&self, namespace: Option<i32>) -> Result<RecordBatch> {
        let n = FUNCTIONS.len();
        let oids: ArrayRef = Arc::new(Int32Array::from_iter_values(
            (0..n).map(|i| FIRST_OID + i as i32),
        ));
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(
            FUNCTIONS.iter().map(|f| f.name),
        ));
        let kinds: ArrayRef = Arc::new(StringArray::from_iter_values(
            FUNCTIONS.iter().map(|f| f.kind.to_string()),
        ));
        let namespace: ArrayRef = Arc::new(Int32Array::from(vec![namespace; n]));
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|field| {
                let source = match field.name().as_str() {
                    "oid" => Some(&oids),
                    "proname" => Some(&names),
                    "prokind" => Some(&kinds),
                    "pronamespace" => Some(&namespace),
                    _ => None,
                };
                match source {
                    Some(array) => Ok(cast(array, field.data_type())?),
                    None => Ok(datafusion::arrow::array::new_null_array(
                        field.data_type(),
                        n,
                    )),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[async_trait]
impl TableProvider for ProcTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let builtin = self
            .builtin_rows
            .get_or_try_init(|| {
                read_all(self.builtin.as_ref(), state, |b| {
                    RecordBatch::try_new(Arc::clone(&self.schema), b.columns().to_vec())
                        .map_err(Into::into)
                })
            })
            .await?;
        let mut batches = builtin.clone();
        batches.push(self.our_rows(self.public_oid(state).await?)?);
        serve(&self.schema, batches, state, projection, filters, limit).await
    }
}
