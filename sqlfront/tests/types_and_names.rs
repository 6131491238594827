//! Output column names and types, checked against what PostgreSQL 15
//! reports (`\gdesc`) for the same queries over the same tables.

mod common;

use common::describe;

fn check(sql: &str, expected: &[&str]) {
    assert_eq!(describe(sql), expected, "{sql}");
}

#[test]
fn grouped_select_list_matches_postgres() {
    check(
        "SELECT a+1, sum(a), count(*), CAST(a AS int8), a::int8, CAST(1 AS int), 'x'::text, coalesce(a,1), \
         CASE WHEN a>0 THEN 1 END, CASE WHEN a>0 THEN 1 ELSE a END AS dummy, nullif(a,1), DATE '2024-01-01', \
         INTERVAL '1 day', 1, t.a, (a), -a, a IS NULL, true, NULL, 'abc', 1::numeric(5,2), TIMESTAMP '2024-01-01', \
         min(a), avg(a), sum(b), sum(c), avg(c), sum(k), avg(l), sum(j), max(f) FROM t GROUP BY t.id",
        &[
            "?column?|integer", "sum|bigint", "count|bigint", "a|bigint", "a|bigint", "int4|integer", "text|text",
            "coalesce|integer", "case|integer", "dummy|integer", "nullif|integer", "date|date", "interval|interval",
            "?column?|integer", "a|integer", "a|integer", "?column?|integer", "?column?|boolean", "?column?|boolean",
            "?column?|text", "?column?|text", "numeric|numeric(5,2)", "timestamp|timestamp without time zone",
            "min|integer", "avg|numeric", "sum|numeric", "sum|numeric", "avg|numeric", "sum|bigint",
            "avg|double precision", "sum|interval", "max|bpchar",
        ],
    );
}

#[test]
fn casts_literals_and_operators_match_postgres() {
    check(
        "SELECT 1::varchar(3), 1::char(2), 1::double precision, 1::decimal, 1::smallint, 1::bigint, \
         '2024-01-01'::timestamptz, 2147483648, 9223372036854775808, 1.5, a/2, a/2.0, b+a, k+k, c*a, l+c, \
         g+1, g-g, g+j, h-h, i-i, j*2, g-1, h+j, d||e, e||e, f||'x', f||f, 1||'a', a||'x', \
         CASE WHEN a>0 THEN c ELSE l END, coalesce(e,d), coalesce(e,e), coalesce(f,f), coalesce(f,e) FROM t",
        &[
            "varchar|character varying(3)", "bpchar|character(2)", "float8|double precision", "numeric|numeric",
            "int2|smallint", "int8|bigint", "timestamptz|timestamp with time zone", "?column?|bigint",
            "?column?|numeric", "?column?|numeric", "?column?|integer", "?column?|numeric", "?column?|bigint",
            "?column?|smallint", "?column?|numeric", "?column?|double precision", "?column?|date",
            "?column?|integer", "?column?|timestamp without time zone", "?column?|interval", "?column?|interval",
            "?column?|interval", "?column?|date", "?column?|timestamp without time zone", "?column?|text",
            "?column?|text", "?column?|text", "?column?|text", "?column?|text", "?column?|text", "l|double precision",
            "coalesce|character varying", "coalesce|character varying(5)", "coalesce|character(3)", "coalesce|bpchar",
        ],
    );
}

#[test]
fn aggregates_drop_modifiers_as_postgres() {
    check(
        "SELECT max(c), max(e), min(f), max(d), max(g), sum(c), max(c)+1 FROM t",
        &["max|numeric", "max|text", "min|bpchar", "max|text", "max|date", "sum|numeric", "?column?|numeric"],
    );
}

