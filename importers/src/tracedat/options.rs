//! Options (v6 after the `options  ` tag, v7 in OPTIONS sections): what the file says about
//! the recording, where the v7 sections are, and how to convert timestamps.

use super::bytes::{Reader, lossy};
use super::time_shift::TimeShift;
use crate::ImportError;

/// Option ids (`enum tracecmd_option_id` of trace-cmd).
pub mod id {
    pub const DONE: u16 = 0;
    pub const DATE: u16 = 1;
    pub const CPUSTAT: u16 = 2;
    pub const BUFFER: u16 = 3;
    pub const TRACECLOCK: u16 = 4;
    pub const UNAME: u16 = 5;
    pub const HOOK: u16 = 6;
    pub const OFFSET: u16 = 7;
    pub const CPUCOUNT: u16 = 8;
    pub const VERSION: u16 = 9;
    pub const PROCMAPS: u16 = 10;
    pub const TRACEID: u16 = 11;
    pub const TIME_SHIFT: u16 = 12;
    pub const GUEST: u16 = 13;
    pub const TSC2NSEC: u16 = 14;
    pub const STRINGS: u16 = 15;
    pub const HEADER_INFO: u16 = 16;
    pub const FTRACE_EVENTS: u16 = 17;
    pub const EVENT_FORMATS: u16 = 18;
    pub const KALLSYMS: u16 = 19;
    pub const PRINTK: u16 = 20;
    pub const CMDLINES: u16 = 21;
    pub const BUFFER_TEXT: u16 = 22;
    pub const BTF_FILE: u16 = 23;
    pub const LAST_BOOT_INFO: u16 = 24;
    pub const MODULES_FILE: u16 = 25;
}

/// One CPU's data of a buffer: where it is in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuData {
    pub cpu: u32,
    pub offset: u64,
    pub size: u64,
}

/// A flyrecord or latency buffer (the top instance has the empty name).
#[derive(Clone, Debug, Default)]
pub struct Buffer {
    pub name: String,
    pub clock: Option<String>,
    /// v7: file offset of the buffer's section. v6: offset of its flyrecord table.
    pub offset: u64,
    pub page_size: Option<u32>,
    pub cpus: Vec<CpuData>,
    /// A BUFFER_TEXT (latency) buffer: ASCII, not pages.
    pub latency: bool,
}

/// TSC2NSEC: `ns = ((tsc - offset) * mult) >> shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tsc2Nsec {
    pub mult: u32,
    pub shift: u32,
    pub offset: u64,
}

/// Everything the options said.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// DATE (µs, converted to ns) plus OFFSET (ns): added to every timestamp.
    pub ts_offset_ns: i64,
    pub tsc2nsec: Option<Tsc2Nsec>,
    /// TIME_SHIFT: a guest recording's correction to the host clock.
    pub time_shift: Option<TimeShift>,
    pub cpustat: Vec<String>,
    pub buffers: Vec<Buffer>,
    /// v7 TRACECLOCK text; v6 sets `traceclock_follows` and the text comes later.
    pub trace_clock: Option<String>,
    pub traceclock_follows: bool,
    pub uname: Option<String>,
    pub cpu_count: Option<u32>,
    pub version: Option<String>,
    pub trace_id: Option<u64>,
    /// v7 section offsets, by section id.
    pub sections: Vec<(u16, u64)>,
    /// Options of unknown id, skipped by their size.
    pub unknown: u32,
    /// The first of them: its id and where its data is.
    pub first_unknown: Option<(u16, trace_model::Location)>,
}

impl Options {
    /// The v7 section with id `id`, if an option pointed to one.
    pub fn section(&self, id: u16) -> Option<u64> {
        self.sections.iter().find(|s| s.0 == id).map(|s| s.1)
    }

    /// Reads one list of options. v6 lists end with a bare id 0; v7 lists end with DONE,
    /// whose data is the offset of the next options section (returned, 0 = none).
    pub fn read_list(&mut self, r: &mut Reader<'_>, v7: bool) -> Result<u64, ImportError> {
        loop {
            let id = r.u16("option id")?;
            if id == id::DONE && !v7 {
                return Ok(0);
            }
            let size = r.u32("option size")?;
            let at = r.pos();
            let data = r.bytes(u64::from(size), "option data")?;
            let mut o = super::bytes::Reader::new(data, r.endian, r.origin);
            if id == id::DONE {
                return if data.is_empty() {
                    Ok(0)
                } else {
                    o.u64("next options offset")
                };
            }
            let unknown = self.unknown;
            self.read_one(id, data, &mut o, v7)
                .map_err(|e| r.origin.error(at, &format!("option {id}: {e}")))?;
            if self.unknown > unknown && self.first_unknown.is_none() {
                self.first_unknown = Some((id, r.origin.location(at)));
            }
        }
    }

