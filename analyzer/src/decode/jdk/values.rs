/*!
The JDK classes the `jdk` decoder reads as values rather than as their fields: boxes, big
numbers, dates and `java.time`, collections (from what their `writeObject` writes), and the
text forms they take (see the parent module's doc).
*/

use serde_json::{Map, Value};

use super::{ClassData, ClassDesc, DecodeError, NODE, err, fields_object};

/// A class's own reading of an object, or its fields.
pub(super) fn object(desc: &ClassDesc, data: Vec<ClassData>) -> Result<Value, DecodeError> {
    let find = |name: &str| data.iter().find(|c| c.desc.name == name);
    let field = |class: &str, f: &str| find(class).and_then(|c| c.field(f));
    let name = desc.name.as_str();
    match name {
        "java.lang.Integer"
        | "java.lang.Long"
        | "java.lang.Short"
        | "java.lang.Byte"
        | "java.lang.Double"
        | "java.lang.Float"
        | "java.lang.Boolean"
        | "java.lang.Character"
        | "java.util.concurrent.atomic.AtomicInteger"
        | "java.util.concurrent.atomic.AtomicLong" => {
            return Ok(field(name, "value").cloned().unwrap_or(Value::Null));
        }
        "java.util.concurrent.atomic.AtomicBoolean" => {
            return Ok(Value::Bool(field(name, "value").and_then(Value::as_i64).unwrap_or(0) != 0));
        }
        "java.math.BigInteger" => return big_integer(find(name)),
        "java.math.BigDecimal" => {
            let digits = field(name, "intVal").and_then(Value::as_str).filter(|d| {
                let d = d.strip_prefix('-').unwrap_or(d);
                !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
            });
            let scale = field(name, "scale").and_then(Value::as_i64);
            return match (digits, scale) {
                (Some(d), Some(s)) => Ok(Value::String(decimal(d, s))),
                _ => err("the Java stream has a BigDecimal without its digits"),
            };
        }
        "java.util.UUID" => {
            let hi = field(name, "mostSigBits").and_then(Value::as_i64).unwrap_or(0) as u64;
            let lo = field(name, "leastSigBits").and_then(Value::as_i64).unwrap_or(0) as u64;
            let hex = format!("{hi:016x}{lo:016x}");
            return Ok(Value::String(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            )));
        }
        "java.time.Ser" => {
            let ann = find(name).map(|c| c.ann.data.as_slice()).unwrap_or_default();
            return time_ser(&mut Cursor(ann))
                .ok_or(DecodeError("the Java stream has a java.time value it cannot read"));
        }
        _ => {}
    }
    if let Some(date) = find("java.util.Date") {
        let Some(ms) = date.ann.data.get(..8) else {
            return err("the Java stream has a Date without its time");
        };
        let ms = i64::from_be_bytes(ms.try_into().unwrap_or_default());
        let (secs, mut nanos) = (ms.div_euclid(1000), ms.rem_euclid(1000) as u32 * 1_000_000);
        if let Some(n) = field("java.sql.Timestamp", "nanos").and_then(Value::as_u64) {
            nanos = n.min(999_999_999) as u32;
        }
        return instant(secs, nanos)
            .map(Value::String)
            .ok_or(DecodeError("the Java stream has a Date beyond the calendar"));
    }
    // Collections, by the first class of the hierarchy (the most derived first) that is known.
    for class in data.iter().rev() {
        let objects = &class.ann.objects;
        match class.desc.name.as_str() {
            "java.util.HashMap"
            | "java.util.TreeMap"
            | "java.util.Hashtable"
            | "java.util.IdentityHashMap"
            | "java.util.EnumMap" => return Ok(map(objects, false)),
            "java.util.concurrent.ConcurrentHashMap"
            | "java.util.concurrent.ConcurrentSkipListMap" => {
                return Ok(map(objects, true));
            }
            "java.util.ArrayList"
            | "java.util.LinkedList"
            | "java.util.HashSet"
            | "java.util.ArrayDeque"
            | "java.util.PriorityQueue"
            | "java.util.concurrent.CopyOnWriteArrayList" => {
                return Ok(Value::Array(objects.clone()));
            }
            "java.util.TreeSet" => {
                return Ok(Value::Array(objects.iter().skip(1).cloned().collect()));
            }
            "java.util.CollSer" => {
                return Ok(if class.ann.data.first() == Some(&3) {
                    map(objects, false)
                } else {
                    Value::Array(objects.clone())
                });
            }
            "java.util.Vector" => {
                let n = class.field("elementCount").and_then(Value::as_u64).unwrap_or(0) as usize;
                let items = class
                    .field("elementData")
                    .and_then(Value::as_array)
                    .map(|a| &a[..n.min(a.len())]);
                return Ok(Value::Array(items.unwrap_or_default().to_vec()));
            }
            "java.util.Arrays$ArrayList" => {
                return Ok(class.field("a").cloned().unwrap_or(Value::Null));
            }
            _ => {}
        }
    }
    if name.starts_with("java.util.Collections$") {
        let any = |f: &str| data.iter().find_map(|c| c.field(f));
        for f in ["m", "list", "c", "s"] {
            if let Some(v) = any(f) {
                return Ok(v.clone());
            }
        }
        if let Some(v) = any("element") {
            return Ok(Value::Array(vec![v.clone()]));
        }
        if let (Some(k), Some(v)) = (any("k"), any("v")) {
            return Ok(map(&[k.clone(), v.clone()], false));
        }
        if name.contains("Empty") {
            return Ok(if name.ends_with("Map") {
                Value::Object(Map::new())
            } else {
                Value::Array(Vec::new())
            });
        }
    }
    if data.iter().any(|c| c.desc.flags & super::SC_EXTERNALIZABLE != 0) {
        return err("the Java stream has an Externalizable object the decoder does not know");
    }
    Ok(fields_object(data))
}

