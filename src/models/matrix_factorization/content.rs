//! Item content (titles, categories, brands: any columns of a
//! `content_query`) as TF-IDF vectors of hashed word and character n-grams,
//! so `similar_items` can answer for items nobody has interacted with yet
//! (cold-start items) and blend content with the factors.
//!
//! Rows 0..n are the model's items in index order (an item without a
//! content row has an empty vector); rows n.. are items only the content
//! query knows.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, ListArray, RecordBatch, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Schema, UInt32Type};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::interactions::{IdIndex, Ids};
use super::topk::top_k;
use crate::error::{SqlError, SqlState, sql_err};
use crate::models::ModelFile;
use crate::models::text_classifier::features::{FeatureScratch, Featurizer};

pub const CONTENT_FILE: &str = "content.arrow";

/// Words and their bigrams, character n-grams up to 3 (Chinese titles have
/// no spaces), 2^18 buckets; no lexicon score.
const FEATURIZER: Featurizer = Featurizer {
    hash_bits: 18,
    word_ngrams: 2,
    char_ngrams: 3,
    lexicon_feature: false,
};

#[derive(Debug)]
pub struct Content {
    /// The model's items, then the content-only ones.
    pub ids: IdIndex,
    /// How many of `ids` are the model's items.
    pub model_items: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    /// Term → (row, weight), for scoring one item against all others.
    postings: HashMap<u32, Vec<(u32, f32)>>,
}

impl Content {
    fn new(
        ids: IdIndex,
        model_items: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
    ) -> Self {
        let mut postings: HashMap<u32, Vec<(u32, f32)>> = HashMap::new();
        for row in 0..indptr.len().saturating_sub(1) {
            for j in indptr[row]..indptr[row + 1] {
                postings
                    .entry(indices[j])
                    .or_default()
                    .push((row as u32, values[j]));
            }
        }
        Self {
            ids,
            model_items,
            indptr,
            indices,
            values,
            postings,
        }
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn has_content(&self, row: u32) -> bool {
        let r = row as usize;
        r < self.rows() && self.indptr[r + 1] > self.indptr[r]
    }

    /// Cosine similarity of row `row` to every row (0 where nothing is
    /// shared), added into `scores` times `weight`.
    pub fn add_similarities(&self, row: u32, weight: f32, scores: &mut [f32]) {
        let r = row as usize;
        for j in self.indptr[r]..self.indptr[r + 1] {
            if let Some(list) = self.postings.get(&self.indices[j]) {
                let v = self.values[j] * weight;
                for &(other, w) in list {
                    scores[other as usize] += v * w;
                }
            }
        }
    }

    /// The k rows most similar to `row` by content (itself left out; rows
    /// sharing nothing with it are not similar at all and left out too).
    pub fn similar(&self, row: u32, k: usize) -> Vec<(u32, f32)> {
        let mut scores = vec![0.0; self.rows()];
        self.add_similarities(row, 1.0, &mut scores);
        top(scores, row, k)
    }

    pub fn file(&self) -> Result<ModelFile> {
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        let weight = Arc::new(Field::new("item", DataType::Float32, false));
        let lengths = self.indptr.windows(2).map(|w| w[1] - w[0]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("item_id", self.ids.data_type(), false),
            Field::new("model_item", DataType::Boolean, false),
            Field::new("terms", DataType::List(Arc::clone(&item)), false),
            Field::new("weights", DataType::List(Arc::clone(&weight)), false),
        ]));
        let model_item: Vec<bool> = (0..self.rows()).map(|r| r < self.model_items).collect();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                self.ids.to_array(),
                Arc::new(datafusion::arrow::array::BooleanArray::from(model_item)),
                Arc::new(ListArray::new(
                    item,
                    OffsetBuffer::from_lengths(lengths.clone()),
                    Arc::new(UInt32Array::from(self.indices.clone())),
                    None,
                )),
                Arc::new(ListArray::new(
                    weight,
                    OffsetBuffer::from_lengths(lengths),
                    Arc::new(Float32Array::from(self.values.clone())),
                    None,
                )),
            ],
        )?;
        ModelFile::arrow(CONTENT_FILE, &batch)
    }

    /// Read back what [`Content::file`] wrote, for a model of `model_items`
    /// items (its first rows must be those items, one for one).
    pub fn load(bytes: &[u8], model_items: usize) -> Result<Self, SqlError> {
        let corrupt =
            |e: String| SqlError::new(SqlState::DATA_EXCEPTION, format!("{CONTENT_FILE}: {e}"));
        let reader = FileReader::try_new(std::io::Cursor::new(bytes), None)
            .map_err(|e| corrupt(e.to_string()))?;
        let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        let (mut ids, mut flagged) = (Vec::<ArrayRef>::new(), 0);
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(e.to_string()))?;
            let (Some(flags), Some(terms), Some(weights)) = (
                batch
                    .column_by_name("model_item")
                    .and_then(|c| c.as_boolean_opt()),
                batch
                    .column_by_name("terms")
                    .and_then(|c| c.as_list_opt::<i32>()),
                batch
                    .column_by_name("weights")
                    .and_then(|c| c.as_list_opt::<i32>()),
            ) else {
                return Err(corrupt(
                    "expected columns model_item, terms and weights".into(),
                ));
            };
            flagged += flags.true_count();
            for r in 0..batch.num_rows() {
                let (t, w) = (terms.value(r), weights.value(r));
                let (Some(t), Some(w)) = (
                    t.as_primitive_opt::<UInt32Type>(),
                    w.as_primitive_opt::<Float32Type>(),
                ) else {
                    return Err(corrupt("terms must be UInt32 and weights Float32".into()));
                };
                if t.len() != w.len() {
                    return Err(corrupt("terms and weights differ in length".into()));
                }
                indices.extend(t.values().iter().copied());
                values.extend(w.values().iter().copied());
                indptr.push(indices.len());
            }
            ids.push(Arc::clone(batch.column(0)));
        }
        let all =
            datafusion::arrow::compute::concat(&ids.iter().map(|a| a.as_ref()).collect::<Vec<_>>())
                .map_err(|e| corrupt(e.to_string()))?;
        let ids = IdIndex::from_array(&all).map_err(|e| corrupt(e.to_string()))?;
        if ids.len() != indptr.len() - 1 || flagged != model_items || ids.len() < model_items {
            return Err(corrupt(format!(
                "{} rows ({flagged} of them the model's items) do not fit a model of {model_items} items",
                ids.len()
            )));
        }
        Ok(Self::new(ids, model_items, indptr, indices, values))
    }
}

