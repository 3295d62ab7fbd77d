//! `recommend('model', k [, user_id [, 'options']])`: the top k items per
//! user of a matrix_factorization model, as rows (user_id, item_id, score,
//! rank, source).
//!
//! Without `user_id`, every user the model knows; `WHERE user_id = ...` or
//! `WHERE user_id IN (...)` on the result is pushed into the function, so
//! only those users are scored (and unknown ones get the fallback). Items
//! the user interacted with in training are left out unless the options
//! say `include_seen = true`; `category = '...'` keeps items of one
//! category (models trained with `category_col`). `source` says which path
//! produced a row: `model`, or `popular` for users the model does not know
//! (most popular items; the score is the share of users who interacted).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::Models;
use crate::error::{SqlState, sql_err};
use crate::models::LoadedModel;
use crate::models::matrix_factorization::MatrixFactorizationModel;

/// The largest k a recommendation function accepts.
pub(crate) const MAX_K: i64 = 10_000;

/// `recommend`
#[derive(Debug)]
pub struct RecommendFunc {
    models: Models,
}

impl RecommendFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for RecommendFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        const USAGE: &str = "recommend('model', k [, user_id [, 'options']])";
        let exprs = args.exprs();
        if !(2..=4).contains(&exprs.len()) {
            return Err(sql_err(
                SqlState::UNDEFINED_FUNCTION,
                format!("recommend takes 2 to 4 arguments: {USAGE}"),
            ));
        }
        let model = recommender(&self.models, "recommend", &exprs[0])?;
        let k = k_argument("recommend", &exprs[1])?;
        let user = match exprs.get(2) {
            Some(e) => {
                let v = constant("recommend", "user_id", e)?;
                (!v.is_null()).then_some(v)
            }
            None => None,
        };
        let options = match exprs.get(3) {
            Some(e) => ServeOptions::parse("recommend", &constant("recommend", "options", e)?)?,
            None => ServeOptions::default(),
        };
        let mf = mf(&model)?;
        mf.category_mask(options.category.as_deref())?;
        if let Some(u) = &user {
            check_id_type("recommend", "user_id", u, &mf.users.data_type())?;
        }
        Ok(Arc::new(RecommendTable {
            schema: recommendations_schema(mf),
            model,
            k,
            user,
            options,
        }))
    }
}

/// Options given to a recommendation function as `'key = value, ...'`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServeOptions {
    pub include_seen: bool,
    pub category: Option<String>,
}

impl ServeOptions {
    pub(crate) fn parse(function: &str, value: &ScalarValue) -> Result<Self> {
        let text = match value {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => s.clone(),
            v if v.is_null() => return Ok(Self::default()),
            other => {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "the options of {function} are text like 'include_seen = true', not {other}"
                    ),
                ));
            }
        };
        let mut out = Self::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("option \"{part}\" of {function} is not of the form key = value"),
                ));
            };
            let value = value.trim().trim_matches('\'').trim_matches('"');
            match key.trim().to_lowercase().as_str() {
                "include_seen" => {
                    out.include_seen = match value.to_lowercase().as_str() {
                        "true" | "on" | "yes" | "1" => true,
                        "false" | "off" | "no" | "0" => false,
                        _ => {
                            return Err(sql_err(
                                SqlState::INVALID_PARAMETER_VALUE,
                                format!("include_seen = {value}: expected true or false"),
                            ));
                        }
                    }
                }
                "category" => out.category = Some(value.to_string()),
                other => {
                    return Err(sql_err(
                        SqlState::INVALID_PARAMETER_VALUE,
                        format!(
                            "unknown option \"{other}\" of {function}; valid options: include_seen, category"
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// A constant argument.
pub(crate) fn constant(function: &str, what: &str, expr: &Expr) -> Result<ScalarValue> {
    match expr {
        Expr::Literal(v, _) => Ok(v.clone()),
        _ => Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "the {what} argument of {function} must be a constant (table functions take no columns)"
            ),
        )),
    }
}

/// An id argument must convert to the model's id type.
pub(crate) fn check_id_type(
    function: &str,
    what: &str,
    value: &ScalarValue,
    id_type: &DataType,
) -> Result<()> {
    value.cast_to(id_type).map(|_| ()).map_err(|_| {
        sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "{what} {value} of {function} is not a valid id: this model's ids are {id_type}"
            ),
        )
    })
}

