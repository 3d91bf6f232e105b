//! A query's result: read cell by cell (the GUI lays out only the rows in view), or written
//! whole as an aligned text table, CSV or JSON.

use polars_core::prelude::*;
use polars_io::prelude::{CsvWriter, SerWriter};
use std::io::Write;

/// How `kctx query` prints a result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Table,
    Csv,
    Json,
}

/// One value of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Cell {
    fn of(v: AnyValue) -> Cell {
        match v {
            AnyValue::Null => Cell::Null,
            AnyValue::Boolean(b) => Cell::Bool(b),
            AnyValue::Int8(i) => Cell::Int(i.into()),
            AnyValue::Int16(i) => Cell::Int(i.into()),
            AnyValue::Int32(i) => Cell::Int(i.into()),
            AnyValue::Int64(i) => Cell::Int(i),
            AnyValue::UInt8(i) => Cell::Int(i.into()),
            AnyValue::UInt16(i) => Cell::Int(i.into()),
            AnyValue::UInt32(i) => Cell::Int(i.into()),
            AnyValue::UInt64(i) => i64::try_from(i).map_or(Cell::Float(i as f64), Cell::Int),
            AnyValue::Float32(f) => Cell::Float(f.into()),
            AnyValue::Float64(f) => Cell::Float(f),
            AnyValue::String(s) => Cell::Str(s.to_owned()),
            AnyValue::StringOwned(s) => Cell::Str(s.to_string()),
            other => Cell::Str(other.to_string()),
        }
    }

    /// The value as the text table prints it (`null` for a null).
    pub fn text(&self) -> String {
        match self {
            Cell::Null => "null".into(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Str(s) => s.clone(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Bool(b) => (*b).into(),
            Cell::Str(s) => s.as_str().into(),
        }
    }
}

/// The rows a statement returned.
pub struct QueryResult {
    df: DataFrame,
}

impl QueryResult {
    pub(crate) fn new(mut df: DataFrame) -> QueryResult {
        df.rechunk_mut();
        QueryResult { df }
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.df.get_column_index(name)
    }

    /// The value at `row` of column `col` (`Null` out of range).
    pub fn cell(&self, row: usize, col: usize) -> Cell {
        self.df
            .columns()
            .get(col)
            .and_then(|c| c.get(row).ok())
            .map_or(Cell::Null, Cell::of)
    }

    fn row(&self, row: usize) -> Vec<Cell> {
        (0..self.df.width()).map(|c| self.cell(row, c)).collect()
    }

    /// Writes the whole result.
    pub fn write(&mut self, format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
        match format {
            OutputFormat::Csv => CsvWriter::new(out)
                .include_header(true)
                .finish(&mut self.df)?,
            OutputFormat::Json => self.write_json(out)?,
            OutputFormat::Table => self.write_table(out)?,
        }
        Ok(())
    }

    /// A JSON array of one object per row.
    fn write_json(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let names = self.column_names();
        out.write_all(b"[")?;
        for r in 0..self.height() {
            let object: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .cloned()
                .zip(self.row(r).iter().map(Cell::json))
                .collect();
            out.write_all(if r == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut *out, &object)?;
        }
        out.write_all(b"\n]\n")?;
        Ok(())
    }

    /// Columns padded to their widest value, numbers right-aligned, then a row count.
    fn write_table(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let names = self.column_names();
        let rows: Vec<Vec<Cell>> = (0..self.height()).map(|r| self.row(r)).collect();
        let texts: Vec<Vec<String>> = rows
            .iter()
            .map(|row| row.iter().map(|c| c.text().replace('\n', " ")).collect())
            .collect();
        let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
        for row in &texts {
            for (w, t) in widths.iter_mut().zip(row) {
                *w = (*w).max(t.chars().count());
            }
        }
        let line = |cells: &[String], numeric: &dyn Fn(usize) -> bool| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    if numeric(i) {
                        format!("{t:>w$}", w = widths[i])
                    } else {
                        format!("{t:<w$}", w = widths[i])
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        writeln!(out, "{}", line(&names, &|_| false))?;
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        writeln!(out, "{}", rule.join("  "))?;
        for (row, text) in rows.iter().zip(&texts) {
            let numeric = |i: usize| matches!(row[i], Cell::Int(_) | Cell::Float(_));
            writeln!(out, "{}", line(text, &numeric))?;
        }
        let n = self.height();
        writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })?;
        Ok(())
    }
}
