//! Loaded models, cached per process and reloaded when the store says the
//! active version changed (another process replaced, rolled back or
//! re-created the model).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::ar::{self, model::ArModel};
use super::logistic_regression::{self, LogisticModel};
use super::matrix_factorization::{self, MatrixFactorizationModel};
use super::text_classifier::{self, model::TextClassifier};
use super::{ModelMeta, ModelStore};
use crate::error::{SqlError, SqlState};

/// A model ready to score.
#[derive(Debug)]
pub struct LoadedModel {
    pub meta: ModelMeta,
    pub kind: ModelKind,
}

#[derive(Debug)]
pub enum ModelKind {
    LogisticRegression(LogisticModel),
    MatrixFactorization(Box<MatrixFactorizationModel>),
    Ar(ArModel),
    TextClassifier(Box<TextClassifier>),
}

impl LoadedModel {
    pub fn logistic(&self) -> Option<&LogisticModel> {
        match &self.kind {
            ModelKind::LogisticRegression(m) => Some(m),
            _ => None,
        }
    }

    pub fn ar(&self) -> Option<&ArModel> {
        match &self.kind {
            ModelKind::Ar(m) => Some(m),
            _ => None,
        }
    }

    pub fn text_classifier(&self) -> Option<&TextClassifier> {
        match &self.kind {
            ModelKind::TextClassifier(m) => Some(m),
            _ => None,
        }
    }

    pub fn matrix_factorization(&self) -> Option<&MatrixFactorizationModel> {
        match &self.kind {
            ModelKind::MatrixFactorization(m) => Some(m),
            _ => None,
        }
    }
}

struct Cached {
    stamp: (u64, SystemTime),
    model: Arc<LoadedModel>,
}

/// The model store plus a cache of loaded models.
pub struct ModelRegistry {
    store: ModelStore,
    cache: Mutex<HashMap<String, Cached>>,
}

impl ModelRegistry {
    pub fn new(store: ModelStore) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    /// The active version of `name`, loaded once per version. Costs one
    /// small file read and one stat when cached.
    pub fn get(&self, name: &str) -> Result<Arc<LoadedModel>, SqlError> {
        let stamp = self.store.stamp(name)?;
        if let Ok(cache) = self.cache.lock()
            && let Some(cached) = cache.get(name)
            && cached.stamp == stamp
        {
            return Ok(Arc::clone(&cached.model));
        }
        let model = Arc::new(self.load(name, stamp.0)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                name.to_string(),
                Cached {
                    stamp,
                    model: Arc::clone(&model),
                },
            );
        }
        Ok(model)
    }

    fn load(&self, name: &str, version: u64) -> Result<LoadedModel, SqlError> {
        let meta = self.store.meta(name, version)?;
        let kind = match meta.model_type.as_str() {
            logistic_regression::MODEL_TYPE => {
                let weights =
                    self.store
                        .read_file(name, version, logistic_regression::WEIGHTS_FILE)?;
                ModelKind::LogisticRegression(LogisticModel::load(&meta, &weights).map_err(
                    |e| {
                        SqlError::new(
                            SqlState::DATA_EXCEPTION,
                            format!("model \"{name}\" cannot be loaded: {}", e.message),
                        )
                    },
                )?)
            }
            matrix_factorization::MODEL_TYPE => {
                use matrix_factorization::storage;
                let users = self.store.read_file(name, version, storage::USERS_FILE)?;
                let items = self.store.read_file(name, version, storage::ITEMS_FILE)?;
                let cannot = |e: SqlError| {
                    SqlError::new(
                        SqlState::DATA_EXCEPTION,
                        format!("model \"{name}\" cannot be loaded: {}", e.message),
                    )
                };
                let mut model = storage::load(&users, &items).map_err(cannot)?;
                if meta.options.contains_key("content_query") {
                    let bytes = self.store.read_file(
                        name,
                        version,
                        matrix_factorization::content::CONTENT_FILE,
                    )?;
                    model.content = Some(
                        matrix_factorization::content::Content::load(&bytes, model.items.len())
                            .map_err(cannot)?,
                    );
                }
                ModelKind::MatrixFactorization(Box::new(model))
            }
            ar::MODEL_TYPE => {
                let bytes = self
                    .store
                    .read_file(name, version, ar::model::SERIES_FILE)?;
                ModelKind::Ar(ar::model::load(&bytes).map_err(|e| {
                    SqlError::new(
                        SqlState::DATA_EXCEPTION,
                        format!("model \"{name}\" cannot be loaded: {}", e.message),
                    )
                })?)
            }
            text_classifier::MODEL_TYPE => {
                let bytes =
                    self.store
                        .read_file(name, version, text_classifier::model::WEIGHTS_FILE)?;
                ModelKind::TextClassifier(Box::new(TextClassifier::load(&meta, &bytes).map_err(
                    |e| {
                        SqlError::new(
                            SqlState::DATA_EXCEPTION,
                            format!("model \"{name}\" cannot be loaded: {}", e.message),
                        )
                    },
                )?))
            }
            other => {
                return Err(SqlError::new(
                    SqlState::DATA_EXCEPTION,
                    format!(
                        "model \"{name}\" has model_type '{other}', which this ecomsql cannot load"
                    ),
                ));
            }
        };
        Ok(LoadedModel { meta, kind })
    }
}
