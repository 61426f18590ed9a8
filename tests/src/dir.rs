//! Migration directories written by tests.

use std::path::{Path, PathBuf};

use migrator_core::{Dialect, MigrationSet};

/// A temporary migrations directory.
#[derive(Debug)]
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    /// An empty directory.
    pub fn new() -> Self {
        Dir { dir: tempfile::tempdir().unwrap() }
    }

    /// Writes `{version}_{name}.up.sql`.
    pub fn up(&self, version: i64, name: &str, sql: &str) -> &Self {
        self.write(&format!("{version}_{name}.up.sql"), sql)
    }

    /// Writes `{version}_{name}.down.sql`.
    pub fn down(&self, version: i64, name: &str, sql: &str) -> &Self {
        self.write(&format!("{version}_{name}.down.sql"), sql)
    }

    /// Writes a file.
    pub fn write(&self, file: &str, text: &str) -> &Self {
        std::fs::write(self.path().join(file), text).unwrap();
        self
    }

    /// Removes a file.
    pub fn remove(&self, file: &str) -> &Self {
        std::fs::remove_file(self.path().join(file)).unwrap();
        self
    }

    /// Reads a file.
    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap()
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of a file in it.
    pub fn file(&self, file: &str) -> PathBuf {
        self.path().join(file)
    }

    /// Loads the directory as a migration set.
    pub fn set<C: ?Sized + 'static>(&self, dialect: Dialect) -> MigrationSet<C> {
        MigrationSet::from_dir(self.path(), dialect).unwrap()
    }
}
