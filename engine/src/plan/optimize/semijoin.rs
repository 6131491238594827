//! Semi-join reduction: restricting the right input of a join to the key
//! values its left input has, below the right input's expensive operators.
//!
//! ```text
//! Join equi=[l = #c]                        Join equi=[l = #c]
//!   L                                         L
//!   Reduce key=[#c] aggs=[…]        ⟶          Reduce key=[#c] aggs=[…]
//!     R                                         Map (R's columns)
//!                                                 Join inner equi=[#c = #0]
//!                                                   R
//!                                                   Distinct
//!                                                     Map (key_normalize(l))
//!                                                       L
//! ```
//!
//! A decorrelated subquery (TPC-H Q17's average per part, Q2's least cost
//! per part, Q21's `EXISTS` per order and supplier) computes its rows for
//! every key value of its tables, while the join back only reads those of
//! the enclosing rows, which a filter often makes few (the parts of one
//! brand and container). The rewrite computes the right side for those
//! key values only.
//!
//! Why it is exact: a right row whose key matches no left row joins with
//! nothing, and the restriction is pushed down only through operators
//! where each output row's key columns are columns of the input rows it
//! comes from (filters, plain-column maps, `Distinct`, a `Reduce` whose
//! group key holds them, unions, `Negate`, `Threshold`, the side of a join
//! holding them), so an output row is removed exactly when all the rows it
//! comes from are: a group of a `Reduce` is kept or removed whole. Key
//! values match as the join matches them (normalised, `1.0` = `1.00`;
//! NULL never), the set holding one normalised value per class so no row
//! is duplicated. For a left outer join only the right side is
//! restricted, which changes no output row (unmatched left rows are
//! padded either way). The left input is evaluated a second time for the
//! set, on the same rows: no new error. Rows removed early no longer
//! reach the operators above the restriction, so they must not be able to
//! fail there: the rewrite passes no operator with an expression that can
//! fail.
//!
//! When it applies: the left input is estimated at most a fifth of the
//! largest input the right input arranges ([`estimate::work`]), the
//! aggregations the set repeats (its source's `Reduce`s and `Distinct`s)
//! are as small, and the restriction lands below an operator that does
//! work per row (`Reduce`, `Distinct`, a join or a union); a restriction
//! above them all would only add an arrangement. The set is read from the
//! smallest part of the left input holding the key columns (the key
//! values of an inner join are among those of the input holding them). At
//! a table the restriction uses an arrangement of that table by (some of)
//! the key columns that the plan already joins on, so it costs no new
//! arrangement; without one the table is left as it is (arranging it, or
//! its filtered rows, anew would cost what the operator above spends).
//!
//! Cost: the set (the left input once more, projected and made distinct)
//! and one join; what it saves is the right input's work for every key
//! the left does not have, at creation and for every change to those keys.

use std::collections::BTreeSet;

use super::eager::{map_children, SourceKeys};
use super::estimate;
use super::expr::{can_error, columns, shift_down, substitute};
use crate::expr::{Expr, UnaryFunc};
use crate::plan::{Distinct, Filter, Join, JoinKind, Map, Negate, ObjectId, Plan, Reduce, Threshold, Union};

/// The left input may be at most this fraction of the right's work.
const MAX_RATIO: f64 = 0.2;

/// Applies the rewrite wherever it fits.
pub(crate) fn reduce_semijoins(plan: Plan, keys: &SourceKeys) -> Plan {
    let uses = arrangement_uses(&plan);
    rewrite(plan, keys, &uses)
}

/// A join's inputs are estimated before any restriction inside them (a
/// restricted input would look smaller than the rows it stands for); the
/// set is read from the left input as it is, and pushed into the right
/// input after that input's own joins were considered (so no restriction
/// is added inside a set).
fn rewrite(plan: Plan, keys: &SourceKeys, uses: &BTreeSet<(ObjectId, Vec<usize>)>) -> Plan {
    let Plan::Join(j) = plan else {
        return map_children(plan, &mut |p| rewrite(p, keys, uses));
    };
    let decision = decide(&j, keys);
    let left = rewrite(*j.left, keys, uses);
    let right = rewrite(*j.right, keys, uses);
    let right = match decision {
        // Already restricted by this set (the plan was optimised before):
        // restricting again would only repeat the join.
        Some((_, set)) if contains(&right, &set) => right,
        Some((cols, set)) => {
            let mut restriction = Restriction { set: &set, uses, placed: 0 };
            let restricted = restriction.push(right.clone(), &cols, false);
            if restriction.placed == 0 {
                right
            } else {
                restricted
            }
        }
        None => right,
    };
    Plan::Join(Join { left: Box::new(left), right: Box::new(right), ..j })
}

