//! `EVALUATE MODEL`: a model's stored validation metrics, or metrics on any
//! query's rows.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;
use futures::StreamExt;

use super::metrics::binary_metrics;
use super::training_data::as_utf8;
use super::{LoadedModel, ModelKind};
use crate::engine::Engine;
use crate::error::{SqlState, sql_err};

/// Metric rows. Without a query: the metrics stored at training time
/// (validation if the model held rows out, else training).
pub async fn evaluate(
    engine: &Engine,
    name: &str,
    query: Option<&str>,
    label: Option<&str>,
    threshold: Option<f64>,
    k: Option<usize>,
) -> Result<Vec<(String, f64)>> {
    let model = engine.models().get(name)?;
    let Some(query) = query else {
        return Ok(stored_metrics(&model));
    };
    match &model.kind {
        ModelKind::Ar(_) => Err(sql_err(
            SqlState::FEATURE_NOT_SUPPORTED,
            "EVALUATE MODEL ... ON (...) is not implemented for ar models yet (rolling-origin backtests are planned)",
        )),
        ModelKind::MatrixFactorization(mf) => {
            let k = k
                .or_else(|| model.meta.options.get("k").and_then(|v| v.parse().ok()))
                .unwrap_or(10);
            super::matrix_factorization::evaluation::evaluate(engine, mf, &model.meta, query, k)
                .await
        }
        ModelKind::LogisticRegression(lr) => {
            let label = label
                .map(str::to_string)
                .or_else(|| model.meta.label.clone())
                .ok_or_else(|| {
                    sql_err(
                        SqlState::INVALID_PARAMETER_VALUE,
                        format!("model \"{name}\" was not trained on a label column; say which column holds the truth with OPTIONS (label = '...')"),
                    )
                })?;
            let columns: Vec<String> = lr
                .features
                .iter()
                .map(|f| quote_ident(&f.name))
                .chain(std::iter::once(quote_ident(&label)))
                .collect();
            let sql = format!(
                "SELECT {} FROM ({query}) AS evaluation_rows",
                columns.join(", ")
            );
            let mut stream = engine
                .session_context()
                .sql(&sql)
                .await?
                .execute_stream()
                .await?;
            let positive = model
                .meta
                .classes
                .first()
                .cloned()
                .unwrap_or_else(|| "true".into());
            let (mut scores, mut labels) = (Vec::new(), Vec::new());
            let inputs = lr.features.len();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let (logits, nulls) = lr.logits(&batch.columns()[..inputs], batch.num_rows())?;
                let truth = batch.column(inputs);
                let truth_values = label_values(truth, &positive)?;
                for (row, logit) in logits.iter().enumerate() {
                    let valid =
                        nulls.as_ref().is_none_or(|n| n.is_valid(row)) && truth.is_valid(row);
                    if valid {
                        scores.push(1.0 / (1.0 + (-logit).exp()));
                        labels.push(truth_values[row]);
                    }
                }
            }
            if scores.is_empty() {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    "the evaluation query returned no rows without NULLs",
                ));
            }
            let threshold = threshold.unwrap_or(lr.threshold);
            Ok(binary_metrics(&scores, &labels, threshold)
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect())
        }
    }
}

fn stored_metrics(model: &LoadedModel) -> Vec<(String, f64)> {
    let prefix = if model
        .meta
        .metrics
        .keys()
        .any(|k| k.starts_with("validation_"))
    {
        "validation_"
    } else {
        "train_"
    };
    model
        .meta
        .metrics
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|m| (m.to_string(), *v)))
        .collect()
}

/// The truth per row: boolean as is, numbers equal to 1, text equal to the
/// positive class.
fn label_values(array: &ArrayRef, positive: &str) -> Result<Vec<bool>> {
    Ok(match array.data_type() {
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect(),
        t if t.is_numeric() => {
            let numbers = cast(array, &DataType::Float64)?;
            numbers
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .map(|&v| v == 1.0)
                .collect()
        }
        _ => {
            let text = as_utf8(array)?;
            let text = text.as_string::<i32>();
            (0..text.len())
                .map(|i| text.is_valid(i) && text.value(i) == positive)
                .collect()
        }
    })
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
