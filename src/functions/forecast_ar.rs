//! `forecast_ar('model', horizon [, confidence_level])`: the next `horizon`
//! steps of every series of an `ar` model, as rows (series, ts, step,
//! forecast, lower, upper, method). Intervals come from the fitted
//! process's ψ-weights and residual variance (widened by any differencing);
//! the level defaults to 0.95.
//!
//! `forecast_ar(ts, value, horizon [, confidence_level])`, the aggregate of
//! the same name, fits and forecasts each group's rows without a stored
//! model (see [`ForecastArAggregateImpl`]).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, FieldRef, Fields, Float64Type, Int64Type, Schema, SchemaRef,
    TimeUnit, TimestampMicrosecondType,
};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

use crate::models::ar::calendar::Calendar;
use crate::models::ar::model::{ArOptions, Differencing, ForecastRow, fit_series};
use crate::models::ar::process::Criterion;
use crate::models::ar::series::{Fill, regularize};

use super::recommend::constant;
use super::{Models, memory_table, model_name_of};
use crate::error::{SqlState, sql_err};

/// The longest horizon a forecast may ask for.
const MAX_HORIZON: i64 = 100_000;

/// `forecast_ar`
#[derive(Debug)]
pub struct ForecastArFunc {
    models: Models,
}

impl ForecastArFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for ForecastArFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=3).contains(&exprs.len()) {
            return Err(sql_err(
                SqlState::UNDEFINED_FUNCTION,
                "forecast_ar takes 2 or 3 arguments: forecast_ar('model', horizon [, confidence_level])",
            ));
        }
        let name = model_name_of(
            "forecast_ar",
            Some(&constant("forecast_ar", "model", &exprs[0])?),
        )?;
        let horizon = constant("forecast_ar", "horizon", &exprs[1])?;
        let horizon = match horizon.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(h)))
                if (1..=MAX_HORIZON).contains(&h) && horizon.data_type().is_integer() =>
            {
                h as usize
            }
            _ => {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "the horizon of forecast_ar must be a whole number from 1 to {MAX_HORIZON}, not {horizon}"
                    ),
                ));
            }
        };
        let level = match exprs.get(2) {
            Some(e) => {
                let v = constant("forecast_ar", "confidence_level", e)?;
                match v.cast_to(&DataType::Float64) {
                    Ok(ScalarValue::Float64(Some(l))) if l > 0.0 && l < 1.0 => l,
                    _ => {
                        return Err(sql_err(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!(
                                "the confidence level of forecast_ar must be between 0 and 1 (e.g. 0.95), not {v}"
                            ),
                        ));
                    }
                }
            }
            None => 0.95,
        };
        let model = self.models.get(&name)?;
        let Some(ar) = model.ar() else {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "model \"{name}\" is a {} model; forecast_ar needs an ar model",
                    model.meta.model_type
                ),
            ));
        };
        let date = ar.time_type == "date";
        let (mut series, mut times, mut steps, mut means, mut lowers, mut uppers, mut methods) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for s in &ar.series {
            let rows = s.forecast(&ar.differencing, horizon, level).map_err(|e| {
                let series = s
                    .key
                    .as_deref()
                    .map(|k| format!(" series '{k}':"))
                    .unwrap_or_default();
                sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("forecast_ar('{name}'):{series} {e}"),
                )
            })?;
            for (h, row) in rows.iter().enumerate() {
                series.push(s.key.clone());
                times.push(row.time);
                steps.push(h as i32 + 1);
                means.push(row.mean);
                lowers.push(row.lower);
                uppers.push(row.upper);
                methods.push(s.method.name());
            }
        }
        let (ts_type, ts): (DataType, ArrayRef) = if date {
            (
                DataType::Date32,
                Arc::new(Date32Array::from(
                    times
                        .iter()
                        .map(|t| (t.div_euclid(86_400)) as i32)
                        .collect::<Vec<_>>(),
                )),
            )
        } else {
            (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Arc::new(TimestampMicrosecondArray::from(
                    times
                        .iter()
                        .map(|t| t.saturating_mul(1_000_000))
                        .collect::<Vec<_>>(),
                )),
            )
        };
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("series", DataType::Utf8, true),
            Field::new("ts", ts_type, false),
            Field::new("step", DataType::Int32, false),
            Field::new("forecast", DataType::Float64, false),
            Field::new("lower", DataType::Float64, false),
            Field::new("upper", DataType::Float64, false),
            Field::new("method", DataType::Utf8, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(series)),
            ts,
            Arc::new(Int32Array::from(steps)),
            Arc::new(Float64Array::from(means)),
            Arc::new(Float64Array::from(lowers)),
            Arc::new(Float64Array::from(uppers)),
            Arc::new(StringArray::from(methods)),
        ];
        memory_table(schema, columns)
    }
}

