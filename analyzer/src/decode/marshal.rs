/*!
Ruby `Marshal` 4.8 (what `Marshal.dump` writes, and what Rails caches hold), read without
evaluating anything: the stream is parsed into a flat table of nodes (links to earlier objects
are indices into it, so a shared or cyclic object is read once), then turned into the document
model:

- nil, true, false, integers, floats (`inf`/`nan` as text, JSON has no number for them), big
  integers (as decimal text past 64 bits), strings (their UTF-8 text, whatever the encoding ivar
  says), symbols (their names), arrays, hashes (keys as text; a default value is dropped);
- `BigDecimal` as decimal text, `Time`, `Date`, `DateTime` and `ActiveSupport::TimeWithZone` as
  ISO-8601 UTC text;
- an object (`o`) as the object of its instance variables without the `@`, a `Struct` as the
  object of its members;
- an ActiveRecord model (its `@attributes` an `ActiveModel::AttributeSet`,
  `LazyAttributeSet` or `LazyAttributeHash`, or the Rails 7.1 compact `marshal_dump`
  `[attributes, new_record]`) as the object of its columns;
- an `ActiveSupport::Cache::Entry` as the object of its ivars, `@value` inflated and read when
  the entry is `@compressed`.

Bounds: every length is checked against the bytes left before anything is kept, nesting stops
at [`Limits::max_depth`], and the document (with every link expanded) at [`Limits::max_bytes`].
*/

mod classes;
mod values;

use std::io::Read as _;
use std::ops::Range;

use serde_json::{Map, Value};

use super::{Codec, DecodeError, Decoded, Limits};

pub(crate) use values::{big_decimal_text, bigdecimal_text, iso_date, iso_from_unix};

/// True when the first bytes announce this format (Marshal 4.8 and a type byte).
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.len() > 2 && bytes[0] == 4 && bytes[1] == 8 && TYPE_BYTES.contains(&bytes[2])
}

/// Every type byte a Marshal value starts with.
const TYPE_BYTES: &[u8] = b"0TFifl\":;[{}@IeCuUoSc/mMd";

/// Decodes one value.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let (doc, _) = read(bytes, limits)?;
    Ok(Decoded {
        doc,
        expires_ms: None,
        version: None,
        format: "ruby marshal",
        compression: None,
        codec: Codec::Marshal,
    })
}

/// The document of one Marshal stream, and the class of its top object (`o`/`u`/`U`), if any.
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> Result<(Value, Option<String>), DecodeError> {
    let body = match bytes {
        [4, 8, rest @ ..] => rest,
        _ => return Err(DecodeError("not Ruby Marshal 4.8")),
    };
    let mut p = Parser {
        b: body,
        pos: 0,
        nodes: Vec::new(),
        syms: Vec::new(),
        objs: Vec::new(),
        depth: 0,
        max_depth: limits.max_depth,
    };
    let top = p.value()?;
    let class = match &p.nodes[top] {
        Node::Object { class, .. }
        | Node::UserDef { class, .. }
        | Node::UserMarshal { class, .. } => Some(p.sym(*class).to_string()),
        _ => None,
    };
    let mut c = Converter {
        p: &p,
        budget: limits.max_bytes,
        on_path: vec![false; p.nodes.len()],
        depth: 0,
        limits: *limits,
    };
    let doc = c.doc(top)?;
    Ok((doc, class))
}

/// A zlib stream inflated, at most `max` bytes of it.
pub(crate) fn inflate(bytes: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(bytes)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError("a zlib-compressed value does not inflate"))?;
    if out.len() > max {
        return Err(DecodeError("a compressed value inflates past the size limit"));
    }
    Ok(out)
}

type Id = usize;
type Sym = usize;
type Ivars = Vec<(Sym, Id)>;

