//! Events as ftrace text: the event list's "details" column and the lines `kctx generate`
//! writes (the tracefs `trace` file format, so the text importer can read them back).

use trace_model::CommPid;
use trace_model::{EventStore, Payload, PayloadView};

/// The payload as the kernel prints it after `name: `.
pub fn details(store: &EventStore, payload: &PayloadView<'_>) -> String {
    let mut out = String::new();
    let _ = payload.write_details(&mut out, |id| store.str(id));
    out
}

/// Event `i` as one tracefs `trace` line (`comm-pid [cpu] flags secs: name: details`).
/// Function-tracer entries print as `func <-parent` without a name, as tracefs does.
pub fn trace_line(store: &EventStore, i: u32) -> String {
    let e = store.event(i);
    let flags = e.flags.to_column().unwrap_or_else(|| "....".into());
    let secs = e.ts / 1_000_000_000;
    let micros = (e.ts % 1_000_000_000) / 1000;
    let task = CommPid(e.comm, e.pid);
    let body = details(store, &e.payload);
    let head = format!("{task:>22} [{:03}] {flags} {secs:>5}.{micros:06}", e.cpu);
    match e.payload {
        Payload::Function { .. } => format!("{head}: {body}"),
        _ => format!("{head}: {}: {body}", e.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::synthetic::{SyntheticSpec, generate};

    #[test]
    fn lines_look_like_tracefs() {
        let store = generate(SyntheticSpec {
            events: 2_000,
            ..SyntheticSpec::default()
        });
        let switch = store.event_type_id("sched_switch").unwrap();
        let i = store
            .event_types()
            .iter()
            .position(|&t| t == switch)
            .unwrap() as u32;
        let line = trace_line(&store, i);
        assert!(line.contains("] d..2. "), "{line}");
        assert!(line.contains(": sched_switch: prev_comm="), "{line}");
        assert!(line.contains(" ==> next_comm="), "{line}");
        let func = store.event_type_id("function").unwrap();
        let j = store.event_types().iter().position(|&t| t == func).unwrap() as u32;
        assert!(trace_line(&store, j).contains(" <-"));
    }
}
