//! The eight TPC-H tables in PostgreSQL terms: integer keys (`bigint` for
//! order keys), `numeric(15,2)` for decimals, `date`, and `char(n)` /
//! `varchar(n)` as the specification sizes them; every table has its
//! primary key.

use freshet_engine::value::DataType;

/// One column: its name, its SQL type as written in `CREATE TABLE`, and
/// the same type as freshet's [`DataType`].
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The column's name.
    pub name: &'static str,
    /// The type as written in DDL.
    pub sql_type: &'static str,
    /// The type as a value type.
    pub data_type: DataType,
}

/// One TPC-H table.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    /// The table's name.
    pub name: &'static str,
    /// Its columns, in order.
    pub columns: &'static [Column],
    /// The positions of its primary key columns.
    pub primary_key: &'static [usize],
}

impl Table {
    /// `CREATE TABLE name (…, PRIMARY KEY (…))`, accepted by freshet and
    /// PostgreSQL alike.
    pub fn create_sql(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{} {} NOT NULL", c.name, c.sql_type))
            .collect();
        let key: Vec<&str> = self
            .primary_key
            .iter()
            .map(|&i| self.columns[i].name)
            .collect();
        format!(
            "CREATE TABLE {} ({}, PRIMARY KEY ({}))",
            self.name,
            cols.join(", "),
            key.join(", ")
        )
    }

    /// The position of the column `name`.
    ///
    /// # Panics
    /// If the table has no such column.
    pub fn column(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", self.name))
    }
}

const fn col(name: &'static str, sql_type: &'static str, data_type: DataType) -> Column {
    Column {
        name,
        sql_type,
        data_type,
    }
}

const INT: DataType = DataType::Int4;
const BIGINT: DataType = DataType::Int8;
const MONEY: DataType = DataType::Numeric(Some((15, 2)));
const DATE: DataType = DataType::Date;

/// `region`.
pub const REGION: Table = Table {
    name: "region",
    columns: &[
        col("r_regionkey", "integer", INT),
        col("r_name", "char(25)", DataType::Char(25)),
        col("r_comment", "varchar(152)", DataType::Varchar(Some(152))),
    ],
    primary_key: &[0],
};

/// `nation`.
pub const NATION: Table = Table {
    name: "nation",
    columns: &[
        col("n_nationkey", "integer", INT),
        col("n_name", "char(25)", DataType::Char(25)),
        col("n_regionkey", "integer", INT),
        col("n_comment", "varchar(152)", DataType::Varchar(Some(152))),
    ],
    primary_key: &[0],
};

/// `part`.
pub const PART: Table = Table {
    name: "part",
    columns: &[
        col("p_partkey", "integer", INT),
        col("p_name", "varchar(55)", DataType::Varchar(Some(55))),
        col("p_mfgr", "char(25)", DataType::Char(25)),
        col("p_brand", "char(10)", DataType::Char(10)),
        col("p_type", "varchar(25)", DataType::Varchar(Some(25))),
        col("p_size", "integer", INT),
        col("p_container", "char(10)", DataType::Char(10)),
        col("p_retailprice", "numeric(15,2)", MONEY),
        col("p_comment", "varchar(23)", DataType::Varchar(Some(23))),
    ],
    primary_key: &[0],
};

/// `supplier`.
pub const SUPPLIER: Table = Table {
    name: "supplier",
    columns: &[
        col("s_suppkey", "integer", INT),
        col("s_name", "char(25)", DataType::Char(25)),
        col("s_address", "varchar(40)", DataType::Varchar(Some(40))),
        col("s_nationkey", "integer", INT),
        col("s_phone", "char(15)", DataType::Char(15)),
        col("s_acctbal", "numeric(15,2)", MONEY),
        col("s_comment", "varchar(101)", DataType::Varchar(Some(101))),
    ],
    primary_key: &[0],
};

/// `partsupp`.
pub const PARTSUPP: Table = Table {
    name: "partsupp",
    columns: &[
        col("ps_partkey", "integer", INT),
        col("ps_suppkey", "integer", INT),
        col("ps_availqty", "integer", INT),
        col("ps_supplycost", "numeric(15,2)", MONEY),
        col("ps_comment", "varchar(199)", DataType::Varchar(Some(199))),
    ],
    primary_key: &[0, 1],
};

/// `customer`.
pub const CUSTOMER: Table = Table {
    name: "customer",
    columns: &[
        col("c_custkey", "integer", INT),
        col("c_name", "varchar(25)", DataType::Varchar(Some(25))),
        col("c_address", "varchar(40)", DataType::Varchar(Some(40))),
        col("c_nationkey", "integer", INT),
        col("c_phone", "char(15)", DataType::Char(15)),
        col("c_acctbal", "numeric(15,2)", MONEY),
        col("c_mktsegment", "char(10)", DataType::Char(10)),
        col("c_comment", "varchar(117)", DataType::Varchar(Some(117))),
    ],
    primary_key: &[0],
};

/// `orders`.
pub const ORDERS: Table = Table {
    name: "orders",
    columns: &[
        col("o_orderkey", "bigint", BIGINT),
        col("o_custkey", "integer", INT),
        col("o_orderstatus", "char(1)", DataType::Char(1)),
        col("o_totalprice", "numeric(15,2)", MONEY),
        col("o_orderdate", "date", DATE),
        col("o_orderpriority", "char(15)", DataType::Char(15)),
        col("o_clerk", "char(15)", DataType::Char(15)),
        col("o_shippriority", "integer", INT),
        col("o_comment", "varchar(79)", DataType::Varchar(Some(79))),
    ],
    primary_key: &[0],
};

/// `lineitem`.
pub const LINEITEM: Table = Table {
    name: "lineitem",
    columns: &[
        col("l_orderkey", "bigint", BIGINT),
        col("l_partkey", "integer", INT),
        col("l_suppkey", "integer", INT),
        col("l_linenumber", "integer", INT),
        col("l_quantity", "numeric(15,2)", MONEY),
        col("l_extendedprice", "numeric(15,2)", MONEY),
        col("l_discount", "numeric(15,2)", MONEY),
        col("l_tax", "numeric(15,2)", MONEY),
        col("l_returnflag", "char(1)", DataType::Char(1)),
        col("l_linestatus", "char(1)", DataType::Char(1)),
        col("l_shipdate", "date", DATE),
        col("l_commitdate", "date", DATE),
        col("l_receiptdate", "date", DATE),
        col("l_shipinstruct", "char(25)", DataType::Char(25)),
        col("l_shipmode", "char(10)", DataType::Char(10)),
        col("l_comment", "varchar(44)", DataType::Varchar(Some(44))),
    ],
    primary_key: &[0, 3],
};

/// Every table, referenced ones before the ones referencing them.
pub const TABLES: [Table; 8] = [
    REGION, NATION, PART, SUPPLIER, PARTSUPP, CUSTOMER, ORDERS, LINEITEM,
];

/// The position of table `name` in [`TABLES`].
///
/// # Panics
/// If there is no such table.
pub fn table_index(name: &str) -> usize {
    TABLES
        .iter()
        .position(|t| t.name == name)
        .unwrap_or_else(|| panic!("no TPC-H table {name}"))
}
