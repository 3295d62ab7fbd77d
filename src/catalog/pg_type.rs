//! `pg_catalog.pg_type` with its binary I/O functions as oids.
//!
//! In Postgres `typreceive` and `typsend` are `regproc`: oids of
//! `pg_proc` rows. datafusion-pg-catalog stores the functions' names, so
//! Npgsql's type loading (run on every connection Power BI opens), which
//! joins `pg_proc.oid = pg_type.typreceive` to find array types by their
//! `array_recv`, failed casting 'boolrecv' to an integer. Here the two
//! columns hold the oids of the snapshot's functions of those names (0 for
//! `-`, none, as Postgres stores it).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::rows::{read_all, serve};

const REGPROC_COLUMNS: [&str; 2] = ["typreceive", "typsend"];

/// `pg_type` over datafusion-pg-catalog's.
#[derive(Debug)]
pub struct TypeTable {
    inner: Arc<dyn TableProvider>,
    procs: Option<Arc<dyn TableProvider>>,
    schema: SchemaRef,
    /// pg_proc's names → oids, read once (the snapshot does not change).
    oids: Arc<tokio::sync::OnceCell<HashMap<String, i32>>>,
}

impl TypeTable {
    pub fn new(
        inner: Arc<dyn TableProvider>,
        procs: Option<Arc<dyn TableProvider>>,
        oids: Arc<tokio::sync::OnceCell<HashMap<String, i32>>>,
    ) -> Self {
        let fields: Vec<Field> = inner
            .schema()
            .fields()
            .iter()
            .map(|f| {
                if REGPROC_COLUMNS.contains(&f.name().as_str()) {
                    Field::new(f.name(), DataType::Int32, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        Self {
            inner,
            procs,
            schema: Arc::new(Schema::new(fields)),
            oids,
        }
    }

    async fn proc_oids(&self, state: &dyn Session) -> Result<&HashMap<String, i32>> {
        self.oids
            .get_or_try_init(|| async {
                let mut oids = HashMap::new();
                let Some(procs) = &self.procs else {
                    return Ok(oids);
                };
                for batch in read_all(procs.as_ref(), state, |b| Ok(b.clone())).await? {
                    let (Some(oid), Some(name)) =
                        (batch.column_by_name("oid"), batch.column_by_name("proname"))
                    else {
                        continue;
                    };
                    let oid = cast(oid, &DataType::Int32)?;
                    let name = cast(name, &DataType::Utf8)?;
                    let (oid, name) = (oid.as_primitive::<Int32Type>(), name.as_string::<i32>());
                    for i in 0..batch.num_rows() {
                        if oid.is_valid(i) && name.is_valid(i) {
                            oids.entry(name.value(i).to_string())
                                .or_insert(oid.value(i));
                        }
                    }
                }
                Ok(oids)
            })
            .await
    }

    fn convert(&self, batch: &RecordBatch, oids: &HashMap<String, i32>) -> Result<RecordBatch> {
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| {
                if !REGPROC_COLUMNS.contains(&field.name().as_str()) {
                    return Ok(Arc::clone(column));
                }
                let names = cast(column, &DataType::Utf8)?;
                let names = names.as_string::<i32>();
                let converted: Int32Array = (0..names.len())
                    .map(|i| {
                        if names.is_null(i) {
                            return None;
                        }
                        match names.value(i) {
                            "-" | "" => Some(0),
                            name => oids.get(name).copied(),
                        }
                    })
                    .collect();
                Ok(Arc::new(converted) as ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[async_trait]
impl TableProvider for TypeTable {
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
        let oids = self.proc_oids(state).await?;
        let rows = read_all(self.inner.as_ref(), state, |b| self.convert(b, oids)).await?;
        serve(&self.schema, rows, state, projection, filters, limit).await
    }
}
