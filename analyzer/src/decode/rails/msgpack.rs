/*!
`ActiveSupport::MessagePack` (the Rails 7.1+ `serializer: :message_pack` cache serializer): the
`CC 80` signature (the integer 128), then one MessagePack value whose extension types are the
ones `ActiveSupport::MessagePack::Extensions` and `ActiveRecord::MessagePack` register — symbols,
big integers, `BigDecimal`, dates and times, sets, ranges, `HashWithIndifferentAccess`,
ActiveRecord models (as their columns) and the `Object` fallback.

Lengths are checked against the bytes left before anything is kept; nesting (extension payloads
included) stops at [`Limits::max_depth`] and the document at [`Limits::max_bytes`].
*/

use serde_json::{Map, Value};

use super::super::marshal::{big_decimal_text, bigdecimal_text, iso_date, iso_from_unix};
use super::super::{DecodeError, Limits};

/// The serializer's signature: 128 as a MessagePack uint8.
pub(super) const SIGNATURE: [u8; 2] = [0xcc, 0x80];

/// The document of a signed payload (`CC 80` then one value).
pub(super) fn read(bytes: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    let body = bytes.strip_prefix(&SIGNATURE[..]).ok_or(DecodeError("no MessagePack signature"))?;
    let mut r =
        Reader { b: body, pos: 0, depth: 0, budget: limits.max_bytes, max_depth: limits.max_depth };
    r.value()
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    depth: usize,
    budget: usize,
    max_depth: usize,
}

