/*!
`Argv`: the arguments of one Redis command as raw bytes.

A command's arguments are kept in one contiguous buffer plus a short list of end offsets, so a
decoded command costs one allocation rather than one per argument. Arguments are arbitrary bytes
(`\x00`, `\xff`, newlines): nothing here assumes UTF-8.
*/

use smallvec::SmallVec;
use std::fmt;

/// The arguments of one Redis command (`argv[0]` is the command name), as raw bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Argv {
    bytes: Vec<u8>,
    ends: SmallVec<[u32; 8]>,
}

impl Argv {
    /// An empty argv, to be filled with [`Argv::push`] or [`Argv::arg_writer`].
    pub fn new() -> Argv {
        Argv::default()
    }

    /// An empty argv with room for `args` arguments totalling `bytes` bytes.
    pub fn with_capacity(args: usize, bytes: usize) -> Argv {
        Argv { bytes: Vec::with_capacity(bytes), ends: SmallVec::with_capacity(args) }
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
        self.ends.clear();
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
        self.ends.push(end);
    }

    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no arguments at all (not even a command name).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th argument, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.bytes[start..end])
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
    fn replace_keeps_other_arguments() {
        let mut argv = Argv::from_parts(["SET", "k", "secret", "EX", "10"]);
        argv.replace(2, b"h:1234");
        assert_eq!(argv, Argv::from_parts(["SET", "k", "h:1234", "EX", "10"]));
    }
}
