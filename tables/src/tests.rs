//! Every table built from a synthetic trace matches the schema; queries see the `trace`
//! column and fail with the tables listed; an export writes the dataset layout.

use crate::input::{Input, TraceInput};
use crate::schema::{TRACE_COLUMN, Table, Type};
use crate::{Cell, Query, build};
use polars_core::prelude::DataType;
use trace_model::context::{BuildOptions, ContextModel};
use trace_model::synthetic::{SyntheticSpec, generate};
use trace_model::{EventStore, Finding, PayloadView};

fn details(_: &EventStore, p: &PayloadView<'_>) -> String {
    format!("{p:?}")
}

struct Loaded {
    store: EventStore,
    model: ContextModel,
    findings: Vec<Finding>,
}

fn loaded(events: usize, seed: u64) -> Loaded {
    let store = generate(SyntheticSpec {
        events,
        seed,
        ..SyntheticSpec::default()
    });
    let model = ContextModel::build(&store, &BuildOptions::default());
    let findings = trace_model::detect::run_all(&store, &model);
    Loaded {
        store,
        model,
        findings,
    }
}

fn input<'a>(l: &'a Loaded, id: &str) -> Input<'a> {
    Input::Trace(TraceInput {
        id: id.to_owned(),
        path: format!("{id}.dat"),
        store: &l.store,
        model: &l.model,
        findings: Some(&l.findings),
        details: &details,
    })
}

#[test]
fn every_table_has_the_schemas_columns_and_types() {
    let l = loaded(20_000, 1);
    let input = input(&l, "a");
    for table in Table::ALL {
        let Some(df) = build(&input, table).unwrap() else {
            assert!(table.only_in_console_logs(), "{table:?} missing");
            continue;
        };
        let def = table.def();
        let schema = df.schema();
        assert_eq!(schema.len(), def.columns.len(), "{}", def.name);
        for (c, (name, dtype)) in def.columns.iter().zip(schema.iter()) {
            assert_eq!(c.name, name.as_str(), "{}", def.name);
            assert_eq!(*dtype, crate::frame::dtype(c.ty), "{}.{}", def.name, c.name);
            assert!(
                !matches!(
                    dtype,
                    DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
                ),
                "{}.{} unsigned",
                def.name,
                c.name
            );
            if !c.nullable {
                assert_eq!(
                    df.column(name).unwrap().null_count(),
                    0,
                    "{}.{}",
                    def.name,
                    c.name
                );
            }
        }
    }
    assert!(Table::ALL.iter().all(|t| {
        t.def()
            .columns
            .iter()
            .all(|c| matches!(c.ty, Type::Int64 | Type::Int32 | Type::Bool | Type::Str))
    }));
}

#[test]
fn events_rows_follow_the_store() {
    let l = loaded(5_000, 2);
    let Input::Trace(t) = input(&l, "a") else {
        unreachable!()
    };
    let df = crate::events::build(&t, 100..200);
    assert_eq!(df.height(), 100);
    let ts = df.column("ts_ns").unwrap().i64().unwrap().get(0);
    assert_eq!(ts, Some(l.store.ts()[100] as i64));
}

#[test]
fn a_query_over_two_traces_has_a_trace_column() {
    let (a, b) = (loaded(3_000, 3), loaded(4_000, 4));
    let mut q = Query::new(
        "WITH per AS (SELECT trace, count(*) AS n FROM events GROUP BY trace) \
         SELECT * FROM per ORDER BY trace",
    )
    .unwrap();
    assert_eq!(q.tables(), &[Table::Events]);
    q.add(&input(&a, "ta")).unwrap();
    q.add(&input(&b, "tb")).unwrap();
    let r = q.run().unwrap();
    assert_eq!(r.column_names(), [TRACE_COLUMN, "n"]);
    assert_eq!(r.height(), 2);
    assert_eq!(r.cell(0, 0), Cell::Str("ta".into()));
    assert_eq!(r.cell(0, 1), Cell::Int(a.store.len() as i64));
    assert_eq!(r.cell(1, 1), Cell::Int(b.store.len() as i64));
}

#[test]
fn unknown_tables_and_columns_list_what_exists() {
    let e = Query::new("SELECT * FROM nope")
        .err()
        .expect("unknown table");
    assert!(e.message.contains("nope") && e.message.contains("lock_holds(class string"));
    let l = loaded(1_000, 5);
    let mut q = Query::new("SELECT nope FROM findings").unwrap();
    q.add(&input(&l, "a")).unwrap();
    let e = q.run().err().expect("unknown column");
    assert!(
        e.message.contains("nope") && e.message.contains("findings(id string"),
        "{e}"
    );
}

#[test]
fn results_print_as_table_csv_and_json() {
    let l = loaded(2_000, 6);
    let mut q =
        Query::new("SELECT cpu, count(*) AS n FROM events GROUP BY cpu ORDER BY cpu").unwrap();
    q.add(&input(&l, "a")).unwrap();
    let mut r = q.run().unwrap();
    let mut csv = Vec::new();
    r.write(crate::OutputFormat::Csv, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("cpu,n\n0,"), "{csv}");
    let mut json = Vec::new();
    r.write(crate::OutputFormat::Json, &mut json).unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let total: i64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n"].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, l.store.len());
    let mut text = Vec::new();
    r.write(crate::OutputFormat::Table, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.lines().next().unwrap().starts_with("cpu"), "{text}");
    assert!(
        text.trim_end().ends_with(&format!("({} rows)", r.height())),
        "{text}"
    );
}

#[test]
fn export_writes_one_file_per_table_and_no_temporary() {
    let l = loaded(3_000, 7);
    let dir = std::env::temp_dir().join(format!("kctx-tables-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let export = crate::Export::new(
        &dir,
        crate::ExportFormat::Parquet,
        vec![Table::Events, Table::Findings, Table::Splats],
    )
    .unwrap();
    let written = export.add(&input(&l, "t00"), &mut |_| {}).unwrap();
    // A trace has no splats: two files.
    assert_eq!(written.len(), 2);
    assert_eq!(written[0].rows, l.store.len());
    for w in &written {
        assert!(w.path.is_file());
        assert!(
            w.path
                .ends_with(format!("{}/trace=t00/part-0.parquet", w.table.name()))
        );
        let siblings = std::fs::read_dir(w.path.parent().unwrap()).unwrap().count();
        assert_eq!(siblings, 1, "{}", w.path.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn time_columns_are_int64_instants_of_some_table() {
    for name in crate::schema::TIME_COLUMNS {
        let defs: Vec<_> = Table::ALL
            .iter()
            .flat_map(|t| t.def().columns.iter())
            .filter(|c| c.name == name)
            .collect();
        assert!(!defs.is_empty(), "{name}: no table has it");
        assert!(defs.iter().all(|c| c.ty == Type::Int64), "{name}");
    }
}
