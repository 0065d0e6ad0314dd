/*!
Column names, types and primary keys from `CREATE TABLE` statements.

The binlog carries no column names, so the importer reads them from a DDL file: mysqldump
output (`mysqldump --no-data`), `SHOW CREATE TABLE` output pasted into a file, or hand-written
`CREATE TABLE` statements. [`Schema::parse`] understands what such files contain:

- identifiers in backticks or double quotes, `db.table` names, `USE db;` setting the database
  for the unqualified names after it;
- `--`, `#` and `/* */` comments, and MySQL/MariaDB version comments (`/*!40101 ... */`,
  `/*M!100101 ... */`), whose content is SQL that counts;
- `DELIMITER ;;` lines (mysqldump writes them around triggers and routines);
- strings with backslash escapes and doubled quotes, nested parentheses in types
  (`DECIMAL(10,2)`, `ENUM('a','b,c')`) and in `CHECK`/`DEFAULT`/generated-column expressions;
- `CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS]`, and `CREATE TABLE t LIKE u` when `u`
  was defined before.

Per table it keeps the columns in order (name, SQL type text, UNSIGNED, whether it holds JSON)
and the primary key columns, from a `PRIMARY KEY (...)` line or an inline `id INT PRIMARY KEY`.
Index, key and constraint lines are skipped; every statement other than `CREATE TABLE` and `USE`
is ignored. MariaDB stores JSON as `LONGTEXT` with `CHECK (json_valid(col))`, which is how
`SHOW CREATE TABLE` prints it; such columns count as JSON too.

Parsing never panics, whatever the input: a file that cannot be split into statements (an
unterminated string or comment) or a `CREATE TABLE` that cannot be read is a [`SchemaError`]
naming the file and line.
*/

mod create_table;
mod lexer;

use std::path::{Path, PathBuf};

use create_table::{Statement, classify, parse_create_table};
use lexer::Lexer;

/// Column names, types and keys of the tables a DDL file defines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    tables: Vec<Table>,
    warnings: Vec<String>,
}

/// One table of a [`Schema`].
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The database it belongs to: from a `db.table` name or the `USE db;` before it; `None` when
    /// the file never said.
    pub database: Option<String>,
    /// The table name.
    pub name: String,
    /// The columns, in table order (the order the binlog uses).
    pub columns: Vec<Column>,
    /// The primary key columns, in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The line of the DDL file where the table was defined (0 when built in code).
    pub line: u32,
}

impl Table {
    /// A table with no columns yet.
    pub fn new(database: Option<&str>, name: &str) -> Table {
        Table {
            database: database.map(str::to_string),
            name: name.to_string(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            line: 0,
        }
    }

    /// `db.table`, or just `table` when the database is unknown.
    pub fn qualified_name(&self) -> String {
        match &self.database {
            Some(db) => format!("{db}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The column called `name` (ASCII case-insensitive, as MySQL compares column names).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// One column of a [`Table`].
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The column name, unquoted.
    pub name: String,
    /// The type as written, name lowercased, parameters kept, attributes dropped:
    /// `int(10)`, `decimal(10,2)`, `enum('a','b,c')`, `longtext`.
    pub sql_type: String,
    /// Declared UNSIGNED (or ZEROFILL, or SERIAL, which imply it).
    pub unsigned: bool,
    /// Holds JSON: declared `JSON`, or (MariaDB) checked with `CHECK (json_valid(col))`.
    pub json: bool,
    /// The members of an ENUM or SET, in declaration order (index 1 is the first); empty for
    /// every other type.
    pub members: Vec<String>,
}

impl Column {
    /// A column of type `sql_type` (`int`, `varchar(20)`, …), neither unsigned nor JSON.
    pub fn new(name: &str, sql_type: &str) -> Column {
        Column {
            name: name.to_string(),
            sql_type: sql_type.to_string(),
            unsigned: false,
            json: sql_type.eq_ignore_ascii_case("json"),
            members: Vec::new(),
        }
    }

    /// The type's name without parameters, lowercase: `int`, `decimal`, `enum`, `longtext`.
    pub fn type_name(&self) -> &str {
        let end = self.sql_type.find('(').unwrap_or(self.sql_type.len());
        self.sql_type[..end].trim()
    }
}

/// Why a DDL file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The file could not be read.
    #[error("cannot read schema file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The text could not be split into statements, or a `CREATE TABLE` could not be read.
    #[error("{file}:{line}: {problem}; {hint}")]
    Syntax {
        /// The file (or the name the caller gave the text).
        file: String,
        /// 1-based line number.
        line: u32,
        /// What is wrong.
        problem: String,
        /// What to do about it.
        hint: String,
    },
    /// The file holds no `CREATE TABLE` statement at all.
    #[error(
        "{file} defines no tables: it has no CREATE TABLE statement. Give a DDL file such as \
         `mysqldump --no-data --databases shop > schema.sql`, or the output of `SHOW CREATE TABLE`"
    )]
    NoTables {
        /// The file.
        file: String,
    },
}

impl Schema {
    /// An empty schema, to fill with [`Schema::add_table`] (e.g. from `information_schema`).
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Reads and parses a DDL file. Bytes that are not UTF-8 (a latin1 dump) are replaced, which
    /// only affects names and ENUM members that use them.
    pub fn from_file(path: &Path) -> Result<Schema, SchemaError> {
        let bytes = std::fs::read(path)
            .map_err(|source| SchemaError::Read { path: path.to_path_buf(), source })?;
        let text = String::from_utf8_lossy(&bytes);
        Schema::parse(&path.display().to_string(), &text)
    }

    /// Parses DDL text; `file` names it in errors and warnings.
    pub fn parse(file: &str, text: &str) -> Result<Schema, SchemaError> {
        let mut schema = Schema::new();
        let mut lexer = Lexer::new(file, text);
        let mut database: Option<String> = None;
        let mut defined_any = false;
        while let Some(statement) = lexer.statement()? {
            match classify(&statement) {
                Statement::Use(db) => database = Some(db),
                Statement::CreateTable => {
                    defined_any = true;
                    if let Some(table) =
                        parse_create_table(file, &statement, database.as_deref(), &mut schema)?
                    {
                        schema.add_table(table);
                    }
                }
                Statement::Other => {}
            }
        }
        if !defined_any {
            return Err(SchemaError::NoTables { file: file.to_string() });
        }
        Ok(schema)
    }

    /// Adds `table`, replacing an earlier table of the same database and name.
    pub fn add_table(&mut self, table: Table) {
        match self.tables.iter_mut().find(|t| t.database == table.database && t.name == table.name)
        {
            Some(earlier) => *earlier = table,
            None => self.tables.push(table),
        }
    }

    /// The table `database.name`: an exact match first, then one that differs only in ASCII
    /// case, then a table of that name defined without a database. A table defined under another
    /// database never matches.
    pub fn table(&self, database: &str, name: &str) -> Option<&Table> {
        let in_db =
            |t: &&Table| t.database.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(database));
        self.tables
            .iter()
            .find(|t| t.database.as_deref() == Some(database) && t.name == name)
            .or_else(|| {
                self.tables.iter().filter(in_db).find(|t| t.name.eq_ignore_ascii_case(name))
            })
            .or_else(|| self.defined_without_database(name))
    }

    /// The table called `name` when the database is not known: one defined without a database,
    /// else the only table of that name in any database.
    pub fn unqualified_table(&self, name: &str) -> Option<&Table> {
        if let Some(t) = self.defined_without_database(name) {
            return Some(t);
        }
        let mut matching = self.tables.iter().filter(|t| t.name.eq_ignore_ascii_case(name));
        match (matching.next(), matching.next()) {
            (Some(t), None) => Some(t),
            _ => None,
        }
    }

    fn defined_without_database(&self, name: &str) -> Option<&Table> {
        let unqualified = || self.tables.iter().filter(|t| t.database.is_none());
        unqualified()
            .find(|t| t.name == name)
            .or_else(|| unqualified().find(|t| t.name.eq_ignore_ascii_case(name)))
    }

    /// Every table, in definition order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// True when no table is defined.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Things the parser noticed but did not apply (`CREATE TABLE ... SELECT` without a column
    /// list, `CREATE TABLE ... LIKE` a table not defined before), each naming its line.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests;