    fn read_one(
        &mut self,
        id: u16,
        data: &[u8],
        o: &mut Reader<'_>,
        v7: bool,
    ) -> Result<(), String> {
        let text = || lossy(data).trim().to_owned();
        let e = |e: ImportError| e.to_string();
        match id {
            id::DATE => self.ts_offset_ns += parse_c_int(&text())? * 1000,
            id::OFFSET => self.ts_offset_ns += parse_c_int(&text())?,
            id::CPUSTAT => self.cpustat.push(text()),
            id::BUFFER if v7 => {
                let offset = o.u64("buffer offset").map_err(e)?;
                let name = o.cstring("buffer name").map_err(e)?;
                let clock = o.cstring("buffer clock").map_err(e)?;
                let page_size = o.u32("buffer page size").map_err(e)?;
                let count = o.u32("buffer cpu count").map_err(e)?;
                // 20 bytes per CPU: check before allocating.
                if u64::from(count) * 20 > o.remaining() as u64 {
                    return Err(format!("{count} CPUs do not fit in the option"));
                }
                let mut cpus = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    cpus.push(CpuData {
                        cpu: o.u32("cpu id").map_err(e)?,
                        offset: o.u64("cpu data offset").map_err(e)?,
                        size: o.u64("cpu data size").map_err(e)?,
                    });
                }
                self.buffers.push(Buffer {
                    name,
                    clock: Some(clock),
                    offset,
                    page_size: Some(page_size),
                    cpus,
                    latency: false,
                });
            }
            id::BUFFER => {
                let offset = o.u64("buffer offset").map_err(e)?;
                let name = o.cstring("buffer name").map_err(e)?;
                self.buffers.push(Buffer {
                    name,
                    offset,
                    ..Buffer::default()
                });
            }
            id::BUFFER_TEXT => {
                let offset = o.u64("buffer offset").map_err(e)?;
                let name = o.cstring("buffer name").map_err(e)?;
                let clock = o.cstring("buffer clock").ok();
                self.buffers.push(Buffer {
                    name,
                    clock,
                    offset,
                    latency: true,
                    ..Buffer::default()
                });
            }
            id::TRACECLOCK if data.is_empty() => self.traceclock_follows = true,
            id::TRACECLOCK => self.trace_clock = Some(text()),
            id::UNAME => self.uname = Some(text()),
            id::CPUCOUNT => self.cpu_count = Some(o.u32("cpu count").map_err(e)?),
            id::VERSION => self.version = Some(text()),
            id::TRACEID => self.trace_id = Some(o.u64("trace id").map_err(e)?),
            id::TIME_SHIFT => self.time_shift = Some(TimeShift::parse(o).map_err(e)?),
            id::TSC2NSEC => {
                self.tsc2nsec = Some(Tsc2Nsec {
                    mult: o.u32("mult").map_err(e)?,
                    shift: o.u32("shift").map_err(e)?,
                    offset: o.u64("offset").map_err(e)?,
                })
            }
            id::STRINGS..=id::CMDLINES | id::BTF_FILE | id::MODULES_FILE => {
                let offset = o.u64("section offset").map_err(e)?;
                self.sections.push((id, offset));
            }
            id::HOOK | id::PROCMAPS | id::GUEST | id::LAST_BOOT_INFO => {}
            _ => self.unknown += 1,
        }
        Ok(())
    }

    /// The kernel release from UNAME (`Linux host 6.1.0-56-amd64 x86_64` -> third word).
    pub fn kernel_release(&self) -> Option<&str> {
        self.uname.as_deref()?.split_whitespace().nth(2)
    }
}

/// A C integer literal as `strtoll(s, NULL, 0)` reads it: decimal, `0x` hex, `0` octal.
fn parse_c_int(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(hex) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8)
    } else {
        body.parse()
    }
    .map_err(|_| format!("{s:?} is not a number"))?;
    Ok(if neg { -v } else { v })
}