/// One value of the stream.
enum Node {
    Nil,
    Bool(bool),
    Int(i64),
    /// A big integer, already in decimal text.
    Big(String),
    Float(f64),
    Str {
        bytes: Range<usize>,
        ivars: Ivars,
    },
    Sym(Sym),
    Array(Vec<Id>),
    Hash(Vec<(Id, Id)>),
    Object {
        class: Sym,
        ivars: Ivars,
    },
    Struct {
        members: Ivars,
    },
    UserDef {
        class: Sym,
        data: Range<usize>,
        ivars: Ivars,
    },
    UserMarshal {
        class: Sym,
        data: Id,
    },
    /// A regexp's source, or a class or module's name.
    Text(Range<usize>),
    /// A placeholder while an object is being read (a link to it from inside is a cycle).
    Pending,
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    syms: Vec<Range<usize>>,
    objs: Vec<Id>,
    depth: usize,
    max_depth: usize,
}

const TRUNCATED: DecodeError = DecodeError("a Marshal stream ends early");

impl<'a> Parser<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.b.get(self.pos).ok_or(TRUNCATED)?;
        self.pos += 1;
        Ok(b)
    }

    /// Marshal's packed integer (`w_long`).
    fn long(&mut self) -> Result<i64, DecodeError> {
        let c = self.byte()? as i8;
        Ok(match c {
            0 => 0,
            1..=4 => {
                let mut x: i64 = 0;
                for i in 0..c {
                    x |= i64::from(self.byte()?) << (8 * i);
                }
                x
            }
            -4..=-1 => {
                let mut x: i64 = -1;
                for i in 0..(-c) {
                    x &= !(0xff << (8 * i));
                    x |= i64::from(self.byte()?) << (8 * i);
                }
                x
            }
            c if c > 0 => i64::from(c) - 5,
            c => i64::from(c) + 5,
        })
    }

    /// A length: not negative, and at most the bytes left (every element takes one).
    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.long()?;
        let left = self.b.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= left)
            .ok_or(DecodeError("a Marshal length is out of range"))
    }

    fn bytes(&mut self) -> Result<Range<usize>, DecodeError> {
        let n = self.len()?;
        let r = self.pos..self.pos + n;
        self.pos += n;
        Ok(r)
    }

    fn sym(&self, s: Sym) -> &str {
        std::str::from_utf8(&self.b[self.syms[s].clone()]).unwrap_or("?")
    }

    /// A symbol (`:` new, `;` link, or `I:` with an encoding).
    fn symbol(&mut self) -> Result<Sym, DecodeError> {
        match self.byte()? {
            b':' => {
                let r = self.bytes()?;
                self.syms.push(r);
                Ok(self.syms.len() - 1)
            }
            b';' => {
                let i = self.long()?;
                usize::try_from(i)
                    .ok()
                    .filter(|&i| i < self.syms.len())
                    .ok_or(DecodeError("a Marshal symbol link points nowhere"))
            }
            b'I' => {
                let s = self.symbol()?;
                self.ivars()?;
                Ok(s)
            }
            _ => Err(DecodeError("a Marshal symbol was expected")),
        }
    }

    fn ivars(&mut self) -> Result<Ivars, DecodeError> {
        let n = self.len()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let k = self.symbol()?;
            let v = self.value()?;
            out.push((k, v));
        }
        Ok(out)
    }

    fn push(&mut self, n: Node) -> Id {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    /// A node entered in the object table (links count these), filled in later.
    fn entry(&mut self) -> Id {
        let id = self.push(Node::Pending);
        self.objs.push(id);
        id
    }

    fn value(&mut self) -> Result<Id, DecodeError> {
        if self.depth >= self.max_depth {
            return Err(DecodeError("a Marshal value nests too deep"));
        }
        self.depth += 1;
        let r = self.value_inner();
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self) -> Result<Id, DecodeError> {
        let t = self.byte()?;
        let node = match t {
            b'0' => Node::Nil,
            b'T' => Node::Bool(true),
            b'F' => Node::Bool(false),
            b'i' => Node::Int(self.long()?),
            b':' | b';' => {
                self.pos -= 1;
                Node::Sym(self.symbol()?)
            }
            b'@' => {
                let i = self.long()?;
                return usize::try_from(i)
                    .ok()
                    .and_then(|i| self.objs.get(i).copied())
                    .ok_or(DecodeError("a Marshal object link points nowhere"));
            }
            b'I' => {
                let id = self.value()?;
                let more = self.ivars()?;
                if let Node::Str { ivars, .. } | Node::UserDef { ivars, .. } = &mut self.nodes[id] {
                    ivars.extend(more);
                }
                return Ok(id);
            }
            b'e' | b'C' => {
                self.symbol()?;
                return self.value();
            }
            b'f' => {
                let id = self.entry();
                let r = self.bytes()?;
                let text = &self.b[r];
                let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
                let f = match text {
                    b"inf" => f64::INFINITY,
                    b"-inf" => f64::NEG_INFINITY,
                    b"nan" => f64::NAN,
                    t => std::str::from_utf8(t)
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .ok_or(DecodeError("a Marshal float is not a number"))?,
                };
                self.nodes[id] = Node::Float(f);
                return Ok(id);
            }
            b'l' => {
                let id = self.entry();
                let neg = self.byte()? == b'-';
                let words = self.len()?;
                let n = words
                    .checked_mul(2)
                    .filter(|&n| n <= self.b.len() - self.pos)
                    .ok_or(TRUNCATED)?;
                let mag = &self.b[self.pos..self.pos + n];
                self.pos += n;
                let text = big_decimal_text(neg, mag)
                    .ok_or(DecodeError("a Marshal big integer is too long"))?;
                self.nodes[id] = match text.parse::<i64>() {
                    Ok(i) => Node::Int(i),
                    Err(_) => Node::Big(text),
                };
                return Ok(id);
            }
            b'"' => {
                let id = self.entry();
                let bytes = self.bytes()?;
                self.nodes[id] = Node::Str { bytes, ivars: Vec::new() };
                return Ok(id);
            }
            b'/' => {
                let id = self.entry();
                let r = self.bytes()?;
                self.byte()?;
                self.nodes[id] = Node::Text(r);
                return Ok(id);
            }
            b'c' | b'm' | b'M' => {
                let id = self.entry();
                let r = self.bytes()?;
                self.nodes[id] = Node::Text(r);
                return Ok(id);
            }
            b'[' => {
                let id = self.entry();
                let n = self.len()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value()?);
                }
                self.nodes[id] = Node::Array(items);
                return Ok(id);
            }
            b'{' | b'}' => {
                let id = self.entry();
                let n = self.len()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let k = self.value()?;
                    let v = self.value()?;
                    pairs.push((k, v));
                }
                if t == b'}' {
                    self.value()?;
                }
                self.nodes[id] = Node::Hash(pairs);
                return Ok(id);
            }
            b'o' => {
                let id = self.entry();
                let class = self.symbol()?;
                let ivars = self.ivars()?;
                self.nodes[id] = Node::Object { class, ivars };
                return Ok(id);
            }
            b'S' => {
                let id = self.entry();
                self.symbol()?;
                let members = self.ivars()?;
                self.nodes[id] = Node::Struct { members };
                return Ok(id);
            }
            b'u' => {
                let class = self.symbol()?;
                let data = self.bytes()?;
                let id = self.entry();
                self.nodes[id] = Node::UserDef { class, data, ivars: Vec::new() };
                return Ok(id);
            }
            b'U' => {
                let id = self.entry();
                let class = self.symbol()?;
                let data = self.value()?;
                self.nodes[id] = Node::UserMarshal { class, data };
                return Ok(id);
            }
            b'd' => {
                let id = self.entry();
                self.symbol()?;
                let data = self.value()?;
                self.nodes[id] = Node::Array(vec![data]);
                return Ok(id);
            }
            _ => return Err(DecodeError("an unknown Marshal type byte")),
        };
        Ok(self.push(node))
    }
}

