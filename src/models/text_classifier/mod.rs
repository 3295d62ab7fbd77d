//! `model_type = 'text_classifier'`: a shop's own review sentiment model,
//! served by `sentiment('model', text)` and `sentiment_label('model', text)`.
//!
//! Logistic regression (multinomial for three or more classes) over hashed
//! word and character n-grams of the sentiment tokenizer's tokens, with the
//! built-in lexicon score as one more feature, fitted by L-BFGS to the
//! L2-regularised maximum-likelihood solution. The penalty `l2` has the
//! meaning it has for `logistic_regression` (and scikit-learn's `1/C`):
//! (l2/2)·‖w‖² added to the summed log loss. Star ratings make the usual
//! (weak) labels: `rating >= 4 AS label ... WHERE rating <> 3`.

pub mod features;
pub mod model;
mod train;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Utc;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::execution::memory_pool::MemoryConsumer;
use futures::StreamExt;

use features::{FeatureScratch, Featurizer};
use model::{TextClassifier, class_positions, sort_classes};

use super::evaluate::quote_ident;
use super::metrics::multiclass_metrics;
use super::options::ModelOptions;
use super::parallel;
use super::store::{FeatureMeta, MODEL_FORMAT_VERSION, ModelFile, ModelMeta};
use super::training_data::{hash_str, mix, validation_rows};
use crate::engine::{Engine, Notices};
use crate::error::{SqlError, SqlState, sql_err};
use crate::statements::OptionList;

pub const MODEL_TYPE: &str = "text_classifier";

/// Options `CREATE MODEL` accepts for this model type.
pub const OPTIONS: &[&str] = &[
    "text_col",
    "label",
    "hash_bits",
    "word_ngrams",
    "char_ngrams",
    "lexicon_feature",
    "l2",
    "max_iter",
    "class_weight",
    "validation_fraction",
    "seed",
];

/// More distinct labels than this is a mistake (a text or id column).
const MAX_CLASSES: usize = 100;

fn featurizer_of(opts: &ModelOptions<'_>) -> Result<Featurizer, SqlError> {
    Ok(Featurizer {
        hash_bits: opts.whole("hash_bits", 18, 10, 24)? as u32,
        word_ngrams: opts.whole("word_ngrams", 2, 1, 3)? as usize,
        char_ngrams: opts.whole("char_ngrams", 3, 0, 5)? as usize,
        lexicon_feature: opts.boolean("lexicon_feature", true)?,
    })
}

/// The featurizer a stored model was trained with.
pub fn featurizer_from(options: &BTreeMap<String, String>) -> Result<Featurizer, SqlError> {
    let list = OptionList(
        options
            .iter()
            .filter(|(k, _)| {
                ["hash_bits", "word_ngrams", "char_ngrams", "lexicon_feature"].contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), crate::statements::OptionValue::Str(v.clone())))
            .collect(),
    );
    featurizer_of(&ModelOptions::new(&list, MODEL_TYPE, OPTIONS)?)
}

/// The featurizer's settings as stored options (defaults resolved, so a
/// later change of a default does not change an old model).
pub fn featurizer_options(f: &Featurizer) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("hash_bits".to_string(), f.hash_bits.to_string()),
        ("word_ngrams".to_string(), f.word_ngrams.to_string()),
        ("char_ngrams".to_string(), f.char_ngrams.to_string()),
        ("lexicon_feature".to_string(), f.lexicon_feature.to_string()),
    ])
}

/// Featurized training rows in CSR form.
#[derive(Debug, Default)]
pub(crate) struct Corpus {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    labels: Vec<u32>,
    /// The built-in score of each text, for the baseline metrics.
    builtin: Vec<f32>,
    hashes: Vec<u64>,
}

impl Corpus {
    fn rows(&self) -> usize {
        self.labels.len()
    }

    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}

/// Features of a batch's texts, from all cores.
#[derive(Default)]
struct Featurized {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    builtin: Vec<f32>,
    hashes: Vec<u64>,
    /// Batch rows kept (text and label not NULL).
    kept: Vec<usize>,
}

fn featurize(featurizer: Featurizer, texts: ArrayRef, labels: ArrayRef) -> Featurized {
    let text = texts.as_string::<i32>();
    let label = labels.as_string::<i32>();
    let parts = parallel::map_ranges(text.len(), 512, |range| {
        let mut scratch = FeatureScratch::default();
        let mut part = Featurized::default();
        for row in range {
            if text.is_null(row) || label.is_null(row) {
                continue;
            }
            let t = text.value(row);
            let score = featurizer.features(t, &mut scratch);
            part.indptr.push(scratch.features.len());
            for &(i, v) in &scratch.features {
                part.indices.push(i);
                part.values.push(v);
            }
            part.builtin.push(score as f32);
            part.hashes
                .push(mix(hash_str(t), hash_str(label.value(row))));
            part.kept.push(row);
        }
        part
    });
    let mut all = Featurized::default();
    for part in parts {
        all.indptr.extend(part.indptr);
        all.indices.extend(part.indices);
        all.values.extend(part.values);
        all.builtin.extend(part.builtin);
        all.hashes.extend(part.hashes);
        all.kept.extend(part.kept);
    }
    all
}

