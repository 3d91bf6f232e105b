//! Events as ftrace text: the event list's "details" column and the lines `kctx generate`
//! writes (the tracefs `trace` file format, so the text importer can read them back).

use std::fmt::Write as _;
use trace_model::CommPid;
use trace_model::{EventStore, Payload, PayloadView, StrId};

const SOFTIRQ_NAMES: [&str; 10] = [
    "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
];

/// The payload as the kernel prints it after `name: `.
pub fn details(store: &EventStore, payload: &PayloadView<'_>) -> String {
    let s = |id: StrId| store.str(id);
    let mut out = String::new();
    let w = &mut out;
    let _ = match payload {
        Payload::Empty => Ok(()),
        Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            prev_prio,
            prev_state,
            next_comm,
            next_pid,
            next_prio,
        } => write!(
            w,
            "prev_comm={} prev_pid={prev_pid} prev_prio={prev_prio} prev_state={} ==> next_comm={} next_pid={next_pid} next_prio={next_prio}",
            s(*prev_comm),
            prev_state.letters(),
            s(*next_comm)
        ),
        Payload::SchedWakeup {
            comm,
            pid,
            prio,
            target_cpu,
        } => write!(
            w,
            "comm={} pid={pid} prio={prio} target_cpu={target_cpu:03}",
            s(*comm)
        ),
        Payload::SchedMigrate {
            comm,
            pid,
            prio,
            orig_cpu,
            dest_cpu,
        } => write!(
            w,
            "comm={} pid={pid} prio={prio} orig_cpu={orig_cpu} dest_cpu={dest_cpu}",
            s(*comm)
        ),
        Payload::IrqHandlerEntry { irq, name } => write!(w, "irq={irq} name={}", s(*name)),
        Payload::IrqHandlerExit { irq, handled } => {
            write!(
                w,
                "irq={irq} ret={}",
                if *handled { "handled" } else { "unhandled" }
            )
        }
        Payload::SoftirqEntry { vec }
        | Payload::SoftirqExit { vec }
        | Payload::SoftirqRaise { vec } => {
            let action = SOFTIRQ_NAMES.get(*vec as usize).unwrap_or(&"?");
            write!(w, "vec={vec} [action={action}]")
        }
        Payload::IrqVectorEntry { vector } | Payload::IrqVectorExit { vector } => {
            write!(w, "vector={vector}")
        }
        Payload::IrqDisable { caller, parent }
        | Payload::IrqEnable { caller, parent }
        | Payload::PreemptDisable { caller, parent }
        | Payload::PreemptEnable { caller, parent } => {
            write!(w, "caller={} parent={}", s(*caller), s(*parent))
        }
        Payload::LockAcquire {
            addr,
            name,
            trylock,
            read,
        } => {
            let try_ = if *trylock { "try " } else { "" };
            let read = match read {
                1 => "read ",
                2 => "recursive ",
                _ => "",
            };
            write!(w, "{addr:016x} {try_}{read}{}", s(*name))
        }
        Payload::LockRelease { addr, name }
        | Payload::LockContended { addr, name }
        | Payload::LockAcquired { addr, name } => write!(w, "{addr:016x} {}", s(*name)),
        Payload::ContentionBegin { addr, flags } => write!(w, "{addr:016x} (flags={flags:#x})"),
        Payload::ContentionEnd { addr, ret } => write!(w, "{addr:016x} (ret={ret})"),
        Payload::LockProbe { addr, probed } => write!(w, "({}) lock={addr:#x}", s(*probed)),
        Payload::Function { func, parent } => write!(w, "{} <-{}", s(*func), s(*parent)),
        Payload::FuncGraphEntry {
            func,
            leaf_duration_ns,
            ..
        } => match leaf_duration_ns {
            Some(d) => write!(w, "{}(); /* {:.3} us */", s(*func), *d as f64 / 1e3),
            None => write!(w, "{}() {{", s(*func)),
        },
        Payload::FuncGraphExit {
            func, duration_ns, ..
        } => {
            write!(
                w,
                "}} /* {} {:.3} us */",
                s(*func),
                *duration_ns as f64 / 1e3
            )
        }
        Payload::WorkqueueExecuteStart { work, function } => {
            write!(w, "work struct {work:016x}: function {}", s(*function))
        }
        Payload::WorkqueueExecuteEnd { work, function } => {
            write!(w, "work struct {work:016x}: function {}", s(*function))
        }
        Payload::TimerExpireEntry { timer, function } => {
            write!(w, "timer={timer:016x} function={}", s(*function))
        }
        Payload::TimerExpireExit { timer } => write!(w, "timer={timer:016x}"),
        Payload::HrtimerExpireEntry { hrtimer, function } => {
            write!(w, "hrtimer={hrtimer:016x} function={}", s(*function))
        }
        Payload::HrtimerExpireExit { hrtimer } => write!(w, "hrtimer={hrtimer:016x}"),
        Payload::Print { text } => w.write_str(text),
        Payload::Raw(text) => w.write_str(text),
        Payload::Fields(fields) => {
            for (i, (k, v)) in fields.clone().enumerate() {
                let sep = if i == 0 { "" } else { " " };
                let _ = write!(w, "{sep}{}={v}", s(k));
            }
            Ok(())
        }
    };
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
