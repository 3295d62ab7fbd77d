//! On-disk form of a matrix_factorization model version (beside its
//! `model.json`), as Arrow IPC files:
//!
//! - `users.arrow`: `user_id` (Int64 or Utf8), `bias` Float32, `factors`
//!   FixedSizeList<Float32>, `seen_items` List<UInt32> (item row numbers of
//!   the training interactions), `seen_weights` List<Float32>.
//! - `items.arrow`: `item_id`, `bias`, `factors`, `users` UInt32 (training
//!   users who interacted), `category` Utf8 (nullable). Its schema metadata
//!   holds `feedback`, `global_mean`, `regularization` and `alpha`.
//!
//! Row i of each file is index i of the model (ids sorted).

use std::collections::HashMap;
use std::io::Cursor as IoCursor;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, Float32Array, ListArray, RecordBatch,
    StringArray, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Schema, UInt32Type};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::error::Result;
use ndarray::Array2;

use super::MatrixFactorizationModel;
use super::als::{Factors, Feedback};
use super::interactions::{Csr, IdIndex};
use crate::error::{SqlError, SqlState, sql_err};
use crate::models::ModelFile;

pub const USERS_FILE: &str = "users.arrow";
pub const ITEMS_FILE: &str = "items.arrow";

fn factors_array(m: &Array2<f32>) -> Result<ArrayRef> {
    let f = i32::try_from(m.ncols()).map_err(|_| too_large())?;
    let values: Vec<f32> = m.as_standard_layout().iter().copied().collect();
    Ok(Arc::new(FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, false)),
        f,
        Arc::new(Float32Array::from(values)),
        None,
    )?))
}

fn too_large() -> datafusion::error::DataFusionError {
    sql_err(
        SqlState::PROGRAM_LIMIT_EXCEEDED,
        "the model is too large for its storage format",
    )
}

fn list<T: Array + 'static>(offsets: &[usize], values: T, item: DataType) -> Result<ArrayRef> {
    let offsets: Vec<i32> = offsets
        .iter()
        .map(|&o| i32::try_from(o).map_err(|_| too_large()))
        .collect::<Result<_>>()?;
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", item, false)),
        OffsetBuffer::new(offsets.into()),
        Arc::new(values),
        None,
    )?))
}

fn ipc(name: &'static str, batch: &RecordBatch) -> Result<ModelFile> {
    ModelFile::arrow(name, batch)
}

/// The model's files.
pub fn files(model: &MatrixFactorizationModel) -> Result<Vec<ModelFile>> {
    let users_schema = Arc::new(Schema::new(vec![
        Field::new("user_id", model.users.data_type(), false),
        Field::new("bias", DataType::Float32, false),
        Field::new(
            "factors",
            DataType::new_fixed_size_list(DataType::Float32, model.factors() as i32, false),
            false,
        ),
        Field::new_list(
            "seen_items",
            Field::new("item", DataType::UInt32, false),
            false,
        ),
        Field::new_list(
            "seen_weights",
            Field::new("item", DataType::Float32, false),
            false,
        ),
    ]));
    let users = RecordBatch::try_new(
        users_schema,
        vec![
            model.users.to_array(),
            Arc::new(Float32Array::from(model.user_bias.clone())),
            factors_array(&model.user_factors)?,
            list(
                &model.seen.indptr,
                UInt32Array::from(model.seen.indices.clone()),
                DataType::UInt32,
            )?,
            list(
                &model.seen.indptr,
                Float32Array::from(model.seen.values.clone()),
                DataType::Float32,
            )?,
        ],
    )?;
    let metadata: HashMap<String, String> = [
        (
            "feedback",
            match model.feedback {
                Feedback::Implicit => "implicit".to_string(),
                Feedback::Explicit => "explicit".to_string(),
            },
        ),
        ("global_mean", model.global_mean.to_string()),
        ("regularization", model.regularization.to_string()),
        ("alpha", model.alpha.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let items_schema = Arc::new(
        Schema::new(vec![
            Field::new("item_id", model.items.data_type(), false),
            Field::new("bias", DataType::Float32, false),
            Field::new(
                "factors",
                DataType::new_fixed_size_list(DataType::Float32, model.factors() as i32, false),
                false,
            ),
            Field::new("users", DataType::UInt32, false),
            Field::new("category", DataType::Utf8, true),
        ])
        .with_metadata(metadata),
    );
    let items = RecordBatch::try_new(
        items_schema,
        vec![
            model.items.to_array(),
            Arc::new(Float32Array::from(model.item_bias.clone())),
            factors_array(&model.item_factors)?,
            Arc::new(UInt32Array::from(model.item_users.clone())),
            Arc::new(StringArray::from(model.item_category.clone())),
        ],
    )?;
    Ok(vec![ipc(USERS_FILE, &users)?, ipc(ITEMS_FILE, &items)?])
}

fn read(name: &str, bytes: &[u8]) -> Result<RecordBatch, String> {
    let reader = FileReader::try_new(IoCursor::new(bytes), None).map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| e.to_string())?;
    concat_batches(&schema, &batches).map_err(|e| format!("{name}: {e}"))
}

fn column<'a>(batch: &'a RecordBatch, name: &str, file: &str) -> Result<&'a ArrayRef, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("{file} has no column {name}"))
}

