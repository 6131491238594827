//! Binding scalar expressions: names resolved against a [`Scope`], types
//! resolved and casts inserted as PostgreSQL's operator resolution does,
//! aggregates collected for the enclosing query.

use freshet_engine::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use freshet_engine::plan::{AggOrder, Aggregate, AggregateFunc};
use freshet_engine::value::{DataType, Numeric, Value};
use sqlparser::ast::{self, Spanned};

use crate::coerce::{self, Typed};
use crate::error::{ErrorKind, Position, Result, SqlError};
use crate::scope::Scope;
use crate::types::{self, sql_type};

/// Aggregates of a query are referenced, until the query's `Reduce` is
/// built, as columns `AGG_BASE + i` of the FROM row.
pub(crate) const AGG_BASE: usize = 1 << 40;

/// The position of an AST node.
pub(crate) fn pos_of(node: &impl Spanned) -> Option<Position> {
    Position::from_span(node.span())
}

/// Binds expressions of one query level.
pub(crate) struct Binder<'a> {
    /// The names visible.
    pub scope: &'a Scope,
    /// The clause being bound, for "aggregate functions are not allowed in
    /// <clause>"; `None` where aggregates are allowed.
    pub no_aggs_in: Option<&'static str>,
    /// The aggregates found so far.
    pub aggs: Vec<Aggregate>,
    /// FROM-row columns referenced outside aggregates, with positions, in
    /// order of appearance (for grouping errors).
    pub refs: Vec<(usize, Option<Position>)>,
    /// The query level subqueries are planned in and attached to; `None`
    /// where subqueries are not supported.
    pub level: Option<&'a crate::subquery::Level<'a>>,
    /// In a subquery, the enclosing query, where names not found in
    /// `scope` resolve (also read from `level`).
    pub outer: Option<&'a crate::subquery::Outer<'a>>,
    in_agg: bool,
}

