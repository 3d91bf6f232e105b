//! The tables' schema: every table, every column, its type and meaning. This module is the
//! one authority: builders name their columns through [`crate::frame::Frame`], which checks
//! each against these definitions, and `docs/tables.md` is tested to list exactly them.
//!
//! Types are chosen for every engine: signed 64-bit integers for times (nanoseconds of the
//! trace clock) and durations, signed 32-bit for CPUs, pids and small counts, booleans and
//! UTF-8 text. No unsigned integers and no timestamp types: Spark reads neither unsigned
//! Parquet integers nor nanosecond timestamps by default.

/// Bumped whenever a table or column changes meaning, type or name.
pub const SCHEMA_VERSION: u32 = 1;

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Int64,
    Int32,
    Bool,
    Str,
}

impl Type {
    /// The name docs/tables.md uses.
    pub fn name(self) -> &'static str {
        match self {
            Type::Int64 => "int64",
            Type::Int32 => "int32",
            Type::Bool => "bool",
            Type::Str => "string",
        }
    }
}

/// One column.
#[derive(Debug)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: Type,
    /// Null where the trace does not tell.
    pub nullable: bool,
    pub doc: &'static str,
}

/// The tables, in the order they are listed and exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Traces,
    Events,
    CpuIntervals,
    TaskStates,
    LockHolds,
    LockDeps,
    SleepCalls,
    Findings,
    Evidence,
    Splats,
    LatencySections,
}

/// One table.
#[derive(Debug)]
pub struct TableDef {
    pub table: Table,
    pub name: &'static str,
    pub doc: &'static str,
    pub columns: &'static [ColumnDef],
}

impl Table {
    pub const ALL: [Table; 11] = [
        Table::Traces,
        Table::Events,
        Table::CpuIntervals,
        Table::TaskStates,
        Table::LockHolds,
        Table::LockDeps,
        Table::SleepCalls,
        Table::Findings,
        Table::Evidence,
        Table::Splats,
        Table::LatencySections,
    ];

    pub fn def(self) -> &'static TableDef {
        &TABLES[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The table called `name` (as SQL and `--tables` spell it).
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Tables read from a console log rather than a trace.
    pub fn only_in_console_logs(self) -> bool {
        self == Table::Splats
    }
}

impl TableDef {
    /// `name(col type, ...)`: how error messages list the table.
    pub fn signature(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.ty.name()))
            .collect();
        format!("{}({})", self.name, cols.join(", "))
    }
}

/// The columns that hold an instant of the trace clock (not a duration), in the order a result
/// row's time is taken from when a viewer moves its cursor to the row.
pub const TIME_COLUMNS: [&str; 8] = [
    "ts_ns",
    "start_ns",
    "acquire_ns",
    "acquired_ns",
    "first_ns",
    "release_ns",
    "end_ns",
    "last_ns",
];

/// The column every table gets in a query over several traces, and the partition key of an
/// export (`trace=<id>` in the path).
pub const TRACE_COLUMN: &str = "trace";

const fn col(name: &'static str, ty: Type, doc: &'static str) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable: false,
        doc,
    }
}

const fn opt(name: &'static str, ty: Type, doc: &'static str) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable: true,
        doc,
    }
}

use Type::{Bool, Int32, Int64, Str};

