//! Inner-join ordering.
//!
//! A tree of inner joins (no outer join, filter or map in between) is
//! flattened into its inputs and the conjuncts of all its conditions over
//! the concatenation of the inputs, then rebuilt as a left-deep tree in the
//! order that keeps the intermediate results small: each intermediate
//! result of a left-deep tree is arranged (built when the view is created,
//! kept in memory, and probed by every change of the next input), so their
//! total estimated size is what the order minimises.
//!
//! Equalities between plain columns of different inputs are merged into
//! *equivalence classes* (`a = b` and `b = c` put `a`, `b` and `c` in one
//! class): every input with a column in a class can join on it with any
//! input already joined that has one, so `c_nationkey = s_nationkey AND
//! s_nationkey = n_nationkey` also connects `customer` to `nation`. When an
//! input is joined, each class it shares with the inputs already joined
//! contributes one equi-key pair (the input's first column in the class
//! against the first joined one); a second column of the same input in a
//! class is equated to its first by a conjunct placed with the input. The
//! classes enforce exactly the equalities written (each is implied by them,
//! and they imply each).
//!
//! Estimates ([`super::estimate`]), without statistics: a table's filters
//! scale its size by their selectivities. The caller's unique keys
//! ([`SourceKeys`], and those [`unique_keys`] derives for `Reduce` and
//! `Distinct` inputs) tell *lookups*: an input joined on columns covering
//! one of its unique keys matches each row at most once, so joining it
//! does not grow the result (it shrinks it by the input's filters). A table
//! looked up by another table of the same join is assumed ten times smaller
//! than it, transitively (`lineitem` → `orders` → `customer` → `nation` →
//! `region`), which is what makes starting from a filtered dimension
//! (`region` named `'ASIA'`) and walking towards the facts the cheaper
//! order. Joining `J` (estimated `|J|`) with input `X` on shared classes is
//! estimated as
//!
//! * `|J| · |X| / dom` when `X` is looked up, `dom` being the largest
//!   table unique on the class (`X` itself, for a table);
//! * `|J| · |X| / base(M)` when `X` looks up an input `M` already joined;
//! * `|J| · |X| / (max(base) / 10)` otherwise (a many-to-many equality);
//! * `|J| · |X|` for a cross product;
//!
//! times the selectivity of the other conjuncts placed at that join. For
//! each possible first input, the order is built greedily (the connected
//! input giving the smallest result next, or, when none is connected, the
//! smallest input); the first input whose order has the smallest total of
//! intermediate sizes wins. Ties keep the inputs' original order, so a
//! join without filters or keys keeps its written order (each next input
//! the first one connected).
//!
//! Each remaining conjunct is placed at the first join where all its
//! columns are available, as an equi-key pair when it is such an equality.
//! A `Map` on top restores the original column order.
//!
//! Reordering changes which row combinations a condition is evaluated on,
//! so a tree is reordered only when none of its conditions can fail.

use std::collections::BTreeSet;

use super::eager::{unique_keys, SourceKeys};
use super::estimate;
use super::expr::{as_equi_pair, can_error, shift_up};
use crate::expr::{BinaryFunc, Expr};
use crate::plan::{Distinct, Filter, Join, JoinKind, Map, Negate, Plan, Reduce, Threshold, TopK, Union};

/// A table looked up by another is assumed this many times smaller.
const LOOKUP_FANOUT: f64 = 10.0;

