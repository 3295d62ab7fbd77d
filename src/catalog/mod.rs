//! Turning the data folder into tables.
//!
//! Rules (also in the README):
//! - every `*.parquet` or `*.csv` file directly in the folder is a table named
//!   after its file stem;
//! - every sub-folder holding such files (at any depth, Hive-style
//!   `key=value/` partitions included) is one table named after the folder;
//!   `key=value` path parts become text columns;
//! - names are lower-cased; characters other than letters, digits and `_`
//!   become `_`; a name starting with a digit gets a `t_` prefix;
//! - entries whose names start with `_` or `.` are skipped (the model store
//!   lives in `_models/`; Spark writes `_SUCCESS` and `.crc` files);
//! - a name clash, an unreadable file or a folder mixing formats or
//!   partition layouts is reported with its path and skips only that table.

mod data_folder_store;
pub mod information_schema;
pub mod models_view;
pub mod pg_class;
pub mod pg_index;
pub mod pg_proc;
pub mod pg_type;
pub mod relation_files;
pub mod roles;
mod rows;

pub use data_folder_store::DataFolderStore;
pub use relation_files::RelationFiles;

/// The words of every refusal of a path outside the data folder.
pub const OUTSIDE_DATA_FOLDER: &str = "SQL can only read and write files inside the data folder";

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

/// A file format ecomsql registers tables for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataFormat {
    Parquet,
    Csv,
}

impl DataFormat {
    fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" => Some(Self::Parquet),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Parquet => ".parquet",
            Self::Csv => ".csv",
        }
    }

    fn file_format(self) -> Arc<dyn FileFormat> {
        match self {
            Self::Parquet => Arc::new(ParquetFormat::default()),
            Self::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Parquet => "parquet",
            Self::Csv => "csv",
        })
    }
}

/// A table found in the data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    pub name: String,
    pub path: PathBuf,
    pub format: DataFormat,
    /// Hive-style partition columns, outermost first.
    pub partition_columns: Vec<String>,
}

/// A file or folder that did not become a table, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationProblem {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for RegistrationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// What registering a data folder did.
#[derive(Debug, Clone, Default)]
pub struct RegistrationReport {
    pub tables: Vec<DataTable>,
    pub problems: Vec<RegistrationProblem>,
}

/// Register every table of `dir` in `ctx`. Only an unreadable `dir` itself is
/// an error; problems with single entries land in the report.
pub async fn register_data_folder(ctx: &SessionContext, dir: &Path) -> Result<RegistrationReport> {
    let mut report = RegistrationReport::default();
    let candidates = discover(dir, &mut report.problems)?;
    for table in candidates {
        match register_table(ctx, &table).await {
            Ok(()) => report.tables.push(table),
            Err(e) => report.problems.push(RegistrationProblem {
                path: table.path.clone(),
                message: format!("cannot be read as a {} table: {e}", table.format),
            }),
        }
    }
    Ok(report)
}

/// Find candidate tables, resolving name clashes (the first path in sorted
/// order keeps the name).
fn discover(dir: &Path, problems: &mut Vec<RegistrationProblem>) -> Result<Vec<DataTable>> {
    let mut entries = read_dir_sorted(dir).map_err(|e| {
        DataFusionError::Execution(format!("cannot read data folder {}: {e}", dir.display()))
    })?;
    entries.retain(|p| !is_hidden(p));

    let mut by_name: BTreeMap<String, DataTable> = BTreeMap::new();
    for path in entries {
        let found = if path.is_dir() {
            folder_table(&path, problems)
        } else {
            DataFormat::from_path(&path).map(|format| DataTable {
                name: String::new(),
                path: path.clone(),
                format,
                partition_columns: Vec::new(),
            })
        };
        let Some(mut table) = found else { continue };

        let raw_name = if path.is_dir() {
            path.file_name()
        } else {
            path.file_stem()
        };
        let Some(name) = raw_name
            .and_then(|n| n.to_str())
            .and_then(sanitize_table_name)
        else {
            problems.push(RegistrationProblem {
                path,
                message: "has no usable table name (needs a letter or digit)".into(),
            });
            continue;
        };
        if let Some(existing) = by_name.get(&name) {
            problems.push(RegistrationProblem {
                message: format!(
                    "table name \"{name}\" is already taken by {}; skipped",
                    existing.path.display()
                ),
                path,
            });
            continue;
        }
        table.name = name.clone();
        by_name.insert(name, table);
    }
    Ok(by_name.into_values().collect())
}

