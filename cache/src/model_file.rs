//! A trace's context model as a column file beside its store entry, with its own schema
//! version: every array of `ContextModel::to_columns` a column, the strings the model added
//! and its small parts (coverage, build counts) beside them. Read back only for the store it
//! was built from, and checked against that store (`ContextModel::from_columns`).

use crate::column_file::{Column, ColumnFile, ColumnFileError, Identity};
use crate::store_file::STORE_SCHEMA;
use std::path::Path;
use trace_model::EventStore;
use trace_model::context::columns::ModelColumns;
use trace_model::context::{BuildStats, ContextModel, Coverage};

/// What the model file's columns mean: bumped whenever `ContextModel::to_columns` or the
/// model's meaning changes (a detector reading a new lane), so an older file is rebuilt.
pub const MODEL_SCHEMA: u32 = 1;

/// Array columns carry this prefix; the others are the file's own.
const ARRAY: &str = "m:";

/// What a model file for the trace `key` must say it is.
pub fn identity(key: u64) -> Identity {
    Identity {
        schema: MODEL_SCHEMA,
        key,
    }
}

/// Which store a derived file (the model, the findings) belongs to: its event count and the
/// store schema it was built from.
pub(crate) fn store_stamp(events: usize) -> [u64; 2] {
    [events as u64, STORE_SCHEMA.into()]
}

/// Refuses a derived file whose stamp is not that of a store of `events` events.
pub(crate) fn check_stamp(f: &ColumnFile, events: usize) -> Result<(), ColumnFileError> {
    let stamp = f.column::<u64>("store")?;
    if stamp != store_stamp(events) {
        return Err(ColumnFileError {
            path: f.path().to_owned(),
            what: format!(
                "built from another store ({stamp:?}: events, store schema; the store has \
                 {events} events, schema {STORE_SCHEMA})"
            ),
        });
    }
    Ok(())
}

/// Writes `model`, built from `store`, to `path` for the trace `key`.
pub fn save(
    model: &ContextModel,
    store: &EventStore,
    path: &Path,
    key: u64,
) -> std::io::Result<()> {
    let c = model.to_columns();
    let json = serde_json::to_vec(&(&c.coverage, &c.build_stats)).map_err(std::io::Error::other)?;
    let stamp = store_stamp(store.len());
    let names: Vec<String> = c
        .arrays
        .iter()
        .map(|(n, _)| format!("{ARRAY}{n}"))
        .collect();
    let mut columns = vec![
        Column::of("store", &stamp),
        Column::of("json", &json),
        Column::of("strings.text", c.string_text.as_bytes()),
        Column::of("strings.bounds", &c.string_bounds),
    ];
    columns.extend(
        names
            .iter()
            .zip(&c.arrays)
            .map(|(n, (_, a))| Column::of(n, a)),
    );
    crate::column_file::write(path, identity(key), &columns)
}

/// The model cached at `path` for the trace `key`, checked against `store`.
pub fn load(path: &Path, key: u64, store: &EventStore) -> Result<ContextModel, ColumnFileError> {
    read(&ColumnFile::open(path, identity(key))?, store)
}

/// The model in a column file opened and checked already, for `store`.
pub fn read(f: &ColumnFile, store: &EventStore) -> Result<ContextModel, ColumnFileError> {
    let wrong = |what: String| ColumnFileError {
        path: f.path().to_owned(),
        what,
    };
    check_stamp(f, store.len())?;
    let (coverage, build_stats): (Coverage, BuildStats) =
        serde_json::from_slice(&f.column::<u8>("json")?)
            .map_err(|e| wrong(format!("coverage: {e}")))?;
    let string_text = String::from_utf8(f.column::<u8>("strings.text")?)
        .map_err(|_| wrong("strings: not UTF-8".into()))?;
    // Read (and checked) on the machine's cores: the big arrays are tens of megabytes.
    let names: Vec<(&str, &str)> = (f.names())
        .filter_map(|n| n.strip_prefix(ARRAY).map(|a| (n, a)))
        .collect();
    let arrays = trace_model::parallel::map(names.len(), |i| f.column::<u64>(names[i].0))
        .into_iter()
        .zip(&names)
        .map(|(array, (_, a))| Ok(((*a).to_owned(), array?)))
        .collect::<Result<_, ColumnFileError>>()?;
    let c = ModelColumns {
        arrays,
        string_text,
        string_bounds: f.column("strings.bounds")?,
        coverage,
        build_stats,
    };
    ContextModel::from_columns(store, c).map_err(wrong)
}
