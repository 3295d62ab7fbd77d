//! User–item interactions: read from a query's record batches, ids mapped to
//! dense indexes, duplicates merged, held out per user for validation, and
//! stored as CSR matrices for the solvers.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::error::{SqlState, sql_err};
use crate::models::evaluate::quote_ident;
use crate::models::training_data::{as_utf8, hash_str, mix};

/// The ids of one side (users or items), in index order (sorted, so ties in
/// scores resolve to the smallest id and indexes do not depend on the order
/// the query produced rows in).
#[derive(Debug, Clone)]
pub enum Ids {
    Int(Vec<i64>),
    Text(Vec<String>),
}

/// Ids and their dense indexes.
#[derive(Debug, Clone)]
pub struct IdIndex {
    ids: Ids,
    int: HashMap<i64, u32>,
    text: HashMap<String, u32>,
}

impl IdIndex {
    pub fn new(ids: Ids) -> Self {
        let (mut int, mut text) = (HashMap::new(), HashMap::new());
        match &ids {
            Ids::Int(v) => {
                int.reserve(v.len());
                for (i, id) in v.iter().enumerate() {
                    int.insert(*id, i as u32);
                }
            }
            Ids::Text(v) => {
                text.reserve(v.len());
                for (i, id) in v.iter().enumerate() {
                    text.insert(id.clone(), i as u32);
                }
            }
        }
        Self { ids, int, text }
    }

