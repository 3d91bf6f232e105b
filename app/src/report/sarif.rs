//! SARIF 2.1.0: one run, one rule per finding kind, one result per finding (level by
//! confidence), located in the trace file plus logical locations for its functions.

use analysis::Report;
use serde_json::{Value, json};
use trace_model::seconds;
use trace_model::{Confidence, FindingKind};

const KINDS: [(FindingKind, &str, &str); 3] = [
    (
        FindingKind::SleepInAtomic,
        "Sleeping function called in atomic context",
        "A might-sleep call or a real sleep while preemption or irqs were disabled, a \
         spinlock was held, or in interrupt context.",
    ),
    (
        FindingKind::LockOrderCycle,
        "Lock-order cycle (possible deadlock)",
        "Lock classes were acquired in orders that form a cycle (AB-BA or longer), or a lock \
         was re-acquired by its holder.",
    ),
    (
        FindingKind::IrqInversion,
        "irq-safe / irq-unsafe lock usage",
        "A lock class used in hardirq or softirq context is also taken with that interrupt \
         enabled, directly or through a lock-order path.",
    ),
];

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::Definite => "error",
        Confidence::Probable => "warning",
        Confidence::Unverifiable => "note",
    }
}

pub fn render(report: &Report) -> Value {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|(kind, short, full)| {
            json!({
                "id": kind.name(),
                "name": kind.name(),
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "defaultConfiguration": {"level": "error"},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|rf| {
            let f = &rf.finding;
            let rule_index = KINDS.iter().position(|(k, _, _)| *k == f.kind);
            let logical: Vec<Value> = f
                .functions
                .iter()
                .map(|name| json!({"name": name, "kind": "function"}))
                .collect();
            json!({
                "ruleId": f.kind.name(),
                "ruleIndex": rule_index,
                "level": level(f.confidence),
                "message": {"text": f.summary},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": uri(&rf.input)}},
                    "logicalLocations": logical,
                }],
                "partialFingerprints": {"kctxFindingId/v1": f.id},
                "properties": {
                    "confidence": f.confidence.name(),
                    "count": f.count,
                    "ts": f.ts.map(seconds),
                    "locks": f.locks,
                    "cpu": f.cpu,
                    "task": f.task,
                    "pid": f.pid,
                    "evidence": f.evidence,
                },
            })
        })
        .collect();
    let artifacts: Vec<Value> = report
        .inputs
        .iter()
        .map(|i| json!({"location": {"uri": uri(&i.path)}}))
        .collect();
    let notifications: Vec<Value> = report
        .inputs
        .iter()
        .filter_map(|i| i.error.as_ref())
        .chain(&report.impossible)
        .map(|text| json!({"level": "error", "message": {"text": text}}))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kctx",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "artifacts": artifacts,
            "invocations": [{
                "executionSuccessful": report.exit_code != 2,
                "exitCode": report.exit_code,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {"suppressed": report.suppressed},
        }],
    })
}

/// A relative URI reference for a path (SARIF wants `/` separators and escaped spaces).
fn uri(path: &str) -> String {
    path.replace('\\', "/").replace(' ', "%20")
}
