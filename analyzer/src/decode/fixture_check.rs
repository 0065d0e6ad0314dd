/*!
Test helpers for decoders' fixtures: `analyzer/fixtures/decode/<format>/<name>.bin` holds the
bytes a real serializer wrote and `<name>.json` the document the decoder must read from them
(both written by the generator under `analyzer/fixtures/generators/`).
*/

use std::path::PathBuf;

use serde_json::Value;

use super::{DecodeError, Decoded};

fn dir(format: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode").join(format)
}

/// Every fixture of `format`, by name: its bytes and its expected document.
pub fn load(format: &str) -> Vec<(String, Vec<u8>, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(dir(format))
        .expect("the fixture directory")
        .filter_map(|e| {
            e.ok()?.file_name().into_string().ok()?.strip_suffix(".bin").map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let bytes =
                std::fs::read(dir(format).join(format!("{name}.bin"))).expect("fixture bytes");
            let json =
                std::fs::read(dir(format).join(format!("{name}.json"))).expect("fixture document");
            let doc = serde_json::from_slice(&json).expect("the fixture document is JSON");
            (name, bytes, doc)
        })
        .collect()
}

/// Decodes every fixture of `format` with `decode` and compares with its document; the number
/// of fixtures.
pub fn check_dir(format: &str, decode: impl Fn(&[u8]) -> Result<Decoded, DecodeError>) -> usize {
    let all = load(format);
    let mut failures = Vec::new();
    for (name, bytes, want) in &all {
        match decode(bytes) {
            Ok(d) if same(&d.doc, want) => {}
            Ok(d) => failures.push(format!("{name}: got {}\nwant {want}", d.doc)),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    all.len()
}

/// Equal documents; floats within a relative 1e-15 (serde_json's own float parsing, which
/// reads the expected documents, is not always correctly rounded).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

/// Feeds `decode` every truncation and many damaged copies of every fixture of `format`.
pub fn mutilate(format: &str, decode: impl Fn(&[u8])) {
    for (_, bytes, _) in load(format) {
        let step = bytes.len() / 512 + 1;
        for end in (0..bytes.len()).step_by(step) {
            decode(&bytes[..end]);
        }
        let mut copy = bytes.clone();
        for i in (0..bytes.len()).step_by(step) {
            for flip in [0xff, 0x01, 0x80, 0x7f] {
                copy[i] ^= flip;
                decode(&copy);
                copy[i] ^= flip;
            }
            // A byte set to each of a few values that mean something to some format.
            for set in [0u8, b'0', b'9', b':', b';', b'"', b'{', b'}', b'[', 0x70, 0x71, 0x73, 0x7e]
            {
                let was = copy[i];
                copy[i] = set;
                decode(&copy);
                copy[i] = was;
            }
        }
    }
}
