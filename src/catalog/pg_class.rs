//! `pg_catalog.pg_class` with the Postgres columns datafusion-pg-catalog
//! leaves out: `relacl` and `reloptions` (`text[]`, NULL: ecomsql has no
//! per-table grants or storage options, and NULL is what Postgres shows
//! for defaults). SQLAlchemy's index reflection reads `reloptions`.
//!
//! Each scan also records where the listed tables' files are
//! ([`super::relation_files`]), for `pg_table_size(oid)`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, Int32Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::listing::ListingTable;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;

use super::relation_files::RelationFiles;
use super::rows::read_all;

const MISSING: [&str; 2] = ["relacl", "reloptions"];

fn text_array() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `pg_class` over datafusion-pg-catalog's, plus [`MISSING`] columns.
#[derive(Debug)]
pub struct ClassTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
    namespaces: Option<Arc<dyn TableProvider>>,
    files: RelationFiles,
}

impl ClassTable {
    pub fn new(
        inner: Arc<dyn TableProvider>,
        namespaces: Option<Arc<dyn TableProvider>>,
        files: RelationFiles,
    ) -> Self {
        let inner_schema = inner.schema();
        let mut fields: Vec<Field> = inner_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for name in MISSING {
            if inner_schema.field_with_name(name).is_err() {
                fields.push(Field::new(name, text_array(), true));
            }
        }
        Self {
            inner,
            schema: Arc::new(Schema::new(fields)),
            namespaces,
            files,
        }
    }

    /// Record the local paths of the data folder's tables among the rows.
    async fn record_files(&self, state: &dyn Session) -> Result<()> {
        let Some(session) = state.as_any().downcast_ref::<SessionState>() else {
            return Ok(());
        };
        let Some(namespaces) = &self.namespaces else {
            return Ok(());
        };
        let mut schema_names = HashMap::new();
        for batch in read_all(namespaces.as_ref(), state, |b| Ok(b.clone())).await? {
            let (Some(oids), Some(names)) =
                (int_column(&batch, "oid")?, text_column(&batch, "nspname")?)
            else {
                continue;
            };
            for i in 0..batch.num_rows() {
                if oids.is_valid(i) && names.is_valid(i) {
                    schema_names.insert(oids.value(i), names.value(i).to_string());
                }
            }
        }
        let catalog_name = &session.config().options().catalog.default_catalog;
        let Some(catalog) = session.catalog_list().catalog(catalog_name) else {
            return Ok(());
        };
        for batch in read_all(self.inner.as_ref(), state, |b| Ok(b.clone())).await? {
            let (Some(oids), Some(names), Some(spaces)) = (
                int_column(&batch, "oid")?,
                text_column(&batch, "relname")?,
                int_column(&batch, "relnamespace")?,
            ) else {
                continue;
            };
            for i in 0..batch.num_rows() {
                let Some(schema) = schema_names.get(&spaces.value(i)) else {
                    continue;
                };
                self.files.record_schema(oids.value(i), schema);
                // The catalogs' own tables have no files.
                if schema == "pg_catalog" || schema == "information_schema" {
                    continue;
                }
                let Some(table) = catalog.schema(schema) else {
                    continue;
                };
                let Ok(Some(table)) = table.table(names.value(i)).await else {
                    continue;
                };
                if let Some(listing) = table.downcast_ref::<ListingTable>() {
                    let paths = listing
                        .table_paths()
                        .iter()
                        .filter_map(|url| url.get_url().to_file_path().ok())
                        .collect();
                    self.files.record(oids.value(i), paths);
                }
            }
        }
        Ok(())
    }
}

fn int_column(batch: &RecordBatch, name: &str) -> Result<Option<Int32Array>> {
    match batch.column_by_name(name) {
        Some(c) => Ok(Some(
            cast(c, &DataType::Int32)?
                .as_primitive::<Int32Type>()
                .clone(),
        )),
        None => Ok(None),
    }
}

fn text_column(batch: &RecordBatch, name: &str) -> Result<Option<StringArray>> {
    match batch.column_by_name(name) {
        Some(c) => Ok(Some(cast(c, &DataType::Utf8)?.as_string::<i32>().clone())),
        None => Ok(None),
    }
}

#[async_trait]
impl TableProvider for ClassTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.record_files(state).await?;
        let width = self.inner.schema().fields().len();
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        // The inner table's columns among those asked for, in their order.
        let inner_columns: Vec<usize> = wanted.iter().copied().filter(|i| *i < width).collect();
        let input = self
            .inner
            .scan(state, Some(&inner_columns), &[], limit)
            .await?;
        let null = ScalarValue::try_from(&text_array())?;
        let exprs = wanted
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                let expr: Arc<dyn PhysicalExpr> = match inner_columns.iter().position(|c| *c == i) {
                    Some(at) if i < width => Arc::new(Column::new(&name, at)),
                    _ => Arc::new(Literal::new(null.clone())),
                };
                (expr, name)
            })
            .collect::<Vec<_>>();
        Ok(Arc::new(ProjectionExec::try_new(exprs, input)?))
    }
}
