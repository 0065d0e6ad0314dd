/*!
The pickle machine's values as the document, and the arithmetic of the value constructors it
knows: integers (`LONG1`/`LONG4` two's complement, protocol-0 text), protocol-0 strings,
`_codecs.encode`, and the byte states of `datetime`, `date`, `time` and `timedelta`.
*/

use serde_json::{Map, Value};

use super::{Global, Inst, Kind, Obj, Val, Zone, err};
use crate::decode::{DecodeError, Limits};
use crate::zone::Fold;

/// Renders values of one machine's arena, charging what it builds against the limits.
pub(super) struct Renderer<'a> {
    arena: &'a [Obj],
    limits: Limits,
    spent: usize,
}

impl<'a> Renderer<'a> {
    pub(super) fn new(arena: &'a [Obj], limits: &Limits) -> Self {
        Renderer { arena, limits: *limits, spent: 0 }
    }

    fn spend(&mut self, n: usize) -> Result<(), DecodeError> {
        self.spent = self.spent.saturating_add(n);
        if self.spent > self.limits.max_bytes {
            return err("the unpickled value is larger than the size limit");
        }
        Ok(())
    }

    /// The document of `v`, `depth` levels down.
    pub(super) fn value(&mut self, v: &Val, depth: usize) -> Result<Value, DecodeError> {
        if depth > self.limits.max_depth {
            return err("the pickle is nested too deep (or refers to itself)");
        }
        self.spend(16)?;
        Ok(match v {
            Val::None => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Number((*i).into()),
            Val::Big(s) => match s.parse::<u64>() {
                Ok(u) => Value::Number(u.into()),
                Err(_) => self.string(s.to_string())?,
            },
            Val::Float(f) => crate::decode::float(*f, crate::decode::JS_NON_FINITE),
            Val::Str(s) => self.string(s.to_string())?,
            Val::Bytes(b) => self.string(String::from_utf8_lossy(b).into_owned())?,
            Val::Zone(Zone::Named(k)) => Value::String(k.to_string()),
            Val::Zone(z) => Value::String(zone(Some(z), None)),
            Val::Delta(us) => Value::String(seconds(*us)),
            Val::Global(_) => return err("the pickle holds a class or a function as a value"),
            Val::Obj(i) => match self.arena.get(*i) {
                Some(Obj::List(items)) => {
                    let mut out = Vec::new();
                    for item in items {
                        out.push(self.value(item, depth + 1)?);
                    }
                    Value::Array(out)
                }
                Some(Obj::Dict(kv)) => {
                    let mut map = Map::new();
                    self.insert(&mut map, kv, depth)?;
                    Value::Object(map)
                }
                Some(Obj::Inst(inst)) => self.instance(inst, depth)?,
                None => return err("the pickle refers to an object it never built"),
            },
        })
    }

    fn string(&mut self, s: String) -> Result<Value, DecodeError> {
        self.spend(s.len())?;
        Ok(Value::String(s))
    }

    /// The pairs of a dict, keys as JSON writes them.
    fn insert(
        &mut self,
        map: &mut Map<String, Value>,
        kv: &[(Val, Val)],
        depth: usize,
    ) -> Result<(), DecodeError> {
        for (k, v) in kv {
            let key = match self.value(k, depth + 1)? {
                Value::String(s) => s,
                Value::Null => "null".into(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            self.spend(key.len())?;
            let v = self.value(v, depth + 1)?;
            map.insert(key, v);
        }
        Ok(())
    }

    /// The pairs of a dict in the arena (none when `v` is not one).
    fn dict_of(&self, v: &Val) -> &'a [(Val, Val)] {
        match v {
            Val::Obj(i) => match self.arena.get(*i) {
                Some(Obj::Dict(kv)) => kv,
                _ => &[],
            },
            _ => &[],
        }
    }

    fn instance(&mut self, inst: &Inst, depth: usize) -> Result<Value, DecodeError> {
        let state = inst.state.as_ref();
        match inst.kind {
            Kind::Uuid => {
                let int = state.map(|s| self.dict_of(s)).unwrap_or(&[]).iter().find_map(
                    |(k, v)| match (k, v) {
                        (Val::Str(k), Val::Int(i)) if &**k == "int" => u128::try_from(*i).ok(),
                        (Val::Str(k), Val::Big(b)) if &**k == "int" => b.parse().ok(),
                        _ => None,
                    },
                );
                let Some(n) = int else {
                    return err("the pickle's UUID has no integer state");
                };
                let h = format!("{n:032x}");
                Ok(Value::String(format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )))
            }
            Kind::Model => {
                let mut map = Map::new();
                let fields = state.map(|s| self.dict_of(s)).unwrap_or(&[]);
                for (k, v) in fields {
                    match k {
                        Val::Str(k) if matches!(&**k, "_state" | "_django_version") => {}
                        Val::Str(k) if &**k == "_memoryview_attrs" => {
                            let Val::Obj(i) = v else { continue };
                            let Some(Obj::List(attrs)) = self.arena.get(*i) else { continue };
                            for attr in attrs {
                                if let Val::Obj(j) = attr
                                    && let Some(Obj::List(pair)) = self.arena.get(*j)
                                    && let [k, v] = pair.as_slice()
                                {
                                    self.insert(&mut map, &[(k.clone(), v.clone())], depth)?;
                                }
                            }
                        }
                        _ => self.insert(&mut map, &[(k.clone(), v.clone())], depth)?,
                    }
                }
                Ok(Value::Object(map))
            }
            Kind::Generic => {
                let mut map = Map::new();
                self.insert(&mut map, &inst.items, depth)?;
                match state {
                    None | Some(Val::None) => {}
                    Some(s @ Val::Obj(i)) => match self.arena.get(*i) {
                        Some(Obj::Dict(kv)) => self.insert(&mut map, kv, depth)?,
                        Some(Obj::List(t)) if t.len() == 2 => {
                            let (a, b) = (self.dict_of(&t[0]), self.dict_of(&t[1]));
                            self.insert(&mut map, a, depth)?;
                            self.insert(&mut map, b, depth)?;
                        }
                        _ => return self.value(s, depth + 1),
                    },
                    Some(other) => return self.value(other, depth + 1),
                }
                if map.is_empty() && state.is_none() {
                    if !inst.elems.is_empty() {
                        let mut out = Vec::new();
                        for item in &inst.elems {
                            out.push(self.value(item, depth + 1)?);
                        }
                        return Ok(Value::Array(out));
                    }
                    if let [v] = inst.args.as_slice() {
                        return self.value(v, depth + 1);
                    }
                }
                Ok(Value::Object(map))
            }
        }
    }
}

