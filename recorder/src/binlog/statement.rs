/*!
What a binlog query event's SQL text is: a transaction boundary, DDL, DML logged as a statement,
or something else.

Query events carry SQL text. In a row-format binlog they are only transaction boundaries
(`BEGIN`, `COMMIT`, `ROLLBACK`, `XA …`) and DDL; with `binlog_format=STATEMENT` or `MIXED` they
also carry `INSERT`/`UPDATE`/`DELETE` statements whose row changes the binlog does not show.
[`classify`] tells these apart by the first keywords, skipping comments and honouring version
comments (`/*!40000 ALTER TABLE … */`), which servers write into DDL.
*/

/// The kind of a query event's statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// `BEGIN` or `START TRANSACTION`.
    Begin,
    /// `COMMIT`.
    Commit,
    /// `ROLLBACK` (not `ROLLBACK TO SAVEPOINT`).
    Rollback,
    /// `XA START/END/PREPARE/COMMIT/ROLLBACK`.
    Xa,
    /// `INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `LOAD DATA`: data changed by a statement the
    /// binlog logged as text (`binlog_format=STATEMENT` or `MIXED`).
    Dml,
    /// A statement that changes tables' shape or drops their rows wholesale: `CREATE`, `ALTER`,
    /// `RENAME` or `DROP` of tables, `DROP DATABASE`, and `TRUNCATE`.
    Ddl,
    /// Anything else (`SAVEPOINT`, `GRANT`, `CREATE USER`, `FLUSH`, `ANALYZE`, …).
    Other,
}

/// Classifies a statement by its first keywords.
pub fn classify(sql: &[u8]) -> StatementKind {
    let words = first_words(sql, 6);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match word(0) {
        "BEGIN" => StatementKind::Begin,
        "START" if word(1) == "TRANSACTION" => StatementKind::Begin,
        "COMMIT" => StatementKind::Commit,
        "ROLLBACK" if word(1) != "TO" => StatementKind::Rollback,
        "XA" => StatementKind::Xa,
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" => StatementKind::Dml,
        "LOAD" if word(1) == "DATA" || word(1) == "XML" => StatementKind::Dml,
        "WITH" if words.iter().any(|w| matches!(w.as_str(), "UPDATE" | "DELETE" | "INSERT")) => {
            StatementKind::Dml
        }
        "TRUNCATE" => StatementKind::Ddl,
        "CREATE" | "ALTER" | "RENAME"
            if words[1..].iter().any(|w| w == "TABLE" || w == "TABLES") =>
        {
            StatementKind::Ddl
        }
        "DROP"
            if words[1..]
                .iter()
                .any(|w| matches!(w.as_str(), "TABLE" | "TABLES" | "DATABASE" | "SCHEMA")) =>
        {
            StatementKind::Ddl
        }
        _ => StatementKind::Other,
    }
}

/// The first `n` words of `sql`, uppercased, skipping whitespace and comments; the content of
/// version comments counts.
fn first_words(sql: &[u8], n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < sql.len() && words.len() < n {
        let c = sql[i];
        let next = sql.get(i + 1).copied();
        if c.is_ascii_whitespace() || c == b'(' {
            i += 1;
        } else if c == b'/' && next == Some(b'*') {
            let rest = &sql[i + 2..];
            if rest.first() == Some(&b'!') || rest.starts_with(b"M!") {
                // Version comment: skip the marker and version number, keep the content.
                i += if rest.first() == Some(&b'!') { 3 } else { 4 };
                while sql.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            } else {
                match rest.windows(2).position(|w| w == b"*/") {
                    Some(end) => i += 2 + end + 2,
                    None => break,
                }
            }
        } else if c == b'*' && next == Some(b'/') {
            i += 2; // the end of a version comment
        } else if c == b'#' || (c == b'-' && next == Some(b'-')) {
            while i < sql.len() && sql[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while sql.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                i += 1;
            }
            words.push(String::from_utf8_lossy(&sql[start..i]).to_ascii_uppercase());
        } else {
            // An identifier, a string or punctuation: count it as a word so positions stay right.
            words.push(String::new());
            i += 1;
        }
    }
    words
}

/// The statement shortened for a report: whitespace runs collapsed, at most `max` characters.
pub fn excerpt(sql: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(sql);
    let mut out = String::new();
    for (n, word) in text.split_whitespace().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() > max {
            let cut: String = out.chars().take(max).collect();
            return format!("{cut}…");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{StatementKind::*, classify, excerpt};

    #[test]
    fn statements_are_classified_by_their_first_keywords() {
        assert_eq!(classify(b"BEGIN"), Begin);
        assert_eq!(classify(b"START TRANSACTION"), Begin);
        assert_eq!(classify(b"COMMIT"), Commit);
        assert_eq!(classify(b"ROLLBACK"), Rollback);
        assert_eq!(classify(b"ROLLBACK TO SAVEPOINT a"), Other);
        assert_eq!(classify(b"XA END 'x'"), Xa);
        assert_eq!(classify(b"  update t set a=1"), Dml);
        assert_eq!(classify(b"/* app:42 */ INSERT INTO t VALUES (1)"), Dml);
        assert_eq!(classify(b"-- x\nDELETE FROM t"), Dml);
        assert_eq!(classify(b"CREATE TABLE t (a INT)"), Ddl);
        assert_eq!(classify(b"CREATE OR REPLACE TEMPORARY TABLE t (a INT)"), Ddl);
        assert_eq!(classify(b"/*!40000 ALTER TABLE `t` DISABLE KEYS */"), Ddl);
        assert_eq!(classify(b"DROP TABLE IF EXISTS `t` /* generated by server */"), Ddl);
        assert_eq!(classify(b"TRUNCATE t"), Ddl);
        assert_eq!(classify(b"DROP DATABASE shop"), Ddl);
        assert_eq!(classify(b"CREATE DATABASE shop"), Other);
        assert_eq!(classify(b"CREATE USER x"), Other);
        assert_eq!(classify(b"GRANT ALL ON *.* TO x"), Other);
        assert_eq!(classify(b"SAVEPOINT a"), Other);
        assert_eq!(classify(b""), Other);
        assert_eq!(classify(b"/* never closed"), Other);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"UPDATE t\n   SET a = 1", 40), "UPDATE t SET a = 1");
        assert_eq!(excerpt(b"abcdef", 3), "abc…");
    }
}
