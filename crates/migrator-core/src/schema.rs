//! Schema snapshots: a normalized, comparable description of a database schema, and a diff
//! that reads in words.
//!
//! Backends read their catalogs into a [`Schema`] (one entry per object: table, column,
//! constraint, index, view, function, trigger, sequence, enum, extension, with a normalized
//! definition). Two snapshots compare with [`Schema::diff`]; reversibility checks and drift
//! detection are built on it. Migrator's own `_migrator_*` objects are left out by backends.

use std::collections::BTreeMap;
use std::fmt;

/// What kind of object a snapshot entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A table (its definition is its kind: table, partitioned table).
    Table,
    /// A column, named `table.column`.
    Column,
    /// A constraint (primary key, unique, check, foreign key), named `table.constraint`.
    Constraint,
    /// An index.
    Index,
    /// A view or materialized view.
    View,
    /// A function or procedure, named with its argument types.
    Function,
    /// A trigger, named `table.trigger`.
    Trigger,
    /// A sequence.
    Sequence,
    /// An enum type (its labels, in order).
    Enum,
    /// A composite or domain type.
    Type,
    /// An extension.
    Extension,
}

impl ObjectKind {
    /// The word used in messages.
    pub const fn word(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Enum => "enum",
            ObjectKind::Type => "type",
            ObjectKind::Extension => "extension",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A snapshot of a schema: every object with its normalized definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    objects: BTreeMap<(ObjectKind, String), String>,
}

impl Schema {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an object. Whitespace runs in the definition are collapsed, so formatting
    /// differences in catalog output do not count.
    pub fn insert(&mut self, kind: ObjectKind, name: impl Into<String>, definition: impl AsRef<str>) {
        let definition = definition.as_ref().split_whitespace().collect::<Vec<_>>().join(" ");
        self.objects.insert((kind, name.into()), definition);
    }

    /// The definition of an object.
    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&str> {
        self.objects.get(&(kind, name.to_owned())).map(String::as_str)
    }

    /// Every object, ordered by kind and name.
    pub fn objects(&self) -> impl Iterator<Item = (ObjectKind, &str, &str)> {
        self.objects.iter().map(|((kind, name), definition)| (*kind, name.as_str(), definition.as_str()))
    }

    /// How many objects there are.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the snapshot is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// What changed from `self` (before) to `after`: objects added, removed or changed,
    /// ordered by kind (tables first) and name.
    pub fn diff(&self, after: &Schema) -> Vec<Difference> {
        let mut differences = Vec::new();
        for ((kind, name), before) in &self.objects {
            match after.objects.get(&(*kind, name.clone())) {
                None => differences.push(Difference {
                    kind: *kind,
                    name: name.clone(),
                    change: Change::Removed { definition: before.clone() },
                }),
                Some(now) if now != before => differences.push(Difference {
                    kind: *kind,
                    name: name.clone(),
                    change: Change::Changed { before: before.clone(), after: now.clone() },
                }),
                Some(_) => {}
            }
        }
        for ((kind, name), definition) in &after.objects {
            if !self.objects.contains_key(&(*kind, name.clone())) {
                differences.push(Difference {
                    kind: *kind,
                    name: name.clone(),
                    change: Change::Added { definition: definition.clone() },
                });
            }
        }
        differences.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        differences
    }
}

/// How one object differs between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Present only in the second snapshot.
    Added {
        /// Its definition.
        definition: String,
    },
    /// Present only in the first snapshot.
    Removed {
        /// Its definition.
        definition: String,
    },
    /// Present in both with different definitions.
    Changed {
        /// The first definition.
        before: String,
        /// The second definition.
        after: String,
    },
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The kind of object.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// What changed.
    pub change: Change,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Added { definition } => write!(f, "{} {} ({definition})", self.kind, self.name),
            Change::Removed { definition } => write!(f, "{} {} ({definition})", self.kind, self.name),
            Change::Changed { before, after } => {
                write!(f, "{} {}: `{before}` became `{after}`", self.kind, self.name)
            }
        }
    }
}

/// Describes a difference from `expected` to `actual` in words, for reports such as
/// "down of 20261120_add_index left index idx_users_email".
pub fn describe(difference: &Difference, added: &str, removed: &str, changed: &str) -> String {
    match &difference.change {
        Change::Added { .. } => format!("{added} {} {}", difference.kind, difference.name),
        Change::Removed { .. } => format!("{removed} {} {}", difference.kind, difference.name),
        Change::Changed { before, after } => {
            format!("{changed} {} {} (`{before}` instead of `{after}`)", difference.kind, difference.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(objects: &[(ObjectKind, &str, &str)]) -> Schema {
        let mut s = Schema::new();
        for (kind, name, definition) in objects {
            s.insert(*kind, *name, definition);
        }
        s
    }

    #[test]
    fn diffs_in_order_with_words() {
        let before = schema(&[
            (ObjectKind::Table, "users", "table"),
            (ObjectKind::Column, "users.email", "text not null"),
            (ObjectKind::Column, "users.name", "text default 'x'"),
        ]);
        let after = schema(&[
            (ObjectKind::Table, "users", "table"),
            (ObjectKind::Column, "users.email", "text   not\nnull"),
            (ObjectKind::Column, "users.name", "text"),
            (ObjectKind::Index, "idx_users_email", "CREATE INDEX idx_users_email ON users USING btree (email)"),
        ]);
        let diff = before.diff(&after);
        assert_eq!(diff.len(), 2, "whitespace does not count: {diff:?}");
        assert_eq!(diff[0].kind, ObjectKind::Column);
        assert_eq!(diff[0].to_string(), "column users.name: `text default 'x'` became `text`");
        assert_eq!(diff[1].kind, ObjectKind::Index);
        assert_eq!(describe(&diff[1], "left", "dropped", "changed"), "left index idx_users_email");
        assert_eq!(
            describe(&diff[0], "left", "dropped", "changed"),
            "changed column users.name (`text default 'x'` instead of `text`)"
        );
        assert!(after.diff(&after).is_empty());
        let removed = after.diff(&before);
        assert!(matches!(removed[1].change, Change::Removed { .. }));
    }
}
