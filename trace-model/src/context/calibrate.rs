//! Per-trace calibration of the recorded preempt depth (formats.md 2.7, 4.4 rule d).
//!
//! The depth an event records is the task's preempt count plus an offset that depends on the
//! event type, the kernel version and even the function (a function that also carries a kprobe
//! is traced through ftrace's list function, one preempt level deeper). So the "normal" depth is
//! learned per event key (event type, traced function, interrupt context) as its most common
//! value; a depth above it means preemption was disabled by the code being traced.

use super::primitives::base_name;
use crate::flags::ContextFlags;
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use crate::{IrqContext, StrId};
use rustc_hash::{FxHashMap, FxHashSet};

/// Keys with fewer samples than this use the fallback of their kind.
const MIN_SAMPLES: u32 = 8;
const BINS: usize = 16;

/// The context column of an event's flags, as a small number (0 task .. 3 NMI).
pub fn frame_of(flags: ContextFlags) -> Option<u8> {
    Some(match flags.irq_context()? {
        IrqContext::Task => 0,
        IrqContext::Softirq => 1,
        IrqContext::Hardirq | IrqContext::HardirqInSoftirq => 2,
        IrqContext::Nmi | IrqContext::NmiInHardirq => 3,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    event_type: u16,
    func: StrId,
    frame: u8,
}

/// The learned normal depth of every event key.
#[derive(Clone, Debug, Default)]
pub struct Baselines {
    by_key: FxHashMap<Key, u8>,
    /// Fallbacks per (is function entry, frame).
    fallback: [[u8; 4]; 2],
    /// Functions that carry a kprobe: one level deeper than other functions.
    probed: FxHashSet<StrId>,
    /// Some event recorded a depth.
    pub depth_recorded: bool,
}

fn mode(hist: &[u32; BINS]) -> u8 {
    let mut best = 0;
    for (i, &n) in hist.iter().enumerate() {
        if n > hist[best] {
            best = i;
        }
    }
    best as u8
}

impl Baselines {
    /// Learns the baselines from every event that recorded a depth, except `sched_switch`
    /// (rule a: the scheduler's own nesting says nothing about the caller).
    pub fn learn(store: &EventStore) -> Baselines {
        let switch = store.event_type_id("sched_switch");
        let mut hists: FxHashMap<Key, [u32; BINS]> = FxHashMap::default();
        let mut fallback = [[[0u32; BINS]; 4]; 2];
        let mut probed = FxHashSet::default();
        let mut depth_recorded = false;
        for i in 0..store.len() as EventIdx {
            let flags = store.flags()[i as usize];
            let event_type = store.event_types()[i as usize];
            let payload = store.payload(i);
            if let Payload::LockProbe { probed: p, .. } = payload {
                let name = base_name(store.str(p));
                if let Some(id) = store.strings.lookup(name) {
                    probed.insert(id);
                }
            }
            let (Some(depth), Some(frame)) = (flags.preempt_depth(), frame_of(flags)) else {
                continue;
            };
            depth_recorded = true;
            if Some(event_type) == switch {
                continue;
            }
            let func = function_of(&payload);
            let key = Key {
                event_type: event_type.0,
                func: func.unwrap_or_default(),
                frame,
            };
            let bin = usize::from(depth).min(BINS - 1);
            hists.entry(key).or_insert([0; BINS])[bin] += 1;
            fallback[usize::from(func.is_some())][usize::from(frame)][bin] += 1;
        }
        let by_key = hists
            .into_iter()
            .filter(|(_, h)| h.iter().sum::<u32>() >= MIN_SAMPLES)
            .map(|(k, h)| (k, mode(&h)))
            .collect();
        let fallback = fallback.map(|per_frame| per_frame.map(|h| mode(&h)));
        Baselines {
            by_key,
            fallback,
            probed,
            depth_recorded,
        }
    }

    /// The normal depth of event `i`, given its payload's traced function (if any).
    pub fn baseline(&self, store: &EventStore, i: EventIdx, func: Option<StrId>) -> Option<u8> {
        let flags = store.flags()[i as usize];
        let frame = frame_of(flags)?;
        let key = Key {
            event_type: store.event_types()[i as usize].0,
            func: func.unwrap_or_default(),
            frame,
        };
        if let Some(&b) = self.by_key.get(&key) {
            return Some(b);
        }
        let fallback = self.fallback[usize::from(func.is_some())][usize::from(frame)];
        let kprobed = func.is_some_and(|f| self.probed.contains(&f));
        Some(fallback + u8::from(kprobed))
    }

    /// The baselines as words (the cache's format): per learned key its event type,
    /// function, frame and depth; the fallbacks then whether a depth was recorded; the
    /// kprobed functions.
    pub fn to_words(&self) -> [Vec<u64>; 3] {
        let keys = (self.by_key.iter())
            .flat_map(|(k, &d)| {
                [
                    k.event_type.into(),
                    k.func.0.into(),
                    k.frame.into(),
                    d.into(),
                ]
            })
            .collect();
        let mut fallback: Vec<u64> = self
            .fallback
            .as_flattened()
            .iter()
            .map(|&d| d.into())
            .collect();
        fallback.push(self.depth_recorded.into());
        let probed = self.probed.iter().map(|f| f.0.into()).collect();
        [keys, fallback, probed]
    }

    /// Baselines from [`Self::to_words`], checked: every depth a learned mode (below 16),
    /// every frame one of the four, every function one of `strings` ids.
    pub fn from_words(words: [Vec<u64>; 3], strings: usize) -> Result<Baselines, String> {
        let [keys, fallback, probed] = words;
        let depth = |w: u64| u8::try_from(w).ok().filter(|&d| usize::from(d) < BINS);
        let func = |w: u64| {
            u32::try_from(w)
                .ok()
                .filter(|&f| (f as usize) < strings)
                .map(StrId)
        };
        let bad = || "preempt baselines out of range".to_owned();
        if !keys.len().is_multiple_of(4) || fallback.len() != 9 || fallback[8] > 1 {
            return Err(bad());
        }
        let mut by_key = FxHashMap::default();
        for k in keys.chunks_exact(4) {
            let key = Key {
                event_type: u16::try_from(k[0]).map_err(|_| bad())?,
                func: func(k[1]).ok_or_else(bad)?,
                frame: u8::try_from(k[2]).ok().filter(|&f| f < 4).ok_or_else(bad)?,
            };
            by_key.insert(key, depth(k[3]).ok_or_else(bad)?);
        }
        let mut fall = [[0u8; 4]; 2];
        for (slot, &w) in fall.as_flattened_mut().iter_mut().zip(&fallback) {
            *slot = depth(w).ok_or_else(bad)?;
        }
        Ok(Baselines {
            by_key,
            fallback: fall,
            probed: (probed.into_iter().map(func))
                .collect::<Option<_>>()
                .ok_or_else(bad)?,
            depth_recorded: fallback[8] == 1,
        })
    }

    /// Preempt levels event `i` records above its key's normal depth.
    pub fn excess(&self, store: &EventStore, i: EventIdx, func: Option<StrId>) -> Option<u8> {
        let depth = store.flags()[i as usize].preempt_depth()?;
        Some(depth.saturating_sub(self.baseline(store, i, func)?))
    }
}

/// The traced function of a function-tracer event.
pub fn function_of<F>(payload: &Payload<'_, F>) -> Option<StrId> {
    match *payload {
        Payload::Function { func, .. } | Payload::FuncGraphEntry { func, .. } => Some(func),
        _ => None,
    }
}
