//! `model_type = 'logistic_regression'`: L2-regularised logistic regression
//! fitted by Newton's method (IRLS) with a backtracking line search, which
//! converges to the regularised maximum-likelihood solution in a handful of
//! iterations for the tens to hundreds of terms purchase models have.
//!
//! Objective (the same as scikit-learn's with C = 1/l2):
//!   Σᵢ sᵢ·[log(1 + e^ηᵢ) − yᵢηᵢ] + (l2/2)·Σⱼ βⱼ²,   η = Xβ,
//! over standardised numeric features (when `standardize`), one-hot text
//! features, and an unpenalised intercept; sᵢ are class weights.

use std::collections::HashMap;
use std::io::Cursor as IoCursor;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::error::Result;
use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use super::metrics::binary_metrics;
use super::options::ModelOptions;
use super::training_data::{Column, FeatureKind, LabeledData, as_utf8, validation_rows};
use super::{FeatureMeta, ModelFile, ModelMeta};
use crate::engine::Notices;
use crate::error::{SqlError, SqlState, sql_err};
use crate::linalg::{cholesky, cholesky_solve, inverse_diagonal};

pub const MODEL_TYPE: &str = "logistic_regression";
pub const WEIGHTS_FILE: &str = "weights.arrow";

pub const OPTIONS: &[&str] = &[
    "label",
    "l2",
    "max_iter",
    "tolerance",
    "class_weight",
    "standardize",
    "validation_fraction",
    "seed",
    "threshold",
    "max_categories",
    "positive_class",
    // A model from given weights (no training query).
    "coefficients",
    "intercept",
    "features",
];

/// Rows per chunk when accumulating the gradient and Hessian, so the
/// temporaries stay small whatever the training set size.
const CHUNK_ROWS: usize = 16 * 1024;

/// Training options.
#[derive(Debug, Clone)]
pub struct LogisticOptions {
    pub label: String,
    pub l2: f64,
    pub max_iter: u64,
    pub tolerance: f64,
    pub balanced: bool,
    pub standardize: bool,
    pub validation_fraction: f64,
    pub seed: u64,
    pub threshold: f64,
    pub max_categories: usize,
    pub positive_class: Option<String>,
}

impl LogisticOptions {
    pub fn parse(options: &ModelOptions<'_>) -> Result<Self, SqlError> {
        Ok(Self {
            label: options.required_text("label")?,
            l2: options.number("l2", 1.0, 0.0, 1e12)?,
            max_iter: options.whole("max_iter", 100, 1, 10_000)?,
            tolerance: options.number("tolerance", 1e-10, 1e-16, 1e-2)?,
            balanced: options.choice("class_weight", "none", &["none", "balanced"])? == "balanced",
            standardize: options.boolean("standardize", true)?,
            validation_fraction: options.number("validation_fraction", 0.2, 0.0, 0.9)?,
            seed: options.whole("seed", 42, 0, u64::MAX)?,
            threshold: options.number("threshold", 0.5, 0.0, 1.0)?,
            max_categories: options.whole("max_categories", 50, 1, 10_000)? as usize,
            positive_class: options.text("positive_class"),
        })
    }
}

/// What a term of the linear predictor stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    Intercept,
    /// A numeric or boolean feature.
    Value,
    /// One category of a text feature.
    Level(String),
    /// Every category of a text feature not given its own term.
    Other,
}

/// One term: its weight on the original scale and on the standardised
/// scale it was fitted on.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Index into the model's features (None for the intercept).
    pub feature: Option<usize>,
    pub kind: TermKind,
    /// Weight on the feature's own scale (what scoring uses).
    pub weight: f64,
    /// Weight on the standardised scale (comparable across features).
    pub std_weight: f64,
    pub mean: f64,
    pub scale: f64,
    /// Standard error of `weight` (from the inverse Hessian); None for models
    /// built from given coefficients.
    pub std_error: Option<f64>,
}

/// How one input of `predict_purchase` turns into a contribution to the logit.
#[derive(Debug, Clone)]
enum Scorer {
    Value(f64),
    Categories {
        levels: HashMap<String, f64>,
        other: f64,
    },
}