/// Key/value pairs as an object, keys as their text (`stop_at_null`: the pairs end at a null
/// key, as `ConcurrentHashMap` marks their end).
fn map(objects: &[Value], stop_at_null: bool) -> Value {
    let mut m = Map::new();
    for pair in objects.chunks_exact(2) {
        let key = match &pair[0] {
            Value::Null if stop_at_null => break,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        m.insert(key, pair[1].clone());
    }
    Value::Object(m)
}

/// What a value costs against the budget.
pub(super) fn weight(v: &Value) -> usize {
    match v {
        Value::String(s) => NODE + s.len(),
        Value::Array(items) => items.iter().fold(NODE, |n, i| n.saturating_add(weight(i))),
        Value::Object(m) => m
            .iter()
            .fold(NODE, |n, (k, i)| n.saturating_add(NODE + k.len()).saturating_add(weight(i))),
        _ => NODE,
    }
}

/// A JSON number from an `f64`, or Java's text for a non-finite one.
pub(super) fn double(x: f64) -> Value {
    crate::decode::float(x, crate::decode::JS_NON_FINITE)
}

/// Java's modified UTF-8: a NUL as `C0 80`, a supplementary character as two surrogates of
/// three bytes each.
pub(super) fn modified_utf8(bytes: &[u8]) -> String {
    if !bytes.iter().any(|&b| b == 0xC0 || b == 0xED)
        && let Ok(s) = std::str::from_utf8(bytes)
    {
        return s.to_string();
    }
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let cont = |b: Option<&u8>| b.filter(|&&b| b & 0xC0 == 0x80).map(|&b| u16::from(b & 0x3F));
    while let Some(&b) = bytes.get(i) {
        let b16 = u16::from(b);
        if b < 0x80 {
            units.push(b16);
            i += 1;
        } else if b & 0xE0 == 0xC0
            && let Some(c1) = cont(bytes.get(i + 1))
        {
            units.push(((b16 & 0x1F) << 6) | c1);
            i += 2;
        } else if b & 0xF0 == 0xE0
            && let (Some(c1), Some(c2)) = (cont(bytes.get(i + 1)), cont(bytes.get(i + 2)))
        {
            units.push(((b16 & 0x0F) << 12) | (c1 << 6) | c2);
            i += 3;
        } else {
            units.push(0xFFFD);
            i += 1;
        }
    }
    String::from_utf16_lossy(&units)
}

/// A `BigInteger` (its `signum` and big-endian `magnitude`) as decimal text.
fn big_integer(class: Option<&ClassData>) -> Result<Value, DecodeError> {
    let signum = class.and_then(|c| c.field("signum")).and_then(Value::as_i64);
    let magnitude = class.and_then(|c| c.field("magnitude")).and_then(Value::as_array);
    let (Some(signum), Some(magnitude)) = (signum, magnitude) else {
        return err("the Java stream has a BigInteger without its magnitude");
    };
    if magnitude.len() > 4096 {
        return err("the Java stream has a BigInteger beyond the decoder's limit");
    }
    let bytes: Vec<u8> = magnitude.iter().map(|b| b.as_i64().unwrap_or(0) as u8).collect();
    let digits = decimal_digits(&bytes);
    Ok(Value::String(if signum < 0 && digits != "0" { format!("-{digits}") } else { digits }))
}

/// Big-endian unsigned bytes as decimal digits.
fn decimal_digits(bytes: &[u8]) -> String {
    // Base 2^32 limbs, most significant first, divided by 10^9 until nothing is left.
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let bytes = &bytes[skip..];
    let pad = (4 - bytes.len() % 4) % 4;
    let mut padded = vec![0u8; pad];
    padded.extend_from_slice(bytes);
    let mut limbs: Vec<u32> =
        padded.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect();
    let mut groups = Vec::new();
    while !limbs.is_empty() {
        let mut rem = 0u64;
        for limb in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        let zeros = limbs.iter().take_while(|&&l| l == 0).count();
        limbs.drain(..zeros);
    }
    let mut out = groups.pop().map_or_else(|| "0".to_string(), |g| g.to_string());
    for g in groups.iter().rev() {
        out.push_str(&format!("{g:09}"));
    }
    out
}

/// `digits` (ASCII digits, an optional `-`) `× 10^-scale` as plain decimal text (exponent form
/// past ten thousand zeros).
fn decimal(digits: &str, scale: i64) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    if scale <= 0 {
        if digits == "0" {
            return "0".into();
        }
        return match usize::try_from(-scale) {
            Ok(z) if z <= 10_000 => format!("{sign}{digits}{}", "0".repeat(z)),
            _ => format!("{sign}{digits}E{}", -scale),
        };
    }
    match usize::try_from(scale) {
        Ok(s) if s <= 10_000 => {
            let padded = if digits.len() <= s {
                format!("{}{digits}", "0".repeat(s + 1 - digits.len()))
            } else {
                digits.to_string()
            };
            let (int, frac) = padded.split_at(padded.len() - s);
            format!("{sign}{int}.{frac}")
        }
        _ => format!("{sign}{digits}E-{scale}"),
    }
}

