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

use std::fmt;
use std::path::{Path, PathBuf};

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

    /// Things the parser noticed but did not apply (`ALTER TABLE`, `CREATE TABLE ... SELECT`
    /// without a column list), each naming its line.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer: text → statements of tokens.

/// One token of a statement.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// An unquoted word: keyword, identifier or number.
    Word(String),
    /// A backtick-quoted identifier.
    Ident(String),
    /// A string in single (`'`) or double (`"`) quotes, unescaped.
    Str { quote: u8, text: String },
    /// Any other character.
    Punct(u8),
}

impl Token {
    fn is_word(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The identifier this token names, if it can name one (`x`, `` `x` ``, `"x"`).
    fn identifier(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Ident(i) => Some(i),
            Token::Str { quote: b'"', text } => Some(text),
            _ => None,
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => f.write_str(w),
            Token::Ident(i) => write!(f, "`{}`", i.replace('`', "``")),
            Token::Str { text, .. } => {
                write!(f, "'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
            }
            Token::Punct(c) => write!(f, "{}", *c as char),
        }
    }
}

/// A token and the line it starts on.
#[derive(Clone, Debug)]
struct Spanned {
    token: Token,
    line: u32,
}

/// Splits DDL text into statements, honouring quotes, comments, version comments and
/// `DELIMITER` lines.
struct Lexer<'a> {
    file: &'a str,
    src: &'a [u8],
    pos: usize,
    line: u32,
    delimiter: Vec<u8>,
    /// Inside `/*!NNNNN ... */`: the closing `*/` is skipped, the content is SQL.
    in_version_comment: Option<u32>,
}