fn factors_from(array: &ArrayRef, file: &str) -> Result<Array2<f32>, String> {
    let list = array
        .as_fixed_size_list_opt()
        .ok_or_else(|| format!("{file}: factors is not a fixed-size list"))?;
    let f = list.value_length() as usize;
    let values = list
        .values()
        .as_primitive_opt::<Float32Type>()
        .ok_or_else(|| format!("{file}: factors are not Float32"))?;
    let start = list.offset() * f;
    let flat = values.values()[start..start + list.len() * f].to_vec();
    Array2::from_shape_vec((list.len(), f), flat).map_err(|e| format!("{file}: {e}"))
}

fn f32s(array: &ArrayRef, file: &str) -> Result<Vec<f32>, String> {
    Ok(array
        .as_primitive_opt::<Float32Type>()
        .ok_or_else(|| format!("{file}: expected Float32"))?
        .values()
        .to_vec())
}

/// Load a model from its two files.
pub fn load(users: &[u8], items: &[u8]) -> Result<MatrixFactorizationModel, SqlError> {
    load_inner(users, items).map_err(|e| SqlError::new(SqlState::DATA_EXCEPTION, e))
}

fn load_inner(users_bytes: &[u8], items_bytes: &[u8]) -> Result<MatrixFactorizationModel, String> {
    let users = read(USERS_FILE, users_bytes)?;
    let items = read(ITEMS_FILE, items_bytes)?;
    let meta = items.schema().metadata().clone();
    let number = |key: &str| -> Result<f32, String> {
        meta.get(key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{ITEMS_FILE} lacks {key}"))
    };
    let feedback = match meta.get("feedback").map(String::as_str) {
        Some("explicit") => Feedback::Explicit,
        Some("implicit") => Feedback::Implicit,
        _ => return Err(format!("{ITEMS_FILE} lacks feedback")),
    };
    let user_ids =
        IdIndex::from_array(column(&users, "user_id", USERS_FILE)?).map_err(|e| e.to_string())?;
    let item_ids =
        IdIndex::from_array(column(&items, "item_id", ITEMS_FILE)?).map_err(|e| e.to_string())?;
    let user_factors = factors_from(column(&users, "factors", USERS_FILE)?, USERS_FILE)?;
    let item_factors = factors_from(column(&items, "factors", ITEMS_FILE)?, ITEMS_FILE)?;
    if user_factors.ncols() != item_factors.ncols() {
        return Err("user and item factors differ in size".into());
    }
    let seen_items = column(&users, "seen_items", USERS_FILE)?
        .as_list_opt::<i32>()
        .ok_or_else(|| format!("{USERS_FILE}: seen_items is not a list"))?;
    let seen_weights = column(&users, "seen_weights", USERS_FILE)?
        .as_list_opt::<i32>()
        .ok_or_else(|| format!("{USERS_FILE}: seen_weights is not a list"))?;
    let base = seen_items.value_offsets()[0];
    let indptr: Vec<usize> = seen_items
        .value_offsets()
        .iter()
        .map(|&o| (o - base) as usize)
        .collect();
    let nnz = indptr.last().copied().unwrap_or(0);
    let indices = seen_items
        .values()
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| format!("{USERS_FILE}: seen_items are not UInt32"))?
        .values()[base as usize..base as usize + nnz]
        .to_vec();
    let weights = seen_weights
        .values()
        .as_primitive_opt::<Float32Type>()
        .ok_or_else(|| format!("{USERS_FILE}: seen_weights are not Float32"))?;
    let wbase = seen_weights.value_offsets()[0] as usize;
    let values = weights.values()[wbase..wbase + nnz].to_vec();
    if indices.iter().any(|&i| i as usize >= item_ids.len()) {
        return Err(format!("{USERS_FILE}: seen_items refer to unknown items"));
    }
    let item_users = column(&items, "users", ITEMS_FILE)?
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| format!("{ITEMS_FILE}: users is not UInt32"))?
        .values()
        .to_vec();
    let category = column(&items, "category", ITEMS_FILE)?;
    let category = category
        .as_string_opt::<i32>()
        .ok_or_else(|| format!("{ITEMS_FILE}: category is not text"))?;
    let item_category: Vec<Option<String>> =
        category.iter().map(|c| c.map(str::to_string)).collect();
    let user_bias = f32s(column(&users, "bias", USERS_FILE)?, USERS_FILE)?;
    let item_bias = f32s(column(&items, "bias", ITEMS_FILE)?, ITEMS_FILE)?;
    let n_users = user_ids.len();
    let n_items = item_ids.len();
    if user_factors.nrows() != n_users
        || user_bias.len() != n_users
        || indptr.len() != n_users + 1
        || item_factors.nrows() != n_items
        || item_bias.len() != n_items
        || item_users.len() != n_items
    {
        return Err("the model files disagree on the number of users or items".into());
    }
    Ok(MatrixFactorizationModel::new(
        feedback,
        user_ids,
        item_ids,
        Factors {
            users: user_factors,
            items: item_factors,
            user_bias,
            item_bias,
            global_mean: number("global_mean")?,
        },
        number("regularization")?,
        number("alpha")?,
        item_users,
        item_category,
        Csr {
            indptr,
            indices,
            values,
        },
    ))
}