/// A `LONG1`/`LONG4` integer: little-endian two's complement.
pub(super) fn long(b: &[u8]) -> Val {
    let negative = b.last().is_some_and(|&x| x & 0x80 != 0);
    if b.len() <= 16 {
        let fill = if negative { 0xff } else { 0 };
        let mut le = [fill; 16];
        le[..b.len()].copy_from_slice(b);
        let n = i128::from_le_bytes(le);
        return match i64::try_from(n) {
            Ok(i) => Val::Int(i),
            Err(_) => Val::Big(n.to_string().into()),
        };
    }
    // The magnitude, big-endian, then base 10^9 limbs (least significant first).
    let mut mag: Vec<u8> = b.iter().rev().map(|&x| if negative { !x } else { x }).collect();
    if negative {
        for x in mag.iter_mut().rev() {
            let (v, carry) = x.overflowing_add(1);
            *x = v;
            if !carry {
                break;
            }
        }
    }
    let mut limbs: Vec<u32> = Vec::new();
    for &byte in &mag {
        let mut carry = u64::from(byte);
        for l in limbs.iter_mut() {
            let v = u64::from(*l) * 256 + carry;
            *l = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut s = String::from(if negative { "-" } else { "" });
    match limbs.split_last() {
        None => s.push('0'),
        Some((top, rest)) => {
            s.push_str(&top.to_string());
            for l in rest.iter().rev() {
                s.push_str(&format!("{l:09}"));
            }
        }
    }
    Val::Big(s.into())
}

/// A protocol-0 `INT` (`01`/`00` are booleans) or `LONG` (a trailing `L`).
pub(super) fn int_text(line: &[u8], int_opcode: bool) -> Option<Val> {
    match line {
        b"01" if int_opcode => return Some(Val::Bool(true)),
        b"00" if int_opcode => return Some(Val::Bool(false)),
        _ => {}
    }
    let s = std::str::from_utf8(line).ok()?.trim();
    let s = s.strip_suffix('L').unwrap_or(s);
    if let Ok(i) = s.parse::<i64>() {
        return Some(Val::Int(i));
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Val::Big(s.strip_prefix('+').unwrap_or(s).into()))
}

/// A protocol-0 `UNICODE` argument (`raw-unicode-escape`: latin-1 with `\uXXXX`, `\UXXXXXXXX`).
pub(super) fn raw_unicode_escape(line: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        let width = match (line[i], line.get(i + 1)) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            _ => 0,
        };
        let hex = line.get(i + 2..i + 2 + width).filter(|_| width > 0);
        match hex.and_then(|h| u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
            Some(c) => {
                out.push(char::from_u32(c)?);
                i += 2 + width;
            }
            None => {
                out.push(char::from(line[i]));
                i += 1;
            }
        }
    }
    Some(out)
}