/// Labels of any type as text: booleans as `true`/`false`, numbers as
/// their usual text (`5`, `4.5`).
fn label_text(array: &ArrayRef, column: &str) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {}
        DataType::Dictionary(_, v) if v.is_string() => {}
        t if t.is_numeric() => {}
        other => {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!(
                    "label column \"{column}\" has type {other}; use a boolean, a number (e.g. the star rating) or text"
                ),
            ));
        }
    }
    Ok(cast(array, &DataType::Utf8)?)
}

fn text_array(array: &ArrayRef, column: &str) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Utf8 => Ok(Arc::clone(array)),
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(cast(array, &DataType::Utf8)?)
        }
        DataType::Dictionary(_, v) if v.is_string() => Ok(cast(array, &DataType::Utf8)?),
        other => Err(sql_err(
            SqlState::DATATYPE_MISMATCH,
            format!("text column \"{column}\" has type {other}; it must be text"),
        )),
    }
}

/// The text and label columns of a query's schema.
fn columns(
    schema: &datafusion::arrow::datatypes::Schema,
    text_col: Option<&str>,
    label: &str,
) -> Result<(usize, usize), SqlError> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let missing = |what: &str, column: &str| {
        SqlError::new(
            SqlState::UNDEFINED_COLUMN,
            format!(
                "{what} column \"{column}\" is not in the query (its columns: {})",
                names.join(", ")
            ),
        )
    };
    let label_index = schema
        .index_of(label)
        .map_err(|_| missing("label", label))?;
    let text_index = match text_col {
        Some(t) => schema.index_of(t).map_err(|_| missing("text", t))?,
        None => {
            let texts: Vec<usize> = (0..names.len())
                .filter(|&i| {
                    i != label_index
                        && matches!(
                            schema.field(i).data_type(),
                            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                        )
                })
                .collect();
            match texts.as_slice() {
                [one] => *one,
                _ => {
                    return Err(SqlError::new(
                        SqlState::INVALID_PARAMETER_VALUE,
                        "say which column holds the review text with OPTIONS (text_col = '...')",
                    ));
                }
            }
        }
    };
    Ok((text_index, label_index))
}

