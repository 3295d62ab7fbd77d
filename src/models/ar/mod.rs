//! `model_type = 'ar'`: autoregressive sales forecasting, one model per
//! series (`series_col`), fitted in parallel, served by `forecast_ar`.
//!
//! Each series is made regular (frequency inferred or given, duplicate
//! times summed, gaps filled), differenced if asked, and fitted as AR(p)
//! with intercept by least squares (the model of statsmodels
//! `AutoReg(y, p, trend='c')`), p chosen by AIC/BIC when `p = 'auto'`.
//! Series too short or degenerate for that fall back to the seasonal naive
//! forecast or the mean, and say so in `method`.

pub mod backtest;
pub mod calendar;
pub mod least_squares;
pub mod model;
pub mod process;
pub mod season;
pub mod series;

use chrono::Utc;
use datafusion::error::Result;

use calendar::Calendar;
use model::{ArModel, ArOptions, Differencing};
use process::Criterion;
use series::{Fill, Frequency};

use super::options::ModelOptions;
use super::store::{FeatureMeta, MODEL_FORMAT_VERSION, ModelFile, ModelMeta};
use crate::engine::{Engine, Notices};
use crate::error::{SqlState, sql_err};
use crate::statements::OptionList;
use crate::statements::OptionValue;

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
    "backtest_folds",
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
    let seasonal_auto = opts
        .text("seasonal_period")
        .is_some_and(|s| s.eq_ignore_ascii_case("auto"));
    // 'auto' differences the series where a season is found.
    let seasonal_difference =
        opts.whole("seasonal_difference", u64::from(seasonal_auto), 0, 1)? as usize;
    let seasonal_period = if seasonal_auto {
        if seasonal_difference == 0 {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "seasonal_period = 'auto' detects each series' period for a seasonal difference; it needs seasonal_difference = 1 (its default)",
            ));
        }
        0
    } else {
        opts.whole("seasonal_period", 7, 0, 400)? as usize
    };
    if seasonal_difference > 0 && seasonal_period < 2 && !seasonal_auto {
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
    let calendar = match opts.text("calendar") {
        None => Calendar::NONE,
        Some(text) => Calendar::parse(&text).ok_or_else(|| {
            sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "calendar = '{text}': expected none, retail_cn, retail_us or 'retail_cn,retail_us'"
                ),
            )
        })?,
    };
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
            seasonal_auto,
            frequency,
            fill,
            sum_duplicates,
            calendar,
        },
        Differencing {
            difference: opts.whole("difference", 0, 0, 2)? as usize,
            seasonal_difference,
            seasonal_period: if seasonal_difference > 0 {
                seasonal_period
            } else {
                0
            },
            calendar,
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
    let horizon = opts.whole("horizon", 30, 1, 100_000)? as usize;
    let folds = opts.whole("backtest_folds", 3, 0, 100)? as usize;
    let plan = (folds > 0).then_some(model::BacktestPlan {
        folds,
        horizon,
        level: 0.95,
    });
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
    let (fitted, rows) = tokio::task::spawn_blocking(move || {
        (model::fit_all(&rows, &task_opts, &differencing, plan), rows)
    })
    .await
    .map_err(|e| {
        sql_err(
            SqlState::INTERNAL_ERROR,
            format!("training task failed: {e}"),
        )
    })?;
    let fitted = fitted.map_err(|e| sql_err(SqlState::INVALID_PARAMETER_VALUE, e))?;
    let mut errors = backtest::Errors::default();
    for e in fitted.iter().filter_map(|(_, e)| e.as_ref()) {
        errors.add(e);
    }
    let fitted: Vec<model::SeriesModel> = fitted.into_iter().map(|(m, _)| m).collect();
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
    if errors.points > 0 {
        for (name, value) in errors.metrics() {
            if value.is_finite() {
                metrics.insert(format!("validation_backtest_{name}"), value);
            }
        }
        notices.send(format!(
            "backtest ({} folds of {} steps): MASE {:.4}, coverage {:.3}",
            plan.map_or(0, |p| p.folds),
            plan.map_or(0, |p| p.horizon),
            errors.metrics()[4].1,
            errors.metrics()[5].1
        ));
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
    let headline_metric = if metrics.contains_key("validation_backtest_mase") {
        Some("validation_backtest_mase".to_string())
    } else {
        Some("train_mean_sigma".to_string()).filter(|_| !ar_models.is_empty())
    };
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
        headline_metric,
        label: None,
        classes: Vec::new(),
        training_seconds: 0.0,
    };
    Ok((meta, vec![file], 0))
}

