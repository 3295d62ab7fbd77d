//! The stored AR model: one fitted process (or fallback) per series, the
//! history its forecasts continue from, and training from a query.

use std::collections::HashMap;
use std::io::Cursor as IoCursor;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::calendar::Calendar;
use super::process::{self, Criterion};
use super::series::{self, Fill, Frequency};
use crate::error::{SqlError, SqlState, sql_err};
use crate::models::ModelFile;
use crate::models::parallel;
use crate::models::training_data::as_utf8;

pub const SERIES_FILE: &str = "series.arrow";

/// How a series is forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// AR(p) with intercept on the (differenced) series.
    Ar,
    /// The last seasonal cycle repeated (series too short or degenerate
    /// for AR, with a seasonal period).
    SeasonalNaive,
    /// The series mean (too short or constant).
    Mean,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ar => "ar",
            Self::SeasonalNaive => "seasonal_naive",
            Self::Mean => "mean",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ar" => Self::Ar,
            "seasonal_naive" => Self::SeasonalNaive,
            "mean" => Self::Mean,
            _ => return None,
        })
    }
}

/// Training options shared by every series.
#[derive(Debug, Clone)]
pub struct ArOptions {
    /// None: chosen by `criterion` up to `max_p`.
    pub p: Option<usize>,
    pub max_p: usize,
    pub criterion: Criterion,
    pub difference: usize,
    pub seasonal_difference: usize,
    pub seasonal_period: usize,
    /// `seasonal_period = 'auto'`: each series' period is detected (see
    /// `season`), and seasonally differenced only when one is found.
    pub seasonal_auto: bool,
    pub frequency: Option<Frequency>,
    pub fill: Fill,
    pub sum_duplicates: bool,
    pub calendar: Calendar,
}

/// One series' fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesModel {
    pub key: Option<String>,
    pub method: Method,
    /// Why a fallback was used (None for AR).
    pub note: Option<String>,
    pub frequency: Frequency,
    /// Time of the first and the last observed step.
    pub start: i64,
    pub end: i64,
    pub p: usize,
    /// The seasonal period this series was differenced with (0: none).
    pub season: usize,
    pub intercept: f64,
    pub phi: Vec<f64>,
    /// The festival regressors kept for this series (see [`Calendar`]) and
    /// their coefficients.
    pub regressors: Vec<String>,
    pub beta: Vec<f64>,
    pub sigma2: f64,
    pub aic: f64,
    pub bic: f64,
    pub points: usize,
    pub filled: usize,
    /// The last values of the (undifferenced) series, oldest first.
    pub history: Vec<f64>,
    /// The training backtest's metrics (`backtest::METRICS` order), when
    /// one ran and the series was long enough for a fold.
    pub backtest: Option<[f64; 7]>,
}

/// A forecast row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastRow {
    pub time: i64,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

impl SeriesModel {
    /// The next `horizon` steps with `level` prediction intervals.
    pub fn forecast(
        &self,
        opts: &Differencing,
        horizon: usize,
        level: f64,
    ) -> std::result::Result<Vec<ForecastRow>, String> {
        let z = process::normal_quantile(0.5 + level / 2.0);
        let opts = &self.differencing(opts);
        let steps: Vec<process::Step> = match self.method {
            Method::Ar => {
                let a = process::integrated_coefficients(
                    &self.phi,
                    opts.difference,
                    opts.seasonal_period,
                    opts.seasonal_difference,
                );
                let offsets = self.festival_offsets(opts, horizon)?;
                process::forecast_with(
                    self.intercept,
                    &a,
                    &offsets,
                    self.sigma2,
                    &self.history,
                    horizon,
                )
            }
            Method::SeasonalNaive => {
                let s = self.history.len().max(1);
                (0..horizon)
                    .map(|h| process::Step {
                        mean: self.history.get(h % s).copied().unwrap_or(0.0),
                        std_error: (self.sigma2 * ((h / s) + 1) as f64).sqrt(),
                    })
                    .collect()
            }
            Method::Mean => (0..horizon)
                .map(|_| process::Step {
                    mean: self.intercept,
                    std_error: (self.sigma2 * (1.0 + 1.0 / self.points.max(1) as f64)).sqrt(),
                })
                .collect(),
        };
        Ok(steps
            .iter()
            .enumerate()
            .filter_map(|(h, s)| {
                let time = self.frequency.step(self.end, h as i64 + 1)?;
                Some(ForecastRow {
                    time,
                    mean: s.mean,
                    lower: s.mean - z * s.std_error,
                    upper: s.mean + z * s.std_error,
                })
            })
            .collect())
    }