/// A fitted (or given) logistic regression.
#[derive(Debug, Clone)]
pub struct LogisticModel {
    pub features: Vec<FeatureMeta>,
    pub terms: Vec<Term>,
    pub positive_class: String,
    pub negative_class: String,
    pub threshold: f64,
    intercept: f64,
    scorers: Vec<Scorer>,
}

impl LogisticModel {
    fn new(
        features: Vec<FeatureMeta>,
        terms: Vec<Term>,
        positive_class: String,
        negative_class: String,
        threshold: f64,
    ) -> Result<Self, SqlError> {
        let mut intercept = 0.0;
        let mut scorers: Vec<Scorer> = features
            .iter()
            .map(|f| match FeatureKind::parse(&f.kind) {
                Some(FeatureKind::Categorical) => Ok(Scorer::Categories {
                    levels: HashMap::new(),
                    other: 0.0,
                }),
                Some(_) => Ok(Scorer::Value(0.0)),
                None => Err(SqlError::new(
                    SqlState::DATA_EXCEPTION,
                    format!("feature \"{}\" has an unknown kind '{}'", f.name, f.kind),
                )),
            })
            .collect::<Result<_, _>>()?;
        for term in &terms {
            match (&term.kind, term.feature.and_then(|f| scorers.get_mut(f))) {
                (TermKind::Intercept, _) => intercept += term.weight,
                (TermKind::Value, Some(Scorer::Value(w))) => *w += term.weight,
                (TermKind::Level(level), Some(Scorer::Categories { levels, .. })) => {
                    levels.insert(level.clone(), term.weight);
                }
                (TermKind::Other, Some(Scorer::Categories { other, .. })) => *other = term.weight,
                _ => {
                    return Err(SqlError::new(
                        SqlState::DATA_EXCEPTION,
                        "a stored term does not match its feature".to_string(),
                    ));
                }
            }
        }
        Ok(Self {
            features,
            terms,
            positive_class,
            negative_class,
            threshold,
            intercept,
            scorers,
        })
    }

    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The logit of every row, and which rows are NULL (a NULL input makes
    /// the output NULL). Vectorised per input column.
    pub fn logits(
        &self,
        inputs: &[ArrayRef],
        rows: usize,
    ) -> Result<(Vec<f64>, Option<NullBuffer>)> {
        let mut logits = vec![self.intercept; rows];
        let mut nulls: Option<NullBuffer> = None;
        for (scorer, input) in self.scorers.iter().zip(inputs) {
            nulls = NullBuffer::union(nulls.as_ref(), input.logical_nulls().as_ref());
            match scorer {
                Scorer::Value(w) => {
                    let numbers = cast(input, &DataType::Float64)?;
                    let numbers = numbers.as_primitive::<Float64Type>();
                    for (z, x) in logits.iter_mut().zip(numbers.values()) {
                        *z += w * x;
                    }
                }
                Scorer::Categories { levels, other } => {
                    for_each_category_weight(input, levels, *other, |row, w| logits[row] += w)?;
                }
            }
        }
        Ok((logits, nulls))
    }

    /// Per-input contributions to the logit of each row: `[row][input]`.
    pub fn contributions(&self, inputs: &[ArrayRef], rows: usize) -> Result<Vec<Vec<f64>>> {
        let mut out = vec![vec![0.0; self.scorers.len()]; rows];
        for (j, (scorer, input)) in self.scorers.iter().zip(inputs).enumerate() {
            match scorer {
                Scorer::Value(w) => {
                    let numbers = cast(input, &DataType::Float64)?;
                    let numbers = numbers.as_primitive::<Float64Type>();
                    for (row, x) in out.iter_mut().zip(numbers.values()) {
                        row[j] = w * x;
                    }
                }
                Scorer::Categories { levels, other } => {
                    for_each_category_weight(input, levels, *other, |row, w| out[row][j] = w)?;
                }
            }
        }
        Ok(out)
    }

    /// Store the terms as an Arrow IPC file.
    pub fn weights_file(&self) -> Result<ModelFile> {
        let batch = terms_batch(&self.terms, &self.features)?;
        ModelFile::arrow(WEIGHTS_FILE, &batch)
    }

    /// Load from the metadata and the weights file.
    pub fn load(meta: &ModelMeta, weights: &[u8]) -> Result<Self, SqlError> {
        let features = meta.features.clone();
        let corrupt =
            |e: String| SqlError::new(SqlState::DATA_EXCEPTION, format!("{WEIGHTS_FILE}: {e}"));
        let reader = FileReader::try_new(IoCursor::new(weights), None)
            .map_err(|e| corrupt(e.to_string()))?;
        let mut terms = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(e.to_string()))?;
            terms.extend(terms_from_batch(&batch, &features).map_err(corrupt)?);
        }
        let threshold = meta
            .options
            .get("threshold")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.5);
        let class = |i: usize, default: &str| {
            meta.classes
                .get(i)
                .cloned()
                .unwrap_or_else(|| default.into())
        };
        Self::new(
            features,
            terms,
            class(0, "true"),
            class(1, "false"),
            threshold,
        )
    }
}

