/*!
Database values and row images as the binlog gives them.

A row image is a list of cells, each a column name and a [`Value`]. The binlog carries no column
names; whoever builds a [`RowChange`](crate::RowChange) fills them from the schema (or `@1..@n`
when the schema is unknown). Values keep the database's own representation (a DECIMAL stays the
exact decimal text); normalizing for comparison with cached values is the analyzer's job.
*/

use std::fmt;
use std::sync::Arc;

/// A shared, immutable name: a client address, a table, a column, a node.
pub type Name = Arc<str>;

/// One column value of a row image.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer column (TINYINT … BIGINT, YEAR, BIT up to 64 bits).
    Int(i64),
    /// An unsigned integer column, when the schema says UNSIGNED.
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL, as its exact decimal text (`"9.99"`).
    Decimal(String),
    /// CHAR, VARCHAR, TEXT, BLOB, BINARY, ENUM/SET as stored: raw bytes.
    Bytes(Vec<u8>),
    /// DATE, DATETIME (local, no zone).
    DateTime(DateTime),
    /// TIMESTAMP: microseconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// TIME: a signed duration in microseconds.
    Time(i64),
    /// JSON, as JSON text.
    Json(String),
}

/// A calendar date and time without a zone, as DATE and DATETIME columns hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Year (0–9999).
    pub year: u16,
    /// Month (1–12, 0 in zero dates).
    pub month: u8,
    /// Day (1–31, 0 in zero dates).
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Microseconds.
    pub micros: u32,
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// One cell of a row image.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Column name (`@3` when the schema was unknown).
    pub column: Name,
    /// The value.
    pub value: Value,
}

/// A before or after image of one row: the cells the binlog carried, in column order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowImage {
    /// Cells in column order. With `binlog_row_image=FULL` every column is present.
    pub cells: Vec<Cell>,
}

impl RowImage {
    /// The value of `column`, if the image carries it.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.cells.iter().find(|c| &*c.column == column).map(|c| &c.value)
    }
}

/// The value a key held in Redis, as a snapshot probe read it.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredValue {
    /// The key did not exist.
    Missing,
    /// A string.
    String(Vec<u8>),
    /// A hash: field → value, in the order the probe read them.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set.
    Set(Vec<Vec<u8>>),
    /// A sorted set: member and score.
    SortedSet(Vec<(Vec<u8>, f64)>),
    /// A type the probe does not read (stream, module type): its TYPE name.
    Other(String),
}