/// Reorders every eligible inner-join tree in the plan.
pub(crate) fn order_joins(plan: Plan, keys: &SourceKeys) -> Plan {
    let rec = |p: Box<Plan>| Box::new(order_joins(*p, keys));
    match plan {
        Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(&j) => {
            let mut inputs = Vec::new();
            let mut conjuncts = Vec::new();
            flatten(Plan::Join(j), 0, &mut inputs, &mut conjuncts, keys);
            rebuild(inputs, conjuncts, keys)
        }
        Plan::Join(j) => Plan::Join(Join {
            kind: j.kind,
            left: rec(j.left),
            right: rec(j.right),
            equi: j.equi,
            residual: j.residual,
        }),
        Plan::Get(_) | Plan::Constant(_) => plan,
        Plan::Filter(f) => Plan::Filter(Filter { input: rec(f.input), predicates: f.predicates }),
        Plan::Map(m) => Plan::Map(Map { input: rec(m.input), exprs: m.exprs }),
        Plan::Reduce(r) => {
            Plan::Reduce(Reduce { input: rec(r.input), group_key: r.group_key, aggregates: r.aggregates })
        }
        Plan::Distinct(d) => Plan::Distinct(Distinct { input: rec(d.input) }),
        Plan::Union(u) => Plan::Union(Union { inputs: u.inputs.into_iter().map(|i| order_joins(i, keys)).collect() }),
        Plan::Negate(n) => Plan::Negate(Negate { input: rec(n.input) }),
        Plan::Threshold(t) => Plan::Threshold(Threshold { input: rec(t.input) }),
        Plan::TopK(t) => Plan::TopK(TopK { input: rec(t.input), ..t }),
    }
}

/// True if no condition of `j` can fail: the join's inputs may be
/// reordered.
pub(crate) fn conditions_cannot_fail(j: &Join) -> bool {
    j.equi.iter().all(|(l, r)| !can_error(l) && !can_error(r)) && j.residual.iter().all(|r| !can_error(r))
}

/// Collects the inputs of an inner-join tree (each itself reordered) and its
/// conditions as conjuncts over the concatenated row, starting at column
/// `offset`.
fn flatten(plan: Plan, offset: usize, inputs: &mut Vec<Plan>, conjuncts: &mut Vec<Expr>, keys: &SourceKeys) {
    match plan {
        Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(&j) => {
            let la = j.left.arity();
            flatten(*j.left, offset, inputs, conjuncts, keys);
            flatten(*j.right, offset + la, inputs, conjuncts, keys);
            for (l, r) in j.equi {
                conjuncts.push(shift_up(l, offset).call_binary(BinaryFunc::Eq, shift_up(r, offset + la)));
            }
            conjuncts.extend(j.residual.into_iter().map(|r| shift_up(r, offset)));
        }
        other => inputs.push(order_joins(other, keys)),
    }
}

/// The flattened tree: inputs, equivalence classes, remaining conjuncts,
/// and the estimates ordering them.
struct Graph {
    /// First column of each input in the concatenated row.
    starts: Vec<usize>,
    /// Equivalence classes of columns (each sorted, spanning two inputs
    /// or more).
    classes: Vec<Vec<usize>>,
    /// The conjuncts not expressed by the classes, and the inputs each
    /// reads.
    conjuncts: Vec<Expr>,
    needs: Vec<BTreeSet<usize>>,
    /// Unique keys of each input, as its own column positions.
    unique: Vec<Vec<BTreeSet<usize>>>,
    /// Estimated size of each input, and of the table under it before its
    /// filters (its own estimate for inputs that are not a table).
    est: Vec<f64>,
    base: Vec<f64>,
}

impl Graph {
    fn input_of(&self, column: usize) -> usize {
        self.starts.partition_point(|&s| s <= column) - 1
    }

