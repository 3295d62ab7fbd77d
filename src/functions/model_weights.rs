//! `model_weights('model')`: for an `ar` model, one row per series and term
//! (`series`, `method`, `term`, `value`: `p`, `intercept`, `phi1`…`phiP`,
//! `sigma2`, `aic`, `bic`, `points`, `filled`). For a logistic_regression model, one row per term:
//! `term`, `feature`, `level` (for text features), `weight` (on the
//! feature's own scale), `std_weight` (on the standardised scale, comparable
//! across features), `odds_ratio` = exp(weight), `std_error`, `z` and
//! `p_value` (two-sided, normal approximation; NULL for models built from
//! given coefficients).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::{Models, memory_table, table_function_model_name};
use crate::error::{SqlState, sql_err};
use crate::models::logistic_regression::TermKind;

/// `model_weights`
#[derive(Debug)]
pub struct ModelWeightsFunc {
    models: Models,
}

impl ModelWeightsFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for ModelWeightsFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = table_function_model_name("model_weights", args.exprs())?;
        let model = self.models.get(&name)?;
        if let Some(ar) = model.ar() {
            return ar_weights(ar);
        }
        if model.text_classifier().is_some() {
            return Err(sql_err(
                SqlState::FEATURE_NOT_SUPPORTED,
                format!(
                    "model \"{name}\" is a text_classifier: its features are hashed n-grams with no stored names, so there is no weight table; use EVALUATE MODEL {name} or sentiment_label('{name}', text)"
                ),
            ));
        }
        let Some(lr) = model.logistic() else {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "model \"{name}\" is a {} model; model_weights shows logistic_regression weights",
                    model.meta.model_type
                ),
            ));
        };
        let mut term = Vec::new();
        let mut feature = Vec::new();
        let mut level = Vec::new();
        let (mut weight, mut std_weight, mut odds, mut se, mut z, mut p) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for t in &lr.terms {
            let feature_name = t
                .feature
                .and_then(|f| lr.features.get(f))
                .map(|f| f.name.clone());
            let (label, lvl) = match (&t.kind, &feature_name) {
                (TermKind::Intercept, _) => ("(intercept)".to_string(), None),
                (TermKind::Level(l), Some(f)) => (format!("{f}={l}"), Some(l.clone())),
                (TermKind::Other, Some(f)) => (format!("{f}=(other)"), Some("(other)".to_string())),
                (_, Some(f)) => (f.clone(), None),
                (_, None) => ("?".to_string(), None),
            };
            term.push(label);
            feature.push(feature_name);
            level.push(lvl);
            weight.push(t.weight);
            std_weight.push(t.std_weight);
            odds.push(t.weight.exp());
            let zt = t.std_error.filter(|s| *s > 0.0).map(|s| t.weight / s);
            se.push(t.std_error);
            z.push(zt);
            p.push(zt.map(|z| libm::erfc(z.abs() / std::f64::consts::SQRT_2)));
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("term", DataType::Utf8, false),
            Field::new("feature", DataType::Utf8, true),
            Field::new("level", DataType::Utf8, true),
            Field::new("weight", DataType::Float64, false),
            Field::new("std_weight", DataType::Float64, false),
            Field::new("odds_ratio", DataType::Float64, false),
            Field::new("std_error", DataType::Float64, true),
            Field::new("z", DataType::Float64, true),
            Field::new("p_value", DataType::Float64, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(term)),
            Arc::new(StringArray::from(feature)),
            Arc::new(StringArray::from(level)),
            Arc::new(Float64Array::from(weight)),
            Arc::new(Float64Array::from(std_weight)),
            Arc::new(Float64Array::from(odds)),
            Arc::new(Float64Array::from(se)),
            Arc::new(Float64Array::from(z)),
            Arc::new(Float64Array::from(p)),
        ];
        memory_table(schema, columns)
    }
}

/// Per series: the order, coefficients, residual variance and criteria.
fn ar_weights(ar: &crate::models::ar::model::ArModel) -> Result<Arc<dyn TableProvider>> {
    let (mut series, mut method, mut term, mut value) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in &ar.series {
        let mut push = |t: String, v: f64| {
            series.push(s.key.clone());
            method.push(s.method.name());
            term.push(t);
            value.push(v);
        };
        push("p".into(), s.p as f64);
        push("season".into(), s.season as f64);
        push("intercept".into(), s.intercept);
        for (i, phi) in s.phi.iter().enumerate() {
            push(format!("phi{}", i + 1), *phi);
        }
        for (name, beta) in s.regressors.iter().zip(&s.beta) {
            push(format!("festival.{name}"), *beta);
        }
        push("sigma2".into(), s.sigma2);
        push("aic".into(), s.aic);
        push("bic".into(), s.bic);
        push("points".into(), s.points as f64);
        push("filled".into(), s.filled as f64);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, true),
        Field::new("method", DataType::Utf8, false),
        Field::new("term", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let value: Vec<Option<f64>> = value
        .into_iter()
        .map(|v| v.is_finite().then_some(v))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(series)),
        Arc::new(StringArray::from(method)),
        Arc::new(StringArray::from(term)),
        Arc::new(Float64Array::from(value)),
    ];
    memory_table(schema, columns)
}
