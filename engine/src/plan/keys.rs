//! Unique keys of a plan's result, derived from the plan.
//!
//! A *key* of a result is a set of its columns on which no two of its
//! rows are equal (SQL equality, NULL equal to NULL, as a unique index
//! `NULLS NOT DISTINCT` compares), every row having multiplicity one. The
//! empty key means the result has at most one row.
//!
//! Keys come from source tables' primary keys, from `GROUP BY` (one row per
//! group), `DISTINCT` (one row per distinct row) and `LIMIT 1` per group,
//! and are carried through filters, projections and joins that cannot
//! duplicate them. They are narrowed with *functional dependencies*:
//! `A → B` when rows equal on the columns `A` are identical on `B`. A
//! source's primary key determines the whole source row, and a group key
//! the whole output row; so `GROUP BY i.id, i.vendor_id, i.total` over a
//! join with `invoices i` (primary key `id`) has the key `(id)`, not the
//! three columns.
//!
//! [`unique_keys`] lists every key found, each minimal (no column can be
//! dropped from it); [`narrowest_key`] picks the one with the fewest
//! columns, preferring columns that are never NULL. The analysis is
//! conservative: a plan for which it finds no key may still have one, but
//! every key it reports holds for all contents of the sources.

use std::collections::{BTreeSet, HashMap};

use super::{AggregateFunc, Join, JoinKind, ObjectId, Plan, Reduce};
use crate::expr::Expr;

/// Sets of columns, ascending.
type Cols = Vec<usize>;

/// At most this many keys and dependencies are tracked per plan node (a
/// bound on work for wide joins; dropping some only loses precision).
const LIMIT: usize = 32;

/// `from → to`: rows equal on `from` are identical on `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Dependency {
    from: Cols,
    to: Cols,
}

/// What is known of one plan node's result.
#[derive(Clone, Debug, Default)]
struct Props {
    /// The result's columns.
    arity: usize,
    /// Minimal keys.
    keys: Vec<Cols>,
    /// Functional dependencies.
    deps: Vec<Dependency>,
    /// Columns that are never NULL.
    not_null: BTreeSet<usize>,
}