/// The k best rows of `scores` (positive only), leaving out `own`, ties by row.
pub fn top(mut scores: Vec<f32>, own: u32, k: usize) -> Vec<(u32, f32)> {
    for (row, s) in scores.iter_mut().enumerate() {
        if row as u32 == own || *s <= 0.0 {
            *s = f32::NEG_INFINITY;
        }
    }
    top_k(&scores, k)
}

/// Read `query` (the item id column `item_col` and any other columns, joined
/// into one text per item; several rows of one item are joined too) and
/// build the content table over the model's `items`.
pub async fn collect(
    ctx: &SessionContext,
    query: &str,
    item_col: &str,
    items: &IdIndex,
) -> Result<Content> {
    let df = ctx.sql(query).await?;
    let schema = df.schema().as_arrow().clone();
    let Ok(id_index) = schema.index_of(item_col) else {
        return Err(sql_err(
            SqlState::UNDEFINED_COLUMN,
            format!("content_query must return the item column \"{item_col}\""),
        ));
    };
    if schema.fields().len() < 2 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "content_query needs columns besides the item id (title, category, brand, ...)",
        ));
    }
    let mut model_text: Vec<String> = vec![String::new(); items.len()];
    // Items only the content query knows, in the order first seen: their
    // ids as text, and their texts.
    let mut cold: Vec<(String, String)> = Vec::new();
    let mut cold_index: HashMap<String, usize> = HashMap::new();
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let id_column = batch.column(id_index);
        let known = items.lookup_array(id_column)?;
        let id_text = cast(id_column, &DataType::Utf8)?;
        let id_text = id_text.as_string::<i32>();
        let texts: Vec<ArrayRef> = (0..batch.num_columns())
            .filter(|&c| c != id_index)
            .map(|c| cast(batch.column(c), &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let texts: Vec<_> = texts.iter().map(|t| t.as_string::<i32>()).collect();
        for (row, item) in known.iter().enumerate() {
            if id_column.is_null(row) {
                continue;
            }
            let target = match *item {
                Some(i) => &mut model_text[i as usize],
                None => {
                    let id = id_text.value(row);
                    let at = *cold_index.entry(id.to_string()).or_insert_with(|| {
                        cold.push((id.to_string(), String::new()));
                        cold.len() - 1
                    });
                    &mut cold[at].1
                }
            };
            for t in &texts {
                if t.is_valid(row) {
                    if !target.is_empty() {
                        // A clause boundary: n-grams do not run across columns.
                        target.push_str(" . ");
                    }
                    target.push_str(t.value(row));
                }
            }
        }
    }
    let ids = match items.ids() {
        Ids::Int(v) => {
            let mut all = v.clone();
            for (id, _) in &cold {
                all.push(id.parse::<i64>().map_err(|_| {
                    sql_err(
                        SqlState::DATATYPE_MISMATCH,
                        format!(
                            "content_query's \"{item_col}\" must have the model's id type (integers), not '{id}'"
                        ),
                    )
                })?);
            }
            Ids::Int(all)
        }
        Ids::Text(v) => Ids::Text(
            v.iter()
                .cloned()
                .chain(cold.iter().map(|(id, _)| id.clone()))
                .collect(),
        ),
    };
    let documents: Vec<&str> = model_text
        .iter()
        .map(String::as_str)
        .chain(cold.iter().map(|(_, t)| t.as_str()))
        .collect();
    let (indptr, indices, values) = tf_idf(&documents);
    Ok(Content::new(
        IdIndex::new(ids),
        items.len(),
        indptr,
        indices,
        values,
    ))
}