/// Whether `node` occurs in `plan`.
fn contains(plan: &Plan, node: &Plan) -> bool {
    let mut found = false;
    plan.visit(&mut |p| found = found || p == node);
    found
}

/// The right input's key columns and the set of the left input's key
/// values, if the rewrite applies to `j`.
fn decide(j: &Join, keys: &SourceKeys) -> Option<(Vec<usize>, Plan)> {
    if !matches!(j.kind, JoinKind::Inner | JoinKind::LeftOuter) || j.equi.is_empty() || estimate::base_table(&j.right) {
        return None;
    }
    let mut cols = Vec::with_capacity(j.equi.len());
    for (l, r) in &j.equi {
        match r {
            Expr::Column(c) if !can_error(l) => cols.push(*c),
            _ => return None,
        }
    }
    let work = estimate::work(&j.right, keys, true);
    if estimate::size(&j.left, keys) > MAX_RATIO * work {
        return None;
    }
    let (source, key_exprs) = set_source(&j.left, j.equi.iter().map(|(l, _)| l.clone()).collect(), keys);
    // The set repeats its source's aggregations (joins share the tables'
    // arrangements): they must be small beside what the set saves.
    if estimate::work(&source, keys, false) > MAX_RATIO * work {
        return None;
    }
    let set = Plan::Distinct(Distinct {
        input: Box::new(Plan::Map(Map {
            input: Box::new(source),
            exprs: key_exprs.into_iter().map(|l| l.call_unary(UnaryFunc::KeyNormalize)).collect(),
        })),
    });
    Some((cols, set))
}

/// Where the key values come from: the left input, or a part of it that
/// holds every key column and is estimated at most twice its size (the
/// key values of an inner join are among those of the input holding
/// them, so a superset is read, for less work). Returns the plan and the
/// key expressions over its row.
fn set_source(left: &Plan, key_exprs: Vec<Expr>, keys: &SourceKeys) -> (Plan, Vec<Expr>) {
    let limit = 2.0 * estimate::size(left, keys);
    let (mut plan, mut exprs) = (left, key_exprs);
    loop {
        let next = match plan {
            Plan::Map(m) => {
                let sub: Vec<Expr> = exprs.iter().map(|e| substitute(e, &m.exprs)).collect();
                if sub.iter().any(can_error) {
                    break;
                }
                Some((&*m.input, sub))
            }
            Plan::Join(j) if j.kind == JoinKind::Inner => {
                let la = j.left.arity();
                let cols: BTreeSet<usize> = exprs.iter().flat_map(columns).collect();
                if cols.iter().all(|&c| c < la) {
                    Some((&*j.left, exprs.clone()))
                } else if cols.iter().all(|&c| c >= la) {
                    Some((&*j.right, exprs.iter().map(|e| shift_down(e.clone(), la)).collect()))
                } else {
                    None
                }
            }
            _ => None,
        };
        match next {
            Some((p, e)) if matches!(plan, Plan::Map(_)) || estimate::size(p, keys) <= limit => {
                plan = p;
                exprs = e;
            }
            _ => break,
        }
    }
    (plan.clone(), exprs)
}

/// A set of key values being pushed into a join's right input.
struct Restriction<'a> {
    /// The key values.
    set: &'a Plan,
    /// The arrangements of tables the plan's joins read.
    uses: &'a BTreeSet<(ObjectId, Vec<usize>)>,
    /// How many restrictions were placed.
    placed: usize,
}