/// Train a text classifier on `query`'s rows.
pub async fn create(
    engine: &Engine,
    name: &str,
    options: &OptionList,
    query: Option<&str>,
    notices: &Notices,
) -> Result<(ModelMeta, Vec<ModelFile>, u64)> {
    let opts = ModelOptions::new(options, MODEL_TYPE, OPTIONS)?;
    let Some(query) = query else {
        return Err(sql_err(
            SqlState::SYNTAX_ERROR,
            "CREATE MODEL ... OPTIONS (model_type = 'text_classifier', ...) needs AS <training query>",
        ));
    };
    let featurizer = featurizer_of(&opts)?;
    let settings = train::Settings {
        l2: opts.number("l2", 1.0, 0.0, 1e12)?,
        max_iter: opts.whole("max_iter", 200, 1, 100_000)? as usize,
        balanced: opts.choice("class_weight", "none", &["none", "balanced"])? == "balanced",
    };
    let fraction = opts.number("validation_fraction", 0.2, 0.0, 0.9)?;
    let seed = opts.whole("seed", 42, 0, u64::MAX)?;
    let label = opts.text("label").unwrap_or_else(|| "label".to_string());
    let text_col = opts.text("text_col");

    let df = engine.session_context().sql(query).await?;
    let schema = df.schema().as_arrow().clone();
    let (text_index, label_index) = columns(&schema, text_col.as_deref(), &label)?;
    let text_name = schema.field(text_index).name().clone();
    let text_type = schema.field(text_index).data_type().clone();

    let reservation = MemoryConsumer::new(format!("CREATE MODEL {name}"))
        .register(&engine.session_context().runtime_env().memory_pool);
    let mut corpus = Corpus {
        indptr: vec![0],
        ..Corpus::default()
    };
    let mut classes: Vec<String> = Vec::new();
    let mut codes: HashMap<String, u32> = HashMap::new();
    let mut skipped = 0_u64;
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let texts = text_array(batch.column(text_index), &text_name)?;
        let labels = label_text(batch.column(label_index), &label)?;
        let rows = batch.num_rows();
        let task_labels = Arc::clone(&labels);
        let part = tokio::task::spawn_blocking(move || featurize(featurizer, texts, task_labels))
            .await
            .map_err(|e| sql_err(SqlState::INTERNAL_ERROR, format!("featurizing failed: {e}")))?;
        skipped += (rows - part.kept.len()) as u64;
        let labels = labels.as_string::<i32>();
        for &row in &part.kept {
            let value = labels.value(row);
            let code = match codes.get(value) {
                Some(c) => *c,
                None => {
                    if classes.len() == MAX_CLASSES {
                        return Err(sql_err(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!(
                                "label column \"{label}\" has more than {MAX_CLASSES} distinct values; a classifier's label is a class such as a star rating or positive/negative"
                            ),
                        ));
                    }
                    let c = classes.len() as u32;
                    classes.push(value.to_string());
                    codes.insert(value.to_string(), c);
                    c
                }
            };
            corpus.labels.push(code);
        }
        let base = *corpus.indptr.last().unwrap_or(&0);
        let mut end = base;
        for len in part.indptr {
            end += len;
            corpus.indptr.push(end);
        }
        corpus.indices.extend(part.indices);
        corpus.values.extend(part.values);
        corpus.builtin.extend(part.builtin);
        corpus.hashes.extend(part.hashes);
        // CSR entries (index + value) and per-row bookkeeping.
        reservation.try_grow((end - base) * 8 + part.kept.len() * 28)?;
    }
    if corpus.rows() == 0 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the training query returned no rows with both text and label",
        ));
    }
    if classes.len() < 2 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "label column \"{label}\" has only one value ('{}'); a classifier needs two or more",
                classes.first().map_or("", String::as_str)
            ),
        ));
    }
    // Codes in the model's class order.
    let mut sorted = classes.clone();
    sort_classes(&mut sorted);
    let recode: Vec<u32> = classes
        .iter()
        .map(|c| sorted.iter().position(|s| s == c).unwrap_or(0) as u32)
        .collect();
    corpus
        .labels
        .iter_mut()
        .for_each(|l| *l = recode[*l as usize]);
    let classes = sorted;

    let validation = validation_rows(&corpus.hashes, seed, fraction);
    let (train_rows, held_out): (Vec<usize>, Vec<usize>) =
        (0..corpus.rows()).partition(|&i| !validation[i]);
    if train_rows.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "no rows are left for training after the validation split; lower validation_fraction",
        ));
    }
    let free = TextClassifier::free_rows(classes.len());
    reservation.try_grow(free * featurizer.dim() * 8 * 5)?;
    notices.send(format!(
        "training on {} texts ({} held out for validation{}), {} classes, 2^{} hashed features",
        train_rows.len(),
        held_out.len(),
        if skipped > 0 {
            format!(", {skipped} rows with NULL text or label skipped")
        } else {
            String::new()
        },
        classes.len(),
        featurizer.hash_bits,
    ));

    let corpus = Arc::new(corpus);
    let train_rows = Arc::new(train_rows);
    let (task_corpus, task_rows) = (Arc::clone(&corpus), Arc::clone(&train_rows));
    let task_notices = notices.clone();
    let k = classes.len();
    let fit = tokio::task::spawn_blocking(move || {
        train::fit_used(
            &task_corpus,
            &task_rows,
            k,
            featurizer.dim(),
            settings,
            &task_notices,
        )
    })
    .await
    .map_err(|e| {
        sql_err(
            SqlState::INTERNAL_ERROR,
            format!("training task failed: {e}"),
        )
    })?;
    notices.send(format!(
        "L-BFGS {} after {} iterations, objective {:.6}",
        if fit.converged {
            "converged"
        } else {
            "stopped"
        },
        fit.iterations,
        fit.objective
    ));

    let model = TextClassifier {
        featurizer,
        positions: class_positions(&classes),
        classes: classes.clone(),
        weights: fit.weights,
        biases: fit.biases,
    };
    let mut metrics = BTreeMap::new();
    for (prefix, rows) in [("train_", train_rows.as_ref()), ("validation_", &held_out)] {
        if rows.is_empty() {
            continue;
        }
        for (metric, value) in corpus_metrics(&model, &corpus, rows) {
            metrics.insert(format!("{prefix}{metric}"), value);
        }
    }
    metrics.insert("iterations".into(), fit.iterations as f64);

    let mut stored_options = opts.as_map();
    stored_options.extend(featurizer_options(&featurizer));
    stored_options.insert("text_col".into(), text_name.clone());
    let meta = ModelMeta {
        format_version: MODEL_FORMAT_VERSION,
        name: name.to_string(),
        model_type: MODEL_TYPE.to_string(),
        version: 0,
        created_at: Utc::now(),
        training_rows: train_rows.len() as u64,
        features: vec![FeatureMeta {
            name: text_name,
            data_type: text_type.to_string(),
            kind: "text".into(),
        }],
        options: stored_options,
        metrics,
        headline_metric: Some(
            if held_out.is_empty() {
                "train_accuracy"
            } else {
                "validation_accuracy"
            }
            .to_string(),
        ),
        label: Some(label),
        classes,
        training_seconds: 0.0,
    };
    let files = vec![model.weights_file()?];
    Ok((meta, files, held_out.len() as u64))
}