    /// The inputs an expression reads.
    fn inputs_of(&self, e: &Expr) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        e.visit_columns(&mut |c| {
            out.insert(self.input_of(c));
        });
        out
    }

    /// Columns of `class` in `input`, as the input's own positions.
    fn local(&self, class: usize, input: usize) -> impl Iterator<Item = usize> + '_ {
        let start = self.starts[input];
        self.classes[class].iter().filter(move |&&c| self.input_of(c) == input).map(move |&c| c - start)
    }

    fn has(&self, class: usize, input: usize) -> bool {
        self.local(class, input).next().is_some()
    }

    /// The classes joining `next` to the inputs in `joined`.
    fn connecting(&self, joined: &BTreeSet<usize>, next: usize) -> Vec<usize> {
        (0..self.classes.len()).filter(|&k| self.has(k, next) && joined.iter().any(|&j| self.has(k, j))).collect()
    }

    /// True if `input` is unique on its columns in `classes` (and has
    /// some).
    fn unique_on(&self, input: usize, classes: &[usize]) -> bool {
        let cols: BTreeSet<usize> = classes.iter().flat_map(|&k| self.local(k, input)).collect();
        !cols.is_empty() && self.unique[input].iter().any(|k| k.is_subset(&cols))
    }

    /// The estimated size of `joined` (estimated `size`) joined with `next`.
    fn join_size(&self, joined: &BTreeSet<usize>, size: f64, next: usize) -> f64 {
        let mut after = joined.clone();
        after.insert(next);
        let mut factor = 1.0;
        let mut equalities = Vec::new();
        for (c, needs) in self.conjuncts.iter().zip(&self.needs) {
            if needs.contains(&next) && needs.is_subset(&after) {
                if needs.len() > 1 && is_equality(c) {
                    equalities.push(needs);
                } else {
                    factor *= estimate::selectivity(c);
                }
            }
        }
        let conn = self.connecting(joined, next);
        let x = self.est[next];
        let largest = |inputs: Vec<usize>| inputs.into_iter().map(|i| self.base[i]).fold(f64::MIN_POSITIVE, f64::max);
        let matched = if !conn.is_empty() {
            if self.unique_on(next, &conn) {
                // A lookup into `next`: the largest input unique on one of
                // the classes bounds the values it can match.
                let dom = (0..self.est.len())
                    .filter(|&i| conn.iter().any(|&k| self.unique_on(i, &[k])))
                    .map(|i| self.base[i])
                    .fold(self.base[next], f64::max);
                size * x / dom
            } else if let Some(base) =
                joined.iter().filter(|&&m| self.unique_on(m, &conn)).map(|&m| self.base[m]).max_by(f64::total_cmp)
            {
                // `next` looks up an input already joined.
                size * x / base
            } else {
                let sides = joined.iter().copied().filter(|&j| conn.iter().any(|&k| self.has(k, j))).collect();
                size * x * LOOKUP_FANOUT / largest(sides).max(self.base[next])
            }
        } else if let Some(needs) = equalities.first() {
            size * x / largest(needs.iter().copied().collect())
        } else {
            size * x
        };
        matched * factor
    }

    /// The greedy order starting from `first`, and its total of
    /// intermediate sizes.
    fn order_from(&self, first: usize) -> (Vec<usize>, f64) {
        let n = self.est.len();
        let mut order = vec![first];
        let mut joined = BTreeSet::from([first]);
        let mut size = self.est[first];
        let mut cost = 0.0;
        while order.len() < n {
            let remaining = (0..n).filter(|i| !joined.contains(i));
            let connected: Vec<usize> = remaining.clone().filter(|&i| self.connected(&joined, i)).collect();
            let (next, next_size) = if connected.is_empty() {
                let next = first_least(remaining.map(|i| (i, self.est[i])));
                (next, self.join_size(&joined, size, next))
            } else {
                let next = first_least(connected.into_iter().map(|i| (i, self.join_size(&joined, size, i))));
                (next, self.join_size(&joined, size, next))
            };
            order.push(next);
            joined.insert(next);
            size = next_size;
            if order.len() < n {
                cost += size;
            }
        }
        (order, cost)
    }

    /// True if `next` shares a class with `joined`, or an equality
    /// conjunct connects them.
    fn connected(&self, joined: &BTreeSet<usize>, next: usize) -> bool {
        !self.connecting(joined, next).is_empty()
            || self.conjuncts.iter().zip(&self.needs).any(|(c, needs)| {
                is_equality(c)
                    && needs.contains(&next)
                    && needs.len() > 1
                    && needs.iter().all(|i| *i == next || joined.contains(i))
            })
    }
}

/// True if `a` is below `b` by more than rounding: estimates summed in a
/// different order must not reorder inputs.
fn clearly_less(a: f64, b: f64) -> bool {
    a < b * (1.0 - 1e-9)
}

/// The first item whose value is least (up to rounding).
fn first_least(items: impl Iterator<Item = (usize, f64)>) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in items {
        if best.is_none_or(|(_, b)| clearly_less(v, b)) {
            best = Some((i, v));
        }
    }
    best.expect("an item").0
}

/// `a = b` with each side reading columns.
fn is_equality(e: &Expr) -> bool {
    matches!(e, Expr::Binary { func: BinaryFunc::Eq, left, right } if !left.is_constant() && !right.is_constant())
}

