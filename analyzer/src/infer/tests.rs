/*!
Tests of `map --infer` on hand-built traces: key shapes of real frameworks, plain and nested JSON,
and values read through decoders.
*/

use cachetape_tape::{Event, Value};
use cachetape_testkit::trace::{TraceBuilder, cache_and_db, image, text};

use super::*;

const T0: i64 = 1_795_666_525_000_000;
const MS: i64 = 1_000;

/// `n` orders, each updated from NEW to PAID and then cached under `key(id)` as
/// `value(id, status, total)`.
fn orders(
    n: i64,
    key: impl Fn(i64) -> String,
    value: impl Fn(i64, &str, &str) -> Vec<u8>,
) -> Vec<Event> {
    let mut t = TraceBuilder::in_memory(&cache_and_db(T0));
    for id in 1..=n {
        let row = |status: &str, total: &str| {
            image([
                ("id", Value::Int(id)),
                ("status", text(status)),
                ("total", Value::Decimal(total.into())),
                ("customer", Value::Int(100 + id)),
            ])
        };
        t.update(id * 10 * MS, "shop.orders", row("NEW", "1.00"), row("PAID", "9.90"));
        let set = vec![b"SET".to_vec(), key(id).into_bytes(), value(id, "PAID", "9.90")];
        t.redis(id * 10 * MS + 5 * MS, "10.0.0.9:4000", set);
    }
    t.events()
}

fn infer(events: &[Event]) -> InferredMapping {
    let mut inference = Inference::default();
    for e in events {
        inference.push(e);
    }
    inference.finish()
}