/// Hashed n-gram vectors weighted by smoothed IDF (ln((1 + n) / (1 + df)) + 1,
/// as scikit-learn's TfidfVectorizer) and scaled to unit length, in CSR form.
fn tf_idf(documents: &[&str]) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
    let mut scratch = FeatureScratch::default();
    let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
    let mut df: HashMap<u32, u32> = HashMap::new();
    for doc in documents {
        if !doc.is_empty() {
            FEATURIZER.features(doc, &mut scratch);
            for &(i, v) in &scratch.features {
                indices.push(i);
                values.push(v);
                *df.entry(i).or_insert(0) += 1;
            }
        }
        indptr.push(indices.len());
    }
    let n = documents.len() as f32;
    for row in 0..documents.len() {
        let range = indptr[row]..indptr[row + 1];
        for j in range.clone() {
            let d = df.get(&indices[j]).copied().unwrap_or(1) as f32;
            values[j] *= ((1.0 + n) / (1.0 + d)).ln() + 1.0;
        }
        let norm = values[range.clone()]
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
        if norm > 0.0 {
            values[range].iter_mut().for_each(|v| *v /= norm);
        }
    }
    (indptr, indices, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(documents: &[&str]) -> Content {
        let (indptr, indices, values) = tf_idf(documents);
        let ids = IdIndex::new(Ids::Int((0..documents.len() as i64).collect()));
        Content::new(ids, documents.len(), indptr, indices, values)
    }

    #[test]
    fn similar_titles_rank_first_and_unrelated_ones_not_at_all() {
        let c = content(&[
            "Wireless Bluetooth Headphones . electronics . Sonix",
            "Bluetooth Wireless Earbuds . electronics . Sonix",
            "Cotton T-Shirt . apparel . Basics",
            "无线蓝牙耳机 . 电子产品",
            "蓝牙耳机 无线 . 电子产品",
            "",
        ]);
        let s = c.similar(0, 5);
        assert_eq!(s[0].0, 1, "{s:?}");
        assert!(s.iter().all(|(r, _)| *r != 5 && *r != 0), "{s:?}");
        let zh = c.similar(3, 2);
        assert_eq!(zh[0].0, 4, "{zh:?}");
        assert!(c.similar(5, 3).is_empty());
        // Cosine of unit vectors: at most 1, itself exactly 1.
        let mut scores = vec![0.0; c.rows()];
        c.add_similarities(2, 1.0, &mut scores);
        assert!((scores[2] - 1.0).abs() < 1e-5);
        assert!(scores.iter().all(|s| *s <= 1.0 + 1e-5));
    }

    #[test]
    fn stores_and_loads() {
        let c = content(&["red shoes", "blue shoes", ""]);
        let file = c.file().unwrap();
        let back = Content::load(&file.bytes, 3).unwrap();
        assert_eq!(back.rows(), 3);
        assert_eq!(back.model_items, 3);
        assert_eq!(back.similar(0, 2), c.similar(0, 2));
        assert!(Content::load(&file.bytes[..50], 3).is_err());
        // Content of another model's item count is refused.
        assert!(Content::load(&file.bytes, 2).is_err());
    }
}
