//! The Marshal reader on fixtures written by Ruby's own `Marshal.dump`
//! (`analyzer/fixtures/generators/ruby.rb`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;

/// Every `<name>.bin` of a fixture directory with its `<name>.json`.
pub(crate) fn fixtures(dir: &str) -> Vec<(String, Vec<u8>, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode").join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", root.display());
    paths
        .into_iter()
        .map(|p| {
            let json = std::fs::read(p.with_extension("json")).expect("expected document");
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read(&p).expect("fixture"),
                serde_json::from_slice(&json).expect("json"),
            )
        })
        .collect()
}

#[test]
fn every_marshal_fixture_reads_as_ruby_wrote_it() {
    for (name, bytes, want) in fixtures("marshal") {
        assert!(looks_like(&bytes), "{name}");
        let got = decode(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.doc, want["doc"], "{name}");
        assert_eq!(got.codec, Codec::Marshal);
    }
}

#[test]
fn an_activerecord_model_is_its_columns() {
    for (name, bytes, _) in
        fixtures("marshal").into_iter().filter(|(n, ..)| n.contains("record_loaded"))
    {
        let doc = decode(&bytes, &Limits::default()).unwrap().doc;
        assert_eq!(doc["status"], "paid", "{name}");
        assert_eq!(doc["id"], 1, "{name}");
    }
}

#[test]
fn limits_hold() {
    let (_, bytes, _) = fixtures("marshal").into_iter().find(|(n, ..)| n == "nested").unwrap();
    let shallow = Limits { max_bytes: 1 << 20, max_depth: 3 };
    assert!(decode(&bytes, &shallow).is_err());
    let small = Limits { max_bytes: 64, max_depth: 128 };
    assert!(decode(&bytes, &small).is_err());
    // A_n = [A_{n-1}, A_{n-1}] with the second a link: 2^30 strings if links were free.
    let n = 30u8;
    let mut b = vec![4, 8];
    for _ in 0..n {
        b.extend_from_slice(&[b'[', 7]);
    }
    b.extend_from_slice(&[b'"', 15]);
    b.extend_from_slice(b"0123456789");
    b.extend_from_slice(&[b'@', n + 5]);
    for level in (1..n).rev() {
        b.extend_from_slice(&[b'@', level + 5]);
    }
    assert_eq!(
        decode(&b, &Limits::default()).unwrap_err().0,
        "a Marshal value is larger than the size limit"
    );
    // Within the budget the same stream is 2^n copies: the default is far short of that.
    let tiny = Limits { max_bytes: 1 << 30, max_depth: 8 };
    assert!(decode(&b, &tiny).is_err());
}

#[test]
fn lengths_past_the_input_are_refused_before_allocation() {
    // An array claiming 2^31 elements, a string claiming 2^31 bytes.
    assert!(decode(&[4, 8, b'[', 4, 0, 0, 0, 0x7f], &Limits::default()).is_err());
    assert!(decode(&[4, 8, b'"', 4, 0, 0, 0, 0x7f], &Limits::default()).is_err());
    assert!(decode(&[4, 8, b'[', 0xff, 0x00], &Limits::default()).is_err());
    assert!(decode(&[4, 8, b'@', 0], &Limits::default()).is_err());
    assert!(decode(&[4, 8, b';', 0], &Limits::default()).is_err());
}
