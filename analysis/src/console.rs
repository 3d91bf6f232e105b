//! A console log next to the traces: the kernel's own splats linked to kctx's findings, with
//! the disagreements both ways, and the context each splat printed checked against the
//! reconstruction.

use crate::NamedSource;
use crate::logs::{LogContent, read_log};
use anyhow::bail;
use serde::Serialize;
use std::path::PathBuf;
use trace_model::context::ContextModel;
use trace_model::correlate::{CorrelateOptions, MatchedOn, correlate};
use trace_model::splat::Splat;
use trace_model::splat_context::{SplatContextCheck, check_splat_context};
use trace_model::{EventStore, Finding};

/// The console part of `kctx check`'s output.
#[derive(Clone, Debug, Serialize)]
pub struct ConsoleCheck {
    pub console: PathBuf,
    /// Console and trace times were compared (trace clock `local` / `global` or unknown).
    pub time_compared: bool,
    pub links: Vec<ConsoleLink>,
    /// Kernel reported, kctx did not find.
    pub kernel_only: Vec<SplatSummary>,
    /// kctx found what the kernel never reported (ids of findings).
    pub kctx_only: Vec<String>,
    /// The context each splat printed, checked against each trace's reconstruction.
    pub context: Vec<ContextCheck>,
}

/// One splat's printed context against one trace.
#[derive(Clone, Debug, Serialize)]
pub struct ContextCheck {
    pub input: String,
    pub splat: SplatSummary,
    #[serde(flatten)]
    pub check: SplatContextCheck,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConsoleLink {
    pub splat: SplatSummary,
    pub finding: String,
    pub matched_on: Vec<MatchedOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_delta_s: Option<f64>,
}

/// A splat in one line's worth of facts.
#[derive(Clone, Debug, Serialize)]
pub struct SplatSummary {
    pub kind: &'static str,
    pub console_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
}

impl SplatSummary {
    fn of(splat: &Splat) -> Self {
        SplatSummary {
            kind: splat.kind.name(),
            console_line: splat.console_line,
            console_ts: splat.console_ts,
            task: splat.task.clone(),
            pid: splat.pid,
            culprit: splat.culprit.clone(),
        }
    }
}

/// Console stamps share the trace's time base only for the `local` / `global` clocks (both
/// guest `sched_clock`); with no recorded clock the default (`local`) is assumed.
pub fn shares_console_time_base(trace_clock: Option<&str>) -> bool {
    trace_clock.is_none_or(|c| matches!(c, "local" | "global"))
}

/// A console log's splats, read before the traces so that each trace can be checked
/// against them while it is loaded.
pub struct Console {
    path: PathBuf,
    splats: Vec<Splat>,
}

impl Console {
    pub fn read(input: &NamedSource) -> anyhow::Result<Self> {
        let LogContent::Console { splats } = read_log(input)? else {
            bail!("{}: a QEMU log, not a console log", input.name);
        };
        Ok(Console {
            path: PathBuf::from(&input.name),
            splats,
        })
    }

    /// The log's name.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The splats, in console order.
    pub fn splats(&self) -> &[Splat] {
        &self.splats
    }

    pub fn into_splats(self) -> Vec<Splat> {
        self.splats
    }

    /// Compares the context each splat printed with the reconstruction of the trace `input`.
    pub fn check_context(
        &self,
        input: &str,
        store: &EventStore,
        model: &ContextModel,
    ) -> Vec<ContextCheck> {
        let same_clock = shares_console_time_base(store.meta.clock.as_deref());
        self.splats
            .iter()
            .filter_map(|splat| {
                let check = check_splat_context(splat, store, model, same_clock)?;
                Some(ContextCheck {
                    input: input.to_owned(),
                    splat: SplatSummary::of(splat),
                    check,
                })
            })
            .collect()
    }

    /// Links the splats to `findings`; `context` is what [`Console::check_context`] gave.
    pub fn check(
        &self,
        findings: &[Finding],
        trace_clock: Option<&str>,
        context: Vec<ContextCheck>,
    ) -> ConsoleCheck {
        let splats = &self.splats;
        let time_compared = shares_console_time_base(trace_clock);
        let options = CorrelateOptions {
            use_time: time_compared,
            ..CorrelateOptions::default()
        };
        let result = correlate(splats, findings, &options);
        ConsoleCheck {
            console: self.path.clone(),
            time_compared,
            links: result
                .links
                .iter()
                .map(|l| ConsoleLink {
                    splat: SplatSummary::of(&splats[l.splat]),
                    finding: findings[l.finding].id.clone(),
                    matched_on: l.matched_on.clone(),
                    time_delta_s: l.time_delta_s,
                })
                .collect(),
            kernel_only: result
                .kernel_only
                .iter()
                .map(|&i| SplatSummary::of(&splats[i]))
                .collect(),
            kctx_only: result
                .kctx_only
                .iter()
                .map(|&i| findings[i].id.clone())
                .collect(),
            context,
        }
    }
}
