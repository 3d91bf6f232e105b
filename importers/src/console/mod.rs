//! Kernel console, dmesg and serial logs: splats as records (formats.md §3).
//!
//! Lines go through [`prefix`] (the printk stamp and caller id, kmsg headers, found anywhere
//! on a line), `lead` (what precedes the message, learned by its shape over a run of lines:
//! harness counters, syslog / journal headers, host names, quoting) and [`lines`] (glued
//! records split, lines of other programs skipped, wrapped lines joined); [`segment`] cuts
//! the log into splats at their first lines ([`header`]); one module per splat family fills
//! the facts.

mod atomic_sleep;
mod common;
pub mod frames;
pub mod header;
mod hung_task;
mod lead;
pub mod lines;
mod lockdep;
pub mod prefix;
mod rcu_stall;
mod segment;
mod shape;
mod spinlock;
mod warning;

use trace_model::splat::Splat;

/// All splats of a console log, in file order. Never fails: any bytes are a console log.
pub fn parse_splats(bytes: &[u8]) -> Vec<Splat> {
    segment::splats(&lines::logical_lines(bytes))
}

#[cfg(test)]
mod tests {
    use super::parse_splats;
    use trace_model::splat::{SplatFacts, SplatKind};

    /// A pre-4.12 report (`[ INFO: ... ]` frame, 6-letter usage, no instance address,
    /// `[<addr>]` frames) quoted twice in a mail reply.
    const OLD_CIRCULAR: &str = "\
> > =======================================================
> > [ INFO: possible circular locking dependency detected ]
> > 4.9.0-rc1 #3 Not tainted
> > -------------------------------------------------------
> > worker/77 is trying to acquire lock:
> >  (&dev->big_mutex){+.+.+.}, at: [<ffffffff81234567>] dev_ioctl+0x37/0x90
> >
> > but task is already holding lock:
> >  (&dev->small_lock){+.+...}, at: [<ffffffff81234999>] dev_poll+0x1e/0x40
> >
> > which lock already depends on the new lock.
> >
> > the existing dependency chain (in reverse order) is:
> >
> > -> #1 (&dev->small_lock){+.+...}:
> >        [<ffffffff810a0001>] lock_acquire+0x4e/0x75
> >        [<ffffffff810a0002>] dev_open+0x18/0x20
> >
> > -> #0 (&dev->big_mutex){+.+.+.}:
> >        [<ffffffff810a0001>] lock_acquire+0x4e/0x75
> >        [<ffffffff810a0003>] dev_ioctl+0x37/0x90
> >
> > other info that might help us debug this:
> >
> > 1 lock held by worker/77:
> >  #0:  (&dev->small_lock){+.+...}, at: [<ffffffff81234999>] dev_poll+0x1e/0x40
> >
> > stack backtrace:
> > CPU: 2 PID: 77 Comm: worker Not tainted 4.9.0-rc1 #3
> > Call Trace:
> >  [<ffffffff810a0004>] dump_stack+0x4d/0x70
> >  [<ffffffff810a0003>] dev_ioctl+0x37/0x90
";

    #[test]
    fn old_quoted_circular_report() {
        let splats = parse_splats(OLD_CIRCULAR.as_bytes());
        assert_eq!(splats.len(), 1);
        let s = &splats[0];
        assert_eq!(s.kind, SplatKind::CircularLockingDependency);
        assert_eq!(
            (s.task.as_deref(), s.pid, s.cpu),
            (Some("worker"), Some(77), Some(2))
        );
        assert_eq!(s.kernel.as_deref(), Some("4.9.0-rc1"));
        let SplatFacts::Lockdep(f) = &s.facts else {
            panic!("lockdep facts")
        };
        assert_eq!(f.acquiring_lock.as_deref(), Some("&dev->big_mutex"));
        assert_eq!(f.held_lock.as_deref(), Some("&dev->small_lock"));
        assert_eq!(f.dependency_chain_printed[0].stack[1].function, "dev_open");
        assert_eq!(
            f.existing_dependency_edges,
            [["&dev->big_mutex".to_owned(), "&dev->small_lock".to_owned()]]
        );
        assert_eq!(
            f.lock_order_cycle,
            ["&dev->small_lock", "&dev->big_mutex", "&dev->small_lock"]
        );
        let held = s.held_locks.as_ref().unwrap();
        assert_eq!(
            (held.count, held.names.as_slice(), held.at.as_slice()),
            (
                1,
                &["&dev->small_lock".to_owned()][..],
                &["dev_poll".to_owned()][..]
            )
        );
        assert_eq!(s.stack.len(), 2);
    }

    #[test]
    fn irq_inversion_and_unlock_balance_from_kmsg() {
        let log = "\
4,900,16487309,-;WARNING: possible irq lock inversion dependency detected
4,901,16488313,-;5.9.0 #9 Not tainted
4,902,16489767,-;swapper/6/0 just changed the state of lock:
4,903,16490449,-;ffff8889eea6f418 (&host->lock){-...}-{2:2}, at: ata_interrupt+0x1e/0x530 [libata]
4,904,16491639,-;but this lock took another, HARDIRQ-READ-unsafe lock in the past:
4,905,16492561,-; (&trig->list_lock){.+.?}-{2:2}
4,906,16492565,-;and interrupts could create inverse lock ordering between them.
4,950,17000000,-;WARNING: bad unlock balance detected!
4,951,17000001,-;5.9.0 #9 Not tainted
4,952,17000002,-;kworker/1:2/123 is trying to release lock (&priv->lock) at:
4,953,17000003,-;[<ffffffff81000000>] drv_stop+0x10/0x80
4,954,17000004,-;but there are no more locks to release!
";
        let splats = parse_splats(log.as_bytes());
        assert_eq!(splats.len(), 2);
        let inversion = &splats[0];
        assert_eq!(inversion.kind, SplatKind::IrqLockInversion);
        assert_eq!(inversion.console_ts, Some(16.487309));
        assert_eq!(
            (inversion.task.as_deref(), inversion.pid),
            (Some("swapper/6"), Some(0))
        );
        let SplatFacts::Lockdep(f) = &inversion.facts else {
            panic!("lockdep facts")
        };
        assert_eq!(f.lock.as_deref(), Some("&host->lock"));
        assert_eq!(f.irq_unsafe_lock.as_deref(), Some("&trig->list_lock"));
        let unlock = &splats[1];
        assert_eq!(unlock.kind, SplatKind::BadUnlockBalance);
        let SplatFacts::Lockdep(f) = &unlock.facts else {
            panic!("lockdep facts")
        };
        assert_eq!(f.lock.as_deref(), Some("&priv->lock"));
        assert_eq!(
            (unlock.task.as_deref(), unlock.pid),
            (Some("kworker/1:2"), Some(123))
        );
    }
}
