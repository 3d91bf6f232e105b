//! Builds one table's data frame column by column, each checked against the schema: its name
//! must be the next column the schema lists, its type the schema's. A builder that drifts from
//! `schema.rs` fails at once, naming the column.

use crate::schema::{Table, Type};
use polars_core::prelude::*;

/// Nanoseconds of the trace clock as the tables store them: signed 64-bit. Times past
/// `i64::MAX` (year 2262 of a Unix clock; only a damaged trace has them) saturate.
pub fn ns(t: u64) -> i64 {
    int64(t)
}

/// A count as the tables store it (signed 64-bit, saturating).
pub fn int64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A CPU id or count as the tables store it (signed 32-bit; `MAX_CPUS` is far below).
pub fn int32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Builds a table's frame: call the typed methods in the schema's column order.
pub struct Frame {
    table: Table,
    height: usize,
    columns: Vec<Column>,
}

impl Frame {
    pub fn new(table: Table, height: usize) -> Frame {
        Frame {
            table,
            height,
            columns: Vec::with_capacity(table.def().columns.len()),
        }
    }

    fn push(&mut self, name: &str, ty: Type, series: Series) {
        let def = self.table.def();
        let expected = def.columns.get(self.columns.len());
        assert!(
            expected.is_some_and(|c| c.name == name && c.ty == ty),
            "{}.{name}: the builder and schema.rs disagree (schema expects {:?})",
            def.name,
            expected.map(|c| (c.name, c.ty)),
        );
        assert_eq!(series.len(), self.height, "{}.{name}: length", def.name);
        self.columns.push(series.into());
    }

    pub fn i64(&mut self, name: &str, v: Vec<i64>) {
        self.push(name, Type::Int64, Series::new(name.into(), v));
    }
    pub fn opt_i64(&mut self, name: &str, v: Vec<Option<i64>>) {
        self.push(name, Type::Int64, Series::new(name.into(), v));
    }
    pub fn i32(&mut self, name: &str, v: Vec<i32>) {
        self.push(name, Type::Int32, Series::new(name.into(), v));
    }
    pub fn opt_i32(&mut self, name: &str, v: Vec<Option<i32>>) {
        self.push(name, Type::Int32, Series::new(name.into(), v));
    }
    pub fn bool(&mut self, name: &str, v: Vec<bool>) {
        self.push(name, Type::Bool, Series::new(name.into(), v));
    }
    pub fn opt_bool(&mut self, name: &str, v: Vec<Option<bool>>) {
        self.push(name, Type::Bool, Series::new(name.into(), v));
    }

    /// A text column from any iterator of strings.
    pub fn str<S: AsRef<str>>(&mut self, name: &str, v: impl IntoIterator<Item = S>) {
        self.opt_str(name, v.into_iter().map(Some));
    }

    /// A nullable text column.
    pub fn opt_str<S: AsRef<str>>(&mut self, name: &str, v: impl IntoIterator<Item = Option<S>>) {
        let mut b = StringChunkedBuilder::new(name.into(), self.height);
        for s in v {
            let text: Option<&str> = s.as_ref().map(|s| s.as_ref());
            b.append_option(text);
        }
        self.push(name, Type::Str, b.finish().into_series());
    }

    /// A text column filled value by value (see [`StrColumn`]).
    pub fn str_column(&mut self, name: &str, column: StrColumn) {
        let mut series = column.0.finish().into_series();
        series.rename(name.into());
        self.push(name, Type::Str, series);
    }

    /// The frame; every column the schema lists must have been given.
    pub fn finish(self) -> DataFrame {
        let def = self.table.def();
        assert_eq!(
            self.columns.len(),
            def.columns.len(),
            "{}: columns missing from the builder",
            def.name
        );
        DataFrame::new(self.height, self.columns).expect("columns of one height")
    }
}

/// The polars type of a schema type.
pub fn dtype(ty: Type) -> DataType {
    match ty {
        Type::Int64 => DataType::Int64,
        Type::Int32 => DataType::Int32,
        Type::Bool => DataType::Boolean,
        Type::Str => DataType::String,
    }
}

/// A text column filled one value at a time, without an intermediate vector of strings.
pub struct StrColumn(StringChunkedBuilder);

impl StrColumn {
    pub fn with_capacity(rows: usize) -> StrColumn {
        StrColumn(StringChunkedBuilder::new(PlSmallStr::EMPTY, rows))
    }

    pub fn push(&mut self, value: Option<&str>) {
        self.0.append_option(value);
    }
}
