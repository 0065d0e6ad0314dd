/*!
The `pickle` decoder: Python pickles, protocols 2–5, as Django's `RedisCache`, django-redis's
`PickleSerializer` and Flask-Caching/cachelib (a `!` before the pickle) store them. Integers those
frameworks store as ASCII digits are not pickles: `auto` reads them as text, `decode = "pickle"`
as the integer (the frameworks' own `loads` tries `int()` first).

A small pickle machine that never executes anything. It runs every opcode of protocols 0–5 but
PERSID, the extension registry and out-of-band buffers (errors), keeps the memo and the mark
stack, and builds shared containers in an arena, so a list memoized before its items are
appended is the same list wherever it is fetched again. Globals (`GLOBAL`, `STACK_GLOBAL`, `INST`)
are looked up in a fixed table of names (Python 2 spellings too: `__builtin__`, `copy_reg`):
- containers: `set`, `frozenset`, `list`, `tuple`, `dict`, `bytearray`, `collections.OrderedDict`
  and `defaultdict`; `_codecs.encode` (how protocol 2 writes bytes); `getattr` (how a method such
  as `ZoneInfo._unpickle` is named);
- values: `decimal.Decimal`, `datetime.datetime`/`date`/`time`/`timedelta`/`timezone`,
  `zoneinfo.ZoneInfo`, `pytz._UTC`/`pytz._p`, `uuid.UUID`;
- objects: `copyreg._reconstructor`/`__newobj__`, `NEWOBJ`/`NEWOBJ_EX` + `BUILD`, and Django's
  `django.db.models.base.model_unpickle`.

Any other global is a class whose instances are **generic objects**: an object built from it
(`NEWOBJ` + `BUILD`, `_reconstructor`, `INST`/`OBJ`) is its state dict (both halves of a
`(dict, slots)` state merged); a `dict`/`list` subclass its items; a `str`/`int` subclass (one
scalar argument, no state) that scalar. *Calling* an unknown global (`REDUCE`) yields its argument
when it is one scalar (an `enum.Enum` member, a `str` subclass) and is otherwise an error: what the
function would compute cannot be known without running it.

The document (see [`super`]): `Decimal` and integers beyond 64 bits as decimal text; `datetime`
as ISO-8601 (`2026-01-02T03:04:05.000678`, `+HH:MM` when aware of a fixed offset or a zone; a
named `ZoneInfo` zone has no offset in the pickle, only the wall-clock time, `fold` and the zone's
name, so the offset is the zone's at that time in the bundled time-zone database,
[`crate::zone`], as Python's `isoformat()` writes it: `2026-07-01T12:00:00+02:00`; a zone the
database does not know, or a `time` in a named zone, carries the zone in brackets,
`12:00:00[Europe/Paris]`, which compares as text, never as a wrong instant);
`date`, `time` likewise; `timedelta` as decimal seconds; `UUID` hyphenated; bytes as UTF-8 text;
sets and tuples as arrays; dict keys that are not strings as JSON would write them (`1`, `true`,
`null`, or compact JSON). A Django model instance is its field dict without `_state` and
`_django_version`, its `_memoryview_attrs` (BinaryField values) put back as fields.

Bounded: strings are slices of the input checked against its length; the memo, the stack, the
marks (at most [`Limits::max_depth`]), the arena and the rendered document are charged against
[`Limits::max_bytes`]; integers are at most 1024 bytes; nesting (and so a cycle) stops at
`max_depth`.
*/

mod globals;
mod render;

use std::collections::BTreeMap;
use std::rc::Rc;

use self::globals::{Global, global};
use super::{Codec, DecodeError, Decoded, Limits};

/// True when the first bytes announce this format (`PROTO` 2–5 and at least one more opcode).
pub fn looks_like(bytes: &[u8]) -> bool {
    matches!(bytes, [0x80, 2..=5, _, ..])
}

/// Decodes one value (a leading `!`, cachelib's mark, is skipped; ASCII digits, how the
/// frameworks store an int, are that int).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let bytes = bytes.strip_prefix(b"!").filter(|b| looks_like(b)).unwrap_or(bytes);
    let mut m = Machine::new(bytes, limits);
    // Django's and cachelib's serializers store an int as its digits, and read them first.
    let digits = bytes.trim_ascii();
    let int = (digits.len() <= 4300 && !digits.ends_with(b"L"))
        .then(|| render::int_text(digits, false))
        .flatten();
    let root = match int {
        Some(v) => v,
        None => m.run()?,
    };
    let doc = render::Renderer::new(&m.arena, limits).value(&root, 0)?;
    Ok(Decoded {
        doc,
        expires_ms: None,
        version: None,
        format: "pickle",
        compression: None,
        codec: Codec::Pickle,
    })
}

