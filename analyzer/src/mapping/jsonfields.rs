/*!
A cached JSON document's mapped fields without building the whole document.
*/

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The top-level fields named by a rule's `json` pairs, parsed through the same
/// `deserialize_any` calls `serde_json::Value` makes (so the same documents are accepted and
/// refused, at any depth, with the same numbers), but keeping only those fields' values —
/// the last of duplicates, as `Value`'s map does.
pub(super) struct Fields<'p> {
    names: &'p [(String, String)],
    /// The value of each pair's field.
    pub found: Vec<Option<Value>>,
    /// The document is an object.
    pub object: bool,
}

impl<'p> Fields<'p> {
    pub fn new(names: &'p [(String, String)]) -> Fields<'p> {
        Fields { names, found: vec![None; names.len()], object: false }
    }

    /// Parses `bytes` as `serde_json::from_slice::<Value>` would.
    pub fn parse(&mut self, bytes: &[u8]) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.deserialize_any(&mut *self)?;
        de.end()
    }
}

impl<'de> Visitor<'de> for &mut Fields<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.object = true;
        while let Some(key) = map.next_key_seed(Key)? {
            let wanted = self.names.iter().position(|(f, _)| *f == key);
            match wanted {
                Some(first) => {
                    let v: Value = map.next_value()?;
                    for (i, (f, _)) in self.names.iter().enumerate().skip(first) {
                        if *f == key {
                            self.found[i] = Some(v.clone());
                        }
                    }
                }
                None => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        skip_seq(seq)
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A map key, as the string `Value` would make of it.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = KeyText<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KeyText<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

/// A key borrowed from the document, or copied when it had escapes.
enum KeyText<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl PartialEq<KeyText<'_>> for String {
    fn eq(&self, k: &KeyText<'_>) -> bool {
        match k {
            KeyText::Borrowed(s) => self == s,
            KeyText::Owned(s) => self == s,
        }
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyText<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<KeyText<'de>, E> {
        Ok(KeyText::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<KeyText<'de>, E> {
        Ok(KeyText::Owned(s.to_string()))
    }
}

/// Any value, parsed (through `deserialize_any`, as `Value` is) and dropped.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(())
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key_seed(Key)?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skip, A::Error> {
        skip_seq(seq).map(|()| Skip)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}