    /// The model's differencing with this series' own seasonal period.
    pub fn differencing(&self, model: &Differencing) -> Differencing {
        Differencing {
            seasonal_difference: usize::from(self.season > 0),
            seasonal_period: self.season,
            ..*model
        }
    }

    /// Σ βⱼ·(differenced festival j) at each forecast step: the regressors
    /// were fitted on the same differences as the series, so the festival
    /// columns are differenced with the same polynomial here.
    fn festival_offsets(
        &self,
        opts: &Differencing,
        horizon: usize,
    ) -> std::result::Result<Vec<f64>, String> {
        if self.regressors.is_empty() || horizon == 0 {
            return Ok(Vec::new());
        }
        let a = process::integrated_coefficients(
            &[],
            opts.difference,
            opts.seasonal_period,
            opts.seasonal_difference,
        );
        let lags = a.len();
        let start = self
            .frequency
            .step(self.end, 1 - lags as i64)
            .ok_or("a forecast time is out of range")?;
        let columns = opts
            .calendar
            .columns(self.frequency, start, lags + horizon)?;
        let names = opts.calendar.festivals();
        let mut offsets = vec![0.0; horizon];
        for (name, beta) in self.regressors.iter().zip(&self.beta) {
            let Some(j) = names.iter().position(|n| n == name) else {
                return Err(format!(
                    "festival '{name}' is not in calendar '{}'",
                    opts.calendar.name()
                ));
            };
            let x = &columns[j];
            for (h, offset) in offsets.iter_mut().enumerate() {
                let t = lags + h;
                let differenced = x[t]
                    - a.iter()
                        .enumerate()
                        .map(|(i, ai)| ai * x[t - i - 1])
                        .sum::<f64>();
                *offset += beta * differenced;
            }
        }
        Ok(offsets)
    }
}

/// The differencing (and festival calendar) every series of a model shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Differencing {
    pub difference: usize,
    pub seasonal_difference: usize,
    pub seasonal_period: usize,
    pub calendar: Calendar,
}

/// `d` regular and `seasonal_d` seasonal differences of period `s`.
fn differenced(v: &[f64], d: usize, seasonal_d: usize, s: usize) -> Vec<f64> {
    let mut w = v.to_vec();
    for _ in 0..d {
        w = w.windows(2).map(|p| p[1] - p[0]).collect();
    }
    for _ in 0..seasonal_d {
        w = if s > 0 && w.len() > s {
            (s..w.len()).map(|t| w[t] - w[t - s]).collect()
        } else {
            Vec::new()
        };
    }
    w
}