fn err<T>(why: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError(why))
}

/// A value on the stack or in the memo; containers and objects live in the arena.
#[derive(Clone, Debug)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, as decimal text.
    Big(Rc<str>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    /// An aware time's zone.
    Zone(Zone),
    /// A `timedelta`, in microseconds.
    Delta(i128),
    /// A class or function named by a global.
    Global(Global),
    /// An arena index.
    Obj(usize),
}

#[derive(Clone, Debug)]
enum Zone {
    Offset(i64),
    Named(Rc<str>),
}

/// An arena entry: a container or an object under construction.
#[derive(Debug)]
enum Obj {
    /// A list, tuple, set or frozenset.
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Inst(Inst),
}

#[derive(Debug, Default)]
struct Inst {
    kind: Kind,
    args: Vec<Val>,
    state: Option<Val>,
    items: Vec<(Val, Val)>,
    elems: Vec<Val>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Generic,
    Model,
    Uuid,
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: BTreeMap<u64, Val>,
    arena: Vec<Obj>,
    spent: usize,
    limits: Limits,
}

impl<'a> Machine<'a> {
    fn new(input: &'a [u8], limits: &Limits) -> Self {
        Machine {
            input,
            pos: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: BTreeMap::new(),
            arena: Vec::new(),
            spent: 0,
            limits: *limits,
        }
    }

