/*!
A [`Problem`]: one thing that stops a recording — what is wrong, on which source, and the fix —
and how a list of them reads at the terminal ([`format_problems`]).
*/

use std::fmt;

/// One thing that stops a recording, with its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The source (`redis://host:port`, `mysql://host:port`), never with a password.
    pub source: String,
    /// What is wrong.
    pub what: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}.\n  fix: {}", self.source, self.what, self.fix)
    }
}

/// All problems, one paragraph each.
pub fn format_problems(problems: &[Problem]) -> String {
    let mut out = format!(
        "cannot record: {} problem{} found",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n- ");
        out.push_str(&p.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_paragraphs() {
        let text = format_problems(&[Problem {
            source: "mysql://db:3306".into(),
            what: "binary logging is off".into(),
            fix: "turn it on".into(),
        }]);
        assert_eq!(
            text,
            "cannot record: 1 problem found\n- mysql://db:3306: binary logging is off.\n  fix: turn it on"
        );
    }
}
