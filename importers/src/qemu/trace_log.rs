//! Trace-event `log` backend with `-msg timestamp=on` (QEMU <= 10.0):
//! `2986097@1753122905.917608:qcrypto_tls_creds_x509_load TLS creds x509 load creds=0x55d9...`.

use trace_model::qemu::QemuTraceEvent;

pub fn parse_line(line: &str, number: u32) -> Option<QemuTraceEvent> {
    let (tid, rest) = line.split_once('@')?;
    let host_tid = tid.parse().ok()?;
    let (stamp, event) = rest.split_once(':')?;
    let (secs, micros) = stamp.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || !digits(micros) {
        return None;
    }
    let (name, args) = event.split_once(' ').unwrap_or((event, ""));
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some(QemuTraceEvent {
        line: number,
        host_tid,
        ts: stamp.parse().ok()?,
        name: name.to_owned(),
        args: args.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_backend_line() {
        let e = parse_line("2986097@1753122905.917608:qcrypto_tls_creds_x509_load TLS creds x509 load creds=0x55d9", 3)
            .unwrap();
        assert_eq!(e.host_tid, 2986097);
        assert!((e.ts - 1753122905.917608).abs() < 1e-6);
        assert_eq!(e.name, "qcrypto_tls_creds_x509_load");
        assert_eq!(e.args, "TLS creds x509 load creds=0x55d9");
        assert!(parse_line("user@host:~$ ls", 1).is_none());
    }
}
