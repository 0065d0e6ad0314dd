/*!
postcard's primitives read by hand: varints, zig-zag varints, lengths and length-prefixed bytes,
as the wire-format spec defines them (<https://postcard.jamesmunns.com/wire-format>). The cursor
reads Redis commands with these instead of serde; they reject overlong and out-of-range varints
as postcard does, so both ways agree on every frame.
*/

/// A position in a frame's raw bytes, reading primitives forward from it.
pub(super) struct WireReader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> WireReader<'a> {
    /// One varint; most are a single byte, read inline.
    #[inline(always)]
    pub fn varint(&mut self, max: u64) -> Result<u64, String> {
        if let Some(&byte) = self.buf.get(self.pos)
            && byte < 0x80
            && u64::from(byte) <= max
        {
            self.pos += 1;
            return Ok(u64::from(byte));
        }
        self.varint_long(max)
    }

    /// A varint longer than one byte, or none (the frame ends, it is too long or too large).
    #[inline(never)]
    fn varint_long(&mut self, max: u64) -> Result<u64, String> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err("the frame ends inside a number".into());
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && byte > 1 {
                return Err("a number is too large".into());
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                if value > max {
                    return Err(format!("{value} is out of range here"));
                }
                return Ok(value);
            }
        }
        Err("a number is too long".into())
    }

    /// A varint that must fit a `u32` (db indices, string indices).
    #[inline(always)]
    pub fn u32(&mut self) -> Result<u32, String> {
        self.varint(u32::MAX as u64).map(|v| v as u32)
    }

    /// A sequence's length.
    #[inline(always)]
    pub fn len(&mut self) -> Result<usize, String> {
        let n = self.varint(u64::MAX)?;
        // Every element takes at least one byte: a longer count is damage.
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(format!("a list of {n} elements cannot fit in what is left of the frame"));
        }
        Ok(n as usize)
    }

    /// A zig-zag varint (postcard's signed integers).
    #[inline(always)]
    pub fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint(u64::MAX)?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// Length-prefixed bytes, lent from the frame.
    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint(u64::MAX)?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err("the frame ends inside an argument".into());
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.buf[start..self.pos])
    }
}
