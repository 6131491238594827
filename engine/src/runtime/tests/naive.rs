//! A naive, from-scratch evaluation of plans over table contents.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use differential_dataflow::consolidation::consolidate;

use crate::expr::EvalError;
use crate::plan::{Aggregate, AggregateFunc, Diff, JoinKind, ObjectId, Plan};
use crate::value::{Numeric, Row, Value};

/// The contents of tables and the plans of views.
pub(super) struct Db<'a> {
    pub tables: &'a HashMap<ObjectId, Vec<(Row, Diff)>>,
    pub views: &'a HashMap<ObjectId, Plan>,
}

impl Db<'_> {
    /// The consolidated result of `plan`, positive multiplicities only.
    pub fn eval(&self, plan: &Plan) -> Result<Vec<(Row, Diff)>, EvalError> {
        let mut rows = self.eval_bag(plan)?;
        consolidate(&mut rows);
        rows.retain(|(_, d)| *d > 0);
        Ok(rows)
    }

    fn eval_bag(&self, plan: &Plan) -> Result<Vec<(Row, Diff)>, EvalError> {
        let mut out = match plan {
            Plan::Get(g) => match self.tables.get(&g.id) {
                Some(rows) => rows.clone(),
                None => self.eval(&self.views[&g.id])?,
            },
            Plan::Constant(c) => c.rows.clone(),
            Plan::Filter(f) => {
                let mut out = Vec::new();
                for (row, d) in self.eval_bag(&f.input)? {
                    let mut keep = true;
                    for p in &f.predicates {
                        keep = keep && p.eval_predicate(&row)?;
                    }
                    if keep {
                        out.push((row, d));
                    }
                }
                out
            }
            Plan::Map(m) => {
                let mut out = Vec::new();
                for (row, d) in self.eval_bag(&m.input)? {
                    let values = m.exprs.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
                    out.push((Row::new(values), d));
                }
                out
            }
            Plan::Join(j) => {
                let left = self.eval(&j.left)?;
                let right = self.eval(&j.right)?;
                let mut out = Vec::new();
                for (l, dl) in &left {
                    let mut matched = false;
                    for (r, dr) in &right {
                        let mut ok = true;
                        for (le, re) in &j.equi {
                            ok = ok && le.eval(l)?.sql_eq(&re.eval(r)?) == Some(true);
                        }
                        let row = l.concat(r);
                        for p in &j.residual {
                            ok = ok && p.eval_predicate(&row)?;
                        }
                        if ok {
                            matched = true;
                            out.push((row, dl * dr));
                        }
                    }
                    if !matched && j.kind == JoinKind::LeftOuter {
                        let mut values = l.to_vec();
                        values.extend(std::iter::repeat_n(Value::Null, j.right.arity()));
                        out.push((Row::new(values), *dl));
                    }
                }
                out
            }
            Plan::Reduce(r) => {
                let mut groups: BTreeMap<Row, Vec<(Row, Diff)>> = BTreeMap::new();
                for (row, d) in self.eval(&r.input)? {
                    let key = r.group_key.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
                    groups.entry(Row::new(key)).or_default().push((row, d));
                }
                if r.group_key.is_empty() && groups.is_empty() {
                    groups.insert(Row::empty(), Vec::new());
                }
                let mut out = Vec::new();
                for (key, rows) in groups {
                    let mut values = key.to_vec();
                    for a in &r.aggregates {
                        values.push(aggregate(a, &rows)?);
                    }
                    out.push((Row::new(values), 1));
                }
                out
            }
            Plan::Distinct(d) => self.eval(&d.input)?.into_iter().map(|(r, _)| (r, 1)).collect(),
            Plan::Union(u) => {
                let mut out = Vec::new();
                for i in &u.inputs {
                    out.extend(self.eval_bag(i)?);
                }
                out
            }
            Plan::Negate(n) => self.eval_bag(&n.input)?.into_iter().map(|(r, d)| (r, -d)).collect(),
            Plan::Threshold(t) => {
                let mut rows = self.eval_bag(&t.input)?;
                consolidate(&mut rows);
                rows.retain(|(_, d)| *d > 0);
                rows
            }
            Plan::TopK(t) => {
                // Every unit of multiplicity as a row, sorted, sliced.
                let mut groups: BTreeMap<Row, Vec<Row>> = BTreeMap::new();
                for (row, d) in self.eval(&t.input)? {
                    let key = t.group_key.iter().map(|e| e.eval(&row)).collect::<Result<Vec<_>, _>>()?;
                    groups.entry(Row::new(key)).or_default().extend(std::iter::repeat_n(row, d as usize));
                }
                let mut out = Vec::new();
                for mut rows in groups.into_values() {
                    rows.sort_by(|a, b| t.cmp_rows(a, b));
                    let end = t.limit.map_or(rows.len(), |l| rows.len().min((t.offset + l) as usize));
                    out.extend(rows.into_iter().take(end).skip(t.offset as usize).map(|r| (r, 1)));
                }
                out
            }
        };
        consolidate(&mut out);
        Ok(out)
    }
}

/// An aggregate over `int4` arguments, computed the obvious way.
fn aggregate(a: &Aggregate, rows: &[(Row, Diff)]) -> Result<Value, EvalError> {
    let mut values: Vec<Value> = Vec::new();
    let mut count_star = 0;
    for (row, d) in rows {
        count_star += d;
        let v = a.expr.eval(row)?;
        for _ in 0..*d {
            values.push(v.clone());
        }
    }
    values.retain(|v| !v.is_null());
    if a.distinct {
        let set: BTreeSet<Value> = values.iter().map(Value::key_normalized).collect();
        values = set.into_iter().collect();
    }
    let ints = || values.iter().map(|v| if let Value::Int4(i) = v { *i as i64 } else { panic!("int4 expected") });
    Ok(match a.func {
        AggregateFunc::CountStar => Value::Int8(count_star),
        AggregateFunc::Count => Value::Int8(values.len() as i64),
        // (one `min_repr` per plan here: chosen alone, NULL least)
        AggregateFunc::MinRepr => {
            let present = rows.iter().filter(|(_, d)| *d > 0);
            present.map(|(row, _)| a.expr.eval(row)).collect::<Result<Vec<_>, _>>()?.into_iter().min().unwrap_or(Value::Null)
        }
        _ if values.is_empty() => Value::Null,
        AggregateFunc::Sum => Value::Int8(ints().sum()),
        AggregateFunc::Avg => Value::Numeric(Numeric::from(ints().sum::<i64>()).div(&Numeric::from(values.len() as i64))?),
        AggregateFunc::Min | AggregateFunc::Max => {
            let want = if a.func == AggregateFunc::Min { Ordering::Less } else { Ordering::Greater };
            let mut best = values[0].clone();
            for v in &values[1..] {
                if v.sql_cmp(&best) == Some(want) {
                    best = v.clone();
                }
            }
            best
        }
        f => return Err(EvalError::Other(format!("{f:?} is not evaluated here"))),
    })
}