impl<'a> Binder<'a> {
    /// A binder over `scope` that refuses aggregates in `clause`.
    pub fn new(scope: &'a Scope, clause: &'static str) -> Binder<'a> {
        Binder { scope, no_aggs_in: Some(clause), aggs: Vec::new(), refs: Vec::new(), level: None, outer: None, in_agg: false }
    }

    /// Binds `e` as a boolean condition of `clause` (`WHERE`, `HAVING`, ...).
    pub fn condition(&mut self, e: &ast::Expr, clause: &str) -> Result<Expr> {
        let t = self.bind(e)?;
        coerce::to_bool(t, clause, pos_of(e))
    }

    /// Binds `e`.
    pub fn bind(&mut self, e: &ast::Expr) -> Result<Typed> {
        use ast::Expr as A;
        let pos = pos_of(e);
        match e {
            A::Identifier(id) => self.column(None, id),
            A::CompoundIdentifier(ids) => match ids.as_slice() {
                [q, c] => self.column(Some(q), c),
                _ => Err(SqlError::unsupported(format!("column reference {e}"), pos)),
            },
            A::Nested(inner) => self.bind(inner),
            A::Value(v) => literal(&v.value, pos),
            A::TypedString(ts) => {
                let st = sql_type(&ts.data_type, pos)?;
                let s = string_value(&ts.value.value)
                    .ok_or_else(|| SqlError::unsupported(format!("typed literal {e}"), pos))?;
                Ok(coerce::cast_explicit(Typed::unknown_text(s), st.ty, pos)?)
            }
            A::Interval(iv) => {
                if iv.leading_field.is_some()
                    || iv.last_field.is_some()
                    || iv.leading_precision.is_some()
                    || iv.fractional_seconds_precision.is_some()
                {
                    return Err(SqlError::unsupported("interval field qualifiers", pos));
                }
                match iv.value.as_ref() {
                    A::Value(v) if string_value(&v.value).is_some() => {
                        let s = string_value(&v.value).unwrap_or_default();
                        coerce::cast_explicit(Typed::unknown_text(s), DataType::Interval, pos)
                    }
                    _ => Err(SqlError::unsupported("INTERVAL with a non-string value", pos)),
                }
            }
            A::Cast { kind, expr, data_type, format } => {
                if format.is_some() || !matches!(kind, ast::CastKind::Cast | ast::CastKind::DoubleColon) {
                    return Err(SqlError::unsupported(format!("{kind:?} expressions").to_uppercase(), pos));
                }
                let st = sql_type(data_type, pos)?;
                let inner = self.bind(expr)?;
                coerce::cast_explicit(inner, st.ty, pos)
            }
            A::UnaryOp { op, expr } => self.unary(*op, expr, pos),
            A::BinaryOp { left, op, right } => self.binary(left, op, right, pos),
            A::IsNull(x) => self.null_test(x, UnaryFunc::IsNull),
            A::IsNotNull(x) => self.null_test(x, UnaryFunc::IsNotNull),
            A::IsTrue(x) => self.bool_test(x, UnaryFunc::IsTrue, "IS TRUE"),
            A::IsNotTrue(x) => self.bool_test(x, UnaryFunc::IsNotTrue, "IS NOT TRUE"),
            A::IsFalse(x) => self.bool_test(x, UnaryFunc::IsFalse, "IS FALSE"),
            A::IsNotFalse(x) => self.bool_test(x, UnaryFunc::IsNotFalse, "IS NOT FALSE"),
            A::IsUnknown(x) => self.bool_test(x, UnaryFunc::IsNull, "IS UNKNOWN"),
            A::IsNotUnknown(x) => self.bool_test(x, UnaryFunc::IsNotNull, "IS NOT UNKNOWN"),
            A::IsDistinctFrom(l, r) => self.compare(l, r, BinaryFunc::IsDistinctFrom, "IS DISTINCT FROM", pos),
            A::IsNotDistinctFrom(l, r) => {
                self.compare(l, r, BinaryFunc::IsNotDistinctFrom, "IS NOT DISTINCT FROM", pos)
            }
            A::InList { expr, list, negated } => self.in_list(expr, list, *negated, pos),
            A::Between { expr, negated, low, high } => {
                let (lo_op, hi_op, join) = if *negated {
                    (BinaryFunc::Lt, BinaryFunc::Gt, VariadicFunc::Or)
                } else {
                    (BinaryFunc::Gte, BinaryFunc::Lte, VariadicFunc::And)
                };
                let a = self.compare(expr, low, lo_op.clone(), op_symbol(&lo_op), pos)?;
                let b = self.compare(expr, high, hi_op.clone(), op_symbol(&hi_op), pos)?;
                Ok(Typed::new(Expr::Variadic { func: join, args: vec![a.expr, b.expr] }, DataType::Bool))
            }
            A::Like { negated, any, expr, pattern, escape_char } => {
                self.like(*negated, *any, expr, pattern, escape_char.as_deref(), false, pos)
            }
            A::ILike { negated, any, expr, pattern, escape_char } => {
                self.like(*negated, *any, expr, pattern, escape_char.as_deref(), true, pos)
            }
            A::Case { operand, conditions, else_result, .. } => {
                self.case(operand.as_deref(), conditions, else_result.as_deref())
            }
            A::Function(f) => self.function(f, pos),
            A::Subquery(_) | A::Exists { .. } | A::InSubquery { .. } | A::AnyOp { .. } | A::AllOp { .. }
                if self.in_agg =>
            {
                Err(SqlError::unsupported("subqueries in aggregate arguments", pos))
            }
            A::Subquery(q) => crate::subquery::bind_scalar(self, q, pos),
            A::Exists { subquery, negated } => crate::subquery::bind_exists(self, subquery, *negated, pos),
            A::InSubquery { expr, subquery, negated } => crate::subquery::bind_in(self, expr, subquery, *negated, pos),
            A::AnyOp { left, compare_op, right, .. } => {
                crate::subquery::bind_quantified(self, left, compare_op, right, false, pos)
            }
            A::AllOp { left, compare_op, right } => crate::subquery::bind_quantified(self, left, compare_op, right, true, pos),
            A::SimilarTo { .. } => Err(SqlError::unsupported("SIMILAR TO", pos)),
            A::AtTimeZone { .. } => Err(SqlError::unsupported("AT TIME ZONE", pos)),
            A::Extract { .. }
            | A::Substring { .. }
            | A::Trim { .. }
            | A::Position { .. }
            | A::Overlay { .. }
            | A::Ceil { .. }
            | A::Floor { .. } => crate::func::bind_special(self, e, pos),
            A::Collate { .. } => Err(SqlError::unsupported("COLLATE", pos)),
            A::Array(_) => Err(SqlError::unsupported("arrays", pos)),
            A::Tuple(_) => Err(SqlError::unsupported("row constructors", pos)),
            A::Wildcard(_) | A::QualifiedWildcard(..) => Err(SqlError::unsupported("* in an expression", pos)),
            other => Err(SqlError::unsupported(format!("expression {other}"), pos)),
        }
    }

    fn column(&mut self, qualifier: Option<&ast::Ident>, name: &ast::Ident) -> Result<Typed> {
        let pos = Position::from_span(qualifier.map_or(name.span, |q| q.span));
        let q = qualifier.map(fold_ident);
        let name = fold_ident(name);
        let r = match self.scope.resolve(q.as_deref(), &name, pos) {
            Ok(r) => r,
            // Not here: a column of an enclosing query (a correlated
            // reference), if this is a subquery.
            Err(e) => match self.outer.or(self.level.and_then(|l| l.outer())) {
                Some(outer) if crate::subquery::not_found(&e, q.is_some()) => outer.resolve(q.as_deref(), &name, pos)?.0,
                _ => return Err(e),
            },
        };
        if !self.in_agg {
            r.expr.visit_columns(&mut |c| self.refs.push((c, pos)));
        }
        Ok(Typed::new(r.expr, r.ty))
    }

    fn unary(&mut self, op: ast::UnaryOperator, inner: &ast::Expr, pos: Option<Position>) -> Result<Typed> {
        match op {
            ast::UnaryOperator::Not => {
                let t = self.bind(inner)?;
                let b = coerce::to_bool(t, "NOT", pos_of(inner))?;
                Ok(Typed::new(b.call_unary(UnaryFunc::Not), DataType::Bool))
            }
            ast::UnaryOperator::Minus => {
                // PostgreSQL folds the sign into a numeric constant.
                if let ast::Expr::Value(v) = inner {
                    if let ast::Value::Number(s, _) = &v.value {
                        return number_literal(&format!("-{s}"), pos);
                    }
                }
                let t = self.bind(inner)?;
                coerce::negate(t, pos)
            }
            ast::UnaryOperator::Plus => {
                let t = self.bind(inner)?;
                if t.ty.is_numeric_family() || t.ty == DataType::Interval {
                    Ok(t)
                } else {
                    Err(coerce::no_unary_operator("+", t.ty, pos))
                }
            }
            other => Err(SqlError::unsupported(format!("operator {other}"), pos)),
        }
    }

    fn binary(&mut self, l: &ast::Expr, op: &ast::BinaryOperator, r: &ast::Expr, pos: Option<Position>) -> Result<Typed> {
        use ast::BinaryOperator as B;
        match op {
            B::And | B::Or => {
                let (func, name) = if matches!(op, B::And) { (VariadicFunc::And, "AND") } else { (VariadicFunc::Or, "OR") };
                let a = self.bind(l)?;
                let a = coerce::to_bool(a, name, pos_of(l))?;
                let b = self.bind(r)?;
                let b = coerce::to_bool(b, name, pos_of(r))?;
                let mut args = Vec::new();
                for x in [a, b] {
                    match x {
                        Expr::Variadic { func: f, args: inner } if f == func => args.extend(inner),
                        x => args.push(x),
                    }
                }
                Ok(Typed::new(Expr::Variadic { func, args }, DataType::Bool))
            }
            B::Eq => self.compare(l, r, BinaryFunc::Eq, "=", pos),
            B::NotEq => self.compare(l, r, BinaryFunc::NotEq, "<>", pos),
            B::Lt => self.compare(l, r, BinaryFunc::Lt, "<", pos),
            B::LtEq => self.compare(l, r, BinaryFunc::Lte, "<=", pos),
            B::Gt => self.compare(l, r, BinaryFunc::Gt, ">", pos),
            B::GtEq => self.compare(l, r, BinaryFunc::Gte, ">=", pos),
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                let func = match op {
                    B::Plus => BinaryFunc::Add,
                    B::Minus => BinaryFunc::Sub,
                    B::Multiply => BinaryFunc::Mul,
                    B::Divide => BinaryFunc::Div,
                    _ => BinaryFunc::Mod,
                };
                let a = self.bind(l)?;
                let b = self.bind(r)?;
                coerce::arithmetic(func, a, b, pos)
            }
            B::StringConcat => {
                let a = self.bind(l)?;
                let b = self.bind(r)?;
                coerce::concat(a, b, pos)
            }
            B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch => {
                let a = self.bind(l)?;
                let b = self.bind(r)?;
                let ci = matches!(op, B::PGRegexIMatch | B::PGRegexNotIMatch);
                crate::func::regex_match(a, b, ci, matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch), pos)
            }
            B::PGLikeMatch => self.like(false, false, l, r, None, false, pos),
            B::PGNotLikeMatch => self.like(true, false, l, r, None, false, pos),
            B::PGILikeMatch => self.like(false, false, l, r, None, true, pos),
            B::PGNotILikeMatch => self.like(true, false, l, r, None, true, pos),
            other => Err(SqlError::unsupported(format!("operator {other}"), pos)),
        }
    }

    fn compare(
        &mut self,
        l: &ast::Expr,
        r: &ast::Expr,
        func: BinaryFunc,
        symbol: &str,
        pos: Option<Position>,
    ) -> Result<Typed> {
        let a = self.bind(l)?;
        let b = self.bind(r)?;
        coerce::comparison(func, symbol, a, b, pos)
    }

    fn null_test(&mut self, x: &ast::Expr, func: UnaryFunc) -> Result<Typed> {
        let t = self.bind(x)?;
        Ok(Typed::new(t.expr.call_unary(func), DataType::Bool))
    }

    fn bool_test(&mut self, x: &ast::Expr, func: UnaryFunc, name: &str) -> Result<Typed> {
        let t = self.bind(x)?;
        let b = coerce::to_bool(t, name, pos_of(x))?;
        Ok(Typed::new(b.call_unary(func), DataType::Bool))
    }

    fn in_list(&mut self, x: &ast::Expr, list: &[ast::Expr], negated: bool, pos: Option<Position>) -> Result<Typed> {
        let lhs = self.bind(x)?;
        let items = list.iter().map(|i| Ok((self.bind(i)?, pos_of(i)))).collect::<Result<Vec<_>>>()?;
        let (func, symbol, join) = if negated {
            (BinaryFunc::NotEq, "<>", VariadicFunc::And)
        } else {
            (BinaryFunc::Eq, "=", VariadicFunc::Or)
        };
        // With a common type every comparison is done in it (PostgreSQL's
        // `= ANY (ARRAY[...])`); otherwise each is resolved on its own.
        let mut all = vec![(lhs.ty, pos_of(x))];
        all.extend(items.iter().map(|(t, p)| (t.ty, *p)));
        let common = types::common_type(&all, "IN").ok().filter(|t| *t != DataType::Unknown);
        let mut args = Vec::with_capacity(items.len());
        for (item, ipos) in items {
            let (a, b) = match common {
                Some(ct) => (coerce::implicit(lhs.clone(), ct, pos)?, coerce::implicit(item, ct, ipos)?),
                None => (lhs.clone(), item),
            };
            args.push(coerce::comparison(func.clone(), symbol, a, b, pos)?.expr);
        }
        let expr = if args.len() == 1 { args.pop().unwrap_or(Expr::Literal(Value::Null)) } else { Expr::Variadic { func: join, args } };
        Ok(Typed::new(expr, DataType::Bool))
    }

    #[allow(clippy::too_many_arguments)]
    fn like(
        &mut self,
        negated: bool,
        any: bool,
        x: &ast::Expr,
        pattern: &ast::Expr,
        escape: Option<&ast::Expr>,
        case_insensitive: bool,
        pos: Option<Position>,
    ) -> Result<Typed> {
        let op = match (case_insensitive, negated) {
            (false, false) => "~~",
            (false, true) => "!~~",
            (true, false) => "~~*",
            (true, true) => "!~~*",
        };
        if any {
            return Err(SqlError::unsupported("LIKE ANY", pos));
        }
        let a = self.bind(x)?;
        let p = self.bind(pattern)?;
        let escape = match escape {
            None => Some('\\'),
            Some(e) => {
                let t = self.bind(e)?;
                match &t.expr {
                    Expr::Literal(Value::Text(s)) if s.chars().count() <= 1 => s.chars().next(),
                    Expr::Literal(Value::Text(_)) => {
                        return Err(SqlError::new(
                            ErrorKind::Other,
                            "invalid escape string",
                            pos_of(e),
                        )
                        .with_hint("Escape string must be empty or one character."))
                    }
                    _ => return Err(SqlError::unsupported("non-constant ESCAPE", pos_of(e))),
                }
            }
        };
        let (a, p) = coerce::like_operands(a, p, op, pos)?;
        let e = a.call_binary(BinaryFunc::Like { escape, case_insensitive }, p);
        let e = if negated { e.call_unary(UnaryFunc::Not) } else { e };
        Ok(Typed::new(e, DataType::Bool))
    }

    fn case(
        &mut self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
    ) -> Result<Typed> {
        let mut conds = Vec::with_capacity(conditions.len());
        for w in conditions {
            let c = match operand {
                Some(op) => self.compare(op, &w.condition, BinaryFunc::Eq, "=", pos_of(&w.condition))?.expr,
                None => {
                    let t = self.bind(&w.condition)?;
                    coerce::to_bool(t, "CASE/WHEN", pos_of(&w.condition))?
                }
            };
            conds.push(c);
        }
        let mut results = Vec::with_capacity(conditions.len() + 1);
        for w in conditions {
            results.push((self.bind(&w.result)?, pos_of(&w.result)));
        }
        let els = match else_result {
            Some(e) => Some((self.bind(e)?, pos_of(e))),
            None => None,
        };
        let mut all: Vec<(DataType, Option<Position>)> = results.iter().map(|(t, p)| (t.ty, *p)).collect();
        if let Some((t, p)) = &els {
            all.push((t.ty, *p));
        }
        // PostgreSQL matches the ELSE first, then the THENs in order.
        all.rotate_right(usize::from(els.is_some()));
        let mut ty = types::common_type(&all, "CASE")?;
        if ty == DataType::Unknown {
            ty = DataType::Text;
        }
        let mut out = match els {
            Some((t, p)) => coerce::implicit(t, ty, p)?.expr,
            None => Expr::Literal(Value::Null),
        };
        for (cond, (res, p)) in conds.into_iter().zip(results).rev() {
            let then = coerce::implicit(res, ty, p)?.expr;
            out = Expr::If { cond: Box::new(cond), then: Box::new(then), els: Box::new(out) };
        }
        Ok(Typed::new(out, ty))
    }

    fn function(&mut self, f: &ast::Function, pos: Option<Position>) -> Result<Typed> {
        let name = match f.name.0.as_slice() {
            [ast::ObjectNamePart::Identifier(id)] => fold_ident(id),
            _ => return Err(SqlError::unsupported(format!("function {}", f.name), pos)),
        };
        if f.over.is_some() {
            return Err(SqlError::unsupported("window functions", pos));
        }
        if !f.within_group.is_empty() {
            return Err(SqlError::unsupported("WITHIN GROUP", pos));
        }
        if f.null_treatment.is_some() {
            return Err(SqlError::unsupported("IGNORE/RESPECT NULLS", pos));
        }
        let list = match &f.args {
            ast::FunctionArguments::List(l) => Some(l),
            ast::FunctionArguments::None => None,
            ast::FunctionArguments::Subquery(_) => return Err(SqlError::unsupported("subqueries", pos)),
        };
        if !matches!(f.parameters, ast::FunctionArguments::None) {
            return Err(SqlError::unsupported(format!("function {name} with parameters"), pos));
        }
        let mut order_by: Option<&[ast::OrderByExpr]> = None;
        if let Some(l) = list {
            for c in &l.clauses {
                match c {
                    ast::FunctionArgumentClause::OrderBy(keys) if order_by.is_none() => order_by = Some(keys),
                    c => return Err(SqlError::unsupported(format!("{c} in a function call"), pos)),
                }
            }
        }
        let distinct = list.is_some_and(|l| matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)));
        let args: Vec<&ast::FunctionArg> = list.map(|l| l.args.iter().collect()).unwrap_or_default();
        let agg = match name.as_str() {
            "count" => Some(AggregateFunc::Count),
            "sum" => Some(AggregateFunc::Sum),
            "avg" => Some(AggregateFunc::Avg),
            "min" => Some(AggregateFunc::Min),
            "max" => Some(AggregateFunc::Max),
            "bool_and" | "every" => Some(AggregateFunc::BoolAnd),
            "bool_or" => Some(AggregateFunc::BoolOr),
            "variance" | "var_samp" => Some(AggregateFunc::VarSamp),
            "var_pop" => Some(AggregateFunc::VarPop),
            "stddev" | "stddev_samp" => Some(AggregateFunc::StddevSamp),
            "stddev_pop" => Some(AggregateFunc::StddevPop),
            "string_agg" => Some(AggregateFunc::StringAgg(AggOrder::default())),
            "array_agg" => Some(AggregateFunc::ArrayAgg(AggOrder::default())),
            _ => None,
        };
        if let Some(func) = agg {
            let call =
                AggCall { distinct, args: &args, order_by: order_by.unwrap_or_default(), filter: f.filter.as_deref() };
            return self.aggregate(&name, func, call, pos);
        }
        if f.filter.is_some() {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("FILTER specified, but {name} is not an aggregate function"),
                pos,
            ));
        }
        if distinct {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("DISTINCT specified, but {name} is not an aggregate function"),
                pos,
            ));
        }
        if order_by.is_some() {
            return Err(SqlError::new(
                ErrorKind::Other,
                format!("ORDER BY specified, but {name} is not an aggregate function"),
                pos,
            ));
        }
        let exprs = args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                _ => Err(SqlError::unsupported(format!("argument {a} of function {name}"), pos)),
            })
            .collect::<Result<Vec<_>>>()?;
        match name.as_str() {
            "coalesce" => {
                if exprs.is_empty() {
                    return Err(crate::parse::syntax_error_near(")", pos));
                }
                let bound = exprs.iter().map(|e| Ok((self.bind(e)?, pos_of(*e)))).collect::<Result<Vec<_>>>()?;
                let all: Vec<_> = bound.iter().map(|(t, p)| (t.ty, *p)).collect();
                let mut ty = types::common_type(&all, "COALESCE")?;
                if ty == DataType::Unknown {
                    ty = DataType::Text;
                }
                let args = bound.into_iter().map(|(t, p)| Ok(coerce::implicit(t, ty, p)?.expr)).collect::<Result<_>>()?;
                Ok(Typed::new(Expr::Variadic { func: VariadicFunc::Coalesce, args }, ty))
            }
            "nullif" => {
                let [a, b] = exprs.as_slice() else {
                    return Err(no_function(&name, &[], pos));
                };
                let ta = self.bind(a)?;
                let tb = self.bind(b)?;
                coerce::nullif(ta, tb, pos)
            }
            _ => crate::func::bind_call(self, &name, &exprs, pos),
        }
    }

    fn aggregate(
        &mut self,
        name: &str,
        func: AggregateFunc,
        call: AggCall<'_>,
        pos: Option<Position>,
    ) -> Result<Typed> {
        if let Some(clause) = self.no_aggs_in {
            return Err(SqlError::new(ErrorKind::Grouping, format!("aggregate functions are not allowed in {clause}"), pos));
        }
        if self.in_agg {
            return Err(SqlError::new(ErrorKind::Grouping, "aggregate function calls cannot be nested", pos));
        }
        self.in_agg = true;
        let result = self.aggregate_inner(name, func, call, pos);
        self.in_agg = false;
        result
    }

    fn aggregate_inner(
        &mut self,
        name: &str,
        func: AggregateFunc,
        call: AggCall<'_>,
        pos: Option<Position>,
    ) -> Result<Typed> {
        let AggCall { distinct, args, order_by, filter } = call;
        let filter = match filter {
            Some(f) => {
                let t = self.bind(f)?;
                Some(coerce::to_bool(t, "FILTER", pos_of(f))?)
            }
            None => None,
        };
        let star = matches!(args, [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)]);
        if args.is_empty() {
            return Err(if func == AggregateFunc::Count {
                SqlError::new(ErrorKind::Other, "count(*) must be used to call a parameterless aggregate function", pos)
            } else {
                no_function(name, &[], pos)
            });
        }
        let (func, arg) = if star {
            if func != AggregateFunc::Count || distinct {
                return Err(no_function(name, &[], pos));
            }
            if let Some(o) = order_by.first() {
                return Err(SqlError::unsupported("ORDER BY in count(*)", pos_of(&o.expr)));
            }
            match filter {
                // count(*) FILTER (WHERE p) counts rows where p holds.
                Some(p) => (
                    AggregateFunc::Count,
                    Typed::new(
                        Expr::If {
                            cond: Box::new(p),
                            then: Box::new(Expr::Literal(Value::Bool(true))),
                            els: Box::new(Expr::Literal(Value::Null)),
                        },
                        DataType::Bool,
                    ),
                ),
                None => (AggregateFunc::CountStar, Typed::new(Expr::Literal(Value::Bool(true)), DataType::Bool)),
            }
        } else {
            let arity = if matches!(func, AggregateFunc::StringAgg(_)) { 2 } else { 1 };
            let mut exprs = Vec::with_capacity(args.len());
            for a in args {
                match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => exprs.push(e),
                    _ if args.len() == arity => {
                        return Err(SqlError::unsupported(format!("argument {a} of {name}"), pos));
                    }
                    _ => {}
                }
            }
            if args.len() != arity {
                let mut tys = Vec::new();
                for e in exprs {
                    tys.push(self.bind(e)?.ty);
                }
                return Err(no_function(name, &tys, pos));
            }
            let raw = exprs.iter().map(|e| self.bind(e)).collect::<Result<Vec<_>>>()?;
            let typed = match func {
                AggregateFunc::StringAgg(_) => {
                    let (value, delimiter) = coerce::string_agg_args(raw[0].clone(), raw[1].clone(), pos)?;
                    vec![value, delimiter]
                }
                _ => vec![coerce::aggregate_arg(name, func, raw[0].clone(), pos)?],
            };
            let (keys, directions) = self.aggregate_order(order_by, distinct, &raw, &typed)?;
            let ty = typed[0].ty;
            let (func, expr) = match func {
                AggregateFunc::StringAgg(_) | AggregateFunc::ArrayAgg(_) => {
                    let order = AggOrder::new(&directions).ok_or_else(|| {
                        SqlError::unsupported(
                            format!("more than {} ORDER BY keys in an aggregate", AggOrder::MAX_KEYS),
                            pos,
                        )
                    })?;
                    let func = match func {
                        AggregateFunc::StringAgg(_) => AggregateFunc::StringAgg(order),
                        _ => AggregateFunc::ArrayAgg(order),
                    };
                    let mut fields: Vec<Expr> = typed.into_iter().map(|t| t.expr).collect();
                    fields.extend(keys);
                    (func, Expr::Variadic { func: VariadicFunc::Record, args: fields })
                }
                // The order rows arrive in does not change the others.
                _ => (func, typed.into_iter().next().expect("one argument").expr),
            };
            let expr = match filter {
                Some(p) => {
                    Expr::If { cond: Box::new(p), then: Box::new(expr), els: Box::new(Expr::Literal(Value::Null)) }
                }
                None => expr,
            };
            (func, Typed::new(expr, ty))
        };
        let agg = Aggregate { func, expr: arg.expr, input_type: arg.ty, distinct };
        let out = agg.output_type();
        let idx = match self.aggs.iter().position(|a| *a == agg) {
            Some(i) => i,
            None => {
                self.aggs.push(agg);
                self.aggs.len() - 1
            }
        };
        Ok(Typed::new(Expr::Column(AGG_BASE + idx), out))
    }

    /// Binds an aggregate's `ORDER BY`: the key expressions (a `char(n)`
    /// key compared without its trailing blanks) and each key's
    /// `(descending, nulls_first)`. Under `DISTINCT` every key must be one
    /// of the arguments (`raw` as written, `typed` as coerced).
    fn aggregate_order(
        &mut self,
        order_by: &[ast::OrderByExpr],
        distinct: bool,
        raw: &[Typed],
        typed: &[Typed],
    ) -> Result<(Vec<Expr>, Vec<SortDirection>)> {
        let mut keys = Vec::with_capacity(order_by.len());
        let mut directions = Vec::with_capacity(order_by.len());
        for o in order_by {
            let opos = pos_of(&o.expr);
            if o.with_fill.is_some() {
                return Err(SqlError::unsupported("WITH FILL", opos));
            }
            let descending = match &o.options.sort {
                Some(ast::OrderBySort::Desc) => true,
                Some(ast::OrderBySort::Asc) | None => false,
                Some(ast::OrderBySort::Using(_)) => return Err(SqlError::unsupported("ORDER BY ... USING", opos)),
            };
            let key = self.bind(&o.expr)?;
            if distinct {
                // An untyped literal is typed separately in each place, so
                // it never matches (as in PostgreSQL).
                let is_arg = key.ty != DataType::Unknown
                    && raw.iter().chain(typed.iter()).any(|a| a.ty != DataType::Unknown && a.expr == key.expr);
                if !is_arg {
                    return Err(SqlError::new(
                        ErrorKind::Other,
                        "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
                        opos,
                    ));
                }
            }
            let key = coerce::resolve_unknown(key);
            keys.push(if types::is_bpchar(key.ty) { key.expr.call_unary(UnaryFunc::CharToText) } else { key.expr });
            directions.push((descending, o.options.nulls_first.unwrap_or(descending)));
        }
        Ok((keys, directions))
    }
}

