/*!
The `jackson` decoder (not built yet: every value is refused).
*/

use super::{DecodeError, Decoded, Limits};

/// True when the first bytes announce this format.
pub fn looks_like(_bytes: &[u8]) -> bool {
    false
}

/// Decodes one value.
pub fn decode(_bytes: &[u8], _limits: &Limits) -> Result<Decoded, DecodeError> {
    Err(DecodeError("the jackson decoder is not built yet"))
}
