/*!
[`MappingError`]: what is wrong with a mapping, worded for the person who wrote the file.
*/

/// A mapping problem, worded for the person who wrote the file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// Not TOML.
    #[error("the mapping is not valid TOML: {0}")]
    Toml(String),
    /// A rule is malformed.
    #[error("{rule}: {message}")]
    Rule {
        /// `rule 2 (order:{id})`.
        rule: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A rule names a table the trace never shows.
    #[error(
        "{rule} names table `{table}`, which no row change in the trace touches (tables in the \
         trace: {seen}); fix the name, or drop the rule if that table truly did not change while \
         recording"
    )]
    UnknownTable {
        /// The rule.
        rule: String,
        /// The table it names.
        table: String,
        /// Tables the trace has, comma-separated.
        seen: String,
    },
    /// A rule names a column its table does not have.
    #[error(
        "{rule} names column `{column}`, which table `{table}` does not have (its columns: {columns})"
    )]
    UnknownColumn {
        /// The rule.
        rule: String,
        /// The column it names.
        column: String,
        /// The table.
        table: String,
        /// The table's columns, comma-separated.
        columns: String,
    },
}
