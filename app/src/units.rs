//! Durations and counts as kctx prints them, in the window and in the CLI's tables, and
//! durations as the CLI reads them.

pub use analysis::counted;

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

/// A duration as a user writes it: a number and a unit, `850ns`, `100us` (or `µs`), `1.5ms`,
/// `2s`; nanoseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}`: give a unit (ns, us, ms or s)"))?;
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (ns, us, ms or s)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: not a number before the unit"))?;
    let ns = value * scale;
    if ns.is_finite() && ns < u64::MAX as f64 {
        Ok(ns.round() as u64)
    } else {
        Err(format!("`{text}`: too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular() {
        assert_eq!(counted(1, "finding"), "1 finding");
        assert_eq!(counted(0, "finding"), "0 findings");
        assert_eq!(counted(1589, "time"), "1589 times");
    }

    #[test]
    fn durations_carry_their_unit() {
        assert_eq!(format_duration(850.0), "850 ns");
        assert_eq!(format_duration(12_400.0), "12.400 µs");
        assert_eq!(format_duration(3_200_000.0), "3.200 ms");
        assert_eq!(format_duration(1.5e9), "1.500000 s");
    }

    #[test]
    fn durations_are_read_with_their_unit() {
        assert_eq!(parse_duration("850ns"), Ok(850));
        assert_eq!(parse_duration("100us"), Ok(100_000));
        assert_eq!(parse_duration("100 µs"), Ok(100_000));
        assert_eq!(parse_duration("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_duration("2s"), Ok(2_000_000_000));
        for bad in ["100", "ms", "1.2.3ms", "5min", "-3us", "1e30s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