/// Call `apply(row, weight)` for each row of a text input.
fn for_each_category_weight(
    input: &ArrayRef,
    levels: &HashMap<String, f64>,
    other: f64,
    mut apply: impl FnMut(usize, f64),
) -> Result<()> {
    if let DataType::Dictionary(..) = input.data_type() {
        // Look each distinct value up once, then follow the keys.
        let dict = input.as_any_dictionary();
        let values = as_utf8(dict.values())?;
        let values = values.as_string::<i32>();
        let weights: Vec<f64> = (0..values.len())
            .map(|i| levels.get(values.value(i)).copied().unwrap_or(other))
            .collect();
        for (row, key) in dict.normalized_keys().into_iter().enumerate() {
            apply(row, weights.get(key).copied().unwrap_or(other));
        }
        return Ok(());
    }
    let text = as_utf8(input)?;
    let text = text.as_string::<i32>();
    for row in 0..text.len() {
        apply(row, levels.get(text.value(row)).copied().unwrap_or(other));
    }
    Ok(())
}

fn terms_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Utf8, true),
        Field::new("kind", DataType::Utf8, false),
        Field::new("level", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, false),
        Field::new("std_weight", DataType::Float64, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("scale", DataType::Float64, false),
        Field::new("std_error", DataType::Float64, true),
    ]))
}

fn terms_batch(terms: &[Term], features: &[FeatureMeta]) -> Result<RecordBatch> {
    let feature: StringArray = terms
        .iter()
        .map(|t| {
            t.feature
                .and_then(|f| features.get(f))
                .map(|f| f.name.as_str())
        })
        .collect();
    let kind: StringArray = terms
        .iter()
        .map(|t| {
            Some(match t.kind {
                TermKind::Intercept => "intercept",
                TermKind::Value => "value",
                TermKind::Level(_) => "level",
                TermKind::Other => "other",
            })
        })
        .collect();
    let level: StringArray = terms
        .iter()
        .map(|t| match &t.kind {
            TermKind::Level(l) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    let column = |f: fn(&Term) -> f64| -> ArrayRef {
        Arc::new(terms.iter().map(f).collect::<Float64Array>())
    };
    let std_error: Float64Array = terms.iter().map(|t| t.std_error).collect();
    Ok(RecordBatch::try_new(
        terms_schema(),
        vec![
            Arc::new(feature),
            Arc::new(kind),
            Arc::new(level),
            column(|t| t.weight),
            column(|t| t.std_weight),
            column(|t| t.mean),
            column(|t| t.scale),
            Arc::new(std_error),
        ],
    )?)
}

fn terms_from_batch(batch: &RecordBatch, features: &[FeatureMeta]) -> Result<Vec<Term>, String> {
    let text = |name: &str| -> Result<StringArray, String> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            .ok_or_else(|| format!("missing text column {name}"))
    };
    let number = |name: &str| -> Result<Float64Array, String> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>().cloned())
            .ok_or_else(|| format!("missing number column {name}"))
    };
    let (feature, kind, level) = (text("feature")?, text("kind")?, text("level")?);
    let (weight, std_weight, mean, scale, std_error) = (
        number("weight")?,
        number("std_weight")?,
        number("mean")?,
        number("scale")?,
        number("std_error")?,
    );
    (0..batch.num_rows())
        .map(|i| {
            let feature_index = if feature.is_null(i) {
                None
            } else {
                let name = feature.value(i);
                Some(
                    features
                        .iter()
                        .position(|f| f.name == name)
                        .ok_or_else(|| format!("term of unknown feature {name}"))?,
                )
            };
            let kind = match kind.value(i) {
                "intercept" => TermKind::Intercept,
                "value" => TermKind::Value,
                "level" => TermKind::Level(level.value(i).to_string()),
                "other" => TermKind::Other,
                other => return Err(format!("unknown term kind {other}")),
            };
            Ok(Term {
                feature: feature_index,
                kind,
                weight: weight.value(i),
                std_weight: std_weight.value(i),
                mean: mean.value(i),
                scale: scale.value(i),
                std_error: (!std_error.is_null(i)).then(|| std_error.value(i)),
            })
        })
        .collect()
}

