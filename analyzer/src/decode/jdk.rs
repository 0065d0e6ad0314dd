/*!
Java Object Serialization Streams (`AC ED 00 05`), as Spring's `JdkSerializationRedisSerializer`
(the default `RedisTemplate` serializer) writes one object.

The stream's grammar (class descriptors with their superclass chains, handles and back
references, block data, strings in modified UTF-8, arrays, enums) is read in full; nothing is
instantiated. The document:
- `String`, boxed numbers and booleans (`Integer`, `Long`, `Short`, `Byte`, `Double`, `Float`,
  `Boolean`, `Character`, the atomics) as JSON has them (a non-finite double as `NaN`/`Infinity`
  text);
- `BigDecimal` and `BigInteger` as decimal text (`9.90`), `UUID` hyphenated;
- `java.util.Date` and `java.sql.Timestamp` as ISO-8601 UTC text
  (`2026-11-26T04:15:25.12Z`), and the `java.time` values (written through `java.time.Ser`):
  `LocalDate` `2026-11-26`, `LocalTime` `04:15:25`, `LocalDateTime` `2026-11-26T04:15:25.12`,
  `Instant` `…Z`, `OffsetDateTime` and `ZonedDateTime` with their offset (`…+02:00`, the zone's
  name dropped), `OffsetTime`, `Year`, `YearMonth`, `MonthDay`, `Period` in ISO form, a
  `Duration` as its seconds in decimal text, a `ZoneId` as its name;
- maps (`HashMap`, `LinkedHashMap`, `TreeMap`, `Hashtable`, `ConcurrentHashMap`,
  `IdentityHashMap`, `Map.of`, the `Collections` wrappers) as objects, keys as their text; lists
  and sets (`ArrayList`, `LinkedList`, `ArrayDeque`, `Vector`, `HashSet`, `TreeSet`, `List.of`,
  `Arrays.asList`, the `Collections` wrappers) as arrays;
- arrays as arrays, except `byte[]` (its UTF-8 text, lossy) and `char[]` (its text); an enum
  constant as its name; a `Class` as its name;
- any other object as the object of its serialized fields, its superclasses' first (a
  subclass's field of the same name wins); what a `writeObject` method writes beyond its fields
  is skipped. An `Externalizable` class other than the JDK's own is refused.

A back reference is a copy of the value it names; one to an object still being read (a cycle)
is `null`. Bounded: every length is checked against the bytes left, the handle table grows by
at most one entry per byte read, nesting (objects, arrays, superclass chains) is at most
[`Limits::max_depth`], and the document with the copies references make at most
[`Limits::max_bytes`], roughly.
*/

use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Codec, DecodeError, Decoded, Limits};

mod values;

pub(crate) use values::instant;

const MAGIC: [u8; 4] = [0xAC, 0xED, 0x00, 0x05];
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_CLASS: u8 = 0x76;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_RESET: u8 = 0x79;
const TC_BLOCKDATALONG: u8 = 0x7A;
const TC_EXCEPTION: u8 = 0x7B;
const TC_LONGSTRING: u8 = 0x7C;
const TC_PROXYCLASSDESC: u8 = 0x7D;
const TC_ENUM: u8 = 0x7E;
const BASE_HANDLE: u32 = 0x7E_0000;
const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_BLOCK_DATA: u8 = 0x08;

/// The cost charged for one node of the document besides its text.
const NODE: usize = 16;

/// True when the bytes start with the stream magic and version.
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Decodes the one object of a stream.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let Some(body) = bytes.strip_prefix(&MAGIC) else {
        return err("the value is not a Java serialization stream");
    };
    let mut r = Reader {
        b: body,
        pos: 0,
        max_depth: limits.max_depth,
        budget: limits.max_bytes,
        handles: Vec::new(),
    };
    let doc = r.object(0, false)?;
    if r.pos != body.len() {
        return err("the Java stream has bytes after its object");
    }
    Ok(Decoded {
        doc,
        expires_ms: None,
        version: None,
        format: "java serialization",
        compression: None,
        codec: Codec::Jdk,
    })
}

fn err<T>(why: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError(why))
}

/// A class descriptor.
pub(crate) struct ClassDesc {
    pub name: String,
    pub flags: u8,
    pub fields: Vec<FieldDesc>,
    pub parent: Option<Rc<ClassDesc>>,
}

/// A serializable field: its type code (`B C D F I J S Z [ L`) and name.
pub(crate) struct FieldDesc {
    pub code: u8,
    pub name: String,
}