/// The class nearest a built-in score on the model's class scale: the
/// lexicon's answer to the same question, as a baseline.
fn builtin_class(positions: &[f64], score: f64) -> u32 {
    let mut best = 0;
    for (c, p) in positions.iter().enumerate() {
        if (p - score).abs() < (positions[best] - score).abs() {
            best = c;
        }
    }
    best as u32
}

/// The model's metrics on some corpus rows, and the built-in model's
/// accuracy and macro-F1 on the same rows (as `builtin_*`) when the
/// classes have a sentiment order.
fn corpus_metrics(model: &TextClassifier, corpus: &Corpus, rows: &[usize]) -> Vec<(String, f64)> {
    let k = model.classes.len();
    let mut probabilities = vec![0.0; rows.len() * k];
    let mut features = Vec::new();
    for (n, &i) in rows.iter().enumerate() {
        let (idx, val) = corpus.row(i);
        features.clear();
        features.extend(idx.iter().copied().zip(val.iter().copied()));
        model.probabilities(&features, &mut probabilities[n * k..(n + 1) * k]);
    }
    let truth: Vec<u32> = rows.iter().map(|&i| corpus.labels[i]).collect();
    let builtin: Vec<f64> = rows.iter().map(|&i| f64::from(corpus.builtin[i])).collect();
    prediction_metrics(model, &truth, &probabilities, &builtin)
}

fn argmax(p: &[f64]) -> u32 {
    let mut best = 0;
    for (c, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = c;
        }
    }
    best as u32
}

fn prediction_metrics(
    model: &TextClassifier,
    truth: &[u32],
    probabilities: &[f64],
    builtin: &[f64],
) -> Vec<(String, f64)> {
    let k = model.classes.len();
    let predicted: Vec<u32> = probabilities.chunks(k).map(argmax).collect();
    let mut out = multiclass_metrics(&model.classes, truth, &predicted, Some(probabilities));
    if let Some(positions) = &model.positions {
        let baseline: Vec<u32> = builtin
            .iter()
            .map(|s| builtin_class(positions, *s))
            .collect();
        for (metric, value) in multiclass_metrics(&model.classes, truth, &baseline, None) {
            if metric == "accuracy" || metric == "macro_f1" {
                out.push((format!("builtin_{metric}"), value));
            }
        }
    }
    out
}

/// `EVALUATE MODEL m ON (query)`: metrics on the query's rows (the text
/// column the model was trained on and `label`, by default the training
/// label's name).
pub async fn evaluate(
    engine: &Engine,
    model: &TextClassifier,
    meta: &ModelMeta,
    query: &str,
    label: Option<&str>,
) -> Result<Vec<(String, f64)>> {
    let label = label
        .map(str::to_string)
        .or_else(|| meta.label.clone())
        .unwrap_or_else(|| "label".into());
    let text_col = meta
        .features
        .first()
        .map(|f| f.name.clone())
        .unwrap_or_else(|| "review_text".into());
    let sql = format!(
        "SELECT {}, {} FROM ({query}) AS evaluation_rows",
        quote_ident(&text_col),
        quote_ident(&label)
    );
    let mut stream = engine
        .session_context()
        .sql(&sql)
        .await?
        .execute_stream()
        .await?;
    let k = model.classes.len();
    let (mut truth, mut probabilities, mut builtin) = (Vec::new(), Vec::new(), Vec::new());
    let mut scratch = FeatureScratch::default();
    let mut p = vec![0.0; k];
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let texts = text_array(batch.column(0), &text_col)?;
        let labels = label_text(batch.column(1), &label)?;
        let (texts, labels) = (texts.as_string::<i32>(), labels.as_string::<i32>());
        for row in 0..batch.num_rows() {
            if texts.is_null(row) || labels.is_null(row) {
                continue;
            }
            let value = labels.value(row);
            let Some(code) = model.classes.iter().position(|c| c == value) else {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "label value '{value}' is not a class of model \"{}\" (its classes: {})",
                        meta.name,
                        model.classes.join(", ")
                    ),
                ));
            };
            let score = model.featurizer.features(texts.value(row), &mut scratch);
            model.probabilities(&scratch.features, &mut p);
            truth.push(code as u32);
            probabilities.extend_from_slice(&p);
            builtin.push(score);
        }
    }
    if truth.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the evaluation query returned no rows with both text and label",
        ));
    }
    Ok(prediction_metrics(model, &truth, &probabilities, &builtin))
}
