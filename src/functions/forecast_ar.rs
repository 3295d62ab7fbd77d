//! `forecast_ar('model', horizon [, confidence_level])`: the next `horizon`
//! steps of every series of an `ar` model, as rows (series, ts, step,
//! forecast, lower, upper, method). Intervals come from the fitted
//! process's ψ-weights and residual variance (widened by any differencing);
//! the level defaults to 0.95.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;

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
