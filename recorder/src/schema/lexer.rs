/*!
The DDL lexer: text → statements of tokens.

It honours what dump files contain around the SQL: `--`, `#` and `/* */` comments, MySQL/MariaDB
version comments (`/*!40101 ... */`, `/*M!100101 ... */`) whose content counts as SQL, the
`/*M!999999\\- ... */` sandbox line (a client command), `DELIMITER` lines, and strings with
backslash escapes and doubled quotes. An unterminated string or comment is a [`SchemaError`]
naming its line.
*/

use std::fmt;

use super::SchemaError;

/// One token of a statement.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token {
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
    pub(super) fn is_word(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The identifier this token names, if it can name one (`x`, `` `x` ``, `"x"`).
    pub(super) fn identifier(&self) -> Option<&str> {
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
pub(super) struct Spanned {
    pub(super) token: Token,
    pub(super) line: u32,
}

/// Splits DDL text into statements, honouring quotes, comments, version comments and
/// `DELIMITER` lines.
pub(super) struct Lexer<'a> {
    file: &'a str,
    src: &'a [u8],
    pos: usize,
    line: u32,
    delimiter: Vec<u8>,
    /// Inside `/*!NNNNN ... */`: the closing `*/` is skipped, the content is SQL.
    in_version_comment: Option<u32>,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Lexer<'a> {
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
    pub(super) fn statement(&mut self) -> Result<Option<Vec<Spanned>>, SchemaError> {
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
