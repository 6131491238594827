//! Random plans over random `integer` tables, for checking plan rewrites
//! against the reference evaluator: joins (inner and left outer, with
//! equi keys and residuals), filters whose conjuncts include NULL tests,
//! boolean logic and expressions that can fail (division), maps, and a
//! reduce, distinct or top-k (per group or over everything, with random
//! sort directions, NULL placement, limits and offsets) on top.

use freshet_engine::expr::{BinaryFunc, Expr, UnaryFunc, VariadicFunc};
use freshet_engine::plan::{
    Aggregate, AggregateFunc, Distinct, Filter, Join, JoinKind, Map, ObjectId, Plan, Reduce, SortColumn, TopK,
};
use freshet_engine::value::{DataType, Value};
use proptest::prelude::*;

use crate::gen::TableSpec;

/// Three nullable `integer` tables: `t0` with 3 columns, `t1` and `t2`
/// with 2; column 0 of each is the join key.
pub fn int_schema() -> Vec<TableSpec> {
    [3usize, 2, 2]
        .iter()
        .enumerate()
        .map(|(i, &n)| TableSpec {
            id: ObjectId(i as u64),
            name: format!("t{i}"),
            types: vec![DataType::Int4; n],
            nullable: vec![true; n],
        })
        .collect()
}

fn int(v: i32) -> Expr {
    Expr::Literal(Value::Int4(v))
}

/// A boolean expression over `arity` integer columns.
pub fn predicate(arity: usize) -> BoxedStrategy<Expr> {
    let col = 0..arity;
    let cmp = prop::sample::select(vec![
        BinaryFunc::Eq,
        BinaryFunc::NotEq,
        BinaryFunc::Lt,
        BinaryFunc::Gte,
        BinaryFunc::IsDistinctFrom,
    ]);
    let leaf = prop_oneof![
        4 => (col.clone(), cmp.clone(), -1i32..4).prop_map(|(c, f, v)| Expr::Column(c).call_binary(f, int(v))),
        4 => (col.clone(), cmp, col.clone()).prop_map(|(a, f, b)| Expr::Column(a).call_binary(f, Expr::Column(b))),
        2 => col.clone().prop_map(|c| Expr::Column(c).call_unary(UnaryFunc::IsNull)),
        // Fails on a zero: must not be evaluated on rows it was not before.
        1 => col.clone().prop_map(|c| int(6).call_binary(BinaryFunc::Div, Expr::Column(c)).call_binary(BinaryFunc::Gt, int(1))),
        1 => (col, 0i32..3).prop_map(|(c, v)| Expr::Column(c).call_binary(BinaryFunc::Add, int(v)).call_binary(BinaryFunc::Eq, int(2))),
        1 => prop::sample::select(vec![Value::Bool(true), Value::Bool(false), Value::Null]).prop_map(Expr::Literal),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..=3)
                .prop_map(|args| Expr::Variadic { func: VariadicFunc::And, args }),
            prop::collection::vec(inner.clone(), 2..=3)
                .prop_map(|args| Expr::Variadic { func: VariadicFunc::Or, args }),
            inner.prop_map(|e| e.call_unary(UnaryFunc::Not)),
        ]
    })
    .boxed()
}

fn conjuncts(arity: usize, max: usize) -> impl Strategy<Value = Vec<Expr>> {
    prop::collection::vec(predicate(arity), 0..=max)
}

/// A join of two plans with random kind, equi keys and residuals.
fn join(left: Plan, right: Plan) -> impl Strategy<Value = Plan> {
    let (la, ra) = (left.arity(), right.arity());
    let kind = prop::sample::select(vec![JoinKind::Inner, JoinKind::Inner, JoinKind::LeftOuter, JoinKind::FullOuter]);
    let equi = prop::collection::vec((0..la, 0..ra), 0..=1)
        .prop_map(|pairs| pairs.into_iter().map(|(l, r)| (Expr::Column(l), Expr::Column(r))).collect::<Vec<_>>());
    (kind, equi, conjuncts(la + ra, 2)).prop_map(move |(kind, equi, residual)| {
        Plan::Join(Join { kind, left: Box::new(left.clone()), right: Box::new(right.clone()), equi, residual })
    })
}

fn filtered(plan: Plan) -> impl Strategy<Value = Plan> {
    let arity = plan.arity();
    conjuncts(arity, 3).prop_map(move |predicates| {
        if predicates.is_empty() {
            plan.clone()
        } else {
            Plan::Filter(Filter { input: Box::new(plan.clone()), predicates })
        }
    })
}

/// A map keeping a random selection of columns and adding `#a + #b`.
fn mapped(plan: Plan) -> impl Strategy<Value = Plan> {
    let arity = plan.arity();
    (prop::collection::vec(0..arity, 1..=arity + 1), 0..arity, 0..arity, any::<bool>()).prop_map(
        move |(cols, a, b, add)| {
            let mut exprs: Vec<Expr> = cols.into_iter().map(Expr::Column).collect();
            if add {
                exprs.push(Expr::Column(a).call_binary(BinaryFunc::Add, Expr::Column(b)));
            }
            Plan::Map(Map { input: Box::new(plan.clone()), exprs })
        },
    )
}

/// What goes on top of the plan.
#[derive(Clone, Copy, Debug)]
enum Top {
    Nothing,
    Distinct,
    Grouped,
    Global,
    TopK,
}

