#!/usr/bin/env python3
"""Reads a `kctx export` dataset with DuckDB and prints, as JSON, what the Rust test compares
with `kctx check` and `kctx locks`: events, findings per kind and lock holds per class for each trace
(named by its path through the `traces` table), and every Parquet column's physical, converted
and logical type.

Usage: duckdb_check.py DATASET_DIR
"""
import glob
import json
import sys

import duckdb

out_dir = sys.argv[1]
con = duckdb.connect()


def table(name):
    # One glob over every trace's partition; `trace` comes from the `trace=<id>` directory.
    return f"read_parquet('{out_dir}/{name}/*/*.parquet', hive_partitioning = true)"


paths = dict(con.execute(f"SELECT trace, path FROM {table('traces')}").fetchall())

findings = {}
for trace, kind, n in con.execute(
    f"SELECT trace, kind, count(*) FROM {table('findings')} GROUP BY trace, kind"
).fetchall():
    findings.setdefault(paths[trace], {})[kind] = n

holds = {}
for trace, cls, n, held in con.execute(
    f"SELECT trace, class, count(*), sum(hold_ns) FROM {table('lock_holds')} "
    "GROUP BY trace, class"
).fetchall():
    holds.setdefault(paths[trace], {})[cls] = [n, int(held or 0)]

total_hold_ns = {
    paths[trace]: int(held or 0)
    for trace, held in con.execute(
        f"SELECT trace, sum(hold_ns) FROM {table('lock_holds')} GROUP BY trace"
    ).fetchall()
}



def count_per_trace(name):
    return {
        paths[trace]: n
        for trace, n in con.execute(
            f"SELECT trace, count(*) FROM {table(name)} GROUP BY trace"
        ).fetchall()
    }


events = count_per_trace("events")
# Console logs give splats; a dataset of traces only has no splats directory.
splats = count_per_trace("splats") if glob.glob(f"{out_dir}/splats/*/*.parquet") else {}

# Every column of every file: (file, column, physical type, converted type, logical type).
schema = [
    [str(v) if v is not None else None for v in row]
    for row in con.execute(
        f"SELECT file_name, name, type, converted_type, logical_type "
        f"FROM parquet_schema('{out_dir}/*/*/*.parquet') WHERE type IS NOT NULL"
    ).fetchall()
]

# The types DuckDB gives the columns when it reads the dataset.
read_types = {}
for name in ["traces", "events", "lock_holds", "findings", "evidence", "latency_sections"]:
    read_types[name] = [
        [col, typ]
        for col, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {table(name)}").fetchall()
    ]

json.dump(
    {
        "events": events,
        "findings": findings,
        "holds": holds,
        "total_hold_ns": total_hold_ns,
        "splats": splats,
        "schema": schema,
        "read_types": read_types,
        "duckdb": duckdb.__version__,
    },
    sys.stdout,
)
