//! `model_type = 'ar'`: autoregressive sales forecasting, one model per
//! series (`series_col`), fitted in parallel, served by `forecast_ar`.
//!
//! Each series is made regular (frequency inferred or given, duplicate
//! times summed, gaps filled), differenced if asked, and fitted as AR(p)
//! with intercept by least squares (the model of statsmodels
//! `AutoReg(y, p, trend='c')`), p chosen by AIC/BIC when `p = 'auto'`.
//! Series too short or degenerate for that fall back to the seasonal naive
//! forecast or the mean, and say so in `method`.

pub mod least_squares;
pub mod model;
pub mod process;
pub mod series;

use chrono::Utc;
use datafusion::error::Result;

use model::{ArOptions, Differencing};
use process::Criterion;
use series::{Fill, Frequency};

use super::options::ModelOptions;
use super::store::{FeatureMeta, MODEL_FORMAT_VERSION, ModelFile, ModelMeta};
use crate::engine::{Engine, Notices};
use crate::error::{SqlState, sql_err};
use crate::statements::OptionList;

pub const MODEL_TYPE: &str = "ar";

/// Options `CREATE MODEL` accepts for this model type.
pub const OPTIONS: &[&str] = &[
    "time_col",
    "value_col",
    "series_col",
    "p",
    "max_p",
    "criterion",
    "difference",
    "seasonal_difference",
    "seasonal_period",
    "frequency",
    "fill",
    "duplicates",
    "calendar",
    "horizon",
];

fn parse_options(opts: &ModelOptions<'_>) -> Result<(ArOptions, Differencing)> {
    let p = match opts.text("p").map(|p| p.to_lowercase()) {
        None => None,
        Some(p) if p == "auto" => None,
        Some(_) => Some(opts.whole("p", 1, 0, 400)? as usize),
    };
    let criterion = match opts.choice("criterion", "aic", &["aic", "bic"])? {
        "bic" => Criterion::Bic,
        _ => Criterion::Aic,
    };
    let seasonal_difference = opts.whole("seasonal_difference", 0, 0, 1)? as usize;
    let seasonal_period = opts.whole("seasonal_period", 7, 0, 400)? as usize;
    if seasonal_difference > 0 && seasonal_period < 2 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "seasonal_difference = 1 needs seasonal_period of 2 or more",
        ));
    }
    let frequency = match opts.text("frequency") {
        None => None,
        Some(f) if f.eq_ignore_ascii_case("auto") => None,
        Some(f) => Some(Frequency::parse(&f).ok_or_else(|| {
            sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "frequency = '{f}': expected auto, hour, day, week, month, quarter or year"
                ),
            )
        })?),
    };
    let fill = match opts.choice("fill", "zero", &["zero", "previous", "linear"])? {
        "previous" => Fill::Previous,
        "linear" => Fill::Linear,
        _ => Fill::Zero,
    };
    let sum_duplicates = opts.choice("duplicates", "sum", &["sum", "error"])? == "sum";
    if opts.choice("calendar", "none", &["none", "retail_cn", "retail_us"])? != "none" {
        return Err(sql_err(
            SqlState::FEATURE_NOT_SUPPORTED,
            "calendar effects are not implemented yet; use calendar = 'none'",
        ));
    }
    opts.whole("horizon", 30, 1, 100_000)?;
    Ok((
        ArOptions {
            p,
            max_p: opts.whole("max_p", 28, 0, 400)? as usize,
            criterion,
            difference: opts.whole("difference", 0, 0, 2)? as usize,
            seasonal_difference,
            seasonal_period: if seasonal_difference > 0 {
                seasonal_period
            } else {
                0
            },
            frequency,
            fill,
            sum_duplicates,
        },
        Differencing {
            difference: opts.whole("difference", 0, 0, 2)? as usize,
            seasonal_difference,
            seasonal_period: if seasonal_difference > 0 {
                seasonal_period
            } else {
                0
            },
        },
    ))
}