/// A top-k over `plan`: maybe per group of one column, sorted on one or
/// two columns, with a limit (maybe none, maybe 0) and an offset.
fn top_k(plan: Plan) -> impl Strategy<Value = Plan> {
    let arity = plan.arity();
    let key = prop::collection::vec((0..arity, any::<bool>(), any::<bool>()), 0..=2);
    let limit = prop_oneof![1 => Just(None), 1 => Just(Some(0u64)), 6 => (1u64..4).prop_map(Some)];
    (prop::option::of(0..arity), key, limit, prop_oneof![3 => Just(0u64), 1 => 1u64..3]).prop_map(
        move |(group, key, limit, offset)| {
            let order = key
                .into_iter()
                .map(|(column, descending, nulls_first)| SortColumn { column, descending, nulls_first })
                .collect();
            Plan::TopK(TopK {
                input: Box::new(plan.clone()),
                group_key: group.into_iter().map(Expr::Column).collect(),
                order,
                limit,
                offset,
            })
        },
    )
}

fn topped(plan: Plan) -> impl Strategy<Value = Plan> {
    let top =
        prop::sample::select(vec![Top::Nothing, Top::Nothing, Top::Distinct, Top::Grouped, Top::Global, Top::TopK]);
    let arity = plan.arity();
    (top, 0..arity, 0..arity).prop_flat_map(move |(top, k, v)| {
        let agg = |func| Aggregate { func, expr: Expr::Column(v), input_type: DataType::Int4, distinct: false };
        let input = Box::new(plan.clone());
        let out = match top {
            Top::TopK => return top_k(plan.clone()).prop_flat_map(filtered).boxed(),
            Top::Nothing => plan.clone(),
            Top::Distinct => Plan::Distinct(Distinct { input }),
            Top::Grouped | Top::Global => Plan::Reduce(Reduce {
                input,
                group_key: if matches!(top, Top::Grouped) { vec![Expr::Column(k)] } else { vec![] },
                aggregates: vec![agg(AggregateFunc::CountStar), agg(AggregateFunc::Sum), agg(AggregateFunc::Min)],
            }),
        };
        filtered(out).boxed()
    })
}

/// A random plan over [`int_schema`]: a join tree of two or three tables
/// (in random nesting), filters and a map around it, and maybe a reduce or
/// distinct with a filter above.
pub fn plan() -> impl Strategy<Value = Plan> {
    let specs = int_schema();
    let gets: Vec<Plan> = specs.iter().map(TableSpec::get).collect();
    let (g0, g1, g2) = (gets[0].clone(), gets[1].clone(), gets[2].clone());
    let shape = prop::sample::select(vec![0u8, 1, 2, 3]);
    shape
        .prop_flat_map(move |shape| -> BoxedStrategy<Plan> {
            let (g0, g1, g2) = (g0.clone(), g1.clone(), g2.clone());
            match shape {
                0 => join(g0, g1).boxed(),
                1 => join(g0, g1).prop_flat_map(move |l| join(l, g2.clone())).boxed(),
                2 => join(g1, g2).prop_flat_map(move |r| join(g0.clone(), r)).boxed(),
                _ => filtered(g0).prop_flat_map(move |l| join(l, g2.clone())).boxed(),
            }
        })
        .prop_flat_map(filtered)
        .prop_flat_map(|p| prop_oneof![Just(p.clone()), mapped(p)])
        .prop_flat_map(filtered)
        .prop_flat_map(topped)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use freshet_engine::plan::optimize::optimize;
    use freshet_engine::value::Row;

    use super::*;
    use crate::gen::{as_tables, table_rows};
    use crate::oracle::evaluate;

    fn contents() -> impl Strategy<Value = BTreeMap<ObjectId, Vec<Row>>> {
        let tables: Vec<_> =
            int_schema().into_iter().map(|s| table_rows(&s, 7).prop_map(move |rows| (s.id, rows))).collect();
        tables.prop_map(|t| t.into_iter().collect())
    }

    /// The generators reach the interesting cases: most plans evaluate,
    /// most change under optimisation, and some fail.
    #[test]
    fn generated_plans_exercise_the_rewrites() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut ok, mut failed, mut changed, mut reordered) = (0, 0, 0, 0);
        for _ in 0..300 {
            let plan = super::plan().new_tree(&mut runner).unwrap().current();
            let db = as_tables(&contents().new_tree(&mut runner).unwrap().current());
            match evaluate(&plan, &db) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            let optimized = optimize(plan.clone());
            changed += usize::from(optimized != plan);
            let text = optimized.to_string();
            reordered += usize::from(text.contains("Get t2\n") && text.find("Get t2") < text.find("Get t1"));
        }
        eprintln!("ok {ok}, failed {failed}, changed {changed}, reordered {reordered}");
        assert!(ok > 150 && failed > 5 && changed > 150 && reordered > 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The optimised plan has the original's result wherever the
        /// original evaluates without error (it may fail less often, never
        /// more), keeps the arity, and is a fixpoint of the optimiser.
        #[test]
        fn optimize_preserves_results(plan in plan(), contents in contents()) {
            let db = as_tables(&contents);
            let optimized = optimize(plan.clone());
            prop_assert_eq!(optimized.arity(), plan.arity());
            prop_assert_eq!(&optimize(optimized.clone()), &optimized, "not a fixpoint:\n{}", optimized);
            if let Ok(expected) = evaluate(&plan, &db) {
                let got = evaluate(&optimized, &db);
                prop_assert_eq!(got, Ok(expected), "original:\n{}\noptimised:\n{}", plan, optimized);
            }
        }
    }
}