/// A model from given coefficients (`coefficients = '0.5,0.3'`,
/// `intercept = 0`, optional `features = 'a,b'`): all features numeric.
pub fn from_coefficients(options: &ModelOptions<'_>) -> Result<(LogisticModel, usize), SqlError> {
    let text = options.required_text("coefficients")?;
    let weights = text
        .split(',')
        .map(|w| w.trim().parse::<f64>().ok().filter(|w| w.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| {
            SqlError::new(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("coefficients = '{text}' must be a comma-separated list of numbers"),
            )
        })?;
    let names: Vec<String> = match options.text("features") {
        Some(list) => list.split(',').map(|n| n.trim().to_string()).collect(),
        None => (1..=weights.len()).map(|i| format!("f{i}")).collect(),
    };
    if names.len() != weights.len() || names.iter().any(String::is_empty) {
        return Err(SqlError::new(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "features names {} feature(s) but coefficients gives {} weight(s)",
                names.len(),
                weights.len()
            ),
        ));
    }
    let intercept = options.number("intercept", 0.0, -1e12, 1e12)?;
    let features = names
        .into_iter()
        .map(|name| FeatureMeta {
            name,
            data_type: "Float64".into(),
            kind: FeatureKind::Numeric.name().into(),
        })
        .collect();
    let mut terms = vec![Term {
        feature: None,
        kind: TermKind::Intercept,
        weight: intercept,
        std_weight: intercept,
        mean: 0.0,
        scale: 1.0,
        std_error: None,
    }];
    terms.extend(weights.iter().enumerate().map(|(j, &w)| Term {
        feature: Some(j),
        kind: TermKind::Value,
        weight: w,
        std_weight: w,
        mean: 0.0,
        scale: 1.0,
        std_error: None,
    }));
    let threshold = options.number("threshold", 0.5, 0.0, 1.0)?;
    let model = LogisticModel::new(features, terms, "true".into(), "false".into(), threshold)?;
    Ok((model, weights.len()))
}

/// The result of training.
pub struct Trained {
    pub model: LogisticModel,
    pub metrics: Vec<(String, f64)>,
    pub training_rows: u64,
    pub validation_rows: u64,
}

/// How a feature's values become design-matrix columns.
#[derive(Debug, Clone)]
struct Encoding {
    /// (term kind, mean, scale) per design column of this feature.
    columns: Vec<(TermKind, f64, f64)>,
    /// For text features: design column offset of each category code (None:
    /// the "other" column, or no column when there are no rare categories).
    code_columns: Vec<Option<usize>>,
    other_column: Option<usize>,
}

