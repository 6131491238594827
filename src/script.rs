//! Splitting SQL text into statements as it arrives, the way psql does:
//! a statement ends at a `;` outside quotes, dollar quotes and comments.

/// Accumulates input and hands out complete statements.
#[derive(Debug, Default)]
pub struct StatementSplitter {
    buf: String,
    /// Byte offset in `buf` up to which scanning is done.
    scanned: usize,
    state: State,
    /// Line number (1-based) of the start of `buf` in the whole input.
    line: usize,
}

#[derive(Debug, Default, Clone, PartialEq)]
enum State {
    #[default]
    Normal,
    Single,
    Double,
    LineComment,
    BlockComment(usize),
    Dollar(String),
}

/// A complete statement and the input line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The statement text, including its `;`.
    pub sql: String,
    /// The 1-based line of the input where the text starts.
    pub line: usize,
}

impl StatementSplitter {
    /// A splitter at the start of input.
    pub fn new() -> StatementSplitter {
        StatementSplitter { line: 1, ..Default::default() }
    }

    /// Adds input and returns the statements it completes.
    pub fn push(&mut self, input: &str) -> Vec<Piece> {
        self.buf.push_str(input);
        let mut out = Vec::new();
        let bytes = self.buf.as_bytes();
        let mut i = self.scanned;
        let mut start = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            match &self.state {
                State::Normal => match c {
                    b'\'' => self.state = State::Single,
                    b'"' => self.state = State::Double,
                    b'-' if next == Some(b'-') => {
                        self.state = State::LineComment;
                        i += 1;
                    }
                    b'/' if next == Some(b'*') => {
                        self.state = State::BlockComment(1);
                        i += 1;
                    }
                    b'$' => {
                        if let Some(tag) = dollar_tag(&bytes[i..]) {
                            i += tag.len() - 1;
                            self.state = State::Dollar(tag);
                        }
                    }
                    b';' => {
                        let sql = self.buf[start..=i].to_string();
                        let lead = leading_newlines(&sql);
                        let piece_line = self.line + lead;
                        self.line += sql.matches('\n').count();
                        out.push(Piece { sql, line: piece_line });
                        start = i + 1;
                    }
                    _ => {}
                },
                State::Single => {
                    if c == b'\'' {
                        if next == Some(b'\'') {
                            i += 1;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                }
                State::Double => {
                    if c == b'"' {
                        self.state = State::Normal;
                    }
                }
                State::LineComment => {
                    if c == b'\n' {
                        self.state = State::Normal;
                    }
                }
                State::BlockComment(depth) => {
                    let depth = *depth;
                    if c == b'*' && next == Some(b'/') {
                        self.state = if depth == 1 { State::Normal } else { State::BlockComment(depth - 1) };
                        i += 1;
                    } else if c == b'/' && next == Some(b'*') {
                        self.state = State::BlockComment(depth + 1);
                        i += 1;
                    }
                }
                State::Dollar(tag) => {
                    if bytes[i..].starts_with(tag.as_bytes()) {
                        i += tag.len() - 1;
                        self.state = State::Normal;
                    }
                }
            }
            i += 1;
        }
        self.buf.drain(..start);
        self.scanned = i - start;
        out
    }

    /// The input left after the last complete statement, if it holds
    /// anything but white space and comments (psql runs it at end of input).
    pub fn finish(self) -> Option<Piece> {
        let rest = self.buf.trim();
        if rest.is_empty() || only_comments(rest) {
            return None;
        }
        Some(Piece { line: self.line + leading_newlines(&self.buf), sql: self.buf })
    }
}

fn leading_newlines(s: &str) -> usize {
    let trimmed = s.len() - s.trim_start().len();
    s[..trimmed].matches('\n').count()
}

fn only_comments(s: &str) -> bool {
    s.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with("--")
    })
}

/// `$tag$` at the start of `b`, if it is one.
fn dollar_tag(b: &[u8]) -> Option<String> {
    let end = b[1..].iter().position(|&c| c == b'$')? + 1;
    let tag = &b[1..end];
    if tag.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') && !tag.first().is_some_and(u8::is_ascii_digit) {
        Some(String::from_utf8_lossy(&b[..=end]).into_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<String> {
        let mut s = StatementSplitter::new();
        let mut out: Vec<String> = s.push(input).into_iter().map(|p| p.sql.trim().to_string()).collect();
        out.extend(s.finish().map(|p| p.sql.trim().to_string()));
        out
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(
            split("select 1; select 'a;b'; select \"x;\" from t; -- c;\nselect $$;$$; select /* ; */ 2;"),
            vec!["select 1;", "select 'a;b';", "select \"x;\" from t;", "-- c;\nselect $$;$$;", "select /* ; */ 2;"]
        );
    }

    #[test]
    fn statements_may_span_pushes_and_lines() {
        let mut s = StatementSplitter::new();
        assert!(s.push("select\n 'it''s").is_empty());
        let p = s.push(";'\n;\nselect 2;");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].sql, "select\n 'it''s;'\n;");
        assert_eq!(p[0].line, 1);
        assert_eq!(p[1].line, 4);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn trailing_statement_without_semicolon_runs_at_end() {
        assert_eq!(split("select 1;\nselect 2"), vec!["select 1;", "select 2"]);
        assert_eq!(split("select 1; -- done\n"), vec!["select 1;"]);
    }
}
