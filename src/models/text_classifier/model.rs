//! A trained text classifier: hashed-feature weights per class, and what
//! its classes mean as a sentiment score.

use std::io::Cursor as IoCursor;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, Float32Array, Float64Array, ListArray, RecordBatch, StringArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Schema};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::error::Result;

use super::features::{FeatureScratch, Featurizer};
use crate::error::{SqlError, SqlState};
use crate::models::{ModelFile, ModelMeta};

pub const WEIGHTS_FILE: &str = "weights.arrow";

#[derive(Debug, Clone)]
pub struct TextClassifier {
    pub featurizer: Featurizer,
    /// Sorted (numerically when every class is a number).
    pub classes: Vec<String>,
    /// Where each class sits on the sentiment scale [−1, 1], when the
    /// classes have an order (see [`class_positions`]).
    pub positions: Option<Vec<f64>>,
    /// Rows of weights: one per class, or for two classes one row for the
    /// second class against the first (whose logit is 0).
    pub weights: Vec<f32>,
    pub biases: Vec<f64>,
}

/// Classes in the order the model keeps them: numerically when all are
/// numbers, else by text.
pub fn sort_classes(classes: &mut [String]) {
    let numbers: Option<Vec<f64>> = classes.iter().map(|c| c.parse().ok()).collect();
    if numbers.is_some() {
        classes.sort_by(|a, b| {
            let (a, b): (f64, f64) = (a.parse().unwrap_or(0.0), b.parse().unwrap_or(0.0));
            a.total_cmp(&b)
        });
    } else {
        classes.sort();
    }
}

/// The sentiment-scale position of each class: numbers (star ratings, 0/1)
/// rescaled so the lowest is −1 and the highest +1; `false`/`true` as −1/+1;
/// `negative`/`neutral`/`positive` as −1/0/+1. Other class names have no
/// order (None): such a model gives labels, not scores.
pub fn class_positions(classes: &[String]) -> Option<Vec<f64>> {
    if classes.len() < 2 {
        return None;
    }
    let numbers: Option<Vec<f64>> = classes.iter().map(|c| c.parse::<f64>().ok()).collect();
    if let Some(numbers) = numbers {
        let (lo, hi) = numbers
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        if hi > lo && lo.is_finite() && hi.is_finite() {
            return Some(
                numbers
                    .iter()
                    .map(|v| 2.0 * (v - lo) / (hi - lo) - 1.0)
                    .collect(),
            );
        }
        return None;
    }
    classes
        .iter()
        .map(|c| match c.to_lowercase().as_str() {
            "false" | "negative" | "neg" => Some(-1.0),
            "neutral" => Some(0.0),
            "true" | "positive" | "pos" => Some(1.0),
            _ => None,
        })
        .collect()
}

impl TextClassifier {
    pub fn dim(&self) -> usize {
        self.featurizer.dim()
    }

    /// Rows of weights the model has (see `weights`).
    pub fn free_rows(classes: usize) -> usize {
        if classes == 2 { 1 } else { classes }
    }

    /// Class probabilities of one text's features, into `out` (one per class).
    pub fn probabilities(&self, features: &[(u32, f32)], out: &mut [f64]) {
        let k = self.classes.len();
        let free = Self::free_rows(k);
        let first = k - free;
        let dim = self.dim();
        out[..first].iter_mut().for_each(|v| *v = 0.0);
        for r in 0..free {
            let row = &self.weights[r * dim..(r + 1) * dim];
            out[first + r] = self.biases[r]
                + features
                    .iter()
                    .map(|&(i, v)| f64::from(row[i as usize] * v))
                    .sum::<f64>();
        }
        softmax(&mut out[..k]);
    }

    /// The score of class probabilities: their expected position.
    pub fn score(&self, probabilities: &[f64]) -> Option<f64> {
        let positions = self.positions.as_ref()?;
        Some(
            probabilities
                .iter()
                .zip(positions)
                .map(|(p, x)| p * x)
                .sum::<f64>()
                .clamp(-1.0, 1.0),
        )
    }