    pub fn len(&self) -> usize {
        match &self.ids {
            Ids::Int(v) => v.len(),
            Ids::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn ids(&self) -> &Ids {
        &self.ids
    }

    /// Int64 for integer ids, Utf8 for text ids.
    pub fn data_type(&self) -> DataType {
        match self.ids {
            Ids::Int(_) => DataType::Int64,
            Ids::Text(_) => DataType::Utf8,
        }
    }

    /// The index of one id given as a SQL constant (integers and text are
    /// converted to the model's id type; NULL and unknown ids are `None`).
    pub fn lookup_scalar(&self, value: &ScalarValue) -> Option<u32> {
        if value.is_null() {
            return None;
        }
        match &self.ids {
            Ids::Int(_) => {
                let id = match value.cast_to(&DataType::Int64).ok()? {
                    ScalarValue::Int64(Some(v)) => v,
                    _ => return None,
                };
                self.int.get(&id).copied()
            }
            Ids::Text(_) => {
                let text = match value {
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::LargeUtf8(Some(s))
                    | ScalarValue::Utf8View(Some(s)) => s.clone(),
                    other => other.to_string(),
                };
                self.text.get(&text).copied()
            }
        }
    }

    /// The index of each value of an id column (NULL and unknown ids are
    /// `None`).
    pub fn lookup_array(&self, array: &ArrayRef) -> Result<Vec<Option<u32>>> {
        Ok(match &self.ids {
            Ids::Int(_) => {
                let ints = int_ids(array)?;
                ints.iter()
                    .map(|v| v.and_then(|id| self.int.get(&id).copied()))
                    .collect()
            }
            Ids::Text(_) => {
                let text = as_utf8(array)?;
                text.as_string::<i32>()
                    .iter()
                    .map(|v| v.and_then(|id| self.text.get(id).copied()))
                    .collect()
            }
        })
    }

    /// The ids at `indexes` as an Arrow array.
    pub fn take(&self, indexes: &[u32]) -> ArrayRef {
        match &self.ids {
            Ids::Int(v) => Arc::new(Int64Array::from_iter_values(
                indexes.iter().map(|&i| v[i as usize]),
            )),
            Ids::Text(v) => Arc::new(StringArray::from_iter_values(
                indexes.iter().map(|&i| v[i as usize].as_str()),
            )),
        }
    }

    /// Every id, in index order.
    pub fn to_array(&self) -> ArrayRef {
        match &self.ids {
            Ids::Int(v) => Arc::new(Int64Array::from(v.clone())),
            Ids::Text(v) => Arc::new(StringArray::from(v.clone())),
        }
    }

    /// Read back what [`Self::to_array`] wrote.
    pub fn from_array(array: &ArrayRef) -> Result<Self> {
        Ok(Self::new(match array.data_type() {
            DataType::Int64 => Ids::Int(array.as_primitive::<Int64Type>().values().to_vec()),
            _ => Ids::Text(
                as_utf8(array)?
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.unwrap_or_default().to_string())
                    .collect(),
            ),
        }))
    }

    /// The display form of the id at `index`.
    pub fn display(&self, index: u32) -> String {
        match &self.ids {
            Ids::Int(v) => v[index as usize].to_string(),
            Ids::Text(v) => v[index as usize].clone(),
        }
    }
}

/// An integer id column as `Option<i64>` values.
fn int_ids(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let ints = if array.data_type() == &DataType::Int64 {
        Arc::clone(array)
    } else {
        cast(array, &DataType::Int64)?
    };
    Ok(ints.as_primitive::<Int64Type>().iter().collect())
}

/// Assigns provisional codes to ids as they stream in.
enum IdBuilder {
    Int(HashMap<i64, u32>),
    Text(HashMap<String, u32>),
}

impl IdBuilder {
    fn for_type(column: &str, role: &str, data_type: &DataType) -> Result<Self> {
        if data_type.is_integer() {
            Ok(Self::Int(HashMap::new()))
        } else if matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
        ) {
            Ok(Self::Text(HashMap::new()))
        } else {
            Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the {role} column \"{column}\" has type {data_type}; ids must be integers or text"
                ),
            ))
        }
    }

    /// Codes of one batch's ids (None for NULL).
    fn codes(&mut self, array: &ArrayRef) -> Result<Vec<Option<u32>>> {
        Ok(match self {
            Self::Int(map) => int_ids(array)?
                .into_iter()
                .map(|v| {
                    v.map(|id| {
                        let next = map.len() as u32;
                        *map.entry(id).or_insert(next)
                    })
                })
                .collect(),
            Self::Text(map) => {
                let text = as_utf8(array)?;
                let mut out = Vec::with_capacity(text.len());
                for v in text.as_string::<i32>().iter() {
                    out.push(v.map(|id| match map.get(id) {
                        Some(&code) => code,
                        None => {
                            let next = map.len() as u32;
                            map.insert(id.to_string(), next);
                            next
                        }
                    }));
                }
                out
            }
        })
    }

    /// The sorted index and, per provisional code, its final index.
    fn finish(self) -> (IdIndex, Vec<u32>) {
        match self {
            Self::Int(map) => {
                let mut pairs: Vec<(i64, u32)> = map.into_iter().collect();
                pairs.sort_unstable();
                let mut remap = vec![0; pairs.len()];
                for (new, (_, old)) in pairs.iter().enumerate() {
                    remap[*old as usize] = new as u32;
                }
                let ids = pairs.into_iter().map(|(id, _)| id).collect();
                (IdIndex::new(Ids::Int(ids)), remap)
            }
            Self::Text(map) => {
                let mut pairs: Vec<(String, u32)> = map.into_iter().collect();
                pairs.sort_unstable();
                let mut remap = vec![0; pairs.len()];
                for (new, (_, old)) in pairs.iter().enumerate() {
                    remap[*old as usize] = new as u32;
                }
                let ids = pairs.into_iter().map(|(id, _)| id).collect();
                (IdIndex::new(Ids::Text(ids)), remap)
            }
        }
    }
}

/// The columns of a query that hold the interactions.
#[derive(Debug, Clone)]
pub struct InteractionColumns {
    pub user: String,
    pub item: String,
    /// Absent: every row counts 1.
    pub rating: Option<String>,
    /// For a time-based validation split.
    pub time: Option<String>,
    /// An item attribute (e.g. category) for popular-in-category fallbacks.
    pub category: Option<String>,
}