/// What one class of an object's hierarchy wrote.
pub(crate) struct ClassData {
    pub desc: Rc<ClassDesc>,
    pub fields: Vec<Value>,
    /// What its `writeObject`/`writeExternal` wrote after the fields.
    pub ann: Annotation,
}

impl ClassData {
    /// The value of the field `name`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.desc.fields.iter().position(|f| f.name == name).and_then(|i| self.fields.get(i))
    }
}

/// The block data and the objects of an annotation, each in order.
#[derive(Default)]
pub(crate) struct Annotation {
    pub data: Vec<u8>,
    pub objects: Vec<Value>,
}

enum Handle {
    Pending,
    Desc(Rc<ClassDesc>),
    Value(Value),
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    max_depth: usize,
    budget: usize,
    handles: Vec<Handle>,
}

impl Reader<'_> {
    fn charge(&mut self, cost: usize) -> Result<(), DecodeError> {
        match self.budget.checked_sub(cost) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => err("the Java value is larger than the decoder's limit"),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let s = self
            .b
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(DecodeError("the Java stream is cut short"))?;
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn peek(&self) -> Result<u8, DecodeError> {
        self.b.get(self.pos).copied().ok_or(DecodeError("the Java stream is cut short"))
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn left(&self) -> usize {
        self.b.len() - self.pos
    }

    /// A length that must fit in the bytes left, each counted thing taking `each` bytes.
    fn length(&self, n: i64, each: usize) -> Result<usize, DecodeError> {
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(each) <= self.left() => Ok(n),
            _ => err("the Java stream has a length beyond its bytes"),
        }
    }

    /// Modified UTF-8 of `n` bytes.
    fn utf_of(&mut self, n: usize) -> Result<String, DecodeError> {
        self.charge(NODE + n)?;
        let bytes = self.take(n)?;
        Ok(values::modified_utf8(bytes))
    }

    /// A `writeUTF` string (two length bytes).
    fn utf(&mut self) -> Result<String, DecodeError> {
        let n = usize::from(self.u16()?);
        self.utf_of(n)
    }

    fn new_handle(&mut self) -> usize {
        self.handles.push(Handle::Pending);
        self.handles.len() - 1
    }

    fn handle_ref(&mut self) -> Result<&Handle, DecodeError> {
        let h = self.i32()? as u32;
        let i =
            h.checked_sub(BASE_HANDLE).ok_or(DecodeError("the Java stream has a bad handle"))?;
        self.handles
            .get(i as usize)
            .ok_or(DecodeError("the Java stream refers to a handle it lacks"))
    }

    /// A class descriptor (`None` for `TC_NULL`).
    fn class_desc(&mut self, depth: usize) -> Result<Option<Rc<ClassDesc>>, DecodeError> {
        if depth > self.max_depth {
            return err("the Java value is nested deeper than the decoder's limit");
        }
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.handle_ref()? {
                Handle::Desc(d) => Ok(Some(d.clone())),
                _ => err("the Java stream refers to something else where a class is expected"),
            },
            TC_CLASSDESC => {
                let name = self.utf()?;
                self.take(8)?; // serialVersionUID
                let h = self.new_handle();
                let flags = self.u8()?;
                let count = self.u16()?;
                let count = self.length(i64::from(count), 3)?;
                let mut fields = Vec::with_capacity(count);
                for _ in 0..count {
                    let code = self.u8()?;
                    let name = self.utf()?;
                    if code == b'[' || code == b'L' {
                        // The field's type, a string object.
                        let _ = self.object(depth + 1, false)?;
                    } else if !b"BCDFIJSZ".contains(&code) {
                        return err("the Java stream has a field of an unknown type");
                    }
                    fields.push(FieldDesc { code, name });
                }
                self.annotation(depth + 1)?;
                let parent = self.class_desc(depth + 1)?;
                let desc = Rc::new(ClassDesc { name, flags, fields, parent });
                self.handles[h] = Handle::Desc(desc.clone());
                Ok(Some(desc))
            }
            TC_PROXYCLASSDESC => {
                let h = self.new_handle();
                let n = self.i32()?;
                let n = self.length(i64::from(n), 2)?;
                for _ in 0..n {
                    self.utf()?;
                }
                self.annotation(depth + 1)?;
                let parent = self.class_desc(depth + 1)?;
                let desc = Rc::new(ClassDesc {
                    name: "$Proxy".into(),
                    flags: SC_SERIALIZABLE,
                    fields: Vec::new(),
                    parent,
                });
                self.handles[h] = Handle::Desc(desc.clone());
                Ok(Some(desc))
            }
            _ => err("the Java stream has something else where a class is expected"),
        }
    }

    /// Block data and objects up to `TC_ENDBLOCKDATA`.
    fn annotation(&mut self, depth: usize) -> Result<Annotation, DecodeError> {
        let mut ann = Annotation::default();
        loop {
            match self.peek()? {
                TC_ENDBLOCKDATA => {
                    self.pos += 1;
                    return Ok(ann);
                }
                TC_BLOCKDATA | TC_BLOCKDATALONG => {
                    let n = if self.u8()? == TC_BLOCKDATA {
                        i64::from(self.u8()?)
                    } else {
                        i64::from(self.i32()?)
                    };
                    let n = self.length(n, 1)?;
                    self.charge(n)?;
                    let data = self.take(n)?;
                    ann.data.extend_from_slice(data);
                }
                _ => {
                    let v = self.object(depth + 1, false)?;
                    ann.objects.push(v);
                }
            }
        }
    }

    /// One object (`raw`: a `byte[]` as the array of its numbers, for `BigInteger`).
    fn object(&mut self, depth: usize, raw: bool) -> Result<Value, DecodeError> {
        if depth > self.max_depth {
            return err("the Java value is nested deeper than the decoder's limit");
        }
        self.charge(NODE)?;
        let mut tag = self.u8()?;
        while tag == TC_RESET {
            self.handles.clear();
            tag = self.u8()?;
        }
        match tag {
            TC_NULL => Ok(Value::Null),
            TC_REFERENCE => {
                let v = match self.handle_ref()? {
                    Handle::Value(v) => v.clone(),
                    // Still being read: a cycle.
                    Handle::Pending => return Ok(Value::Null),
                    Handle::Desc(d) => Value::String(d.name.clone()),
                };
                self.charge(values::weight(&v))?;
                Ok(v)
            }
            TC_STRING | TC_LONGSTRING => {
                self.pos -= 1;
                let s = self.string()?;
                Ok(Value::String(s))
            }
            TC_CLASS => {
                let desc = self.class_desc(depth + 1)?;
                let v = Value::String(desc.map_or_else(String::new, |d| d.name.clone()));
                self.keep(v)
            }
            TC_ENUM => {
                let _ = self.class_desc(depth + 1)?;
                let h = self.new_handle();
                let name = match self.peek()? {
                    TC_STRING | TC_LONGSTRING | TC_REFERENCE => self.object(depth + 1, false)?,
                    _ => return err("the Java stream has an enum without a name"),
                };
                self.set(h, name)
            }
            TC_ARRAY => self.new_array(depth, raw),
            TC_OBJECT => self.new_object(depth),
            TC_EXCEPTION => err("the Java stream holds an exception"),
            _ => err("the Java stream has an unknown type code"),
        }
    }

    /// A `TC_STRING`/`TC_LONGSTRING`, kept under a new handle.
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = match self.u8()? {
            TC_STRING => usize::from(self.u16()?),
            _ => {
                let n = self.i64()?;
                self.length(n, 1)?
            }
        };
        let h = self.new_handle();
        let s = self.utf_of(n)?;
        self.charge(NODE + s.len())?;
        self.handles[h] = Handle::Value(Value::String(s.clone()));
        Ok(s)
    }

    /// `v` under a new handle.
    fn keep(&mut self, v: Value) -> Result<Value, DecodeError> {
        let h = self.new_handle();
        self.set(h, v)
    }

    /// `v` under handle `h` (a copy, charged).
    fn set(&mut self, h: usize, v: Value) -> Result<Value, DecodeError> {
        self.charge(values::weight(&v))?;
        if let Some(slot) = self.handles.get_mut(h) {
            *slot = Handle::Value(v.clone());
        }
        Ok(v)
    }

    fn new_array(&mut self, depth: usize, raw: bool) -> Result<Value, DecodeError> {
        let Some(desc) = self.class_desc(depth + 1)? else {
            return err("the Java stream has an array without a class");
        };
        let h = self.new_handle();
        let code = desc.name.as_bytes().get(1).copied().unwrap_or(0);
        let size = self.i32()?;
        let each = match code {
            b'B' | b'Z' => 1,
            b'C' | b'S' => 2,
            b'I' | b'F' => 4,
            b'J' | b'D' => 8,
            b'L' | b'[' => 1,
            _ => return err("the Java stream has an array of an unknown type"),
        };
        let n = self.length(i64::from(size), each)?;
        self.charge(n.saturating_mul(NODE))?;
        let v = match code {
            b'B' if !raw => Value::String(String::from_utf8_lossy(self.take(n)?).into_owned()),
            b'C' => {
                let units: Vec<u16> = self
                    .take(2 * n)?
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                Value::String(String::from_utf16_lossy(&units))
            }
            b'L' | b'[' => {
                let mut items = Vec::with_capacity(n.min(self.left()));
                for _ in 0..n {
                    items.push(self.object(depth + 1, false)?);
                }
                Value::Array(items)
            }
            _ => {
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.primitive(code)?);
                }
                Value::Array(items)
            }
        };
        self.set(h, v)
    }

    fn primitive(&mut self, code: u8) -> Result<Value, DecodeError> {
        Ok(match code {
            b'B' => Value::from(self.u8()? as i8),
            b'Z' => Value::Bool(self.u8()? != 0),
            b'C' => Value::String(String::from_utf16_lossy(&[self.u16()?])),
            b'S' => Value::from(i16::from_be_bytes(self.array()?)),
            b'I' => Value::from(self.i32()?),
            b'J' => Value::from(self.i64()?),
            b'F' => {
                let f = f32::from_be_bytes(self.array()?);
                // The float's own shortest digits, not its widened binary value.
                values::double(f.to_string().parse().unwrap_or(f64::from(f)))
            }
            b'D' => values::double(f64::from_be_bytes(self.array()?)),
            _ => return err("the Java stream has a field of an unknown type"),
        })
    }

    fn new_object(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let Some(desc) = self.class_desc(depth + 1)? else {
            return err("the Java stream has an object without a class");
        };
        let h = self.new_handle();
        // The hierarchy, the topmost class first.
        let mut chain = vec![desc.clone()];
        while let Some(parent) = chain.last().and_then(|d| d.parent.clone()) {
            if chain.len() > self.max_depth {
                return err("the Java value is nested deeper than the decoder's limit");
            }
            chain.push(parent);
        }
        chain.reverse();
        let raw_bytes = desc.name == "java.math.BigInteger";
        let mut data = Vec::with_capacity(chain.len());
        for class in chain {
            let mut fields = Vec::new();
            let mut ann = Annotation::default();
            if class.flags & SC_EXTERNALIZABLE != 0 {
                if class.flags & SC_BLOCK_DATA == 0 {
                    return err("the Java stream has an externalizable object of the old protocol");
                }
                ann = self.annotation(depth + 1)?;
            } else if class.flags & SC_SERIALIZABLE != 0 {
                for f in &class.fields {
                    let v = match f.code {
                        b'[' | b'L' => self.object(depth + 1, raw_bytes)?,
                        c => self.primitive(c)?,
                    };
                    fields.push(v);
                }
                if class.flags & SC_WRITE_METHOD != 0 {
                    ann = self.annotation(depth + 1)?;
                }
            }
            data.push(ClassData { desc: class, fields, ann });
        }
        let v = values::object(&desc, data)?;
        self.set(h, v)
    }
}