fn json(id: i64, status: &str, total: &str) -> Vec<u8> {
    format!(r#"{{"id":{id},"status":"{status}","total":"{total}"}}"#).into_bytes()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
}

/// The one rule inferred, after a round trip through its TOML.
fn only_rule(m: &InferredMapping) -> Rule {
    assert_eq!(m.mapping.rules.len(), 1, "{}", m.to_toml("t"));
    let again = Mapping::parse(&m.mapping.to_toml()).expect("the inferred mapping parses");
    assert_eq!(again.rules[0], m.mapping.rules[0]);
    again.rules.into_iter().next().unwrap()
}

#[test]
fn plain_json_keeps_its_rule_and_evidence() {
    let m = infer(&orders(12, |id| format!("order:{id}"), json));
    let rule = only_rule(&m);
    assert_eq!(rule.key, "order:{id}");
    assert_eq!(
        rule.value,
        ValueShape::Json(pairs(&[("id", "id"), ("status", "status"), ("total", "total")]))
    );
    assert_eq!(rule.decode, Codec::Auto);
    assert_eq!(
        m.evidence[0],
        "order:{id} → shop.orders where id = {id}: 12 writes seen, 12 of 12 sampled name a row of \
         the table by id, 12 of those equal a JSON rendering of the row (fields id, status, total) \
         of a version of that row"
    );
}

#[test]
fn key_shapes_of_real_frameworks_infer_and_match() {
    let prefixes = [
        ":1:order:",                              // Django RedisCache, django-redis
        "flask_cache_order:",                     // Flask-Caching
        "keyv:order:",                            // Keyv / cache-manager
        "order/",                                 // Rails
        "shop:orders/",                           // Rails with a namespace
        "laravel_database_laravel_cache_:order:", // Laravel
        "orders::",                               // Spring RedisCacheManager
    ];
    for prefix in prefixes {
        let m = infer(&orders(5, |id| format!("{prefix}{id}"), json));
        let rule = only_rule(&m);
        assert_eq!(rule.key, format!("{prefix}{{id}}"));
        assert_eq!(rule.row, pairs(&[("id", "id")]));
        let mut holes = Vec::new();
        let key = format!("{prefix}50");
        assert!(rule.match_key(key.as_bytes(), &mut holes), "{key}");
        assert_eq!(holes, vec![&b"50"[..]], "{key}");
        assert!(!rule.match_key(format!("{prefix}50:items").as_bytes(), &mut holes), "{key}");
    }
}

#[test]
fn shapes_split_at_the_last_colon_or_slash() {
    assert_eq!(shape_of(b":1:order:50"), Some((&b":1:order:"[..], &b"50"[..])));
    assert_eq!(shape_of(b"orders::50"), Some((&b"orders::"[..], &b"50"[..])));
    assert_eq!(shape_of(b"shop:orders/50"), Some((&b"shop:orders/"[..], &b"50"[..])));
    assert_eq!(shape_of(b"order:"), None);
    assert_eq!(shape_of(b"order"), None);
    assert_eq!(shape_of(b":50"), Some((&b":"[..], &b"50"[..])));
}

#[test]
fn a_wrapper_object_maps_through_dotted_fields() {
    let wrapped = |id: i64, status: &str, total: &str| {
        let inner = String::from_utf8(json(id, status, total)).unwrap();
        format!(r#"{{"data":{inner},"v":3}}"#).into_bytes()
    };
    let m = infer(&orders(12, |id| format!("order:{id}"), wrapped));
    let rule = only_rule(&m);
    assert_eq!(
        rule.value,
        ValueShape::Json(pairs(&[
            ("data.id", "id"),
            ("data.status", "status"),
            ("data.total", "total")
        ]))
    );
    assert_eq!(rule.decode, Codec::Auto);
    assert!(m.to_toml("t").contains(
        r#"json = { "data.id" = "id", "data.status" = "status", "data.total" = "total" }"#
    ));
    assert_eq!(
        m.evidence[0],
        "order:{id} → shop.orders where id = {id}: 12 writes seen, 12 of 12 sampled decode as \
         json, 12 name a row of the table by id, 12 of those equal the fields (data.id → id, \
         data.status → status, data.total → total) of a version of that row"
    );
}

#[test]
fn top_level_fields_win_over_nested_ones() {
    // The row's fields at the top, an unrelated object beside them.
    let value = |id: i64, status: &str, total: &str| {
        format!(
            r#"{{"id":{id},"status":"{status}","total":"{total}","customer":{{"id":{},"status":"VIP"}}}}"#,
            100 + id
        )
        .into_bytes()
    };
    let m = infer(&orders(12, |id| format!("order:{id}"), value));
    let rule = only_rule(&m);
    assert_eq!(
        rule.value,
        ValueShape::Json(pairs(&[("id", "id"), ("status", "status"), ("total", "total")]))
    );
    assert!(m.evidence[0].contains("a JSON rendering of the row"), "{}", m.evidence[0]);
}

#[test]
fn stale_writes_still_equal_a_version_and_wrong_ones_are_counted() {
    // Every third write caches the row's old version (a stale set), every fifth a value that
    // never was the row's.
    let value = |id: i64, status: &str, total: &str| match (id % 3, id % 5) {
        (_, 0) => json(id, "LOST", total),
        (0, _) => json(id, "NEW", "1.00"),
        _ => json(id, status, total),
    };
    let wrapped = |id: i64, status: &str, total: &str| {
        let inner = String::from_utf8(value(id, status, total)).unwrap();
        format!(r#"{{"data":{inner}}}"#).into_bytes()
    };
    let m = infer(&orders(30, |id| format!("order:{id}"), wrapped));
    let rule = only_rule(&m);
    assert_eq!(rule.fields(), vec!["data.id", "data.total"]);
    assert!(
        m.evidence[0].contains("(fields left out, they often differ: data.status)"),
        "{}",
        m.evidence[0]
    );
    let m = infer(&orders(30, |id| format!("order:{id}"), value));
    assert!(m.evidence[0].contains("30 of 30 sampled name a row"), "{}", m.evidence[0]);
}

#[test]
fn a_family_naming_no_rows_is_listed_unmapped() {
    let m = infer(&orders(3, |id| format!("session:x{id}"), json));
    assert!(m.mapping.rules.is_empty());
    assert_eq!(
        m.unmapped,
        vec!["session:{…} (3 writes): no table's rows match its ids and values"]
    );
}

#[test]
fn a_single_column_value_stays_a_column_rule() {
    let m = infer(&orders(8, |id| format!("order:{id}:status"), |_, s, _| s.as_bytes().to_vec()));
    // The id is not the last segment: no rule, the family is listed.
    assert!(m.mapping.rules.is_empty());
    let m = infer(&orders(8, |id| format!("status:{id}"), |_, s, _| s.as_bytes().to_vec()));
    let rule = only_rule(&m);
    assert_eq!(rule.value, ValueShape::Column("status".into()));
    assert_eq!(rule.decode, Codec::Auto);
}

#[test]
fn fields_named_in_another_case_match_outside_the_plain_view() {
    // A .NET-style wrapper: PascalCase fields one level down.
    let value = |id: i64, status: &str, total: &str| {
        format!(r#"{{"Data":{{"Id":{id},"Status":"{status}","Total":{total}}},"Ver":1}}"#)
            .into_bytes()
    };
    let m = infer(&orders(6, |id| format!("shop:order:{id}"), value));
    let rule = only_rule(&m);
    assert_eq!(
        rule.value,
        ValueShape::Json(pairs(&[
            ("Data.Id", "id"),
            ("Data.Status", "status"),
            ("Data.Total", "total")
        ]))
    );
    // The plain view keeps exact names: a top-level `Status` beside `id` is not `status`.
    let value = |id: i64, status: &str, _: &str| format!(r#"{{"id":{id},"Status":"{status}"}}"#);
    let m = infer(&orders(6, |id| format!("order:{id}"), |i, s, t| value(i, s, t).into_bytes()));
    assert_eq!(only_rule(&m).value, ValueShape::Json(pairs(&[("id", "id")])));
}

#[test]
fn formats_are_counted_most_first() {
    let r = |label: &str| Some(Reading { label: label.into(), ..Reading::default() });
    assert_eq!(formats(&[r("pickle"), None, r("pickle")]), "pickle");
    assert_eq!(formats(&[r("text"), r("pickle"), r("pickle")]), "pickle (2), text (1)");
    assert_eq!(formats(&[None]), "nothing");
}

/// A decoder fixture (`analyzer/fixtures/decode/<path>.bin`, written by the real serializer) and
/// the document its `.json` says it decodes to.
fn fixture(path: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/decode/");
    let read = |ext: &str| {
        std::fs::read(format!("{dir}{path}{ext}"))
            .unwrap_or_else(|e| panic!("fixture {path}{ext}: {e}"))
    };
    let expected: serde_json::Value = serde_json::from_slice(&read(".json")).unwrap();
    let described =
        ["expires_ms", "format", "api", "path"].iter().any(|k| expected.get(k).is_some());
    let doc = match expected.get("doc") {
        Some(doc) if described => doc.clone(),
        _ => expected,
    };
    (read(".bin"), doc)
}

/// The row a document describes: its scalar fields as columns (names lowercased).
fn row_of(doc: &serde_json::Value) -> cachetape_tape::RowImage {
    let cells = doc.as_object().unwrap().iter().filter_map(|(k, v)| {
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Int(i64::from(*b)),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64()?),
            },
            serde_json::Value::String(s) => text(s),
            _ => return None,
        };
        Some((k.to_ascii_lowercase(), value))
    });
    let cells: Vec<(String, Value)> = cells.collect();
    image(cells.iter().map(|(k, v)| (k.as_str(), v.clone())))
}

/// A trace holding the row `doc` describes and three writes of `write` under `key`.
fn one_row(doc: &serde_json::Value, key: &str, write: &[&[u8]]) -> Vec<Event> {
    let mut t = TraceBuilder::in_memory(&cache_and_db(T0));
    t.row(MS, "shop.orders", cachetape_tape::RowOp::Insert, None, Some(row_of(doc))).commit(MS);
    for i in 0..3 {
        let mut args: Vec<Vec<u8>> = write.iter().map(|a| a.to_vec()).collect();
        args.insert(1, key.as_bytes().to_vec());
        t.redis((10 + i) * MS, "10.0.0.9:4000", args);
    }
    t.events()
}

#[test]
fn values_of_real_frameworks_infer_with_their_decoder() {
    let cases: [(&str, &str, Codec); 14] = [
        ("django/order_dict", ":1:order:", Codec::Pickle),
        ("django/model", ":1:order:", Codec::Pickle),
        ("cachelib/order", "flask_cache_order:", Codec::Pickle),
        ("django-redis/gzip_order", ":1:order:", Codec::Pickle),
        ("django-redis/zlib_order", ":1:order:", Codec::Pickle),
        ("msgpack/identity_order", "order:", Codec::Msgpack),
        ("keyv/order_ttl", "keyv:order:", Codec::Keyv),
        ("jackson/order", "orders::", Codec::Jackson),
        ("jdk/order", "orders::", Codec::Jdk),
        ("php/eloquent", "laravel_database_laravel_cache_:order:", Codec::Php),
        ("rails/as61_entry_hash", "orders/", Codec::Rails),
        ("rails/as72_coder_record", "shop:orders/", Codec::Rails),
        ("rails/as72_format70_hash", "orders/", Codec::Rails),
        ("rails/as72_msgpack_hash", "orders/", Codec::Rails),
    ];
    for (path, prefix, codec) in cases {
        let (bytes, doc) = fixture(path);
        let id = doc["id"].to_string();
        let m = infer(&one_row(&doc, &format!("{prefix}{id}"), &[b"SET", &bytes]));
        let toml = m.to_toml("t");
        let rule = only_rule(&m);
        assert_eq!(rule.key, format!("{prefix}{{id}}"), "{path}: {toml}");
        assert_eq!(rule.decode, codec, "{path}: {toml}");
        assert!(m.evidence[0].contains("3 of 3 sampled decode as"), "{path}: {toml}");
        assert!(m.evidence[0].contains("3 of those equal"), "{path}: {toml}");
        let fields = rule.columns();
        for f in ["id", "status", "total"] {
            assert!(fields.contains(&f), "{path}: {f} missing: {toml}");
        }
    }
}

#[test]
fn a_pickled_json_string_maps_its_fields() {
    // Django `cache.set(key, json.dumps(doc))`: a pickled str holding JSON.
    let (bytes, _) = fixture("django/json_text");
    let doc = serde_json::json!({"id": 50, "status": "paid"});
    let m = infer(&one_row(&doc, ":1:order:50", &[b"SET", &bytes]));
    let rule = only_rule(&m);
    assert_eq!(rule.value, ValueShape::Json(pairs(&[("id", "id"), ("status", "status")])));
    assert_eq!(rule.decode, Codec::Pickle);
}

#[test]
fn a_dotnet_hash_maps_its_data_payload() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/decode/dotnet/");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(format!("{dir}{name}")).unwrap()).unwrap()
    };
    let doc = read("net9_absolute.json")["doc"].clone();
    let hash = read("net9_absolute.hash.json");
    let mut args: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"shop:order:1".to_vec()];
    for (k, v) in hash.as_object().unwrap() {
        args.push(k.as_bytes().to_vec());
        args.push(v.as_str().unwrap().as_bytes().to_vec());
    }
    let mut t = TraceBuilder::in_memory(&cache_and_db(T0));
    t.row(MS, "shop.orders", cachetape_tape::RowOp::Insert, None, Some(row_of(&doc))).commit(MS);
    t.redis(10 * MS, "10.0.0.9:4000", args);
    let m = infer(&t.events());
    let rule = only_rule(&m);
    assert_eq!(
        rule.value,
        ValueShape::Json(pairs(&[("Id", "id"), ("Status", "status"), ("Total", "total")]))
    );
    assert!(
        m.evidence[0].contains("decode as json in a .NET IDistributedCache hash"),
        "{}",
        m.evidence[0]
    );
}

#[test]
fn values_no_decoder_reads_are_named_with_their_first_bytes() {
    // A pickle cut short: it announces the format and does not decode.
    let (bytes, doc) = fixture("django/order_dict");
    let m = infer(&one_row(&doc, ":1:order:50", &[b"SET", &bytes[..6]]));
    assert!(m.mapping.rules.is_empty());
    assert_eq!(m.unmapped.len(), 1);
    let u = &m.unmapped[0];
    assert!(
        u.starts_with(
            ":1:order:{…} (3 writes): no decoder reads 3 of 3 sampled values, the first starting 80"
        ),
        "{u}"
    );
    assert!(u.contains("looks like pickle"), "{u}");
}
