//! `similar_items('model', item_id, k)`: the k items whose factors are most
//! similar (cosine) to an item's, as rows (item_id, similar_item_id, score,
//! rank). `item_id` NULL means every item; `WHERE item_id = ...` or
//! `IN (...)` on the result is pushed into the function. An item the model
//! does not know yields no rows.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::Models;
use super::recommend::{
    batch_plan, check_id_type, constant, k_argument, mf, pushdown, recommender, requested_ids,
};
use crate::error::{SqlState, sql_err};
use crate::models::LoadedModel;

/// `similar_items`
#[derive(Debug)]
pub struct SimilarItemsFunc {
    models: Models,
}

impl SimilarItemsFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for SimilarItemsFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() != 3 {
            return Err(sql_err(
                SqlState::UNDEFINED_FUNCTION,
                "similar_items takes 3 arguments: similar_items('model', item_id, k)",
            ));
        }
        let model = recommender(&self.models, "similar_items", &exprs[0])?;
        let item = constant("similar_items", "item_id", &exprs[1])?;
        let k = k_argument("similar_items", &exprs[2])?;
        let m = mf(&model)?;
        if !item.is_null() {
            check_id_type("similar_items", "item_id", &item, &m.items.data_type())?;
        }
        let id_type = m.items.data_type();
        let schema = Arc::new(Schema::new(vec![
            Field::new("item_id", id_type.clone(), false),
            Field::new("similar_item_id", id_type, false),
            Field::new("score", DataType::Float64, false),
            Field::new("rank", DataType::Int32, false),
        ]));
        Ok(Arc::new(SimilarItemsTable {
            schema,
            model,
            item: (!item.is_null()).then_some(item),
            k,
        }))
    }
}

#[derive(Debug)]
struct SimilarItemsTable {
    schema: SchemaRef,
    model: Arc<LoadedModel>,
    item: Option<ScalarValue>,
    k: usize,
}

#[async_trait::async_trait]
impl TableProvider for SimilarItemsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(pushdown("item_id", filters))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let requested = match &self.item {
            Some(v) => Some(vec![v.clone()]),
            None => requested_ids("item_id", filters),
        };
        let model = Arc::clone(&self.model);
        let (k, schema) = (self.k, Arc::clone(&self.schema));
        let batch = tokio::task::spawn_blocking(move || -> Result<RecordBatch> {
            let m = mf(&model)?;
            let items: Vec<u32> = match requested {
                None => (0..m.items.len() as u32).collect(),
                Some(values) => values
                    .iter()
                    .filter_map(|v| m.items.lookup_scalar(v))
                    .collect(),
            };
            let lists = m.similar_items(&items, k);
            let (mut from, mut to, mut scores, mut ranks) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (&item, list) in items.iter().zip(&lists) {
                for (rank, (other, score)) in list.iter().enumerate() {
                    from.push(item);
                    to.push(*other);
                    scores.push(f64::from(*score));
                    ranks.push(rank as i32 + 1);
                }
            }
            let columns: Vec<ArrayRef> = vec![
                m.items.take(&from),
                m.items.take(&to),
                Arc::new(Float64Array::from(scores)),
                Arc::new(Int32Array::from(ranks)),
            ];
            Ok(RecordBatch::try_new(schema, columns)?)
        })
        .await
        .map_err(|e| {
            sql_err(
                SqlState::INTERNAL_ERROR,
                format!("similar_items task failed: {e}"),
            )
        })??;
        batch_plan(state, batch, projection)
    }
}
