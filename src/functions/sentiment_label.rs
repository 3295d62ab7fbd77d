//! `sentiment_label(text)` → 'positive' | 'neutral' | 'negative': the
//! built-in sentiment score cut at ±[`crate::sentiment::LABEL_THRESHOLD`].
//! `sentiment_label('model', text)` → the most probable class of a trained
//! `text_classifier` (as text: 'true', '5', 'negative', ...). NULL → NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use super::sentiment::{
    check_planned_text_model, columnar, for_each_text, model_or_text_signature, pin_text_model,
    text_argument, text_model,
};
use super::{Models, Pinned};
use crate::error::{SqlState, sql_err};
use crate::sentiment::{Analyzer, Scratch, label};

/// `sentiment_label`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SentimentLabelImpl {
    signature: Signature,
    models: Models,
    pinned: Option<Pinned>,
}

impl SentimentLabelImpl {
    pub fn new(models: Models) -> Self {
        Self {
            signature: model_or_text_signature(),
            models,
            pinned: None,
        }
    }
}

impl ScalarUDFImpl for SentimentLabelImpl {
    fn name(&self) -> &str {
        "sentiment_label"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_planned_text_model(self.name(), &self.models, &args, false)?;
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
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
        let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 8);
        if args.args.len() == 2 {
            let model = text_model(
                self.name(),
                &self.models,
                self.pinned.as_ref(),
                &args,
                false,
            )?;
            let Some(tc) = model.text_classifier() else {
                return Err(sql_err(SqlState::INTERNAL_ERROR, "not a text_classifier"));
            };
            let mut predictor = tc.predictor();
            for_each_text(self.name(), &texts, |text| match text {
                Some(t) => {
                    let p = predictor.probabilities(t);
                    let best = (0..p.len()).fold(0, |b, c| if p[c] > p[b] { c } else { b });
                    out.append_value(&tc.classes[best]);
                }
                None => out.append_null(),
            })?;
        } else {
            let analyzer = Analyzer::get();
            let mut scratch = Scratch::default();
            for_each_text(self.name(), &texts, |text| match text {
                Some(t) => out.append_value(label(analyzer.score(t, &mut scratch))),
                None => out.append_null(),
            })?;
        }
        columnar(Arc::new(out.finish()), scalar)
    }
}
