//! Rails cache entries written by the real `ActiveSupport::Cache` classes
//! (`analyzer/fixtures/generators/ruby.rb`), and every fixture mangled.

use serde_json::Value;

use super::*;
use crate::decode::marshal::tests::fixtures;

#[test]
fn every_rails_fixture_reads_as_rails_wrote_it() {
    let all = fixtures("rails");
    for (name, bytes, want) in &all {
        assert!(looks_like(bytes), "{name}");
        assert_eq!(crate::decode::detect(bytes), Some(Codec::Rails), "{name}");
        let got = decode(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.doc, want["doc"], "{name}");
        assert_eq!(got.expires_ms, want["expires_ms"].as_i64(), "{name}");
        assert_eq!(got.format, want["format"].as_str().unwrap(), "{name}");
        assert_eq!(got.version.as_deref(), want["version"].as_str(), "{name}");
        let auto = crate::decode::decode(bytes, Codec::Auto, &Limits::default()).unwrap();
        assert_eq!(auto.doc, got.doc, "{name}");
    }
    // Every layout is covered by a real fixture.
    for format in [
        "rails 6.1 entry",
        "rails 7.0 entry",
        "rails 7.1 coder, marshal",
        "rails 7.1 coder, utf-8 string",
        "rails 7.1 coder, message pack",
    ] {
        assert!(all.iter().any(|(_, _, w)| w["format"] == format), "no fixture for {format}");
    }
}

#[test]
fn a_records_entry_version_is_the_cache_version_of_its_updated_at() {
    // `Rails.cache.fetch(invoice)`: ActiveRecord's own cache_version, and the updated_at it
    // came from, as the generator wrote them.
    let all = fixtures("rails");
    let versioned: Vec<_> = all.iter().filter(|(_, _, w)| w.get("updated_at").is_some()).collect();
    assert!(versioned.len() >= 2, "{} fixtures with a cache_version", versioned.len());
    for (name, bytes, want) in versioned {
        let updated_at = want["updated_at"].as_str().unwrap();
        let t: jiff::Timestamp = updated_at.parse().unwrap();
        let c = jiff::tz::TimeZone::UTC.to_datetime(t);
        let column = cachetape_tape::Value::DateTime(cachetape_tape::DateTime {
            year: c.year() as u16,
            month: c.month() as u8,
            day: c.day() as u8,
            hour: c.hour() as u8,
            minute: c.minute() as u8,
            second: c.second() as u8,
            micros: (c.subsec_nanosecond() / 1000) as u32,
        });
        let entry = decode(bytes, &Limits::default()).unwrap().version;
        assert_eq!(cache_version(&column), entry, "{name}");
        let stamp = cachetape_tape::Value::Timestamp(t.as_microsecond());
        assert_eq!(cache_version(&stamp), entry, "{name}: a TIMESTAMP column");
    }
    assert_eq!(cache_version(&cachetape_tape::Value::Int(3)), None);
}

#[test]
fn records_in_entries_are_their_columns() {
    for (name, bytes, _) in fixtures("rails").iter().filter(|(n, ..)| n.ends_with("_record")) {
        let doc = decode(bytes, &Limits::default()).unwrap().doc;
        assert_eq!(doc["status"], "paid", "{name}");
        assert_eq!(doc["id"], 1, "{name}");
    }
}

#[test]
fn compressed_entries_stay_within_the_limits() {
    for (name, bytes, _) in fixtures("rails").iter().filter(|(n, ..)| n.contains("compressed")) {
        let small = Limits { max_bytes: 256, max_depth: 128 };
        assert!(decode(bytes, &small).is_err(), "{name}");
    }
}

/// Every fixture of both decoders, cut short at every length and with bytes flipped, through
/// every codec that could read it: an error or a document, never a panic.
#[test]
fn mangled_fixtures_never_panic() {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    let mut all = fixtures("marshal");
    all.extend(fixtures("rails"));
    for (_, bytes, _) in &all {
        let try_all = |b: &[u8]| {
            for codec in [Codec::Auto, Codec::Marshal, Codec::Rails] {
                let _ = crate::decode::decode(b, codec, &limits);
            }
        };
        let step = (bytes.len() / 120).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            try_all(&bytes[..cut]);
        }
        let mut b = bytes.clone();
        let stride = (b.len() / 80).max(1);
        for i in (0..b.len()).step_by(stride) {
            for x in [0x01u8, 0x80, 0xff] {
                b[i] ^= x;
                try_all(&b);
                b[i] ^= x;
            }
            let keep = b[i];
            for v in [0u8, 0x7f, 0xfb] {
                b[i] = v;
                try_all(&b);
            }
            b[i] = keep;
        }
    }
}

#[test]
fn the_coder_header_is_read_as_coder_rb_writes_it() {
    let (_, bytes, want) =
        fixtures("rails").into_iter().find(|(n, ..)| n.ends_with("coder_hash")).unwrap();
    assert_eq!(&bytes[..3], &[0x00, 0x11, 0x01]);
    assert_eq!(want["version"], Value::from("orders/50-20240501123015"));
    // A version length past the end is an error, not a panic.
    let mut b = bytes[..CODER_HEADER].to_vec();
    b[11..15].copy_from_slice(&i32::MAX.to_le_bytes());
    assert!(decode(&b, &Limits::default()).is_err());
}

/// Maps used as keys of maps, nested: each level's key is the JSON of the one below, its quotes
/// escaped again, so the text would double per level if keys were not charged (a fuzz finding).
#[test]
fn keys_nested_in_keys_are_charged() {
    let depth = 60;
    let mut b = vec![0xcc, 0x80];
    b.extend(std::iter::repeat_n(0x81, depth)); // maps of one pair, each key the next map
    b.extend_from_slice(&[0xa1, b'"', 0x01]);
    b.extend(std::iter::repeat_n(0x01, depth - 1));
    let limits = Limits { max_bytes: 1 << 20, max_depth: 128 };
    let err = decode(&b, &limits).unwrap_err();
    assert!(err.0.contains("size limit"), "{err}");
    // The same in Marshal: {{{…"\""=>1…}=>1}=>1}.
    let mut m = vec![4, 8];
    for _ in 0..depth {
        m.extend_from_slice(&[b'{', 6]);
    }
    m.extend_from_slice(&[b'"', 6, b'"']);
    m.extend(std::iter::repeat_n([b'i', 6], depth).flatten());
    let err = marshal::decode(&m, &limits).unwrap_err();
    assert!(err.0.contains("size limit"), "{err}");
}