/// Turns nodes into the document, expanding links within the byte budget.
struct Converter<'p, 'a> {
    p: &'p Parser<'a>,
    budget: usize,
    on_path: Vec<bool>,
    depth: usize,
    limits: Limits,
}

const TOO_BIG: DecodeError = DecodeError("a Marshal value is larger than the size limit");

impl Converter<'_, '_> {
    fn charge(&mut self, n: usize) -> Result<(), DecodeError> {
        self.budget = self.budget.checked_sub(n.saturating_add(16)).ok_or(TOO_BIG)?;
        Ok(())
    }

    fn text(&mut self, r: &Range<usize>) -> Result<String, DecodeError> {
        self.charge(r.len())?;
        Ok(String::from_utf8_lossy(&self.p.b[r.clone()]).into_owned())
    }

    fn sym_text(&mut self, s: Sym) -> Result<String, DecodeError> {
        let r = self.p.syms[s].clone();
        self.text(&r)
    }

    fn doc(&mut self, id: Id) -> Result<Value, DecodeError> {
        // A link back to an object being converted is a cycle: it reads as null.
        if self.on_path[id] {
            return Ok(Value::Null);
        }
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError("a Marshal value nests too deep"));
        }
        self.charge(0)?;
        self.on_path[id] = true;
        self.depth += 1;
        let r = self.doc_inner(id);
        self.depth -= 1;
        self.on_path[id] = false;
        r
    }

    fn doc_inner(&mut self, id: Id) -> Result<Value, DecodeError> {
        let p = self.p;
        Ok(match &p.nodes[id] {
            Node::Nil | Node::Pending => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Big(t) => {
                self.charge(t.len())?;
                Value::String(t.clone())
            }
            Node::Float(f) => float(*f),
            Node::Str { bytes, .. } | Node::Text(bytes) => Value::String(self.text(bytes)?),
            Node::Sym(s) => Value::String(self.sym_text(*s)?),
            Node::Array(items) => {
                let mut out = Vec::new();
                for &i in items {
                    out.push(self.doc(i)?);
                }
                Value::Array(out)
            }
            Node::Hash(pairs) => {
                let mut out = Map::new();
                for &(k, v) in pairs {
                    let key = self.key(k)?;
                    let v = self.doc(v)?;
                    out.insert(key, v);
                }
                Value::Object(out)
            }
            Node::Struct { members, .. } => Value::Object(self.fields(members)?),
            Node::Object { class, ivars } => self.object(p.sym(*class), ivars)?,
            Node::UserDef { class, data, ivars } => self.user_def(p.sym(*class), data, ivars)?,
            Node::UserMarshal { class, data } => self.user_marshal(p.sym(*class), *data)?,
        })
    }

    /// A hash key as text: strings and symbols as they are, anything else as its JSON (charged
    /// again: a key nested in keys grows with each level's escaping).
    fn key(&mut self, id: Id) -> Result<String, DecodeError> {
        Ok(match self.doc(id)? {
            Value::String(s) => s,
            other => {
                let text = other.to_string();
                self.charge(text.len())?;
                text
            }
        })
    }

    /// Instance variables (or struct members) as an object, names without the `@`.
    fn fields(&mut self, ivars: &Ivars) -> Result<Map<String, Value>, DecodeError> {
        let mut out = Map::new();
        for &(k, v) in ivars {
            let name = self.sym_text(k)?;
            let name = name.strip_prefix('@').map(str::to_string).unwrap_or(name);
            let v = self.doc(v)?;
            out.insert(name, v);
        }
        Ok(out)
    }

    fn ivar(&self, ivars: &Ivars, name: &str) -> Option<Id> {
        ivars.iter().find(|(k, _)| self.p.sym(*k) == name).map(|&(_, v)| v)
    }
}

/// A float as a JSON number, or its Ruby name when JSON has none.
fn float(f: f64) -> Value {
    super::float(f, super::RUBY_NON_FINITE)
}

#[cfg(test)]
pub(crate) mod tests;