/// Fit on labelled data.
pub fn train(data: &LabeledData, opts: &LogisticOptions, notices: &Notices) -> Result<Trained> {
    let mut phase = Phases::start();
    let n = data.rows();
    let validation = validation_rows(&data.row_hashes, opts.seed, opts.validation_fraction);
    let train_rows: Vec<usize> = (0..n).filter(|&i| !validation[i]).collect();
    let validation_rows: Vec<usize> = (0..n).filter(|&i| validation[i]).collect();
    if train_rows.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            if n == 0 {
                "the training query returned no usable rows (rows with NULLs are skipped)"
                    .to_string()
            } else {
                format!("all {n} rows went to validation; lower validation_fraction")
            },
        ));
    }
    let positives = train_rows.iter().filter(|&&i| data.labels[i]).count();
    if positives == 0 || positives == train_rows.len() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "every training row has the label '{}'; a classifier needs both classes",
                if positives == 0 {
                    &data.negative_class
                } else {
                    &data.positive_class
                }
            ),
        ));
    }

    phase.done("split");
    let encodings = fit_encodings(data, &train_rows, opts, notices);
    let width = 1 + encodings.iter().map(|e| e.columns.len()).sum::<usize>();
    // The design matrices (training and validation) live beside the
    // collected columns: account for them in the memory pool too.
    data.reserve(n * width * std::mem::size_of::<f64>())?;
    let x_train = design(data, &encodings, &train_rows, width);
    let y_train: Vec<f64> = train_rows
        .iter()
        .map(|&i| f64::from(u8::from(data.labels[i])))
        .collect();
    let sample_weights: Vec<f64> = if opts.balanced {
        let (w_pos, w_neg) = (
            train_rows.len() as f64 / (2.0 * positives as f64),
            train_rows.len() as f64 / (2.0 * (train_rows.len() - positives) as f64),
        );
        y_train
            .iter()
            .map(|&y| if y > 0.5 { w_pos } else { w_neg })
            .collect()
    } else {
        vec![1.0; train_rows.len()]
    };

    phase.done("design matrix");
    let fit = newton(x_train.view(), &y_train, &sample_weights, opts, notices)?;
    phase.done("newton");
    let terms = build_terms(&encodings, &fit, data);
    let features = data
        .features
        .iter()
        .map(|f| FeatureMeta {
            name: f.name.clone(),
            data_type: f.data_type.to_string(),
            kind: f.kind.name().into(),
        })
        .collect();
    let model = LogisticModel::new(
        features,
        terms,
        data.positive_class.clone(),
        data.negative_class.clone(),
        opts.threshold,
    )?;

    let mut metrics = vec![
        ("iterations".to_string(), fit.iterations as f64),
        ("objective".to_string(), fit.objective),
        ("skipped_rows".to_string(), data.skipped_rows as f64),
    ];
    let train_scores = probabilities(x_train.view(), &fit.beta);
    let train_labels: Vec<bool> = train_rows.iter().map(|&i| data.labels[i]).collect();
    for (name, value) in binary_metrics(&train_scores, &train_labels, opts.threshold) {
        metrics.push((format!("train_{name}"), value));
    }
    if !validation_rows.is_empty() {
        let x_val = design(data, &encodings, &validation_rows, width);
        let scores = probabilities(x_val.view(), &fit.beta);
        let labels: Vec<bool> = validation_rows.iter().map(|&i| data.labels[i]).collect();
        for (name, value) in binary_metrics(&scores, &labels, opts.threshold) {
            metrics.push((format!("validation_{name}"), value));
        }
    }
    phase.done("metrics");
    Ok(Trained {
        model,
        metrics,
        training_rows: train_rows.len() as u64,
        validation_rows: validation_rows.len() as u64,
    })
}

/// Debug-level timing of training phases (`RUST_LOG=ecomsql=debug`).
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    fn done(&mut self, phase: &str) {
        log::debug!(
            "training: {phase} took {:.1} ms",
            self.0.elapsed().as_secs_f64() * 1e3
        );
        self.0 = std::time::Instant::now();
    }
}

