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
//! store; nothing in it depends on the process that wrote it. Writes are
//! atomic: see [`ModelStore::write_version`].

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
    /// The Arrow type the feature had in the training query, e.g. `Float64`.
    pub data_type: String,
    /// How the model uses it: `numeric`, `boolean` or `categorical`.
    #[serde(default)]
    pub kind: String,
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
    /// The metric `SHOW MODELS` shows (e.g. `validation_roc_auc`).
    pub headline_metric: Option<String>,
    /// For classifiers: the label column and its classes, positive first.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub classes: Vec<String>,
    /// Seconds training took.
    #[serde(default)]
    pub training_seconds: f64,
}

/// The model folder.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

/// A file of a model version besides `model.json` (weights, vocabularies).
pub struct ModelFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

impl ModelFile {
    /// One record batch as an Arrow IPC file (the format of every model
    /// file but `model.json`).
    pub fn arrow(
        name: &'static str,
        batch: &datafusion::arrow::array::RecordBatch,
    ) -> datafusion::error::Result<Self> {
        let mut bytes = Vec::new();
        {
            let mut writer =
                datafusion::arrow::ipc::writer::FileWriter::try_new(&mut bytes, &batch.schema())?;
            writer.write(batch)?;
            writer.finish()?;
        }
        Ok(Self { name, bytes })
    }
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn model_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The folder of one version of a model.
    pub fn version_path(&self, name: &str, version: u64) -> PathBuf {
        self.model_dir(name).join(version_dir(version))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.model_dir(name).join("CURRENT").is_file()
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

    /// The active version of a model (42704 if there is no such model).
    pub fn current_version(&self, name: &str) -> Result<u64, SqlError> {
        let current = self.model_dir(name).join("CURRENT");
        let text = match std::fs::read_to_string(&current) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_model(name)),
            Err(e) => return Err(io_error(&current, &e)),
        };
        text.trim().parse().map_err(|_| {
            corrupt(
                name,
                format!("{} does not hold a version number", current.display()),
            )
        })
    }

    /// Every stored version of a model, oldest first.
    pub fn versions(&self, name: &str) -> Result<Vec<u64>, SqlError> {
        let dir = self.model_dir(name);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_model(name)),
            Err(e) => return Err(io_error(&dir, &e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, &e))?;
            let file_name = entry.file_name();
            let Some(number) = file_name.to_str().and_then(|n| n.strip_prefix('v')) else {
                continue;
            };
            if let Ok(version) = number.parse::<u64>()
                && entry.path().join("model.json").is_file()
            {
                versions.push(version);
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    /// Metadata of a model's active version.
    pub fn current_meta(&self, name: &str) -> Result<ModelMeta, SqlError> {
        let version = self.current_version(name)?;
        self.meta(name, version)
    }

    /// Metadata of one version.
    pub fn meta(&self, name: &str, version: u64) -> Result<ModelMeta, SqlError> {
        let path = self.version_path(name, version).join("model.json");
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => corrupt(
                name,
                format!("version {version} is missing ({})", path.display()),
            ),
            _ => io_error(&path, &e),
        })?;
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

    /// A file of one version.
    pub fn read_file(&self, name: &str, version: u64, file: &str) -> Result<Vec<u8>, SqlError> {
        let path = self.version_path(name, version).join(file);
        std::fs::read(&path).map_err(|e| corrupt(name, format!("{}: {e}", path.display())))
    }

    /// A change stamp of the active version: it differs whenever another
    /// process replaces, rolls back, or drops and re-creates the model.
    pub fn stamp(&self, name: &str) -> Result<(u64, std::time::SystemTime), SqlError> {
        let version = self.current_version(name)?;
        let path = self.version_path(name, version).join("model.json");
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| corrupt(name, format!("{}: {e}", path.display())))?;
        Ok((version, modified))
    }

    /// Store a new version and make it the active one. Every file is written
    /// and synced in a temporary folder that is renamed into place, and only
    /// then does `CURRENT` move (itself by rename), so a crash at any point
    /// leaves the previous version active and whole.
    pub fn write_version(
        &self,
        mut meta: ModelMeta,
        files: &[ModelFile],
    ) -> Result<ModelMeta, SqlError> {
        let name = meta.name.clone();
        let model_dir = self.model_dir(&name);
        std::fs::create_dir_all(&model_dir).map_err(|e| io_error(&model_dir, &e))?;
        let tmp = model_dir.join(format!(".tmp-{}-{}", std::process::id(), unique_suffix()));
        std::fs::create_dir(&tmp).map_err(|e| io_error(&tmp, &e))?;
        let result = self.fill_and_publish(&mut meta, &model_dir, &tmp, files);
        if result.is_err() {
            // Best effort: a leftover temporary folder is ignored by readers.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map(|()| meta)
    }

    fn fill_and_publish(
        &self,
        meta: &mut ModelMeta,
        model_dir: &Path,
        tmp: &Path,
        files: &[ModelFile],
    ) -> Result<(), SqlError> {
        for file in files {
            write_synced(&tmp.join(file.name), &file.bytes)?;
        }
        // Another writer may take a version number first: take the next one.
        let mut version = self
            .versions(&meta.name)
            .unwrap_or_default()
            .last()
            .copied()
            .unwrap_or(0)
            + 1;
        for _ in 0..100 {
            meta.version = version;
            let json = serde_json::to_vec_pretty(&*meta)
                .map_err(|e| SqlError::new(SqlState::INTERNAL_ERROR, e.to_string()))?;
            write_synced(&tmp.join("model.json"), &json)?;
            sync_dir(tmp)?;
            let target = model_dir.join(version_dir(version));
            match std::fs::rename(tmp, &target) {
                Ok(()) => {
                    sync_dir(model_dir)?;
                    return self.set_current(&meta.name, version);
                }
                Err(_) if target.exists() => version += 1,
                Err(e) => return Err(io_error(&target, &e)),
            }
        }
        Err(SqlError::new(
            SqlState::IO_ERROR,
            format!(
                "could not find a free version number for model \"{}\"",
                meta.name
            ),
        ))
    }

    /// Make `version` the active version (`ALTER MODEL ... SET VERSION`).
    pub fn set_current(&self, name: &str, version: u64) -> Result<(), SqlError> {
        if !self
            .version_path(name, version)
            .join("model.json")
            .is_file()
        {
            let known = self.versions(name)?;
            return Err(SqlError::new(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("model \"{name}\" has no version {version} (versions: {known:?})"),
            ));
        }
        let model_dir = self.model_dir(name);
        let tmp = model_dir.join(format!(
            ".CURRENT-{}-{}",
            std::process::id(),
            unique_suffix()
        ));
        write_synced(&tmp, format!("{version}\n").as_bytes())?;
        let current = model_dir.join("CURRENT");
        std::fs::rename(&tmp, &current).map_err(|e| io_error(&current, &e))?;
        sync_dir(&model_dir)
    }

    /// Remove a model and all its versions. Returns false if it did not
    /// exist. The folder is first renamed out of the way, so readers never
    /// see half a model.
    pub fn drop_model(&self, name: &str) -> Result<bool, SqlError> {
        let model_dir = self.model_dir(name);
        if !model_dir.join("CURRENT").is_file() {
            return Ok(false);
        }
        let trash = self
            .dir
            .join(format!(".dropped-{name}-{}", unique_suffix()));
        std::fs::rename(&model_dir, &trash).map_err(|e| io_error(&model_dir, &e))?;
        sync_dir(&self.dir)?;
        std::fs::remove_dir_all(&trash).map_err(|e| io_error(&trash, &e))?;
        Ok(true)
    }
}

fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), SqlError> {
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(|e| io_error(path, &e))?;
    file.write_all(bytes).map_err(|e| io_error(path, &e))?;
    file.sync_all().map_err(|e| io_error(path, &e))
}

/// Make a rename inside `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), SqlError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, &e))
}

/// 42704, as Postgres reports an unknown object.
pub fn no_such_model(name: &str) -> SqlError {
    SqlError::new(
        SqlState::UNDEFINED_OBJECT,
        format!("model \"{name}\" does not exist"),
    )
    .with_hint("SHOW MODELS lists the models")
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
