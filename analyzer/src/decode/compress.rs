/*!
Compression around a cached value: zlib, gzip, xz/lzma, lz4 frame and zstd, detected by their
magic bytes and peeled before the format is decoded.

What the frameworks write: django-redis's compressors compress the *serialized* value (pickle,
MessagePack, JSON) with `zlib.compress` (level 6: `78 9c`), `gzip.compress`, `lzma.compress` (xz
container), `lz4.frame.compress` (an lz4 *frame*, magic `04 22 4d 18`, not a bare block) and
`pyzstd.compress` (a zstd frame), and leave a value under their minimum length (15 bytes, 100 for
lzma) as it is; a value without a signature passes through untouched.

Signatures: zlib is `78` followed by the flag byte of one of the four compression levels
(`01 5e 9c da`, the header checksum holds for each); gzip `1f 8b 08`; xz `fd 37 7a 58 5a 00`;
legacy `.lzma` (`lzma.FORMAT_ALONE`) the usual properties byte `5d` with an unknown size (eight
`ff`) at offset 5; lz4 frame `04 22 4d 18`; zstd `28 b5 2f fd`. One layer is peeled (no
framework compresses twice).

Bounded: every decoder writes through a sink that refuses to grow past [`Limits::max_bytes`], so a
decompression bomb is an error after at most that much output; zstd's window is capped at the same
size, so a frame header cannot make libzstd reserve more. The decoders are flate2 on its
pure-Rust miniz_oxide backend, lzma-rs (pure Rust: no liblzma to build or link, and its dictionary
buffer grows with the output rather than from the header's size), lz4_flex (safe code, frame
format) and zstd (libzstd, already the trace format's codec).
*/

use std::borrow::Cow;
use std::io::{self, Read, Write};

use super::{DecodeError, Limits};

/// A compression layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// zlib (RFC 1950).
    Zlib,
    /// gzip (RFC 1952).
    Gzip,
    /// xz or legacy lzma.
    Xz,
    /// lz4 frame.
    Lz4,
    /// zstd frame.
    Zstd,
}

impl Layer {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Zlib => "zlib",
            Layer::Gzip => "gzip",
            Layer::Xz => "xz",
            Layer::Lz4 => "lz4",
            Layer::Zstd => "zstd",
        }
    }

    /// The layer the first bytes announce.
    pub fn detect(bytes: &[u8]) -> Option<Layer> {
        match bytes {
            [0x78, 0x01 | 0x5e | 0x9c | 0xda, _, ..] => Some(Layer::Zlib),
            [0x1f, 0x8b, 0x08, ..] => Some(Layer::Gzip),
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Layer::Xz),
            [0x5d, _, _, _, _, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ..] => {
                Some(Layer::Xz)
            }
            [0x04, 0x22, 0x4d, 0x18, ..] => Some(Layer::Lz4),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Layer::Zstd),
            _ => None,
        }
    }
}

/// The payload inside any compression (the bytes themselves when there is none), and the layer
/// peeled. A value that announces a compression but does not decompress within the limits is an
/// error.
pub fn peel<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(Cow<'a, [u8]>, Option<Layer>), DecodeError> {
    let Some(layer) = Layer::detect(bytes) else {
        return Ok((Cow::Borrowed(bytes), None));
    };
    let out = decompress(bytes, layer, limits.max_bytes)?;
    Ok((Cow::Owned(out), Some(layer)))
}

/// True when the first bytes announce a compression this module peels.
pub fn looks_compressed(bytes: &[u8]) -> bool {
    Layer::detect(bytes).is_some()
}

