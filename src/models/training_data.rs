//! Streaming a training query into model-ready columns.
//!
//! The query's record batches are consumed one at a time and converted to
//! compact columns (f64 for numbers and booleans, u32 codes for text), so the
//! Arrow batches themselves are never all held; the memory the columns take
//! is reserved in DataFusion's memory pool, so training respects
//! `--memory-limit` like queries do (53200 when it does not fit).
//!
//! Rules (documented in the README):
//! - every column except the label is a feature: numbers (integers, floats,
//!   decimals) and booleans are numeric, text is categorical; other types are
//!   refused (42804) with a hint to cast;
//! - a row with NULL in the label or any feature is skipped and counted;
//! - NaN or ±Inf in a feature is an error (22023);
//! - the label may be boolean, 0/1 numbers, or two distinct strings.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use futures::StreamExt;

use crate::engine::Engine;
use crate::error::{SqlState, sql_err};

/// How a feature column is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    Numeric,
    Boolean,
    Categorical,
}

impl FeatureKind {
    pub fn of(data_type: &DataType) -> Option<Self> {
        match data_type {
            t if t.is_numeric() => Some(Self::Numeric),
            DataType::Boolean => Some(Self::Boolean),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(Self::Categorical),
            DataType::Dictionary(_, value) => Self::of(value).filter(|k| *k == Self::Categorical),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Boolean => "boolean",
            Self::Categorical => "categorical",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "numeric" => Some(Self::Numeric),
            "boolean" => Some(Self::Boolean),
            "categorical" => Some(Self::Categorical),
            _ => None,
        }
    }
}

/// A feature column of the training query.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub data_type: DataType,
    pub kind: FeatureKind,
}

/// The collected values of one feature, for the rows kept.
#[derive(Debug, Clone)]
pub enum Column {
    Numbers(Vec<f64>),
    Categories {
        codes: Vec<u32>,
        /// Category text by code, in order of first appearance.
        values: Vec<String>,
        /// Rows per code.
        counts: Vec<u64>,
    },
}

/// Labelled training rows.
#[derive(Debug)]
pub struct LabeledData {
    pub features: Vec<Feature>,
    pub columns: Vec<Column>,
    pub labels: Vec<bool>,
    /// The label value counted as positive (`true`, `1`, or a string).
    pub positive_class: String,
    pub negative_class: String,
    /// A hash of each row's values, for splits that do not depend on the
    /// order the query produced rows in.
    pub row_hashes: Vec<u64>,
    pub skipped_rows: u64,
    reservation: MemoryReservation,
}

impl LabeledData {
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Reserve `bytes` more in the memory pool for as long as this data
    /// lives (a model type's own working memory, e.g. a design matrix):
    /// 53200 when the pool's limit would be exceeded.
    pub fn reserve(&self, bytes: usize) -> Result<()> {
        self.reservation.try_grow(bytes)
    }
}

/// How the label is read while streaming.
enum LabelReader {
    Boolean,
    /// 0/1 numbers.
    Number,
    /// Up to two distinct strings, by code.
    Text {
        values: Vec<String>,
    },
}

