//! Catalog tables served from memory: read a table whole, and answer a scan
//! from rows already made. The catalog wrappers (`pg_class`, `pg_index`,
//! `pg_type`, `pg_proc`, `information_schema.columns`, `ecomsql.models`)
//! are small tables, rebuilt or converted on each scan or once.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::{ExecutionPlan, collect};

/// Every row of `table`, each batch passed through `convert`.
pub(super) async fn read_all(
    table: &dyn TableProvider,
    state: &dyn Session,
    convert: impl Fn(&RecordBatch) -> Result<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let plan = table.scan(state, None, &[], None).await?;
    collect(plan, state.task_ctx())
        .await?
        .iter()
        .map(convert)
        .collect()
}

/// A scan of `rows` (with `schema`), projected, filtered and limited.
pub(super) async fn serve(
    schema: &SchemaRef,
    rows: Vec<RecordBatch>,
    state: &dyn Session,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> Result<Arc<dyn ExecutionPlan>> {
    MemTable::try_new(Arc::clone(schema), vec![rows])?
        .scan(state, projection, filters, limit)
        .await
}