impl Props {
    /// The columns `cols` determine (themselves included).
    fn closure(&self, cols: &[usize]) -> BTreeSet<usize> {
        let mut out: BTreeSet<usize> = cols.iter().copied().collect();
        loop {
            let before = out.len();
            for d in &self.deps {
                if d.from.iter().all(|c| out.contains(c)) {
                    out.extend(d.to.iter().copied());
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    fn new(arity: usize) -> Props {
        Props { arity, ..Props::default() }
    }

    /// Records a key, and that it determines every column.
    fn add_key(&mut self, key: Cols) {
        if self.keys.len() < LIMIT && !self.keys.contains(&key) {
            self.add_dep(key.clone(), (0..self.arity).collect());
            self.keys.push(key);
        }
    }

    fn add_dep(&mut self, from: Cols, to: Cols) {
        let d = Dependency { from, to };
        if !d.to.is_empty() && self.deps.len() < LIMIT && !self.deps.contains(&d) {
            self.deps.push(d);
        }
    }

    /// `key` (a superset of some key) with every column dropped that the
    /// remaining ones determine.
    fn minimize(&self, key: &[usize]) -> Cols {
        let key: Cols = key.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        shrink(key, |rest, dropped| self.closure(rest).contains(&dropped))
    }
}

/// Drops columns of `set`, last first, while `still(rest, dropped)` says
/// the rest still does what the whole set did.
fn shrink(mut set: Cols, still: impl Fn(&[usize], usize) -> bool) -> Cols {
    let mut i = set.len();
    while i > 0 {
        i -= 1;
        let mut rest = set.clone();
        let dropped = rest.remove(i);
        if still(&rest, dropped) {
            set = rest;
        }
    }
    set
}

/// Every key found for `plan`'s result, each minimal, narrowest first (see
/// [`narrowest_key`] for the order). `primary_keys` gives the primary key
/// columns of source tables (absent or empty: none).
pub fn unique_keys(plan: &Plan, primary_keys: &HashMap<ObjectId, Vec<usize>>) -> Vec<Vec<usize>> {
    ordered_keys(&analyze(plan, primary_keys))
}

/// The minimal keys, without those containing another, narrowest first.
fn ordered_keys(props: &Props) -> Vec<Cols> {
    let mut keys: Vec<Cols> = props.keys.iter().map(|k| props.minimize(k)).collect();
    let nullable = |k: &Cols| k.iter().filter(|c| !props.not_null.contains(c)).count();
    keys.sort_by(|a, b| a.len().cmp(&b.len()).then(nullable(a).cmp(&nullable(b))).then(a.cmp(b)));
    keys.dedup();
    let mut out: Vec<Cols> = Vec::new();
    for k in keys {
        if !out.iter().any(|o| o.iter().all(|c| k.contains(c))) {
            out.push(k);
        }
    }
    out
}

/// The key of `plan`'s result with the fewest columns, among those with
/// the fewest columns the one with the fewest nullable columns, then the
/// lowest positions; `None` if no key is found (the result may hold
/// duplicates).
pub fn narrowest_key(plan: &Plan, primary_keys: &HashMap<ObjectId, Vec<usize>>) -> Option<Vec<usize>> {
    unique_keys(plan, primary_keys).into_iter().next()
}

/// The input columns an expression reads.
fn columns(e: &Expr) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    e.visit_columns(&mut |c| {
        out.insert(c);
    });
    out
}

fn analyze(plan: &Plan, pks: &HashMap<ObjectId, Vec<usize>>) -> Props {
    match plan {
        Plan::Get(g) => {
            let mut p = Props::new(g.types.len());
            if let Some(pk) = pks.get(&g.id).filter(|k| !k.is_empty() && k.iter().all(|&c| c < g.types.len())) {
                let pk: Cols = pk.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
                p.not_null.extend(pk.iter().copied());
                p.add_key(pk);
            }
            p
        }
        Plan::Constant(c) => {
            let mut p = Props::new(c.arity);
            p.not_null = (0..c.arity).filter(|&i| c.rows.iter().all(|(r, _)| !r[i].is_null())).collect();
            let distinct: BTreeSet<_> = c.rows.iter().map(|(r, _)| r).collect();
            if c.rows.iter().all(|(_, d)| *d == 1) && distinct.len() == c.rows.len() {
                if c.rows.len() <= 1 {
                    p.add_key(Vec::new());
                } else {
                    p.add_key((0..c.arity).collect());
                }
            }
            p
        }
        Plan::Filter(f) => analyze(&f.input, pks),
        Plan::Map(m) => map(analyze(&m.input, pks), &m.exprs),
        Plan::Join(j) => join(j, analyze(&j.left, pks), analyze(&j.right, pks)),
        Plan::Reduce(r) => reduce(r, analyze(&r.input, pks)),
        Plan::Distinct(d) => {
            let mut p = analyze(&d.input, pks);
            let all: Cols = (0..d.input.arity()).collect();
            let key = p.minimize(&all);
            p.add_key(key);
            p
        }
        Plan::TopK(t) => {
            let mut p = analyze(&t.input, pks);
            let group: Option<Cols> =
                t.group_key.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
            match (t.limit, group) {
                (Some(0), _) => p.add_key(Vec::new()),
                (Some(1), Some(g)) => {
                    let key = p.minimize(&g);
                    p.add_key(key);
                }
                _ => {}
            }
            p
        }
        // Rows with positive multiplicity, each as in the input.
        Plan::Threshold(t) => analyze(&t.input, pks),
        Plan::Union(u) => {
            let mut p = Props::new(plan.arity());
            let mut inputs = u.inputs.iter().map(|i| analyze(i, pks));
            if let Some(first) = inputs.next() {
                p.not_null = inputs.fold(first.not_null, |acc, q| acc.intersection(&q.not_null).copied().collect());
            }
            p
        }
        Plan::Negate(n) => Props::new(n.input.arity()),
    }
}

/// A projection: output column `j` is `exprs[j]` of the input row.
fn map(input: Props, exprs: &[Expr]) -> Props {
    let source: Vec<Option<usize>> =
        exprs.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
    let position = |c: usize| source.iter().position(|s| *s == Some(c));
    let reads: Vec<BTreeSet<usize>> = exprs.iter().map(columns).collect();
    let mut p = Props::new(exprs.len());
    p.not_null = exprs
        .iter()
        .enumerate()
        .filter(|(_, e)| match e {
            Expr::Column(c) => input.not_null.contains(c),
            Expr::Literal(v) => !v.is_null(),
            _ => false,
        })
        .map(|(j, _)| j)
        .collect();
    // Every output computed from columns a dependency's source determines
    // depends on that source, if the source is kept.
    let mut sources: Vec<Cols> = input.deps.iter().map(|d| d.from.clone()).collect();
    sources.push(Vec::new());
    for from in sources {
        let Some(out_from) = from.iter().map(|&c| position(c)).collect::<Option<Cols>>() else { continue };
        let known = input.closure(&from);
        let to: Cols = (0..exprs.len()).filter(|&j| reads[j].is_subset(&known)).collect();
        p.add_dep(out_from.into_iter().collect::<BTreeSet<_>>().into_iter().collect(), to);
    }
    // The kept plain columns form a key if they determine an input key.
    let kept: Cols = (0..exprs.len()).filter(|&j| source[j].is_some()).collect();
    let kept_in = |out: &[usize]| -> Cols { out.iter().filter_map(|&j| source[j]).collect() };
    for key in &input.keys {
        let covers = |out: &[usize]| {
            let known = input.closure(&kept_in(out));
            key.iter().all(|c| known.contains(c))
        };
        if !covers(&kept) {
            continue;
        }
        let out = shrink(kept.clone(), |rest, _| covers(rest));
        p.add_key(out);
    }
    p
}

/// True if every column of `key` is matched by an equi-join pair whose
/// expression on that side is the plain column: each row of the other
/// side then matches at most one row of this side.
fn covered(key: &[usize], side: impl Fn(&(Expr, Expr)) -> &Expr, equi: &[(Expr, Expr)]) -> bool {
    key.iter().all(|&c| equi.iter().any(|pair| *side(pair) == Expr::Column(c)))
}

fn join(j: &Join, left: Props, right: Props) -> Props {
    let la = j.left.arity();
    let shift = |cols: &[usize]| -> Cols { cols.iter().map(|c| c + la).collect() };
    let mut p = Props::new(la + j.right.arity());
    // Dependencies of a side padded with NULLs (the unmatched rows of the
    // other side) still hold when their source is never NULL in real rows:
    // a padded row cannot then agree with a real one on it.
    let padded_ok =
        |d: &Dependency, side: &Props| !d.from.is_empty() && d.from.iter().all(|c| side.not_null.contains(c));
    let (left_padded, right_padded) = match j.kind {
        JoinKind::Inner => (false, false),
        JoinKind::LeftOuter => (false, true),
        JoinKind::FullOuter => (true, true),
    };
    for d in &left.deps {
        if !left_padded || padded_ok(d, &left) {
            p.add_dep(d.from.clone(), d.to.clone());
        }
    }
    for d in &right.deps {
        if !right_padded || padded_ok(d, &right) {
            p.add_dep(shift(&d.from), shift(&d.to));
        }
    }
    if !left_padded {
        p.not_null.extend(left.not_null.iter().copied());
    }
    if !right_padded {
        p.not_null.extend(right.not_null.iter().map(|c| c + la));
    }
    // An inner join's plain equi-join columns are never NULL (NULL matches
    // nothing).
    if j.kind == JoinKind::Inner {
        for (l, r) in &j.equi {
            if let Expr::Column(c) = l {
                p.not_null.insert(*c);
            }
            if let Expr::Column(c) = r {
                p.not_null.insert(c + la);
            }
        }
    }
    // Each left row matches at most one right row: left keys stay keys
    // (an unmatched left row is output once, padded).
    let right_unique = right.keys.iter().any(|k| covered(k, |pair| &pair.1, &j.equi));
    let left_unique = left.keys.iter().any(|k| covered(k, |pair| &pair.0, &j.equi));
    if right_unique && j.kind != JoinKind::FullOuter {
        for k in &left.keys {
            p.add_key(k.clone());
        }
    }
    if left_unique && j.kind == JoinKind::Inner {
        for k in &right.keys {
            p.add_key(shift(k));
        }
    }
    // A left key with a right key: one output row per matched pair, and
    // unmatched rows keep their own side's key. Under a full join an
    // unmatched left row and an unmatched right row agree on both keys if
    // both keys are all NULL in them, so one of the keys needs a column
    // that is never NULL in real rows.
    for lk in &left.keys {
        for rk in &right.keys {
            if j.kind == JoinKind::FullOuter
                && !lk.iter().any(|c| left.not_null.contains(c))
                && !rk.iter().any(|c| right.not_null.contains(c))
            {
                continue;
            }
            let both: Cols = lk.iter().copied().chain(shift(rk)).collect();
            let key = p.minimize(&both);
            p.add_key(key);
        }
    }
    p
}

fn reduce(r: &Reduce, input: Props) -> Props {
    let g = r.group_key.len();
    let arity = g + r.aggregates.len();
    let plain: Vec<Option<usize>> =
        r.group_key.iter().map(|e| if let Expr::Column(c) = e { Some(*c) } else { None }).collect();
    let reads: Vec<BTreeSet<usize>> = r.group_key.iter().map(columns).collect();
    // Group positions `set` determine group position `i` if the input
    // columns they show determine every column `i`'s expression reads.
    let determines = |set: &[usize], i: usize| {
        let shown: Cols = set.iter().filter_map(|&p| plain[p]).collect();
        reads[i].is_subset(&input.closure(&shown))
    };
    let key = shrink((0..g).collect(), determines);
    let mut p = Props::new(arity);
    // Dependencies among the shown group columns carry over.
    for d in &input.deps {
        let Some(from) = d.from.iter().map(|c| plain.iter().position(|p| *p == Some(*c))).collect::<Option<Cols>>()
        else {
            continue;
        };
        let to: Cols = (0..g).filter(|&i| determines(&from, i)).collect();
        p.add_dep(from.into_iter().collect::<BTreeSet<_>>().into_iter().collect(), to);
    }
    p.add_key(key);
    p.not_null = (0..g).filter(|&i| plain[i].is_some_and(|c| input.not_null.contains(&c))).collect();
    p.not_null.extend(
        r.aggregates
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a.func, AggregateFunc::Count | AggregateFunc::CountStar))
            .map(|(k, _)| g + k),
    );
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Aggregate, Constant, Distinct, Filter, Get, Map, Negate, SortColumn, TopK, Union};
    use crate::value::{DataType, Row, Value};

