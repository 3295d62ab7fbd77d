//! Which files hold each table, by its `pg_class` oid, for
//! `pg_table_size` and friends.
//!
//! datafusion-pg-catalog hands out table oids as it builds `pg_class` and
//! keeps the mapping to itself; ecomsql's `pg_class` ([`super::pg_class`])
//! records, on each scan, the local paths of the tables it lists. A size
//! asked for by oid therefore finds the oid the client read from
//! `pg_class` (psql's `\dt+` reads both in one query).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// oid → the files or folders of a table in the data folder, and every
/// listed relation's schema (for `pg_table_is_visible`).
#[derive(Debug, Default, Clone)]
pub struct RelationFiles {
    paths: Arc<RwLock<HashMap<i32, Vec<PathBuf>>>>,
    schemas: Arc<RwLock<HashMap<i32, String>>>,
}

impl RelationFiles {
    pub fn record_schema(&self, oid: i32, schema: &str) {
        if let Ok(mut map) = self.schemas.write()
            && map.get(&oid).is_none_or(|s| s != schema)
        {
            map.insert(oid, schema.to_string());
        }
    }

    /// The schema of the relation with `oid`, if a `pg_class` scan listed it.
    pub fn schema_of(&self, oid: i32) -> Option<String> {
        self.schemas.read().ok()?.get(&oid).cloned()
    }

    pub fn record(&self, oid: i32, paths: Vec<PathBuf>) {
        if let Ok(mut map) = self.paths.write() {
            map.insert(oid, paths);
        }
    }

    /// Bytes on disk of the table with `oid`; None for an oid no scan of
    /// `pg_class` has shown as one of the data folder's tables.
    pub fn size(&self, oid: i32) -> Option<u64> {
        let paths = self.paths.read().ok()?.get(&oid)?.clone();
        Some(paths.iter().map(|p| bytes_under(p)).sum())
    }
}

/// A file's length, or the sum over a folder's data files (names starting
/// with `_` or `.` are not data, as when tables are registered).
fn bytes_under(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('_') && !name.starts_with('.')
        })
        .map(|e| bytes_under(&e.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_of_files_and_folders_skip_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.parquet"), [0u8; 100]).unwrap();
        std::fs::create_dir(dir.path().join("part")).unwrap();
        std::fs::write(dir.path().join("part/b.parquet"), [0u8; 20]).unwrap();
        std::fs::write(dir.path().join("_SUCCESS"), [0u8; 7]).unwrap();
        std::fs::write(dir.path().join(".crc"), [0u8; 5]).unwrap();
        let files = RelationFiles::default();
        files.record(1, vec![dir.path().join("a.parquet")]);
        files.record(2, vec![dir.path().to_path_buf()]);
        assert_eq!(files.size(1), Some(100));
        assert_eq!(files.size(2), Some(120));
        assert_eq!(files.size(3), None);
    }
}