/// Builds the equivalence classes from the column equalities in
/// `conjuncts` (removing them) and adds the conjuncts equating two columns
/// of one input.
fn classes(conjuncts: &mut Vec<Expr>, total: usize, input_of: &dyn Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..total).collect();
    fn find(parent: &mut [usize], mut c: usize) -> usize {
        while parent[c] != c {
            parent[c] = parent[parent[c]];
            c = parent[c];
        }
        c
    }
    let mut rest = Vec::with_capacity(conjuncts.len());
    let mut merged = false;
    for c in conjuncts.drain(..) {
        if let Expr::Binary { func: BinaryFunc::Eq, left, right } = &c {
            if let (Expr::Column(a), Expr::Column(b)) = (&**left, &**right) {
                if input_of(*a) != input_of(*b) {
                    let (ra, rb) = (find(&mut parent, *a), find(&mut parent, *b));
                    parent[ra.max(rb)] = ra.min(rb);
                    merged = true;
                    continue;
                }
            }
        }
        rest.push(c);
    }
    *conjuncts = rest;
    if !merged {
        return Vec::new();
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for c in 0..total {
        let r = find(&mut parent, c);
        by_root.entry(r).or_default().push(c);
    }
    let classes: Vec<Vec<usize>> = by_root.into_values().filter(|members| members.len() > 1).collect();
    // Two columns of one input in a class: equal to each other too.
    for class in &classes {
        let mut firsts: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
        for &c in class {
            match firsts.get(&input_of(c)) {
                Some(&first) => conjuncts.push(Expr::Column(first).call_binary(BinaryFunc::Eq, Expr::Column(c))),
                None => {
                    firsts.insert(input_of(c), c);
                }
            }
        }
    }
    classes
}

/// The graph of a flattened inner-join tree with its estimates.
fn graph(inputs: &[Plan], mut conjuncts: Vec<Expr>, keys: &SourceKeys) -> Graph {
    let mut starts = Vec::with_capacity(inputs.len());
    let mut total = 0;
    for p in inputs {
        starts.push(total);
        total += p.arity();
    }
    let input_of = |c: usize| starts.partition_point(|&s| s <= c) - 1;
    let classes = classes(&mut conjuncts, total, &input_of);
    let mut graph = Graph {
        starts: starts.clone(),
        classes,
        needs: Vec::new(),
        conjuncts,
        unique: inputs.iter().map(|p| unique_keys(p, keys)).collect(),
        est: inputs.iter().map(|p| estimate::size(p, keys)).collect(),
        base: Vec::new(),
    };
    graph.needs = graph.conjuncts.iter().map(|c| graph.inputs_of(c)).collect();
    graph.base = table_sizes(&graph, inputs);
    for (i, input) in inputs.iter().enumerate() {
        if estimate::base_table(input) {
            graph.est[i] *= graph.base[i] / estimate::TABLE;
        } else {
            // Values a derived input can match: as many as it would have
            // without its filters.
            graph.base[i] = graph.est[i] / estimate::filters_in(input);
        }
    }
    graph
}

/// The estimated size of an inner-join tree's result (see the module
/// documentation), joining its inputs in their current order.
pub(crate) fn tree_size(plan: &Plan, keys: &SourceKeys) -> f64 {
    fn collect(plan: &Plan, offset: usize, inputs: &mut Vec<Plan>, conjuncts: &mut Vec<Expr>) {
        match plan {
            Plan::Join(j) if j.kind == JoinKind::Inner && conditions_cannot_fail(j) => {
                let la = j.left.arity();
                collect(&j.left, offset, inputs, conjuncts);
                collect(&j.right, offset + la, inputs, conjuncts);
                for (l, r) in &j.equi {
                    conjuncts.push(
                        shift_up(l.clone(), offset).call_binary(BinaryFunc::Eq, shift_up(r.clone(), offset + la)),
                    );
                }
                conjuncts.extend(j.residual.iter().map(|r| shift_up(r.clone(), offset)));
            }
            other => inputs.push(other.clone()),
        }
    }
    let (mut inputs, mut conjuncts) = (Vec::new(), Vec::new());
    collect(plan, 0, &mut inputs, &mut conjuncts);
    let graph = graph(&inputs, conjuncts, keys);
    let mut joined = BTreeSet::from([0]);
    let mut size = graph.est[0];
    for next in 1..inputs.len() {
        size = graph.join_size(&joined, size, next);
        joined.insert(next);
    }
    size
}

