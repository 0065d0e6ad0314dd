/*!
RESP by hand, for tests that talk to a private redis-server byte for byte: encoding a command,
reading one complete reply as the raw bytes the server sent.
*/

use std::io::BufRead;

/// Encodes a command as a RESP array of bulk strings.
pub fn resp_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one complete RESP2 reply (raw bytes, nested arrays included) into `out`.
pub fn read_resp(r: &mut impl BufRead, out: &mut Vec<u8>) {
    let start = out.len();
    r.read_until(b'\n', out).expect("read a RESP line");
    let line = String::from_utf8_lossy(&out[start..]).trim_end().to_string();
    match line.as_bytes().first() {
        Some(b'$') => {
            let n: i64 = line[1..].parse().unwrap();
            if n >= 0 {
                let mut buf = vec![0u8; n as usize + 2];
                std::io::Read::read_exact(r, &mut buf).unwrap();
                out.extend_from_slice(&buf);
            }
        }
        Some(b'*') => {
            let n: i64 = line[1..].parse().unwrap();
            for _ in 0..n.max(0) {
                read_resp(r, out);
            }
        }
        _ => {}
    }
}
