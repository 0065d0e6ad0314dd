/*!
Compression around a cached value: zlib, gzip, xz/lzma, lz4 frame and zstd, detected by their
magic bytes and peeled before the format is decoded (not built yet: nothing is peeled).
*/

use std::borrow::Cow;

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
}

/// The payload inside any compression (the bytes themselves when there is none), and the layer
/// peeled. A value that announces a compression but does not decompress within the limits is an
/// error.
pub fn peel<'a>(
    bytes: &'a [u8],
    _limits: &Limits,
) -> Result<(Cow<'a, [u8]>, Option<Layer>), DecodeError> {
    Ok((Cow::Borrowed(bytes), None))
}

/// True when the first bytes announce a compression this module peels.
pub fn looks_compressed(_bytes: &[u8]) -> bool {
    false
}