/// `forecast_ar(ts, value, horizon [, confidence_level])` aggregate: a
/// quick look that needs no stored model. Each group's rows are made a
/// regular series (frequency inferred, duplicate times summed, gaps zero),
/// fitted as AR(p) with intercept, p chosen by AIC up to 28 (at most half
/// the series), and forecast `horizon` steps. Returns a list of structs
/// (ts, step, forecast, lower, upper, method) to `unnest`; NULL for a group
/// without rows. Rows with a NULL time or value are skipped.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ForecastArAggregateImpl {
    signature: Signature,
}

impl ForecastArAggregateImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for ForecastArAggregateImpl {
    fn default() -> Self {
        Self::new()
    }
}

/// The struct fields of one forecast step, with `ts` of the input's time
/// type.
fn step_fields(ts: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("ts", ts.clone(), false),
        Field::new("step", DataType::Int32, false),
        Field::new("forecast", DataType::Float64, false),
        Field::new("lower", DataType::Float64, false),
        Field::new("upper", DataType::Float64, false),
        Field::new("method", DataType::Utf8, false),
    ])
}

impl AggregateUDFImpl for ForecastArAggregateImpl {
    fn name(&self) -> &str {
        "forecast_ar"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "forecast_ar(ts, value, horizon [, confidence_level])";
        if !(3..=4).contains(&arg_types.len()) {
            return plan_err!("{usage} takes 3 or 4 arguments, not {}", arg_types.len());
        }
        let ts = match &arg_types[0] {
            DataType::Date32 | DataType::Date64 => DataType::Date32,
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Null => DataType::Date32,
            other => return plan_err!("{usage}: ts must be a date or timestamp, not {other}"),
        };
        if !(arg_types[1].is_numeric() || arg_types[1] == DataType::Null) {
            return plan_err!("{usage}: value must be a number, not {}", arg_types[1]);
        }
        if !(arg_types[2].is_integer() || arg_types[2] == DataType::Null) {
            return plan_err!(
                "{usage}: horizon must be a whole number, not {}",
                arg_types[2]
            );
        }
        let mut types = vec![ts, DataType::Float64, DataType::Int64];
        if arg_types.len() == 4 {
            types.push(DataType::Float64);
        }
        Ok(types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(step_fields(&arg_types[0])),
            true,
        ))))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let ts = args
            .exprs
            .first()
            .map(|e| e.data_type(args.schema))
            .transpose()?
            .unwrap_or(DataType::Date32);
        Ok(Box::new(ForecastArAccumulator {
            ts,
            times: Vec::new(),
            values: Vec::new(),
            horizon: None,
            level: None,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |name: &str, t: DataType| {
            Arc::new(Field::new_list(
                format!("{}_{name}", args.name),
                Field::new_list_field(t, true),
                true,
            ))
        };
        Ok(vec![
            list("times", DataType::Int64),
            list("values", DataType::Float64),
            Arc::new(Field::new(
                format!("{}_horizon", args.name),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}_level", args.name),
                DataType::Float64,
                true,
            )),
        ])
    }
}

/// Keeps the group's (time in seconds, value) pairs.
#[derive(Debug)]
struct ForecastArAccumulator {
    ts: DataType,
    times: Vec<i64>,
    values: Vec<f64>,
    horizon: Option<i64>,
    level: Option<f64>,
}

impl ForecastArAccumulator {
    /// The horizon and level must be the same on every row.
    fn settle(&mut self, horizon: Option<i64>, level: Option<f64>) -> Result<()> {
        if let Some(h) = horizon {
            if !(1..=MAX_HORIZON).contains(&h) {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("the horizon of forecast_ar must be from 1 to {MAX_HORIZON}, not {h}"),
                ));
            }
            if self.horizon.is_some_and(|old| old != h) {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    "the horizon of forecast_ar must be the same on every row",
                ));
            }
            self.horizon = Some(h);
        }
        if let Some(l) = level {
            if !(l > 0.0 && l < 1.0) {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("the confidence level of forecast_ar must be between 0 and 1, not {l}"),
                ));
            }
            if self.level.is_some_and(|old| old != l) {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    "the confidence level of forecast_ar must be the same on every row",
                ));
            }
            self.level = Some(l);
        }
        Ok(())
    }
}

/// Seconds since the epoch from a Date32 or microsecond timestamp array.
fn epoch_seconds(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    Ok(match array.data_type() {
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| d.map(|d| i64::from(d) * 86_400))
            .collect(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => array
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .map(|t| t.map(|t| t.div_euclid(1_000_000)))
            .collect(),
        other => return exec_err!("forecast_ar: unexpected time type {other}"),
    })
}