const TRUNCATED: DecodeError = DecodeError("a MessagePack value ends early");

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or(TRUNCATED)?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    /// A count of elements, at most the bytes left (each takes one at least).
    fn count(&mut self, n: usize) -> Result<usize, DecodeError> {
        let c = self.uint(n)?;
        usize::try_from(c).ok().filter(|&c| c <= self.b.len() - self.pos).ok_or(TRUNCATED)
    }

    fn charge(&mut self, n: usize) -> Result<(), DecodeError> {
        self.budget = self
            .budget
            .checked_sub(n.saturating_add(16))
            .ok_or(DecodeError("a MessagePack value is larger than the size limit"))?;
        Ok(())
    }

    fn text(&mut self, bytes: &[u8]) -> Result<Value, DecodeError> {
        self.charge(bytes.len())?;
        Ok(Value::String(String::from_utf8_lossy(bytes).into_owned()))
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        if self.depth >= self.max_depth {
            return Err(DecodeError("a MessagePack value nests too deep"));
        }
        self.charge(0)?;
        self.depth += 1;
        let r = self.value_inner();
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self) -> Result<Value, DecodeError> {
        let t = self.take(1)?[0];
        Ok(match t {
            0x00..=0x7f => Value::from(t),
            0xe0..=0xff => Value::from(t as i8),
            0x80..=0x8f => self.map(usize::from(t & 0x0f))?,
            0x90..=0x9f => self.array(usize::from(t & 0x0f))?,
            0xa0..=0xbf => {
                let s = self.take(usize::from(t & 0x1f))?;
                self.text(s)?
            }
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 | 0xd9..=0xdb => {
                let width = if t <= 0xc6 { 1 << (t - 0xc4) } else { 1 << (t - 0xd9) };
                let n = self.count(width)?;
                let s = self.take(n)?;
                self.text(s)?
            }
            0xc7..=0xc9 => {
                let n = self.count(1 << (t - 0xc7))?;
                let ty = self.take(1)?[0] as i8;
                let data = self.take(n)?;
                self.ext(ty, data)?
            }
            0xd4..=0xd8 => {
                let ty = self.take(1)?[0] as i8;
                let data = self.take(1 << (t - 0xd4))?;
                self.ext(ty, data)?
            }
            0xca => float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => float(f64::from_bits(self.uint(8)?)),
            0xcc..=0xcf => Value::from(self.uint(1 << (t - 0xcc))?),
            0xd0..=0xd3 => {
                let n = 1 << (t - 0xd0);
                let u = self.uint(n)?;
                let shift = 64 - 8 * n as u32;
                Value::from(((u << shift) as i64) >> shift)
            }
            0xdc | 0xdd => {
                let n = self.count(if t == 0xdc { 2 } else { 4 })?;
                self.array(n)?
            }
            0xde | 0xdf => {
                let n = self.count(if t == 0xde { 2 } else { 4 })?;
                self.map(n)?
            }
            _ => return Err(DecodeError("an unknown MessagePack type byte")),
        })
    }

    fn array(&mut self, n: usize) -> Result<Value, DecodeError> {
        if n > self.b.len() - self.pos {
            return Err(TRUNCATED);
        }
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.value()?);
        }
        Ok(Value::Array(out))
    }

    fn map(&mut self, n: usize) -> Result<Value, DecodeError> {
        if n > self.b.len() - self.pos {
            return Err(TRUNCATED);
        }
        let mut out = Map::new();
        for _ in 0..n {
            // A key that is not text is its JSON, charged again (escaping grows with nesting).
            let k = match self.value()? {
                Value::String(s) => s,
                other => {
                    let text = other.to_string();
                    self.charge(text.len())?;
                    text
                }
            };
            let v = self.value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    /// The values packed one after another in a recursive extension's payload.
    fn values_in(&mut self, data: &'a [u8]) -> Result<Vec<Value>, DecodeError> {
        let (b, pos) = (self.b, self.pos);
        self.b = data;
        self.pos = 0;
        let mut out = Vec::new();
        let r = loop {
            if self.pos >= self.b.len() {
                break Ok(());
            }
            match self.value() {
                Ok(v) => out.push(v),
                Err(e) => break Err(e),
            }
        };
        self.b = b;
        self.pos = pos;
        r.map(|()| out)
    }

    fn ext(&mut self, ty: i8, data: &'a [u8]) -> Result<Value, DecodeError> {
        Ok(match ty {
            // Symbol, TimeZone (its name), URI, Pathname, Regexp, binary column data: text.
            0 | 9 | 13 | 15 | 16 | 119 => self.text(data)?,
            1 => big_integer(data)
                .map(Value::String)
                .ok_or(DecodeError("a MessagePack big integer is malformed"))?,
            2 => {
                let text = std::str::from_utf8(data)
                    .ok()
                    .and_then(bigdecimal_text)
                    .ok_or(DecodeError("a BigDecimal is malformed"))?;
                Value::String(text)
            }
            3 => {
                let v = self.values_in(data)?;
                match (v.first().and_then(Value::as_i64), v.get(1).and_then(Value::as_i64)) {
                    (Some(n), None | Some(1)) => Value::from(n),
                    (Some(n), Some(d)) => Value::String(format!("{n}/{d}")),
                    _ => Value::Null,
                }
            }
            5 => date_time(&self.values_in(data)?).ok_or(DecodeError("a DateTime is malformed"))?,
            6 => {
                let jd = self
                    .values_in(data)?
                    .first()
                    .and_then(Value::as_i64)
                    .filter(|j| j.abs() < 1 << 40);
                Value::String(iso_date(jd.ok_or(DecodeError("a Date is malformed"))?))
            }
            7 | 8 => {
                let v = self.values_in(data)?;
                let (secs, nanos) =
                    (v.first().and_then(Value::as_i64), v.get(1).and_then(Value::as_u64));
                let text = secs
                    .zip(nanos)
                    .and_then(|(s, n)| iso_from_unix(s, u32::try_from(n).ok()?.min(999_999_999)));
                Value::String(text.ok_or(DecodeError("a Time is malformed"))?)
            }
            // Duration: its value in seconds; Set, HashWithIndifferentAccess, IPAddr: their one value.
            10 | 12 | 14 | 17 => self.values_in(data)?.into_iter().next().unwrap_or(Value::Null),
            4 => Value::Array(self.values_in(data)?),
            11 => {
                let mut v = self.values_in(data)?.into_iter();
                let mut out = Map::new();
                out.insert("begin".into(), v.next().unwrap_or(Value::Null));
                out.insert("end".into(), v.next().unwrap_or(Value::Null));
                out.insert("exclude_end".into(), v.next().unwrap_or(Value::Null));
                Value::Object(out)
            }
            120 => {
                let dumped = self.values_in(data)?.into_iter().next().unwrap_or(Value::Null);
                self.records(dumped)?
            }
            // The Object fallback: [how, class name, payload].
            127 => self.values_in(data)?.into_iter().nth(2).unwrap_or(Value::Null),
            _ => Value::Null,
        })
    }
}

/// `MessagePack::Bigint`: a sign byte, then 32-bit big-endian chunks, least significant first.
fn big_integer(data: &[u8]) -> Option<String> {
    let (&sign, chunks) = data.split_first()?;
    if chunks.len() % 4 != 0 {
        return None;
    }
    let le: Vec<u8> = chunks.chunks_exact(4).flat_map(|c| [c[3], c[2], c[1], c[0]]).collect();
    big_decimal_text(sign != 0, &le)
}

/// `[jd, hour, min, sec, sec_fraction…, offset…]`, the fractions as `numerator[, denominator]`
/// (the denominator left out when the numerator is 0); local fields, the offset in days.
fn date_time(v: &[Value]) -> Option<Value> {
    let int = |i: usize| v.get(i).and_then(Value::as_i64);
    let (jd, h, mi, s) = (int(0)?, int(1)?, int(2)?, int(3)?);
    let mut i = 4;
    let mut rational = || {
        let n = int(i)?;
        i += 1;
        let d = if n == 0 { 1 } else { int(i)? };
        if n != 0 {
            i += 1;
        }
        (d > 0).then_some((i128::from(n), i128::from(d)))
    };
    let (fn_, fd) = rational()?;
    let (on, od) = rational()?;
    if jd.abs() > 1 << 40
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..61).contains(&s)
    {
        return None;
    }
    let local = (i128::from(jd) - 2_440_588) * 86_400 + i128::from(h * 3600 + mi * 60 + s);
    let secs = i64::try_from(local - on * 86_400 / od).ok()?;
    let nanos = u32::try_from(fn_ * 1_000_000_000 / fd).ok()?.min(999_999_999);
    iso_from_unix(secs, nanos).map(Value::String)
}

