//! TIME_SHIFT: the guest -> host clock correction of a guest recording.
//!
//! trace-cmd's host/guest time sync (KVM, PTP) stores, per guest CPU, samples of
//! (guest time, offset to the host, scaling, fraction bits). Reading the file, trace-cmd
//! moves every guest timestamp onto the host clock before anything else; kctx does the
//! same, so the times match `trace-cmd report` and a host recording of the same run.

use super::bytes::Reader;
use crate::ImportError;

/// The samples' offsets are interpolated between samples (PTP), not stepped (KVM).
const FLAG_INTERPOLATE: u32 = 1;

/// One guest CPU's correction at one guest time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    time: i64,
    offset: i64,
    scaling: i64,
    fraction: u32,
}

/// The corrections of every guest CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeShift {
    interpolate: bool,
    /// Per CPU, sorted by time, one sample per time.
    cpus: Vec<Vec<Sample>>,
}

impl TimeShift {
    /// Parses the option's data: u64 peer trace id, u32 flags, u32 CPU count, then per CPU
    /// a u32 count and that many i64 times, offsets and scalings; optionally after all
    /// CPUs, per CPU that many i64 fraction bits.
    pub fn parse(o: &mut Reader<'_>) -> Result<TimeShift, ImportError> {
        o.u64("peer trace id")?;
        let flags = o.u32("flags")?;
        let cpu_count = o.u32("cpu count")?;
        let mut cpus = Vec::new();
        for _ in 0..cpu_count {
            let n = o.u32("sample count")? as usize;
            // Checked against the bytes present before anything is sized by `n`.
            let data = o.bytes(n as u64 * 24, "samples")?;
            let endian = o.endian;
            let word =
                |i: usize| endian.u64(data[8 * i..8 * i + 8].try_into().expect("8 bytes")) as i64;
            cpus.push(
                (0..n)
                    .map(|i| Sample {
                        time: word(i),
                        offset: word(n + i),
                        scaling: word(2 * n + i),
                        fraction: 0,
                    })
                    .collect::<Vec<_>>(),
            );
        }
        if o.remaining() > 0 {
            for samples in &mut cpus {
                for s in samples.iter_mut() {
                    s.fraction = o.u64("fraction bits")?.min(63) as u32;
                }
            }
        }
        for samples in &mut cpus {
            samples.sort_by_key(|s| s.time);
            samples.dedup_by_key(|s| s.time);
        }
        Ok(TimeShift {
            interpolate: flags & FLAG_INTERPOLATE != 0,
            cpus,
        })
    }

    /// `raw` of guest CPU `cpu` on the host clock (unchanged for CPUs without samples).
    pub fn apply(&self, cpu: u32, raw: u64) -> u64 {
        let Some(samples) = self.cpus.get(cpu as usize) else {
            return raw;
        };
        match samples.as_slice() {
            [] => raw,
            [only] => raw.wrapping_add_signed(only.offset),
            _ => {
                // The pair around `raw`; before the first or after the last, the nearest
                // pair extrapolates.
                let at = samples.partition_point(|s| s.time <= raw as i64);
                let i = at.clamp(1, samples.len() - 1) - 1;
                self.correct(raw, &samples[i], &samples[i + 1])
            }
        }
    }

    fn correct(&self, raw: u64, lo: &Sample, hi: &Sample) -> u64 {
        let offset = if self.interpolate {
            let span = i128::from(hi.time - lo.time);
            let moved =
                (i128::from(raw as i64) - i128::from(lo.time)) * i128::from(hi.offset - lo.offset);
            lo.offset + ((moved + span / 2) / span) as i64
        } else {
            lo.offset
        };
        // A zero scaling would put every event at the offset: read it as no scaling.
        let scaling = if lo.scaling == 0 { 1 } else { lo.scaling };
        let scaled = (i128::from(raw) * i128::from(scaling)) >> lo.fraction;
        (scaled as u64).wrapping_add_signed(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracedat::bytes::{Endian, Origin};

    fn option(flags: u32, cpus: &[&[(i64, i64, i64)]], fractions: Option<u64>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(7u64.to_le_bytes());
        b.extend(flags.to_le_bytes());
        b.extend((cpus.len() as u32).to_le_bytes());
        for samples in cpus {
            b.extend((samples.len() as u32).to_le_bytes());
            for field in 0..3 {
                for s in *samples {
                    b.extend([s.0, s.1, s.2][field].to_le_bytes());
                }
            }
        }
        if let Some(f) = fractions {
            for samples in cpus {
                for _ in *samples {
                    b.extend(f.to_le_bytes());
                }
            }
        }
        b
    }

    fn parse(data: &[u8]) -> Result<TimeShift, ImportError> {
        TimeShift::parse(&mut Reader::new(
            data,
            Endian::Little,
            Origin::file(100, "options"),
        ))
    }

    #[test]
    fn one_sample_adds_its_offset_and_cpus_without_samples_stay() {
        let t = parse(&option(0, &[&[(0, 500, 1)], &[]], None)).unwrap();
        assert_eq!(t.apply(0, 1_000), 1_500);
        assert_eq!(t.apply(1, 1_000), 1_000);
        assert_eq!(t.apply(9, 1_000), 1_000);
    }

    #[test]
    fn stepped_and_interpolated_offsets_follow_trace_cmd() {
        // Samples out of order and a duplicate time: sorted, the duplicate dropped.
        let samples: &[(i64, i64, i64)] = &[(2_000, -300, 1), (1_000, 100, 1), (1_000, 9, 1)];
        let stepped = parse(&option(0, &[samples], None)).unwrap();
        let interpolated = parse(&option(FLAG_INTERPOLATE, &[samples], None)).unwrap();
        // Between the samples: the earlier offset, or the line through both, rounded as
        // trace-cmd rounds: half the span added, then C's division toward zero (so a
        // falling offset lands one above the exact -100).
        assert_eq!(stepped.apply(0, 1_500), 1_600);
        assert_eq!(interpolated.apply(0, 1_500), 1_500 - 99);
        assert_eq!(interpolated.apply(0, 1_250), 1_250 + 1);
        // Outside them, the nearest pair extends.
        assert_eq!(stepped.apply(0, 500), 600);
        assert_eq!(interpolated.apply(0, 3_000), 3_000 - 699);
    }

    #[test]
    fn scaling_and_fraction_bits_scale_before_the_offset() {
        let t = parse(&option(0, &[&[(0, 10, 3), (100, 10, 3)]], Some(1))).unwrap();
        assert_eq!(t.apply(0, 50), 50 * 3 / 2 + 10);
    }

    #[test]
    fn a_sample_count_beyond_the_data_is_an_error_with_its_offset() {
        let mut data = option(0, &[&[(0, 1, 1)]], None);
        data[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = parse(&data).unwrap_err().to_string();
        assert!(e.contains("samples") && e.contains("byte 120"), "{e}");
    }
}