impl Restriction<'_> {
    /// `plan` restricted to rows whose columns `cols` match a row of the set,
    /// the restriction pushed down as far as it goes; `heavy`: an operator
    /// doing work per row is above. Counts the restrictions placed.
    fn push(&mut self, plan: Plan, cols: &[usize], heavy: bool) -> Plan {
        macro_rules! down {
            ($p:expr, $cols:expr, $heavy:expr) => {
                Box::new(self.push($p, $cols, $heavy))
            };
        }
        // A table is restricted only through an arrangement the plan already
        // has: arranging it (or its filtered rows) anew for the restriction
        // costs what the operator above it would have spent.
        if estimate::base_table(&plan) && !plan_arranges(&plan, cols, self.uses) {
            return plan;
        }
        match plan {
            Plan::Filter(f) if !f.predicates.iter().any(can_error) => {
                Plan::Filter(Filter { input: down!(*f.input, cols, heavy), predicates: f.predicates })
            }
            Plan::Map(m) if !m.exprs.iter().any(can_error) => {
                match cols.iter().map(|&c| plain(&m.exprs[c])).collect::<Option<Vec<usize>>>() {
                    Some(inner) => Plan::Map(Map { input: down!(*m.input, &inner, heavy), exprs: m.exprs }),
                    None => self.place(Plan::Map(m), cols, heavy),
                }
            }
            Plan::Distinct(d) => Plan::Distinct(Distinct { input: down!(*d.input, cols, true) }),
            Plan::Reduce(r)
                if !r.group_key.iter().any(can_error) && !r.aggregates.iter().any(|a| can_error(&a.expr)) =>
            {
                let inner = cols.iter().map(|&c| r.group_key.get(c).and_then(plain)).collect::<Option<Vec<usize>>>();
                match inner {
                    Some(inner) => Plan::Reduce(Reduce {
                        input: down!(*r.input, &inner, true),
                        group_key: r.group_key,
                        aggregates: r.aggregates,
                    }),
                    None => self.place(Plan::Reduce(r), cols, heavy),
                }
            }
            Plan::Union(u) => {
                Plan::Union(Union { inputs: u.inputs.into_iter().map(|i| self.push(i, cols, true)).collect() })
            }
            Plan::Negate(n) => Plan::Negate(Negate { input: down!(*n.input, cols, heavy) }),
            Plan::Threshold(t) => Plan::Threshold(Threshold { input: down!(*t.input, cols, true) }),
            // Already restricted on these columns (a plan optimised twice).
            Plan::Join(j) if is_restriction(&j, cols) => Plan::Join(j),
            Plan::Join(j)
                if matches!(j.kind, JoinKind::Inner | JoinKind::LeftOuter)
                    && !j.equi.iter().any(|(l, r)| can_error(l) || can_error(r))
                    && !j.residual.iter().any(can_error) =>
            {
                let la = j.left.arity();
                if cols.iter().all(|&c| c < la) {
                    Plan::Join(Join { left: down!(*j.left, cols, true), ..j })
                } else if j.kind == JoinKind::Inner && cols.iter().all(|&c| c >= la) {
                    let inner: Vec<usize> = cols.iter().map(|&c| c - la).collect();
                    Plan::Join(Join { right: down!(*j.right, &inner, true), ..j })
                } else {
                    self.place(Plan::Join(j), cols, heavy)
                }
            }
            other => self.place(other, cols, heavy),
        }
    }

    /// `plan` joined with the set on `cols` (only below a `heavy` operator).
    fn place(&mut self, plan: Plan, cols: &[usize], heavy: bool) -> Plan {
        if !heavy || cols.is_empty() {
            return plan;
        }
        // At a table, the key columns of an arrangement the plan already has.
        let mut chosen: Vec<usize> = (0..cols.len()).collect();
        if let Plan::Get(g) = &plan {
            if !self.uses.contains(&(g.id, cols.to_vec())) {
                if let Some((_, key)) = self.uses.iter().find(|(id, key)| *id == g.id && restricts(key, cols)) {
                    chosen = key.iter().map(|k| cols.iter().position(|c| c == k).expect("a key column")).collect();
                }
            }
        }
        let set = if chosen.len() == cols.len() && chosen.iter().enumerate().all(|(i, &c)| i == c) {
            self.set.clone()
        } else {
            Plan::Distinct(Distinct {
                input: Box::new(Plan::Map(Map {
                    input: Box::new(self.set.clone()),
                    exprs: chosen.iter().map(|&i| Expr::Column(i)).collect(),
                })),
            })
        };
        self.placed += 1;
        let arity = plan.arity();
        Plan::Map(Map {
            input: Box::new(Plan::Join(Join {
                kind: JoinKind::Inner,
                left: Box::new(plan),
                right: Box::new(set),
                equi: chosen.iter().enumerate().map(|(i, &k)| (Expr::Column(cols[k]), Expr::Column(i))).collect(),
                residual: Vec::new(),
            })),
            exprs: (0..arity).map(Expr::Column).collect(),
        })
    }
}