/// Stream `query` and collect features and label.
pub async fn collect(
    engine: &Engine,
    consumer: &str,
    query: &str,
    label: &str,
    positive_class: Option<&str>,
) -> Result<LabeledData> {
    let df = engine.session_context().sql(query).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let label_index = schema.index_of(label).map_err(|_| {
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        sql_err(
            SqlState::UNDEFINED_COLUMN,
            format!(
                "label column \"{label}\" is not in the training query (its columns: {})",
                columns.join(", ")
            ),
        )
    })?;
    let mut label_reader = match schema.field(label_index).data_type() {
        DataType::Boolean => LabelReader::Boolean,
        t if t.is_numeric() => LabelReader::Number,
        t if FeatureKind::of(t) == Some(FeatureKind::Categorical) => {
            LabelReader::Text { values: Vec::new() }
        }
        other => {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!(
                    "label column \"{label}\" has type {other}; use a boolean, 0/1 or two text values"
                ),
            ));
        }
    };

    let mut features = Vec::new();
    let mut feature_indices = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        if i == label_index {
            continue;
        }
        let Some(kind) = FeatureKind::of(field.data_type()) else {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!(
                    "feature \"{}\" has type {}, which a model cannot use; cast it to a number or text (e.g. extract(epoch FROM ts))",
                    field.name(),
                    field.data_type()
                ),
            ));
        };
        features.push(Feature {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            kind,
        });
        feature_indices.push(i);
    }
    if features.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the training query has no feature columns besides the label",
        ));
    }

    let reservation = MemoryConsumer::new(consumer.to_string())
        .register(&engine.session_context().runtime_env().memory_pool);
    let mut columns: Vec<Column> = features
        .iter()
        .map(|f| match f.kind {
            FeatureKind::Categorical => Column::Categories {
                codes: Vec::new(),
                values: Vec::new(),
                counts: Vec::new(),
            },
            _ => Column::Numbers(Vec::new()),
        })
        .collect();
    let mut lookups: Vec<HashMap<String, u32>> = vec![HashMap::new(); features.len()];
    let mut label_codes: Vec<u8> = Vec::new();
    let mut row_hashes: Vec<u64> = Vec::new();
    let mut skipped_rows = 0_u64;
    let bytes_per_row = 9 + features
        .iter()
        .map(|f| {
            if f.kind == FeatureKind::Categorical {
                4
            } else {
                8
            }
        })
        .sum::<usize>();

    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch: RecordBatch = batch?;
        let label_array = batch.column(label_index);
        let mut valid = label_array.logical_nulls();
        for &i in &feature_indices {
            valid = NullBuffer::union(valid.as_ref(), batch.column(i).logical_nulls().as_ref());
        }
        let keep: Vec<usize> = (0..batch.num_rows())
            .filter(|&r| valid.as_ref().is_none_or(|v| v.is_valid(r)))
            .collect();
        skipped_rows += (batch.num_rows() - keep.len()) as u64;
        if keep.is_empty() {
            continue;
        }
        reservation.try_grow(keep.len() * bytes_per_row)?;

        let mut hashes: Vec<u64> = vec![0x9E37_79B9_7F4A_7C15; keep.len()];
        read_labels(
            &mut label_reader,
            label,
            label_array,
            &keep,
            &mut label_codes,
            &mut hashes,
        )?;
        for (f, &i) in feature_indices.iter().enumerate() {
            let array = batch.column(i);
            match &mut columns[f] {
                Column::Numbers(values) => {
                    let numbers = cast(array, &DataType::Float64)?;
                    let numbers = numbers.as_primitive::<Float64Type>().values();
                    let start = values.len();
                    if keep.len() == batch.num_rows() {
                        values.extend_from_slice(numbers);
                    } else {
                        values.extend(keep.iter().map(|&r| numbers[r]));
                    }
                    for (h, &x) in hashes.iter_mut().zip(&values[start..]) {
                        if !x.is_finite() {
                            return Err(sql_err(
                                SqlState::INVALID_PARAMETER_VALUE,
                                format!(
                                    "feature \"{}\" is {x} in a training row; filter out NaN and infinite values (or replace them) in the training query",
                                    features[f].name
                                ),
                            ));
                        }
                        *h = mix(*h, x.to_bits());
                    }
                }
                Column::Categories {
                    codes,
                    values,
                    counts,
                } => {
                    let text = as_utf8(array)?;
                    let text = text.as_string::<i32>();
                    let lookup = &mut lookups[f];
                    for (h, &r) in hashes.iter_mut().zip(&keep) {
                        let value = text.value(r);
                        let code = match lookup.get(value) {
                            Some(&code) => code,
                            None => {
                                let code = values.len() as u32;
                                lookup.insert(value.to_string(), code);
                                values.push(value.to_string());
                                counts.push(0);
                                code
                            }
                        };
                        counts[code as usize] += 1;
                        codes.push(code);
                        *h = mix(*h, hash_str(value));
                    }
                }
            }
        }
        row_hashes.extend(hashes);
    }

    let (positive_class, negative_class, positive_code) =
        resolve_classes(&label_reader, label, positive_class)?;
    let labels = label_codes.iter().map(|&c| c == positive_code).collect();
    Ok(LabeledData {
        features,
        columns,
        labels,
        positive_class,
        negative_class,
        row_hashes,
        skipped_rows,
        reservation,
    })
}

fn read_labels(
    reader: &mut LabelReader,
    label: &str,
    array: &ArrayRef,
    keep: &[usize],
    codes: &mut Vec<u8>,
    hashes: &mut [u64],
) -> Result<()> {
    match reader {
        LabelReader::Boolean => {
            let values = array.as_boolean();
            for (h, &r) in hashes.iter_mut().zip(keep) {
                let code = u8::from(values.value(r));
                codes.push(code);
                *h = mix(*h, u64::from(code));
            }
        }
        LabelReader::Number => {
            let numbers = cast(array, &DataType::Float64)?;
            let numbers = numbers.as_primitive::<Float64Type>();
            for (h, &r) in hashes.iter_mut().zip(keep) {
                let code = match numbers.value(r) {
                    0.0 => 0,
                    1.0 => 1,
                    other => {
                        return Err(sql_err(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!(
                                "label \"{label}\" has the value {other}; a numeric label must be 0 or 1"
                            ),
                        ));
                    }
                };
                codes.push(code);
                *h = mix(*h, u64::from(code));
            }
        }
        LabelReader::Text { values } => {
            let text = as_utf8(array)?;
            let text = text.as_string::<i32>();
            for (h, &r) in hashes.iter_mut().zip(keep) {
                let value = text.value(r);
                let code = match values.iter().position(|v| v == value) {
                    Some(code) => code,
                    None if values.len() < 2 => {
                        values.push(value.to_string());
                        values.len() - 1
                    }
                    None => {
                        return Err(sql_err(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!(
                                "label \"{label}\" has more than two distinct values ('{}', '{}', '{value}', ...); this model type needs exactly two classes",
                                values[0], values[1]
                            ),
                        ));
                    }
                };
                codes.push(code as u8);
                *h = mix(*h, code as u64);
            }
        }
    }
    Ok(())
}

