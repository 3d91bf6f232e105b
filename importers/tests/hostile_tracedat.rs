//! Small trace.dat files built by each test (a few hundred bytes to a few KiB), damaged the
//! ways a damaged file can be: a clear error naming the offset, or the data kept with a warning that
//! names it; never a panic or memory sized by a field.

#[path = "support/tracedat_writer.rs"]
mod writer;

use importers::ImportError;
use importers::tracedat::{Decompression, import_with};
use trace_model::EventStore;
use trace_model::report::Location;
use writer::{Built, Spec, build};

fn zstd(page: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(page, 1).unwrap()
}

fn zlib(page: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(page).unwrap();
    e.finish().unwrap()
}

fn import(bytes: &[u8]) -> Result<EventStore, ImportError> {
    import_with(bytes, Decompression::OnThisThread)
}

/// Each warning's text and where it was first seen.
fn warnings(store: &EventStore) -> Vec<(String, Location)> {
    (store.report.warnings.iter())
        .map(|(what, w)| (what.clone(), w.first[0]))
        .collect()
}

/// The byte offset of the first warning containing `part` (a warning about the input as
/// a whole counts as offset 0).
fn warned(store: &EventStore, part: &str) -> Option<u64> {
    let (_, at) = warnings(store)
        .into_iter()
        .find(|(w, _)| w.contains(part))?;
    Some(match at {
        Location::Byte(at) => at,
        Location::Input => 0,
        Location::Line(l) => panic!("{part}: line {l} in a binary file"),
    })
}

fn v7(compressed: bool) -> Spec {
    let mut spec = Spec::new(7, 2, 40);
    spec.compress = compressed.then_some(("zstd", zstd as writer::Compressor));
    spec
}

fn v7_zlib() -> Spec {
    let mut spec = Spec::new(7, 2, 40);
    spec.compress = Some(("zlib", zlib as writer::Compressor));
    spec
}

#[test]
fn the_written_files_read_whole_without_warnings() {
    for spec in [Spec::new(6, 2, 40), v7(false), v7(true), v7_zlib()] {
        let built = build(&spec);
        let store = import(&built.bytes).unwrap();
        assert_eq!(store.len(), built.events, "v{}", spec.version);
        assert_eq!(store.cpu_count(), 2);
        assert!(warnings(&store).is_empty(), "{:?}", warnings(&store));
    }
    assert!(build(&v7(false)).bytes.len() < 3000);
}

/// Events whose page (plain) or chunk (compressed: one page each) the file holds whole.
fn whole_pages_before(built: &Built, cut: usize, page: usize, compressed: bool) -> usize {
    let per_page = (page - 16) / 16;
    let per_cpu = built.events / built.streams.len();
    let pages_before = |&(at, size): &(usize, usize)| {
        if !compressed {
            return cut.saturating_sub(at).min(size) / page;
        }
        let mut pages = 0;
        let mut p = at + 4;
        while p + 8 <= at + size {
            let csize = u32::from_le_bytes(built.bytes[p..p + 4].try_into().unwrap()) as usize;
            p += 8 + csize;
            pages += usize::from(p <= cut);
        }
        pages
    };
    (built.streams.iter())
        .map(|s| (pages_before(s) * per_page).min(per_cpu))
        .sum()
}

#[test]
fn a_v7_file_cut_in_its_data_or_last_options_keeps_every_whole_page_before_the_cut() {
    for (compressed, spec) in [(false, v7(false)), (true, v7(true)), (true, v7_zlib())] {
        let built = build(&spec);
        let page = spec.page_size as usize;
        for cut in built.buffer_section_at + 16..built.bytes.len() {
            let store = import(&built.bytes[..cut])
                .unwrap_or_else(|e| panic!("compressed {compressed} cut {cut}: {e}"));
            let kept = whole_pages_before(&built, cut, page, compressed);
            assert!(
                store.len() >= kept && store.len() <= built.events,
                "compressed {compressed} cut {cut}: {} events, {kept} whole before the cut",
                store.len()
            );
            let at = warned(&store, "the options chain is cut")
                .unwrap_or_else(|| panic!("cut {cut}: {:?}", warnings(&store)));
            assert!(at <= cut as u64, "cut {cut}: warned at {at}");
            if cut < built.last_options_at {
                assert!(
                    warned(&store, "found in it by content").is_some()
                        || warned(&store, "before any CPU data").is_some(),
                    "cut {cut}: {:?}",
                    warnings(&store)
                );
            }
            if store.len() < built.events {
                // A stream cut short is a loss on its CPU; a CPU whose stream the file
                // lost whole is missing from the CPU count.
                assert!(
                    !store.meta.lost.is_empty()
                        || warned(&store, "CPUCOUNT says 2 CPUs").is_some()
                        || warned(&store, "before any CPU data").is_some(),
                    "compressed {compressed} cut {cut}: {:?}",
                    warnings(&store)
                );
            }
        }
    }
}

#[test]
fn a_file_cut_in_its_metadata_is_an_error_naming_an_offset() {
    for spec in [Spec::new(6, 2, 40), v7(true)] {
        let built = build(&spec);
        let metadata_end = match spec.version {
            6 => built.streams[0].0 - spec.page_size as usize,
            _ => built.buffer_section_at - 200,
        };
        for cut in 0..metadata_end {
            let Err(e) = import(&built.bytes[..cut]) else {
                panic!("v{} cut {cut} imports", spec.version);
            };
            let text = e.to_string();
            let at: u64 = text
                .strip_prefix("byte ")
                .and_then(|t| t.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("v{} cut {cut}: {text}", spec.version));
            assert!(at <= cut as u64, "v{} cut {cut}: {text}", spec.version);
        }
    }
}

