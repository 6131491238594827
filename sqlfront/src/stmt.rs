//! Planning statements other than queries: DDL, DML, EXPLAIN, transaction
//! control.

use freshet_engine::catalog::{Column, TableDef};
use freshet_engine::expr::Expr;
use freshet_engine::plan::{Map, Plan};
use freshet_engine::value::Value;
use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::expr::{fold_ident, pos_of, Binder};
use crate::from::object_name;
use crate::scope::{Rel, Scope, ScopeColumn};
use crate::select::plan_query;
use crate::types::sql_type;
use crate::{Catalog, InsertSource, Parsed, Statement};

/// Plans one parsed statement.
pub(crate) fn plan_statement(stmt: &Parsed, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = pos_of(&stmt.ast);
    match &stmt.ast {
        ast::Statement::Query(q) => Ok(Statement::Select(plan_query(q, catalog, false)?)),
        ast::Statement::CreateTable(ct) => create_table(ct, catalog),
        ast::Statement::CreateView(cv) => create_view(cv, &stmt.sql, catalog),
        ast::Statement::Drop { object_type, if_exists, names, cascade, purge, temporary, table, .. } => {
            if *purge || *temporary || table.is_some() {
                return Err(SqlError::unsupported(format!("{}", stmt.ast), pos));
            }
            drop(*object_type, *if_exists, *cascade, names, catalog, pos)
        }
        ast::Statement::Insert(ins) => insert(ins, catalog),
        ast::Statement::Update(up) => update(up, catalog),
        ast::Statement::Delete(del) => delete(del, catalog),
        ast::Statement::Explain { analyze, verbose, statement, format, options, query_plan, estimate, .. } => {
            if *analyze || *verbose || format.is_some() || options.is_some() || *query_plan || *estimate {
                return Err(SqlError::unsupported("EXPLAIN options", pos));
            }
            match statement.as_ref() {
                ast::Statement::Query(q) => Ok(Statement::Explain(plan_query(q, catalog, false)?)),
                other => Err(SqlError::unsupported(format!("EXPLAIN of {}", statement_kind(other)), pos)),
            }
        }
        ast::Statement::StartTransaction { modes, statements, exception, modifier, .. } => {
            if !modes.is_empty() || !statements.is_empty() || exception.is_some() || modifier.is_some() {
                return Err(SqlError::unsupported("transaction modes", pos));
            }
            Ok(Statement::Begin)
        }
        ast::Statement::Commit { chain, modifier, .. } => {
            if *chain || modifier.is_some() {
                return Err(SqlError::unsupported("COMMIT AND CHAIN", pos));
            }
            Ok(Statement::Commit)
        }
        ast::Statement::Rollback { chain, savepoint } => {
            if *chain || savepoint.is_some() {
                return Err(SqlError::unsupported("ROLLBACK AND CHAIN / TO SAVEPOINT", pos));
            }
            Ok(Statement::Rollback)
        }
        other => Err(SqlError::unsupported(statement_kind(other), pos)),
    }
}

/// A short name of a statement, for "not supported" messages.
fn statement_kind(s: &ast::Statement) -> String {
    let text = s.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [first, second] if matches!(*first, "CREATE" | "DROP" | "ALTER") => format!("{first} {second}"),
        [first, ..] => first.to_string(),
        [] => "statement".to_string(),
    }
}

fn exists(catalog: &dyn Catalog, name: &str) -> bool {
    catalog.table(name).is_some() || catalog.view(name).is_some()
}