/// Fit one regular series. Errors only when the festival calendar cannot
/// cover the series; anything else falls back to a simpler method.
pub fn fit_series(
    key: Option<String>,
    regular: &series::Regular,
    opts: &ArOptions,
) -> std::result::Result<SeriesModel, String> {
    let y = &regular.values;
    let (s, seasonal_difference) = if opts.seasonal_auto {
        match super::season::detect(y, regular.frequency) {
            Some(s) => (s, 1),
            None => (0, 0),
        }
    } else {
        (opts.seasonal_period, opts.seasonal_difference)
    };
    let w = differenced(y, opts.difference, seasonal_difference, s);
    let festivals: Vec<Vec<f64>> = opts
        .calendar
        .columns(regular.frequency, regular.start, y.len())?
        .iter()
        .map(|c| differenced(c, opts.difference, seasonal_difference, s))
        .collect();
    let frequency = regular.frequency;
    let end = frequency
        .step(regular.start, y.len() as i64 - 1)
        .unwrap_or(regular.start);
    let base = SeriesModel {
        key,
        method: Method::Mean,
        note: None,
        frequency,
        start: regular.start,
        end,
        p: 0,
        season: if seasonal_difference > 0 { s } else { 0 },
        intercept: 0.0,
        phi: Vec::new(),
        regressors: Vec::new(),
        beta: Vec::new(),
        sigma2: 0.0,
        aic: f64::NAN,
        bic: f64::NAN,
        points: y.len(),
        filled: regular.filled,
        history: Vec::new(),
        backtest: None,
    };
    // Festivals absent from (or indistinguishable in) the fitting sample
    // are left out rather than making the design singular.
    let usable = |start: usize| -> Vec<usize> { process::independent_columns(&festivals, start) };
    let pick =
        |kept: &[usize]| -> Vec<Vec<f64>> { kept.iter().map(|&j| festivals[j].clone()).collect() };
    let attempt = || -> Result<SeriesModel, String> {
        let p = match opts.p {
            Some(p) => p,
            None => {
                let room = (w.len() / 2).saturating_sub(1);
                let max_p = opts.max_p.min(room);
                let kept = usable(max_p);
                process::select_order_with(&w, &pick(&kept), max_p, opts.criterion)?
            }
        };
        let kept = usable(p);
        let fit = process::fit_with(&w, &pick(&kept), p)?;
        let keep = p + opts.difference + seasonal_difference * s;
        let history = y[y.len().saturating_sub(keep.max(1))..].to_vec();
        let names = opts.calendar.festivals();
        Ok(SeriesModel {
            method: Method::Ar,
            p,
            intercept: fit.intercept,
            phi: fit.phi,
            regressors: kept.iter().map(|&j| names[j].to_string()).collect(),
            beta: fit.beta,
            sigma2: fit.sigma2,
            aic: fit.aic,
            bic: fit.bic,
            history,
            ..base.clone()
        })
    };
    Ok(match attempt() {
        Ok(m) => m,
        Err(why) => fallback(base, y, s, why),
    })
}

/// Seasonal naive when a full cycle or more exists (twice, for a
/// variance), else the mean.
fn fallback(base: SeriesModel, y: &[f64], s: usize, why: String) -> SeriesModel {
    let n = y.len();
    if s > 1 && n >= 2 * s {
        let diffs: Vec<f64> = (s..n).map(|t| y[t] - y[t - s]).collect();
        let sigma2 = diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64;
        return SeriesModel {
            method: Method::SeasonalNaive,
            note: Some(why),
            sigma2,
            history: y[n - s..].to_vec(),
            ..base
        };
    }
    let mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let sigma2 = if n > 1 {
        y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    SeriesModel {
        method: Method::Mean,
        note: Some(why),
        intercept: mean,
        sigma2,
        ..base
    }
}

/// One series' key (None without `series_col`) and its (time, value) rows.
pub type SeriesPoints = (Option<String>, Vec<(i64, f64)>);

/// The (time, value) rows of each series of a query.
pub struct SeriesRows {
    pub series: Vec<SeriesPoints>,
    pub rows: u64,
    pub skipped_rows: u64,
    /// `date` or `timestamp`: the type forecasts are returned in.
    pub time_type: String,
}

/// Run the training query and group its rows by series.
pub async fn collect(
    ctx: &SessionContext,
    query: &str,
    time_col: &str,
    value_col: &str,
    series_col: Option<&str>,
) -> Result<SeriesRows> {
    let df = ctx.sql(query).await?;
    let schema = df.schema().as_arrow().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |name: &str, option: &str| -> Result<usize> {
        schema.index_of(name).map_err(|_| {
            sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the training query has no column \"{name}\" ({option}); its columns are: {}",
                    names.join(", ")
                ),
            )
        })
    };
    let t = find(time_col, "time_col")?;
    let v = find(value_col, "value_col")?;
    let time_type = match schema.field(t).data_type() {
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(..) => "timestamp",
        other => {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the time column \"{time_col}\" has type {other}; it must be a date or timestamp"
                ),
            ));
        }
    };
    if !schema.field(v).data_type().is_numeric() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "the value column \"{value_col}\" has type {}; it must be a number",
                schema.field(v).data_type()
            ),
        ));
    }
    let s = match series_col {
        Some(c) => Some(find(c, "series_col")?),
        None => None,
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut null_series: Option<usize> = None;
    let mut series: Vec<SeriesPoints> = Vec::new();
    let (mut rows, mut skipped_rows) = (0_u64, 0_u64);
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        let times = seconds(batch.column(t))?;
        let values = cast(batch.column(v), &DataType::Float64)?;
        let values = values.as_primitive::<Float64Type>();
        let keys = match s {
            Some(s) => Some(as_utf8(batch.column(s))?),
            None => None,
        };
        for row in 0..batch.num_rows() {
            if times.is_null(row) || values.is_null(row) {
                skipped_rows += 1;
                continue;
            }
            let value = values.value(row);
            if !value.is_finite() {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("the value column holds {value}; values must be finite numbers"),
                ));
            }
            // Looked up by &str: no allocation per row, only per series.
            let key: Option<&str> = keys.as_ref().and_then(|k| {
                let k = k.as_string::<i32>();
                k.is_valid(row).then(|| k.value(row))
            });
            let slot = match key {
                Some(k) => index.get(k).copied(),
                None => null_series,
            };
            let at = match slot {
                Some(at) => at,
                None => {
                    let at = series.len();
                    match key {
                        Some(k) => {
                            index.insert(k.to_string(), at);
                        }
                        None => null_series = Some(at),
                    }
                    series.push((key.map(str::to_string), Vec::new()));
                    at
                }
            };
            series[at].1.push((times.value(row), value));
        }
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(SeriesRows {
        series,
        rows,
        skipped_rows,
        time_type: time_type.into(),
    })
}

