/*!
A table's layout, decided once per table map event: each column's name (from the binlog's
optional metadata, else the schema, else `@n`), how its values are converted, its signedness and
ENUM/SET members; and the checks that keep a corrupt table map an error rather than a panic in
mysql_common's value decoder.
*/

use std::sync::Arc;

use cachetape_tape::Name;
use mysql_async::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_async::consts::ColumnType;

use super::ColumnNames;
use crate::schema::{Schema, Table};

/// How a value of a column is converted, decided once per table map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// TINYINT … BIGINT, with their width in bits.
    Integer(u32),
    Float,
    Double,
    Decimal,
    Timestamp,
    DateTime,
    Time,
    Year,
    Bit,
    Enum,
    Set,
    /// MySQL's binary JSON.
    Json,
    /// CHAR, VARCHAR, TEXT, BLOB, BINARY (and MariaDB's JSON, a LONGTEXT).
    Text,
    /// GEOMETRY, VECTOR and anything else mysql_common decodes.
    Other,
}

/// One column of a [`TableLayout`].
#[derive(Clone, Debug)]
pub(super) struct ColumnLayout {
    pub(super) name: Name,
    pub(super) kind: Kind,
    pub(super) unsigned: bool,
    pub(super) json: bool,
    pub(super) members: Vec<Vec<u8>>,
}

/// What a [`RowDecoder`](super::RowDecoder) knows about one mapped table.
#[derive(Clone, Debug)]
pub struct TableLayout {
    pub(super) tme: TableMapEvent<'static>,
    pub(super) table: Name,
    pub(super) columns: Vec<ColumnLayout>,
    pub(super) names: ColumnNames,
    /// Set when the table map cannot be decoded safely.
    pub(super) problem: Option<String>,
}

impl TableLayout {
    /// `db.table`.
    pub fn table(&self) -> &Name {
        &self.table
    }

    /// The column names, in table order.
    pub fn column_names(&self) -> impl Iterator<Item = &Name> {
        self.columns.iter().map(|c| &c.name)
    }

    /// Where the column names came from.
    pub fn names_from(&self) -> ColumnNames {
        self.names
    }

    /// Builds the layout of a table from its table map event and `schema`; with it, the warning
    /// to give (once) when the schema does not fit the table map.
    pub(super) fn build(
        tme: TableMapEvent<'static>,
        schema: Option<&Schema>,
    ) -> (TableLayout, Option<LayoutWarning>) {
        let database = tme.database_name().into_owned();
        let table_name = tme.table_name().into_owned();
        let qualified: Name = Arc::from(format!("{database}.{table_name}"));
        let n = tme.columns_count() as usize;
        let meta = BinlogMetadata::read(&tme);
        let named_by_binlog = meta.names.len() == n;
        let mut warning = None;
        let schema_table: Option<Table> = match schema {
            Some(schema) => match schema.table(&database, &table_name) {
                Some(t) if t.columns.len() == n => Some(t.clone()),
                Some(t) if !named_by_binlog => {
                    let message = format!(
                        "the schema file defines {} with {} columns, but the binlog's table map \
                         has {n}: the table changed after the schema was taken (or the schema is \
                         of another table); its columns are named @1..@{n}. Take the schema \
                         again (`mysqldump --no-data`) to name them",
                        t.qualified_name(),
                        t.columns.len()
                    );
                    warning =
                        Some(LayoutWarning { key: format!("count {qualified} {n}"), message });
                    None
                }
                None if !named_by_binlog => {
                    let message = format!(
                        "the schema file does not define {qualified}: its columns are named \
                         @1..@{n}; add its CREATE TABLE to the schema file to name them"
                    );
                    warning = Some(LayoutWarning { key: format!("missing {qualified}"), message });
                    None
                }
                _ => None,
            },
            None => None,
        };
        let names_from = if named_by_binlog {
            ColumnNames::Binlog
        } else if schema_table.is_some() {
            ColumnNames::Schema
        } else {
            ColumnNames::Positional
        };
        let mut problem = None;
        let mut columns = Vec::with_capacity(n);
        let (mut numeric, mut enums, mut sets) = (0usize, 0usize, 0usize);
        for i in 0..n {
            let column_type = match tme.get_column_type(i) {
                Ok(Some(t)) => t,
                Ok(None) | Err(_) => {
                    problem
                        .get_or_insert_with(|| format!("gives column {} an unknown type", i + 1));
                    ColumnType::MYSQL_TYPE_NULL
                }
            };
            if problem.is_none()
                && let Some(p) = metadata_problem(&tme, i, column_type)
            {
                problem = Some(format!("column {}: {p}", i + 1));
            }
            let schema_column = schema_table.as_ref().and_then(|t| t.columns.get(i));
            let name: Name = match names_from {
                ColumnNames::Binlog => Arc::from(String::from_utf8_lossy(&meta.names[i]).as_ref()),
                ColumnNames::Schema => Arc::from(
                    schema_column.map_or_else(|| format!("@{}", i + 1), |c| c.name.clone()),
                ),
                ColumnNames::Positional => Arc::from(format!("@{}", i + 1)),
            };
            let binlog_unsigned = if column_type.is_numeric_type() {
                numeric += 1;
                meta.signedness.as_ref().and_then(|s| s.get(numeric - 1).copied())
            } else {
                None
            };
            let unsigned =
                binlog_unsigned.unwrap_or_else(|| schema_column.is_some_and(|c| c.unsigned));
            let members = match column_type {
                ColumnType::MYSQL_TYPE_ENUM => {
                    enums += 1;
                    meta.enum_members.get(enums - 1).cloned()
                }
                ColumnType::MYSQL_TYPE_SET => {
                    sets += 1;
                    meta.set_members.get(sets - 1).cloned()
                }
                _ => None,
            }
            .or_else(|| {
                schema_column.map(|c| c.members.iter().map(|m| m.as_bytes().to_vec()).collect())
            })
            .unwrap_or_default();
            columns.push(ColumnLayout {
                name,
                kind: kind_of(column_type),
                unsigned,
                json: schema_column.is_some_and(|c| c.json),
                members,
            });
        }
        (TableLayout { tme, table: qualified, columns, names: names_from, problem }, warning)
    }
}