/// The plain object of the fields of every class, the topmost's first.
pub(crate) fn fields_object(data: Vec<ClassData>) -> Value {
    let mut m = Map::new();
    for class in data {
        for (f, v) in class.desc.fields.iter().zip(class.fields) {
            m.insert(f.name.clone(), v);
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixture_check as fixtures;

    #[test]
    fn fixtures_from_java_decode_to_their_documents() {
        let n = fixtures::check_dir("jdk", |b| decode(b, &Limits::default()));
        assert!(n >= 50, "{n} fixtures");
        for (name, bytes, _) in fixtures::load("jdk") {
            assert_eq!(crate::decode::detect(&bytes), Some(Codec::Jdk), "{name}");
        }
    }

    #[test]
    fn damaged_fixtures_never_panic() {
        fixtures::mutilate("jdk", |b| {
            let _ = decode(b, &Limits::default());
        });
    }

    #[test]
    fn hostile_streams_are_refused_or_bounded() {
        let mut resets = MAGIC.to_vec();
        resets.extend(std::iter::repeat_n(TC_RESET, 100_000));
        resets.push(TC_NULL);
        assert_eq!(decode(&resets, &Limits::default()).map(|d| d.doc), Ok(Value::Null));
        let bomb = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/decode/jdk/limits/reference_bomb.bin"
        ))
        .unwrap();
        assert!(bomb.len() < 2048);
        assert!(decode(&bomb, &Limits::default()).is_err());
    }

    #[test]
    fn limits_hold() {
        let tight = Limits { max_bytes: 1 << 16, max_depth: 16 };
        for (name, bytes, _) in fixtures::load("jdk") {
            let r = decode(&bytes, &tight);
            if name == "deep" || name == "long_string" {
                assert!(r.is_err(), "{name}");
            }
        }
    }
}