fn create_table(ct: &ast::CreateTable, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = pos_of(&ct.name);
    if ct.or_replace || ct.temporary || ct.unlogged || ct.external || ct.query.is_some() || ct.like.is_some() || ct.clone.is_some() || ct.inherits.is_some() || ct.partition_of.is_some() {
        return Err(SqlError::unsupported("this form of CREATE TABLE", pos));
    }
    let name = object_name(&ct.name)?;
    if !ct.if_not_exists && exists(catalog, &name) {
        return Err(SqlError::new(ErrorKind::DuplicateObject, format!("relation \"{name}\" already exists"), pos));
    }
    let mut columns: Vec<Column> = Vec::new();
    let mut primary_key: Option<Vec<usize>> = None;
    let mut pk_pos = None;
    for cd in &ct.columns {
        let cpos = Position::from_span(cd.name.span);
        let cname = fold_ident(&cd.name);
        if columns.iter().any(|c| c.name == cname) {
            return Err(SqlError::new(ErrorKind::DuplicateObject, format!("column \"{cname}\" specified more than once"), cpos));
        }
        let ty = sql_type(&cd.data_type, cpos)?.ty;
        let mut nullable = true;
        for opt in &cd.options {
            let opos = pos_of(opt).or(cpos);
            match &opt.option {
                ast::ColumnOption::Null => {}
                ast::ColumnOption::NotNull => nullable = false,
                ast::ColumnOption::PrimaryKey(_) => {
                    if primary_key.is_some() {
                        return Err(multiple_pk(&name, opos));
                    }
                    primary_key = Some(vec![columns.len()]);
                    pk_pos = opos;
                }
                ast::ColumnOption::Default(_) => return Err(SqlError::unsupported("column defaults", opos)),
                ast::ColumnOption::Unique(_) => return Err(SqlError::unsupported("UNIQUE constraints", opos)),
                ast::ColumnOption::ForeignKey(_) => return Err(SqlError::unsupported("foreign keys", opos)),
                ast::ColumnOption::Check(_) => return Err(SqlError::unsupported("CHECK constraints", opos)),
                ast::ColumnOption::Generated { .. } | ast::ColumnOption::Identity(_) => {
                    return Err(SqlError::unsupported("generated columns", opos))
                }
                other => return Err(SqlError::unsupported(format!("column option {other}"), opos)),
            }
        }
        columns.push(Column { name: cname, ty, nullable });
    }
    for c in &ct.constraints {
        let cpos = pos_of(c).or(pos);
        match c {
            ast::TableConstraint::PrimaryKey(pk) => {
                if primary_key.is_some() {
                    return Err(multiple_pk(&name, cpos));
                }
                let mut cols = Vec::new();
                for ic in &pk.columns {
                    let ipos = pos_of(&ic.column.expr);
                    let cname = match &ic.column.expr {
                        ast::Expr::Identifier(id) => fold_ident(id),
                        other => return Err(SqlError::unsupported(format!("primary key on expression {other}"), ipos)),
                    };
                    let i = columns.iter().position(|c| c.name == cname).ok_or_else(|| {
                        SqlError::new(
                            ErrorKind::UndefinedColumn,
                            format!("column \"{cname}\" named in key does not exist"),
                            ipos,
                        )
                    })?;
                    if cols.contains(&i) {
                        return Err(SqlError::new(
                            ErrorKind::DuplicateObject,
                            format!("column \"{cname}\" appears twice in primary key constraint"),
                            ipos,
                        ));
                    }
                    cols.push(i);
                }
                primary_key = Some(cols);
                pk_pos = cpos;
            }
            ast::TableConstraint::Unique(_) => return Err(SqlError::unsupported("UNIQUE constraints", cpos)),
            ast::TableConstraint::ForeignKey(_) => return Err(SqlError::unsupported("foreign keys", cpos)),
            ast::TableConstraint::Check(_) => return Err(SqlError::unsupported("CHECK constraints", cpos)),
            other => return Err(SqlError::unsupported(format!("table constraint {other}"), cpos)),
        }
    }
    let _ = pk_pos;
    let primary_key = primary_key.unwrap_or_default();
    for &k in &primary_key {
        columns[k].nullable = false;
    }
    Ok(Statement::CreateTable { name, columns, primary_key, if_not_exists: ct.if_not_exists })
}

fn multiple_pk(table: &str, pos: Option<Position>) -> SqlError {
    SqlError::new(ErrorKind::Other, format!("multiple primary keys for table \"{table}\" are not allowed"), pos)
}