    fn get(id: u64, n: usize) -> Plan {
        Plan::Get(Get { id: ObjectId(id), name: format!("t{id}"), types: vec![DataType::Int4; n] })
    }

    fn col(c: usize) -> Expr {
        Expr::Column(c)
    }

    fn project(input: Plan, cols: &[usize]) -> Plan {
        Plan::Map(Map { input: Box::new(input), exprs: cols.iter().map(|&c| col(c)).collect() })
    }

    fn join(kind: JoinKind, left: Plan, right: Plan, equi: &[(usize, usize)]) -> Plan {
        Plan::Join(Join {
            kind,
            left: Box::new(left),
            right: Box::new(right),
            equi: equi.iter().map(|&(l, r)| (col(l), col(r))).collect(),
            residual: vec![],
        })
    }

    fn count(c: usize) -> Aggregate {
        Aggregate { func: AggregateFunc::Count, expr: col(c), input_type: DataType::Int4, distinct: false }
    }

    fn group(input: Plan, key: Vec<Expr>, aggs: usize) -> Plan {
        Plan::Reduce(Reduce { input: Box::new(input), group_key: key, aggregates: (0..aggs).map(count).collect() })
    }

    /// Table 1: `invoices (id PK, vendor_id, issued, total, status)`;
    /// table 2: `lines (id PK, invoice_id, line_no, kind, qty, amount)`;
    /// table 3: no primary key.
    fn pks() -> HashMap<ObjectId, Vec<usize>> {
        [(ObjectId(1), vec![0]), (ObjectId(2), vec![0])].into()
    }

