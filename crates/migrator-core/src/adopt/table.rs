//! The read a driver performs on another tool's table, and the rows it hands back. Drivers
//! decide only how their SQL reads each kind of column.

use crate::error::BoxError;
use crate::history::Ident;

use super::tool::{ForeignColumn, ForeignTool};

/// Another tool's history table, to read without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignTable {
    /// The tool that writes it.
    pub tool: ForeignTool,
    /// Its schema (PostgreSQL) or database (MySQL); `None`: the connection's current one.
    pub schema: Option<Ident>,
    /// Its name.
    pub name: Ident,
}

impl ForeignTable {
    /// The columns to read, in the order a row's cells come.
    pub fn columns(&self) -> &'static [ForeignColumn] {
        self.tool.columns()
    }

    /// The table's name qualified with `quote`, as drivers write it in SQL.
    pub fn qualified(&self, quote: char) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(quote), self.name.quoted(quote)),
            None => self.name.quoted(quote),
        }
    }
}

impl std::fmt::Display for ForeignTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// One value read from another tool's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// Bytes.
    Bytes(Vec<u8>),
}

/// One row of another tool's table: a cell per [`ForeignTable::columns`], in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRow {
    columns: &'static [ForeignColumn],
    cells: Vec<Cell>,
}

impl ForeignRow {
    /// A row of `table` read by a driver, one cell per column; `read(column)` reads each.
    pub fn read(
        table: &ForeignTable,
        mut read: impl FnMut(&ForeignColumn) -> Result<Cell, BoxError>,
    ) -> Result<ForeignRow, BoxError> {
        let columns = table.columns();
        let cells = columns.iter().map(&mut read).collect::<Result<Vec<_>, _>>()?;
        Ok(ForeignRow { columns, cells })
    }

    /// A row of `tool`'s table from its cells (tests, tools).
    pub fn from_cells(tool: ForeignTool, cells: Vec<Cell>) -> ForeignRow {
        ForeignRow { columns: tool.columns(), cells }
    }

    fn cell(&self, column: &str) -> &Cell {
        self.columns.iter().position(|c| c.name == column).and_then(|i| self.cells.get(i)).unwrap_or(&Cell::Null)
    }

    /// The integer in `column` (`None` for `NULL`; text holding an integer counts).
    pub fn int(&self, column: &str) -> Option<i64> {
        match self.cell(column) {
            Cell::Int(n) => Some(*n),
            Cell::Bool(b) => Some(i64::from(*b)),
            Cell::Text(t) => t.trim().parse().ok(),
            Cell::Null | Cell::Bytes(_) => None,
        }
    }

    /// The text in `column` (`None` for `NULL`; an integer reads as its digits).
    pub fn text(&self, column: &str) -> Option<String> {
        match self.cell(column) {
            Cell::Text(t) => Some(t.clone()),
            Cell::Int(n) => Some(n.to_string()),
            Cell::Bytes(b) => String::from_utf8(b.clone()).ok(),
            Cell::Null | Cell::Bool(_) => None,
        }
    }

    /// The boolean in `column` (an integer is true when not zero).
    pub fn bool(&self, column: &str) -> Option<bool> {
        match self.cell(column) {
            Cell::Bool(b) => Some(*b),
            Cell::Int(n) => Some(*n != 0),
            Cell::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" => Some(true),
                "0" | "f" | "false" => Some(false),
                _ => None,
            },
            Cell::Null | Cell::Bytes(_) => None,
        }
    }

    /// The bytes in `column`.
    pub fn bytes(&self, column: &str) -> Option<&[u8]> {
        match self.cell(column) {
            Cell::Bytes(b) => Some(b),
            Cell::Text(t) => Some(t.as_bytes()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_read_by_column_name_whatever_the_driver_returned() {
        let row = ForeignRow::from_cells(ForeignTool::GolangMigrate, vec![Cell::Int(3), Cell::Int(1)]);
        assert_eq!((row.int("version"), row.bool("dirty")), (Some(3), Some(true)));
        assert_eq!(row.int("nope"), None, "an unknown column reads as NULL");
        let row = ForeignRow::from_cells(ForeignTool::GolangMigrate, vec![Cell::Text("7".into()), Cell::Bool(false)]);
        assert_eq!(
            (row.int("version"), row.text("version"), row.bool("dirty")),
            (Some(7), Some("7".into()), Some(false))
        );
        let table = ForeignTable {
            tool: ForeignTool::Sqlx,
            schema: Some(Ident::new("s", "app").unwrap()),
            name: Ident::new("t", "_sqlx_migrations").unwrap(),
        };
        assert_eq!(table.qualified('`'), "`app`.`_sqlx_migrations`");
        assert_eq!(table.to_string(), "app._sqlx_migrations");
    }
}