/// Pairs whose positive member is obvious, so no `positive_class` is needed.
const KNOWN_PAIRS: [(&str, &str); 6] = [
    ("true", "false"),
    ("yes", "no"),
    ("y", "n"),
    ("t", "f"),
    ("positive", "negative"),
    ("1", "0"),
];

/// (positive class, negative class, code of the positive class).
fn resolve_classes(
    reader: &LabelReader,
    label: &str,
    positive: Option<&str>,
) -> Result<(String, String, u8)> {
    let values = match reader {
        LabelReader::Boolean => return Ok(("true".into(), "false".into(), 1)),
        LabelReader::Number => return Ok(("1".into(), "0".into(), 1)),
        LabelReader::Text { values } => values,
    };
    let [a, b] = values.as_slice() else {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "label \"{label}\" has {} distinct value(s); a classifier needs two",
                values.len()
            ),
        ));
    };
    let positive_code = match positive {
        Some(p) if p == a => 0,
        Some(p) if p == b => 1,
        Some(p) => {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("positive_class '{p}' is not a value of label \"{label}\" ('{a}', '{b}')"),
            ));
        }
        None => {
            let (la, lb) = (a.to_lowercase(), b.to_lowercase());
            match KNOWN_PAIRS
                .iter()
                .find(|(p, n)| (la == *p && lb == *n) || (la == *n && lb == *p))
            {
                Some((p, _)) => u8::from(lb == *p),
                None => {
                    return Err(sql_err(
                        SqlState::INVALID_PARAMETER_VALUE,
                        format!(
                            "label \"{label}\" has the values '{a}' and '{b}': say which is positive with OPTIONS (positive_class = '...')"
                        ),
                    ));
                }
            }
        }
    };
    let (p, n) = if positive_code == 0 { (a, b) } else { (b, a) };
    Ok((p.clone(), n.clone(), positive_code))
}

/// Any text array as Utf8.
pub fn as_utf8(array: &ArrayRef) -> Result<ArrayRef> {
    if array.data_type() == &DataType::Utf8 {
        Ok(Arc::clone(array))
    } else {
        cast(array, &DataType::Utf8).map_err(DataFusionError::from)
    }
}

/// splitmix64's finaliser over the running hash and one value.
pub fn mix(h: u64, v: u64) -> u64 {
    let mut z = h ^ v.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(h << 6);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string (stable across runs and platforms, unlike std's hasher).
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// Which rows go to the validation set: a hash of each row's values, its
/// occurrence number among identical rows, and the seed. Identical rows are
/// interchangeable, so the split does not depend on the order the query
/// produced rows in, and a group of identical rows is split like any other
/// rows (hashing values alone would send the whole group to one side).
pub fn validation_rows(row_hashes: &[u64], seed: u64, fraction: f64) -> Vec<bool> {
    if fraction <= 0.0 {
        return vec![false; row_hashes.len()];
    }
    // The keys are hashes already: hashing them again only costs time.
    let mut occurrences: HashMap<u64, u64, BuildHasherDefault<PassThrough>> =
        HashMap::with_capacity_and_hasher(row_hashes.len(), BuildHasherDefault::default());
    row_hashes
        .iter()
        .map(|&h| {
            let k = occurrences.entry(h).or_insert(0);
            let key = mix(mix(h, *k), seed);
            *k += 1;
            ((key >> 11) as f64 / (1_u64 << 53) as f64) < fraction
        })
        .collect()
}

/// A `Hasher` for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_rows_are_split_like_any_others() {
        // 1,000 copies of one row and 1,000 distinct rows: both ~20% validation.
        let same = validation_rows(&[7; 1000], 42, 0.2)
            .iter()
            .filter(|v| **v)
            .count();
        let distinct: Vec<u64> = (0..1000).map(|i| mix(0, i)).collect();
        let varied = validation_rows(&distinct, 42, 0.2)
            .iter()
            .filter(|v| **v)
            .count();
        for count in [same, varied] {
            assert!((150..250).contains(&count), "{count}");
        }
        // Order of rows does not change how many of each go to validation.
        let mut reversed = distinct.clone();
        reversed.reverse();
        let a = validation_rows(&distinct, 42, 0.2);
        let b = validation_rows(&reversed, 42, 0.2);
        let picked = |v: &[bool], rows: &[u64]| {
            let mut p: Vec<u64> = rows
                .iter()
                .zip(v)
                .filter(|(_, v)| **v)
                .map(|(r, _)| *r)
                .collect();
            p.sort_unstable();
            p
        };
        assert_eq!(picked(&a, &distinct), picked(&b, &reversed));
        assert!(validation_rows(&distinct, 42, 0.0).iter().all(|v| !v));
    }
}