fn fit_encodings(
    data: &LabeledData,
    rows: &[usize],
    opts: &LogisticOptions,
    notices: &Notices,
) -> Vec<Encoding> {
    let mut next_column = 1; // column 0 is the intercept
    let mut encodings = Vec::with_capacity(data.features.len());
    for (feature, column) in data.features.iter().zip(&data.columns) {
        let encoding = match column {
            Column::Numbers(values) => {
                let n = rows.len() as f64;
                let mean = rows.iter().map(|&i| values[i]).sum::<f64>() / n;
                let var = rows
                    .iter()
                    .map(|&i| (values[i] - mean).powi(2))
                    .sum::<f64>()
                    / n;
                let sd = var.sqrt();
                if sd == 0.0 {
                    notices.send(format!(
                        "feature \"{}\" is constant in the training rows; its weight will be 0",
                        feature.name
                    ));
                }
                let (mean, scale) = if opts.standardize && sd > 0.0 {
                    (mean, sd)
                } else if sd == 0.0 {
                    // Centre a constant so its column is all zeros.
                    (mean, 1.0)
                } else {
                    (0.0, 1.0)
                };
                next_column += 1;
                Encoding {
                    columns: vec![(TermKind::Value, mean, scale)],
                    code_columns: Vec::new(),
                    other_column: None,
                }
            }
            Column::Categories { codes, values, .. } => {
                let mut counts = vec![0_u64; values.len()];
                for &i in rows {
                    counts[codes[i] as usize] += 1;
                }
                let mut order: Vec<usize> = (0..values.len()).filter(|&c| counts[c] > 0).collect();
                order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
                let kept = order.len().min(opts.max_categories);
                let mut code_columns = vec![None; values.len()];
                let mut columns = Vec::new();
                for (k, &code) in order[..kept].iter().enumerate() {
                    code_columns[code] = Some(next_column + k);
                    columns.push((TermKind::Level(values[code].clone()), 0.0, 1.0));
                }
                let other_column = (order.len() > kept).then(|| next_column + kept);
                if other_column.is_some() {
                    columns.push((TermKind::Other, 0.0, 1.0));
                    notices.send(format!(
                        "feature \"{}\" has {} categories; the {} most frequent get their own weight, the rest share one (max_categories)",
                        feature.name,
                        order.len(),
                        kept
                    ));
                }
                next_column += columns.len();
                Encoding {
                    columns,
                    code_columns,
                    other_column,
                }
            }
        };
        encodings.push(encoding);
    }
    encodings
}

/// The design matrix of `rows`: intercept column, then each feature's
/// (standardised) columns.
fn design(data: &LabeledData, encodings: &[Encoding], rows: &[usize], width: usize) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((rows.len(), width));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = rows.len().div_ceil(threads).max(CHUNK_ROWS);
    std::thread::scope(|scope| {
        for (part, part_rows) in x.axis_chunks_iter_mut(Axis(0), per).zip(rows.chunks(per)) {
            scope.spawn(move || fill_design(data, encodings, part_rows, part));
        }
    });
    x
}

/// Row by row, so writes are contiguous in the row-major matrix.
fn fill_design(
    data: &LabeledData,
    encodings: &[Encoding],
    rows: &[usize],
    mut x: ndarray::ArrayViewMut2<'_, f64>,
) {
    for (mut out, &i) in x.rows_mut().into_iter().zip(rows) {
        out[0] = 1.0;
        let mut offset = 1;
        for (column, encoding) in data.columns.iter().zip(encodings) {
            match column {
                Column::Numbers(values) => {
                    let (_, mean, scale) = &encoding.columns[0];
                    out[offset] = (values[i] - mean) / scale;
                }
                Column::Categories { codes, .. } => {
                    if let Some(c) =
                        encoding.code_columns[codes[i] as usize].or(encoding.other_column)
                    {
                        out[c] = 1.0;
                    }
                }
            }
            offset += encoding.columns.len();
        }
    }
}

struct Fit {
    beta: Array1<f64>,
    /// Cholesky factor of the Hessian at the solution.
    hessian: Array2<f64>,
    iterations: u64,
    objective: f64,
}

fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn probabilities(x: ArrayView2<'_, f64>, beta: &Array1<f64>) -> Vec<f64> {
    x.dot(beta).iter().map(|&z| sigmoid(z)).collect()
}