fn rebuild(inputs: Vec<Plan>, conjuncts: Vec<Expr>, keys: &SourceKeys) -> Plan {
    let arities: Vec<usize> = inputs.iter().map(Plan::arity).collect();
    let graph = graph(&inputs, conjuncts, keys);
    let starts = graph.starts.clone();
    let total: usize = arities.iter().sum();
    let input_of = |c: usize| starts.partition_point(|&s| s <= c) - 1;

    // The cheapest greedy order over every first input (ties: the first).
    let n = inputs.len();
    let (mut order, mut best) = graph.order_from(0);
    for first in 1..n {
        let (o, cost) = graph.order_from(first);
        if clearly_less(cost, best) {
            (order, best) = (o, cost);
        }
    }

    // Original column -> column in the new layout.
    let mut new_pos = vec![0; total];
    let mut at = 0;
    for &i in &order {
        for k in 0..arities[i] {
            new_pos[starts[i] + k] = at + k;
        }
        at += arities[i];
    }

    let Graph { classes, conjuncts, needs, .. } = graph;
    let mut placed = vec![false; conjuncts.len()];
    let mut slots: Vec<Option<Plan>> = inputs.into_iter().map(Some).collect();
    let mut acc = slots[order[0]].take().expect("each input is used once");
    let mut width = arities[order[0]];
    let mut available = BTreeSet::from([order[0]]);
    for &next in &order[1..] {
        let (mut equi, mut residual) = (Vec::new(), Vec::new());
        for class in &classes {
            let joined = class.iter().find(|&&c| available.contains(&input_of(c)));
            let here = class.iter().find(|&&c| input_of(c) == next);
            if let (Some(&j), Some(&x)) = (joined, here) {
                equi.push((Expr::Column(new_pos[j]), Expr::Column(new_pos[x] - width)));
            }
        }
        available.insert(next);
        for (k, c) in conjuncts.iter().enumerate() {
            if placed[k] || !needs[k].is_subset(&available) {
                continue;
            }
            placed[k] = true;
            let mut c = c.clone();
            c.map_columns(&mut |col| new_pos[col]);
            match as_equi_pair(&c, width) {
                Some(pair) => equi.push(pair),
                None => residual.push(c),
            }
        }
        let right = slots[next].take().expect("each input is used once");
        width += arities[next];
        acc = Plan::Join(Join { kind: JoinKind::Inner, left: Box::new(acc), right: Box::new(right), equi, residual });
    }

    if new_pos.iter().enumerate().all(|(i, &p)| i == p) {
        acc
    } else {
        Plan::Map(Map { input: Box::new(acc), exprs: new_pos.into_iter().map(Expr::Column).collect() })
    }
}

/// The assumed size of the table under each input that reads one: a table
/// looked up by another table of the join is [`LOOKUP_FANOUT`] times
/// smaller than it, transitively (the longest chain of lookups counts).
fn table_sizes(graph: &Graph, inputs: &[Plan]) -> Vec<f64> {
    let n = inputs.len();
    let tables: Vec<bool> = inputs.iter().map(estimate::base_table).collect();
    let mut looks_up = vec![Vec::new(); n];
    for (i, from) in looks_up.iter_mut().enumerate() {
        for j in 0..n {
            if i == j || !tables[i] || !tables[j] {
                continue;
            }
            let conn = graph.connecting(&BTreeSet::from([i]), j);
            if !conn.is_empty() && graph.unique_on(j, &conn) {
                from.push(j);
            }
        }
    }
    // Longest chain of lookups into each table (bounded: keys can form
    // cycles, as in a self-join on a primary key).
    let mut depth = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            for &j in &looks_up[i] {
                if depth[j] < depth[i] + 1 && depth[i] < n {
                    depth[j] = depth[i] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    depth.into_iter().map(|d| estimate::TABLE / LOOKUP_FANOUT.powi(d as i32)).collect()
}