    fn keys(plan: &Plan) -> Vec<Vec<usize>> {
        unique_keys(plan, &pks())
    }

    #[test]
    fn tables_filters_and_projections() {
        assert_eq!(keys(&get(1, 5)), vec![vec![0]]);
        assert!(keys(&get(3, 3)).is_empty());
        let composite: HashMap<ObjectId, Vec<usize>> = [(ObjectId(4), vec![2, 0])].into();
        assert_eq!(unique_keys(&get(4, 3), &composite), vec![vec![0, 2]]);
        let filtered = Plan::Filter(Filter { input: Box::new(get(1, 5)), predicates: vec![col(1)] });
        assert_eq!(keys(&filtered), vec![vec![0]]);
        // The key moves with its column; dropping it loses the key.
        assert_eq!(keys(&project(get(1, 5), &[3, 0])), vec![vec![1]]);
        assert!(keys(&project(get(1, 5), &[3, 1])).is_empty());
        // A column kept twice: either position is a key.
        assert_eq!(keys(&project(get(1, 5), &[0, 2, 0])), vec![vec![0]]);
    }

    /// The invoices view: `GROUP BY i.id` (the front end adds the other
    /// invoice columns shown) over `invoices LEFT JOIN lines`.
    #[test]
    fn group_key_narrowed_by_the_primary_key() {
        let left = project(get(1, 5), &[0, 1, 3]);
        let right = project(get(2, 6), &[0, 1, 3, 5]);
        let joined = join(JoinKind::LeftOuter, left, right, &[(0, 1)]);
        let input = project(joined, &[0, 1, 2, 3, 5, 6]);
        let reduce = group(input, vec![col(0), col(1), col(2)], 2);
        let view = Plan::Map(Map {
            input: Box::new(reduce.clone()),
            exprs: vec![col(0), col(1), col(2), col(3), col(4), col(4)],
        });
        assert_eq!(keys(&reduce), vec![vec![0]]);
        assert_eq!(narrowest_key(&view, &pks()), Some(vec![0]));
        // Grouped by the line's columns, the invoice's are not determined.
        let by_kind = group(project(get(2, 6), &[3, 5]), vec![col(0), col(1)], 1);
        assert_eq!(keys(&by_kind), vec![vec![0, 1]]);
        // A computed group column determined by the key is dropped too.
        let computed = group(
            get(1, 5),
            vec![Expr::Column(3).call_binary(crate::expr::BinaryFunc::Add, Expr::Column(1)), col(0)],
            0,
        );
        assert_eq!(keys(&computed), vec![vec![1]]);
        // Constant group columns are no key at all; a global aggregate
        // has the empty key (one row).
        let constant = group(get(3, 2), vec![Expr::Literal(Value::Int4(1)), col(1)], 0);
        assert_eq!(keys(&constant), vec![vec![1]]);
        assert_eq!(keys(&group(get(3, 2), vec![], 1)), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn joins_keep_keys_they_cannot_duplicate() {
        // lines ⋈ invoices on lines.invoice_id = invoices.id: each line
        // matches at most one invoice, so the line's id stays a key.
        let inner = join(JoinKind::Inner, get(2, 6), get(1, 5), &[(1, 0)]);
        assert_eq!(keys(&inner), vec![vec![0]]);
        // invoices ⋈ lines: an invoice matches many lines; the line id
        // (shifted) is still a key, the invoice id is not.
        let many = join(JoinKind::Inner, get(1, 5), get(2, 6), &[(0, 1)]);
        assert_eq!(keys(&many), vec![vec![5]]);
        let left = join(JoinKind::LeftOuter, get(1, 5), get(2, 6), &[(0, 1)]);
        // Unmatched invoices have a NULL line id: the pair is the key.
        assert_eq!(keys(&left), vec![vec![0, 5]]);
        let lookup = join(JoinKind::LeftOuter, get(2, 6), get(1, 5), &[(1, 0)]);
        assert_eq!(keys(&lookup), vec![vec![0]]);
        // No keys on one side: none for the join (duplicates possible).
        assert!(keys(&join(JoinKind::Inner, get(1, 5), get(3, 2), &[(0, 0)])).is_empty());
        // Cross join: both keys.
        assert_eq!(keys(&join(JoinKind::Inner, get(1, 2), get(2, 2), &[])), vec![vec![0, 2]]);
        // Full join: both primary keys are never NULL in real rows, so
        // the pair is a key; a lookup does not make one side's key one.
        let full = join(JoinKind::FullOuter, get(2, 6), get(1, 5), &[(1, 0)]);
        assert_eq!(keys(&full), vec![vec![0, 6]]);
    }

    #[test]
    fn padded_dependencies_are_dropped_unless_their_source_is_never_null() {
        // invoices LEFT JOIN (lines grouped by invoice_id): the group key
        // may be NULL in real rows (lines without an invoice), so its
        // dependency does not survive padding; the invoice's does.
        let per_invoice = group(get(2, 6), vec![col(1)], 1);
        let joined = join(JoinKind::LeftOuter, get(1, 5), per_invoice, &[(0, 0)]);
        assert_eq!(keys(&joined), vec![vec![0]]);
        let regroup = group(joined.clone(), vec![col(5), col(6)], 0);
        assert_eq!(keys(&regroup), vec![vec![0, 1]]);
        // Grouped by invoice id and the aggregate: the id determines it.
        let by_id = group(joined, vec![col(0), col(6)], 0);
        assert_eq!(keys(&by_id), vec![vec![0]]);
    }

    #[test]
    fn distinct_union_and_others() {
        let d = Plan::Distinct(Distinct { input: Box::new(project(get(3, 3), &[2, 0])) });
        assert_eq!(keys(&d), vec![vec![0, 1]]);
        // DISTINCT over columns including a primary key: the key alone.
        let d = Plan::Distinct(Distinct { input: Box::new(project(get(1, 5), &[1, 0, 3])) });
        assert_eq!(keys(&d), vec![vec![1]]);
        let u = Plan::Union(Union { inputs: vec![get(1, 2), get(1, 2)] });
        assert!(keys(&u).is_empty());
        assert!(keys(&Plan::Negate(Negate { input: Box::new(get(1, 2)) })).is_empty());
        let one = Plan::Constant(Constant { rows: vec![(Row::new(vec![Value::Int4(1)]), 1)], arity: 1 });
        assert_eq!(keys(&one), vec![Vec::<usize>::new()]);
        let two = Row::new(vec![Value::Int4(2)]);
        let dup = Plan::Constant(Constant { rows: vec![(two.clone(), 1), (two, 1)], arity: 1 });
        assert!(keys(&dup).is_empty());
    }

    #[test]
    fn first_row_per_group() {
        let top = |limit| {
            Plan::TopK(TopK {
                input: Box::new(get(3, 3)),
                group_key: vec![col(1)],
                order: vec![SortColumn::asc(2)],
                limit,
                offset: 0,
            })
        };
        assert_eq!(keys(&top(Some(1))), vec![vec![1]]);
        assert!(keys(&top(Some(2))).is_empty());
        assert!(keys(&top(None)).is_empty());
    }

    #[test]
    fn narrowest_prefers_fewer_then_non_null_columns() {
        let props = Props {
            arity: 4,
            keys: vec![vec![2, 3], vec![1], vec![0], vec![0, 1, 2]],
            deps: vec![],
            not_null: [1].into(),
        };
        assert_eq!(ordered_keys(&props), vec![vec![1], vec![0], vec![2, 3]]);
        assert_eq!(narrowest_key(&get(3, 1), &pks()), None);
        // Joined on an inner equi-join, a nullable group key is never NULL.
        let per_invoice = group(get(2, 6), vec![col(1)], 1);
        let joined = join(JoinKind::Inner, per_invoice, get(1, 5), &[(0, 0)]);
        assert_eq!(keys(&joined), vec![vec![0], vec![2]]);
    }

    /// A small deterministic generator (xorshift).
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn column(&mut self, arity: usize) -> usize {
            self.below(arity)
        }

        fn plan(&mut self, depth: usize) -> Plan {
            let choice = if depth == 0 { 0 } else { self.below(7) };
            match choice {
                0 => match self.below(3) {
                    0 => get(1, 3),
                    1 => get(2, 3),
                    _ => get(3, 2),
                },
                1 => {
                    let input = self.plan(depth - 1);
                    let a = input.arity();
                    let exprs = (0..1 + self.below(4))
                        .map(|_| match self.below(5) {
                            0 => Expr::Literal(Value::Int4(7)),
                            1 => col(self.column(a)).call_binary(crate::expr::BinaryFunc::Add, col(self.column(a))),
                            _ => col(self.column(a)),
                        })
                        .collect();
                    Plan::Map(Map { input: Box::new(input), exprs })
                }
                2 | 3 => {
                    let (left, right) = (self.plan(depth - 1), self.plan(depth - 1));
                    let (la, ra) = (left.arity(), right.arity());
                    let equi = (0..self.below(3)).map(|_| (col(self.column(la)), col(self.column(ra)))).collect();
                    let kind = [JoinKind::Inner, JoinKind::LeftOuter, JoinKind::FullOuter][self.below(3)];
                    Plan::Join(Join { kind, left: Box::new(left), right: Box::new(right), equi, residual: vec![] })
                }
                4 => {
                    let input = self.plan(depth - 1);
                    let a = input.arity();
                    let key: Vec<Expr> = (0..self.below(4))
                        .map(|_| match self.below(4) {
                            0 => col(self.column(a)).call_binary(crate::expr::BinaryFunc::Add, col(self.column(a))),
                            _ => col(self.column(a)),
                        })
                        .collect();
                    let aggs = if key.is_empty() { 1 } else { self.below(2) };
                    group(input, key, aggs)
                }
                5 => Plan::Distinct(Distinct { input: Box::new(self.plan(depth - 1)) }),
                _ => {
                    let input = self.plan(depth - 1);
                    let a = input.arity();
                    let group_key = (0..self.below(3)).map(|_| col(self.column(a))).collect();
                    let limit = [Some(1), Some(2), None][self.below(3)];
                    Plan::TopK(TopK {
                        input: Box::new(input),
                        group_key,
                        order: vec![SortColumn::asc(self.column(a))],
                        limit,
                        offset: 0,
                    })
                }
            }
        }
    }

    /// Every key reported for random plans holds on their results over
    /// random contents (small values, NULLs and duplicates).
    #[test]
    fn reported_keys_hold_on_random_plans() {
        use crate::runtime::{Runtime, RuntimeConfig};
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut rt = Runtime::new(RuntimeConfig::default()).unwrap();
        let mut rows = Vec::new();
        for (id, arity) in [(1u64, 3usize), (2, 3), (3, 2)] {
            rt.create_table(ObjectId(id), arity).unwrap();
            for pk in 0..12 {
                let value = |g: &mut Gen| if g.below(5) == 0 { Value::Null } else { Value::Int4(g.below(4) as i32) };
                let mut row: Vec<Value> = (0..arity).map(|_| value(&mut g)).collect();
                if id != 3 {
                    row[0] = Value::Int4(pk);
                }
                rows.push((ObjectId(id), Row::new(row), 1 + (id == 3 && pk % 3 == 0) as i64));
            }
        }
        rt.apply(rows).unwrap();
        let mut with_keys = 0;
        for _ in 0..400 {
            let plan = g.plan(3);
            let found = keys(&plan);
            let result = rt.query(&plan, &[]).unwrap();
            for key in &found {
                let mut seen = BTreeSet::new();
                for (row, diff) in &result {
                    assert_eq!(*diff, 1, "key {key:?} of a result with duplicates\n{plan:#?}");
                    let values: Vec<&Value> = key.iter().map(|&c| &row[c]).collect();
                    assert!(seen.insert(values), "key {key:?} repeated in\n{result:?}\nof\n{plan:#?}");
                }
            }
            with_keys += usize::from(!found.is_empty());
        }
        assert!(with_keys > 100, "only {with_keys} plans with a key");
    }
}
