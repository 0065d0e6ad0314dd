/*!
PHP `serialize()`, as Laravel's cache stores it in Redis (`Illuminate\Cache\RedisStore`
serializes every value except numbers, which it stores as their digits; such digits decode as
the number).

The document: `N` null, `b` a boolean, `i` an integer, `d` a float (`INF`, `-INF` and `NAN` as
those texts), `s` a byte string as its UTF-8 text (lossy), `a` an array as a JSON array when its
keys are `0..n` in order and as an object of its keys' text otherwise, `E` an enum case as its
name. An object (`O`) is the object of its properties under their plain names (the protected
`\0*\0name` and private `\0Class\0name` spellings lose their prefix; the last of two equal names
wins), with three shapes recognised whatever the class:
- an **Eloquent model** (an object with a protected `attributes` array, as every
  `Illuminate\Database\Eloquent\Model` has) is its `attributes`, plus its loaded `relations`
  under their names where no attribute has that name;
- a **collection** (a class named `…Collection` with a protected `items` array) is its items;
- a **date** (`DateTime`, `DateTimeImmutable`, Carbon: exactly the properties `date`,
  `timezone_type`, `timezone`) in UTC, at a fixed offset or in a named zone (`Europe/Paris`,
  its offset at that wall-clock time from the bundled time-zone database, [`crate::zone`]) is
  ISO-8601 text (`2026-11-26T05:15:25.000000+01:00`); with a zone abbreviation (`CEST`,
  `timezone_type` 2) or a zone the database does not know it stays the object of its three
  fields.

A `C` value (a class implementing the old `Serializable`) is opaque: it reads as the marker
object `{"@php_class": "Name", "@php_serialized": "its payload"}`. References (`r:n` to an
object, `R:n` to a PHP reference) are copies of the value they name; one to a value still being
read (a cycle) is `null`. Values numbered after a `C` whose payload holds values of its own may
be referred to wrongly (that numbering is not followed).

Bounded: every length and count is checked against the bytes that are left before anything is
allocated, the nesting is at most [`Limits::max_depth`], and the document (references' copies
included) at most [`Limits::max_bytes`], roughly.
*/

use serde_json::{Map, Number, Value};

use super::{Codec, DecodeError, Decoded, Limits};

/// The cost charged for one node of the document besides its text.
const NODE: usize = 16;

/// True when the first bytes announce a serialized PHP value (`a:2:{`, `O:5:"`, `s:3:"`,
/// `i:1;`, `b:0;`, `d:…;`, `N;`, `E:…`, `C:…`) and the last byte closes one.
pub fn looks_like(bytes: &[u8]) -> bool {
    let Some(&last) = bytes.last() else { return false };
    if last != b';' && last != b'}' {
        return false;
    }
    match bytes {
        b"N;" => true,
        [b'b', b':', b'0' | b'1', b';'] => true,
        [b'i' | b'd', b':', rest @ ..] => {
            rest.len() >= 2
                && rest[..rest.len() - 1]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
        }
        [b'a', b':', rest @ ..] => digits_then(rest, b":{"),
        [b's' | b'O' | b'C' | b'E', b':', rest @ ..] => digits_then(rest, b":\""),
        _ => false,
    }
}

/// `bytes` starts with ASCII digits followed by `then`.
fn digits_then(bytes: &[u8], then: &[u8]) -> bool {
    let n = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
    n > 0 && bytes[n..].starts_with(then)
}

/// Decodes one value (or the digits Laravel stores for a number, as that text).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let doc = match numeric(bytes) {
        Some(doc) => doc,
        None => {
            let mut r = Reader::new(bytes, limits);
            let (doc, _) = r.value(0)?;
            if r.pos != bytes.len() {
                return Err(DecodeError("the PHP value has bytes after its end"));
            }
            doc
        }
    };
    Ok(Decoded {
        doc,
        expires_ms: None,
        version: None,
        format: "php",
        compression: None,
        codec: Codec::Php,
    })
}