#[test]
fn case_coalesce_nullif_resolution_matches_postgres() {
    check(
        "SELECT e||'x', CASE WHEN true THEN e ELSE d END, CASE WHEN true THEN e ELSE 'x' END, \
         CASE WHEN true THEN f ELSE 'x' END, CASE WHEN true THEN 1 ELSE 2.5 END, CASE WHEN true THEN 'a' ELSE 'b' END, \
         coalesce('a','b'), coalesce(NULL,NULL), nullif(e,'x'), nullif(f,'x'), nullif(1, 1.5), coalesce(1, 2::int8), \
         coalesce(k, 1), CASE WHEN true THEN NULL END, 1 IN (1,2), e = 'x', f = 'x', c, e, f, CAST(e AS text), \
         CASE a WHEN 1 THEN 'x' END FROM t",
        &[
            "?column?|text", "d|text", "case|character varying", "case|bpchar", "case|numeric", "case|text",
            "coalesce|text", "coalesce|text", "nullif|text", "nullif|character(3)", "nullif|numeric",
            "coalesce|bigint", "coalesce|integer", "case|text", "?column?|boolean", "?column?|boolean",
            "?column?|boolean", "c|numeric(10,2)", "e|character varying(5)", "f|character(3)", "e|text", "case|text",
        ],
    );
}

#[test]
fn numeric_literals_are_typed_by_size() {
    check(
        "SELECT k+1, k*k, 32767, 32768::int2, -2147483648, 2147483647, -2147483649, 1e3, 1.50, .5, 0.0, 1e-2, -1.5, \
         nullif(1.5, 1) FROM t",
        &[
            "?column?|integer", "?column?|smallint", "?column?|integer", "int2|smallint", "?column?|integer",
            "?column?|integer", "?column?|bigint", "?column?|numeric", "?column?|numeric", "?column?|numeric",
            "?column?|numeric", "?column?|numeric", "?column?|numeric", "nullif|numeric",
        ],
    );
}

#[test]
fn using_joins_merge_columns_as_postgres() {
    let t_cols = [
        "a|integer", "b|bigint", "c|numeric(10,2)", "d|text", "e|character varying(5)", "f|character(3)", "g|date",
        "h|timestamp without time zone", "i|timestamp with time zone", "j|interval", "k|smallint",
        "l|double precision", "m|boolean",
    ];
    let mut expected = vec!["id|integer"];
    expected.extend(t_cols);
    expected.extend(["t_id|integer", "x|text"]);
    check("SELECT * FROM t JOIN u USING (id)", &expected);

    let mut expected = vec!["id|bigint"];
    expected.extend(t_cols);
    expected.push("y|integer");
    check("SELECT * FROM t JOIN v8 USING (id)", &expected);

    let mut expected = vec!["id|integer"];
    expected.extend(t_cols);
    expected.push("id|bigint");
    check("SELECT t.*, id FROM t LEFT JOIN v8 USING (id)", &expected);
}

#[test]
fn group_by_resolves_input_columns_before_output_names() {
    // `b` is t.b (bigint), not the alias of `a`: PostgreSQL reports t.a
    // ungrouped.
    let e = common::error("SELECT a AS b FROM t GROUP BY b");
    assert_eq!(e.to_string(), "column \"t.a\" must appear in the GROUP BY clause or be used in an aggregate function");
    check("SELECT a+1 AS z FROM t GROUP BY z", &["z|integer"]);
    check("SELECT a+1 FROM t GROUP BY a+1", &["?column?|integer"]);
    check("SELECT t.d, count(*) FROM t JOIN u ON t.id = u.t_id GROUP BY t.id", &["d|text", "count|bigint"]);
    check(
        "SELECT count(*) FILTER (WHERE a > 1), sum(a) FILTER (WHERE a>1) FROM t",
        &["count|bigint", "sum|bigint"],
    );
    check("SELECT sum(DISTINCT a) FROM t", &["sum|bigint"]);
    check("SELECT 1 FROM t HAVING count(*) > 1", &["?column?|integer"]);
}

#[test]
fn views_are_readable_and_nullability_is_tracked() {
    let q = common::query("SELECT mv.a, n, t.id, u.x FROM mv JOIN t ON t.a = mv.a LEFT JOIN u ON u.t_id = t.id");
    let names: Vec<_> = q.columns.iter().map(|c| (c.name.as_str(), c.nullable)).collect();
    assert_eq!(names, [("a", true), ("n", false), ("id", false), ("x", true)]);
    let q = common::query("SELECT count(*), sum(a), id FROM t GROUP BY id");
    let nullable: Vec<_> = q.columns.iter().map(|c| c.nullable).collect();
    assert_eq!(nullable, [false, true, false]);
}