/// A warning about a table's names, with the key that makes it given once.
pub(super) struct LayoutWarning {
    /// Same key, same warning: given once per decoder.
    pub(super) key: String,
    /// The text for the terminal.
    pub(super) message: String,
}

/// What the table map's optional metadata says, where the server wrote it.
#[derive(Default)]
struct BinlogMetadata {
    names: Vec<Vec<u8>>,
    signedness: Option<Vec<bool>>,
    enum_members: Vec<Vec<Vec<u8>>>,
    set_members: Vec<Vec<Vec<u8>>>,
}

impl BinlogMetadata {
    fn read(tme: &TableMapEvent<'_>) -> BinlogMetadata {
        let mut meta = BinlogMetadata::default();
        for field in tme.iter_optional_meta() {
            let Ok(field) = field else { return BinlogMetadata::default() };
            match field {
                OptionalMetadataField::ColumnName(names) => {
                    meta.names = names
                        .iter_names()
                        .filter_map(Result::ok)
                        .map(|n| n.name_raw().to_vec())
                        .collect();
                }
                OptionalMetadataField::Signedness(bits) => {
                    meta.signedness = Some(bits.iter().by_vals().collect());
                }
                OptionalMetadataField::EnumStrValue(values) => {
                    meta.enum_members = values
                        .iter_values()
                        .filter_map(Result::ok)
                        .map(|v| v.values().iter().map(|m| m.value_raw().to_vec()).collect())
                        .collect();
                }
                OptionalMetadataField::SetStrValue(values) => {
                    meta.set_members = values
                        .iter_values()
                        .filter_map(Result::ok)
                        .map(|v| v.values().iter().map(|m| m.value_raw().to_vec()).collect())
                        .collect();
                }
                _ => {}
            }
        }
        meta
    }
}

fn kind_of(column_type: ColumnType) -> Kind {
    use ColumnType::*;
    match column_type {
        MYSQL_TYPE_TINY => Kind::Integer(8),
        MYSQL_TYPE_SHORT => Kind::Integer(16),
        MYSQL_TYPE_INT24 => Kind::Integer(24),
        MYSQL_TYPE_LONG => Kind::Integer(32),
        MYSQL_TYPE_LONGLONG => Kind::Integer(64),
        MYSQL_TYPE_FLOAT => Kind::Float,
        MYSQL_TYPE_DOUBLE => Kind::Double,
        MYSQL_TYPE_NEWDECIMAL => Kind::Decimal,
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => Kind::Timestamp,
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 | MYSQL_TYPE_NEWDATE | MYSQL_TYPE_DATE => {
            Kind::DateTime
        }
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Kind::Time,
        MYSQL_TYPE_YEAR => Kind::Year,
        MYSQL_TYPE_BIT => Kind::Bit,
        MYSQL_TYPE_ENUM => Kind::Enum,
        MYSQL_TYPE_SET => Kind::Set,
        MYSQL_TYPE_JSON => Kind::Json,
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB => Kind::Text,
        _ => Kind::Other,
    }
}

/// Checks what mysql_common's value decoder indexes without checking, so a corrupt table map is
/// an error rather than a panic.
fn metadata_problem(tme: &TableMapEvent<'_>, i: usize, column_type: ColumnType) -> Option<String> {
    use ColumnType::*;
    let Some(meta) = tme.get_column_metadata(i) else {
        return Some("its metadata is missing or cut short".into());
    };
    let needed = match column_type {
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET
        | MYSQL_TYPE_BIT
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING => 2,
        MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_GEOMETRY
        | MYSQL_TYPE_TIMESTAMP2
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIME2
        | MYSQL_TYPE_JSON
        | MYSQL_TYPE_VECTOR => 1,
        MYSQL_TYPE_TYPED_ARRAY => return Some("typed arrays are not supported".into()),
        MYSQL_TYPE_DECIMAL => return Some("pre-5.0 DECIMAL columns are not supported".into()),
        _ => 0,
    };
    if meta.len() < needed {
        return Some(format!(
            "{column_type:?} needs {needed} bytes of metadata, has {}",
            meta.len()
        ));
    }
    if column_type == MYSQL_TYPE_NEWDECIMAL {
        let (precision, scale) = (meta[0], meta[1]);
        if precision == 0 || precision > 65 || scale > precision || scale > 38 {
            return Some(format!("DECIMAL({precision},{scale}) is not a valid DECIMAL"));
        }
    }
    None
}
