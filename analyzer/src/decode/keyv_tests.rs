/*!
Tests of the Keyv decoder on the bytes @keyv/redis wrote (`analyzer/fixtures/decode/keyv/`,
made by `analyzer/fixtures/generators/node/keyv.mjs`).
*/

use super::*;
use crate::decode;
use std::path::PathBuf;

fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode/keyv");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/decode/keyv")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".bin").map(str::to_string))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let bin = std::fs::read(dir.join(format!("{n}.bin"))).unwrap();
            let meta = std::fs::read(dir.join(format!("{n}.json"))).unwrap();
            (n, bin, serde_json::from_slice(&meta).unwrap())
        })
        .collect()
}

#[test]
fn every_fixture_decodes_to_its_document_and_expiry() {
    let all = fixtures();
    assert!(all.len() >= 10, "{} fixtures", all.len());
    for (name, bin, meta) in all {
        assert!(looks_like(&bin), "{name}");
        let d = decode(&bin, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.doc, meta["doc"], "{name}");
        assert_eq!(d.expires_ms, meta["expires_ms"].as_i64(), "{name}");
        assert_eq!((d.codec, d.format), (Codec::Keyv, "keyv envelope"));
        // `auto` finds the envelope too.
        let auto = decode::decode(&bin, Codec::Auto, &Limits::default()).unwrap();
        assert_eq!((auto.doc, auto.expires_ms), (d.doc, d.expires_ms), "{name}");
    }
}

#[test]
fn escapes_are_undone_as_keyv_serialize_does() {
    let d = decode(
        br#"{"value":{"a":"::x",":k":":base64:aGk=","b":":base64:aGk","c":"a:b"},"expires":1.5}"#,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(d.doc, serde_json::json!({"a": ":x", ":k": "hi", "b": "hi", "c": "a:b"}));
    assert_eq!(d.expires_ms, Some(1));
    // Keyv 6's BigInt; a malformed one is an escaped string.
    let d = decode(br#"{"value":[":bigint:-12",":bigint:1x"]}"#, &Limits::default()).unwrap();
    assert_eq!(d.doc, serde_json::json!(["-12", "bigint:1x"]));
    let d = decode(br#" { "expires" : null , "value" : [":base64:_-8"] } "#, &Limits::default());
    assert_eq!(d.unwrap().doc, serde_json::json!(["\u{fffd}\u{fffd}"]));
    // Keyv 5 with an undefined value writes no `value`.
    let d = decode(br#"{"expires":5}"#, &Limits::default()).unwrap();
    assert_eq!((d.doc, d.expires_ms), (Value::Null, Some(5)));
}

#[test]
fn what_is_not_an_envelope_is_refused() {
    for text in [
        &br#"{"id":1,"value":2}"#[..],
        br#"{"value":1,"expires":2,"other":3}"#,
        br#"{"value":1,"value":2}"#,
        br#"{"value":1,"expires":"soon"}"#,
        br#"{"value":1,"expires":1e300}"#,
        br#"{"value":1"#,
        br#"{"value":1} x"#,
        br#"["value",1]"#,
        br#"{}"#,
        b"",
        b"\"value\"",
        b"{\"value\"",
    ] {
        assert!(decode(text, &Limits::default()).is_err(), "{}", String::from_utf8_lossy(text));
    }
    // A plain document that starts with another key is refused before any parse.
    assert!(!looks_like(br#"{"id":1,"value":2}"#));
}

#[test]
fn limits_are_kept() {
    let deep = format!("{{\"value\":{}1{}}}", "[".repeat(10), "]".repeat(10));
    let small = Limits { max_bytes: 1 << 20, max_depth: 5 };
    assert_eq!(decode(deep.as_bytes(), &small), Err(TOO_DEEP));
    assert!(decode(deep.as_bytes(), &Limits::default()).is_ok());
    let tiny = Limits { max_bytes: 8, max_depth: 5 };
    assert_eq!(decode(br#"{"value":1}"#, &tiny), Err(TOO_BIG));
    let b64 = format!("{{\"value\":\":base64:{}\"}}", "_".repeat(40));
    let budget = Limits { max_bytes: b64.len(), max_depth: 5 };
    // 30 invalid bytes grow to 90 bytes of U+FFFD, past the budget.
    assert_eq!(decode(b64.as_bytes(), &budget), Err(TOO_BIG));
}
