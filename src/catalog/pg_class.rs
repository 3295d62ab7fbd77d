//! `pg_catalog.pg_class` with the Postgres columns datafusion-pg-catalog
//! leaves out: `relacl` and `reloptions` (`text[]`, NULL: ecomsql has no
//! per-table grants or storage options, and NULL is what Postgres shows
//! for defaults). SQLAlchemy's index reflection reads `reloptions`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;

const MISSING: [&str; 2] = ["relacl", "reloptions"];

fn text_array() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `pg_class` over datafusion-pg-catalog's, plus [`MISSING`] columns.
#[derive(Debug)]
pub struct ClassTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
}

impl ClassTable {
    pub fn new(inner: Arc<dyn TableProvider>) -> Self {
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
        }
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