/// A date or timestamp column as seconds since the epoch.
fn seconds(array: &ArrayRef) -> Result<Int64Array> {
    let as_seconds = match array.data_type() {
        DataType::Date32 => {
            let days = cast(array, &DataType::Int32)?;
            let days = cast(&days, &DataType::Int64)?;
            let days = days.as_primitive::<Int64Type>();
            return Ok(days.iter().map(|d| d.map(|d| d * 86_400)).collect());
        }
        DataType::Timestamp(_, tz) => {
            cast(array, &DataType::Timestamp(TimeUnit::Second, tz.clone()))?
        }
        _ => cast(array, &DataType::Timestamp(TimeUnit::Second, None))?,
    };
    let ints = cast(&as_seconds, &DataType::Int64)?;
    Ok(ints.as_primitive::<Int64Type>().clone())
}

/// A backtest to run beside each fit: folds, horizon and the interval level.
#[derive(Debug, Clone, Copy)]
pub struct BacktestPlan {
    pub folds: usize,
    pub horizon: usize,
    pub level: f64,
}

/// Fit every series (and backtest it, given a plan), in parallel. Series
/// that cannot be made regular are errors naming the series.
pub fn fit_all(
    rows: &SeriesRows,
    opts: &ArOptions,
    differencing: &Differencing,
    plan: Option<BacktestPlan>,
) -> std::result::Result<Vec<(SeriesModel, Option<super::backtest::Errors>)>, String> {
    let results = parallel::map_ranges(rows.series.len(), 16, |range| {
        range
            .map(|i| {
                let (key, points) = &rows.series[i];
                let regular = regularize(key, points, opts)?;
                let errors = plan.and_then(|p| {
                    super::backtest::backtest(
                        &regular,
                        opts,
                        differencing,
                        p.folds,
                        p.horizon,
                        p.level,
                    )
                });
                let mut model = fit_series(key.clone(), &regular, opts).map_err(|e| match key {
                    Some(k) => format!("series '{k}': {e}"),
                    None => e,
                })?;
                model.backtest = errors.as_ref().map(super::backtest::Errors::values);
                Ok((model, errors))
            })
            .collect::<Vec<std::result::Result<_, String>>>()
    });
    results.into_iter().flatten().collect()
}

/// Backtest every series long enough for a fold, in parallel.
pub fn backtest_all(
    rows: &SeriesRows,
    opts: &ArOptions,
    differencing: &Differencing,
    plan: BacktestPlan,
) -> std::result::Result<Vec<(Option<String>, super::backtest::Errors)>, String> {
    let results = parallel::map_ranges(rows.series.len(), 16, |range| {
        range
            .map(|i| {
                let (key, points) = &rows.series[i];
                let regular = regularize(key, points, opts)?;
                Ok(super::backtest::backtest(
                    &regular,
                    opts,
                    differencing,
                    plan.folds,
                    plan.horizon,
                    plan.level,
                )
                .map(|e| (key.clone(), e)))
            })
            .collect::<Vec<std::result::Result<_, String>>>()
    });
    let all: Vec<Option<_>> = results.into_iter().flatten().collect::<Result<_, _>>()?;
    Ok(all.into_iter().flatten().collect())
}

