//! SQL over the tables of one or more inputs (polars SQL). Only the tables the statement names
//! are built; each gets a `trace` column with its input's id, and the inputs' rows are stacked.

use crate::frame::dtype;
use crate::input::Input;
use crate::result::QueryResult;
use crate::schema::{TRACE_COLUMN, Table};
use polars_core::prelude::*;
use polars_lazy::prelude::IntoLazy;
use polars_sql::SQLContext;

/// A statement that could not run: the engine's message, with what is available.
#[derive(Debug)]
pub struct QueryError {
    pub message: String,
}

impl QueryError {
    fn with_tables(message: impl std::fmt::Display) -> QueryError {
        QueryError {
            message: format!("{message}\n\n{}", available()),
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// Every table with its columns, as error messages list them.
pub fn available() -> String {
    let mut out = String::from("Available tables (each also has a `trace` column):");
    for t in Table::ALL {
        out += "\n  ";
        out += &t.def().signature();
    }
    out
}

/// A statement being prepared: add the inputs, then run it.
pub struct Query {
    sql: String,
    tables: Vec<Table>,
    /// Per entry of `tables`: the rows of the inputs added so far.
    frames: Vec<Option<DataFrame>>,
}

impl Query {
    /// Parses `sql` far enough to know its tables; an unknown table is an error here, before
    /// any trace is loaded.
    pub fn new(sql: &str) -> Result<Query, QueryError> {
        let names = polars_sql::extract_table_identifiers(sql, false, true)
            .map_err(QueryError::with_tables)?;
        let mut tables = Vec::new();
        for name in names {
            // Names the statement defines itself (WITH ... AS) are not ours to build.
            if let Some(t) = Table::from_name(&name.to_ascii_lowercase()) {
                tables.push(t);
            } else if !defines_cte(sql, &name) {
                return Err(QueryError::with_tables(format!("no table named `{name}`")));
            }
        }
        tables.sort();
        tables.dedup();
        Ok(Query {
            sql: sql.to_owned(),
            frames: vec![None; tables.len()],
            tables,
        })
    }

    /// The tables the statement reads.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// Adds one input's rows to every table the statement reads.
    pub fn add(&mut self, input: &Input) -> anyhow::Result<()> {
        for (table, acc) in self.tables.iter().zip(&mut self.frames) {
            let Some(mut df) = crate::build(input, *table)? else {
                continue;
            };
            with_trace_column(&mut df, input.id())?;
            match acc {
                Some(rows) => {
                    rows.vstack_mut_owned(df)?;
                }
                None => *acc = Some(df),
            }
        }
        Ok(())
    }

    /// Runs the statement over the inputs added.
    pub fn run(self) -> Result<QueryResult, QueryError> {
        let mut ctx = SQLContext::new();
        for (table, rows) in self.tables.iter().zip(self.frames) {
            let mut rows = rows.unwrap_or_else(|| empty(*table));
            rows.rechunk_mut_par();
            ctx.register(table.name(), rows.lazy());
        }
        let df = ctx
            .execute(&self.sql)
            .and_then(|lf| lf.collect())
            .map_err(QueryError::with_tables)?;
        Ok(QueryResult::new(df))
    }
}

/// True when `sql` defines `name` itself (`WITH name AS (...)`, `, name AS (...)`).
fn defines_cte(sql: &str, name: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    lower.match_indices(&name).any(|(at, _)| {
        let before = lower[..at].trim_end();
        let after = lower[at + name.len()..].trim_start();
        (before.ends_with("with") || before.ends_with(',')) && after.starts_with("as")
    })
}

/// Puts the input's id in a `trace` column, first.
pub fn with_trace_column(df: &mut DataFrame, id: &str) -> PolarsResult<()> {
    let scalar = Scalar::new(DataType::String, AnyValue::StringOwned(id.into()));
    let column = Column::new_scalar(TRACE_COLUMN.into(), scalar, df.height());
    df.insert_column(0, column)?;
    Ok(())
}

/// A table with no row (no input had it), with its columns.
fn empty(table: Table) -> DataFrame {
    let mut columns = vec![Column::new_empty(TRACE_COLUMN.into(), &DataType::String)];
    columns.extend(
        table
            .def()
            .columns
            .iter()
            .map(|c| Column::new_empty(c.name.into(), &dtype(c.ty))),
    );
    DataFrame::new(0, columns).expect("empty columns")
}