/// A number as PHP's `is_numeric` reads it (what `RedisStore` stores unserialized), as the text
/// `RedisStore::get` returns for it.
fn numeric(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    let t = text.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let ok = all_digits(int)
        && all_digits(frac)
        && !(int.is_empty() && frac.is_empty())
        && exponent.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && all_digits(e)
        });
    ok.then(|| Value::String(text.to_string()))
}

/// A key of an array or a property name.
enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.clone(),
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    max_depth: usize,
    /// What the document may still cost.
    budget: usize,
    /// The number the next value gets (PHP numbers every value but `R:` from 1, keys aside).
    next_slot: usize,
    /// The values some `r:`/`R:` may name, sorted by slot, with their cost (`None` while the
    /// value is being read).
    kept: Vec<(usize, Option<(Value, usize)>)>,
}

fn err<T>(why: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError(why))
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8], limits: &Limits) -> Reader<'a> {
        Reader {
            b,
            pos: 0,
            max_depth: limits.max_depth,
            budget: limits.max_bytes,
            next_slot: 1,
            kept: referenced_slots(b).into_iter().map(|s| (s, None)).collect(),
        }
    }

    fn charge(&mut self, cost: usize) -> Result<(), DecodeError> {
        match self.budget.checked_sub(cost) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => err("the PHP value is larger than the decoder's limit"),
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let c = *self.b.get(self.pos).ok_or(DecodeError("the PHP value is cut short"))?;
        self.pos += 1;
        Ok(c)
    }

    fn expect(&mut self, c: u8) -> Result<(), DecodeError> {
        if self.byte()? == c { Ok(()) } else { err("the PHP value is malformed") }
    }

    /// The text up to (not including) `end`, which is consumed.
    fn until(&mut self, end: u8) -> Result<&'a [u8], DecodeError> {
        let rest = &self.b[self.pos..];
        let n =
            rest.iter().position(|&c| c == end).ok_or(DecodeError("the PHP value is cut short"))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn int(&mut self, end: u8) -> Result<i64, DecodeError> {
        let text = self.until(end)?;
        let digits = text.strip_prefix(b"-").or_else(|| text.strip_prefix(b"+")).unwrap_or(text);
        if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
            return err("the PHP value has a malformed number");
        }
        std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(DecodeError("the PHP value has a malformed number"))
    }

    /// A length or count, no more than the bytes left (each counted thing takes at least one).
    fn count(&mut self, end: u8) -> Result<usize, DecodeError> {
        let n = self.int(end)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.b.len() - self.pos => Ok(n),
            _ => err("the PHP value has a length beyond its bytes"),
        }
    }

    /// `len:"bytes"`, the quotes consumed.
    fn quoted(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.count(b':')?;
        self.expect(b'"')?;
        let s =
            self.b.get(self.pos..self.pos + n).ok_or(DecodeError("the PHP value is cut short"))?;
        self.pos += n;
        self.expect(b'"')?;
        Ok(s)
    }

    fn text(&mut self, s: &[u8]) -> Result<(Value, usize), DecodeError> {
        let cost = NODE + s.len();
        self.charge(cost)?;
        Ok((Value::String(String::from_utf8_lossy(s).into_owned()), cost))
    }

    fn key(&mut self) -> Result<Key, DecodeError> {
        let tag = self.byte()?;
        self.expect(b':')?;
        match tag {
            b'i' => Ok(Key::Int(self.int(b';')?)),
            b's' => {
                let s = self.quoted()?;
                self.expect(b';')?;
                self.charge(NODE + s.len())?;
                Ok(Key::Str(String::from_utf8_lossy(s).into_owned()))
            }
            _ => err("the PHP value has a key that is neither an integer nor a string"),
        }
    }

    /// The kept value of `slot`, if a reference names it.
    fn kept_index(&self, slot: usize) -> Option<usize> {
        self.kept.binary_search_by_key(&slot, |(s, _)| *s).ok()
    }

    /// One value and its cost.
    fn value(&mut self, depth: usize) -> Result<(Value, usize), DecodeError> {
        if depth > self.max_depth {
            return err("the PHP value is nested deeper than the decoder's limit");
        }
        let tag = self.byte()?;
        if tag == b'R' || tag == b'r' {
            self.expect(b':')?;
            let target = self.int(b';')?;
            if tag == b'r' {
                self.next_slot += 1;
            }
            let found = usize::try_from(target).ok().and_then(|t| self.kept_index(t));
            let Some(i) = found else { return err("the PHP value refers to a value it lacks") };
            return match self.kept[i].1.clone() {
                Some((v, cost)) => {
                    self.charge(cost)?;
                    Ok((v, cost))
                }
                // Still being read: a cycle.
                None => Ok((Value::Null, NODE)),
            };
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        let (v, cost) = self.fresh(tag, depth)?;
        if let Some(i) = self.kept_index(slot) {
            self.charge(cost)?;
            self.kept[i].1 = Some((v.clone(), cost));
        }
        Ok((v, cost))
    }

    fn fresh(&mut self, tag: u8, depth: usize) -> Result<(Value, usize), DecodeError> {
        if tag == b'N' {
            self.expect(b';')?;
            return Ok((Value::Null, NODE));
        }
        self.expect(b':')?;
        self.charge(NODE)?;
        match tag {
            b'b' => match self.until(b';')? {
                b"0" => Ok((Value::Bool(false), NODE)),
                b"1" => Ok((Value::Bool(true), NODE)),
                _ => err("the PHP value has a malformed boolean"),
            },
            b'i' => Ok((Value::Number(self.int(b';')?.into()), NODE)),
            b'd' => {
                let text = self.until(b';')?;
                Ok((float(text)?, NODE))
            }
            b's' => {
                let s = self.quoted()?;
                self.expect(b';')?;
                self.text(s)
            }
            b'E' => {
                let s = self.quoted()?;
                self.expect(b';')?;
                let case = s.iter().rposition(|&c| c == b':').map_or(s, |i| &s[i + 1..]);
                self.text(case)
            }
            b'a' => {
                let n = self.count(b':')?;
                self.expect(b'{')?;
                let (entries, cost) = self.entries(n, depth)?;
                self.expect(b'}')?;
                Ok((array(entries), cost))
            }
            b'O' => {
                let class = self.quoted()?;
                self.expect(b':')?;
                let n = self.count(b':')?;
                self.expect(b'{')?;
                let (props, cost) = self.entries(n, depth)?;
                self.expect(b'}')?;
                Ok((object(class, props), cost))
            }
            b'C' => {
                let class = self.quoted()?;
                self.expect(b':')?;
                let n = self.count(b':')?;
                self.expect(b'{')?;
                let payload = self
                    .b
                    .get(self.pos..self.pos + n)
                    .ok_or(DecodeError("the PHP value is cut short"))?;
                self.pos += n;
                self.expect(b'}')?;
                let cost = 3 * NODE + class.len() + payload.len();
                self.charge(cost)?;
                let mut m = Map::new();
                m.insert(
                    "@php_class".into(),
                    Value::String(String::from_utf8_lossy(class).into_owned()),
                );
                m.insert(
                    "@php_serialized".into(),
                    Value::String(String::from_utf8_lossy(payload).into_owned()),
                );
                Ok((Value::Object(m), cost))
            }
            _ => err("the PHP value has an unknown type"),
        }
    }

    /// `n` key/value pairs (an array's or an object's).
    fn entries(
        &mut self,
        n: usize,
        depth: usize,
    ) -> Result<(Vec<(Key, Value)>, usize), DecodeError> {
        // Each pair takes at least 8 bytes (`i:0;N;` and a closing brace elsewhere).
        let mut out = Vec::with_capacity(n.min((self.b.len() - self.pos) / 8));
        let mut cost = NODE;
        for _ in 0..n {
            let k = self.key()?;
            let (v, c) = self.value(depth + 1)?;
            cost = cost.saturating_add(c).saturating_add(NODE);
            out.push((k, v));
        }
        Ok((out, cost))
    }
}

