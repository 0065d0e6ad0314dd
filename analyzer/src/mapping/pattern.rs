/*!
Key patterns: `order:{id}` parsed into [`KeyPart`]s, and matching a key against them, which
yields each placeholder's segment of the key.
*/

/// One piece of a key pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// Literal bytes.
    Literal(Vec<u8>),
    /// A `{name}` placeholder: one non-empty segment without `:`.
    Placeholder(String),
}

/// Parses a key pattern (`order:{id}`).
pub fn parse_key_pattern(pattern: &str) -> Result<Vec<KeyPart>, String> {
    let mut parts = Vec::new();
    let mut lit = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        lit.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("`{pattern}` has a `{{` without its `}}`"));
        };
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{name}}}` in `{pattern}` is not a placeholder: use letters, digits and _"
            ));
        }
        if matches!(parts.last(), Some(KeyPart::Placeholder(_))) && lit.is_empty() {
            return Err(format!(
                "`{pattern}` has two placeholders side by side: separate them (`{{a}}:{{b}}`)"
            ));
        }
        if !lit.is_empty() {
            parts.push(KeyPart::Literal(std::mem::take(&mut lit)));
        }
        parts.push(KeyPart::Placeholder(name.to_string()));
        rest = &after[close + 1..];
    }
    lit.extend_from_slice(rest.as_bytes());
    if !lit.is_empty() {
        parts.push(KeyPart::Literal(lit));
    }
    if !parts.iter().any(|p| matches!(p, KeyPart::Placeholder(_))) {
        return Err(format!(
            "`{pattern}` has no {{placeholder}}: name the part of the key that identifies the row, \
             like `order:{{id}}`"
        ));
    }
    Ok(parts)
}

/// Matches `key` against `parts` and returns the placeholder values in pattern order.
pub(super) fn matches<'k>(parts: &[KeyPart], key: &'k [u8], holes: &mut Vec<&'k [u8]>) -> bool {
    holes.clear();
    let mut rest = key;
    let mut i = 0;
    while i < parts.len() {
        match &parts[i] {
            KeyPart::Literal(lit) => {
                if !rest.starts_with(lit) {
                    return false;
                }
                rest = &rest[lit.len()..];
            }
            KeyPart::Placeholder(_) => {
                let end = match parts.get(i + 1) {
                    Some(KeyPart::Literal(lit)) => match find(rest, lit) {
                        Some(at) => at,
                        None => return false,
                    },
                    _ => rest.len(),
                };
                let seg = &rest[..end];
                if seg.is_empty() || seg.contains(&b':') {
                    return false;
                }
                holes.push(seg);
                rest = &rest[end..];
            }
        }
        i += 1;
    }
    rest.is_empty()
}

/// The position of placeholder `name` among `parts`' placeholders.
pub(super) fn placeholder_position(parts: &[KeyPart], name: &str) -> Option<usize> {
    parts
        .iter()
        .filter_map(|p| match p {
            KeyPart::Placeholder(n) => Some(n.as_str()),
            KeyPart::Literal(_) => None,
        })
        .position(|n| n == name)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
