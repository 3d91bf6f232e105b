//! x86 `-d int` (target/i386/tcg/seg_helper.c `do_interrupt_all`).

use trace_model::qemu::QemuInterrupt;

/// `     0: v=ec e=0000 i=0 cpl=0 IP=0010:ffffffff81a592eb pc=ffffffff81a592eb SP=... CR2=...`.
pub fn parse_record(line: &str, number: u32) -> Option<QemuInterrupt> {
    let (seq, rest) = line.trim_start().split_once(": v=")?;
    let seq = seq.parse().ok()?;
    let mut record = QemuInterrupt {
        line: number,
        seq,
        vector: 0,
        error_code: 0,
        software: false,
        cpl: 0,
        pc: 0,
        cr2: None,
        rflags: None,
    };
    let mut fields = rest.split_whitespace();
    record.vector = u8::from_str_radix(fields.next()?, 16).ok()?;
    for field in fields {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        match key {
            "e" => record.error_code = u32::from_str_radix(value, 16).ok()?,
            "i" => record.software = value == "1",
            "cpl" => record.cpl = value.parse().ok()?,
            "pc" => record.pc = u64::from_str_radix(value, 16).ok()?,
            "CR2" => record.cr2 = u64::from_str_radix(value, 16).ok(),
            _ => {}
        }
    }
    Some(record)
}

/// `RIP=... RFL=00000246 [---Z-P-] CPL=0 ...` -> RFLAGS (`EIP=... EFL=` on 32-bit targets).
pub fn rflags(line: &str) -> Option<u32> {
    if !(line.starts_with("RIP=") || line.starts_with("EIP=")) {
        return None;
    }
    let value = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("RFL=").or_else(|| f.strip_prefix("EFL=")))?;
    u32::from_str_radix(value, 16).ok()
}

/// Register-dump and servicing lines that accompany each record.
pub fn is_dump_line(line: &str) -> bool {
    let Some((name, _)) = line.split_once('=') else {
        return line.trim().is_empty();
    };
    line.starts_with("Servicing ")
        || (name.len() <= 8
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_dump() {
        let r = parse_record(
            "    12: v=0e e=0002 i=0 cpl=3 IP=0033:000055d0 pc=000055d0 SP=002b:00007ffc CR2=000000002c75a730",
            7,
        )
        .unwrap();
        assert_eq!((r.seq, r.vector, r.error_code, r.cpl), (12, 0x0e, 2, 3));
        assert_eq!(r.cr2, Some(0x2c75a730));
        assert_eq!(
            rflags("RIP=ffffffff81a592eb RFL=00000246 [---Z-P-] CPL=0"),
            Some(0x246)
        );
        assert!(is_dump_line("R8 =0000000000000000 R9 =0000000000000007"));
        assert!(is_dump_line(
            "CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]"
        ));
        assert!(parse_record("Servicing hardware INT=0xec", 1).is_none());
    }
}