/// Reads the big-endian fields `java.time.Ser` writes.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn i8(&mut self) -> Option<i8> {
        self.take::<1>().map(|[b]| b as i8)
    }
    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_be_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_be_bytes)
    }
}

/// `java.time.Ser`'s external form: a type byte, then the value.
fn time_ser(c: &mut Cursor) -> Option<Value> {
    let text = match c.i8()? {
        1 => {
            let (secs, nanos) = (c.i64()?, c.i32()?);
            let total = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
            let (sign, total) = if total < 0 { ("-", -total) } else { ("", total) };
            format!("{sign}{}{}", total / 1_000_000_000, fraction((total % 1_000_000_000) as u32))
        }
        2 => instant(c.i64()?, u32::try_from(c.i32()?).ok()?)?,
        3 => date(c)?,
        4 => time(c)?,
        5 => format!("{}T{}", date(c)?, time(c)?),
        6 => {
            let local = format!("{}T{}", date(c)?, time(c)?);
            format!("{local}{}", offset(c)?)
        }
        7 => {
            let n = u16::from_be_bytes(c.take()?);
            let id = c.0.get(..usize::from(n))?;
            super::values::modified_utf8(id)
        }
        8 => offset(c)?,
        9 => format!("{}{}", time(c)?, offset(c)?),
        10 => format!("{}T{}{}", date(c)?, time(c)?, offset(c)?),
        11 => return Some(Value::from(c.i32()?)),
        12 => format!("{}-{:02}", year(c.i32()?), c.i8()?),
        13 => format!("--{:02}-{:02}", c.i8()?, c.i8()?),
        14 => {
            let (y, m, d) = (c.i32()?, c.i32()?, c.i32()?);
            if (y, m, d) == (0, 0, 0) {
                "P0D".into()
            } else {
                let part = |n: i32, u: char| if n != 0 { format!("{n}{u}") } else { String::new() };
                format!("P{}{}{}", part(y, 'Y'), part(m, 'M'), part(d, 'D'))
            }
        }
        _ => return None,
    };
    Some(Value::String(text))
}

