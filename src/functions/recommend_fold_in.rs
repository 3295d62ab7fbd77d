//! `recommend_fold_in('model', 'query', k [, 'options'])`: personalised
//! recommendations for users from their interactions in a query (new users,
//! or today's activity), without retraining: each user's factors are solved
//! against the model's fixed item factors, the same least-squares step
//! training takes. The query returns the model's user and item columns (and
//! its rating column, else every row counts 1); duplicates are summed, items
//! the model does not know are ignored. Rows are (user_id, item_id, score,
//! rank, source) with source `fold_in`, or `popular` for a user none of
//! whose items the model knows. The user's items in the query are excluded
//! (unless `include_seen = true`); `category = '...'` as for `recommend`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::Models;
use super::recommend::{
    Rows, ServeOptions, batch_plan, constant, k_argument, mf, recommendations_schema, recommender,
};
use crate::error::{SqlState, sql_err};
use crate::models::LoadedModel;
use crate::models::matrix_factorization::interactions_of;

/// `recommend_fold_in`
#[derive(Debug)]
pub struct RecommendFoldInFunc {
    models: Models,
}

impl RecommendFoldInFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for RecommendFoldInFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(3..=4).contains(&exprs.len()) {
            return Err(sql_err(
                SqlState::UNDEFINED_FUNCTION,
                "recommend_fold_in takes 3 or 4 arguments: recommend_fold_in('model', 'SELECT user_id, item_id, weight FROM ...', k [, 'options'])",
            ));
        }
        let model = recommender(&self.models, "recommend_fold_in", &exprs[0])?;
        let query = match constant("recommend_fold_in", "query", &exprs[1])? {
            ScalarValue::Utf8(Some(q))
            | ScalarValue::LargeUtf8(Some(q))
            | ScalarValue::Utf8View(Some(q)) => q,
            other => {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "the second argument of recommend_fold_in is a query as text, not {other}"
                    ),
                ));
            }
        };
        let k = k_argument("recommend_fold_in", &exprs[2])?;
        let options = match exprs.get(3) {
            Some(e) => ServeOptions::parse(
                "recommend_fold_in",
                &constant("recommend_fold_in", "options", e)?,
            )?,
            None => ServeOptions::default(),
        };
        let m = mf(&model)?;
        m.category_mask(options.category.as_deref())?;
        Ok(Arc::new(FoldInTable {
            schema: recommendations_schema(m),
            model,
            query,
            k,
            options,
        }))
    }
}

#[derive(Debug)]
struct FoldInTable {
    schema: SchemaRef,
    model: Arc<LoadedModel>,
    query: String,
    k: usize,
    options: ServeOptions,
}

impl FoldInTable {
    /// Per user (by display form): the user's id value and known items.
    async fn read_users(&self, state: &dyn Session) -> Result<Vec<(ScalarValue, Vec<(u32, f32)>)>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return Err(sql_err(
                SqlState::INTERNAL_ERROR,
                "recommend_fold_in needs a DataFusion session",
            ));
        };
        let ctx = SessionContext::new_with_state(state.clone());
        let m = mf(&self.model)?;
        let user_type = m.users.data_type();
        let mut index: HashMap<ScalarValue, usize> = HashMap::new();
        let mut users: Vec<(ScalarValue, BTreeMap<u32, f32>)> = Vec::new();
        let mut stream = interactions_of(
            &ctx,
            &self.model.meta,
            &self.query,
            "recommend_fold_in",
            true,
        )
        .await?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let ids = cast(batch.column(0), &user_type)?;
            let items = m.items.lookup_array(batch.column(1))?;
            let weights = match batch.columns().get(2) {
                Some(c) => Some(cast(c, &DataType::Float64)?),
                None => None,
            };
            for (row, item) in items.iter().enumerate() {
                if ids.is_null(row) {
                    continue;
                }
                let user = ScalarValue::try_from_array(&ids, row)?;
                let at = match index.get(&user) {
                    Some(&at) => at,
                    None => {
                        index.insert(user.clone(), users.len());
                        users.push((user, BTreeMap::new()));
                        users.len() - 1
                    }
                };
                let entry = &mut users[at].1;
                let Some(item) = item else {
                    continue;
                };
                let w = match &weights {
                    Some(w) => {
                        let w = w.as_primitive::<Float64Type>();
                        if w.is_null(row) {
                            continue;
                        }
                        w.value(row) as f32
                    }
                    None => 1.0,
                };
                *entry.entry(*item).or_insert(0.0) += w;
            }
        }
        users.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        Ok(users
            .into_iter()
            .map(|(u, items)| (u, items.into_iter().collect()))
            .collect())
    }
}

#[async_trait::async_trait]
impl TableProvider for FoldInTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let users = self.read_users(state).await?;
        let model = Arc::clone(&self.model);
        let (k, options, schema) = (self.k, self.options.clone(), Arc::clone(&self.schema));
        let batch = tokio::task::spawn_blocking(move || -> Result<RecordBatch> {
            let m = mf(&model)?;
            let allowed = m.category_mask(options.category.as_deref())?;
            let interactions: Vec<Vec<(u32, f32)>> =
                users.iter().map(|(_, items)| items.clone()).collect();
            let (factors, bias) = m.fold_in(&interactions);
            let seen: Vec<Vec<u32>> = interactions
                .iter()
                .map(|items| {
                    if options.include_seen {
                        Vec::new()
                    } else {
                        items.iter().map(|x| x.0).collect()
                    }
                })
                .collect();
            let lists = m.recommend_vectors(factors.view(), &bias, &seen, k, allowed.as_deref());
            let mut rows = Rows::default();
            for (((user, items), list), seen) in users.iter().zip(lists).zip(&seen) {
                if items.is_empty() {
                    rows.push(
                        None,
                        Some(user),
                        &m.popular(k, seen, allowed.as_deref()),
                        "popular",
                    );
                } else {
                    rows.push(None, Some(user), &list, "fold_in");
                }
            }
            rows.batch(m, &schema)
        })
        .await
        .map_err(|e| {
            sql_err(
                SqlState::INTERNAL_ERROR,
                format!("recommend_fold_in task failed: {e}"),
            )
        })??;
        batch_plan(state, batch, projection)
    }
}