    /// A scorer of one text at a time, with its buffers.
    pub fn predictor(&self) -> Predictor<'_> {
        Predictor {
            model: self,
            scratch: FeatureScratch::default(),
            probabilities: vec![0.0; self.classes.len()],
        }
    }

    pub fn weights_file(&self) -> Result<ModelFile> {
        let free = self.biases.len();
        let dim = self.dim();
        let k = self.classes.len();
        let classes: Vec<&str> = self.classes[k - free..]
            .iter()
            .map(String::as_str)
            .collect();
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let weights = ListArray::new(
            Arc::clone(&item),
            OffsetBuffer::from_lengths(std::iter::repeat_n(dim, free)),
            Arc::new(Float32Array::from(self.weights.clone())),
            None,
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("class", DataType::Utf8, false),
            Field::new("bias", DataType::Float64, false),
            Field::new("weights", DataType::List(item), false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(classes)),
                Arc::new(Float64Array::from(self.biases.clone())),
                Arc::new(weights),
            ],
        )?;
        ModelFile::arrow(WEIGHTS_FILE, &batch)
    }

    pub fn load(meta: &ModelMeta, bytes: &[u8]) -> Result<Self, SqlError> {
        let corrupt =
            |e: String| SqlError::new(SqlState::DATA_EXCEPTION, format!("{WEIGHTS_FILE}: {e}"));
        let featurizer = super::featurizer_from(&meta.options).map_err(|e| corrupt(e.message))?;
        let classes = meta.classes.clone();
        if classes.len() < 2 {
            return Err(corrupt("the model has fewer than two classes".into()));
        }
        let free = Self::free_rows(classes.len());
        let dim = featurizer.dim();
        let reader =
            FileReader::try_new(IoCursor::new(bytes), None).map_err(|e| corrupt(e.to_string()))?;
        let (mut weights, mut biases) = (Vec::with_capacity(free * dim), Vec::new());
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(e.to_string()))?;
            let (Some(bias), Some(rows)) = (
                batch
                    .column_by_name("bias")
                    .and_then(|c| c.as_primitive_opt::<Float64Type>()),
                batch
                    .column_by_name("weights")
                    .and_then(|c| c.as_list_opt::<i32>()),
            ) else {
                return Err(corrupt(
                    "expected columns bias (Float64) and weights (List<Float32>)".into(),
                ));
            };
            biases.extend(bias.values().iter().copied());
            for r in 0..rows.len() {
                let row = rows.value(r);
                let Some(values) = row.as_primitive_opt::<Float32Type>() else {
                    return Err(corrupt("weights are not Float32".into()));
                };
                if values.len() != dim {
                    return Err(corrupt(format!(
                        "a weight row has {} entries, expected {dim}",
                        values.len()
                    )));
                }
                weights.extend(values.values().iter().copied());
            }
        }
        if biases.len() != free || weights.len() != free * dim {
            return Err(corrupt(format!(
                "expected {free} weight rows for {} classes, found {}",
                classes.len(),
                biases.len()
            )));
        }
        Ok(Self {
            featurizer,
            positions: class_positions(&classes),
            classes,
            weights,
            biases,
        })
    }
}

/// Scores texts with a model, reusing its buffers from text to text.
pub struct Predictor<'a> {
    model: &'a TextClassifier,
    scratch: FeatureScratch,
    probabilities: Vec<f64>,
}

impl Predictor<'_> {
    /// The class probabilities of `text`.
    pub fn probabilities(&mut self, text: &str) -> &[f64] {
        self.model.featurizer.features(text, &mut self.scratch);
        self.model
            .probabilities(&self.scratch.features, &mut self.probabilities);
        &self.probabilities
    }
}

/// In place, numerically stable.
pub fn softmax(z: &mut [f64]) {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classes_sort_numerically_and_have_positions() {
        let mut stars = strings(&["5", "10", "1", "3"]);
        sort_classes(&mut stars);
        assert_eq!(stars, strings(&["1", "3", "5", "10"]));
        let p = class_positions(&stars).unwrap();
        assert_eq!(
            p,
            vec![-1.0, 2.0 * 2.0 / 9.0 - 1.0, 2.0 * 4.0 / 9.0 - 1.0, 1.0]
        );
        assert_eq!(
            class_positions(&strings(&["false", "true"])),
            Some(vec![-1.0, 1.0])
        );
        assert_eq!(
            class_positions(&strings(&["negative", "neutral", "positive"])),
            Some(vec![-1.0, 0.0, 1.0])
        );
        assert_eq!(class_positions(&strings(&["apparel", "toys"])), None);
        assert_eq!(class_positions(&strings(&["1"])), None);
    }

    #[test]
    fn two_class_score_is_two_p_minus_one() {
        let model = TextClassifier {
            featurizer: Featurizer {
                hash_bits: 10,
                word_ngrams: 1,
                char_ngrams: 0,
                lexicon_feature: true,
            },
            classes: strings(&["false", "true"]),
            positions: class_positions(&strings(&["false", "true"])),
            weights: {
                let mut w = vec![0.0; 1024];
                w[0] = 2.0;
                w
            },
            biases: vec![0.5],
        };
        let mut p = [0.0; 2];
        // Lexicon feature 0.8: logit 0.5 + 1.6 = 2.1.
        model.probabilities(&[(0, 0.8)], &mut p);
        let expected = 1.0 / (1.0 + (-2.1_f64).exp());
        assert!((p[1] - expected).abs() < 1e-6);
        assert!((model.score(&p).unwrap() - (2.0 * expected - 1.0)).abs() < 1e-6);
        let file = model.weights_file().unwrap();
        let meta = ModelMeta {
            format_version: crate::models::MODEL_FORMAT_VERSION,
            name: "t".into(),
            model_type: super::super::MODEL_TYPE.into(),
            version: 1,
            created_at: chrono::Utc::now(),
            training_rows: 0,
            features: Vec::new(),
            options: super::super::featurizer_options(&model.featurizer),
            metrics: Default::default(),
            headline_metric: None,
            label: None,
            classes: model.classes.clone(),
            training_seconds: 0.0,
        };
        let loaded = TextClassifier::load(&meta, &file.bytes).unwrap();
        assert_eq!(loaded.weights, model.weights);
        assert_eq!(loaded.biases, model.biases);
        assert_eq!(loaded.featurizer, model.featurizer);
        assert!(TextClassifier::load(&meta, &file.bytes[..100]).is_err());
    }
}