/// A folder is one table if every data file below it has the same format
/// and the same partition keys.
fn folder_table(dir: &Path, problems: &mut Vec<RegistrationProblem>) -> Option<DataTable> {
    let mut files = Vec::new();
    if let Err(e) = collect_files(dir, &mut files) {
        problems.push(RegistrationProblem {
            path: dir.to_path_buf(),
            message: format!("cannot be listed: {e}"),
        });
        return None;
    }
    let mut format: Option<DataFormat> = None;
    let mut partition_columns: Option<Vec<String>> = None;
    for file in &files {
        let Some(file_format) = DataFormat::from_path(file) else {
            continue;
        };
        if let Some(seen) = format
            && seen != file_format
        {
            problems.push(RegistrationProblem {
                path: dir.to_path_buf(),
                message: format!("mixes {seen} and {file_format} files; skipped"),
            });
            return None;
        }
        format = Some(file_format);

        let keys = partition_keys(dir, file);
        match &partition_columns {
            None => partition_columns = Some(keys),
            Some(seen) if *seen != keys => {
                problems.push(RegistrationProblem {
                    path: dir.to_path_buf(),
                    message: format!(
                        "has inconsistent partition folders ({} vs {}); skipped",
                        describe_keys(seen),
                        describe_keys(&keys)
                    ),
                });
                return None;
            }
            Some(_) => {}
        }
    }
    Some(DataTable {
        name: String::new(),
        path: dir.to_path_buf(),
        format: format?,
        partition_columns: partition_columns.unwrap_or_default(),
    })
}

fn describe_keys(keys: &[String]) -> String {
    if keys.is_empty() {
        "none".into()
    } else {
        keys.join("/")
    }
}

/// `key` of every `key=value` folder between `root` and `file`.
fn partition_keys(root: &Path, file: &Path) -> Vec<String> {
    let Ok(relative) = file.strip_prefix(root) else {
        return Vec::new();
    };
    let mut parts: Vec<_> = relative.components().collect();
    parts.pop(); // the file itself
    parts
        .into_iter()
        .filter_map(|c| c.as_os_str().to_str())
        .filter_map(|part| part.split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for path in read_dir_sorted(dir)? {
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with(['_', '.']))
}

/// The table name for a file stem or folder name, or `None` if nothing
/// usable is left.
pub fn sanitize_table_name(raw: &str) -> Option<String> {
    let mut name: String = raw
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.chars().any(char::is_alphanumeric) {
        return None;
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "t_");
    }
    Some(name)
}

async fn register_table(ctx: &SessionContext, table: &DataTable) -> Result<()> {
    let url = listing_url(&table.path)?;
    let partition_cols = table
        .partition_columns
        .iter()
        .map(|c| (c.clone(), DataType::Utf8))
        .collect();
    let options = ListingOptions::new(table.format.file_format())
        .with_file_extension(table.format.extension())
        .with_table_partition_cols(partition_cols);
    let state = ctx.state();
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .infer_schema(&state)
        .await?;
    let provider = ListingTable::try_new(config)?;
    ctx.register_table(table.name.as_str(), Arc::new(provider))?;
    Ok(())
}

fn listing_url(path: &Path) -> Result<ListingTableUrl> {
    let absolute = std::fs::canonicalize(path)?;
    let mut text = absolute.to_string_lossy().into_owned();
    // A trailing slash is how ListingTableUrl tells a folder from a file.
    if absolute.is_dir() && !text.ends_with('/') {
        text.push('/');
    }
    ListingTableUrl::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_cased_and_sanitised() {
        assert_eq!(
            sanitize_table_name("Daily Sales"),
            Some("daily_sales".into())
        );
        assert_eq!(
            sanitize_table_name("2024-orders"),
            Some("t_2024_orders".into())
        );
        assert_eq!(sanitize_table_name("订单"), Some("订单".into()));
        assert_eq!(sanitize_table_name("--"), None);
    }

    #[test]
    fn partition_keys_come_from_key_value_folders() {
        let root = Path::new("/d/events");
        let file = Path::new("/d/events/year=2024/month=05/part-0.parquet");
        assert_eq!(partition_keys(root, file), vec!["year", "month"]);
        let plain = Path::new("/d/events/raw/part-0.parquet");
        assert!(partition_keys(root, plain).is_empty());
    }
}