static TABLES: [TableDef; 11] = [
    TableDef {
        table: Table::Traces,
        name: "traces",
        doc: "One row per input: what it is and what it holds.",
        columns: &[
            col("path", Str, "the input file as given"),
            col("format", Str, "`ftrace-text`, `trace-dat` or `console`"),
            col("events", Int64, "events in the trace (0 for a console log)"),
            opt("first_ns", Int64, "first event time"),
            opt("last_ns", Int64, "last event time"),
            col("cpus", Int32, "CPU lanes"),
            col(
                "lost_events",
                Int64,
                "events the recording says it lost (counted gaps)",
            ),
            col("lost_gaps", Int64, "lost-event gaps, counted or not"),
            opt("kernel", Str, "kernel release, when the trace tells it"),
            opt("clock", Str, "trace clock, when known"),
            col("schema_version", Int32, "version of this schema"),
        ],
    },
    TableDef {
        table: Table::Events,
        name: "events",
        doc: "Every event, in time order, with its context flags and typed payload fields.",
        columns: &[
            col("ts_ns", Int64, "event time"),
            col("cpu", Int32, "CPU id"),
            col("pid", Int32, "`common_pid`"),
            col("comm", Str, "task name as the trace printed it"),
            col("event", Str, "event name (`sched_switch`, `function`...)"),
            opt(
                "irqs_off",
                Bool,
                "flags: interrupts disabled (null: not recorded)",
            ),
            opt("bh_off", Bool, "flags: softirqs disabled (kernels >= 5.18)"),
            opt("hardirq", Bool, "flags: in a hardirq"),
            opt("softirq", Bool, "flags: in a softirq"),
            opt("nmi", Bool, "flags: in an NMI"),
            opt("preempt_depth", Int32, "flags: preempt count as recorded"),
            opt("migrate_disable", Int32, "flags: migrate-disable depth"),
            opt("need_resched", Bool, "flags: TIF_NEED_RESCHED set"),
            col("details", Str, "the payload as the kernel prints it"),
            opt("prev_pid", Int32, "sched_switch: task leaving"),
            opt(
                "prev_state",
                Str,
                "sched_switch: its state letters (`S`, `D`, `R+`)",
            ),
            opt("next_pid", Int32, "sched_switch: task entering"),
            opt("next_comm", Str, "sched_switch: its name"),
            opt(
                "target_pid",
                Int32,
                "sched_wakeup*, sched_waking, sched_migrate_task: the task",
            ),
            opt("target_comm", Str, "the same task's name"),
            opt(
                "target_cpu",
                Int32,
                "wakeup target CPU; destination of a migration",
            ),
            opt("irq", Int32, "irq_handler_entry/exit: irq line"),
            opt("irq_name", Str, "irq_handler_entry: handler name"),
            opt("softirq_vec", Int32, "softirq_entry/exit/raise: vector"),
            opt("vector", Int32, "x86 irq_vectors entry/exit: vector"),
            opt(
                "func",
                Str,
                "function / function_graph: the function; preemptirq: the caller; \
                 workqueue / timer: the callback; lock kprobe: the probed function",
            ),
            opt(
                "parent",
                Str,
                "function: the caller; preemptirq: the parent",
            ),
            opt(
                "lock_name",
                Str,
                "lock:* events: lock class name (kprobes: null, see lock_holds)",
            ),
            opt(
                "lock_addr",
                Str,
                "lock:* events and lock kprobes: lock address, hex",
            ),
            opt(
                "duration_ns",
                Int64,
                "function_graph: the call's duration (exit, or leaf entry)",
            ),
        ],
    },
    TableDef {
        table: Table::CpuIntervals,
        name: "cpu_intervals",
        doc: "Each CPU's context as intervals: per kind non-overlapping and in time order.",
        columns: &[
            col("cpu", Int32, "CPU id"),
            col(
                "kind",
                Str,
                "`task`, `softirq`, `hardirq`, `nmi`, `irqs_off`, `preempt_off`, `bh_off`, `unknown`",
            ),
            col("start_ns", Int64, "start"),
            col("end_ns", Int64, "end (exclusive)"),
            opt(
                "value",
                Str,
                "task: `comm-pid`; softirq: vector name; hardirq: `irq N name`; irqs_off, \
                 bh_off, preempt_off: the event that first showed it; unknown: why",
            ),
            opt("pid", Int32, "task: its pid"),
            opt("depth", Int32, "preempt_off: the preempt depth recorded"),
            opt(
                "excess",
                Int32,
                "preempt_off: levels above the trace's calibrated baseline",
            ),
            opt(
                "exact",
                Bool,
                "softirq, hardirq: entry and exit events made it (false: only the flags \
                 showed it); null for the other kinds (latency_sections says how exact a \
                 section's edges are)",
            ),
        ],
    },
    TableDef {
        table: Table::TaskStates,
        name: "task_states",
        doc: "Per task (idle tasks left out): running, runnable and sleeping intervals from the scheduler events.",
        columns: &[
            col("pid", Int32, "task"),
            opt("comm", Str, "its last name in the trace"),
            col("state", Str, "`running`, `runnable` or `sleeping`"),
            opt(
                "sleep_state",
                Str,
                "sleeping: the state letters sched_switch printed",
            ),
            opt("cpu", Int32, "running: on which CPU"),
            col("start_ns", Int64, "start"),
            col("end_ns", Int64, "end (exclusive)"),
        ],
    },
    TableDef {
        table: Table::LockHolds,
        name: "lock_holds",
        doc: "Every lock acquisition until its release, with its holder's context.",
        columns: &[
            col(
                "class",
                Str,
                "lock class (lockdep name, kallsyms symbol or address)",
            ),
            col("instance", Str, "lock address, hex"),
            col(
                "pid",
                Int32,
                "the task (for interrupt holds: the interrupted task)",
            ),
            col("comm", Str, "the task's name at the acquire"),
            col("cpu", Int32, "CPU id"),
            col(
                "context",
                Str,
                "`task`, `softirq`, `hardirq`, `nmi`, `unknown`",
            ),
            col(
                "mode",
                Str,
                "`spin`, `spin_irq`, `spin_irqsave`, `spin_bh`, `raw_spin`, `rwlock_read`, \
                 `rwlock_write`, `mutex`, `rwsem_read`, `rwsem_write`, `pseudo`, `unknown`",
            ),
            col(
                "mode_inferred",
                Bool,
                "the mode was inferred from the irq / preempt state around the hold",
            ),
            col("trylock", Bool, "a trylock"),
            col("read", Int32, "lockdep read level: 0 exclusive, 1 read"),
            col("acquire_ns", Int64, "the acquire call"),
            opt("acquired_ns", Int64, "obtained after a wait"),
            opt("release_ns", Int64, "release (null: never seen released)"),
            col(
                "end_ns",
                Int64,
                "release, or where the hold stops being known (frame exit, lost events, end of data)",
            ),
            opt("wait_ns", Int64, "time waited (contended holds)"),
            opt(
                "hold_ns",
                Int64,
                "time held: release minus obtained (or acquire); what `kctx locks` sums",
            ),
            opt(
                "function",
                Str,
                "the function that took the lock, when traced",
            ),
            opt("hardirqs_enabled", Bool, "hardirqs enabled at the acquire"),
            opt("softirqs_enabled", Bool, "softirqs enabled at the acquire"),
            col(
                "held_before",
                Int32,
                "holds of the same context already held",
            ),
        ],
    },
    TableDef {
        table: Table::LockDeps,
        name: "lock_deps",
        doc: "Dependencies between lock classes as lockdep derives them (`kctx locks --deps`).",
        columns: &[
            col("from_class", Str, "class held"),
            col("to_class", Str, "class taken while holding it"),
            col("count", Int64, "acquisitions that made it"),
            col("distance", Int32, "shortest distance in a held stack"),
            col("first_ns", Int64, "first witness"),
            col("last_ns", Int64, "last witness"),
            col("cpu", Int32, "first witness: CPU"),
            col("pid", Int32, "first witness: task"),
            opt(
                "function",
                Str,
                "first witness: the function that took `to_class`",
            ),
        ],
    },
    TableDef {
        table: Table::SleepCalls,
        name: "sleep_calls",
        doc: "Every call of a might-sleep function and every real sleep, with the context at the call.",
        columns: &[
            col("ts_ns", Int64, "the call"),
            col("cpu", Int32, "CPU id"),
            col("pid", Int32, "the task"),
            col("comm", Str, "its name"),
            col(
                "kind",
                Str,
                "`may-sleep`, `allocation`, `marker` (a might-sleep entry point) or `real-sleep`",
            ),
            col(
                "function",
                Str,
                "the entry point; for a real sleep, the task's name",
            ),
            opt("caller", Str, "the calling function, when traced"),
            col(
                "context",
                Str,
                "`task`, `softirq`, `hardirq`, `nmi`, `unknown`",
            ),
            opt("preempt_depth", Int32, "preempt depth recorded"),
            opt(
                "excess_depth",
                Int32,
                "levels above the calibrated baseline",
            ),
            opt("irqs_off", Bool, "interrupts disabled"),
            opt("bh_off", Bool, "softirqs disabled"),
            col(
                "held_locks",
                Str,
                "classes held by the calling context, outermost first, `, `-separated",
            ),
            col(
                "gfp",
                Str,
                "`not-allocation`, `unknown`, `blocking`, `non-blocking`",
            ),
            col(
                "nested",
                Bool,
                "part of an outer call (`schedule_timeout` inside `msleep`)",
            ),
            opt("slept_ns", Int64, "outer calls: when the task really slept"),
            opt(
                "schedule_bug_ns",
                Int64,
                "outer calls: the kernel's own \"scheduling while atomic\"",
            ),
        ],
    },
    TableDef {
        table: Table::Findings,
        name: "findings",
        doc: "What `kctx check` reports (before any allowlist), one row per finding.",
        columns: &[
            col("id", Str, "stable id: kind + call site / lock classes"),
            col(
                "kind",
                Str,
                "`sleep-in-atomic`, `lock-order-cycle`, `irq-inversion`",
            ),
            col("confidence", Str, "`definite`, `probable`, `unverifiable`"),
            opt("cpu", Int32, "CPU of the first instance"),
            opt("pid", Int32, "task of the first instance"),
            opt("task", Str, "`comm-pid` or interrupt context"),
            col("first_ns", Int64, "first instance"),
            col("last_ns", Int64, "last instance"),
            col("count", Int64, "instances merged into it"),
            col("functions", Str, "functions on the path, `, `-separated"),
            col("locks", Str, "lock classes involved, `, `-separated"),
            col("summary", Str, "the explanation"),
        ],
    },
    TableDef {
        table: Table::Evidence,
        name: "evidence",
        doc: "The evidence events of each finding, in the order the finding cites them.",
        columns: &[
            col("finding_id", Str, "findings.id"),
            col("seq", Int32, "position in the finding's evidence, from 0"),
            col("ts_ns", Int64, "event time"),
            col("cpu", Int32, "CPU id"),
            col("task", Str, "`comm-pid` or interrupt context"),
            col("event", Str, "event name"),
            col("detail", Str, "what it shows"),
        ],
    },
    TableDef {
        table: Table::Splats,
        name: "splats",
        doc: "The kernel's own reports in a console / serial log given as an input (`kctx splats`).",
        columns: &[
            col(
                "console_line",
                Int32,
                "1-based line of the report's first line",
            ),
            opt(
                "console_ns",
                Int64,
                "the printk stamp (guest `local_clock`), when printed",
            ),
            col(
                "kind",
                Str,
                "report kind (`circular_locking_dependency`, `sleeping_function_invalid_context`...)",
            ),
            opt("kernel", Str, "kernel release"),
            opt("task", Str, "the task the report is about"),
            opt("pid", Int32, "its pid"),
            opt("cpu", Int32, "CPU (`CPU:` line or printk caller id)"),
            opt("culprit", Str, "the function the report is named after"),
            col("locks", Str, "lock classes it names, `, `-separated"),
            col(
                "stack",
                Str,
                "call trace functions, innermost first, `, `-separated",
            ),
            col("panic", Bool, "a kernel panic followed"),
            col("facts", Str, "the report's kind-specific facts as JSON"),
        ],
    },
    TableDef {
        table: Table::LatencySections,
        name: "latency_sections",
        doc: "Every irqs-off, preempt-off, BH-off, hardirq, softirq, NMI and wakeup section (`kctx latency`).",
        columns: &[
            col(
                "kind",
                Str,
                "`irqsoff`, `preemptoff`, `bhoff`, `hardirq`, `softirq`, `nmi`, `wakeup`",
            ),
            col("cpu", Int32, "CPU id"),
            col(
                "pid",
                Int32,
                "task on the CPU at the start (wakeup: the woken task)",
            ),
            col("comm", Str, "its name"),
            col("start_ns", Int64, "start"),
            col("end_ns", Int64, "end"),
            col(
                "duration_ns",
                Int64,
                "end - start (a lower bound when truncated)",
            ),
            col("exact", Bool, "both edges explicit events, seen whole"),
            col(
                "start_slack_ns",
                Int64,
                "how much earlier the real start may be",
            ),
            col("end_slack_ns", Int64, "how far the real end may be"),
            col(
                "unseen_ns",
                Int64,
                "longest stretch inside with no event on the CPU",
            ),
            opt(
                "truncated",
                Str,
                "`start-of-data`, `lost-events`, `end-of-data`",
            ),
            opt("source", Str, "hardirq line / softirq vector served"),
            opt("opened_by", Str, "the event that opened it"),
            opt("opened_at", Str, "its function, lock or task"),
            opt("closed_by", Str, "the event that closed it"),
            opt("closed_at", Str, "its function, lock or task"),
        ],
    },
];