/// Split the rows into one range per core, run `work` on each in parallel
/// and combine the results with `add`.
fn parallel_rows<T: Send>(
    rows: usize,
    work: impl Fn(std::ops::Range<usize>) -> T + Sync,
    add: impl Fn(T, T) -> T,
) -> T {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rows / CHUNK_ROWS + 1);
    if threads <= 1 {
        return work(0..rows);
    }
    let per = rows.div_ceil(threads);
    let work = &work;
    let parts: Vec<T> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || work(t * per..((t + 1) * per).min(rows))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut parts = parts.into_iter();
    let first = parts.next().unwrap_or_else(|| work(0..0));
    parts.fold(first, add)
}

fn objective(x: ArrayView2<'_, f64>, y: &[f64], w: &[f64], beta: &Array1<f64>, l2: f64) -> f64 {
    let loss = parallel_rows(
        x.nrows(),
        |range| {
            let eta = x.slice(s![range.clone(), ..]).dot(beta);
            eta.iter()
                .zip(&y[range.clone()])
                .zip(&w[range])
                .map(|((&z, &y), &w)| w * (softplus(z) - y * z))
                .sum::<f64>()
        },
        |a, b| a + b,
    );
    loss + 0.5 * l2 * beta.slice(s![1..]).iter().map(|b| b * b).sum::<f64>()
}

/// Gradient and Hessian of the objective at `beta`, in row chunks on every
/// core.
fn gradient_hessian(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    w: &[f64],
    beta: &Array1<f64>,
    l2: f64,
) -> (Array1<f64>, Array2<f64>) {
    let p = x.ncols();
    let (mut gradient, mut hessian) = parallel_rows(
        x.nrows(),
        |range| {
            let mut gradient = Array1::<f64>::zeros(p);
            let mut hessian = Array2::<f64>::zeros((p, p));
            let part = x.slice(s![range.clone(), ..]);
            for (chunk_index, chunk) in part.axis_chunks_iter(Axis(0), CHUNK_ROWS).enumerate() {
                let start = range.start + chunk_index * CHUNK_ROWS;
                let eta = chunk.dot(beta);
                let mut residual = Array1::<f64>::zeros(chunk.nrows());
                let mut scaled = chunk.to_owned();
                for (r, mut row) in scaled.rows_mut().into_iter().enumerate() {
                    let mu = sigmoid(eta[r]);
                    let (yi, wi) = (y[start + r], w[start + r]);
                    residual[r] = wi * (mu - yi);
                    row *= (wi * mu * (1.0 - mu)).sqrt();
                }
                gradient += &chunk.t().dot(&residual);
                ndarray::linalg::general_mat_mul(1.0, &scaled.t(), &scaled, 1.0, &mut hessian);
            }
            (gradient, hessian)
        },
        |(g1, h1), (g2, h2)| (g1 + g2, h1 + h2),
    );
    for j in 1..p {
        gradient[j] += l2 * beta[j];
        hessian[[j, j]] += l2;
    }
    (gradient, hessian)
}

