//! Redis's float parsing, arithmetic and printing, against values from redis-server.

use super::*;

fn incr(a: &str, b: &str) -> String {
    LongDouble::parse(a.as_bytes())
        .unwrap()
        .plus(LongDouble::parse(b.as_bytes()).unwrap())
        .unwrap()
        .to_human()
}

#[test]
fn long_double_matches_redis_incrbyfloat() {
    // Values checked against redis-server 7.0.15 on x86-64.
    assert_eq!(incr("10.5", "0.1"), "10.6");
    assert_eq!(incr("0", "0.1"), "0.1");
    assert_eq!(incr("3.0e3", "200"), "3200");
    assert_eq!(incr("5.0e3", "2.0e2"), "5200");
    assert_eq!(incr("1", "-1"), "0");
    assert_eq!(incr("-0.00000000000000000001", "0"), "0");
    assert_eq!(incr("0", "1e20"), "100000000000000000000");
    assert_eq!(incr("0", "0x10"), "16");
    assert!(LongDouble::parse(b" 1").is_none());
    assert!(LongDouble::parse(b"nan").is_none());
    assert!(LongDouble::parse(b"1e5000").is_none());
    assert!(LongDouble::parse(b"1e-5000").is_none());
    assert!(LongDouble::parse(b"1.").is_some());
    assert!(LongDouble::parse(b".").is_none());
    assert!(LongDouble::parse(b"1e").is_none());
}

#[test]
fn doubles_format_like_printf_17g() {
    assert_eq!(format_double(1.5), "1.5");
    assert_eq!(format_double(0.1), "0.10000000000000001");
    assert_eq!(format_double(1e20), "1e+20");
    assert_eq!(format_double(123456.0), "123456");
    assert_eq!(format_double(1e16), "10000000000000000");
    assert_eq!(format_double(1e17), "1e+17");
    assert_eq!(format_double(0.0001), "0.0001");
    assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
    assert_eq!(format_double(-2.5), "-2.5");
    assert_eq!(format_double(f64::INFINITY), "inf");
}

#[test]
fn doubles_parse_like_strtod() {
    for s in [
        "1.5",
        "0.1",
        "-3e-5",
        "1e308",
        "2.2250738585072014e-308",
        "4.9e-324",
        "123456789.123456789",
    ] {
        assert_eq!(parse_double(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
    }
    assert_eq!(parse_double(b"0x1p3"), Some(8.0));
    assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_double(b"1e309"), None);
    assert_eq!(parse_double(b"nan"), None);
    assert_eq!(parse_double(b""), None);
    assert_eq!(parse_double_lenient(b""), Some(0.0));
    assert_eq!(parse_double_lenient(b" 2"), Some(2.0));
}
