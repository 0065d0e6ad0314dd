/*!
The file's fixed layout: the magic, the format version, the block tags, the sizes a reader
accepts, and the 40-byte block head that precedes every frame and the footer.
*/

use crate::event::Micros;

/// The eight bytes every trace starts with.
pub const MAGIC: [u8; 8] = *b"CTAPE\r\n\x1a";
/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 2;
/// Tag of a frame block.
pub const FRAME_TAG: [u8; 4] = *b"FRAM";
/// Tag of the footer block.
pub const FOOTER_TAG: [u8; 4] = *b"FOOT";
/// Bytes before the header's postcard bytes.
pub const PREAMBLE_LEN: usize = 18;
/// Bytes of a block head.
pub const BLOCK_HEAD_LEN: usize = 40;
/// Largest decompressed frame a reader accepts (a defence against corrupt lengths).
pub const MAX_RAW_FRAME: u32 = 256 << 20;
/// Largest header a reader accepts.
pub const MAX_HEADER: u32 = 16 << 20;

/// A block head, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHead {
    /// [`FRAME_TAG`] or [`FOOTER_TAG`].
    pub tag: [u8; 4],
    /// Bytes of payload after the head.
    pub payload_len: u32,
    /// Bytes of the payload once decompressed.
    pub raw_len: u32,
    /// Events in the frame (0 for the footer).
    pub events: u32,
    /// Receive time of the frame's first event.
    pub first_us: Micros,
    /// Receive time of the frame's last event.
    pub last_us: Micros,
    /// CRC-32 of the payload.
    pub payload_crc: u32,
}

impl BlockHead {
    /// Encodes the head, computing its own checksum.
    pub fn encode(&self) -> [u8; BLOCK_HEAD_LEN] {
        let mut b = [0u8; BLOCK_HEAD_LEN];
        b[0..4].copy_from_slice(&self.tag);
        b[4..8].copy_from_slice(&self.payload_len.to_le_bytes());
        b[8..12].copy_from_slice(&self.raw_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.events.to_le_bytes());
        b[16..24].copy_from_slice(&self.first_us.to_le_bytes());
        b[24..32].copy_from_slice(&self.last_us.to_le_bytes());
        let head_crc = crc32fast::hash(&b[0..32]);
        b[32..36].copy_from_slice(&head_crc.to_le_bytes());
        b[36..40].copy_from_slice(&self.payload_crc.to_le_bytes());
        b
    }

    /// Decodes a head; `Err` says what is wrong with it.
    pub fn decode(b: &[u8; BLOCK_HEAD_LEN]) -> Result<BlockHead, &'static str> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let tag: [u8; 4] = b[0..4].try_into().unwrap();
        if tag != FRAME_TAG && tag != FOOTER_TAG {
            return Err("no block starts here (unknown tag)");
        }
        if crc32fast::hash(&b[0..32]) != u32_at(32) {
            return Err("block head checksum mismatch");
        }
        Ok(BlockHead {
            tag,
            payload_len: u32_at(4),
            raw_len: u32_at(8),
            events: u32_at(12),
            first_us: i64_at(16),
            last_us: i64_at(24),
            payload_crc: u32_at(36),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_head_round_trips_and_detects_damage() {
        let head = BlockHead {
            tag: FRAME_TAG,
            payload_len: 10,
            raw_len: 20,
            events: 3,
            first_us: 1_700_000_000_000_000,
            last_us: 1_700_000_000_500_000,
            payload_crc: 0xdead_beef,
        };
        let mut b = head.encode();
        assert_eq!(BlockHead::decode(&b), Ok(head));
        b[5] ^= 1;
        assert_eq!(BlockHead::decode(&b), Err("block head checksum mismatch"));
        b[0] = b'X';
        assert!(BlockHead::decode(&b).is_err());
    }
}