impl<'a> Lexer<'a> {
    fn new(file: &'a str, text: &'a str) -> Lexer<'a> {
        Lexer {
            file,
            src: text.as_bytes(),
            pos: 0,
            line: 1,
            delimiter: b";".to_vec(),
            in_version_comment: None,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.src.get(self.pos).copied()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error(&self, line: u32, problem: String, hint: &str) -> SchemaError {
        SchemaError::Syntax { file: self.file.to_string(), line, problem, hint: hint.to_string() }
    }

    /// The next statement's tokens; `None` at the end of the text. Empty statements are skipped.
    fn statement(&mut self) -> Result<Option<Vec<Spanned>>, SchemaError> {
        let mut tokens: Vec<Spanned> = Vec::new();
        loop {
            self.skip_space_and_comments()?;
            if self.pos >= self.src.len() {
                if let Some(line) = self.in_version_comment {
                    return Err(self.error(
                        line,
                        "version comment `/*!` is never closed with `*/`".into(),
                        "the file looks cut short: take the dump again, or close the comment",
                    ));
                }
                return Ok(if tokens.is_empty() { None } else { Some(tokens) });
            }
            if self.src[self.pos..].starts_with(&self.delimiter) {
                for _ in 0..self.delimiter.len() {
                    self.bump();
                }
                if tokens.is_empty() {
                    continue;
                }
                return Ok(Some(tokens));
            }
            if tokens.is_empty() && self.at_delimiter_command() {
                self.delimiter_command();
                continue;
            }
            let line = self.line;
            let token = self.token()?;
            tokens.push(Spanned { token, line });
        }
    }

    fn skip_space_and_comments(&mut self) -> Result<(), SchemaError> {
        loop {
            let Some(c) = self.peek(0) else { return Ok(()) };
            if c.is_ascii_whitespace() {
                self.bump();
            } else if c == b'#'
                || (c == b'-'
                    && self.peek(1) == Some(b'-')
                    && self.peek(2).is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control()))
            {
                self.skip_line();
            } else if c == b'/' && self.peek(1) == Some(b'*') {
                let line = self.line;
                let marker = match (self.peek(2), self.peek(3)) {
                    (Some(b'!'), _) => 3,
                    (Some(b'M'), Some(b'!')) => 4,
                    _ => 0,
                };
                let mut content = self.pos + marker;
                while self.src.get(content).is_some_and(u8::is_ascii_digit) {
                    content += 1;
                }
                // `/*M!999999\- enable the sandbox mode */` is a client command, not SQL.
                let client_command = self.src.get(content) == Some(&b'\\');
                if marker > 0 && !client_command && self.in_version_comment.is_none() {
                    while self.pos < content {
                        self.bump();
                    }
                    self.in_version_comment = Some(line);
                } else {
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            None => {
                                return Err(self.error(
                                    line,
                                    "comment `/*` is never closed with `*/`".into(),
                                    "the file looks cut short: take the dump again, or close \
                                     the comment",
                                ));
                            }
                            Some(b'*') if self.peek(0) == Some(b'/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
            } else if c == b'*' && self.peek(1) == Some(b'/') && self.in_version_comment.is_some() {
                self.bump();
                self.bump();
                self.in_version_comment = None;
            } else {
                return Ok(());
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == b'\n' {
                break;
            }
        }
    }

    /// `DELIMITER xx` at the start of a statement (a client command, not SQL).
    fn at_delimiter_command(&self) -> bool {
        const WORD: &[u8] = b"delimiter";
        let rest = &self.src[self.pos..];
        rest.len() > WORD.len()
            && rest[..WORD.len()].eq_ignore_ascii_case(WORD)
            && matches!(rest[WORD.len()], b' ' | b'\t')
    }

    fn delimiter_command(&mut self) {
        for _ in 0.."delimiter".len() {
            self.bump();
        }
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.bump();
        }
        let start = self.pos;
        while self.peek(0).is_some_and(|c| !c.is_ascii_whitespace()) {
            self.bump();
        }
        if self.pos > start {
            self.delimiter = self.src[start..self.pos].to_vec();
        }
        self.skip_line();
    }

    fn token(&mut self) -> Result<Token, SchemaError> {
        let line = self.line;
        let Some(c) = self.bump() else {
            return Err(self.error(line, "unexpected end of text".into(), "close the statement"));
        };
        match c {
            b'`' => {
                let text = self.quoted(b'`', false, line)?;
                Ok(Token::Ident(text))
            }
            b'\'' | b'"' => {
                let text = self.quoted(c, true, line)?;
                Ok(Token::Str { quote: c, text })
            }
            c if is_word_byte(c) => {
                let start = self.pos - 1;
                while self.peek(0).is_some_and(is_word_byte) {
                    self.bump();
                }
                Ok(Token::Word(String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()))
            }
            c => Ok(Token::Punct(c)),
        }
    }

    /// The rest of a quoted string or identifier; the opening quote is consumed. A doubled
    /// quote stands for itself; with `escapes`, so does a backslash sequence.
    fn quoted(&mut self, quote: u8, escapes: bool, line: u32) -> Result<String, SchemaError> {
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => {
                    let what = match quote {
                        b'`' => "identifier",
                        _ => "string",
                    };
                    return Err(self.error(
                        line,
                        format!("{what} opened with {} is never closed", quote as char),
                        "the file looks cut short or has a stray quote: take the dump again, \
                         or fix the quote on that line",
                    ));
                }
                Some(c) if c == quote => {
                    if self.peek(0) == Some(quote) {
                        self.bump();
                        out.push(quote);
                    } else {
                        break;
                    }
                }
                Some(b'\\') if escapes => match self.bump() {
                    None => continue,
                    Some(e) => match e {
                        b'0' => out.push(0),
                        b'b' => out.push(8),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'Z' => out.push(26),
                        b'%' | b'_' => out.extend_from_slice(&[b'\\', e]),
                        e => out.push(e),
                    },
                },
                Some(c) => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

// ---------------------------------------------------------------------------------------------
// Statements.

enum Statement {
    Use(String),
    CreateTable,
    Other,
}

fn classify(tokens: &[Spanned]) -> Statement {
    let words: Vec<&Token> = tokens.iter().map(|t| &t.token).take(8).collect();
    match words.as_slice() {
        [use_, db, ..] if use_.is_word("use") => match db.identifier() {
            Some(db) => Statement::Use(db.to_string()),
            None => Statement::Other,
        },
        [create, rest @ ..] if create.is_word("create") => {
            let mut i = 0;
            if rest.first().is_some_and(|t| t.is_word("or"))
                && rest.get(1).is_some_and(|t| t.is_word("replace"))
            {
                i += 2;
            }
            if rest.get(i).is_some_and(|t| t.is_word("temporary")) {
                i += 1;
            }
            if rest.get(i).is_some_and(|t| t.is_word("table")) {
                Statement::CreateTable
            } else {
                Statement::Other
            }
        }
        _ => Statement::Other,
    }
}

/// Reads one `CREATE TABLE` statement. `Ok(None)` when the statement defines no columns the
/// parser can know (`AS SELECT` without a column list, `LIKE` an unknown table): a warning is
/// recorded instead.
fn parse_create_table(
    file: &str,
    tokens: &[Spanned],
    database: Option<&str>,
    schema: &mut Schema,
) -> Result<Option<Table>, SchemaError> {
    let line = tokens.first().map_or(1, |t| t.line);
    let syntax = |line: u32, problem: String, hint: &str| SchemaError::Syntax {
        file: file.to_string(),
        line,
        problem,
        hint: hint.to_string(),
    };
    let mut i = 0;
    while i < tokens.len() && !tokens[i].token.is_word("table") {
        i += 1;
    }
    i += 1;
    if tokens.get(i).is_some_and(|t| t.token.is_word("if"))
        && tokens.get(i + 1).is_some_and(|t| t.token.is_word("not"))
        && tokens.get(i + 2).is_some_and(|t| t.token.is_word("exists"))
    {
        i += 3;
    }
    let (name_db, name, next) = qualified_name(tokens, i).ok_or_else(|| {
        syntax(
            line,
            "CREATE TABLE without a table name".into(),
            "write the statement as `CREATE TABLE name (column type, ...)`",
        )
    })?;
    i = next;
    let table_db = name_db.or_else(|| database.map(str::to_string));
    let mut table = Table::new(table_db.as_deref(), &name);
    table.line = line;

    // `CREATE TABLE t LIKE u` and `CREATE TABLE t (LIKE u)`.
    let like_at = if tokens.get(i).is_some_and(|t| t.token.is_word("like")) {
        Some(i + 1)
    } else if tokens.get(i).is_some_and(|t| t.token == Token::Punct(b'('))
        && tokens.get(i + 1).is_some_and(|t| t.token.is_word("like"))
    {
        Some(i + 2)
    } else {
        None
    };
    if let Some(at) = like_at {
        let Some((src_db, src_name, _)) = qualified_name(tokens, at) else {
            return Err(syntax(
                line,
                format!("CREATE TABLE {name} LIKE without the name of the table to copy"),
                "write `CREATE TABLE new LIKE existing`",
            ));
        };
        let source = match src_db.as_deref().or(table.database.as_deref()) {
            Some(db) => schema.table(db, &src_name),
            None => schema.unqualified_table(&src_name),
        };
        return Ok(match source {
            Some(source) => {
                table.columns = source.columns.clone();
                table.primary_key = source.primary_key.clone();
                Some(table)
            }
            None => {
                schema.warnings.push(format!(
                    "{file}:{line}: CREATE TABLE {} LIKE {src_name}: {src_name} is not defined \
                     before it, so {} gets no column names",
                    table.qualified_name(),
                    table.name
                ));
                None
            }
        });
    }

    if tokens.get(i).is_none_or(|t| t.token != Token::Punct(b'(')) {
        schema.warnings.push(format!(
            "{file}:{line}: CREATE TABLE {} has no column list (CREATE TABLE ... SELECT?), so \
             its columns are unknown; add a CREATE TABLE with its columns to the schema file",
            table.qualified_name()
        ));
        return Ok(None);
    }
    let close = matching_paren(tokens, i).ok_or_else(|| {
        syntax(
            line,
            format!("the column list of CREATE TABLE {} is never closed with `)`", name),
            "check the parentheses of that statement (a missing `)` or an extra `(`)",
        )
    })?;
    let items = split_top_level(&tokens[i + 1..close]);
    let mut json_checked: Vec<String> = Vec::new();
    for item in items {
        if item.is_empty() {
            continue;
        }
        let first = &item[0];
        if let Token::Word(w) = &first.token {
            let w = w.to_ascii_lowercase();
            let constraint = matches!(
                w.as_str(),
                "primary"
                    | "key"
                    | "index"
                    | "unique"
                    | "constraint"
                    | "foreign"
                    | "check"
                    | "fulltext"
                    | "spatial"
            ) || (w == "period"
                && item.get(1).is_some_and(|t| t.token.is_word("for")));
            if constraint {
                read_constraint(item, &mut table.primary_key, &mut json_checked);
                continue;
            }
        }
        let column = parse_column(item).map_err(|problem| {
            syntax(
                first.line,
                format!("in CREATE TABLE {}: {problem}", name),
                "write each column as `name TYPE [attributes]`",
            )
        })?;
        if column.1 {
            table.primary_key = vec![column.0.name.clone()];
        }
        table.columns.push(column.0);
    }
    if table.columns.is_empty() {
        return Err(syntax(
            line,
            format!("CREATE TABLE {name} defines no columns"),
            "give the table's columns, as `SHOW CREATE TABLE` prints them",
        ));
    }
    for name in json_checked {
        if let Some(c) = table.columns.iter_mut().find(|c| c.name.eq_ignore_ascii_case(&name)) {
            c.json = true;
        }
    }
    Ok(Some(table))
}

/// `name`, `db.name` (each part a word or quoted identifier) at `i`: (db, name, next index).
fn qualified_name(tokens: &[Spanned], i: usize) -> Option<(Option<String>, String, usize)> {
    let first = tokens.get(i)?.token.identifier()?.to_string();
    if tokens.get(i + 1).is_some_and(|t| t.token == Token::Punct(b'.'))
        && let Some(second) = tokens.get(i + 2).and_then(|t| t.token.identifier())
    {
        return Some((Some(first), second.to_string(), i + 3));
    }
    Some((None, first, i + 1))
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(tokens: &[Spanned], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::Punct(b'(') => depth += 1,
            Token::Punct(b')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside parentheses.
fn split_top_level(tokens: &[Spanned]) -> Vec<&[Spanned]> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (j, t) in tokens.iter().enumerate() {
        match t.token {
            Token::Punct(b'(') => depth += 1,
            Token::Punct(b')') => depth = depth.saturating_sub(1),
            Token::Punct(b',') if depth == 0 => {
                items.push(&tokens[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items
}

/// The parenthesized group starting at `open` (exclusive of the parentheses) and the index after
/// it; an unclosed group runs to the end.
fn group(tokens: &[Spanned], open: usize) -> (&[Spanned], usize) {
    match matching_paren(tokens, open) {
        Some(close) => (&tokens[open + 1..close], close + 1),
        None => (tokens.get(open + 1..).unwrap_or(&[]), tokens.len()),
    }
}

/// A key or constraint line: records PRIMARY KEY columns and `CHECK (json_valid(col))`.
fn read_constraint(item: &[Spanned], primary_key: &mut Vec<String>, json: &mut Vec<String>) {
    let mut j = 0;
    while j < item.len() {
        let t = &item[j].token;
        if t.is_word("primary") && item.get(j + 1).is_some_and(|t| t.token.is_word("key")) {
            if let Some(open) = (j + 2..item.len()).find(|&k| item[k].token == Token::Punct(b'(')) {
                let (cols, _) = group(item, open);
                *primary_key = split_top_level(cols)
                    .into_iter()
                    .filter_map(|part| part.first().and_then(|t| t.token.identifier()))
                    .map(str::to_string)
                    .collect();
            }
            return;
        }
        if t.is_word("check") {
            if let Some(col) = json_valid_column(&item[j + 1..]) {
                json.push(col);
            }
            return;
        }
        j += 1;
    }
}

/// `(json_valid(col))` → `col`.
fn json_valid_column(tokens: &[Spanned]) -> Option<String> {
    let toks: Vec<&Token> = tokens.iter().map(|t| &t.token).collect();
    match toks.as_slice() {
        [
            Token::Punct(b'('),
            f,
            Token::Punct(b'('),
            col,
            Token::Punct(b')'),
            Token::Punct(b')'),
            ..,
        ] if f.is_word("json_valid") => col.identifier().map(str::to_string),
        _ => None,
    }
}

/// Multi-word type names: first word → the words that may follow it.
fn type_continuation(first: &str, next: &str) -> bool {
    matches!(
        (first, next),
        ("double", "precision")
            | ("character" | "char" | "nchar" | "varchar" | "national", "varying")
            | ("national", "char" | "character" | "varchar")
            | ("long", "varchar" | "varbinary" | "varcharacter")
    )
}

/// A column definition: the column and whether it is declared the primary key inline.
fn parse_column(item: &[Spanned]) -> Result<(Column, bool), String> {
    let name = item[0]
        .token
        .identifier()
        .ok_or_else(|| format!("`{}` does not start a column definition", item[0].token))?
        .to_string();
    let mut words: Vec<String> = Vec::new();
    let mut j = 1;
    while let Some(Token::Word(w)) = item.get(j).map(|t| &t.token) {
        let lower = w.to_ascii_lowercase();
        let continues = match words.last() {
            None => true,
            Some(prev) => type_continuation(prev, &lower),
        };
        if !continues {
            break;
        }
        words.push(lower);
        j += 1;
    }
    if words.is_empty() {
        return Err(format!("column `{name}` has no type"));
    }
    let mut sql_type = words.join(" ");
    let mut members = Vec::new();
    if item.get(j).is_some_and(|t| t.token == Token::Punct(b'(')) {
        let (params, next) = group(item, j);
        sql_type.push('(');
        let mut prev_word = false;
        for t in params {
            let is_word = matches!(t.token, Token::Word(_));
            if is_word && prev_word {
                sql_type.push(' ');
            }
            sql_type.push_str(&t.token.to_string());
            prev_word = is_word;
        }
        sql_type.push(')');
        if matches!(words[0].as_str(), "enum" | "set") {
            members = params
                .iter()
                .filter_map(|t| match &t.token {
                    Token::Str { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect();
        }
        j = next;
    }
    let mut unsigned = matches!(words[0].as_str(), "serial");
    let mut json = words[0] == "json";
    let mut primary = false;
    let mut prev_unique = false;
    while j < item.len() {
        let t = &item[j].token;
        if t == &Token::Punct(b'(') {
            j = group(item, j).1;
            prev_unique = false;
            continue;
        }
        if t.is_word("unsigned") || t.is_word("zerofill") {
            unsigned = true;
        } else if t.is_word("primary") && item.get(j + 1).is_some_and(|t| t.token.is_word("key")) {
            primary = true;
            j += 1;
        } else if t.is_word("key") && !prev_unique {
            primary = true;
        } else if t.is_word("check")
            && let Some(col) = json_valid_column(&item[j + 1..])
        {
            json |= col.eq_ignore_ascii_case(&name);
        }
        prev_unique = t.is_word("unique");
        j += 1;
    }
    Ok((Column { name, sql_type, unsigned, json, members }, primary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Schema {
        Schema::parse("test.sql", text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mysqldump_output_with_version_comments() {
        let dump = r#"/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;

USE `shop`;

--
-- Table structure for table `orders`
--

DROP TABLE IF EXISTS `orders`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE `orders` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `status` enum('NEW','PAID','CANCELLED','a,b') NOT NULL DEFAULT 'NEW' COMMENT 'it''s; a \'status\'',
  `total` decimal(10,2) NOT NULL,
  `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
  `note` varchar(20) DEFAULT '(;)',
  PRIMARY KEY (`id`),
  KEY `idx_status` (`status`),
  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `other` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t BEFORE INSERT ON orders FOR EACH ROW BEGIN SET NEW.total = 1; END */;;
DELIMITER ;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
-- Dump completed on 2024-01-02  3:04:05
"#;
        let schema = parse(dump);
        assert_eq!(schema.len(), 1);
        let t = schema.table("shop", "orders").unwrap();
        assert_eq!(t.qualified_name(), "shop.orders");
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "status", "total", "doc", "note"]);
        assert_eq!(t.columns[0].sql_type, "bigint(20)");
        assert!(t.columns[0].unsigned);
        assert_eq!(t.columns[1].sql_type, "enum('NEW','PAID','CANCELLED','a,b')");
        assert_eq!(t.columns[1].members, ["NEW", "PAID", "CANCELLED", "a,b"]);
        assert_eq!(t.columns[2].sql_type, "decimal(10,2)");
        assert_eq!(t.columns[2].type_name(), "decimal");
        assert!(!t.columns[2].unsigned);
        assert_eq!(t.columns[3].sql_type, "longtext");
        assert!(t.columns[3].json, "MariaDB's JSON is LONGTEXT CHECK (json_valid(col))");
        assert_eq!(t.primary_key, ["id"]);
    }

    #[test]
    fn hand_written_statements() {
        let schema = parse(
            "# comment\ncreate table if not exists a.t1 (id int primary key, \"x y\" text, \
             j JSON, n INT UNSIGNED ZEROFILL, u SERIAL, d double precision, v character varying(3));\n\
             CREATE TABLE t2 (a INT, b INT, c VARCHAR(3) CHECK (c <> 'unsigned'), \
             CONSTRAINT pk PRIMARY KEY (b, a(10) DESC) USING BTREE);\n\
             CREATE TABLE t3 LIKE a.t1; create table t4 as select 1;",
        );
        let t1 = schema.table("a", "t1").unwrap();
        assert_eq!(t1.primary_key, ["id"]);
        let c = &t1.columns;
        assert_eq!(c[1].name, "x y");
        assert!(c[2].json);
        assert!(c[3].unsigned && c[4].unsigned);
        assert_eq!(c[5].sql_type, "double precision");
        assert_eq!(c[6].sql_type, "character varying(3)");
        let t2 = schema.table("any", "t2").expect("unqualified tables match any database");
        assert_eq!(t2.database, None);
        assert_eq!(t2.primary_key, ["b", "a"]);
        assert!(!t2.columns[2].unsigned, "words inside CHECK are not attributes");
        assert_eq!(schema.unqualified_table("t3").unwrap().columns.len(), 7);
        assert!(schema.warnings().iter().any(|w| w.contains("t4")), "{:?}", schema.warnings());
        assert!(schema.table("other", "t1").is_none(), "t1 belongs to database a");
        assert!(schema.unqualified_table("T1").is_some(), "a unique name matches by itself");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = Schema::parse("dump.sql", "USE x;\n\nCREATE TABLE t (a INT DEFAULT 'oops);\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("dump.sql:3: string opened with ' is never closed"), "{err}");
        let err =
            Schema::parse("d.sql", "CREATE TABLE t (a INT,\n b INT;").unwrap_err().to_string();
        assert!(err.starts_with("d.sql:1: the column list of CREATE TABLE t is never closed"));
        let err = Schema::parse("d.sql", "CREATE TABLE t (a INT,\n (b) INT);").unwrap_err();
        assert!(err.to_string().starts_with("d.sql:2: in CREATE TABLE t: `(`"), "{err}");
        let err = Schema::parse("d.sql", "/* x */ SELECT 1;").unwrap_err().to_string();
        assert!(err.contains("d.sql defines no tables"), "{err}");
        let err = Schema::parse("d.sql", "CREATE TABLE t (a INT) /* never").unwrap_err();
        assert!(err.to_string().contains("comment `/*` is never closed"), "{err}");
    }

    #[test]
    fn comments_need_a_space_after_double_dash() {
        let schema = parse("CREATE TABLE t (a INT DEFAULT 1--1\n, b INT -- c\n, `c` INT # x\n);");
        let names: Vec<&str> = schema.tables()[0].columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn the_sandbox_mode_line_of_new_dumps_is_a_client_command() {
        let schema = parse("/*M!999999\\- enable the sandbox mode */ \nCREATE TABLE t (a INT);");
        assert_eq!(schema.unqualified_table("t").unwrap().columns[0].name, "a");
    }

    #[test]
    fn later_definitions_replace_earlier_ones() {
        let schema =
            parse("USE s; CREATE TABLE t (a INT); DROP TABLE t; CREATE TABLE `s`.`t` (b INT);");
        assert_eq!(schema.len(), 1);
        assert_eq!(schema.table("s", "t").unwrap().columns[0].name, "b");
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        /// Pieces that steer the parser into its interesting corners.
        const PIECES: &[&str] = &[
            "CREATE TABLE ",
            "create temporary table if not exists ",
            "USE ",
            "db",
            ".",
            "t",
            "`",
            "``",
            "\"",
            "'",
            "''",
            "\\",
            "(",
            ")",
            ",",
            ";",
            ";;",
            "\n",
            " ",
            "--",
            "-- ",
            "#",
            "/*",
            "*/",
            "/*!40101 ",
            "/*M!100101 ",
            "DELIMITER ;;\n",
            "DELIMITER ;\n",
            "PRIMARY KEY ",
            "KEY ",
            "UNIQUE ",
            "CONSTRAINT ",
            "CHECK (json_valid(`j`))",
            "INT",
            " UNSIGNED",
            "DECIMAL(10,2)",
            "ENUM('a','b,c')",
            "LIKE ",
            "é",
            "\u{0}",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn on_arbitrary_text(text in any::<String>()) {
                let _ = Schema::parse("p.sql", &text);
            }

            #[test]
            fn on_sql_like_text(parts in prop::collection::vec(prop::sample::select(PIECES), 0..80)) {
                let _ = Schema::parse("p.sql", &parts.concat());
            }
        }
    }
}