/// `CREATE MODEL ... OPTIONS (model_type = 'ar', ...)`.
pub async fn create(
    engine: &Engine,
    name: &str,
    options: &OptionList,
    query: Option<&str>,
    notices: &Notices,
) -> Result<(ModelMeta, Vec<ModelFile>, u64)> {
    let opts = ModelOptions::new(options, MODEL_TYPE, OPTIONS)?;
    let (ar, differencing) = parse_options(&opts)?;
    let time_col = opts.required_text("time_col")?;
    let value_col = opts.required_text("value_col")?;
    let series_col = opts.text("series_col");
    let Some(query) = query else {
        return Err(sql_err(
            SqlState::SYNTAX_ERROR,
            "CREATE MODEL needs AS <query> returning the series (time, value[, series])",
        ));
    };
    let rows = model::collect(
        engine.session_context(),
        query,
        &time_col,
        &value_col,
        series_col.as_deref(),
    )
    .await?;
    if rows.series.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the training query returned no rows with a time and a value",
        ));
    }
    notices.send(format!(
        "fitting {} series from {} rows{}",
        rows.series.len(),
        rows.rows,
        if rows.skipped_rows > 0 {
            format!(" ({} with a NULL time or value skipped)", rows.skipped_rows)
        } else {
            String::new()
        }
    ));
    let task_opts = ar.clone();
    let (fitted, rows) =
        tokio::task::spawn_blocking(move || (model::fit_all(&rows, &task_opts), rows))
            .await
            .map_err(|e| {
                sql_err(
                    SqlState::INTERNAL_ERROR,
                    format!("training task failed: {e}"),
                )
            })?;
    let fitted = fitted.map_err(|e| sql_err(SqlState::INVALID_PARAMETER_VALUE, e))?;
    let fallbacks = fitted
        .iter()
        .filter(|m| m.method != model::Method::Ar)
        .count();
    if fallbacks > 0 {
        notices.send(format!(
            "{fallbacks} of {} series use a fallback method (see model_info / forecast_ar's method column)",
            fitted.len()
        ));
    }
    let ar_models: Vec<&model::SeriesModel> = fitted
        .iter()
        .filter(|m| m.method == model::Method::Ar)
        .collect();
    let mut metrics = std::collections::BTreeMap::new();
    metrics.insert("train_series".to_string(), fitted.len() as f64);
    metrics.insert("train_fallback_series".to_string(), fallbacks as f64);
    if !ar_models.is_empty() {
        let n = ar_models.len() as f64;
        metrics.insert(
            "train_mean_p".to_string(),
            ar_models.iter().map(|m| m.p as f64).sum::<f64>() / n,
        );
        metrics.insert(
            "train_mean_sigma".to_string(),
            ar_models.iter().map(|m| m.sigma2.sqrt()).sum::<f64>() / n,
        );
    }
    let file = model::series_file(&fitted, &differencing, &rows.time_type)?;
    let mut features = vec![
        FeatureMeta {
            name: time_col,
            data_type: rows.time_type.clone(),
            kind: "time".into(),
        },
        FeatureMeta {
            name: value_col,
            data_type: "Float64".into(),
            kind: "value".into(),
        },
    ];
    if let Some(s) = series_col {
        features.push(FeatureMeta {
            name: s,
            data_type: "Utf8".into(),
            kind: "series".into(),
        });
    }
    let meta = ModelMeta {
        format_version: MODEL_FORMAT_VERSION,
        name: name.to_string(),
        model_type: MODEL_TYPE.to_string(),
        version: 0,
        created_at: Utc::now(),
        training_rows: rows.rows - rows.skipped_rows,
        features,
        options: opts.as_map(),
        metrics,
        headline_metric: Some("train_mean_sigma".to_string()).filter(|_| !ar_models.is_empty()),
        label: None,
        classes: Vec::new(),
        training_seconds: 0.0,
    };
    Ok((meta, vec![file], 0))
}