/// (cpu, events overwritten) from a CPUSTAT text (`CPU: 1` ... `overrun: 12`), when
/// the ring buffer overran.
pub fn overrun(cpustat: &str) -> Option<(u32, u64)> {
    let value = |key: &str| {
        cpustat
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    let overrun: u64 = value("overrun:")?;
    (overrun > 0).then_some((value("CPU:")? as u32, overrun))
}

/// The clock in use from `trace_clock` text (`local [global] counter`).
pub fn selected_clock(text: &str) -> Option<String> {
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(text[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tracedat::bytes::{Endian, Origin};

    fn option(list: &mut Vec<u8>, id: u16, data: &[u8]) {
        list.extend_from_slice(&id.to_le_bytes());
        list.extend_from_slice(&(data.len() as u32).to_le_bytes());
        list.extend_from_slice(data);
    }

    #[test]
    fn a_v7_list_with_buffers_time_options_and_an_unknown_id() {
        let mut list = Vec::new();
        option(&mut list, id::DATE, b"0x10\0");
        option(&mut list, id::OFFSET, b"-5\0");
        let mut tsc = 3u32.to_le_bytes().to_vec();
        tsc.extend_from_slice(&1u32.to_le_bytes());
        tsc.extend_from_slice(&7u64.to_le_bytes());
        option(&mut list, id::TSC2NSEC, &tsc);
        option(&mut list, 99, b"whatever");
        let mut buf = 0x1000u64.to_le_bytes().to_vec();
        buf.extend_from_slice(b"inst\0mono\0");
        buf.extend_from_slice(&4096u32.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&0x2000u64.to_le_bytes());
        buf.extend_from_slice(&0x300u64.to_le_bytes());
        option(&mut list, id::BUFFER, &buf);
        option(&mut list, id::CPUCOUNT, &4u32.to_le_bytes());
        option(&mut list, id::UNAME, b"Linux host 6.14.0-rc7 x86_64\0");
        option(&mut list, id::KALLSYMS, &0x99u64.to_le_bytes());
        option(&mut list, id::DONE, &0x5000u64.to_le_bytes());
        let mut o = Options::default();
        let mut r = Reader::new(&list, Endian::Little, Origin::file(0, "options"));
        assert_eq!(o.read_list(&mut r, true).unwrap(), 0x5000);
        assert_eq!(o.ts_offset_ns, 16_000 - 5);
        assert_eq!(
            o.tsc2nsec,
            Some(Tsc2Nsec {
                mult: 3,
                shift: 1,
                offset: 7
            })
        );
        assert_eq!(o.unknown, 1);
        assert_eq!(o.buffers.len(), 1);
        let b = &o.buffers[0];
        assert_eq!(
            (b.name.as_str(), b.clock.as_deref(), b.offset),
            ("inst", Some("mono"), 0x1000)
        );
        assert_eq!(
            b.cpus,
            [CpuData {
                cpu: 2,
                offset: 0x2000,
                size: 0x300
            }]
        );
        assert_eq!(o.cpu_count, Some(4));
        assert_eq!(o.kernel_release(), Some("6.14.0-rc7"));
        assert_eq!(o.section(id::KALLSYMS), Some(0x99));
    }

    #[test]
    fn an_option_running_past_its_list_names_its_offset() {
        let mut list = Vec::new();
        option(&mut list, id::UNAME, b"Linux");
        list.truncate(list.len() - 2);
        let mut r = Reader::new(&list, Endian::Little, Origin::file(1000, "options"));
        let e = Options::default().read_list(&mut r, true).unwrap_err();
        assert!(
            e.to_string().starts_with("byte 1006: trace.dat options"),
            "{e}"
        );
    }

    #[test]
    fn cpustat_overruns() {
        let stat = "CPU: 2\nentries: 10\noverrun: 7\ncommit overrun: 0\n";
        assert_eq!(overrun(stat), Some((2, 7)));
        assert_eq!(overrun("CPU: 0\noverrun: 0\n"), None);
    }

    #[test]
    fn c_integers_and_clock() {
        assert_eq!(parse_c_int("0x10"), Ok(16));
        assert_eq!(parse_c_int("-25"), Ok(-25));
        assert!(parse_c_int("x").is_err());
        assert_eq!(
            selected_clock("local [global] counter\n").as_deref(),
            Some("global")
        );
    }
}