fn create_view(cv: &ast::CreateView, stmt_sql: &str, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = pos_of(&cv.name);
    if !cv.materialized {
        return Err(SqlError::unsupported("views (use CREATE MATERIALIZED VIEW)", pos));
    }
    if cv.or_replace || cv.or_alter || cv.temporary || cv.to.is_some() || cv.params.is_some() {
        return Err(SqlError::unsupported("this form of CREATE MATERIALIZED VIEW", pos));
    }
    if !matches!(cv.options, ast::CreateTableOptions::None) {
        return Err(SqlError::unsupported("materialized view options", pos));
    }
    let name = object_name(&cv.name)?;
    if !cv.if_not_exists && exists(catalog, &name) {
        return Err(SqlError::new(ErrorKind::DuplicateObject, format!("relation \"{name}\" already exists"), pos));
    }
    let mut query = plan_query(&cv.query, catalog, true)?;
    if cv.columns.len() > query.columns.len() {
        return Err(SqlError::new(ErrorKind::Other, "too many column names were specified", pos));
    }
    for (c, vc) in query.columns.iter_mut().zip(&cv.columns) {
        if vc.data_type.is_some() || vc.options.is_some() {
            return Err(SqlError::unsupported("column types in CREATE MATERIALIZED VIEW", pos));
        }
        c.name = fold_ident(&vc.name);
    }
    for (i, c) in query.columns.iter().enumerate() {
        if query.columns[..i].iter().any(|p| p.name == c.name) {
            return Err(SqlError::new(
                ErrorKind::DuplicateObject,
                format!("column \"{}\" specified more than once", c.name),
                None,
            ));
        }
    }
    let sql = view_query_text(stmt_sql).unwrap_or_else(|| cv.query.to_string());
    Ok(Statement::CreateView { name, sql, query, if_not_exists: cv.if_not_exists })
}

/// The text after the first top-level `AS` of a CREATE MATERIALIZED VIEW.
fn view_query_text(stmt_sql: &str) -> Option<String> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, stmt_sql).tokenize_with_location().ok()?;
    let index = crate::parse::LineIndex::new(stmt_sql);
    let mut depth = 0i64;
    for t in &tokens {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if depth == 0 && w.quote_style.is_none() && w.keyword == Keyword::AS => {
                let rest = stmt_sql[index.offset(t.span.end)..].trim();
                return Some(rest.to_string());
            }
            _ => {}
        }
    }
    None
}

fn drop(
    object_type: ast::ObjectType,
    if_exists: bool,
    cascade: bool,
    names: &[ast::ObjectName],
    catalog: &dyn Catalog,
    pos: Option<Position>,
) -> Result<Statement> {
    let table = match object_type {
        ast::ObjectType::Table => true,
        ast::ObjectType::MaterializedView => false,
        other => return Err(SqlError::unsupported(format!("DROP {other}"), pos)),
    };
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let npos = pos_of(n);
        let name = object_name(n)?;
        let (is_table, is_view) = (catalog.table(&name).is_some(), catalog.view(&name).is_some());
        if table && is_view {
            return Err(SqlError::new(ErrorKind::Other, format!("\"{name}\" is not a table"), npos)
                .with_hint("Use DROP MATERIALIZED VIEW to remove a materialized view."));
        }
        if !table && is_table {
            return Err(SqlError::new(ErrorKind::Other, format!("\"{name}\" is not a materialized view"), npos)
                .with_hint("Use DROP TABLE to remove a table."));
        }
        if !if_exists && !is_table && !is_view {
            let what = if table { "table" } else { "materialized view" };
            return Err(SqlError::new(ErrorKind::UndefinedTable, format!("{what} \"{name}\" does not exist"), npos));
        }
        out.push(name);
    }
    Ok(if table {
        Statement::DropTable { names: out, if_exists, cascade }
    } else {
        Statement::DropView { names: out, if_exists, cascade }
    })
}

/// The table a DML statement writes, with a scope over its row.
fn target_table<'c>(
    name: &ast::ObjectName,
    alias: Option<&ast::Ident>,
    catalog: &'c dyn Catalog,
) -> Result<(&'c TableDef, Scope)> {
    let pos = pos_of(name);
    let tname = object_name(name)?;
    let Some(t) = catalog.table(&tname) else {
        if catalog.view(&tname).is_some() {
            return Err(SqlError::new(ErrorKind::Other, format!("cannot change materialized view \"{tname}\""), pos));
        }
        return Err(SqlError::new(ErrorKind::UndefinedTable, format!("relation \"{tname}\" does not exist"), pos));
    };
    let columns: Vec<ScopeColumn> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ScopeColumn { name: c.name.clone(), expr: Expr::Column(i), ty: c.ty, nullable: c.nullable })
        .collect();
    let rel = Rel {
        aliased: alias.is_some().then(|| tname.clone()),
        name: alias.map_or_else(|| tname.clone(), fold_ident),
        columns: columns.clone(),
        primary_key: t.primary_key.clone(),
        offset: 0,
    };
    Ok((t, Scope { rels: vec![rel], visible_rels: vec![0], columns }))
}

