#![allow(dead_code)] // each test binary that includes this uses part of it
//! A minimal trace.dat writer for tests: v6 or v7, little-endian, 64-bit, one event format
//! (`test/tick`, a 4-byte `value`), small pages, each CPU's events on pages of their own.
//! It lays the file out as trace-cmd does (v7: metadata sections, an options section, the
//! BUFFER section with each CPU's stream at a page boundary, then the options section with
//! the BUFFER option), and returns where the fields a test may damage are.

/// Compresses one chunk.
pub type Compressor = fn(&[u8]) -> Vec<u8>;

/// What to write.
pub struct Spec {
    pub version: u32,
    /// Each CPU's event times (ns, increasing), one event per time.
    pub cpus: Vec<Vec<u64>>,
    pub page_size: u32,
    /// v7: compress the CPU data in chunks of one page with this, named `.0`.
    pub compress: Option<(&'static str, Compressor)>,
    /// v7: the BUFFER option's entries as (CPU id, stream index); `None`: CPU i, stream i.
    pub listed: Option<Vec<(u32, usize)>>,
    /// v7: more options for the first options section, as (id, data).
    pub extra_options: Vec<(u16, Vec<u8>)>,
}

impl Spec {
    /// `cpus` CPUs with `events` events each, 1 µs apart, on 256-byte pages.
    pub fn new(version: u32, cpus: usize, events: usize) -> Spec {
        Spec {
            version,
            cpus: (0..cpus as u64)
                .map(|c| {
                    (0..events as u64)
                        .map(|i| 1_000_000 + i * 1000 + c)
                        .collect()
                })
                .collect(),
            page_size: 256,
            compress: None,
            listed: None,
            extra_options: Vec::new(),
        }
    }
}

/// The written file and the offsets of its fields.
pub struct Built {
    pub bytes: Vec<u8>,
    /// Each CPU's stream: file offset and size (v7 compressed: the chunk stream).
    pub streams: Vec<(usize, usize)>,
    /// v7: the BUFFER option's data (u64 section offset first), and its page size field.
    pub buffer_option_at: usize,
    pub buffer_page_size_at: usize,
    /// v7: the BUFFER section's header, and the last options section's.
    pub buffer_section_at: usize,
    pub last_options_at: usize,
    pub events: usize,
}

const FORMAT: &str = "name: tick\nID: 1\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n\
print fmt: \"value=%d\", REC->value\n";

fn header_page(page_size: u32) -> String {
    format!(
        "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
         \tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\
         \tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
         \tfield: char data;\toffset:16;\tsize:{};\tsigned:0;\n",
        page_size - 16
    )
}

const HEADER_EVENT: &str = "# compressed entry header\n\ttype_len    :    5 bits\n\
\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n\tpadding     : type == 29\n\
\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n";

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn u64le(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn sized64(out: &mut Vec<u8>, text: &[u8]) {
    u64le(out, text.len() as u64);
    out.extend_from_slice(text);
}
fn pad_to(out: &mut Vec<u8>, align: usize) {
    out.resize(out.len().div_ceil(align) * align, 0);
}

/// A CPU's events as ring-buffer pages: page time, commit, then 16-byte records (header
/// word with type_len 3 and the delta, 12 bytes of payload).
fn pages(times: &[u64], cpu: usize, page_size: usize) -> Vec<u8> {
    let per_page = (page_size - 16) / 16;
    let mut out = Vec::new();
    for chunk in times.chunks(per_page) {
        let start = out.len();
        u64le(&mut out, chunk[0]);
        u64le(&mut out, (chunk.len() * 16) as u64);
        let mut last = chunk[0];
        for (i, &ts) in chunk.iter().enumerate() {
            u32le(&mut out, 3 | (((ts - last) as u32) << 5));
            last = ts;
            u16le(&mut out, 1);
            out.extend_from_slice(&[0, 0]);
            u32le(&mut out, 100 + cpu as u32);
            u32le(&mut out, i as u32);
        }
        out.resize(start + page_size, 0);
    }
    out
}

/// v7 CPU data in chunks of one page: u32 count, then (u32 compressed size, u32 size, data).
fn chunks(data: &[u8], page_size: usize, compress: Compressor) -> Vec<u8> {
    let mut out = Vec::new();
    u32le(&mut out, data.len().div_ceil(page_size) as u32);
    for page in data.chunks(page_size) {
        let c = compress(page);
        u32le(&mut out, c.len() as u32);
        u32le(&mut out, page.len() as u32);
        out.extend_from_slice(&c);
    }
    out
}

fn event_formats(out: &mut Vec<u8>) {
    u32le(out, 1);
    out.extend_from_slice(b"test\0");
    u32le(out, 1);
    sized64(out, FORMAT.as_bytes());
}

/// Writes the file `spec` describes.
pub fn build(spec: &Spec) -> Built {
    let mut out = b"\x17\x08\x44tracing".to_vec();
    out.extend_from_slice(format!("{}\0", spec.version).as_bytes());
    out.extend_from_slice(&[0, 8]);
    u32le(&mut out, spec.page_size);
    let events = spec.cpus.iter().map(Vec::len).sum();
    let data: Vec<Vec<u8>> = (spec.cpus.iter().enumerate())
        .map(|(cpu, t)| pages(t, cpu, spec.page_size as usize))
        .collect();
    if spec.version == 6 {
        return build_v6(spec, out, &data, events);
    }
    build_v7(spec, out, &data, events)
}

fn build_v6(spec: &Spec, mut out: Vec<u8>, data: &[Vec<u8>], events: usize) -> Built {
    out.extend_from_slice(b"header_page\0");
    sized64(&mut out, header_page(spec.page_size).as_bytes());
    out.extend_from_slice(b"header_event\0");
    sized64(&mut out, HEADER_EVENT.as_bytes());
    u32le(&mut out, 0); // ftrace formats
    event_formats(&mut out);
    u32le(&mut out, 0); // kallsyms
    u32le(&mut out, 0); // printk
    u64le(&mut out, 0); // cmdlines
    u32le(&mut out, data.len() as u32);
    out.extend_from_slice(b"flyrecord\0");
    let table = out.len();
    out.resize(table + 16 * data.len(), 0);
    let mut streams = Vec::new();
    for (cpu, d) in data.iter().enumerate() {
        pad_to(&mut out, spec.page_size as usize);
        let at = out.len();
        streams.push((at, d.len()));
        out[table + 16 * cpu..][..8].copy_from_slice(&(at as u64).to_le_bytes());
        out[table + 16 * cpu + 8..][..8].copy_from_slice(&(d.len() as u64).to_le_bytes());
        out.extend_from_slice(d);
    }
    Built {
        bytes: out,
        streams,
        buffer_option_at: 0,
        buffer_page_size_at: 0,
        buffer_section_at: 0,
        last_options_at: 0,
        events,
    }
}

/// A v7 section: id, flags, description 0, size, body.
fn section(out: &mut Vec<u8>, id: u16, flags: u16, body: &[u8]) -> usize {
    let at = out.len();
    u16le(out, id);
    u16le(out, flags);
    u32le(out, 0);
    sized64(out, body);
    at
}

fn option(out: &mut Vec<u8>, id: u16, data: &[u8]) {
    u16le(out, id);
    u32le(out, data.len() as u32);
    out.extend_from_slice(data);
}

fn build_v7(spec: &Spec, mut out: Vec<u8>, data: &[Vec<u8>], events: usize) -> Built {
    let name = spec.compress.map_or("none", |c| c.0);
    out.extend_from_slice(format!("{name}\0\0").as_bytes());
    let first_options = out.len();
    u64le(&mut out, 0);
    let mut info = b"header_page\0".to_vec();
    sized64(&mut info, header_page(spec.page_size).as_bytes());
    info.extend_from_slice(b"header_event\0");
    sized64(&mut info, HEADER_EVENT.as_bytes());
    let info_at = section(&mut out, 16, 0, &info);
    let mut formats = Vec::new();
    event_formats(&mut formats);
    let formats_at = section(&mut out, 18, 0, &formats);

    // The first options section: where the metadata is, the CPU count, and (patched
    // below) the offset of the next options section.
    let mut list = Vec::new();
    option(&mut list, 16, &(info_at as u64).to_le_bytes());
    option(&mut list, 18, &(formats_at as u64).to_le_bytes());
    option(&mut list, 8, &(data.len() as u32).to_le_bytes());
    for (id, data) in &spec.extra_options {
        option(&mut list, *id, data);
    }
    option(&mut list, 0, &0u64.to_le_bytes());
    let options_at = section(&mut out, 0, 0, &list);
    out[first_options..][..8].copy_from_slice(&(options_at as u64).to_le_bytes());
    let next_at = out.len() - 8;

    let flags = u16::from(spec.compress.is_some());
    let buffer_section_at = section(&mut out, 3, flags, &[]);
    let mut streams = Vec::new();
    for d in data {
        pad_to(&mut out, spec.page_size as usize);
        let stream = match spec.compress {
            Some((_, c)) => chunks(d, spec.page_size as usize, c),
            None => d.clone(),
        };
        streams.push((out.len(), stream.len()));
        out.extend_from_slice(&stream);
    }
    let body = (out.len() - buffer_section_at - 16) as u64;
    out[buffer_section_at + 8..][..8].copy_from_slice(&body.to_le_bytes());

    let mut buffer = (buffer_section_at as u64).to_le_bytes().to_vec();
    buffer.extend_from_slice(b"\0local\0");
    let page_size_at = buffer.len();
    u32le(&mut buffer, spec.page_size);
    let listed = (spec.listed.clone())
        .unwrap_or_else(|| (0..streams.len()).map(|i| (i as u32, i)).collect());
    u32le(&mut buffer, listed.len() as u32);
    for (cpu, stream) in listed {
        let (offset, size) = streams[stream];
        u32le(&mut buffer, cpu);
        u64le(&mut buffer, offset as u64);
        u64le(&mut buffer, size as u64);
    }
    let mut list = Vec::new();
    option(&mut list, 3, &buffer);
    option(&mut list, 0, &0u64.to_le_bytes());
    let last_options_at = section(&mut out, 0, 0, &list);
    out[next_at..][..8].copy_from_slice(&(last_options_at as u64).to_le_bytes());
    // The BUFFER option's data starts after the section header and the option's id and size.
    let option_data = last_options_at + 16 + 6;
    Built {
        bytes: out,
        streams,
        buffer_option_at: option_data,
        buffer_page_size_at: option_data + page_size_at,
        buffer_section_at,
        last_options_at,
        events,
    }
}