/// The slots some `r:n;`/`R:n;` may name: every number after `r:` or `R:` at a value's start
/// (a string's bytes may make a few more, which only costs a copy).
fn referenced_slots(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, w) in b.windows(3).enumerate() {
        if matches!(w, [b';' | b'{' | b'}', b'r' | b'R', b':']) {
            let digits = &b[i + 3..];
            let n = digits.iter().take_while(|c| c.is_ascii_digit()).count().min(19);
            if let Some(slot) = std::str::from_utf8(&digits[..n]).ok().and_then(|t| t.parse().ok())
            {
                out.push(slot);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn float(text: &[u8]) -> Result<Value, DecodeError> {
    let special = match text {
        b"INF" => Some("INF"),
        b"-INF" => Some("-INF"),
        b"NAN" => Some("NAN"),
        _ => None,
    };
    if let Some(s) = special {
        return Ok(Value::String(s.into()));
    }
    let ok = !text.is_empty() && text.iter().all(|c| c.is_ascii_digit() || b"+-.eE".contains(c));
    let f: Option<f64> = ok.then(|| std::str::from_utf8(text).ok()?.parse().ok()).flatten();
    match f.and_then(Number::from_f64) {
        Some(n) => Ok(Value::Number(n)),
        None => err("the PHP value has a malformed float"),
    }
}

/// A PHP array: a list when its keys are `0..n` in order, else an object.
fn array(entries: Vec<(Key, Value)>) -> Value {
    let list = entries
        .iter()
        .enumerate()
        .all(|(i, (k, _))| matches!(k, Key::Int(j) if usize::try_from(*j) == Ok(i)));
    if list {
        return Value::Array(entries.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k.text(), v);
    }
    Value::Object(m)
}

/// A property's plain name: `\0*\0name` and `\0Class\0name` lose their prefix.
fn plain(name: &str) -> &str {
    match name.strip_prefix('\0') {
        Some(rest) => rest.split_once('\0').map_or(rest, |(_, n)| n),
        None => name,
    }
}

/// An object from its class and properties (see the module doc for the shapes recognised).
fn object(class: &[u8], props: Vec<(Key, Value)>) -> Value {
    let protected = |name: &str| {
        props
            .iter()
            .position(|(k, _)| matches!(k, Key::Str(s) if s.strip_prefix("\0*\0") == Some(name)))
    };
    if let Some(i) = protected("attributes")
        && matches!(props[i].1, Value::Object(_) | Value::Array(_))
    {
        let relations = protected("relations");
        return model(props, i, relations);
    }
    if class.ends_with(b"Collection")
        && let Some(i) = protected("items")
    {
        return props.into_iter().nth(i).map_or(Value::Null, |(_, v)| v);
    }
    if let Some(date) = date(&props) {
        return date;
    }
    if props
        .iter()
        .enumerate()
        .all(|(i, (k, _))| matches!(k, Key::Int(j) if usize::try_from(*j) == Ok(i)))
        && !props.is_empty()
    {
        return Value::Array(props.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (k, v) in props {
        let name = match k {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => plain(&s).to_string(),
        };
        m.insert(name, v);
    }
    Value::Object(m)
}

/// An Eloquent model: its attributes, and its loaded relations where no attribute has the name.
fn model(props: Vec<(Key, Value)>, attributes: usize, relations: Option<usize>) -> Value {
    let mut props: Vec<Option<Value>> = props.into_iter().map(|(_, v)| Some(v)).collect();
    let mut doc = match props[attributes].take() {
        Some(Value::Object(m)) => m,
        Some(Value::Array(items)) => {
            items.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect()
        }
        _ => Map::new(),
    };
    if let Some(Value::Object(rel)) = relations.and_then(|i| props[i].take()) {
        for (name, v) in rel {
            doc.entry(name).or_insert(v);
        }
    }
    Value::Object(doc)
}

/// A `DateTime`'s three properties as ISO-8601 text, when its zone is UTC, an offset or a zone
/// the bundled time-zone database knows (a wall-clock time a zone has twice takes the offset in
/// force after the transition, as PHP 8's `unserialize` does).
fn date(props: &[(Key, Value)]) -> Option<Value> {
    let [
        (Key::Str(d), Value::String(when)),
        (Key::Str(t), Value::Number(kind)),
        (Key::Str(z), Value::String(zone)),
    ] = props
    else {
        return None;
    };
    if (d.as_str(), t.as_str(), z.as_str()) != ("date", "timezone_type", "timezone") {
        return None;
    }
    let (day, time) = when.split_once(' ')?;
    let offset = match zone.as_str() {
        "UTC" | "Z" => "+00:00".to_string(),
        o if o.len() == 6
            && o.starts_with(['+', '-'])
            && o.as_bytes()[3] == b':'
            && o.bytes().enumerate().all(|(i, c)| i == 0 || i == 3 || c.is_ascii_digit()) =>
        {
            o.to_string()
        }
        name if kind.as_u64() == Some(3) => {
            let local: jiff::civil::DateTime = format!("{day}T{time}").parse().ok()?;
            crate::zone::render_offset(i64::from(crate::zone::offset_at(
                name,
                local,
                crate::zone::Fold::After,
            )?))
        }
        _ => return None,
    };
    Some(Value::String(format!("{day}T{time}{offset}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixture_check as fixtures;

    #[test]
    fn fixtures_from_laravel_decode_to_their_documents() {
        let n = fixtures::check_dir("php", |b| decode(b, &Limits::default()));
        assert!(n >= 30, "{n} fixtures");
    }

    #[test]
    fn fixtures_are_detected() {
        for (name, bytes, _) in fixtures::load("php") {
            let numeric = numeric(&bytes).is_some();
            assert_eq!(looks_like(&bytes), !numeric, "{name}");
            if !numeric {
                assert_eq!(crate::decode::detect(&bytes), Some(Codec::Php), "{name}");
            }
        }
    }

    #[test]
    fn damaged_fixtures_never_panic() {
        fixtures::mutilate("php", |b| {
            let _ = decode(b, &Limits::default());
        });
    }

    #[test]
    fn limits_hold() {
        let tight = Limits { max_bytes: 1 << 10, max_depth: 8 };
        for (name, bytes, _) in fixtures::load("php") {
            if name == "deep" {
                assert!(decode(&bytes, &tight).is_err());
            }
        }
        // Each level refers to the one below twice: the copies grow past the budget, not the
        // memory.
        let mut v = format!("s:100:\"{}\";", "x".repeat(100));
        for d in (0..40).rev() {
            v = format!("a:2:{{i:0;{v}i:1;R:{};}}", d + 2);
        }
        assert!(decode(v.as_bytes(), &Limits::default()).is_err());
        let bomb = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/decode/php/limits/reference_bomb.bin"
        ))
        .unwrap();
        assert!(bomb.len() < 2048);
        assert!(decode(&bomb, &Limits::default()).is_err());
    }

    #[test]
    fn numbers_stored_raw_are_numbers() {
        assert_eq!(numeric(b"42"), Some(Value::from("42")));
        assert_eq!(numeric(b" -1.5e3"), Some(Value::from(" -1.5e3")));
        assert_eq!(numeric(b"1e"), None);
        assert_eq!(numeric(b"."), None);
        assert!(!looks_like(b"a:b"));
        assert!(!looks_like(b"i:1"));
    }
}
