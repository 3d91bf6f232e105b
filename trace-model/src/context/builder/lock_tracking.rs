//! Lock holds per holder: lockdep events, lock kprobes, contention, releases, and the
//! lock instances and classes they name.

use super::*;

/// How far into a data object a lock address may point and still be named after it (a lock
/// embedded in a static structure; lockdep's map sits a few words into the lock).
const MAX_SYMBOL_OFFSET: u64 = 0x200;

/// lockdep's contention_begin flags (include/trace/events/lock.h).
const LCB_F_SPIN: u32 = 1;
const LCB_F_READ: u32 = 2;
const LCB_F_WRITE: u32 = 4;
const LCB_F_RT: u32 = 8;
const LCB_F_PERCPU: u32 = 16;
const LCB_F_MUTEX: u32 = 32;

pub(super) fn contention_mode(flags: u32) -> LockMode {
    let (spin, read, write) = (
        flags & LCB_F_SPIN != 0,
        flags & LCB_F_READ != 0,
        flags & LCB_F_WRITE != 0,
    );
    if flags & (LCB_F_MUTEX | LCB_F_RT) != 0 {
        LockMode::Mutex
    } else if spin && read {
        LockMode::RwlockRead
    } else if spin && write {
        LockMode::RwlockWrite
    } else if read || flags & LCB_F_PERCPU != 0 {
        LockMode::RwsemRead
    } else if write {
        LockMode::RwsemWrite
    } else if spin {
        LockMode::Spin
    } else {
        LockMode::Unknown
    }
}