impl Reader<'_> {
    /// `ActiveRecord::MessagePack`'s `[1, top, entries]`, entries `[class, attributes,
    /// new_record, associations…]`, top an entry's index or an array of them: the records'
    /// attributes (each copy charged to the budget).
    fn records(&mut self, dumped: Value) -> Result<Value, DecodeError> {
        let Value::Array(mut parts) = dumped else { return Ok(Value::Null) };
        let entries = match parts.get_mut(2) {
            Some(Value::Array(e)) => std::mem::take(e),
            _ => Vec::new(),
        };
        let mut record = |r: &Value| -> Result<Value, DecodeError> {
            let attrs = r
                .as_u64()
                .and_then(|i| entries.get(usize::try_from(i).ok()?))
                .and_then(|e| e.get(1));
            match attrs {
                Some(a) => {
                    self.charge(cost(a))?;
                    Ok(a.clone())
                }
                None => Ok(Value::Null),
            }
        };
        Ok(match parts.get(1) {
            Some(Value::Array(refs)) => {
                Value::Array(refs.iter().map(&mut record).collect::<Result<_, _>>()?)
            }
            Some(r) => record(r)?,
            None => Value::Null,
        })
    }
}

/// Roughly the bytes a document takes (what the budget counts).
fn cost(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 16,
        Value::Array(a) => a.iter().map(cost).fold(16, usize::saturating_add),
        Value::Object(m) => {
            m.iter().map(|(k, v)| k.len() + cost(v)).fold(16, usize::saturating_add)
        }
        _ => 16,
    }
}

fn float(f: f64) -> Value {
    crate::decode::float(f, crate::decode::RUBY_NON_FINITE)
}
