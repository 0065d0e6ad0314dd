/*!
Redis glob patterns (`KEYS`, `SCAN MATCH`, `--keys order:*`): `*`, `?`, `[abc]`, `[^a-z]`, and `\`
to escape, matched against raw bytes exactly as Redis's `stringmatch` does, case-sensitively.
*/

/// A compiled glob pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pattern: Vec<u8>,
}

impl KeyPattern {
    /// A pattern from its text.
    pub fn new(pattern: impl AsRef<[u8]>) -> KeyPattern {
        KeyPattern { pattern: pattern.as_ref().to_vec() }
    }

    /// The pattern as given.
    pub fn as_bytes(&self) -> &[u8] {
        &self.pattern
    }

    /// True when `key` matches the whole pattern.
    pub fn matches(&self, key: &[u8]) -> bool {
        glob(&self.pattern, key)
    }
}

/// Glob match with backtracking on the last `*` only (linear in practice, never recursive).
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi < p.len() && p[pi] == b'*' {
                        pi += 1;
                    }
                    if pi == p.len() {
                        return true;
                    }
                    star = Some((pi, si));
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(p, pi, s[si])
                        && matched
                    {
                        pi = next;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class starting at `p[start] == b'['`; returns (matched, index after
/// the class). An unclosed class runs to the end of the pattern, as in Redis.
fn class(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = p.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    while i < p.len() && p[i] != b']' {
        if p[i] == b'\\' && i + 1 < p.len() {
            matched |= p[i + 1] == c;
            i += 2;
        } else if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            let (lo, hi) = if p[i] <= p[i + 2] { (p[i], p[i + 2]) } else { (p[i + 2], p[i]) };
            matched |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            matched |= p[i] == c;
            i += 1;
        }
    }
    let next = if i < p.len() { i + 1 } else { i };
    Some((matched != negate, next))
}

#[cfg(test)]
mod tests {
    use super::KeyPattern;

    fn m(p: &str, s: &str) -> bool {
        KeyPattern::new(p).matches(s.as_bytes())
    }

    #[test]
    fn globs_match_like_redis() {
        assert!(m("order:*", "order:42"));
        assert!(m("*", ""));
        assert!(!m("order:*", "orders:42"));
        assert!(m("order:?2", "order:42"));
        assert!(m("order:[0-9]*", "order:42"));
        assert!(!m("order:[^0-9]*", "order:42"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("*:*:*", "a:b:c"));
        assert!(!m("*:*:*", "a:b"));
        assert!(m("user:*:profile", "user:7:profile"));
    }
}
