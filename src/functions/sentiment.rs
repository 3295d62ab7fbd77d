//! `sentiment(text)` → Float64 in (−1, 1): the built-in bilingual review
//! sentiment (see [`crate::sentiment`]). NULL → NULL; text with no
//! sentiment (an empty string, a product code) → 0.
//!
//! `sentiment('model', text)` scores with a trained `text_classifier`: the
//! expected position of the predicted class distribution on the model's
//! class scale (2p − 1 for two classes; star ratings 1..5 at −1, −0.5, 0,
//! 0.5, 1; negative/neutral/positive at −1, 0, 1). Models whose classes
//! have no order give labels only (`sentiment_label`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::{Models, Pinned, model_name_of, pin_call};
use crate::error::{SqlState, sql_err};
use crate::models::LoadedModel;
use crate::sentiment::{Analyzer, Scratch};

/// `sentiment`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SentimentImpl {
    signature: Signature,
    models: Models,
    pinned: Option<Pinned>,
}

impl SentimentImpl {
    pub fn new(models: Models) -> Self {
        Self {
            signature: model_or_text_signature(),
            models,
            pinned: None,
        }
    }
}

/// One text argument of any string type.
pub(crate) fn text_signature() -> Signature {
    Signature::one_of(vec![TypeSignature::String(1)], Volatility::Immutable)
}

/// `(text)` for the built-in model or `('model', text)` for a trained one.
/// Two arguments are taken as they are: coercing them to one string type
/// would wrap the model name in a cast and hide the constant. Stable, not
/// immutable: a model can be replaced between queries.
pub(crate) fn model_or_text_signature() -> Signature {
    Signature::one_of(
        vec![TypeSignature::String(1), TypeSignature::Any(2)],
        Volatility::Stable,
    )
}

/// The trained model a two-argument call names, checked to be a
/// text_classifier (and, when `scored`, one whose classes have an order).
pub(crate) fn checked_text_model(function: &str, model: &LoadedModel, scored: bool) -> Result<()> {
    let name = &model.meta.name;
    let Some(tc) = model.text_classifier() else {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "model \"{name}\" is a {} model; {function}('model', text) needs a text_classifier model",
                model.meta.model_type
            ),
        ));
    };
    if scored && tc.positions.is_none() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "the classes of model \"{name}\" ({}) have no sentiment order, so it gives labels, not scores: use sentiment_label('{name}', text), or train on a boolean, numeric or negative/neutral/positive label",
                tc.classes.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Planning-time checks of a model call.
pub(crate) fn check_planned_text_model(
    function: &str,
    models: &Models,
    args: &ReturnFieldArgs,
    scored: bool,
) -> Result<()> {
    if args.arg_fields.len() == 2 {
        let text_type = args.arg_fields[1].data_type();
        if !matches!(
            text_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        ) {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!("{function}('model', text) takes text, not {text_type}"),
            ));
        }
        let name = model_name_of(function, args.scalar_arguments.first().copied().flatten())?;
        checked_text_model(function, &*models.get(&name)?, scored)?;
    }
    Ok(())
}

/// The model of a two-argument call: pinned at planning or the current one.
pub(crate) fn text_model(
    function: &str,
    models: &Models,
    pinned: Option<&Pinned>,
    args: &ScalarFunctionArgs,
    scored: bool,
) -> Result<Arc<LoadedModel>> {
    let name = match args.args.first() {
        Some(ColumnarValue::Scalar(value)) => model_name_of(function, Some(value))?,
        _ => model_name_of(function, None)?,
    };
    let model = match pinned {
        Some(p) if p.0.meta.name == name => Arc::clone(&p.0),
        _ => models.get(&name)?,
    };
    checked_text_model(function, &model, scored)?;
    Ok(model)
}

/// `simplify` of a function that may name a model: pin it for two arguments.
pub(crate) fn pin_text_model(
    function: &str,
    models: &Models,
    pinned: Option<&Pinned>,
    args: Vec<Expr>,
    bind: impl FnOnce(Pinned) -> ScalarUDF,
) -> Result<ExprSimplifyResult> {
    if args.len() == 2 {
        pin_call(function, models, pinned, args, bind)
    } else {
        Ok(ExprSimplifyResult::Original(args))
    }
}

/// Call `f` on every text of a string argument, in order (None for NULL).
pub(crate) fn for_each_text(
    function: &str,
    array: &ArrayRef,
    mut f: impl FnMut(Option<&str>),
) -> Result<()> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(&mut f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(&mut f),
        DataType::Utf8View => array.as_string_view().iter().for_each(&mut f),
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        other => {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!("{function} takes text, not {other}"),
            ));
        }
    }
    Ok(())
}

/// The text argument (the last one) as an array, and whether it was a
/// scalar (the result is then a scalar too).
pub(crate) fn text_argument(args: &ScalarFunctionArgs) -> Result<(ArrayRef, bool)> {
    match args.args.last() {
        Some(ColumnarValue::Array(a)) => Ok((Arc::clone(a), false)),
        Some(ColumnarValue::Scalar(s)) => Ok((s.to_array_of_size(1)?, true)),
        None => Err(sql_err(
            SqlState::UNDEFINED_FUNCTION,
            "this function takes a text argument",
        )),
    }
}

/// The result column, or its only value for a scalar argument.
pub(crate) fn columnar(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

impl ScalarUDFImpl for SentimentImpl {
    fn name(&self) -> &str {
        "sentiment"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_planned_text_model(self.name(), &self.models, &args, true)?;
        Ok(Arc::new(Field::new(self.name(), DataType::Float64, true)))
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        pin_text_model(
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
        let (texts, scalar) = text_argument(&args)?;
        let mut values = Vec::with_capacity(texts.len());
        if args.args.len() == 2 {
            let model = text_model(self.name(), &self.models, self.pinned.as_ref(), &args, true)?;
            let Some(tc) = model.text_classifier() else {
                return Err(sql_err(SqlState::INTERNAL_ERROR, "not a text_classifier"));
            };
            let mut predictor = tc.predictor();
            for_each_text(self.name(), &texts, |text| {
                let score = text.and_then(|t| tc.score(predictor.probabilities(t)));
                values.push(score.unwrap_or(0.0));
            })?;
        } else {
            let analyzer = Analyzer::get();
            let mut scratch = Scratch::default();
            for_each_text(self.name(), &texts, |text| {
                values.push(text.map_or(0.0, |t| analyzer.score(t, &mut scratch)));
            })?;
        }
        let result = Float64Array::new(values.into(), texts.logical_nulls());
        columnar(Arc::new(result), scalar)
    }
}
