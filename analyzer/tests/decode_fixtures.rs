//! The pickle, compression and MessagePack decoders on bytes made by the real Python
//! serializers (`analyzer/fixtures/generators/python.py`), and on every truncation and many byte
//! flips of them (no panic, whatever the bytes).

use std::path::{Path, PathBuf};

use cachetape_analyzer::decode::{self, Codec, Limits};
use cachetape_analyzer::normalize;
use serde_json::Value;

const DIRS: [&str; 6] = ["pickle", "django", "django-redis", "cachelib", "compress", "msgpack"];

fn fixtures() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode");
    let mut out = Vec::new();
    for dir in DIRS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no fixtures in {dir}");
        out.extend(files.into_iter().map(|p| (dir.to_string(), p)));
    }
    out
}

fn canonical(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        Value::String(s) => normalize::text(s.as_bytes(), &mut out),
        v => normalize::json(v, &mut out),
    }
    out
}

/// Where two documents differ (the fields of objects, else both).
fn diff(got: &Value, want: &Value) -> String {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut out = Vec::new();
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) if canonical(gv) == canonical(wv) && gv == wv => {}
                    gv => out.push(format!("{k}: got {gv:?} want {wv}")),
                }
            }
            out.extend(g.keys().filter(|k| !w.contains_key(*k)).map(|k| format!("{k}: extra")));
            out.join("; ")
        }
        _ => format!("got {got} want {want}"),
    }
}

/// The codec a rule would name for the fixture: `auto` but for MessagePack scalars, which have
/// no signature to detect.
fn codec(dir: &str, name: &str) -> Codec {
    if dir == "msgpack" && name.ends_with("_str") { Codec::Msgpack } else { Codec::Auto }
}

#[test]
fn every_fixture_decodes_to_its_document() {
    let mut failures = Vec::new();
    let all = fixtures();
    for (dir, bin) in &all {
        let name = bin.file_stem().unwrap().to_str().unwrap();
        let bytes = std::fs::read(bin).unwrap();
        let want: Value =
            serde_json::from_slice(&std::fs::read(bin.with_extension("json")).unwrap()).unwrap();
        for codec in
            [codec(dir, name), if dir == "msgpack" { Codec::Msgpack } else { Codec::Pickle }]
        {
            if codec == Codec::Pickle && dir == "compress" {
                continue;
            }
            match decode::decode(&bytes, codec, &Limits::default()) {
                // Exactly the document; the digits of an int (raw text) as the mapping compares.
                Ok(d) if d.doc == want => {}
                Ok(d) if d.codec == Codec::Raw && canonical(&d.doc) == canonical(&want) => {}
                Ok(d) => {
                    failures.push(format!("{dir}/{name} as {codec:?}: {}", diff(&d.doc, &want)))
                }
                Err(e) => failures.push(format!("{dir}/{name} as {codec:?}: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn compression_is_reported_and_detection_is_right() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode");
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    let l = Limits::default();
    for (file, layer) in [
        ("django-redis/zlib_order.bin", "zlib"),
        ("django-redis/gzip_order.bin", "gzip"),
        ("django-redis/lzma_big.bin", "xz"),
        ("django-redis/lz4_order.bin", "lz4"),
        ("django-redis/zstd_order.bin", "zstd"),
        ("msgpack/zstd_order.bin", "zstd"),
    ] {
        let d = decode::decode(&read(file), Codec::Auto, &l).unwrap();
        assert_eq!(d.compression.map(|c| c.name()), Some(layer), "{file}");
    }
    // Under its minimum length (100 bytes for lzma) a compressor leaves the pickle raw.
    let d = decode::decode(&read("django-redis/lzma_short.bin"), Codec::Auto, &l).unwrap();
    assert_eq!((d.compression, d.codec), (None, Codec::Pickle));
    assert_eq!(decode::detect(&read("cachelib/order.bin")), Some(Codec::Pickle));
    assert_eq!(decode::detect(&read("msgpack/identity_order.bin")), Some(Codec::Msgpack));
    assert_eq!(decode::detect(&read("django/int.bin")), None);
}

/// Truncations and byte flips (every position of the first 128 bytes, 64 more spread over the
/// rest) of every fixture, through `auto` and the fixture's own decoder: an answer, never a panic.
#[test]
fn damaged_fixtures_never_panic() {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    let mut runs = 0;
    for (dir, bin) in fixtures() {
        let own = if dir == "msgpack" { Codec::Msgpack } else { Codec::Pickle };
        let bytes = std::fs::read(&bin).unwrap();
        let stride = (bytes.len() / 64).max(1);
        let positions = (0..bytes.len()).filter(|&i| i < 128 || i % stride == 0);
        for i in positions {
            let mut flipped = bytes.clone();
            let mut bumped = bytes.clone();
            flipped[i] ^= 0xff;
            bumped[i] = bumped[i].wrapping_add(1);
            for input in [&bytes[..i], &flipped[..], &bumped[..]] {
                for codec in [Codec::Auto, own] {
                    let _ = decode::decode(input, codec, &limits);
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 10_000, "{runs}");
}

#[test]
fn hostile_pickles_are_errors() {
    let l = Limits::default();
    let bad: [&[u8]; 9] = [
        // LONG4 announcing 4 GiB.
        b"\x80\x05\x8b\xff\xff\xff\xff.",
        // BINUNICODE longer than the input.
        b"\x80\x04X\xff\xff\x00\x00ab.",
        // A list that contains itself.
        b"\x80\x02]q\x00h\x00a.",
        // A memo entry never stored.
        b"\x80\x02h\x07.",
        // Marks past max_depth.
        &[b'('; 200],
        // A call to an unknown function with two arguments.
        b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsK\x01\x86R.",
        // Persistent ids and out-of-band buffers.
        b"\x80\x02NQ.",
        b"\x80\x05\x97.",
        // No STOP.
        b"\x80\x05]",
    ];
    for b in bad {
        assert!(decode::decode(b, Codec::Pickle, &l).is_err(), "{b:?}");
    }
    // A list referenced 2^40 times over (each level holds the previous one twice).
    let mut bomb = b"\x80\x02]q\x00".to_vec();
    for i in 0..40u8 {
        bomb.extend_from_slice(&[b'h', i, b'h', i, 0x86, b'q', i + 1]);
    }
    bomb.push(b'.');
    let e = decode::decode(&bomb, Codec::Pickle, &l).unwrap_err();
    assert!(e.0.contains("limit") || e.0.contains("deep"), "{e}");
}
