//! Splitting a script into statements, each with its own text, and turning
//! sqlparser's errors into PostgreSQL-worded syntax errors.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::Parsed;

/// Maps sqlparser's line/column locations to byte offsets of a text.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// The byte offset of a (1-based) location; the text's end when past it.
    pub(crate) fn offset(&self, loc: Location) -> usize {
        if loc.line == 0 {
            return 0;
        }
        let Some(&start) = self.line_starts.get(loc.line as usize - 1) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices().nth(loc.column.saturating_sub(1) as usize).map_or(self.text.len(), |(i, _)| start + i)
    }
}

fn is_trivia(t: &TokenWithSpan) -> bool {
    matches!(t.token, Token::Whitespace(_))
}

/// Splits `sql` into statements and parses each.
pub(crate) fn parse_script(sql: &str) -> Result<Vec<Parsed>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location().map_err(|e| tokenizer_error(&e.message, e.location))?;
    let index = LineIndex::new(sql);
    let mut out = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    let mut depth = 0i64;
    for tok in tokens.into_iter().chain(std::iter::once(TokenWithSpan::wrap(Token::EOF))) {
        match tok.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        let end = matches!(tok.token, Token::EOF) || (matches!(tok.token, Token::SemiColon) && depth <= 0);
        if !end {
            current.push(tok);
            continue;
        }
        let stmt_tokens = std::mem::take(&mut current);
        let significant: Vec<&TokenWithSpan> = stmt_tokens.iter().filter(|t| !is_trivia(t)).collect();
        let (Some(first), Some(last)) = (significant.first(), significant.last()) else {
            continue;
        };
        let text = sql[index.offset(first.span.start)..index.offset(last.span.end)].to_string();
        let end = Position::from_location(last.span.end);
        let mut parser = Parser::new(&dialect).with_tokens_with_locations(stmt_tokens);
        let ast = parser.parse_statement().map_err(|e| parser_error(e).or_at(end))?;
        let next = parser.peek_token();
        if !matches!(next.token, Token::EOF) {
            return Err(syntax_error_near(&next.token.to_string(), Position::from_location(next.span.start)));
        }
        out.push(Parsed { sql: text, ast });
    }
    Ok(out)
}

/// `syntax error at or near "<token>"` (or `at end of input`).
pub(crate) fn syntax_error_near(token: &str, position: Option<Position>) -> SqlError {
    if token == "EOF" || token.is_empty() {
        SqlError::new(ErrorKind::Syntax, "syntax error at end of input", position)
    } else {
        SqlError::new(ErrorKind::Syntax, format!("syntax error at or near \"{token}\""), position)
    }
}

fn tokenizer_error(message: &str, location: Location) -> SqlError {
    let position = Position::from_location(location);
    let lower = message.to_ascii_lowercase();
    if lower.starts_with("unterminated string") || lower.starts_with("unterminated quoted") {
        SqlError::new(ErrorKind::Syntax, "unterminated quoted string", position)
    } else if lower.contains("unterminated") && lower.contains("comment") {
        SqlError::new(ErrorKind::Syntax, "unterminated /* comment", position)
    } else {
        SqlError::new(ErrorKind::Syntax, format!("syntax error: {}", strip_location(message)), position)
    }
}

/// Removes sqlparser's trailing ` at Line: L, Column: C` and returns the rest
/// with the location.
fn split_location(message: &str) -> (&str, Option<Position>) {
    if let Some(i) = message.rfind(" at Line: ") {
        let tail = &message[i + " at Line: ".len()..];
        let mut parts = tail.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<u64>().ok());
        let column = parts.next().and_then(|c| c.trim().parse::<u64>().ok());
        if let (Some(line), Some(column)) = (line, column) {
            return (&message[..i], Position::from_location(Location { line, column }));
        }
    }
    (message, None)
}

fn strip_location(message: &str) -> &str {
    split_location(message).0
}

fn parser_error(e: ParserError) -> SqlError {
    match e {
        ParserError::TokenizerError(m) => {
            let (msg, pos) = split_location(&m);
            tokenizer_error(msg, pos.map_or(Location { line: 0, column: 0 }, |p| Location { line: p.line, column: p.column }))
        }
        ParserError::ParserError(m) => {
            let (msg, pos) = split_location(&m);
            match msg.rfind(", found: ") {
                Some(i) => syntax_error_near(&msg[i + ", found: ".len()..], pos),
                None => SqlError::new(ErrorKind::Syntax, format!("syntax error: {msg}"), pos),
            }
        }
        ParserError::RecursionLimitExceeded => {
            SqlError::new(ErrorKind::Syntax, "stack depth limit exceeded", None)
        }
    }
}