/// One merged user–item pair.
#[derive(Debug, Clone, Copy)]
pub struct Interaction {
    pub user: u32,
    pub item: u32,
    pub value: f32,
    /// Latest time of the pair's rows (0 without a time column).
    pub time: i64,
}

/// Every interaction of a query, merged per (user, item).
pub struct Interactions {
    pub users: IdIndex,
    pub items: IdIndex,
    /// Sorted by (user, item), one entry per pair.
    pub pairs: Vec<Interaction>,
    /// Rows read and rows skipped for a NULL user, item or rating.
    pub rows: u64,
    pub skipped_rows: u64,
    /// Per item, the category seen last (if a category column was given).
    pub item_category: Vec<Option<String>>,
    /// Keeps the rows' memory accounted in the pool while training runs.
    pub reservation: MemoryReservation,
}

/// How duplicate (user, item) rows combine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Merge {
    Sum,
    Mean,
}

/// Run `query` and read its interactions.
pub async fn collect(
    ctx: &SessionContext,
    consumer: &str,
    query: &str,
    columns: &InteractionColumns,
    merge: Merge,
) -> Result<Interactions> {
    let df = ctx.sql(query).await?;
    let schema = df.schema().as_arrow().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |role: &str, option: &str, name: &str| -> Result<usize> {
        schema.index_of(name).map_err(|_| {
            sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the training query has no column \"{name}\" ({option}, the {role}); its columns are: {}",
                    names.join(", ")
                ),
            )
        })
    };
    let user_i = find("user id", "user_col", &columns.user)?;
    let item_i = find("item id", "item_col", &columns.item)?;
    let rating_i = match &columns.rating {
        Some(r) => Some(find("rating or weight", "rating_col", r)?),
        None => None,
    };
    let time_i = match &columns.time {
        Some(t) => Some(find("time", "time_col", t)?),
        None => None,
    };
    let category_i = match &columns.category {
        Some(c) => Some(find("item category", "category_col", c)?),
        None => None,
    };
    let mut users = IdBuilder::for_type(&columns.user, "user", schema.field(user_i).data_type())?;
    let mut items = IdBuilder::for_type(&columns.item, "item", schema.field(item_i).data_type())?;
    if let Some(r) = rating_i {
        let t = schema.field(r).data_type();
        if !(t.is_numeric() || t == &DataType::Boolean) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the rating column \"{}\" has type {t}; it must be a number",
                    schema.field(r).name()
                ),
            ));
        }
    }
    if let Some(t) = time_i {
        let dt = schema.field(t).data_type();
        if !(dt.is_temporal() || dt.is_integer()) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the time column \"{}\" has type {dt}; it must be a date, timestamp or integer",
                    schema.field(t).name()
                ),
            ));
        }
    }

    let reservation =
        MemoryConsumer::new(consumer.to_string()).register(&ctx.runtime_env().memory_pool);
    let mut raw: Vec<Interaction> = Vec::new();
    let mut categories: HashMap<u32, String> = HashMap::new();
    let (mut rows, mut skipped_rows) = (0_u64, 0_u64);
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let n = batch.num_rows();
        rows += n as u64;
        let u = users.codes(batch.column(user_i))?;
        let i = items.codes(batch.column(item_i))?;
        let r: Option<Vec<Option<f64>>> = match rating_i {
            Some(c) => {
                let values = cast(batch.column(c), &DataType::Float64)?;
                Some(values.as_primitive::<Float64Type>().iter().collect())
            }
            None => None,
        };
        let t: Option<Vec<Option<i64>>> = match time_i {
            Some(c) => {
                let col = batch.column(c);
                let ints = match col.data_type() {
                    DataType::Date32 => cast(&cast(col, &DataType::Int32)?, &DataType::Int64)?,
                    _ => cast(col, &DataType::Int64)?,
                };
                Some(ints.as_primitive::<Int64Type>().iter().collect())
            }
            None => None,
        };
        let c: Option<ArrayRef> = match category_i {
            Some(c) => Some(as_utf8(batch.column(c))?),
            None => None,
        };
        reservation.try_grow(n * std::mem::size_of::<Interaction>())?;
        for row in 0..n {
            let (Some(user), Some(item)) = (u[row], i[row]) else {
                skipped_rows += 1;
                continue;
            };
            let value = match &r {
                Some(r) => match r[row] {
                    Some(v) if v.is_finite() => v as f32,
                    Some(v) => {
                        return Err(sql_err(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!("the rating column holds {v}; ratings must be finite numbers"),
                        ));
                    }
                    None => {
                        skipped_rows += 1;
                        continue;
                    }
                },
                None => 1.0,
            };
            let time = match &t {
                Some(t) => match t[row] {
                    Some(v) => v,
                    None => {
                        skipped_rows += 1;
                        continue;
                    }
                },
                None => 0,
            };
            if let Some(c) = &c {
                let text = c.as_string::<i32>();
                if text.is_valid(row) {
                    categories.insert(item, text.value(row).to_string());
                }
            }
            raw.push(Interaction {
                user,
                item,
                value,
                time,
            });
        }
    }
    let (users, user_remap) = users.finish();
    let (items, item_remap) = items.finish();
    for x in &mut raw {
        x.user = user_remap[x.user as usize];
        x.item = item_remap[x.item as usize];
    }
    let mut item_category = vec![None; items.len()];
    for (code, category) in categories {
        item_category[item_remap[code as usize] as usize] = Some(category);
    }
    let pairs = merge_pairs(raw, merge);
    reservation.try_resize(pairs.len() * std::mem::size_of::<Interaction>())?;
    Ok(Interactions {
        users,
        items,
        pairs,
        rows,
        skipped_rows,
        item_category,
        reservation,
    })
}

