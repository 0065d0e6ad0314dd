/*!
`Argv`: the arguments of one Redis command as raw bytes.

A command's arguments are kept in one contiguous buffer plus a short list of (start, end) spans,
so a decoded command costs one allocation rather than one per argument. [`ArgvRef`] is the same
arguments seen through spans into a buffer someone else owns: an owned argv's own buffer
([`Argv::view`]) or a decompressed trace frame ([`crate::Reader::next_ref`]), so a command can
be replayed without copying its arguments out of the frame. Arguments are arbitrary bytes
(`\x00`, `\xff`, newlines): nothing here assumes UTF-8.
*/

use smallvec::SmallVec;
use std::fmt;

/// The arguments of one Redis command (`argv[0]` is the command name), as raw bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Argv {
    bytes: Vec<u8>,
    /// (start, end) of each argument in `bytes`, in order and contiguous.
    spans: SmallVec<[(u32, u32); 8]>,
}

impl Argv {
    /// An empty argv, to be filled with [`Argv::push`] or [`Argv::arg_writer`].
    pub fn new() -> Argv {
        Argv::default()
    }

    /// An empty argv with room for `args` arguments totalling `bytes` bytes.
    pub fn with_capacity(args: usize, bytes: usize) -> Argv {
        Argv { bytes: Vec::with_capacity(bytes), spans: SmallVec::with_capacity(args) }
    }

    /// Builds an argv from anything that yields byte slices.
    pub fn from_parts<I, A>(parts: I) -> Argv
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut argv = Argv::new();
        for part in parts {
            argv.push(part.as_ref());
        }
        argv
    }

    /// Removes every argument, keeping the buffers for reuse.
    #[inline]
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// Appends one argument.
    #[inline]
    pub fn push(&mut self, arg: &[u8]) {
        self.bytes.extend_from_slice(arg);
        self.close_arg();
    }

    /// Starts a new argument written byte by byte (used by parsers that unescape in place);
    /// the argument ends when the returned writer is dropped.
    pub fn arg_writer(&mut self) -> ArgWriter<'_> {
        ArgWriter { argv: self }
    }

    #[inline]
    fn close_arg(&mut self) {
        let end = u32::try_from(self.bytes.len()).expect("a Redis command larger than 4 GiB");
        let start = self.spans.last().map_or(0, |&(_, end)| end);
        self.spans.push((start, end));
    }

    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no arguments at all (not even a command name).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`th argument, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, end) = self.spans.get(i)?;
        Some(&self.bytes[start as usize..end as usize])
    }

    /// The arguments as an [`ArgvRef`] (what the replayer's commands read).
    #[inline]
    pub fn view(&self) -> ArgvRef<'_> {
        ArgvRef { bytes: &self.bytes, spans: &self.spans }
    }

    /// The command name (`argv[0]`) as written by the client, or empty.
    #[inline]
    pub fn name(&self) -> &[u8] {
        self.get(0).unwrap_or_default()
    }

    /// True when the command name equals `name`, ignoring ASCII case (`get` = `GET`).
    pub fn is(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name.as_bytes())
    }

    /// Iterates over the arguments in order.
    #[inline]
    pub fn iter(&self) -> ArgvIter<'_> {
        ArgvIter { argv: self, next: 0 }
    }

    /// Total number of argument bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Replaces argument `i` with `value` (used by redaction); panics if `i` is out of range.
    pub fn replace(&mut self, i: usize, value: &[u8]) {
        assert!(i < self.len(), "argument {i} out of range");
        let mut rebuilt = Argv::with_capacity(self.len(), self.bytes.len());
        for (j, arg) in self.iter().enumerate() {
            rebuilt.push(if j == i { value } else { arg });
        }
        *self = rebuilt;
    }
}

impl fmt::Debug for Argv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|a| String::from_utf8_lossy(a))).finish()
    }
}

impl<'a> IntoIterator for &'a Argv {
    type Item = &'a [u8];
    type IntoIter = ArgvIter<'a>;
    fn into_iter(self) -> ArgvIter<'a> {
        self.iter()
    }
}

/// Iterator over the arguments of an [`Argv`].
#[derive(Clone)]
pub struct ArgvIter<'a> {
    argv: &'a Argv,
    next: usize,
}

impl<'a> Iterator for ArgvIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let arg = self.argv.get(self.next)?;
        self.next += 1;
        Some(arg)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.argv.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for ArgvIter<'_> {}

/// Writes one argument of an [`Argv`] byte by byte; the argument is closed on drop.
pub struct ArgWriter<'a> {
    argv: &'a mut Argv,
}

impl ArgWriter<'_> {
    /// Appends one byte to the argument.
    #[inline]
    pub fn push(&mut self, b: u8) {
        self.argv.bytes.push(b);
    }

    /// Appends bytes to the argument.
    #[inline]
    pub fn extend(&mut self, bytes: &[u8]) {
        self.argv.bytes.extend_from_slice(bytes);
    }
}

impl Drop for ArgWriter<'_> {
    fn drop(&mut self) {
        self.argv.close_arg();
    }
}

/// The arguments of one Redis command, borrowed: spans into a buffer owned elsewhere (an
/// [`Argv`]'s, or a decompressed trace frame's). Copy; it reads like [`Argv`].
#[derive(Clone, Copy)]
pub struct ArgvRef<'a> {
    pub(crate) bytes: &'a [u8],
    /// (start, end) of each argument in `bytes`, in order; every span lies within `bytes`.
    pub(crate) spans: &'a [(u32, u32)],
}

impl<'a> ArgvRef<'a> {
    /// A view of `spans` in `bytes`; `None` when a span is reversed or reaches past `bytes`.
    pub fn new(bytes: &'a [u8], spans: &'a [(u32, u32)]) -> Option<ArgvRef<'a>> {
        let fits = spans.iter().all(|&(a, b)| a <= b && b as usize <= bytes.len());
        fits.then_some(ArgvRef { bytes, spans })
    }

    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no arguments at all (not even a command name).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`th argument, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let &(start, end) = self.spans.get(i)?;
        self.bytes.get(start as usize..end as usize)
    }

    /// The command name (`argv[0]`) as written by the client, or empty.
    #[inline]
    pub fn name(&self) -> &'a [u8] {
        self.get(0).unwrap_or_default()
    }

    /// The command name of at most eight bytes as one little-endian word (its bytes, zeros
    /// above them) and its length: one read and a mask where the bytes after the name are in
    /// the same buffer, as they are in a frame. `None` for a longer name, no name, or a name at
    /// the very end of its buffer (read it with [`ArgvRef::name`]).
    #[inline]
    pub fn name_word(&self) -> Option<(u64, usize)> {
        let &(start, end) = self.spans.first()?;
        let n = end.checked_sub(start)? as usize;
        if n > 8 {
            return None;
        }
        let word = self.bytes.get(start as usize..start as usize + 8)?;
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        Some((word & u64::MAX.checked_shr(64 - 8 * n as u32).unwrap_or(0), n))
    }

    /// True when the command name equals `name`, ignoring ASCII case (`get` = `GET`).
    pub fn is(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name.as_bytes())
    }

    /// Iterates over the arguments in order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + Clone + use<'a> {
        let bytes = self.bytes;
        self.spans.iter().map(move |&(a, b)| bytes.get(a as usize..b as usize).unwrap_or_default())
    }

    /// The arguments copied into an owned [`Argv`].
    pub fn to_argv(&self) -> Argv {
        let mut argv = Argv::with_capacity(self.len(), self.iter().map(<[u8]>::len).sum());
        for arg in self.iter() {
            argv.push(arg);
        }
        argv
    }
}