/// The bytes `bytes` decompress to as `layer`, at most `max` of them.
pub fn decompress(bytes: &[u8], layer: Layer, max: usize) -> Result<Vec<u8>, DecodeError> {
    let mut sink = Sink { out: Vec::new(), max, over: false };
    let done = match layer {
        Layer::Zlib => copy(flate2::read::ZlibDecoder::new(bytes), &mut sink),
        Layer::Gzip => copy(flate2::read::GzDecoder::new(bytes), &mut sink),
        Layer::Lz4 => copy(lz4_flex::frame::FrameDecoder::new(bytes), &mut sink),
        Layer::Zstd => zstd::stream::read::Decoder::with_buffer(bytes)
            .and_then(|mut d| {
                d.window_log_max(window_log(max))?;
                Ok(d)
            })
            .and_then(|d| copy(d, &mut sink))
            .inspect_err(|e| {
                // A window larger than the cap: libzstd refused before reserving it.
                sink.over |= e.to_string().contains("too much memory");
            }),
        Layer::Xz if bytes.first() == Some(&0xfd) => {
            lzma_rs::xz_decompress(&mut io::BufReader::new(bytes), &mut sink)
                .map_err(|_| io::Error::other("xz"))
        }
        Layer::Xz => {
            let options =
                lzma_rs::decompress::Options { memlimit: Some(max), ..Default::default() };
            lzma_rs::lzma_decompress_with_options(
                &mut io::BufReader::new(bytes),
                &mut sink,
                &options,
            )
            .map_err(|_| io::Error::other("lzma"))
        }
    };
    match done {
        _ if sink.over => Err(DecodeError("the cached value decompresses past the size limit")),
        Ok(()) => Ok(sink.out),
        Err(_) => Err(DecodeError(match layer {
            Layer::Zlib => "the cached value looks zlib-compressed but does not inflate",
            Layer::Gzip => "the cached value looks gzip-compressed but does not inflate",
            Layer::Xz => "the cached value looks xz/lzma-compressed but does not decompress",
            Layer::Lz4 => "the cached value looks like an lz4 frame but does not decompress",
            Layer::Zstd => "the cached value looks like a zstd frame but does not decompress",
        })),
    }
}

/// The largest zstd window (log2) that fits in `max` bytes, within what libzstd accepts.
fn window_log(max: usize) -> u32 {
    let log = usize::BITS - 1 - max.max(1).leading_zeros();
    log.clamp(10, 30)
}

/// Reads `r` to its end into `sink`.
fn copy(mut r: impl Read, sink: &mut Sink) -> io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => sink.write_all(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A growing buffer that refuses to pass `max` bytes.
struct Sink {
    out: Vec<u8>,
    max: usize,
    over: bool,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.max - self.out.len() {
            self.over = true;
            return Err(io::Error::other("the size limit"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_pass_through() {
        for v in [&b"hello"[..], b"", b"x", b"{\"a\":1}", b"\x80\x05K\x01."] {
            let (out, layer) = peel(v, &Limits::default()).unwrap();
            assert_eq!((&*out, layer), (v, None));
            assert!(!looks_compressed(v));
        }
    }

    #[test]
    fn every_layer_round_trips_and_bombs_stop_at_the_limit() {
        let text = vec![b'a'; 1 << 20];
        let zstd = zstd::encode_all(&text[..], 3).unwrap();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        let zlib = z.finish().unwrap();
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        g.write_all(&text).unwrap();
        let gzip = g.finish().unwrap();
        let mut l = lz4_flex::frame::FrameEncoder::new(Vec::new());
        l.write_all(&text).unwrap();
        let lz4 = l.finish().unwrap();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut &text[..], &mut xz).unwrap();
        for (bytes, layer) in [
            (zstd, Layer::Zstd),
            (zlib, Layer::Zlib),
            (gzip, Layer::Gzip),
            (lz4, Layer::Lz4),
            (xz, Layer::Xz),
        ] {
            assert_eq!(Layer::detect(&bytes), Some(layer));
            let (out, got) = peel(&bytes, &Limits::default()).unwrap();
            assert_eq!((out.len(), got), (text.len(), Some(layer)));
            let small = Limits { max_bytes: 1000, ..Limits::default() };
            let err = peel(&bytes, &small).unwrap_err();
            assert_eq!(err.0, "the cached value decompresses past the size limit", "{layer:?}");
            assert!(peel(&bytes[..bytes.len() / 2], &Limits::default()).is_err(), "{layer:?}");
        }
    }

    #[test]
    fn a_zstd_frame_asking_for_a_huge_window_is_refused() {
        // A frame header asking for a 1 GiB window (window descriptor exponent 20).
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa0, 0x01, 0x00, 0x00];
        assert!(peel(&frame, &Limits::default()).is_err());
    }
}