/// Sort by (user, item) and merge duplicates: values summed (or averaged),
/// the latest time kept.
pub fn merge_pairs(mut raw: Vec<Interaction>, merge: Merge) -> Vec<Interaction> {
    raw.sort_unstable_by_key(|x| (x.user, x.item));
    let mut out: Vec<Interaction> = Vec::with_capacity(raw.len());
    let mut count = 0_u32;
    for x in raw {
        match out.last_mut() {
            Some(last) if last.user == x.user && last.item == x.item => {
                last.value += x.value;
                last.time = last.time.max(x.time);
                count += 1;
            }
            _ => {
                if merge == Merge::Mean
                    && count > 1
                    && let Some(last) = out.last_mut()
                {
                    last.value /= count as f32;
                }
                out.push(x);
                count = 1;
            }
        }
    }
    if merge == Merge::Mean
        && count > 1
        && let Some(last) = out.last_mut()
    {
        last.value /= count as f32;
    }
    out
}

/// How CREATE MODEL holds interactions out for validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Holdout {
    None,
    /// Each user's `n` latest items (users keep at least one item).
    LastN(usize),
    /// A seeded random fraction of each user's items (users keep at least
    /// one item).
    Fraction(f64, u64),
}

/// Split merged pairs (sorted by user) into training pairs and held-out
/// pairs.
pub fn split(pairs: &[Interaction], holdout: Holdout) -> (Vec<Interaction>, Vec<Interaction>) {
    if holdout == Holdout::None {
        return (pairs.to_vec(), Vec::new());
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < pairs.len() {
        let user = pairs[start].user;
        let mut end = start;
        while end < pairs.len() && pairs[end].user == user {
            end += 1;
        }
        let group = &pairs[start..end];
        let mut held = vec![false; group.len()];
        match holdout {
            Holdout::LastN(n) => {
                let mut order: Vec<usize> = (0..group.len()).collect();
                // Latest first; equal times by item for determinism.
                order.sort_unstable_by_key(|&j| (std::cmp::Reverse(group[j].time), group[j].item));
                let n = n.min(group.len().saturating_sub(1));
                for &j in &order[..n] {
                    held[j] = true;
                }
            }
            Holdout::Fraction(fraction, seed) => {
                for (j, x) in group.iter().enumerate() {
                    let h = mix(
                        mix(mix(seed, u64::from(x.user)), u64::from(x.item)),
                        hash_str("holdout"),
                    );
                    held[j] = ((h >> 11) as f64 / (1_u64 << 53) as f64) < fraction;
                }
                if held.iter().all(|&h| h) {
                    held[0] = false;
                }
            }
            Holdout::None => {}
        }
        for (x, h) in group.iter().zip(held) {
            if h { test.push(*x) } else { train.push(*x) }
        }
        start = end;
    }
    (train, test)
}

/// A sparse matrix in compressed sparse row form.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// From pairs sorted by (row, column).
    pub fn from_sorted(rows: usize, pairs: &[Interaction]) -> Self {
        let mut indptr = vec![0; rows + 1];
        for x in pairs {
            indptr[x.user as usize + 1] += 1;
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        Self {
            indptr,
            indices: pairs.iter().map(|x| x.item).collect(),
            values: pairs.iter().map(|x| x.value).collect(),
        }
    }

    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The transpose, with `columns` rows; columns within a row stay sorted.
    pub fn transpose(&self, columns: usize) -> Self {
        let mut indptr = vec![0; columns + 1];
        for &c in &self.indices {
            indptr[c as usize + 1] += 1;
        }
        for c in 0..columns {
            indptr[c + 1] += indptr[c];
        }
        let mut next = indptr.clone();
        let mut indices = vec![0; self.nnz()];
        let mut values = vec![0.0; self.nnz()];
        for r in 0..self.rows() {
            let (cols, vals) = self.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                let at = next[c as usize];
                indices[at] = r as u32;
                values[at] = v;
                next[c as usize] += 1;
            }
        }
        Self {
            indptr,
            indices,
            values,
        }
    }
}

