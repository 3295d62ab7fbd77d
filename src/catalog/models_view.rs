//! `ecomsql.models`: the models of the model folder as a view, with the
//! columns of `SHOW MODELS`, so BI tools' schema browsers and
//! `information_schema.tables` show them and any query can join them. Read
//! when a query scans it, so it follows CREATE/DROP MODEL from any process.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::models::ModelStore;
use crate::statements::ShowModels;

/// The schema the view lives in.
pub const SCHEMA: &str = "ecomsql";
/// The view's name.
pub const VIEW: &str = "models";

/// `ecomsql.models`
#[derive(Debug)]
pub struct ModelsView {
    store: ModelStore,
}

impl ModelsView {
    pub fn new(store: ModelStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl TableProvider for ModelsView {
    fn schema(&self) -> SchemaRef {
        ShowModels::schema()
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
        let batch = ShowModels::batch(&self.store)?;
        super::rows::serve(
            &self.schema(),
            vec![batch],
            state,
            projection,
            filters,
            limit,
        )
        .await
    }
}
