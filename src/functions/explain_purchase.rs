//! `explain_purchase('model', feature1, ...)` → list of
//! struct(feature text, contribution float8): each feature's contribution
//! to the logit of that row (weight × value on the feature's own scale, or
//! the category's weight), plus `(intercept)`. The contributions add up to
//! the logit, so sigmoid(sum) = predict_purchase(...). Use `unnest` to get
//! one row per feature.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, ListArray, StringArray, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::predict_purchase::{check_planned_call, model_and_inputs};
use super::{Models, Pinned, pin_call};
use crate::error::{SqlState, sql_err};

/// `explain_purchase`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExplainPurchaseImpl {
    signature: Signature,
    models: Models,
    /// Set on the copy the planner binds to one query (see `simplify`).
    pinned: Option<Pinned>,
}

impl ExplainPurchaseImpl {
    pub fn new(models: Models) -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
            models,
            pinned: None,
        }
    }
}

fn entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("contribution", DataType::Float64, false),
    ])
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(entry_fields()),
        false,
    )))
}

impl ScalarUDFImpl for ExplainPurchaseImpl {
    fn name(&self) -> &str {
        "explain_purchase"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(list_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_planned_call(self.name(), &self.models, &args)?;
        Ok(Arc::new(Field::new(self.name(), list_type(), true)))
    }

    /// Bind the model to this query, as `predict_purchase` does.
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        pin_call(
            self.name(),
            &self.models,
            self.pinned.as_ref(),
            args,
            |model| {
                ScalarUDF::from(Self {
                    signature: self.signature.clone(),
                    models: self.models.clone(),
                    pinned: Some(model),
                })
            },
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (model, inputs) =
            model_and_inputs(self.name(), &self.models, self.pinned.as_ref(), &args)?;
        let Some(lr) = model.logistic() else {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "not a logistic_regression model",
            ));
        };
        let rows = args.number_rows;
        let (_, nulls) = lr.logits(&inputs, rows)?;
        let contributions = lr.contributions(&inputs, rows)?;
        let per_row = lr.features.len() + 1;
        let mut names = Vec::with_capacity(rows * per_row);
        let mut values = Vec::with_capacity(rows * per_row);
        for row in &contributions {
            names.push("(intercept)");
            values.push(lr.intercept());
            for (feature, c) in lr.features.iter().zip(row) {
                names.push(feature.name.as_str());
                values.push(*c);
            }
        }
        let entries = StructArray::try_new(
            entry_fields(),
            vec![
                Arc::new(StringArray::from(names)) as ArrayRef,
                Arc::new(Float64Array::from(values)),
            ],
            None,
        )?;
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(per_row, rows));
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(
                DataType::Struct(entry_fields()),
                false,
            )),
            offsets,
            Arc::new(entries),
            nulls,
        )?;
        debug_assert_eq!(list.len(), rows);
        Ok(ColumnarValue::Array(Arc::new(list)))
    }
}