fn regularize(
    key: &Option<String>,
    points: &[(i64, f64)],
    opts: &ArOptions,
) -> std::result::Result<series::Regular, String> {
    series::regularize(
        points.to_vec(),
        opts.frequency,
        opts.fill,
        opts.sum_duplicates,
    )
    .map_err(|e| match key {
        Some(k) => format!("series '{k}': {e}"),
        None => e,
    })
}

/// The model file: one row per series; the differencing and time type in
/// the schema metadata.
pub fn series_file(
    models: &[SeriesModel],
    differencing: &Differencing,
    time_type: &str,
) -> Result<ModelFile> {
    let list = |values: Vec<&[f64]>| -> Result<ArrayRef> {
        let mut offsets = vec![0_i32];
        let mut flat = Vec::new();
        for v in values {
            flat.extend_from_slice(v);
            offsets.push(i32::try_from(flat.len()).map_err(|_| {
                sql_err(
                    SqlState::PROGRAM_LIMIT_EXCEEDED,
                    "the model is too large to store",
                )
            })?);
        }
        Ok(Arc::new(ListArray::try_new(
            Arc::new(Field::new("item", DataType::Float64, false)),
            OffsetBuffer::new(offsets.into()),
            Arc::new(Float64Array::from(flat)),
            None,
        )?))
    };
    let metadata: HashMap<String, String> = [
        ("difference", differencing.difference.to_string()),
        (
            "seasonal_difference",
            differencing.seasonal_difference.to_string(),
        ),
        ("seasonal_period", differencing.seasonal_period.to_string()),
        ("calendar", differencing.calendar.name().to_string()),
        ("time_type", time_type.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let list_field =
        |name: &str| Field::new_list(name, Field::new("item", DataType::Float64, false), false);
    let schema = Arc::new(
        Schema::new(
            vec![
                Field::new("series", DataType::Utf8, true),
                Field::new("method", DataType::Utf8, false),
                Field::new("note", DataType::Utf8, true),
                Field::new("frequency", DataType::Utf8, false),
                Field::new("start", DataType::Int64, false),
                Field::new("end", DataType::Int64, false),
                Field::new("p", DataType::Int64, false),
                Field::new("season", DataType::Int64, false),
                Field::new("intercept", DataType::Float64, false),
                list_field("phi"),
                Field::new("sigma2", DataType::Float64, false),
                Field::new("aic", DataType::Float64, false),
                Field::new("bic", DataType::Float64, false),
                Field::new("points", DataType::Int64, false),
                Field::new("filled", DataType::Int64, false),
                list_field("history"),
                Field::new_list(
                    "regressors",
                    Field::new("item", DataType::Utf8, false),
                    false,
                ),
                list_field("beta"),
            ]
            .into_iter()
            .chain(
                super::backtest::METRICS
                    .iter()
                    .map(|m| Field::new(format!("backtest_{m}"), DataType::Float64, true)),
            )
            .collect::<Vec<_>>(),
        )
        .with_metadata(metadata),
    );
    let i64s = |f: &dyn Fn(&SeriesModel) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from(models.iter().map(f).collect::<Vec<_>>()))
    };
    let f64s = |f: &dyn Fn(&SeriesModel) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(models.iter().map(f).collect::<Vec<_>>()))
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            models.iter().map(|m| m.key.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            models.iter().map(|m| m.method.name()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            models.iter().map(|m| m.note.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            models
                .iter()
                .map(|m| frequency_text(m.frequency))
                .collect::<Vec<_>>(),
        )),
        i64s(&|m| m.start),
        i64s(&|m| m.end),
        i64s(&|m| m.p as i64),
        i64s(&|m| m.season as i64),
        f64s(&|m| m.intercept),
        list(models.iter().map(|m| m.phi.as_slice()).collect())?,
        f64s(&|m| m.sigma2),
        f64s(&|m| m.aic),
        f64s(&|m| m.bic),
        i64s(&|m| m.points as i64),
        i64s(&|m| m.filled as i64),
        list(models.iter().map(|m| m.history.as_slice()).collect())?,
        {
            let names: Vec<&str> = models
                .iter()
                .flat_map(|m| m.regressors.iter().map(String::as_str))
                .collect();
            let mut offsets = vec![0_i32];
            let mut total = 0_usize;
            for m in models {
                total += m.regressors.len();
                offsets.push(i32::try_from(total).map_err(|_| {
                    sql_err(
                        SqlState::PROGRAM_LIMIT_EXCEEDED,
                        "the model is too large to store",
                    )
                })?);
            }
            Arc::new(ListArray::try_new(
                Arc::new(Field::new("item", DataType::Utf8, false)),
                OffsetBuffer::new(offsets.into()),
                Arc::new(StringArray::from(names)),
                None,
            )?)
        },
        list(models.iter().map(|m| m.beta.as_slice()).collect())?,
    ];
    for i in 0..super::backtest::METRICS.len() {
        columns.push(Arc::new(Float64Array::from(
            models
                .iter()
                .map(|m| m.backtest.map(|b| b[i]))
                .collect::<Vec<_>>(),
        )));
    }
    let batch = RecordBatch::try_new(schema, columns)?;
    ModelFile::arrow(SERIES_FILE, &batch)
}

