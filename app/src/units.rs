//! Durations as kctx prints them, in the window and in the CLI's tables.

/// A duration with a unit: `850 ns`, `12.4 µs`, `3.20 ms`, `1.500 s`.
pub fn format_duration(ns: f64) -> String {
    let a = ns.abs();
    if a < 1e3 {
        format!("{ns:.0} ns")
    } else if a < 1e6 {
        format!("{:.3} µs", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.6} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_carry_their_unit() {
        assert_eq!(format_duration(850.0), "850 ns");
        assert_eq!(format_duration(12_400.0), "12.400 µs");
        assert_eq!(format_duration(3_200_000.0), "3.200 ms");
        assert_eq!(format_duration(1.5e9), "1.500000 s");
    }
}
