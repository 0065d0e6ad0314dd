/*!
The finding a shrink keeps: what makes a stale read "the same finding" in a smaller trace — the
key, its node and db, the cause, what was served and what the database held, the verdict. The
sequence number is not part of it, so a finding that moves still counts.
*/

use cachetape_analyzer::{Cause, StaleRead, Verdict};

/// The finding to keep: what makes a stale read "the same finding".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The key.
    pub key: String,
    /// Its Redis node.
    pub node: String,
    /// Its db index.
    pub redis_db: u32,
    /// Why it was stale.
    pub cause: Cause,
    /// What the cache served (projected, as the report prints it).
    pub served: String,
    /// What the DB held.
    pub db: String,
    /// Definite or possible.
    pub verdict: Verdict,
}

impl Target {
    /// The target a finding makes: a stale read of the as-recorded analysis, or the `read` of a
    /// finding of the perturbation search.
    pub fn of(finding: &StaleRead) -> Target {
        Target {
            key: finding.key.clone(),
            node: finding.node.clone(),
            redis_db: finding.redis_db,
            cause: finding.cause,
            served: finding.served.clone(),
            db: finding.db.clone(),
            verdict: finding.verdict,
        }
    }

    /// Whether `finding` is this target.
    pub fn matches(&self, finding: &StaleRead) -> bool {
        finding.key == self.key
            && finding.node == self.node
            && finding.redis_db == self.redis_db
            && finding.cause == self.cause
            && finding.served == self.served
            && finding.db == self.db
            && finding.verdict == self.verdict
    }

    /// The first finding among `findings` that is this target.
    pub fn find_in<'r>(&self, findings: &'r [StaleRead]) -> Option<&'r StaleRead> {
        findings.iter().find(|f| self.matches(f))
    }
}
