/*!
Binlog rows events → tape [`RowChange`]s: column names, signedness and value conversion.

This is the part both binlog paths share: the file reader
([`BinlogFile`](crate::binlog::BinlogFile)) and the live recorder, which streams the same
mysql_common events through `mysql_async`'s binlog feature. A [`RowDecoder`] remembers the
table map events it is given and turns each rows event of a mapped table into one
[`RowChange`] per row.

Where the names and types come from, best first:

1. the table map's own optional metadata (`binlog_row_metadata=FULL` on MySQL 8 and MariaDB
   ≥ 10.5): column names, signedness and ENUM/SET members, exact at the time of the event;
2. the [`Schema`] (a DDL file, or `information_schema` for the live recorder), when it defines
   the table with as many columns as the table map has;
3. otherwise `@1..@n` and signed integers; ENUM values stay their index, SET values their bit
   mask.

Values keep the database's representation: DECIMAL as its exact text, DATE/DATETIME as
[`DateTime`](cachetape_tape::DateTime), TIMESTAMP as µs since the epoch, TIME as µs, MySQL's
binary JSON as JSON text, and MariaDB's JSON (a LONGTEXT) as
[`Value::Json`](cachetape_tape::Value::Json) only when the schema says the column holds JSON.
Partial images (`binlog_row_image=MINIMAL` or `NOBLOB`) carry only the columns the binlog sent.

Files: this one holds the [`RowDecoder`] (table maps remembered by id, rows events decoded);
`layout.rs` decides each table's [`TableLayout`] from its table map and the schema; `convert.rs`
turns one row image's values into tape values.
*/

mod convert;
mod layout;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cachetape_tape::{RowChange, RowOp};
use mysql_async::binlog::events::{RowsEventData, TableMapEvent};

pub use layout::TableLayout;

use crate::schema::Schema;

/// Why a rows event could not be turned into row changes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RowsError {
    /// A rows event came without the table map event that must precede it.
    #[error(
        "a rows event names table id {table_id}, but no table map event for it came before: the \
         binlog was read from the middle of a transaction; start reading at a transaction \
         boundary (the position of a GTID or BEGIN event, or the start of a file)"
    )]
    NoTableMap {
        /// The table id the rows event names.
        table_id: u64,
    },
    /// The table map event describes columns this reader cannot decode.
    #[error("cannot decode rows of {table}: its table map event {problem}")]
    BadTableMap {
        /// `db.table`.
        table: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A row's bytes do not match its table map (a corrupt event, or a type this reader does not
    /// know).
    #[error("cannot decode a row of {table}: {problem}")]
    BadRow {
        /// `db.table`.
        table: String,
        /// What failed.
        problem: String,
    },
}

/// Where a table's column names came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnNames {
    /// The table map event's optional metadata (`binlog_row_metadata=FULL`).
    Binlog,
    /// The schema.
    Schema,
    /// Neither: `@1..@n`.
    Positional,
}

/// Turns rows events into [`RowChange`]s, given the table map events before them.
#[derive(Debug, Default)]
pub struct RowDecoder {
    schema: Option<Arc<Schema>>,
    tables: HashMap<u64, TableLayout>,
    warnings: Vec<String>,
    warned: HashSet<String>,
}

impl RowDecoder {
    /// A decoder that takes column names from `schema` when the binlog lacks them.
    pub fn new(schema: Option<Arc<Schema>>) -> RowDecoder {
        RowDecoder { schema, ..RowDecoder::default() }
    }

    /// Replaces the schema (the live recorder re-reads it after DDL). Tables mapped before keep
    /// their layout until their next table map event.
    pub fn set_schema(&mut self, schema: Option<Arc<Schema>>) {
        self.schema = schema;
    }

    /// The schema in use.
    pub fn schema(&self) -> Option<&Arc<Schema>> {
        self.schema.as_ref()
    }

    /// Remembers a table map event; the rows events after it name its table id.
    pub fn table_map(&mut self, tme: TableMapEvent<'_>) -> &TableLayout {
        let table_id = tme.table_id();
        let reuse = self.tables.get(&table_id).is_some_and(|layout| layout.tme == tme);
        if !reuse {
            let layout = self.build_layout(tme.into_owned());
            self.tables.insert(table_id, layout);
        }
        &self.tables[&table_id]
    }

    /// Forgets every table map (a new binlog file, a real rotate).
    pub fn forget_tables(&mut self) {
        self.tables.clear();
    }

    /// The layout of a mapped table id.
    pub fn layout(&self, table_id: u64) -> Option<&TableLayout> {
        self.tables.get(&table_id)
    }

    /// Problems noticed while decoding (a schema that does not match a table map, partial JSON
    /// updates that could not be applied), each reported once; drains them.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn_once(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            self.warnings.push(message);
        }
    }

    /// The row changes of one rows event: one per row, all with transaction number `txn` and
    /// the event header's seconds `header_secs`.
    pub fn decode(
        &mut self,
        rows: &RowsEventData<'_>,
        txn: u64,
        header_secs: u32,
    ) -> Result<Vec<RowChange>, RowsError> {
        let table_id = rows.table_id();
        let Some(layout) = self.tables.get(&table_id) else {
            if rows.rows_data().is_empty() {
                return Ok(Vec::new()); // the dummy end-of-statement event
            }
            return Err(RowsError::NoTableMap { table_id });
        };
        if let Some(problem) = &layout.problem {
            return Err(RowsError::BadTableMap {
                table: layout.table.to_string(),
                problem: problem.clone(),
            });
        }
        let op = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => RowOp::Insert,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                RowOp::Delete
            }
            _ => RowOp::Update,
        };
        let bad_row =
            |problem: String| RowsError::BadRow { table: layout.table.to_string(), problem };
        let n_columns = layout.columns.len();
        if rows.num_columns() > n_columns as u64 {
            return Err(bad_row(format!(
                "the rows event has {} columns but its table map has {n_columns}",
                rows.num_columns()
            )));
        }
        let before_columns: Vec<usize> =
            rows.columns_before_image().map(|b| b.iter_ones().collect()).unwrap_or_default();
        let after_columns: Vec<usize> =
            rows.columns_after_image().map(|b| b.iter_ones().collect()).unwrap_or_default();
        let mut changes = Vec::new();
        let mut partial_json = false;
        for row in rows.rows(&layout.tme) {
            let (before, after) = row.map_err(|e| bad_row(e.to_string()))?;
            let before = match before {
                Some(r) => Some(convert::image(layout, &before_columns, r, &mut partial_json)?),
                None => None,
            };
            let after = match after {
                Some(r) => Some(convert::image(layout, &after_columns, r, &mut partial_json)?),
                None => None,
            };
            changes.push(RowChange {
                table: layout.table.clone(),
                op,
                before,
                after,
                txn,
                header_secs,
            });
        }
        if partial_json {
            let table = layout.table.to_string();
            self.warn_once(
                format!("partial-json {table}"),
                format!(
                    "{table}: some JSON columns were logged as partial updates \
                     (binlog_row_value_options=PARTIAL_JSON), which carry only the change, not \
                     the value; those columns are left out of the after images. Set \
                     binlog_row_value_options='' on the server to log whole values"
                ),
            );
        }
        Ok(changes)
    }

    /// Builds the layout of a table from its table map event and the schema.
    fn build_layout(&mut self, tme: TableMapEvent<'static>) -> TableLayout {
        let (layout, warning) = TableLayout::build(tme, self.schema.as_deref());
        if let Some(w) = warning {
            self.warn_once(w.key, w.message);
        }
        layout
    }
}