/// The schema as Markdown: one section per table, one row per column.
pub fn markdown() -> String {
    let mut out = format!("Schema version {SCHEMA_VERSION}.\n");
    for t in Table::ALL {
        let def = t.def();
        out += &format!(
            "\n### `{}`\n\n{}\n\n| column | type | null | meaning |\n|---|---|---|---|\n",
            def.name, def.doc
        );
        for c in def.columns {
            let null = if c.nullable { "yes" } else { "" };
            out += &format!("| `{}` | {} | {null} | {} |\n", c.name, c.ty.name(), c.doc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_indexed_by_their_enum() {
        for t in Table::ALL {
            assert_eq!(t.def().table, t);
            assert_eq!(Table::from_name(t.name()), Some(t));
        }
    }

    #[test]
    fn no_table_declares_the_trace_column() {
        for t in Table::ALL {
            assert!(t.def().columns.iter().all(|c| c.name != TRACE_COLUMN));
        }
    }

    /// docs/tables.md holds the schema's reference text verbatim (regenerate it with
    /// `KCTX_PRINT_SCHEMA=1 cargo test --release -p tables docs_hold -- --nocapture`).
    #[test]
    fn docs_hold_the_schema_reference() {
        let reference = markdown();
        if std::env::var_os("KCTX_PRINT_SCHEMA").is_some() {
            println!("{reference}");
        }
        let doc = include_str!("../../docs/tables.md");
        assert!(
            doc.contains(&reference),
            "docs/tables.md does not hold the current schema reference"
        );
    }
}