impl Accumulator for ForecastArAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let times = epoch_seconds(&values[0])?;
        let v = values[1].as_primitive::<Float64Type>();
        let horizons = values[2].as_primitive::<Int64Type>();
        let levels = values.get(3).map(|l| l.as_primitive::<Float64Type>());
        for (row, time) in times.iter().enumerate() {
            let level = levels.and_then(|l| l.is_valid(row).then(|| l.value(row)));
            let horizon = horizons.is_valid(row).then(|| horizons.value(row));
            self.settle(horizon, level)?;
            if let (Some(t), true) = (*time, v.is_valid(row)) {
                let value = v.value(row);
                if !value.is_finite() {
                    return Err(sql_err(
                        SqlState::INVALID_PARAMETER_VALUE,
                        format!("forecast_ar: the value {value} is not a finite number"),
                    ));
                }
                self.times.push(t);
                self.values.push(value);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let fields = step_fields(&self.ts);
        let list_type = DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(fields.clone()),
            true,
        )));
        if self.times.is_empty() {
            return ScalarValue::try_from(&list_type);
        }
        let Some(horizon) = self.horizon else {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "the horizon of forecast_ar must not be NULL",
            ));
        };
        let points: Vec<(i64, f64)> = self
            .times
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .collect();
        let rows =
            quick_forecast(points, horizon as usize, self.level.unwrap_or(0.95)).map_err(|e| {
                sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("forecast_ar: {e}"),
                )
            })?;
        let (rows, method) = rows;
        let ts: ArrayRef = if matches!(self.ts, DataType::Date32) {
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|r| r.time.div_euclid(86_400) as i32)
                    .collect::<Vec<_>>(),
            ))
        } else {
            let micros = TimestampMicrosecondArray::from(
                rows.iter()
                    .map(|r| r.time.saturating_mul(1_000_000))
                    .collect::<Vec<_>>(),
            );
            match &self.ts {
                DataType::Timestamp(_, Some(tz)) => Arc::new(micros.with_timezone(tz.clone())),
                _ => Arc::new(micros),
            }
        };
        let n = rows.len();
        let columns: Vec<ArrayRef> = vec![
            ts,
            Arc::new(Int32Array::from((1..=n as i32).collect::<Vec<_>>())),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.mean).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.lower).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.upper).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(vec![method; n])),
        ];
        let structs = StructArray::try_new(fields, columns, None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(structs)).build_list_scalar())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.times.capacity() * 8 + self.values.capacity() * 8
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let times = Int64Array::from(std::mem::take(&mut self.times));
        let values = Float64Array::from(std::mem::take(&mut self.values));
        Ok(vec![
            SingleRowListArrayBuilder::new(Arc::new(times)).build_list_scalar(),
            SingleRowListArrayBuilder::new(Arc::new(values)).build_list_scalar(),
            ScalarValue::Int64(self.horizon),
            ScalarValue::Float64(self.level),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (times, values) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        let horizons = states[2].as_primitive::<Int64Type>();
        let levels = states[3].as_primitive::<Float64Type>();
        for row in 0..times.len() {
            self.settle(
                horizons.is_valid(row).then(|| horizons.value(row)),
                levels.is_valid(row).then(|| levels.value(row)),
            )?;
            if times.is_valid(row) && values.is_valid(row) {
                let t = times.value(row);
                let v = values.value(row);
                self.times
                    .extend(t.as_primitive::<Int64Type>().iter().flatten());
                self.values
                    .extend(v.as_primitive::<Float64Type>().iter().flatten());
            }
        }
        Ok(())
    }
}

/// Fit one series the quick way and forecast it; also the method used.
fn quick_forecast(
    points: Vec<(i64, f64)>,
    horizon: usize,
    level: f64,
) -> std::result::Result<(Vec<ForecastRow>, &'static str), String> {
    let opts = ArOptions {
        p: None,
        max_p: 28,
        criterion: Criterion::Aic,
        difference: 0,
        seasonal_difference: 0,
        seasonal_period: 0,
        seasonal_auto: false,
        frequency: None,
        fill: Fill::Zero,
        sum_duplicates: true,
        calendar: Calendar::NONE,
    };
    let regular = regularize(points, None, Fill::Zero, true)?;
    let model = fit_series(None, &regular, &opts)?;
    let differencing = Differencing {
        difference: 0,
        seasonal_difference: 0,
        seasonal_period: 0,
        calendar: Calendar::NONE,
    };
    Ok((
        model.forecast(&differencing, horizon, level)?,
        model.method.name(),
    ))
}
