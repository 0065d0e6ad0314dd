/*!
The tuple encoding of projections and row identities: one element per column, absent (`0`) or
present (`1`, a 4-byte length, the canonical bytes), one after the other.
*/

/// Appends one present tuple element whose bytes `write` appends.
#[inline]
pub(super) fn push_part_with(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    out.push(1);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Appends one element per mapped field: absent, or present and written by `write` (its
/// canonical form); true when any field was present.
pub(super) fn push_fields<T>(
    out: &mut Vec<u8>,
    found: impl IntoIterator<Item = Option<T>>,
    mut write: impl FnMut(T, &mut Vec<u8>),
) -> bool {
    let mut any = false;
    for field in found {
        match field {
            Some(v) => {
                push_part_with(out, |o| write(v, o));
                any = true;
            }
            None => push_part(out, None),
        }
    }
    any
}

/// Appends one tuple element: absent (`0`), or present (`1`, length, bytes).
pub(crate) fn push_part(out: &mut Vec<u8>, part: Option<&[u8]>) {
    match part {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// Iterates a tuple's elements.
pub(crate) fn parts(mut tuple: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        let (&tag, rest) = tuple.split_first()?;
        if tag == 0 {
            tuple = rest;
            return Some(None);
        }
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let (part, after) = rest.get(4..)?.split_at(len.min(rest.len() - 4));
        tuple = after;
        Some(Some(part))
    })
}
