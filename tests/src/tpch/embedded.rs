//! The TPC-H tables in an embedded [`Database`]: created, loaded one
//! transaction per table, and changed by refresh rounds in one transaction
//! each.

use freshet::{Database, Error};
use freshet_sql::{ErrorKind, SqlError};

use super::data::Data;
use super::queries::Query;
use super::refresh::Round;
use super::schema::TABLES;
use super::TextRow;

/// Creates the eight tables.
pub fn create_tables(db: &mut Database) -> Result<(), Error> {
    for t in TABLES {
        db.execute(&t.create_sql())?;
    }
    Ok(())
}

/// Creates the tables and loads `data`, one transaction per table.
pub fn load(db: &mut Database, data: &Data) -> Result<(), Error> {
    create_tables(db)?;
    for (t, contents) in TABLES.iter().zip(data.tables()) {
        db.insert(t.name, contents.rows().to_vec())?;
    }
    Ok(())
}

/// Applies a round of changes as one transaction.
pub fn apply(db: &mut Database, round: &Round) -> Result<(), Error> {
    db.execute("BEGIN")?;
    for (t, changes) in TABLES.iter().zip(&round.changes) {
        if !changes.is_empty() {
            if let Err(e) = db.apply(t.name, changes.clone()) {
                db.execute("ROLLBACK")?;
                return Err(e);
            }
        }
    }
    db.execute("COMMIT")?;
    Ok(())
}

/// A view's current rows as PostgreSQL's text output (NULL as `None`).
pub fn view_text(db: &mut Database, view: &str) -> Result<Vec<TextRow>, Error> {
    Ok(db
        .view_rows(view)?
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| {
                    if v.is_null() {
                        None
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect()
        })
        .collect())
}

/// `CREATE MATERIALIZED VIEW qNN AS <query>`.
pub fn create_view(db: &mut Database, query: &Query) -> Result<(), Error> {
    db.execute(&format!(
        "CREATE MATERIALIZED VIEW {} AS {}",
        query.view_name(),
        query.sql
    ))
    .map(|_| ())
}

/// True for the front end's `not supported: …` errors.
pub fn is_unsupported(e: &Error) -> bool {
    matches!(
        e,
        Error::Sql(SqlError::User {
            kind: ErrorKind::Unsupported,
            ..
        })
    )
}

/// An error of `CREATE MATERIALIZED VIEW` for `query`, with the position
/// in its file (`q02.sql:27:5: not supported: …`) where the front end
/// gives one.
pub fn describe_error(query: &Query, e: &Error) -> String {
    match e {
        Error::Sql(SqlError::User {
            message,
            position: Some(p),
            ..
        }) => {
            format!(
                "{}.sql:{}:{}: {message}",
                query.view_name(),
                p.line,
                p.column
            )
        }
        e => format!("{}.sql: {e}", query.view_name()),
    }
}