fn year(y: i32) -> String {
    if y > 9999 {
        format!("+{y}")
    } else if y < 0 {
        format!("-{:04}", y.unsigned_abs())
    } else {
        format!("{y:04}")
    }
}

fn date(c: &mut Cursor) -> Option<String> {
    Some(format!("{}-{:02}-{:02}", year(c.i32()?), c.i8()?, c.i8()?))
}

/// `LocalTime`'s compact form: a field written as its complement ends the value.
fn time(c: &mut Cursor) -> Option<String> {
    let mut parts = [0i64; 4];
    for (i, part) in parts.iter_mut().enumerate() {
        if i == 3 {
            *part = i64::from(c.i32()?);
            break;
        }
        let b = c.i8()?;
        if b < 0 {
            *part = i64::from(!b);
            break;
        }
        *part = i64::from(b);
    }
    let [h, m, s, n] = parts;
    Some(format!("{h:02}:{m:02}:{s:02}{}", fraction(u32::try_from(n).ok()?)))
}

fn offset(c: &mut Cursor) -> Option<String> {
    let b = c.i8()?;
    let secs = if b == 127 { c.i32()? } else { i32::from(b) * 900 };
    let sign = if secs < 0 { '-' } else { '+' };
    let s = secs.unsigned_abs();
    let extra = if s % 60 != 0 { format!(":{:02}", s % 60) } else { String::new() };
    Some(format!("{sign}{:02}:{:02}{extra}", s / 3600, s / 60 % 60))
}

/// `.` and the nanoseconds without trailing zeros, or nothing.
fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let f = format!(".{nanos:09}");
    f.trim_end_matches('0').to_string()
}

/// Seconds and nanoseconds since the epoch as ISO-8601 UTC text.
pub(crate) fn instant(secs: i64, nanos: u32) -> Option<String> {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Days to the civil calendar (proleptic Gregorian), by 400-year eras from 0000-03-01.
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe.checked_add(era.checked_mul(400)?)? + i64::from(month <= 2);
    let y = i32::try_from(y).ok()?;
    Some(format!(
        "{}-{month:02}-{day:02}T{:02}:{:02}:{:02}{}Z",
        year(y),
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        fraction(nanos.min(999_999_999))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(decimal_digits(&[]), "0");
        assert_eq!(decimal_digits(&[0x01, 0x00, 0x00, 0x00, 0x00]), "4294967296");
        assert_eq!(decimal("990", 2), "9.90");
        assert_eq!(decimal("-5", 3), "-0.005");
        assert_eq!(decimal("12", -3), "12000");
        assert_eq!(instant(0, 0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(instant(-1, 5).as_deref(), Some("1969-12-31T23:59:59.000000005Z"));
        assert_eq!(instant(951_782_400, 0).as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(modified_utf8(&[0xC0, 0x80, b'a']), "\0a");
        assert_eq!(modified_utf8(&[0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]), "\u{1F600}");
    }
}
