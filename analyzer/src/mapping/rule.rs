/*!
One `[[rule]]` of a mapping ([`Rule`]): which keys it maps, to which table and row, and how the
cached value relates to the row ([`ValueShape`]).
*/

use super::error::MappingError;
use super::pattern::{self, KeyPart};
use crate::decode::Codec;

/// How a cached value relates to its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueShape {
    /// The value is one column's value.
    Column(String),
    /// The value is a JSON object: (field, column) pairs.
    Json(Vec<(String, String)>),
    /// The value is a Redis hash: (field, column) pairs.
    Hash(Vec<(String, String)>),
}

/// One `[[rule]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The key pattern as written (`order:{id}`).
    pub key: String,
    /// The pattern, parsed.
    pub parts: Vec<KeyPart>,
    /// `schema.table`.
    pub table: String,
    /// The row's key columns and the placeholder each is read from.
    pub row: Vec<(String, String)>,
    /// How the value maps to columns.
    pub value: ValueShape,
    /// Only keys of this Redis source (node name).
    pub node: Option<String>,
    /// Only keys of this db index.
    pub redis_db: Option<u32>,
    /// How the cached bytes are decoded before projection (`decode = "pickle"`; default auto).
    pub decode: Codec,
}

impl Rule {
    /// `rule 2 (order:{id})`, for messages.
    pub fn label(&self, index: usize) -> String {
        format!("rule {} ({})", index + 1, self.key)
    }

    /// The columns a projection holds, in order.
    pub fn columns(&self) -> Vec<&str> {
        match &self.value {
            ValueShape::Column(c) => vec![c.as_str()],
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => {
                pairs.iter().map(|(_, c)| c.as_str()).collect()
            }
        }
    }

    /// The fields (JSON or hash) of the projection, in column order; the column itself for a
    /// column rule.
    pub fn fields(&self) -> Vec<&str> {
        match &self.value {
            ValueShape::Column(c) => vec![c.as_str()],
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => {
                pairs.iter().map(|(f, _)| f.as_str()).collect()
            }
        }
    }

    /// Matches `key` and returns the placeholder values in pattern order.
    pub fn match_key<'k>(&self, key: &'k [u8], holes: &mut Vec<&'k [u8]>) -> bool {
        pattern::matches(&self.parts, key, holes)
    }

    /// Checks the rule's columns against a table's columns.
    pub fn check_columns(&self, index: usize, columns: &[&str]) -> Result<(), MappingError> {
        let wanted = self.row.iter().map(|(c, _)| c.as_str()).chain(self.columns());
        for c in wanted {
            if !columns.contains(&c) {
                return Err(MappingError::UnknownColumn {
                    rule: self.label(index),
                    column: c.to_string(),
                    table: self.table.clone(),
                    columns: columns.join(", "),
                });
            }
        }
        Ok(())
    }
}