fn is_default(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

fn insert(ins: &ast::Insert, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = pos_of(ins);
    let name = match &ins.table {
        ast::TableObject::TableName(n) => n,
        _ => return Err(SqlError::unsupported("INSERT into a table function", pos)),
    };
    if ins.on.is_some() {
        return Err(SqlError::unsupported("ON CONFLICT", pos));
    }
    if ins.returning.is_some() {
        return Err(SqlError::unsupported("RETURNING", pos));
    }
    if ins.or.is_some() || ins.ignore || ins.overwrite || !ins.assignments.is_empty() || ins.partitioned.is_some() || ins.replace_into {
        return Err(SqlError::unsupported("this form of INSERT", pos));
    }
    let (table, _) = target_table(name, None, catalog)?;
    let mut targets: Vec<usize> = Vec::new();
    for c in &ins.columns {
        let cpos = pos_of(c);
        let cname = match c.0.as_slice() {
            [ast::ObjectNamePart::Identifier(id)] => fold_ident(id),
            _ => return Err(SqlError::unsupported(format!("INSERT target {c}"), cpos)),
        };
        let i = table.columns.iter().position(|col| col.name == cname).ok_or_else(|| {
            SqlError::new(
                ErrorKind::UndefinedColumn,
                format!("column \"{cname}\" of relation \"{}\" does not exist", table.name),
                cpos,
            )
        })?;
        if targets.contains(&i) {
            return Err(SqlError::new(ErrorKind::DuplicateObject, format!("column \"{cname}\" specified more than once"), cpos));
        }
        targets.push(i);
    }
    let explicit = !targets.is_empty();
    if !explicit {
        targets = (0..table.columns.len()).collect();
    }
    let Some(source) = &ins.source else {
        // INSERT ... DEFAULT VALUES
        let row = table.columns.iter().map(|_| Expr::Literal(Value::Null)).collect();
        return Ok(Statement::Insert { table: table.id, source: InsertSource::Values(vec![row]) });
    };
    let too_many = |p| SqlError::new(ErrorKind::Other, "INSERT has more expressions than target columns", p);
    let too_few = |p| SqlError::new(ErrorKind::Other, "INSERT has more target columns than expressions", p);
    if let (ast::SetExpr::Values(values), None, None) = (source.body.as_ref(), &source.order_by, &source.limit_clause) {
        if source.with.is_some() {
            return Err(SqlError::unsupported("WITH", pos));
        }
        let scope = Scope::default();
        let mut rows = Vec::with_capacity(values.rows.len());
        for row in &values.rows {
            let row = &row.content;
            if row.len() > targets.len() {
                return Err(too_many(pos_of(&row[targets.len()])));
            }
            if explicit && row.len() < targets.len() {
                return Err(too_few(pos_of(&ins.columns[row.len()])));
            }
            let mut out: Vec<Expr> = table.columns.iter().map(|_| Expr::Literal(Value::Null)).collect();
            for (e, &ti) in row.iter().zip(&targets) {
                if is_default(e) {
                    continue;
                }
                let mut b = Binder::new(&scope, "VALUES");
                let t = b.bind(e)?;
                let col = &table.columns[ti];
                out[ti] = coerce::assign(t, col.ty, &col.name, pos_of(e))?;
            }
            rows.push(out);
        }
        return Ok(Statement::Insert { table: table.id, source: InsertSource::Values(rows) });
    }
    let query = plan_query(source, catalog, false)?;
    if query.limit.is_some() || query.offset.is_some() {
        return Err(SqlError::unsupported("LIMIT/OFFSET in INSERT ... SELECT", pos_of(source.as_ref())));
    }
    let n = query.columns.len();
    if n > targets.len() {
        return Err(too_many(pos_of(source.as_ref())));
    }
    if explicit && n < targets.len() {
        return Err(too_few(pos_of(&ins.columns[n])));
    }
    let mut exprs: Vec<Expr> = table.columns.iter().map(|_| Expr::Literal(Value::Null)).collect();
    for (i, &ti) in targets.iter().take(n).enumerate() {
        let col = &table.columns[ti];
        let src = Typed::new(Expr::Column(i), query.columns[i].ty);
        exprs[ti] = coerce::assign(src, col.ty, &col.name, pos_of(source.as_ref()))?;
    }
    let columns = table.columns.clone();
    let plan = Plan::Map(Map { input: Box::new(query.plan), exprs });
    Ok(Statement::Insert {
        table: table.id,
        source: InsertSource::Query(crate::Query { plan, columns, order_by: Vec::new(), hidden: 0, limit: None, offset: None }),
    })
}

fn single_table(twj: &ast::TableWithJoins, what: &str) -> Result<(ast::ObjectName, Option<ast::Ident>)> {
    let pos = pos_of(&twj.relation);
    if !twj.joins.is_empty() {
        return Err(SqlError::unsupported(format!("joins in {what}"), pos));
    }
    match &twj.relation {
        ast::TableFactor::Table { name, alias, args: None, .. } => {
            if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                return Err(SqlError::unsupported("column aliases", pos));
            }
            Ok((name.clone(), alias.as_ref().map(|a| a.name.clone())))
        }
        _ => Err(SqlError::unsupported(format!("this target of {what}"), pos)),
    }
}