impl PartialEq<Argv> for ArgvRef<'_> {
    fn eq(&self, other: &Argv) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for ArgvRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|a| String::from_utf8_lossy(a))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_including_empty_and_binary_arguments() {
        let parts: [&[u8]; 4] = [b"SET", b"", b"\x00\xff", b"v"];
        let argv = Argv::from_parts(parts);
        assert_eq!(argv.len(), 4);
        assert_eq!(argv.iter().collect::<Vec<_>>(), parts.to_vec());
        assert_eq!(argv.get(4), None);
        assert!(argv.is("set"));
    }

    #[test]
    fn arg_writer_closes_on_drop() {
        let mut argv = Argv::new();
        {
            let mut w = argv.arg_writer();
            w.push(b'a');
            w.extend(b"bc");
        }
        argv.arg_writer();
        assert_eq!(argv.iter().collect::<Vec<_>>(), vec![&b"abc"[..], b""]);
    }

    #[test]
    fn a_view_reads_like_its_argv_and_spans_are_checked() {
        let argv = Argv::from_parts(["SET", "", "\x00\u{ff}", "EX", "10"]);
        let view = argv.view();
        assert_eq!(view.len(), argv.len());
        assert_eq!(view.iter().collect::<Vec<_>>(), argv.iter().collect::<Vec<_>>());
        assert_eq!((view.get(1), view.get(5), view.name()), (Some(&b""[..]), None, &b"SET"[..]));
        assert!(view.is("set") && view == argv && view.to_argv() == argv);
        let bytes = b"GETkey";
        let spans = [(0, 3), (3, 6)];
        assert_eq!(ArgvRef::new(bytes, &spans).unwrap(), Argv::from_parts(["GET", "key"]));
        assert!(ArgvRef::new(bytes, &[(0, 7)]).is_none());
        assert!(ArgvRef::new(bytes, &[(4, 3)]).is_none());
    }

    #[test]
    fn replace_keeps_other_arguments() {
        let mut argv = Argv::from_parts(["SET", "k", "secret", "EX", "10"]);
        argv.replace(2, b"h:1234");
        assert_eq!(argv, Argv::from_parts(["SET", "k", "h:1234", "EX", "10"]));
    }
}
