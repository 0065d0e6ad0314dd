//! The Keyv envelope decoder, and the projections that use it (a Keyv rule with and without
//! dotted paths, a .NET `IDistributedCache` hash whose `data` and `absexp` are the input),
//! never panic and keep their limits on any input.
#![no_main]

use std::sync::OnceLock;

use cachetape_analyzer::decode::{self, Codec, Limits, keyv};
use cachetape_analyzer::mapping::{Mapping, Rule};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        Mapping::parse(
            "[[rule]]\nkey = \"a:{id}\"\ntable = \"s.a\"\njson = [\"id\", \"status\"]\n\
             [[rule]]\nkey = \"b:{id}\"\ntable = \"s.b\"\njson = { \"value.status\" = \"status\" }\n\
             [[rule]]\nkey = \"c:{id}\"\ntable = \"s.c\"\ncolumn = \"n\"\n\
             [[rule]]\nkey = \"d:{id}\"\ntable = \"s.d\"\njson = [\"id\"]\ndecode = \"keyv\"\n",
        )
        .expect("the fuzz mapping parses")
        .rules
    })
}

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 16, max_depth: 24 };
    if let Ok(d) = keyv::decode(data, &limits) {
        assert!(keyv::looks_like(data));
        assert!(depth(&d.doc) <= limits.max_depth);
    }
    let _ = decode::decode(data, Codec::Auto, &limits);
    let mut out = Vec::new();
    for rule in rules() {
        let _ = rule.project_string(data, &mut out);
        // A .NET hash: the input is the payload, its first bytes the ticks.
        let ticks = &data[..data.len().min(20)];
        let get = |f: &[u8]| match f {
            b"data" => Some(data),
            b"absexp" => Some(ticks),
            _ => None,
        };
        let _ = rule.project_hash(get, &mut out);
    }
});