/// The k argument: a whole number from 1 to [`MAX_K`].
pub(crate) fn k_argument(function: &str, expr: &Expr) -> Result<usize> {
    let value = constant(function, "k", expr)?;
    match value.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(k)))
            if (1..=MAX_K).contains(&k) && value.data_type().is_integer() =>
        {
            Ok(k as usize)
        }
        _ => Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!("k of {function} must be a whole number from 1 to {MAX_K}, not {value}"),
        )),
    }
}

/// The model a recommendation function names; it must be a
/// matrix_factorization model.
pub(crate) fn recommender(
    models: &Models,
    function: &str,
    expr: &Expr,
) -> Result<Arc<LoadedModel>> {
    let name = super::model_name_of(function, Some(&constant(function, "model", expr)?))?;
    let model = models.get(&name)?;
    if model.matrix_factorization().is_none() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "model \"{name}\" is a {} model; {function} needs a matrix_factorization model",
                model.meta.model_type
            ),
        ));
    }
    Ok(model)
}

pub(crate) fn mf(model: &LoadedModel) -> Result<&MatrixFactorizationModel> {
    model.matrix_factorization().ok_or_else(|| {
        sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "model \"{}\" is not a matrix_factorization model",
                model.meta.name
            ),
        )
    })
}

pub(crate) fn recommendations_schema(model: &MatrixFactorizationModel) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", model.users.data_type(), false),
        Field::new("item_id", model.items.data_type(), false),
        Field::new("score", DataType::Float64, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("source", DataType::Utf8, false),
    ]))
}

/// Rows of recommendations, as they are built.
#[derive(Default)]
pub(crate) struct Rows {
    pub users: Vec<ScalarValue>,
    pub user_index: Vec<Option<u32>>,
    pub items: Vec<u32>,
    pub scores: Vec<f64>,
    pub ranks: Vec<i32>,
    pub sources: Vec<&'static str>,
}