#[test]
fn a_v6_file_cut_in_its_data_keeps_every_whole_page_before_the_cut() {
    let spec = Spec::new(6, 2, 40);
    let built = build(&spec);
    let page = spec.page_size as usize;
    for cut in built.streams[0].0..built.bytes.len() {
        let store = import(&built.bytes[..cut]).unwrap();
        let kept = whole_pages_before(&built, cut, page, false);
        assert!(store.len() >= kept, "cut {cut}: {} of {kept}", store.len());
        let at = warned(&store, "file ends").expect("the cut is warned");
        assert_eq!(at, cut as u64);
    }
}

#[test]
fn a_cpu_id_of_two_billion_is_a_dense_lane_with_a_warning() {
    let mut spec = v7(false);
    spec.listed = Some(vec![(0x7fff_ffff, 0), (5, 1)]);
    let built = build(&spec);
    let store = import(&built.bytes).unwrap();
    assert_eq!(store.len(), built.events);
    let ids: Vec<u32> = (0..store.cpu_count()).map(|l| store.cpu_id(l)).collect();
    assert_eq!(ids, [5, 0x7fff_ffff]);
    assert!(
        warned(&store, "numbered densely").is_some(),
        "{:?}",
        warnings(&store)
    );
}

#[test]
fn four_thousand_cpus_on_one_stream_are_read_once_with_a_warning() {
    for compressed in [false, true] {
        let mut spec = v7(compressed);
        spec.listed = Some((0..4096).map(|cpu| (cpu, 0)).collect());
        let built = build(&spec);
        for decompression in [Decompression::OnThisThread, Decompression::AheadOnThreads] {
            let store = import_with(&built.bytes, decompression).unwrap();
            assert_eq!(store.len(), 40, "CPU 0's events, once");
            assert!(warned(&store, "overlaps cpu 0's").is_some());
        }
    }
}

#[test]
fn a_page_size_header_page_contradicts_is_warned_and_read_as_header_page_says() {
    let built = build(&v7(false));
    let mut bytes = built.bytes.clone();
    bytes[built.buffer_page_size_at..][..4].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let store = import(&bytes).unwrap();
    assert_eq!(store.len(), built.events);
    assert!(
        warned(
            &store,
            "page size 1048576 but header_page describes pages of 256"
        )
        .is_some()
    );
}

#[test]
fn a_chunk_count_below_the_stated_size_is_a_loss_with_its_offset() {
    let built = build(&v7(true));
    let mut bytes = built.bytes.clone();
    let (at, _) = built.streams[0];
    bytes[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
    let store = import(&bytes).unwrap();
    assert_eq!(
        store.len(),
        built.events - 25,
        "CPU 0 keeps its first chunk's 15"
    );
    let w = warned(&store, "chunks end").expect("warned");
    assert!(w > at as u64 && w < built.streams[1].0 as u64, "{w}");
}

#[test]
fn a_buffer_option_pointing_at_another_section_is_an_error_naming_it() {
    let built = build(&v7(false));
    let mut bytes = built.bytes.clone();
    // The BUFFER option points at the first options section (id 0), not at a buffer.
    // After the magic, "7\0", byte order, long size, page size and "none\0\0".
    let first_options = u64::from_le_bytes(bytes[24..32].try_into().unwrap());
    bytes[built.buffer_option_at..][..8].copy_from_slice(&first_options.to_le_bytes());
    let Err(e) = import(&bytes) else {
        panic!("imports")
    };
    assert!(
        e.to_string().starts_with(&format!(
            "byte {first_options}: trace.dat buffer: section id 0, expected 3"
        )),
        "{e}"
    );
}

#[test]
fn a_cpu_count_above_the_buffers_and_unknown_options_are_warned() {
    let mut spec = v7(false);
    spec.listed = Some(vec![(0, 0)]);
    spec.extra_options = vec![(99, b"from a newer trace-cmd".to_vec())];
    let built = build(&spec);
    let store = import(&built.bytes).unwrap();
    assert_eq!(store.len(), 40);
    assert!(
        warned(
            &store,
            "CPUCOUNT says 2 CPUs, the CPU data has streams for 1"
        )
        .is_some()
    );
    let at = warned(&store, "1 options of unknown id skipped (the first: id 99)").expect("warned");
    let data = position_of(&built.bytes, b"from a newer trace-cmd");
    assert_eq!(at, data as u64);
}

#[test]
fn random_damage_to_a_small_file_never_panics() {
    // A fixed-seed xorshift picks bytes to damage: every outcome is an import or an error
    // with an offset.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for spec in [Spec::new(6, 2, 40), v7(false), v7(true), v7_zlib()] {
        let built = build(&spec);
        for _ in 0..2000 {
            let mut bytes = built.bytes.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if let Err(e) = import(&bytes) {
                assert!(e.to_string().starts_with("byte "), "{e}");
            }
        }
    }
}

fn position_of(haystack: &[u8], needle: &[u8]) -> usize {
    (haystack.windows(needle.len()))
        .position(|w| w == needle)
        .expect("present")
}

#[test]
fn a_cpucount_option_of_four_billion_is_a_warning_not_an_allocation() {
    let mut spec = v7(true);
    // Read after the writer's own CPUCOUNT, so it is the one that counts.
    spec.extra_options = vec![(8, u32::MAX.to_le_bytes().to_vec())];
    let built = build(&spec);
    let store = import(&built.bytes).unwrap();
    // The stated count is kept up to the documented maximum, as for text `#P:` headers.
    assert_eq!((store.len(), store.cpu_count()), (built.events, 8192));
    assert!(
        warned(&store, "CPU count above 8192").is_some(),
        "{:?}",
        warnings(&store)
    );
}
