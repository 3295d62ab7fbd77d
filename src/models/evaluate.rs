//! `EVALUATE MODEL`: a model's stored validation metrics, or metrics on any
//! query's rows.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;
use futures::StreamExt;

use super::ar::BacktestRequest;
use super::metrics::binary_metrics;
use super::training_data::as_utf8;
use super::{LoadedModel, ModelKind};
use crate::engine::Engine;
use crate::error::{SqlState, sql_err};

/// What an `EVALUATE MODEL` statement asks for, beyond the model's name.
#[derive(Debug, Clone, Default)]
pub struct EvaluateRequest<'a> {
    pub query: Option<&'a str>,
    /// Classifiers: the truth column and the decision threshold.
    pub label: Option<&'a str>,
    pub threshold: Option<f64>,
    /// Recommenders: the cut-off.
    pub k: Option<usize>,
    /// Forecasters: the backtest's folds, horizon and interval level.
    pub backtest: BacktestRequest,
}

/// One metric, of one series (forecasters' per-series rows) or overall.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub series: Option<String>,
    pub metric: String,
    pub value: f64,
}

fn overall(rows: Vec<(String, f64)>) -> Vec<MetricRow> {
    rows.into_iter()
        .map(|(metric, value)| MetricRow {
            series: None,
            metric,
            value,
        })
        .collect()
}

/// Metric rows. Without a query: the metrics stored at training time
/// (validation if the model held rows out, else training); forecasters
/// give their stored backtest, overall and per series.
pub async fn evaluate(
    engine: &Engine,
    name: &str,
    request: EvaluateRequest<'_>,
) -> Result<Vec<MetricRow>> {
    let model = engine.models().get(name)?;
    let backtest_options = request.backtest.folds.is_some()
        || request.backtest.horizon.is_some()
        || request.backtest.level.is_some();
    let (label, threshold, k) = (request.label, request.threshold, request.k);
    let rows = match (&model.kind, request.query) {
        (ModelKind::Ar(ar), query) => {
            return evaluate_ar(engine, &model, ar, query, request.backtest).await;
        }
        _ if backtest_options => {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the options folds, horizon and level apply to forecasting (ar) models; \"{name}\" is a {} model",
                    model.meta.model_type
                ),
            ));
        }
        (_, None) => return Ok(overall(stored_metrics(&model))),
        (ModelKind::MatrixFactorization(mf), Some(query)) => {
            let k = k
                .or_else(|| model.meta.options.get("k").and_then(|v| v.parse().ok()))
                .unwrap_or(10);
            super::matrix_factorization::evaluation::evaluate(engine, mf, &model.meta, query, k)
                .await
        }
        (ModelKind::TextClassifier(tc), Some(query)) => {
            super::text_classifier::evaluate(engine, tc, &model.meta, query, label).await
        }
        (ModelKind::LogisticRegression(lr), Some(query)) => {
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
    }?;
    Ok(overall(rows))
}

/// Forecasters: the stored or a fresh backtest, overall and per series.
/// Models trained without a backtest answer with their training metrics.
async fn evaluate_ar(
    engine: &Engine,
    model: &LoadedModel,
    ar: &super::ar::model::ArModel,
    query: Option<&str>,
    request: super::ar::BacktestRequest,
) -> Result<Vec<MetricRow>> {
    let stored = model
        .meta
        .metrics
        .contains_key("validation_backtest_points");
    if query.is_none() && !stored && request.folds.is_none() && request.horizon.is_none() {
        return Ok(overall(stored_metrics(model)));
    }
    let rows = super::ar::evaluate(engine, &model.meta, ar, query, request).await?;
    Ok(rows
        .into_iter()
        .flat_map(|(series, values)| {
            super::ar::backtest::METRICS
                .iter()
                .zip(values)
                .map(move |(m, value)| MetricRow {
                    series: series.clone(),
                    metric: (*m).to_string(),
                    value,
                })
        })
        .collect())
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