/// What `EVALUATE MODEL` asks of an ar model's backtest.
#[derive(Debug, Clone, Copy, Default)]
pub struct BacktestRequest {
    pub folds: Option<usize>,
    pub horizon: Option<usize>,
    pub level: Option<f64>,
}

/// Backtest metrics: the overall ones (key None) first, then one set per
/// series of a model with `series_col`.
pub type BacktestRows = Vec<(Option<String>, [f64; 7])>;

/// `EVALUATE MODEL` for ar models. Without a query: the backtest stored at
/// training. With one: a fresh rolling-origin backtest on its rows, with the
/// model's training options (order selection, differencing, gap rule).
pub async fn evaluate(
    engine: &Engine,
    meta: &ModelMeta,
    model: &ArModel,
    query: Option<&str>,
    request: BacktestRequest,
) -> Result<BacktestRows> {
    let list = OptionList(
        meta.options
            .iter()
            .map(|(k, v)| (k.clone(), OptionValue::Str(v.clone())))
            .collect(),
    );
    let opts = ModelOptions::new(&list, MODEL_TYPE, OPTIONS)?;
    let stored_folds = opts.whole("backtest_folds", 3, 0, 100)? as usize;
    let stored_horizon = opts.whole("horizon", 30, 1, 100_000)? as usize;
    let by_series = opts.text("series_col").is_some();
    let Some(query) = query else {
        let asked_other = request.folds.is_some_and(|f| f != stored_folds)
            || request.horizon.is_some_and(|h| h != stored_horizon)
            || request.level.is_some_and(|l| l != 0.95);
        let overall: Vec<f64> = backtest::METRICS
            .iter()
            .map(|m| {
                meta.metrics
                    .get(&format!("validation_backtest_{m}"))
                    .copied()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        if asked_other || stored_folds == 0 || overall[6].is_nan() {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "model \"{}\" stores a backtest of {stored_folds} folds of {stored_horizon} steps at the 95% level{}; for another backtest give the series: EVALUATE MODEL {} ON (<query>) OPTIONS (folds = ..., horizon = ..., level = ...)",
                    meta.name,
                    if stored_folds == 0 || overall[6].is_nan() {
                        " (none: no series was long enough, or backtest_folds = 0)"
                    } else {
                        ""
                    },
                    meta.name
                ),
            ));
        }
        let mut rows: BacktestRows = vec![(None, overall.try_into().unwrap_or([f64::NAN; 7]))];
        if by_series {
            rows.extend(
                model
                    .series
                    .iter()
                    .filter_map(|s| Some((s.key.clone(), s.backtest?))),
            );
        }
        return Ok(rows);
    };
    let (ar, differencing) = parse_options(&opts)?;
    let folds = request.folds.unwrap_or(stored_folds.max(1));
    let horizon = request.horizon.unwrap_or(stored_horizon);
    let level = request.level.unwrap_or(0.95);
    let series_col = opts.text("series_col");
    let rows = model::collect(
        engine.session_context(),
        query,
        &opts.required_text("time_col")?,
        &opts.required_text("value_col")?,
        series_col.as_deref(),
    )
    .await?;
    let plan = model::BacktestPlan {
        folds,
        horizon,
        level,
    };
    let results =
        tokio::task::spawn_blocking(move || model::backtest_all(&rows, &ar, &differencing, plan))
            .await
            .map_err(|e| {
                sql_err(
                    SqlState::INTERNAL_ERROR,
                    format!("backtest task failed: {e}"),
                )
            })?
            .map_err(|e| sql_err(SqlState::INVALID_PARAMETER_VALUE, e))?;
    let mut overall = backtest::Errors::default();
    for (_, e) in &results {
        overall.add(e);
    }
    if overall.points == 0 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "no series is long enough for a backtest of {folds} folds of {horizon} steps (each fold keeps at least 2 · horizon points to train on); lower horizon or folds"
            ),
        ));
    }
    let mut out: BacktestRows = vec![(None, overall.values())];
    if by_series {
        out.extend(results.into_iter().map(|(k, e)| (k, e.values())));
    }
    Ok(out)
}
