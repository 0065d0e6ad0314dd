/*!
Projections of what frameworks write, on generated fixtures: Keyv envelopes
(`fixtures/decode/keyv/`, by the real @keyv/redis) under rules with and without dotted paths,
and .NET `IDistributedCache` hashes (`fixtures/decode/dotnet/`, the commands RedisCache issues,
replayed by a script: see its header).
*/

use super::*;
use crate::mapping::{Mapping, ValueTable};
use cachetape_tape::Value as DbValue;
use std::collections::BTreeMap;

fn rule(text: &str) -> Rule {
    Mapping::parse(text).unwrap().rules.remove(0)
}

fn fixture_dir(kind: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode").join(kind)
}

fn keyv(name: &str) -> (Vec<u8>, Value) {
    let dir = fixture_dir("keyv");
    let bin = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
    let meta = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
    (bin, serde_json::from_slice(&meta).unwrap())
}

fn dotnet(name: &str) -> (BTreeMap<String, String>, Value) {
    let dir = fixture_dir("dotnet");
    let hash = std::fs::read(dir.join(format!("{name}.hash.json"))).unwrap();
    let meta = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
    (serde_json::from_slice(&hash).unwrap(), serde_json::from_slice(&meta).unwrap())
}

const ORDER_JSON: &str =
    "[[rule]]\nkey = \"order:{id}\"\ntable = \"s.o\"\njson = [\"id\", \"status\", \"total\"]\n";

#[test]
fn a_keyv_envelope_needs_no_dotted_path() {
    let r = rule(ORDER_JSON);
    for name in ["order_ttl", "order_no_ttl", "cache_manager", "cache_manager_no_ttl"] {
        let (bin, meta) = keyv(name);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let p = r.project_string(&bin, &mut got).unwrap();
        // What the inner document projects to when cached as plain JSON.
        let inner = serde_json::to_vec(&meta["doc"]).unwrap();
        assert_eq!(r.project_string(&inner, &mut want), Ok(Projected::default()));
        assert_eq!(got, want, "{name}");
        assert_eq!(p.expires_ms, meta["expires_ms"].as_i64(), "{name}");
    }
}