fn newton(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    w: &[f64],
    opts: &LogisticOptions,
    notices: &Notices,
) -> Result<Fit> {
    let p = x.ncols();
    let total_weight: f64 = w.iter().sum();
    let mut beta = Array1::<f64>::zeros(p);
    // Start the intercept at the log-odds of the base rate.
    let base_rate = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / total_weight;
    beta[0] = (base_rate / (1.0 - base_rate)).ln();
    let mut f = objective(x, y, w, &beta, opts.l2);
    let mut iterations = 0;
    loop {
        iterations += 1;
        let (gradient, mut hessian) = gradient_hessian(x, y, w, &beta, opts.l2);
        // Without L2, one-hot columns next to the intercept are collinear;
        // a tiny ridge keeps the system solvable (predictions are unaffected).
        if opts.l2 == 0.0 {
            for j in 0..p {
                hessian[[j, j]] += 1e-10 * (1.0 + hessian[[j, j]]);
            }
        }
        let Some(factor) = cholesky(&hessian) else {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "the training problem is singular (features are collinear or the classes are perfectly separable); use l2 > 0",
            ));
        };
        let step = cholesky_solve(&factor, &gradient);
        let slope = gradient.dot(&step);
        // Backtracking (Armijo) line search on the objective.
        let mut t = 1.0;
        let mut candidate = &beta - &step;
        let mut f_new = objective(x, y, w, &candidate, opts.l2);
        while f_new > f - 1e-4 * t * slope && t > 1e-10 {
            t *= 0.5;
            candidate = &beta - &(&step * t);
            f_new = objective(x, y, w, &candidate, opts.l2);
        }
        let max_step = step.iter().fold(0.0_f64, |m, s| m.max((s * t).abs()));
        let improvement = f - f_new;
        beta = candidate;
        f = f_new.min(f);
        notices.send(format!(
            "iteration {iterations}: mean log loss {:.6}, largest weight change {max_step:.3e}",
            f / total_weight
        ));
        if notices.cancelled() {
            return Err(sql_err(
                SqlState::QUERY_CANCELED,
                "canceling statement due to user request",
            ));
        }
        if opts.l2 == 0.0 && separated(x, y, &beta) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "the classes are perfectly separable, so the unregularised weights grow without bound; use l2 > 0",
            ));
        }
        let converged = max_step < 1e-8 || improvement.abs() <= opts.tolerance * f.abs().max(1.0);
        if converged || iterations >= opts.max_iter {
            if !converged {
                notices.send(format!(
                    "stopped after max_iter = {} iterations before converging",
                    opts.max_iter
                ));
            }
            let (_, hessian) = gradient_hessian(x, y, w, &beta, opts.l2);
            let factor = cholesky(&hessian)
                .unwrap_or_else(|| Array2::from_diag(&Array1::from_elem(p, f64::INFINITY)));
            return Ok(Fit {
                beta,
                hessian: factor,
                iterations,
                objective: f,
            });
        }
    }
}

/// Without L2 the likelihood of perfectly separable classes has no maximum:
/// the weights grow while every fitted probability goes to its label.
fn separated(x: ArrayView2<'_, f64>, y: &[f64], beta: &Array1<f64>) -> bool {
    beta.iter().any(|b| b.abs() > 1e4)
        || probabilities(x, beta)
            .iter()
            .zip(y)
            .all(|(p, y)| (p - y).abs() < 1e-4)
}

/// Terms on the original scale, with standard errors from the inverse
/// Hessian (propagated through the standardisation).
fn build_terms(encodings: &[Encoding], fit: &Fit, data: &LabeledData) -> Vec<Term> {
    let p = fit.beta.len();
    let variances = inverse_diagonal(&fit.hessian);
    let mut terms = Vec::with_capacity(p);
    // intercept_raw = β₀ − Σ βⱼ·meanⱼ/scaleⱼ; its variance is cᵀH⁻¹c.
    let mut c = Array1::<f64>::zeros(p);
    c[0] = 1.0;
    let mut column = 1;
    let mut intercept = fit.beta[0];
    for (f, encoding) in encodings.iter().enumerate() {
        for (kind, mean, scale) in &encoding.columns {
            let std_weight = fit.beta[column];
            intercept -= std_weight * mean / scale;
            c[column] = -mean / scale;
            terms.push(Term {
                feature: Some(f),
                kind: kind.clone(),
                weight: std_weight / scale,
                std_weight,
                mean: *mean,
                scale: *scale,
                std_error: Some(variances[column].max(0.0).sqrt() / scale),
            });
            column += 1;
        }
    }
    let intercept_variance = c.dot(&cholesky_solve(&fit.hessian, &c));
    terms.insert(
        0,
        Term {
            feature: None,
            kind: TermKind::Intercept,
            weight: intercept,
            std_weight: fit.beta[0],
            mean: 0.0,
            scale: 1.0,
            std_error: Some(intercept_variance.max(0.0).sqrt()),
        },
    );
    debug_assert_eq!(data.features.len(), encodings.len());
    terms
}