    /// Charges `n` bytes of allocation against the limit.
    fn spend(&mut self, n: usize) -> Result<(), DecodeError> {
        self.spent = self.spent.saturating_add(n);
        if self.spent > self.limits.max_bytes {
            return err("the pickle is larger than the size limit");
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let input: &'a [u8] = self.input;
        match input.get(self.pos..).filter(|r| r.len() >= n) {
            Some(rest) => {
                self.pos += n;
                Ok(&rest[..n])
            }
            None => err("the pickle is truncated"),
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn le(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A length read from the input, checked against what is left of it.
    fn len(&mut self, n: usize) -> Result<usize, DecodeError> {
        let len = self.le(n)?;
        match usize::try_from(len) {
            Ok(len) if len <= self.input.len() - self.pos => Ok(len),
            _ => err("the pickle is truncated"),
        }
    }

    /// A text argument up to its newline (protocol 0 opcodes).
    fn line(&mut self) -> Result<&'a [u8], DecodeError> {
        let rest = &self.input[self.pos.min(self.input.len())..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return err("the pickle is truncated");
        };
        self.pos += end + 1;
        Ok(rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]))
    }

    fn push(&mut self, v: Val) -> Result<(), DecodeError> {
        if self.stack.len() >= (self.limits.max_bytes / 64).max(1024) {
            return err("the pickle's stack is too deep");
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> Result<Val, DecodeError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return err("the pickle pops an empty stack");
        }
        self.stack.pop().ok_or(DecodeError("the pickle pops an empty stack"))
    }

    fn top(&self) -> Result<&Val, DecodeError> {
        self.stack.last().ok_or(DecodeError("the pickle reads an empty stack"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Val>, DecodeError> {
        let Some(mark) = self.marks.pop() else {
            return err("the pickle has no mark to pop to");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn new_obj(&mut self, obj: Obj) -> Result<Val, DecodeError> {
        let size = match &obj {
            Obj::List(v) => v.len(),
            Obj::Dict(v) => 2 * v.len(),
            Obj::Inst(i) => i.args.len(),
        };
        self.spend(64 + 32 * size)?;
        self.arena.push(obj);
        Ok(Val::Obj(self.arena.len() - 1))
    }

    fn text(&mut self, b: &[u8]) -> Result<Val, DecodeError> {
        self.spend(b.len() + 16)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(Val::Str(s.into())),
            Err(_) => err("the pickle holds a string that is not UTF-8"),
        }
    }

    fn bytes(&mut self, b: &[u8]) -> Result<Val, DecodeError> {
        self.spend(b.len() + 16)?;
        Ok(Val::Bytes(b.into()))
    }

    fn memo_put(&mut self, idx: u64) -> Result<(), DecodeError> {
        let v = self.top()?.clone();
        self.spend(48)?;
        self.memo.insert(idx, v);
        Ok(())
    }

    fn memo_get(&mut self, idx: u64) -> Result<(), DecodeError> {
        match self.memo.get(&idx) {
            Some(v) => {
                let v = v.clone();
                self.push(v)
            }
            None => err("the pickle fetches a memo entry it never stored"),
        }
    }

    fn run(&mut self) -> Result<Val, DecodeError> {
        loop {
            let op = self.byte()?;
            match op {
                b'.' => return self.stack.pop().ok_or(DecodeError("the pickle is empty")),
                0x80 => {
                    if self.byte()? > 5 {
                        return err("the pickle's protocol is newer than 5");
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_depth {
                        return err("the pickle is nested too deep");
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v)?;
                }
                b'N' => self.push(Val::None)?,
                0x88 => self.push(Val::Bool(true))?,
                0x89 => self.push(Val::Bool(false))?,
                b'K' => {
                    let v = self.byte()?;
                    self.push(Val::Int(v.into()))?
                }
                b'M' => {
                    let v = self.le(2)?;
                    self.push(Val::Int(v as i64))?
                }
                b'J' => {
                    let v = self.le(4)? as u32 as i32;
                    self.push(Val::Int(v.into()))?
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a { self.byte()?.into() } else { self.len(4)? };
                    if n > 1024 {
                        return err("the pickle holds an integer of more than 1024 bytes");
                    }
                    let b = self.take(n)?;
                    self.spend(3 * n)?;
                    self.push(render::long(b))?
                }
                b'I' | b'L' => {
                    let line = self.line()?;
                    let v = render::int_text(line, op == b'I')
                        .ok_or(DecodeError("the pickle holds a malformed integer"))?;
                    self.spend(line.len())?;
                    self.push(v)?
                }
                b'F' => {
                    let line = self.line()?;
                    let f = std::str::from_utf8(line).ok().and_then(|s| s.trim().parse().ok());
                    self.push(Val::Float(f.ok_or(DecodeError("the pickle holds a bad float"))?))?
                }
                b'G' => {
                    let b = self.take(8)?;
                    let f = f64::from_be_bytes(b.try_into().unwrap_or_default());
                    self.push(Val::Float(f))?
                }
                0x8c | b'X' | 0x8d => {
                    let n = match op {
                        0x8c => self.byte()?.into(),
                        b'X' => self.len(4)?,
                        _ => self.len(8)?,
                    };
                    let b = self.take(n)?;
                    let v = self.text(b)?;
                    self.push(v)?
                }
                b'V' => {
                    let line = self.line()?;
                    self.spend(line.len() + 16)?;
                    let s = render::raw_unicode_escape(line)
                        .ok_or(DecodeError("the pickle holds a bad UNICODE string"))?;
                    self.push(Val::Str(s.into()))?
                }
                b'C' | b'B' | 0x8e | b'U' | b'T' | 0x96 => {
                    let n = match op {
                        b'C' | b'U' => self.byte()?.into(),
                        b'B' | b'T' => self.len(4)?,
                        _ => self.len(8)?,
                    };
                    let b = self.take(n)?;
                    let v = self.bytes(b)?;
                    self.push(v)?
                }
                b'S' => return err("the pickle holds a protocol-0 STRING"),
                b')' => {
                    let v = self.new_obj(Obj::List(Vec::new()))?;
                    self.push(v)?
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return err("the pickle pops an empty stack");
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    let v = self.new_obj(Obj::List(items))?;
                    self.push(v)?
                }
                b't' | b'l' | 0x91 => {
                    let items = self.pop_mark()?;
                    let v = self.new_obj(Obj::List(items))?;
                    self.push(v)?
                }
                b']' | 0x8f => {
                    let v = self.new_obj(Obj::List(Vec::new()))?;
                    self.push(v)?
                }
                b'}' => {
                    let v = self.new_obj(Obj::Dict(Vec::new()))?;
                    self.push(v)?
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let v = self.new_obj(Obj::Dict(pairs(items)?))?;
                    self.push(v)?
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.append(items)?
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![(k, v)])?
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(pairs(items)?)?
                }
                b'p' => {
                    let idx = decimal(self.line()?)?;
                    self.memo_put(idx)?
                }
                b'q' => {
                    let idx = self.byte()?.into();
                    self.memo_put(idx)?
                }
                b'r' => {
                    let idx = self.le(4)?;
                    self.memo_put(idx)?
                }
                0x94 => {
                    let idx = self.memo.len() as u64;
                    self.memo_put(idx)?
                }
                b'g' => {
                    let idx = decimal(self.line()?)?;
                    self.memo_get(idx)?
                }
                b'h' => {
                    let idx = self.byte()?.into();
                    self.memo_get(idx)?
                }
                b'j' => {
                    let idx = self.le(4)?;
                    self.memo_get(idx)?
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.push(Val::Global(global(module, name)))?
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Val::Str(m), Val::Str(n)) = (module, name) else {
                        return err("the pickle names a global with something not a string");
                    };
                    self.push(Val::Global(global(m.as_bytes(), n.as_bytes())))?
                }
                b'i' => {
                    let g = global(self.line()?, self.line()?);
                    let args = self.pop_mark()?;
                    let v = self.instantiate(g, args)?;
                    self.push(v)?
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return err("the pickle's OBJ has no class");
                    }
                    let cls = items.remove(0);
                    let v = self.new_object(cls, items)?;
                    self.push(v)?
                }
                b'R' => {
                    let args = self.pop()?;
                    let f = self.pop()?;
                    let args = self.tuple(&args)?;
                    let v = match f {
                        Val::Global(g) => self.call(g, args)?,
                        _ => return err("the pickle calls something that is not a global"),
                    };
                    self.push(v)?
                }
                0x81 | 0x92 => {
                    if op == 0x92 {
                        self.pop()?; // keyword arguments
                    }
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let args = self.tuple(&args)?;
                    let v = self.new_object(cls, args)?;
                    self.push(v)?
                }
                b'b' => {
                    let state = self.pop()?;
                    if let Val::Obj(i) = *self.top()?
                        && let Some(Obj::Inst(inst)) = self.arena.get_mut(i)
                    {
                        inst.state = Some(state);
                    }
                }
                0x98 => {}
                b'P' | b'Q' => return err("the pickle uses persistent ids"),
                0x82..=0x84 => return err("the pickle uses the extension registry"),
                0x97 => return err("the pickle uses out-of-band buffers"),
                _ => return err("the pickle holds an unknown opcode"),
            }
        }
    }

    /// The items of a tuple (the arguments of a call).
    fn tuple(&self, v: &Val) -> Result<Vec<Val>, DecodeError> {
        match v {
            Val::Obj(i) => match self.arena.get(*i) {
                Some(Obj::List(items)) => Ok(items.clone()),
                _ => err("the pickle passes arguments that are not a tuple"),
            },
            _ => err("the pickle passes arguments that are not a tuple"),
        }
    }

    fn append(&mut self, items: Vec<Val>) -> Result<(), DecodeError> {
        self.spend(32 * items.len())?;
        let Val::Obj(i) = *self.top()? else {
            return err("the pickle appends to something not a list");
        };
        match self.arena.get_mut(i) {
            Some(Obj::List(l)) => l.extend(items),
            Some(Obj::Inst(inst)) => inst.elems.extend(items),
            _ => return err("the pickle appends to something not a list"),
        }
        Ok(())
    }

    fn set_items(&mut self, items: Vec<(Val, Val)>) -> Result<(), DecodeError> {
        self.spend(64 * items.len())?;
        let Val::Obj(i) = *self.top()? else {
            return err("the pickle sets items of something not a dict");
        };
        match self.arena.get_mut(i) {
            Some(Obj::Dict(d)) => d.extend(items),
            Some(Obj::Inst(inst)) => inst.items.extend(items),
            _ => return err("the pickle sets items of something not a dict"),
        }
        Ok(())
    }

    /// `cls.__new__(cls, *args)` (NEWOBJ, OBJ, `copyreg.__newobj__`).
    fn new_object(&mut self, cls: Val, args: Vec<Val>) -> Result<Val, DecodeError> {
        let Val::Global(g) = cls else {
            return err("the pickle instantiates something that is not a class");
        };
        match g {
            Global::List => self.new_obj(Obj::List(Vec::new())),
            Global::Dict => self.new_obj(Obj::Dict(Vec::new())),
            Global::Uuid => self.new_obj(Obj::Inst(Inst { kind: Kind::Uuid, ..Inst::default() })),
            Global::Object | Global::Other => {
                self.new_obj(Obj::Inst(Inst { args, ..Inst::default() }))
            }
            _ => self.call(g, args),
        }
    }

    /// `cls(*args)` for INST: a known value's constructor, else a generic object.
    fn instantiate(&mut self, g: Global, args: Vec<Val>) -> Result<Val, DecodeError> {
        match g {
            Global::Other | Global::Object => self.new_object(Val::Global(g), args),
            _ => self.call(g, args),
        }
    }

    /// `f(*args)` for REDUCE, for the functions and classes of the table.
    fn call(&mut self, g: Global, args: Vec<Val>) -> Result<Val, DecodeError> {
        match (g, args.as_slice()) {
            (Global::List, []) => self.new_obj(Obj::List(Vec::new())),
            (Global::List, [v]) => {
                let items = self.tuple(v)?;
                self.new_obj(Obj::List(items))
            }
            (Global::Dict, []) | (Global::Dict, [Val::Global(_) | Val::None]) => {
                self.new_obj(Obj::Dict(Vec::new()))
            }
            (Global::Dict, [v]) => {
                let items = self.tuple(v)?;
                let mut kv = Vec::new();
                for item in items {
                    match self.tuple(&item)?.as_slice() {
                        [k, v] => kv.push((k.clone(), v.clone())),
                        _ => return err("the pickle builds a dict from something not pairs"),
                    }
                }
                self.new_obj(Obj::Dict(kv))
            }
            (Global::ByteArray, []) => self.bytes(b""),
            (Global::ByteArray, [Val::Bytes(b)]) => Ok(Val::Bytes(b.clone())),
            (Global::ByteArray | Global::Encode, [Val::Str(s), Val::Str(enc)]) => {
                let b = render::encode(s, enc)
                    .ok_or(DecodeError("the pickle encodes a string it cannot encode"))?;
                self.spend(b.len() + 16)?;
                Ok(Val::Bytes(b.into()))
            }
            (Global::Encode, [Val::Str(s)]) => self.bytes(s.as_bytes()),
            (Global::GetAttr, [Val::Global(Global::ZoneInfo), Val::Str(n)])
                if &**n == "_unpickle" =>
            {
                Ok(Val::Global(Global::ZoneUnpickle))
            }
            (Global::GetAttr, [Val::Global(_), Val::Str(_)]) => Ok(Val::Global(Global::Other)),
            (Global::Reconstructor, [cls, _base, state]) => {
                let args =
                    if matches!(state, Val::None) { Vec::new() } else { vec![state.clone()] };
                self.new_object(cls.clone(), args)
            }
            (Global::NewObj, [cls, rest @ ..]) => {
                let rest = rest.to_vec();
                self.new_object(cls.clone(), rest)
            }
            (Global::Object, _) => self.new_obj(Obj::Inst(Inst::default())),
            (Global::Decimal, [Val::Str(s)]) => Ok(Val::Str(s.clone())),
            (Global::DateTime | Global::Date | Global::Time, _) => {
                let s = render::datetime(g, &args)?;
                self.spend(s.len() + 16)?;
                Ok(Val::Str(s.into()))
            }
            (Global::TimeDelta, _) => render::timedelta(&args).map(Val::Delta),
            (Global::TimeZone, [Val::Delta(us), ..]) => {
                Ok(Val::Zone(Zone::Offset(i64::try_from(us.div_euclid(1_000_000)).unwrap_or(0))))
            }
            (Global::ZoneUnpickle | Global::ZoneInfo, [Val::Str(key), ..]) => {
                Ok(Val::Zone(Zone::Named(key.clone())))
            }
            (Global::PytzUtc, []) => Ok(Val::Zone(Zone::Offset(0))),
            (Global::PytzP, [_, Val::Int(off), ..]) => Ok(Val::Zone(Zone::Offset(*off))),
            (Global::PytzP, [Val::Str(key)]) => Ok(Val::Zone(Zone::Named(key.clone()))),
            (Global::ModelUnpickle, [_]) => {
                self.new_obj(Obj::Inst(Inst { kind: Kind::Model, ..Inst::default() }))
            }
            (Global::Uuid, _) => {
                self.new_obj(Obj::Inst(Inst { kind: Kind::Uuid, args, ..Inst::default() }))
            }
            (
                Global::Other,
                [
                    v @ (Val::Str(_)
                    | Val::Int(_)
                    | Val::Big(_)
                    | Val::Float(_)
                    | Val::Bytes(_)
                    | Val::Bool(_)
                    | Val::None),
                ],
            ) => Ok(v.clone()),
            (Global::Other, _) => err("the pickle calls a function the decoder does not know"),
            _ => err("the pickle calls a known function with arguments it does not expect"),
        }
    }
}

/// Pairs of a mark's items (DICT, SETITEMS).
fn pairs(items: Vec<Val>) -> Result<Vec<(Val, Val)>, DecodeError> {
    if !items.len().is_multiple_of(2) {
        return err("the pickle sets a key without a value");
    }
    let mut it = items.into_iter();
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// A protocol-0 memo index.
fn decimal(line: &[u8]) -> Result<u64, DecodeError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(DecodeError("the pickle holds a bad memo index"))
}
