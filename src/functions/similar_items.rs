//! `similar_items('model', item_id, k [, 'options'])`: the k items most
//! similar to an item, as rows (item_id, similar_item_id, score, rank,
//! source). `item_id` NULL means every item; `WHERE item_id = ...` or
//! `IN (...)` on the result is pushed into the function. An item the model
//! does not know yields no rows.
//!
//! Similarity is the cosine of the item factors (`source` 'factors'). A
//! model trained with `content_query` also knows items by their content
//! (TF-IDF of titles, categories, ...): `mode = auto` (the default) answers
//! for items without interactions by content ('content'); `mode = content`
//! uses content for every item; `mode = blend` scores
//! (1 − content_weight)·factor cosine + content_weight·content cosine
//! ('blend', `content_weight` default 0.5); `mode = factors` ignores content.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
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
        if !(3..=4).contains(&exprs.len()) {
            return Err(sql_err(
                SqlState::UNDEFINED_FUNCTION,
                "similar_items takes 3 or 4 arguments: similar_items('model', item_id, k [, 'mode = auto|factors|content|blend, content_weight = 0.5'])",
            ));
        }
        let model = recommender(&self.models, "similar_items", &exprs[0])?;
        let item = constant("similar_items", "item_id", &exprs[1])?;
        let k = k_argument("similar_items", &exprs[2])?;
        let mode = match exprs.get(3) {
            Some(e) => Mode::parse(&constant("similar_items", "options", e)?)?,
            None => Mode::Auto,
        };
        let m = mf(&model)?;
        if !item.is_null() {
            check_id_type("similar_items", "item_id", &item, &m.items.data_type())?;
        }
        if m.content.is_none() && !matches!(mode, Mode::Auto | Mode::Factors) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "model \"{}\" has no item content; train it with OPTIONS (content_query = 'SELECT item_id, title, category FROM items') for content or blend similarity",
                    model.meta.name
                ),
            ));
        }
        let id_type = m.items.data_type();
        let schema = Arc::new(Schema::new(vec![
            Field::new("item_id", id_type.clone(), false),
            Field::new("similar_item_id", id_type, false),
            Field::new("score", DataType::Float64, false),
            Field::new("rank", DataType::Int32, false),
            Field::new("source", DataType::Utf8, false),
        ]));
        Ok(Arc::new(SimilarItemsTable {
            schema,
            model,
            item: (!item.is_null()).then_some(item),
            k,
            mode,
        }))
    }
}

/// How similarity is measured (the function's options).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Auto,
    Factors,
    Content,
    Blend(f32),
}

impl Mode {
    fn parse(value: &ScalarValue) -> Result<Self> {
        let text = match value {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => s.clone(),
            v if v.is_null() => return Ok(Mode::Auto),
            other => {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "the options of similar_items are text like 'mode = content', not {other}"
                    ),
                ));
            }
        };
        let (mut mode, mut weight) = ("auto".to_string(), 0.5_f32);
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("option \"{part}\" of similar_items is not of the form key = value"),
                ));
            };
            let value = value.trim().trim_matches('\'').to_lowercase();
            match key.trim().to_lowercase().as_str() {
                "mode" => mode = value,
                "content_weight" => {
                    weight = match value.parse::<f32>() {
                        Ok(w) if (0.0..=1.0).contains(&w) => w,
                        _ => {
                            return Err(sql_err(
                                SqlState::INVALID_PARAMETER_VALUE,
                                format!("content_weight = {value}: expected a number from 0 to 1"),
                            ));
                        }
                    }
                }
                other => {
                    return Err(sql_err(
                        SqlState::INVALID_PARAMETER_VALUE,
                        format!(
                            "unknown option \"{other}\" of similar_items; valid options: mode, content_weight"
                        ),
                    ));
                }
            }
        }
        match mode.as_str() {
            "auto" => Ok(Mode::Auto),
            "factors" => Ok(Mode::Factors),
            "content" => Ok(Mode::Content),
            "blend" => Ok(Mode::Blend(weight)),
            other => Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("mode = {other}: expected auto, factors, content or blend"),
            )),
        }
    }
}

#[derive(Debug)]
struct SimilarItemsTable {
    schema: SchemaRef,
    model: Arc<LoadedModel>,
    item: Option<ScalarValue>,
    k: usize,
    mode: Mode,
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
        let (k, schema, mode) = (self.k, Arc::clone(&self.schema), self.mode);
        let batch = tokio::task::spawn_blocking(move || -> Result<RecordBatch> {
            let m = mf(&model)?;
            let content = m.content.as_ref().filter(|_| mode != Mode::Factors);
            // Rows of the content table when there is one (its first rows
            // are the model's items, in the same order), else item indexes.
            let ids = content.map_or(&m.items, |c| &c.ids);
            let rows: Vec<u32> = match requested {
                None => (0..ids.len() as u32).collect(),
                Some(values) => values.iter().filter_map(|v| ids.lookup_scalar(v)).collect(),
            };
            let model_items = m.items.len() as u32;
            let mut lists: Vec<(Vec<(u32, f32)>, &'static str)> =
                vec![(Vec::new(), ""); rows.len()];
            let by_factors: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i] < model_items && matches!(mode, Mode::Auto | Mode::Factors))
                .collect();
            let warm: Vec<u32> = by_factors.iter().map(|&i| rows[i]).collect();
            for (&i, list) in by_factors.iter().zip(m.similar_items(&warm, k)) {
                lists[i] = (list, "factors");
            }
            if let Some(c) = content {
                let unit = matches!(mode, Mode::Blend(_)).then(|| m.unit_item_factors());
                for (i, &row) in rows.iter().enumerate() {
                    match mode {
                        Mode::Auto | Mode::Content
                            if !(mode == Mode::Auto && row < model_items) =>
                        {
                            lists[i] = (c.similar(row, k), "content");
                        }
                        Mode::Blend(w) => {
                            let mut scores = vec![0.0_f32; c.rows()];
                            c.add_similarities(row, w, &mut scores);
                            if let Some(unit) = &unit
                                && row < model_items
                            {
                                let cosines = unit.dot(&unit.row(row as usize));
                                for (s, f) in scores.iter_mut().zip(cosines) {
                                    *s += (1.0 - w) * f;
                                }
                            }
                            lists[i] = (
                                crate::models::matrix_factorization::content::top(scores, row, k),
                                "blend",
                            );
                        }
                        _ => {}
                    }
                }
            }
            let (mut from, mut to, mut scores, mut ranks, mut sources) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (&item, (list, source)) in rows.iter().zip(&lists) {
                for (rank, (other, score)) in list.iter().enumerate() {
                    from.push(item);
                    to.push(*other);
                    scores.push(f64::from(*score));
                    ranks.push(rank as i32 + 1);
                    sources.push(*source);
                }
            }
            let columns: Vec<ArrayRef> = vec![
                ids.take(&from),
                ids.take(&to),
                Arc::new(Float64Array::from(scores)),
                Arc::new(Int32Array::from(ranks)),
                Arc::new(StringArray::from(sources)),
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