/// A sort key's `(descending, nulls_first)`.
type SortDirection = (bool, bool);

/// The parts of an aggregate call besides its name.
struct AggCall<'a> {
    /// `agg(DISTINCT ...)`.
    distinct: bool,
    /// The arguments as written.
    args: &'a [&'a ast::FunctionArg],
    /// The `ORDER BY` inside the parentheses.
    order_by: &'a [ast::OrderByExpr],
    /// `FILTER (WHERE ...)`.
    filter: Option<&'a ast::Expr>,
}

/// `function name(types) does not exist`, with PostgreSQL's hint. The
/// types are named as `format_type_be` names them: without modifiers,
/// `char(n)` as `character`.
pub(crate) fn no_function(name: &str, tys: &[DataType], pos: Option<Position>) -> SqlError {
    let type_name = |t: &DataType| match t {
        DataType::Char(_) | DataType::Bpchar => "character".to_string(),
        t => types::type_name(t.without_modifier()),
    };
    SqlError::new(
        ErrorKind::UndefinedFunction,
        format!("function {name}({}) does not exist", tys.iter().map(type_name).collect::<Vec<_>>().join(", ")),
        pos,
    )
    .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// An identifier as PostgreSQL folds it: unquoted names to lower case.
pub(crate) fn fold_ident(id: &ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// The text of a string literal token.
pub(crate) fn string_value(v: &ast::Value) -> Option<String> {
    match v {
        ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => Some(s.clone()),
        ast::Value::DollarQuotedString(d) => Some(d.value.clone()),
        _ => None,
    }
}

fn op_symbol(f: &BinaryFunc) -> &'static str {
    match f {
        BinaryFunc::Lt => "<",
        BinaryFunc::Lte => "<=",
        BinaryFunc::Gt => ">",
        BinaryFunc::Gte => ">=",
        BinaryFunc::Eq => "=",
        _ => "<>",
    }
}

/// A literal constant.
pub(crate) fn literal(v: &ast::Value, pos: Option<Position>) -> Result<Typed> {
    match v {
        ast::Value::Number(s, _) => number_literal(s, pos),
        ast::Value::Boolean(b) => Ok(Typed::new(Expr::Literal(Value::Bool(*b)), DataType::Bool)),
        ast::Value::Null => Ok(Typed::new(Expr::Literal(Value::Null), DataType::Unknown)),
        v => match string_value(v) {
            Some(s) => Ok(Typed::unknown_text(s)),
            None => Err(SqlError::unsupported(format!("literal {v}"), pos)),
        },
    }
}

/// An integer or decimal literal, typed as PostgreSQL types it: `int4` if it
/// fits, else `int8`, else `numeric`; anything with a point or exponent is
/// `numeric`.
pub(crate) fn number_literal(s: &str, pos: Option<Position>) -> Result<Typed> {
    let is_integer = s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
    if is_integer {
        if let Ok(v) = s.parse::<i32>() {
            return Ok(Typed::new(Expr::Literal(Value::Int4(v)), DataType::Int4));
        }
        if let Ok(v) = s.parse::<i64>() {
            return Ok(Typed::new(Expr::Literal(Value::Int8(v)), DataType::Int8));
        }
    }
    match parse_numeric(s) {
        Some(n) => Ok(Typed::new(Expr::Literal(Value::Numeric(n)), DataType::Numeric(None))),
        // Beyond the exact range representable here: let the numeric input
        // function read it (it reports overflow as PostgreSQL does).
        None if s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) => Ok(Typed::new(
            Expr::Literal(Value::text(s)).call_unary(UnaryFunc::Cast(DataType::Numeric(None))),
            DataType::Numeric(None),
        )),
        None => Err(SqlError::new(ErrorKind::Syntax, format!("syntax error at or near \"{s}\""), pos)),
    }
}

/// Parses a decimal literal (`12.50`, `1e3`, `.5`) into a numeric with
/// PostgreSQL's display scale; `None` if it does not fit.
pub(crate) fn parse_numeric(s: &str) -> Option<Numeric> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    let mut scale = frac_part.len() as i64 - exp;
    let mut mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    if scale < 0 {
        mantissa = mantissa.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?;
        scale = 0;
    }
    let scale = u16::try_from(scale).ok()?;
    if scale > 1000 {
        return None;
    }
    Some(Numeric::from_parts(if neg { -mantissa } else { mantissa }, scale))
}
