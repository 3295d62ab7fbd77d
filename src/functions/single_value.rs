//! `single_value(x)` aggregate → the type of `x`: the one value of a group,
//! NULL for no rows, and 21000 ("more than one row returned by a subquery
//! used as an expression") for more than one row, NULLs counted as rows.
//!
//! Postgres runs a scalar subquery and fails only if it returns more than
//! one row; DataFusion refuses a correlated one at planning unless it is
//! aggregated. [`crate::optimizer::SingleRowSubqueries`] wraps such a
//! subquery's column in `single_value`, which gives Postgres's answer and
//! lets DataFusion decorrelate it into a join. Client catalog queries
//! (SQLAlchemy's column reflection, psql's `\d`) look up one row by oid this
//! way.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};

use crate::error::{SqlState, sql_err};

/// `single_value`: see the module docs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SingleValueImpl {
    signature: Signature,
}

impl SingleValueImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for SingleValueImpl {
    fn default() -> Self {
        Self::new()
    }
}

static SINGLE_VALUE: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(AggregateUDF::from(SingleValueImpl::new())));

/// `single_value(expr)`.
pub fn single_value_call(expr: Expr) -> Expr {
    SINGLE_VALUE.call(vec![expr])
}

impl AggregateUDFImpl for SingleValueImpl {
    fn name(&self) -> &str {
        "single_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleValueAccumulator {
            value: ScalarValue::try_from(args.return_field.data_type())?,
            rows: 0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[value]", args.name),
                args.return_field.data_type().clone(),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[rows]", args.name),
                DataType::UInt64,
                false,
            )),
        ])
    }
}

#[derive(Debug)]
struct SingleValueAccumulator {
    value: ScalarValue,
    rows: u64,
}

impl SingleValueAccumulator {
    /// Count `rows` more rows, the last of them at `array[index]`.
    fn add(&mut self, rows: u64, array: &ArrayRef, index: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        self.rows += rows;
        if self.rows > 1 {
            return Err(sql_err(
                SqlState::CARDINALITY_VIOLATION,
                "more than one row returned by a subquery used as an expression",
            ));
        }
        self.value = ScalarValue::try_from_array(array, index)?;
        Ok(())
    }
}

impl Accumulator for SingleValueAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        let rows = values.len();
        self.add(rows as u64, values, rows.saturating_sub(1))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [values, rows] = states else {
            return Ok(());
        };
        let rows = rows.as_primitive::<UInt64Type>();
        for (i, n) in rows.values().iter().enumerate() {
            self.add(*n, values, i)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::UInt64(Some(self.rows)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.value.size() - std::mem::size_of_val(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn one_row_is_its_value_none_is_null_more_is_21000() {
        let ctx = SessionContext::new();
        ctx.register_udaf(AggregateUDF::from(SingleValueImpl::new()));
        let one = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(sql).await?.collect().await?;
                Ok::<_, datafusion::error::DataFusionError>(
                    batches[0]
                        .column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .map(|a| if a.is_null(0) { None } else { Some(a.value(0)) }),
                )
            }
        };
        assert_eq!(
            one("SELECT single_value(x) FROM (VALUES (7)) t(x)")
                .await
                .unwrap(),
            Some(Some(7))
        );
        assert_eq!(
            one("SELECT single_value(x) FROM (VALUES (7)) t(x) WHERE x > 7")
                .await
                .unwrap(),
            Some(None)
        );
        let err = one("SELECT single_value(x) FROM (VALUES (1), (2)) t(x)")
            .await
            .unwrap_err();
        assert_eq!(
            crate::error::classify(&err).state,
            SqlState::CARDINALITY_VIOLATION,
            "{err}"
        );
        // A NULL is a row too.
        let err = one("SELECT single_value(x) FROM (VALUES (1), (NULL)) t(x)")
            .await
            .unwrap_err();
        assert_eq!(
            crate::error::classify(&err).state,
            SqlState::CARDINALITY_VIOLATION,
            "{err}"
        );
    }
}