impl Builder<'_> {
    /// A lock event of the holder `at` names.
    pub(super) fn lock_event(&mut self, at: &At, p: &PayloadView<'_>) {
        match *p {
            Payload::LockAcquire {
                addr,
                name,
                trylock,
                read,
            } => self.lockdep_acquire(at, addr, name, trylock, read),
            Payload::LockRelease { addr, .. } => self.release(at, addr),
            Payload::LockContended { addr, .. } => {
                if let Some(h) = self.find_held(at.owner, addr) {
                    self.model.locks.holds[h as usize].contended_ts = Some(at.ts);
                }
            }
            Payload::LockAcquired { addr, .. } => {
                if let Some(h) = self.find_held(at.owner, addr) {
                    self.model.locks.holds[h as usize].acquired_ts = Some(at.ts);
                }
            }
            Payload::ContentionBegin { addr, flags } => {
                if let Some(h) = self.contended_hold(at.owner, addr) {
                    let hold = &mut self.model.locks.holds[h as usize];
                    hold.contended_ts.get_or_insert(at.ts);
                    if hold.mode == LockMode::Unknown {
                        hold.mode = contention_mode(flags);
                    }
                }
            }
            Payload::ContentionEnd { addr, .. } => {
                if let Some(h) = self.contended_hold(at.owner, addr) {
                    let hold = &mut self.model.locks.holds[h as usize];
                    if hold.contended_ts.is_some() {
                        hold.acquired_ts.get_or_insert(at.ts);
                    }
                }
            }
            Payload::LockProbe { addr, probed } => self.lock_probe(at, addr, probed),
            _ => {}
        }
    }

    /// lockdep's "enabled while held": irqs (BH) seen on in the holder's own context.
    pub(super) fn sample_holds(&mut self, owner: Owner, sample: Sample) {
        let held = std::mem::take(&mut self.holder(owner).held);
        for &h in &held {
            let hold = &mut self.model.locks.holds[h as usize];
            if sample.irqs_off == Some(false) {
                hold.hardirqs_enabled_while_held = Some(true);
            }
            // Serving a softirq keeps softirqs off whatever the BH count says.
            let in_task = matches!(owner, Owner::Task(_));
            if in_task && sample.bh_off == Some(false) && sample.irqs_off == Some(false) {
                hold.softirqs_enabled_while_held = Some(true);
            }
        }
        self.holder(owner).held = held;
    }

    pub(super) fn lockdep_acquire(
        &mut self,
        at: &At,
        addr: u64,
        name: StrId,
        trylock: bool,
        read: u8,
    ) {
        let n = self.store.str(name);
        // A pseudo-lock taken inside a lock primitive (fs_reclaim under mutex_lock's
        // allocation) must leave the primitive's pending call to the real lock.
        let pseudo = is_pseudo_lock(n) || read == 2 && n.starts_with("rcu");
        let pending = if pseudo {
            None
        } else {
            self.holder(at.owner).pending.take()
        };
        let named = match pending.map(|p| p.op) {
            Some(LockOp::Acquire { mode, .. }) => Some(mode),
            _ => None,
        };
        let mode = named.or_else(|| {
            if pseudo {
                return Some(LockMode::Pseudo);
            }
            let before = at.before?;
            if at.sample.irqs_off == Some(true) && before.irqs_off == Some(false) {
                Some(LockMode::SpinIrqsave)
            } else if at.sample.bh_off == Some(true) && before.bh_off == Some(false) {
                Some(LockMode::SpinBh)
            } else {
                None
            }
        });
        if self.store.str(name) == "fs_reclaim"
            && let Some(r) = self.holder(at.owner).sleep_root
            && self.model.sleep_calls[r as usize].gfp == Gfp::Unknown
        {
            // fs_reclaim_acquire() runs only for allocations that may enter direct reclaim.
            self.model.sleep_calls[r as usize].gfp = Gfp::Blocking;
        }
        let caller = pending.map_or(self.holder(at.owner).current_fn, |p| p.parent);
        self.acquire(
            at,
            addr,
            Some(name),
            mode.unwrap_or(LockMode::Unknown),
            trylock,
            read,
            caller,
            HoldSource::Lockdep,
        );
    }

    pub(super) fn lock_probe(&mut self, at: &At, addr: u64, probed: StrId) {
        let event_name = self
            .store
            .type_name(self.store.event_types()[at.i as usize]);
        let op = self
            .classes
            .get(&self.store.strings, probed)
            .lock
            .or_else(|| lock_op(event_name));
        let Some(op) = op else { return };
        let pending = self.holder(at.owner).pending.take();
        let traced_too = pending.is_some_and(|p| p.op == op);
        match op {
            LockOp::Release => self.release(at, addr),
            LockOp::Acquire { mode, trylock } => {
                let caller = pending
                    .filter(|_| traced_too)
                    .map_or(self.holder(at.owner).current_fn, |p| p.parent);
                if mode.is_sleeping() && !trylock && !traced_too {
                    let func = if probed == StrId::EMPTY {
                        self.model.strings.intern(event_name)
                    } else {
                        self.model.strings.intern(base_name(self.store.str(probed)))
                    };
                    let call =
                        self.sleep_call(at, SleepKind::Call(SleepEntry::MaySleep), func, caller);
                    let h = self.holder(at.owner);
                    if h.sleep_root.is_none() {
                        h.sleep_root = Some(call);
                    }
                }
                let read = u8::from(matches!(mode, LockMode::RwlockRead | LockMode::RwsemRead));
                self.acquire(
                    at,
                    addr,
                    None,
                    mode,
                    trylock,
                    read,
                    caller,
                    HoldSource::Probe,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn acquire(
        &mut self,
        at: &At,
        addr: u64,
        lockdep_name: Option<StrId>,
        mode: LockMode,
        trylock: bool,
        read: u8,
        caller: StrId,
        source: HoldSource,
    ) {
        // Acquiring a lock this context already holds through a trylock: that trylock failed.
        let stale = self.held_of(at.owner).iter().copied().find(|&h| {
            let hold = &self.model.locks.holds[h as usize];
            hold.trylock
                && self.work[h as usize].source == HoldSource::Probe
                && self.model.locks.locks[hold.lock.0 as usize].addr == addr
        });
        if let Some(h) = stale {
            self.drop_failed_trylock(at.owner, h);
        }
        let lock = self.lock_id(addr, lockdep_name);
        let held_before = self.holder(at.owner).held.clone();
        let hb_start = self.model.locks.held_before.len() as u32;
        self.model.locks.held_before.extend(&held_before);
        let hb_end = self.model.locks.held_before.len() as u32;
        let in_irq = matches!(at.context, HolderContext::Hardirq | HolderContext::Nmi);
        let irqs_off_after = matches!(mode, LockMode::SpinIrq | LockMode::SpinIrqsave)
            && source == HoldSource::Probe;
        let hardirqs_enabled = if in_irq || irqs_off_after {
            Some(false)
        } else {
            at.sample.irqs_off.map(|off| !off)
        };
        let softirqs_enabled = if at.context != HolderContext::Task || mode == LockMode::SpinBh {
            Some(false)
        } else if hardirqs_enabled == Some(false) {
            None
        } else {
            at.sample.bh_off.map(|off| !off)
        };
        // lockdep does not track acquisitions in NMI context at all (lock_acquire returns
        // early there), nor the classes it never validates.
        let validated = at.context != HolderContext::Nmi
            && lockdep_name.is_none_or(|n| lockdep_validates(self.store.str(n), read != 0));
        let hold = LockHold {
            lock,
            mode,
            trylock,
            read,
            validated,
            cpu: at.cpu as u32,
            pid: at.pid,
            context: at.context,
            acquire_ts: at.ts,
            acquire_event: at.i,
            contended_ts: None,
            acquired_ts: None,
            release_ts: None,
            release_event: None,
            caller: (caller != StrId::EMPTY).then_some(caller),
            hardirqs_enabled,
            softirqs_enabled,
            hardirqs_enabled_while_held: hardirqs_enabled,
            softirqs_enabled_while_held: softirqs_enabled,
            held_before: hb_start..hb_end,
        };
        let idx = self.model.locks.holds.len() as HoldIdx;
        self.model.locks.holds.push(hold);
        self.model.hold_spans.push(HoldSpan {
            end_ns: u64::MAX,
            mode_inferred: false,
        });
        self.work.push(HoldWork {
            source,
            depth_before: at.before.and_then(|b| b.depth),
            depth_at_acquire: at.sample.depth,
        });
        let h = self.holder(at.owner);
        h.held.push(idx);
        h.last_hold = Some(idx);
    }

    pub(super) fn drop_failed_trylock(&mut self, owner: Owner, h: HoldIdx) {
        let holder = self.holder(owner);
        holder.held.retain(|&x| x != h);
        let acquired = self.model.locks.holds[h as usize].acquire_ts;
        self.model.hold_spans[h as usize].end_ns = acquired;
        self.model.build_stats.failed_trylocks += 1;
    }

    pub(super) fn held_of(&self, owner: Owner) -> &[HoldIdx] {
        match owner {
            Owner::Task(k) => self.tasks.get(&k).map_or(&[], |h| h.held.as_slice()),
            Owner::Slot(cpu, slot) => &self.cpus[cpu].slots[slot].held,
        }
    }

    pub(super) fn find_held(&self, owner: Owner, addr: u64) -> Option<HoldIdx> {
        let locks = &self.model.locks;
        self.held_of(owner)
            .iter()
            .rev()
            .copied()
            .find(|&h| locks.locks[locks.holds[h as usize].lock.0 as usize].addr == addr)
    }

    /// contention_begin / end name the lock object, which lockdep's map address does not
    /// equal: match by address, else the hold the context's last lock event created, if it
    /// has not been obtained yet.
    pub(super) fn contended_hold(&mut self, owner: Owner, addr: u64) -> Option<HoldIdx> {
        if let Some(h) = self.find_held(owner, addr) {
            return Some(h);
        }
        let holder = self.holder(owner);
        let last = holder.last_hold?;
        let open = holder.held.last() == Some(&last);
        let hold = &self.model.locks.holds[last as usize];
        (open
            && hold.acquired_ts.is_none()
            && self.work[last as usize].source == HoldSource::Lockdep)
            .then_some(last)
    }

    pub(super) fn release(&mut self, at: &At, addr: u64) {
        let mut found = self.find_held(at.owner, addr).map(|h| (at.owner, h));
        if found.is_none() {
            // Released by another level of this CPU (or the task under it).
            let cpu = at.cpu;
            let others = [
                Owner::Task(task_key(at.pid, cpu)),
                Owner::Slot(cpu, SOFTIRQ),
                Owner::Slot(cpu, HARDIRQ),
                Owner::Slot(cpu, NMI),
            ];
            found = others
                .into_iter()
                .find_map(|o| self.find_held(o, addr).map(|h| (o, h)));
        }
        let Some((owner, h)) = found else {
            self.model.build_stats.unmatched_releases += 1;
            return;
        };
        let holder = self.holder(owner);
        let pos = holder.held.iter().position(|&x| x == h).unwrap_or(0);
        let above: Vec<HoldIdx> = holder.held.drain(pos..).collect();
        // Trylocks above the released lock that are still open failed: the back-off path
        // unlocks what it held without unlocking them.
        for &x in &above[1..] {
            let is_failed_trylock = self.model.locks.holds[x as usize].trylock
                && self.work[x as usize].source == HoldSource::Probe;
            if is_failed_trylock {
                let acquired = self.model.locks.holds[x as usize].acquire_ts;
                self.model.hold_spans[x as usize].end_ns = acquired;
                self.model.build_stats.failed_trylocks += 1;
            } else {
                self.holder(owner).held.push(x);
            }
        }
        let hold = &mut self.model.locks.holds[h as usize];
        hold.release_ts = Some(at.ts);
        hold.release_event = Some(at.i);
        self.model.hold_spans[h as usize].end_ns = at.ts;
        let work = self.work[h as usize];
        if hold.mode == LockMode::Unknown
            && let (Some(acquired), Some(now)) = (work.depth_at_acquire, at.sample.depth)
            && now >= acquired
            && work.depth_before.map_or(acquired > 0, |was| acquired > was)
        {
            // The acquire raised the depth and it is still raised at the unlock: a spinning
            // lock. (A mutex's own preempt_disable ends when mutex_lock returns; an rwsem
            // never raises it.) lock:* events all record the depth the same way, so they
            // are compared with each other, not with a calibrated baseline.
            hold.mode = LockMode::Spin;
            self.model.hold_spans[h as usize].mode_inferred = true;
        }
    }

    pub(super) fn lock_id(&mut self, addr: u64, lockdep_name: Option<StrId>) -> LockId {
        let lockdep_name = lockdep_name.filter(|&n| n != StrId::EMPTY);
        if let Some(&id) = self.lock_ids.get(&addr) {
            // Freed memory is reused for other locks: an address lockdep now names after
            // another class is a new instance.
            let class = &self.model.locks.classes[self.model.locks.class_of(id).0 as usize];
            let renamed = lockdep_name
                .is_some_and(|n| class.source == NameSource::Lockdep && class.name != n);
            if !renamed {
                return id;
            }
        }
        let (name, source) = match lockdep_name {
            Some(n) => (n, NameSource::Lockdep),
            None => match self.symbol_name(addr) {
                Some(n) => (n, NameSource::Kallsyms),
                None => (
                    self.model.strings.intern(&format!("{addr:#x}")),
                    NameSource::Address,
                ),
            },
        };
        let class = *self.class_ids.entry(name).or_insert_with(|| {
            self.model.locks.classes.push(LockClass { name, source });
            ClassId(self.model.locks.classes.len() as u32 - 1)
        });
        self.model.locks.locks.push(LockInstance { addr, class });
        let id = LockId(self.model.locks.locks.len() as u32 - 1);
        self.lock_ids.insert(addr, id);
        id
    }

    /// The data symbol at (or just below) `addr`: the trace's kallsyms, then the sidecar.
    /// The data symbol at `addr`, `symbol+0xoff` inside one: two locks in one struct stay
    /// two classes.
    pub(super) fn symbol_name(&mut self, addr: u64) -> Option<StrId> {
        let (name, offset) = match data_symbol(&self.store.symbols, addr) {
            Some((id, offset)) => (self.store.str(id), offset),
            None => {
                let side = self.sidecar?;
                let (id, offset) = data_symbol(&side.symbols, addr)?;
                (side.strings.resolve(id), offset)
            }
        };
        let name = if offset == 0 {
            name.to_owned()
        } else {
            format!("{name}+{offset:#x}")
        };
        Some(self.model.strings.intern(&name))
    }
}

pub(super) fn data_symbol(table: &SymbolTable, addr: u64) -> Option<(StrId, u64)> {
    let (sym, offset) = table.containing(addr)?;
    (sym.kind == SymbolKind::Data && offset <= MAX_SYMBOL_OFFSET).then_some((sym.name, offset))
}
