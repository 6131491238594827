//! Quoting of identifiers and literals. Every name that reaches SQL text
//! goes through [`quote_ident`]; every value goes through a parameter or
//! [`quote_literal`].

/// A quoted identifier: `"a ""b"""` for `a "b"`, whatever its case or
/// characters.
pub fn quote_ident(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push('"');
    for c in name.chars() {
        if c == '"' {
            s.push('"');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// `schema.name`, both quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// A string literal for SQL text, valid with `standard_conforming_strings`
/// on (the adapter sets it on every connection): quotes doubled, every
/// other character as is.
pub fn quote_literal(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    for c in value.chars() {
        if c == '\'' {
            s.push('\'');
        }
        s.push(c);
    }
    s.push('\'');
    s
}

/// The name of the change-log table of a source table.
pub fn log_table(oid: u32) -> String {
    format!("log_{oid}")
}

/// The name of the composite type of a source table's captured rows (a
/// large statement's rows are logged as one array of it).
pub fn row_type(oid: u32) -> String {
    format!("row_{oid}")
}

/// The name of the capture trigger function of a source table.
pub fn capture_function(oid: u32) -> String {
    format!("capture_{oid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(quote_ident("Order Lines"), "\"Order Lines\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("My", "t"), "\"My\".\"t\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a\\b'");
    }
}