/// True if `plan`, a table under filters and projections, is arranged by
/// its columns `cols` (or some of them) elsewhere in the plan.
fn plan_arranges(plan: &Plan, cols: &[usize], uses: &BTreeSet<(ObjectId, Vec<usize>)>) -> bool {
    match plan {
        Plan::Get(g) => uses.iter().any(|(id, key)| *id == g.id && restricts(key, cols)),
        Plan::Filter(f) => plan_arranges(&f.input, cols, uses),
        Plan::Map(m) => match cols.iter().map(|&c| plain(&m.exprs[c])).collect::<Option<Vec<usize>>>() {
            Some(inner) => plan_arranges(&m.input, &inner, uses),
            None => false,
        },
        _ => false,
    }
}

/// True if an arrangement by `key` can restrict rows by `cols`: the key
/// is some of those columns. An empty key (a cross join's) restricts
/// nothing.
fn restricts(key: &[usize], cols: &[usize]) -> bool {
    !key.is_empty() && key.iter().all(|k| cols.contains(k))
}

/// True if `j` is a restriction this rewrite placed, on some of `cols`.
fn is_restriction(j: &Join, cols: &[usize]) -> bool {
    let set_shaped = match &*j.right {
        Plan::Distinct(d) => match &*d.input {
            Plan::Map(m) => m.exprs.iter().all(|e| matches!(e, Expr::Unary { func: UnaryFunc::KeyNormalize, .. })),
            _ => false,
        },
        _ => false,
    };
    j.kind == JoinKind::Inner
        && j.residual.is_empty()
        && set_shaped
        && !j.equi.is_empty()
        && j.equi.iter().all(|(l, _)| matches!(l, Expr::Column(c) if cols.contains(c)))
}

/// The column an expression reads as a value or a normalised key.
fn plain(e: &Expr) -> Option<usize> {
    match e {
        Expr::Column(c) => Some(*c),
        Expr::Unary { func: UnaryFunc::KeyNormalize, arg } => match **arg {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// The arrangements of tables by key columns that the plan's joins read
/// (a join side that is a table, or plain columns of one, keyed by
/// columns).
fn arrangement_uses(plan: &Plan) -> BTreeSet<(ObjectId, Vec<usize>)> {
    fn side(plan: &Plan, keys: &[&Expr], out: &mut BTreeSet<(ObjectId, Vec<usize>)>) {
        let (base, columns): (&Plan, Option<Vec<usize>>) = match plan {
            Plan::Map(m) => {
                match m.exprs.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect() {
                    Some(columns) => (&m.input, Some(columns)),
                    None => return,
                }
            }
            p => (p, None),
        };
        let Plan::Get(g) = base else { return };
        let key: Option<Vec<usize>> = keys
            .iter()
            .map(|k| match k {
                Expr::Column(c) => Some(columns.as_ref().map_or(*c, |cs| cs[*c])),
                _ => None,
            })
            .collect();
        if let Some(key) = key {
            out.insert((g.id, key));
        }
    }
    let mut out = BTreeSet::new();
    plan.visit(&mut |p| {
        if let Plan::Join(j) = p {
            if j.kind == JoinKind::Inner {
                side(&j.left, &j.equi.iter().map(|(l, _)| l).collect::<Vec<_>>(), &mut out);
            }
            if j.kind != JoinKind::FullOuter {
                side(&j.right, &j.equi.iter().map(|(_, r)| r).collect::<Vec<_>>(), &mut out);
            }
        }
    });
    out
}