/// Per user, the held-out items (for ranking metrics).
pub fn relevant_by_user(users: usize, held: &[Interaction]) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); users];
    for x in held {
        out[x.user as usize].push(x.item);
    }
    out
}

/// A column name as an SQL identifier.
pub fn ident(name: &str) -> String {
    quote_ident(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(user: u32, item: u32, value: f32, time: i64) -> Interaction {
        Interaction {
            user,
            item,
            value,
            time,
        }
    }

    #[test]
    fn duplicates_merge() {
        let merged = merge_pairs(
            vec![
                x(1, 2, 1.0, 5),
                x(0, 1, 2.0, 1),
                x(1, 2, 3.0, 9),
                x(1, 2, 2.0, 2),
            ],
            Merge::Sum,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[1].value, merged[1].time), (6.0, 9));
        let mean = merge_pairs(vec![x(1, 2, 1.0, 5), x(1, 2, 3.0, 9)], Merge::Mean);
        assert_eq!(mean[0].value, 2.0);
    }

    #[test]
    fn last_n_holds_out_latest_and_keeps_one() {
        let pairs = vec![
            x(0, 0, 1.0, 3),
            x(0, 1, 1.0, 9),
            x(0, 2, 1.0, 5),
            x(1, 0, 1.0, 1),
        ];
        let (train, test) = split(&pairs, Holdout::LastN(2));
        let held: Vec<(u32, u32)> = test.iter().map(|x| (x.user, x.item)).collect();
        assert_eq!(held, vec![(0, 1), (0, 2)]);
        assert_eq!(train.len(), 2, "user 1's only item stays in training");
    }

    #[test]
    fn csr_and_transpose() {
        let pairs = vec![x(0, 1, 1.0, 0), x(0, 2, 2.0, 0), x(2, 0, 3.0, 0)];
        let m = Csr::from_sorted(3, &pairs);
        assert_eq!(m.indptr, vec![0, 2, 2, 3]);
        let t = m.transpose(3);
        assert_eq!(t.indptr, vec![0, 1, 2, 3]);
        assert_eq!(t.indices, vec![2, 0, 0]);
        assert_eq!(t.values, vec![3.0, 1.0, 2.0]);
    }
}