/// A frequency as stored: `s:<seconds>` or `m:<months>`.
fn frequency_text(f: Frequency) -> String {
    match f {
        Frequency::Seconds(s) => format!("s:{s}"),
        Frequency::Months(m) => format!("m:{m}"),
    }
}

fn frequency_from(text: &str) -> Option<Frequency> {
    let (kind, n) = text.split_once(':')?;
    match kind {
        "s" => n.parse().ok().filter(|s| *s > 0).map(Frequency::Seconds),
        "m" => n.parse().ok().filter(|m| *m > 0).map(Frequency::Months),
        _ => None,
    }
}

/// A loaded AR model.
#[derive(Debug)]
pub struct ArModel {
    pub series: Vec<SeriesModel>,
    pub differencing: Differencing,
    /// `date` or `timestamp`.
    pub time_type: String,
}

/// Load a model from its series file.
pub fn load(bytes: &[u8]) -> std::result::Result<ArModel, SqlError> {
    load_inner(bytes)
        .map_err(|e| SqlError::new(SqlState::DATA_EXCEPTION, format!("{SERIES_FILE}: {e}")))
}

fn load_inner(bytes: &[u8]) -> std::result::Result<ArModel, String> {
    let reader = FileReader::try_new(IoCursor::new(bytes), None).map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let batch = concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
    let meta = schema.metadata();
    let number = |k: &str| -> std::result::Result<usize, String> {
        meta.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or(format!("lacks {k}"))
    };
    let differencing = Differencing {
        difference: number("difference")?,
        seasonal_difference: number("seasonal_difference")?,
        seasonal_period: number("seasonal_period")?,
        // Models stored before calendars existed have none.
        calendar: match meta.get("calendar") {
            None => Calendar::NONE,
            Some(c) => Calendar::parse(c).ok_or(format!("unknown calendar {c}"))?,
        },
    };
    let time_type = meta.get("time_type").cloned().ok_or("lacks time_type")?;
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or(format!("no column {name}"))
    };
    let text = |name: &str| -> std::result::Result<Vec<Option<String>>, String> {
        Ok(col(name)?
            .as_string_opt::<i32>()
            .ok_or(format!("{name} is not text"))?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let ints = |name: &str| -> std::result::Result<Vec<i64>, String> {
        Ok(col(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or(format!("{name} is not Int64"))?
            .values()
            .to_vec())
    };
    let floats = |name: &str| -> std::result::Result<Vec<f64>, String> {
        Ok(col(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or(format!("{name} is not Float64"))?
            .values()
            .to_vec())
    };
    let lists = |name: &str| -> std::result::Result<Vec<Vec<f64>>, String> {
        let list = col(name)?
            .as_list_opt::<i32>()
            .ok_or(format!("{name} is not a list"))?;
        (0..list.len())
            .map(|i| {
                let v = list.value(i);
                v.as_primitive_opt::<Float64Type>()
                    .map(|a| a.values().to_vec())
                    .ok_or(format!("{name} holds no Float64"))
            })
            .collect()
    };
    let (keys, methods, notes, freqs) = (
        text("series")?,
        text("method")?,
        text("note")?,
        text("frequency")?,
    );
    let (start, end, p, points, filled) = (
        ints("start")?,
        ints("end")?,
        ints("p")?,
        ints("points")?,
        ints("filled")?,
    );
    let (intercept, sigma2, aic, bic) = (
        floats("intercept")?,
        floats("sigma2")?,
        floats("aic")?,
        floats("bic")?,
    );
    let (phi, history) = (lists("phi")?, lists("history")?);
    // Per-series seasons: models stored before 'auto' existed share the
    // model's period.
    let seasons = match batch.column_by_name("season") {
        Some(_) => ints("season")?,
        None => {
            let s = if differencing.seasonal_difference > 0 {
                differencing.seasonal_period as i64
            } else {
                0
            };
            vec![s; keys.len()]
        }
    };
    // Festival regressors: absent in models stored before calendars existed.
    let beta = match batch.column_by_name("beta") {
        Some(_) => lists("beta")?,
        None => vec![Vec::new(); keys.len()],
    };
    let regressors: Vec<Vec<String>> = match batch.column_by_name("regressors") {
        None => vec![Vec::new(); keys.len()],
        Some(c) => {
            let list = c.as_list_opt::<i32>().ok_or("regressors is not a list")?;
            (0..list.len())
                .map(|i| {
                    let v = list.value(i);
                    v.as_string_opt::<i32>()
                        .map(|a| a.iter().flatten().map(str::to_string).collect())
                        .ok_or("regressors holds no text")
                })
                .collect::<std::result::Result<_, _>>()?
        }
    };
    // Backtest columns are optional: a model trained with backtest_folds = 0
    // still has them (all NULL), but reading stays lenient.
    let backtests: Vec<Option<&Float64Array>> = super::backtest::METRICS
        .iter()
        .map(|m| {
            batch
                .column_by_name(&format!("backtest_{m}"))
                .and_then(|c| c.as_primitive_opt::<Float64Type>())
        })
        .collect();
    let mut series = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let method = methods[i]
            .as_deref()
            .and_then(Method::parse)
            .ok_or("unknown method")?;
        let frequency = freqs[i]
            .as_deref()
            .and_then(frequency_from)
            .ok_or("unknown frequency")?;
        series.push(SeriesModel {
            key: keys[i].clone(),
            method,
            note: notes[i].clone(),
            frequency,
            start: start[i],
            end: end[i],
            p: usize::try_from(p[i]).map_err(|_| "negative order")?,
            season: usize::try_from(seasons[i]).map_err(|_| "negative season")?,
            intercept: intercept[i],
            phi: phi[i].clone(),
            regressors: regressors[i].clone(),
            beta: beta[i].clone(),
            sigma2: sigma2[i],
            aic: aic[i],
            bic: bic[i],
            points: usize::try_from(points[i]).unwrap_or(0),
            filled: usize::try_from(filled[i]).unwrap_or(0),
            history: history[i].clone(),
            backtest: match backtests.as_slice() {
                [Some(first), ..] if first.is_valid(i) => {
                    let mut values = [f64::NAN; 7];
                    for (v, column) in values.iter_mut().zip(&backtests) {
                        if let Some(c) = column.filter(|c| c.is_valid(i)) {
                            *v = c.value(i);
                        }
                    }
                    Some(values)
                }
                _ => None,
            },
        });
    }
    Ok(ArModel {
        series,
        differencing,
        time_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    fn options(p: usize, difference: usize) -> ArOptions {
        ArOptions {
            p: Some(p),
            max_p: 10,
            criterion: Criterion::Aic,
            difference,
            seasonal_difference: 0,
            seasonal_period: 0,
            seasonal_auto: false,
            frequency: Some(Frequency::Seconds(86_400)),
            fill: Fill::Zero,
            sum_duplicates: true,
            calendar: Calendar::NONE,
        }
    }

    fn regular(values: Vec<f64>) -> series::Regular {
        series::Regular {
            start: 0,
            frequency: Frequency::Seconds(86_400),
            values,
            filled: 0,
            duplicates: 0,
        }
    }

    /// 95% one-step intervals of AR(2) fits cover the next simulated value
    /// about 95% of the time: 2,000 series of 200 points (fixed seed), so
    /// the share has a standard error of 0.5%.
    #[test]
    fn intervals_cover_close_to_nominal() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (c, phi) = (1.0, [0.6, -0.2]);
        let diff = Differencing {
            difference: 0,
            seasonal_difference: 0,
            seasonal_period: 0,
            calendar: Calendar::NONE,
        };
        let (mut covered, trials) = (0, 2000);
        for _ in 0..trials {
            let mut y = vec![0.0, 0.0];
            for _ in 0..300 {
                let t = y.len();
                let e: f64 = StandardNormal.sample(&mut rng);
                y.push(c + phi[0] * y[t - 1] + phi[1] * y[t - 2] + e);
            }
            let next = y.pop().unwrap_or_default();
            let series = regular(y[y.len() - 200..].to_vec());
            let model = fit_series(None, &series, &options(2, 0)).unwrap();
            let row = model.forecast(&diff, 1, 0.95).unwrap()[0];
            if row.lower <= next && next <= row.upper {
                covered += 1;
            }
        }
        let share = f64::from(covered) / f64::from(trials);
        assert!((0.93..=0.97).contains(&share), "coverage {share}");
    }

    /// With difference = 1 the forecast is the last value plus the
    /// cumulative AR forecasts of the differences.
    #[test]
    fn differencing_is_undone() {
        let y: Vec<f64> = (0..60)
            .map(|t| 100.0 + 2.0 * t as f64 + ((t * 7 % 11) as f64 - 5.0))
            .collect();
        let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
        let on_diffs = process::fit(&diffs, 2).unwrap();
        let expected = process::forecast(
            on_diffs.intercept,
            &on_diffs.phi,
            on_diffs.sigma2,
            &diffs,
            3,
        );
        let model = fit_series(None, &regular(y.clone()), &options(2, 1)).unwrap();
        let diff = Differencing {
            difference: 1,
            seasonal_difference: 0,
            seasonal_period: 0,
            calendar: Calendar::NONE,
        };
        let got = model.forecast(&diff, 3, 0.95).unwrap();
        let mut level = y[y.len() - 1];
        for (g, e) in got.iter().zip(&expected) {
            level += e.mean;
            assert!((g.mean - level).abs() < 1e-9, "{} vs {level}", g.mean);
        }
        // The level's error after h steps sums the differences' errors: its
        // ψ-weights are the cumulative sums of theirs.
        let psi = process::psi_weights(&on_diffs.phi, 3);
        let z = process::normal_quantile(0.975);
        for (h, row) in got.iter().enumerate() {
            let var: f64 = (0..=h)
                .map(|j| psi[..=j].iter().sum::<f64>().powi(2))
                .sum::<f64>()
                * on_diffs.sigma2;
            let half = (row.upper - row.lower) / 2.0;
            assert!((half - z * var.sqrt()).abs() < 1e-9, "step {h}: {half}");
        }
        assert_eq!(got[0].time, 60 * 86_400);
    }

    #[test]
    fn short_series_fall_back() {
        let m = fit_series(Some("a".into()), &regular(vec![3.0, 5.0]), &options(3, 0)).unwrap();
        assert_eq!(m.method, Method::Mean);
        assert_eq!(m.intercept, 4.0);
        assert!(m.note.as_deref().unwrap_or("").contains("too few"));
        let mut o = options(5, 0);
        o.seasonal_period = 3;
        let m = fit_series(None, &regular(vec![1.0, 2.0, 3.0, 1.5, 2.5, 3.5, 1.0]), &o).unwrap();
        assert_eq!(m.method, Method::SeasonalNaive);
        let f = m
            .forecast(
                &Differencing {
                    difference: 0,
                    seasonal_difference: 0,
                    seasonal_period: 3,
                    calendar: Calendar::NONE,
                },
                4,
                0.95,
            )
            .unwrap();
        let means: Vec<f64> = f.iter().map(|r| r.mean).collect();
        assert_eq!(means, vec![2.5, 3.5, 1.0, 2.5]);
    }
}