#[test]
fn dotted_paths_reach_into_nested_objects_and_envelopes() {
    // The envelope named explicitly: `value.status`; its expiry is still the framework's.
    let dotted = rule(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"s.o\"\n\
         json = { \"value.status\" = \"status\", \"value.customer.name\" = \"name\" }\n",
    );
    let (bin, meta) = keyv("order_ttl");
    let mut table = ValueTable::default();
    let mut buf = Vec::new();
    let p = dotted.project_string(&bin, &mut buf).unwrap();
    assert_eq!(p.expires_ms, meta["expires_ms"].as_i64());
    let id = table.intern(&buf);
    assert_eq!(table.display(id, &dotted), "value.customer.name=Ann value.status=PAID");
    // The same paths without the envelope's `value.` on a plain nested document.
    let nested = rule(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"s.o\"\n\
         json = { \"status\" = \"status\", \"customer.name\" = \"name\" }\n",
    );
    let plain = serde_json::to_vec(&meta["doc"]).unwrap();
    let p = nested.project_string(&plain, &mut buf).unwrap();
    assert_eq!(p, Projected::default());
    let id = table.intern(&buf);
    assert_eq!(table.display(id, &nested), "customer.name=Ann status=PAID");
    // …and on the envelope under `auto`: the inner document, with the expiry.
    let p = nested.project_string(&bin, &mut buf).unwrap();
    assert_eq!(p.expires_ms, meta["expires_ms"].as_i64());
    let id = table.intern(&buf);
    assert_eq!(table.display(id, &nested), "customer.name=Ann status=PAID");
    // A path that leads nowhere is a missing field.
    let none = rule("[[rule]]\nkey = \"o:{id}\"\ntable = \"s.o\"\njson = [\"a.b.c\"]\n");
    assert!(none.project_string(br#"{"a":{"b":1}}"#, &mut buf).is_err());
}

#[test]
fn a_keyv_string_or_number_projects_onto_a_column() {
    let views = rule("[[rule]]\nkey = \"views:{id}\"\ntable = \"s.v\"\ncolumn = \"views\"\n");
    let (bin, meta) = keyv("number_value");
    let mut table = ValueTable::default();
    let mut buf = Vec::new();
    let p = views.project_string(&bin, &mut buf).unwrap();
    assert_eq!(p.expires_ms, meta["expires_ms"].as_i64());
    let cached = table.intern(&buf);
    let image =
        cachetape_testkit::trace::image([("id", DbValue::Int(1)), ("views", DbValue::Int(42))]);
    views.project_row(&image, &mut buf);
    let db = table.intern(&buf);
    assert!(table.agrees(cached, db));
    // A string is its text, as a plain string value would be.
    let (bin, _) = keyv("colon_string_value");
    views.project_string(&bin, &mut buf).unwrap();
    let mut want = Vec::new();
    views.project_string(b":hello", &mut want).unwrap();
    assert_eq!(buf, want);
}

#[test]
fn a_json_string_inside_an_envelope_is_its_document() {
    let r = rule("[[rule]]\nkey = \"order:{id}\"\ntable = \"s.o\"\njson = [\"id\", \"status\"]\n");
    let (bin, meta) = keyv("json_string_value");
    let mut table = ValueTable::default();
    let mut buf = Vec::new();
    let p = r.project_string(&bin, &mut buf).unwrap();
    assert_eq!(p.expires_ms, meta["expires_ms"].as_i64());
    let id = table.intern(&buf);
    assert_eq!(table.display(id, &r), "id=6 status=SHIPPED");
}

#[test]
fn a_dotnet_distributed_cache_hash_projects_its_data_with_absexp() {
    let r = rule(
        "[[rule]]\nkey = \"shop:order:{id}\"\ntable = \"s.o\"\njson = { Id = \"id\", Status = \"status\" }\n",
    );
    let names = [
        "net9_absolute",
        "net9_sliding",
        "net9_both",
        "net9_none",
        "lua_absolute",
        "lua_hmset_sliding",
    ];
    for name in names {
        let (hash, meta) = dotnet(name);
        let get = |f: &[u8]| hash.get(std::str::from_utf8(f).ok()?).map(|v| v.as_bytes());
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let p = r.project_hash(get, &mut got).unwrap();
        assert_eq!(p.expires_ms, meta["expires_ms"].as_i64(), "{name}");
        r.project_string(hash["data"].as_bytes(), &mut want).unwrap();
        assert_eq!(got, want, "{name}");
        // A field read of `data` alone (HGET key data): the payload, no expiry known.
        let data_only = |f: &[u8]| (f == b"data").then(|| hash["data"].as_bytes());
        assert_eq!(r.project_hash(data_only, &mut got), Ok(Projected::default()), "{name}");
        assert_eq!(got, want, "{name}");
    }
    // A hash without `data` under a JSON rule is not comparable; a hash rule reads its fields.
    let (hash, _) = dotnet("net9_absolute");
    let meta_only = |f: &[u8]| (f == b"absexp").then(|| hash["absexp"].as_bytes());
    assert!(r.project_hash(meta_only, &mut Vec::new()).is_err());
    let fields =
        rule("[[rule]]\nkey = \"shop:order:{id}\"\ntable = \"s.o\"\nhash = [\"absexp\"]\n");
    let get = |f: &[u8]| hash.get(std::str::from_utf8(f).ok()?).map(|v| v.as_bytes());
    assert_eq!(fields.project_hash(get, &mut Vec::new()), Ok(Projected::default()));
}

#[test]
fn dotnet_ticks_convert_to_unix_ms() {
    assert_eq!(dotnet_ticks_ms(b"621355968000000000"), Some(0));
    assert_eq!(dotnet_ticks_ms(b"621355968000009999"), Some(0));
    assert_eq!(dotnet_ticks_ms(b"621355967999990000"), Some(-1));
    assert_eq!(dotnet_ticks_ms(b"-1"), None);
    assert_eq!(dotnet_ticks_ms(b"soon"), None);
    assert_eq!(dotnet_ticks_ms(b"99999999999999999999"), None);
    assert_eq!(dotnet_ticks_ms(b"0"), Some(-62_135_596_800_000));
}

/// The fixtures of datetimes in a named zone (`Europe/Paris`, `America/New_York`,
/// `Asia/Kathmandu`), each as its serializer wrote it: Python pickles of `ZoneInfo` datetimes,
/// PHP `DateTime`s and Carbon, Java's `ZonedDateTime`, Rails' `TimeWithZone`.
const ZONED: &[(&str, &str)] = &[
    ("pickle", "p5_datetime_zoneinfo"),
    ("pickle", "p5_zoned_winter"),
    ("pickle", "p5_zoned_fold0"),
    ("pickle", "p5_zoned_fold1"),
    ("pickle", "p5_zoned_gap"),
    ("pickle", "p5_zoned_new_york"),
    ("pickle", "p5_zoned_kathmandu"),
    ("php", "datetime_named_zone"),
    ("php", "datetime_named_zone_summer"),
    ("php", "datetime_named_zone_west"),
    ("php", "datetime_named_zone_odd"),
    ("php", "datetime_named_zone_repeated"),
    ("php", "carbon_named_zone"),
    ("jdk", "zoned_date_time"),
    ("marshal", "as61_time_with_zone"),
    ("marshal", "as72_time_with_zone"),
];

#[test]
fn a_datetime_in_a_named_zone_equals_the_sql_value_of_its_instant() {
    let at = rule("[[rule]]\nkey = \"at:{id}\"\ntable = \"s.t\"\ncolumn = \"at\"\n");
    for (kind, name) in ZONED {
        let dir = fixture_dir(kind);
        let bin = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let doc = meta.get("doc").unwrap_or(&meta).as_str().unwrap().to_string();
        // The instant the serializer's own rendering names, as a UTC DATETIME(6).
        let instant: jiff::Timestamp = doc.parse().unwrap_or_else(|e| panic!("{name}: {doc}: {e}"));
        let utc = jiff::tz::TimeZone::UTC.to_datetime(instant);
        let column = DbValue::DateTime(cachetape_tape::DateTime {
            year: utc.year() as u16,
            month: utc.month() as u8,
            day: utc.day() as u8,
            hour: utc.hour() as u8,
            minute: utc.minute() as u8,
            second: utc.second() as u8,
            micros: (utc.subsec_nanosecond() / 1000) as u32,
        });
        let mut table = ValueTable::default();
        let mut buf = Vec::new();
        at.project_string(&bin, &mut buf).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
        let cached = table.intern(&buf);
        let image =
            cachetape_testkit::trace::image([("id", DbValue::Int(1)), ("at", column.clone())]);
        at.project_row(&image, &mut buf);
        let db = table.intern(&buf);
        assert!(table.agrees(cached, db), "{kind}/{name}: {doc} vs {column:?}");
    }
}
