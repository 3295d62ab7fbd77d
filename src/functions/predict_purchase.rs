//! `predict_purchase('model', feature1, feature2, ...)` → Float64: the
//! probability of the positive class from a logistic_regression model.
//!
//! Arguments are matched to the model's features by position. A NULL in any
//! feature gives NULL. The model name must be a constant; the model, the
//! argument count and the argument types are checked when the query is
//! planned. Scoring is vectorised per input column (one pass per feature,
//! no per-row lookups of the model).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{Models, Pinned, model_name_of, pin_call};
use crate::error::{SqlState, sql_err};
use crate::models::LoadedModel;
use crate::models::logistic_regression::LogisticModel;
use crate::models::training_data::FeatureKind;

/// `predict_purchase`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PredictPurchaseImpl {
    signature: Signature,
    models: Models,
    /// Set on the copy the planner binds to one query (see `simplify`).
    pinned: Option<Pinned>,
}

impl PredictPurchaseImpl {
    pub fn new(models: Models) -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
            models,
            pinned: None,
        }
    }
}

/// The logistic model behind `function`'s model argument, with the other
/// arguments' count and types checked against its features.
pub(crate) fn checked_logistic(
    function: &str,
    model: &LoadedModel,
    name: &str,
    arg_types: &[&DataType],
) -> Result<()> {
    let Some(lr) = model.logistic() else {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "model \"{name}\" is a {} model; {function} needs a logistic_regression model",
                model.meta.model_type
            ),
        ));
    };
    check_arguments(function, name, lr, arg_types)
}

fn check_arguments(
    function: &str,
    name: &str,
    lr: &LogisticModel,
    arg_types: &[&DataType],
) -> Result<()> {
    let expected: Vec<&str> = lr.features.iter().map(|f| f.name.as_str()).collect();
    if arg_types.len() != expected.len() {
        return Err(sql_err(
            SqlState::UNDEFINED_FUNCTION,
            format!(
                "{function}('{name}', ...) takes {} feature argument(s) ({}) but was given {}",
                expected.len(),
                expected.join(", "),
                arg_types.len()
            ),
        ));
    }
    for (feature, arg) in lr.features.iter().zip(arg_types) {
        let kind = FeatureKind::parse(&feature.kind);
        let fits = match (kind, arg) {
            (_, DataType::Null) => true,
            (Some(FeatureKind::Categorical), t) => {
                FeatureKind::of(t) == Some(FeatureKind::Categorical)
            }
            (Some(_), t) => t.is_numeric() || **t == DataType::Boolean,
            (None, _) => false,
        };
        if !fits {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!(
                    "argument for feature \"{}\" of model \"{name}\" has type {arg}, but the model was trained on {} ({})",
                    feature.name, feature.kind, feature.data_type
                ),
            ));
        }
    }
    Ok(())
}

/// Planning-time checks of a call: a constant model name naming a
/// logistic_regression model, with matching argument count and types.
pub(crate) fn check_planned_call(
    function: &str,
    models: &Models,
    args: &ReturnFieldArgs,
) -> Result<()> {
    let name = model_name_of(function, args.scalar_arguments.first().copied().flatten())?;
    let model = models.get(&name)?;
    let types: Vec<&DataType> = args
        .arg_fields
        .iter()
        .skip(1)
        .map(|f| f.data_type())
        .collect();
    checked_logistic(function, &model, &name, &types)
}

/// The model and the feature arrays of one invocation: the model pinned
/// at planning, or the registry's current version.
pub(crate) fn model_and_inputs(
    function: &str,
    models: &Models,
    pinned: Option<&Pinned>,
    args: &ScalarFunctionArgs,
) -> Result<(Arc<LoadedModel>, Vec<ArrayRef>)> {
    let name = match args.args.first() {
        Some(ColumnarValue::Scalar(value)) => model_name_of(function, Some(value))?,
        _ => model_name_of(function, None)?,
    };
    let model = match pinned {
        Some(p) if p.0.meta.name == name => Arc::clone(&p.0),
        _ => models.get(&name)?,
    };
    let types: Vec<&DataType> = args.arg_fields[1..].iter().map(|f| f.data_type()).collect();
    checked_logistic(function, &model, &name, &types)?;
    let inputs = args.args[1..]
        .iter()
        .map(|a| a.to_array(args.number_rows))
        .collect::<Result<Vec<_>>>()?;
    Ok((model, inputs))
}

impl ScalarUDFImpl for PredictPurchaseImpl {
    fn name(&self) -> &str {
        "predict_purchase"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_planned_call(self.name(), &self.models, &args)?;
        Ok(Arc::new(Field::new(self.name(), DataType::Float64, true)))
    }

    /// Bind the model to this query: the planned call carries the loaded
    /// model, so a query never mixes versions while the model is replaced.
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
        let (mut logits, nulls) = lr.logits(&inputs, args.number_rows)?;
        for z in &mut logits {
            *z = 1.0 / (1.0 + (-*z).exp());
        }
        Ok(ColumnarValue::Array(Arc::new(Float64Array::new(
            logits.into(),
            nulls,
        ))))
    }
}
