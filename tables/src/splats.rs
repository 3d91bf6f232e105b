//! `splats`: the kernel's own reports in a console log given as an input.

use crate::frame::{Frame, int32};
use crate::input::ConsoleInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;

/// Serialises a value that serialises to a JSON string (the splat kinds) as that string.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("<{e}>"),
    }
}

pub fn splats(input: &ConsoleInput) -> DataFrame {
    let splats = input.splats;
    let mut f = Frame::new(Table::Splats, splats.len());
    f.i32(
        "console_line",
        splats.iter().map(|s| int32(s.console_line)).collect(),
    );
    f.opt_i64(
        "console_ns",
        splats
            .iter()
            .map(|s| s.console_ts.map(|t| (t * 1e9).round() as i64))
            .collect(),
    );
    f.str("kind", splats.iter().map(|s| json_text(&s.kind)));
    f.opt_str("kernel", splats.iter().map(|s| s.kernel.as_deref()));
    f.opt_str(
        "task",
        splats
            .iter()
            .map(|s| s.task.as_deref().or(s.comm.as_deref())),
    );
    f.opt_i32("pid", splats.iter().map(|s| s.pid).collect());
    f.opt_i32(
        "cpu",
        splats
            .iter()
            .map(|s| s.cpu.or(s.cpu_from_printk_caller_id).map(int32))
            .collect(),
    );
    f.opt_str("culprit", splats.iter().map(|s| s.culprit.as_deref()));
    f.str("locks", splats.iter().map(|s| s.lock_names().join(", ")));
    f.str(
        "stack",
        splats.iter().map(|s| {
            let names: Vec<&str> = s.stack.iter().map(|fr| fr.function.as_str()).collect();
            names.join(", ")
        }),
    );
    f.bool("panic", splats.iter().map(|s| s.panic).collect());
    f.str("facts", splats.iter().map(|s| json_text(&s.facts)));
    f.finish()
}
