//! The model store: one folder per model under the model folder
//! (`<data>/_models/` by default).
//!
//! ```text
//! _models/
//!   <name>/
//!     CURRENT            the active version number, e.g. "3"
//!     v000001/model.json metadata of version 1 (see [`ModelMeta`])
//!     v000003/model.json ...
//! ```
//!
//! Any process (a server, the CLI, a future distributed worker) can read the
//! store; nothing in it depends on the process that wrote it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{SqlError, SqlState};

/// The on-disk format version this build reads and writes.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// One feature a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMeta {
    pub name: String,
    /// The SQL type the feature had in the training query, e.g. `Float64`.
    pub data_type: String,
}

/// `model.json`: everything about one model version except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format_version: u32,
    pub name: String,
    pub model_type: String,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub training_rows: u64,
    pub features: Vec<FeatureMeta>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// The metric `SHOW MODELS` shows (e.g. `validation_auc`).
    pub headline_metric: Option<String>,
}

/// The model folder.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the models in the store, sorted. A missing model folder is
    /// an empty store: it is created on the first `CREATE MODEL`.
    pub fn model_names(&self) -> Result<Vec<String>, SqlError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.dir, &e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&self.dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("CURRENT").is_file() && !name.starts_with(['.', '_']) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Metadata of a model's active version.
    pub fn current_meta(&self, name: &str) -> Result<ModelMeta, SqlError> {
        let model_dir = self.dir.join(name);
        let current = model_dir.join("CURRENT");
        let text = std::fs::read_to_string(&current).map_err(|e| io_error(&current, &e))?;
        let version: u64 = text.trim().parse().map_err(|_| {
            corrupt(
                name,
                format!("{} does not hold a version number", current.display()),
            )
        })?;
        let path = model_dir.join(version_dir(version)).join("model.json");
        let bytes = std::fs::read(&path).map_err(|e| io_error(&path, &e))?;
        let meta: ModelMeta = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(name, format!("{}: {e}", path.display())))?;
        if meta.format_version != MODEL_FORMAT_VERSION {
            return Err(corrupt(
                name,
                format!(
                    "{} has format version {}, this ecomsql reads version {MODEL_FORMAT_VERSION}",
                    path.display(),
                    meta.format_version
                ),
            ));
        }
        Ok(meta)
    }
}

/// The folder name of a version: zero-padded so folder listings sort.
pub fn version_dir(version: u64) -> String {
    format!("v{version:06}")
}

fn corrupt(name: &str, detail: String) -> SqlError {
    SqlError::new(
        SqlState::DATA_EXCEPTION,
        format!("model \"{name}\" cannot be loaded: {detail}"),
    )
}

fn io_error(path: &Path, e: &std::io::Error) -> SqlError {
    SqlError::new(SqlState::IO_ERROR, format!("{}: {e}", path.display()))
}