fn update(up: &ast::Update, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = Position::from_span(up.update_token.0.span);
    if up.from.is_some() {
        return Err(SqlError::unsupported("UPDATE ... FROM", pos));
    }
    if up.returning.is_some() || up.output.is_some() {
        return Err(SqlError::unsupported("RETURNING", pos));
    }
    if up.or.is_some() || !up.order_by.is_empty() || up.limit.is_some() {
        return Err(SqlError::unsupported("this form of UPDATE", pos));
    }
    let (name, alias) = single_table(&up.table, "UPDATE")?;
    let (table, scope) = target_table(&name, alias.as_ref(), catalog)?;
    let mut assignments: Vec<(usize, Expr)> = Vec::new();
    for a in &up.assignments {
        let apos = pos_of(a);
        let cname = match &a.target {
            ast::AssignmentTarget::ColumnName(n) => match n.0.as_slice() {
                [ast::ObjectNamePart::Identifier(id)] => fold_ident(id),
                _ => return Err(SqlError::unsupported(format!("assignment target {n}"), apos)),
            },
            ast::AssignmentTarget::Tuple(_) => return Err(SqlError::unsupported("multiple-column assignment", apos)),
        };
        let i = table.columns.iter().position(|c| c.name == cname).ok_or_else(|| {
            SqlError::new(
                ErrorKind::UndefinedColumn,
                format!("column \"{cname}\" of relation \"{}\" does not exist", table.name),
                apos,
            )
        })?;
        if assignments.iter().any(|(c, _)| *c == i) {
            return Err(SqlError::new(ErrorKind::Other, format!("multiple assignments to same column \"{cname}\""), apos));
        }
        let col = &table.columns[i];
        let value = if is_default(&a.value) {
            Expr::Literal(Value::Null)
        } else {
            let mut b = Binder::new(&scope, "UPDATE");
            let t = b.bind(&a.value)?;
            coerce::assign(t, col.ty, &col.name, pos_of(&a.value))?
        };
        assignments.push((i, value));
    }
    let predicate = match &up.selection {
        Some(w) => Some(Binder::new(&scope, "WHERE").condition(w, "WHERE")?),
        None => None,
    };
    Ok(Statement::Update { table: table.id, predicate, assignments })
}

fn delete(del: &ast::Delete, catalog: &dyn Catalog) -> Result<Statement> {
    let pos = Position::from_span(del.delete_token.0.span);
    if !del.tables.is_empty() || del.using.is_some() {
        return Err(SqlError::unsupported("DELETE ... USING", pos));
    }
    if del.returning.is_some() || del.output.is_some() {
        return Err(SqlError::unsupported("RETURNING", pos));
    }
    if !del.order_by.is_empty() || del.limit.is_some() {
        return Err(SqlError::unsupported("this form of DELETE", pos));
    }
    let from = match &del.from {
        ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
    };
    let [twj] = from.as_slice() else {
        return Err(SqlError::unsupported("DELETE from several tables", pos));
    };
    let (name, alias) = single_table(twj, "DELETE")?;
    let (table, scope) = target_table(&name, alias.as_ref(), catalog)?;
    let predicate = match &del.selection {
        Some(w) => Some(Binder::new(&scope, "WHERE").condition(w, "WHERE")?),
        None => None,
    };
    Ok(Statement::Delete { table: table.id, predicate })
}
