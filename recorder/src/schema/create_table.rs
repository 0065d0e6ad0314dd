/*!
Statements of tokens → tables: which statements matter (`USE`, `CREATE TABLE`), and the reading
of one `CREATE TABLE` — its name, `LIKE`, the column list, column types and attributes, and the
primary key and `CHECK (json_valid(col))` lines.
*/

use super::lexer::{Spanned, Token};
use super::{Column, Schema, SchemaError, Table};

/// What a statement means to the schema.
pub(super) enum Statement {
    /// `USE db`.
    Use(String),
    /// `CREATE [OR REPLACE] [TEMPORARY] TABLE`.
    CreateTable,
    /// Anything else (ignored).
    Other,
}

/// Classifies a statement by its first words.
pub(super) fn classify(tokens: &[Spanned]) -> Statement {
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
pub(super) fn parse_create_table(
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
