//! Writes tables as a dataset engines read with one glob and partition pruning:
//! `DIR/<table>/trace=<id>/part-0.parquet` (or `.csv`). Each file is written under a temporary
//! name and renamed when complete, so a failed export leaves no partial file behind.

use crate::input::Input;
use crate::schema::{TRACE_COLUMN, Table};
use anyhow::Context as _;
use polars_core::prelude::*;
use polars_io::prelude::{CsvWriter, ParquetCompression, ParquetWriter, SerWriter};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Rows per Parquet row group (and per slice the events table is built in): large enough
/// for engines' scans to amortise per-group costs, small enough that a trace's events spread
/// over several groups that scan in parallel and prune by their `ts_ns` statistics.
pub const ROWS_PER_GROUP: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
    Csv,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }
}

/// One file written.
#[derive(Clone, Debug)]
pub struct Written {
    pub table: Table,
    pub path: PathBuf,
    pub rows: usize,
}

/// An export into one directory.
pub struct Export {
    dir: PathBuf,
    format: ExportFormat,
    tables: Vec<Table>,
}

impl Export {
    /// Creates `dir` if needed and checks that files can be written in it.
    pub fn new(dir: &Path, format: ExportFormat, tables: Vec<Table>) -> anyhow::Result<Export> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the output directory", dir.display()))?;
        let probe = dir.join(format!(".kctx-export-probe-{}", std::process::id()));
        File::create(&probe)
            .with_context(|| format!("{}: cannot write in the output directory", dir.display()))?;
        std::fs::remove_file(&probe)
            .with_context(|| format!("{}: cannot remove {}", dir.display(), probe.display()))?;
        Ok(Export {
            dir: dir.to_owned(),
            format,
            tables,
        })
    }

    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// Where `table` of the trace `id` goes.
    pub fn path_of(&self, table: Table, id: &str) -> PathBuf {
        self.dir
            .join(table.name())
            .join(format!("{TRACE_COLUMN}={id}"))
            .join(format!("part-0.{}", self.format.extension()))
    }

    /// Writes every table the input has; `progress` is told each file as it starts and each
    /// slice of a large table as it is written.
    pub fn add(
        &self,
        input: &Input,
        progress: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Vec<Written>> {
        let mut written = Vec::new();
        for &table in &self.tables {
            let path = self.path_of(table, input.id());
            let slices: Box<dyn Iterator<Item = anyhow::Result<DataFrame>> + '_> =
                match (table, input) {
                    // The largest table: built slice by slice, so memory stays bounded.
                    (Table::Events, Input::Trace(t)) => {
                        Box::new(crate::events::slices(t, ROWS_PER_GROUP).map(Ok))
                    }
                    _ => match crate::build(input, table)? {
                        Some(df) => Box::new(split(df).map(Ok)),
                        None => continue,
                    },
                };
            progress(&format!("{}: {}", table.name(), path.display()));
            let rows = self.write_file(&path, slices, progress)?;
            written.push(Written { table, path, rows });
        }
        Ok(written)
    }

    /// Writes the slices to `path` through a temporary file; returns the rows written.
    fn write_file(
        &self,
        path: &Path,
        slices: impl Iterator<Item = anyhow::Result<DataFrame>>,
        progress: &mut dyn FnMut(&str),
    ) -> anyhow::Result<usize> {
        let dir = path.parent().expect("a table file has a directory");
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("part"),
            std::process::id()
        ));
        let result = self.write_slices(&tmp, slices, progress);
        match result {
            Ok(rows) => {
                std::fs::rename(&tmp, path).with_context(|| {
                    format!("{}: cannot rename to {}", tmp.display(), path.display())
                })?;
                Ok(rows)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e.context(format!("{}: not written", path.display())))
            }
        }
    }

    fn write_slices(
        &self,
        tmp: &Path,
        mut slices: impl Iterator<Item = anyhow::Result<DataFrame>>,
        progress: &mut dyn FnMut(&str),
    ) -> anyhow::Result<usize> {
        let file =
            File::create(tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        // No BufWriter: its flush on drop would swallow a full disk. The writers batch pages.
        let out = file;
        let first = slices.next().transpose()?.expect("at least one slice");
        let schema = first.schema().clone();
        let mut rows = 0;
        // Large tables report each slice; small ones stay quiet.
        let note = |rows: usize, df: &DataFrame, progress: &mut dyn FnMut(&str)| {
            let total = rows + df.height();
            if total >= ROWS_PER_GROUP {
                progress(&format!("  {total} rows"));
            }
            total
        };
        match self.format {
            ExportFormat::Parquet => {
                let mut w = ParquetWriter::new(out)
                    .with_compression(ParquetCompression::Zstd(None))
                    .with_row_group_size(Some(ROWS_PER_GROUP))
                    .batched(&schema)?;
                for df in std::iter::once(Ok(first)).chain(slices) {
                    let df = df?;
                    w.write_batch(&df)?;
                    rows = note(rows, &df, &mut *progress);
                }
                w.finish()?;
            }
            ExportFormat::Csv => {
                let mut w = CsvWriter::new(out).include_header(true).batched(&schema)?;
                for df in std::iter::once(Ok(first)).chain(slices) {
                    let df = df?;
                    w.write_batch(&df)?;
                    rows = note(rows, &df, &mut *progress);
                }
                w.finish()?;
            }
        }
        Ok(rows)
    }
}

/// A frame as slices of at most [`ROWS_PER_GROUP`] rows, each one contiguous chunk (the
/// Parquet writer makes a row group of each); an empty frame is one empty slice.
fn split(mut df: DataFrame) -> impl Iterator<Item = DataFrame> {
    df.rechunk_mut();
    let n = df.height();
    (0..n.div_ceil(ROWS_PER_GROUP).max(1)).map(move |i| {
        let mut slice = df.slice((i * ROWS_PER_GROUP) as i64, ROWS_PER_GROUP);
        slice.rechunk_mut();
        slice
    })
}