/// `_codecs.encode(s, encoding)` for the encodings pickles use.
pub(super) fn encode(s: &str, encoding: &str) -> Option<Vec<u8>> {
    match encoding.to_ascii_lowercase().as_str() {
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "ascii" => {
            s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
        }
        "utf-8" | "utf8" => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// A zone's ISO suffix: `+HH:MM[:SS]` for an offset or a UTC zone; for another named zone the
/// offset it had at `at` (the local date-time and its `fold`) in the bundled time-zone database
/// ([`crate::zone`]), or `[Name]` when there is no date (a `time`) or the database does not know
/// the zone.
fn zone(z: Option<&Zone>, at: Option<(jiff::civil::DateTime, Fold)>) -> String {
    let secs = match z {
        None => return String::new(),
        Some(Zone::Offset(s)) => *s,
        Some(Zone::Named(k)) => match &**k {
            "UTC" | "Etc/UTC" | "UCT" | "Etc/UCT" | "Zulu" | "Etc/Zulu" | "Universal"
            | "Etc/Universal" | "GMT" | "Etc/GMT" | "Etc/Greenwich" | "Greenwich" => 0,
            k => match at.and_then(|(local, fold)| crate::zone::offset_at(k, local, fold)) {
                Some(secs) => i64::from(secs),
                None => return format!("[{k}]"),
            },
        },
    };
    crate::zone::render_offset(secs)
}

/// `datetime`, `date` or `time` from its pickled state (bytes and an optional zone) or, as a
/// hand-made pickle may have it, its integer fields.
pub(super) fn datetime(g: Global, args: &[Val]) -> Result<String, DecodeError> {
    // The high bit of the month (of the hour, for a `time`) is `fold`.
    let mut fold = Fold::Before;
    let (fields, tz): (Vec<i64>, Option<&Zone>) = match args {
        [Val::Bytes(b), rest @ ..] => {
            let f = |i: usize| b.get(i).copied().map(i64::from).unwrap_or(0);
            let fold_at = if g == Global::Time { 0 } else { 2 };
            if g != Global::Date && f(fold_at) & 0x80 != 0 {
                fold = Fold::After;
            }
            let tz = match rest {
                [] | [Val::None] => None,
                [Val::Zone(z)] => Some(z),
                _ => return err("the pickle's date or time has a zone the decoder does not know"),
            };
            match (g, b.len()) {
                (Global::DateTime, 10) => (
                    vec![
                        f(0) * 256 + f(1),
                        f(2) & 0x7f,
                        f(3),
                        f(4),
                        f(5),
                        f(6),
                        (f(7) << 16) | (f(8) << 8) | f(9),
                    ],
                    tz,
                ),
                (Global::Date, 4) => (vec![f(0) * 256 + f(1), f(2), f(3)], tz),
                (Global::Time, 6) => {
                    (vec![f(0) & 0x7f, f(1), f(2), (f(3) << 16) | (f(4) << 8) | f(5)], tz)
                }
                _ => return err("the pickle's date or time state has the wrong length"),
            }
        }
        _ => {
            let mut fields = Vec::new();
            let mut tz = None;
            for a in args {
                match a {
                    Val::Int(i) => fields.push(*i),
                    Val::Zone(z) => tz = Some(z),
                    Val::None => {}
                    _ => return err("the pickle builds a date or time from unexpected arguments"),
                }
            }
            let want = if g == Global::Time { 1 } else { 3 };
            if fields.len() < want {
                return err("the pickle builds a date or time from too few arguments");
            }
            fields.resize(if g == Global::Time { 4 } else { 7 }, 0);
            (fields, tz)
        }
    };
    let time = |f: &[i64], at| {
        let mut s = format!("{:02}:{:02}:{:02}", f[0], f[1], f[2]);
        if f[3] != 0 {
            s.push_str(&format!(".{:06}", f[3]));
        }
        s + &zone(tz, at)
    };
    Ok(match g {
        Global::Time => time(&fields, None),
        Global::Date => format!("{:04}-{:02}-{:02}", fields[0], fields[1], fields[2]),
        _ => {
            let at = civil(&fields).map(|local| (local, fold));
            format!("{:04}-{:02}-{:02}T{}", fields[0], fields[1], fields[2], time(&fields[3..], at))
        }
    })
}

/// A `datetime`'s seven fields as a civil date-time, when they make one.
fn civil(f: &[i64]) -> Option<jiff::civil::DateTime> {
    let n = |i: usize| i8::try_from(f[i]).ok();
    let date = jiff::civil::Date::new(i16::try_from(f[0]).ok()?, n(1)?, n(2)?).ok()?;
    let time = jiff::civil::Time::new(n(3)?, n(4)?, n(5)?, 0).ok()?;
    Some(date.to_datetime(time))
}

/// A `timedelta(days, seconds, microseconds)` in microseconds.
pub(super) fn timedelta(args: &[Val]) -> Result<i128, DecodeError> {
    let mut total = 0i128;
    for (a, unit) in args.iter().zip([86_400_000_000i128, 1_000_000, 1]) {
        let Val::Int(i) = a else {
            return err("the pickle builds a timedelta from something not integers");
        };
        total += i128::from(*i) * unit;
    }
    Ok(total)
}

/// Microseconds as decimal seconds (`86405.5`).
fn seconds(us: i128) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    let frac = format!("{:06}", a % 1_000_000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", a / 1_000_000)
    } else {
        format!("{sign}{}.{frac}", a / 1_000_000)
    }
}