impl Rows {
    /// Append one user's list (best first).
    pub fn push(
        &mut self,
        user: Option<u32>,
        user_value: Option<&ScalarValue>,
        list: &[(u32, f32)],
        source: &'static str,
    ) {
        for (rank, (item, score)) in list.iter().enumerate() {
            self.user_index.push(user);
            if let Some(v) = user_value {
                self.users.push(v.clone());
            }
            self.items.push(*item);
            self.scores.push(f64::from(*score));
            self.ranks.push(rank as i32 + 1);
            self.sources.push(source);
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The batch: user ids from the model's index where known, else from
    /// the given values (cast to the user id type).
    pub fn batch(
        self,
        model: &MatrixFactorizationModel,
        schema: &SchemaRef,
    ) -> Result<RecordBatch> {
        let user_type = model.users.data_type();
        let users: ArrayRef = if self.users.is_empty() {
            let idx: Vec<u32> = self.user_index.iter().map(|u| u.unwrap_or(0)).collect();
            model.users.take(&idx)
        } else {
            let cast: Vec<ScalarValue> = self
                .users
                .iter()
                .map(|v| v.cast_to(&user_type))
                .collect::<Result<_>>()?;
            ScalarValue::iter_to_array(cast)?
        };
        let columns: Vec<ArrayRef> = vec![
            users,
            model.items.take(&self.items),
            Arc::new(Float64Array::from(self.scores)),
            Arc::new(Int32Array::from(self.ranks)),
            Arc::new(StringArray::from(self.sources)),
        ];
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

/// A memory plan over one batch, split to the session's batch size.
pub(crate) fn batch_plan(
    state: &dyn Session,
    batch: RecordBatch,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = batch.schema();
    let size = state.config().batch_size().max(1);
    let batches: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(size)
        .map(|start| batch.slice(start, size.min(batch.num_rows() - start)))
        .collect();
    Ok(MemorySourceConfig::try_new_exec(
        &[batches],
        schema,
        projection.cloned(),
    )?)
}

/// Constants a filter allows for `column` (`column = c`, `c = column`,
/// `column IN (c, ...)`), or None if the filter is of another shape.
pub(crate) fn id_filter_values(column: &str, filter: &Expr) -> Option<Vec<ScalarValue>> {
    match filter {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c))
                if c.name == column =>
            {
                Some(vec![v.clone()])
            }
            _ => None,
        },
        // DataFusion rewrites short IN lists as ORs of equalities.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut values = id_filter_values(column, left)?;
            values.extend(id_filter_values(column, right)?);
            Some(values)
        }
        Expr::InList(list) if !list.negated => match list.expr.as_ref() {
            Expr::Column(c) if c.name == column => list
                .list
                .iter()
                .map(|e| match e {
                    Expr::Literal(v, _) => Some(v.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        },
        _ => None,
    }
}

/// The ids every pushed filter allows (their intersection), or None when no
/// filter restricts the column.
pub(crate) fn requested_ids(column: &str, filters: &[Expr]) -> Option<Vec<ScalarValue>> {
    let mut out: Option<Vec<ScalarValue>> = None;
    for f in filters {
        if let Some(values) = id_filter_values(column, f) {
            out = Some(match out {
                None => values,
                Some(prev) => prev.into_iter().filter(|v| values.contains(v)).collect(),
            });
        }
    }
    if let Some(values) = &mut out {
        let mut unique: Vec<ScalarValue> = Vec::with_capacity(values.len());
        for v in values.drain(..) {
            if !v.is_null() && !unique.contains(&v) {
                unique.push(v);
            }
        }
        *values = unique;
    }
    out
}

pub(crate) fn pushdown(column: &str, filters: &[&Expr]) -> Vec<TableProviderFilterPushDown> {
    filters
        .iter()
        .map(|f| {
            if id_filter_values(column, f).is_some() {
                // DataFusion re-applies the filter; the function only uses it
                // to skip users.
                TableProviderFilterPushDown::Inexact
            } else {
                TableProviderFilterPushDown::Unsupported
            }
        })
        .collect()
}

/// The result of one `recommend(...)` call, computed when scanned.
#[derive(Debug)]
struct RecommendTable {
    schema: SchemaRef,
    model: Arc<LoadedModel>,
    k: usize,
    user: Option<ScalarValue>,
    options: ServeOptions,
}

#[async_trait::async_trait]
impl TableProvider for RecommendTable {
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
        Ok(pushdown("user_id", filters))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let requested = match &self.user {
            Some(u) => Some(vec![u.clone()]),
            None => requested_ids("user_id", filters),
        };
        let model = Arc::clone(&self.model);
        let (k, options, schema) = (self.k, self.options.clone(), Arc::clone(&self.schema));
        let batch = tokio::task::spawn_blocking(move || -> Result<RecordBatch> {
            let mf = mf(&model)?;
            let allowed = mf.category_mask(options.category.as_deref())?;
            let rows = recommend_rows(mf, requested, k, &options, allowed.as_deref(), limit);
            rows.batch(mf, &schema)
        })
        .await
        .map_err(|e| {
            sql_err(
                SqlState::INTERNAL_ERROR,
                format!("recommend task failed: {e}"),
            )
        })??;
        batch_plan(state, batch, projection)
    }
}

/// Users per scoring round when only the first `limit` rows are wanted.
const LIMIT_ROUND: usize = 256;

fn recommend_rows(
    mf: &MatrixFactorizationModel,
    requested: Option<Vec<ScalarValue>>,
    k: usize,
    options: &ServeOptions,
    allowed: Option<&[bool]>,
    limit: Option<usize>,
) -> Rows {
    let exclude_seen = !options.include_seen;
    let mut rows = Rows::default();
    match requested {
        None => {
            // Every known user, in id order; with a LIMIT, only as many
            // users as it takes to fill it.
            let all: Vec<u32> = (0..mf.users.len() as u32).collect();
            let round = match limit {
                Some(l) => l.div_ceil(k).max(LIMIT_ROUND),
                None => all.len().max(1),
            };
            for users in all.chunks(round) {
                let lists = mf.recommend_users(users, k, exclude_seen, allowed);
                for (&u, list) in users.iter().zip(&lists) {
                    rows.push(Some(u), None, list, "model");
                }
                if limit.is_some_and(|l| rows.len() >= l) {
                    break;
                }
            }
        }
        Some(values) => {
            let mut user_values = Vec::new();
            let mut lists = Vec::new();
            let known: Vec<(usize, u32)> = values
                .iter()
                .enumerate()
                .filter_map(|(j, v)| mf.users.lookup_scalar(v).map(|u| (j, u)))
                .collect();
            let scored = mf.recommend_users(
                &known.iter().map(|x| x.1).collect::<Vec<_>>(),
                k,
                exclude_seen,
                allowed,
            );
            let mut by_request: Vec<Option<Vec<(u32, f32)>>> = vec![None; values.len()];
            for ((j, _), list) in known.iter().zip(scored) {
                by_request[*j] = Some(list);
            }
            for (v, list) in values.iter().zip(by_request) {
                match list {
                    Some(list) => lists.push((list, "model")),
                    None => lists.push((mf.popular(k, &[], allowed), "popular")),
                }
                user_values.push(v.clone());
            }
            for (v, (list, source)) in user_values.iter().zip(lists) {
                rows.push(mf.users.lookup_scalar(v), Some(v), &list, source);
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn filters_on_user_id_are_read() {
        let eq = col("user_id").eq(lit(3_i64));
        let list = col("user_id").in_list(vec![lit(3_i64), lit(4_i64)], false);
        let other = col("item_id").eq(lit(1_i64));
        assert_eq!(
            requested_ids("user_id", &[list.clone(), eq.clone()]),
            Some(vec![ScalarValue::Int64(Some(3))])
        );
        assert_eq!(requested_ids("user_id", &[list]).map(|v| v.len()), Some(2));
        assert_eq!(requested_ids("user_id", std::slice::from_ref(&other)), None);
        assert_eq!(
            pushdown("user_id", &[&eq, &other]),
            vec![
                TableProviderFilterPushDown::Inexact,
                TableProviderFilterPushDown::Unsupported
            ]
        );
        let or = col("user_id")
            .eq(lit(5_i64))
            .or(col("user_id").eq(lit(6_i64)));
        assert_eq!(requested_ids("user_id", &[or]).map(|v| v.len()), Some(2));
        let mixed = col("user_id")
            .eq(lit(5_i64))
            .or(col("item_id").eq(lit(6_i64)));
        assert_eq!(requested_ids("user_id", &[mixed]), None);
        let not_in = col("user_id").in_list(vec![lit(3_i64)], true);
        assert_eq!(requested_ids("user_id", &[not_in]), None);
    }

    #[test]
    fn options_parse() {
        let o = ServeOptions::parse(
            "recommend",
            &ScalarValue::Utf8(Some("include_seen = true, category = 'Home'".into())),
        )
        .unwrap();
        assert!(o.include_seen);
        assert_eq!(o.category.as_deref(), Some("Home"));
        assert!(
            ServeOptions::parse("recommend", &ScalarValue::Utf8(Some("nope = 1".into()))).is_err()
        );
        assert!(
            ServeOptions::parse("recommend", &ScalarValue::Utf8(Some("include_seen".into())))
                .is_err()
        );
    }
}
