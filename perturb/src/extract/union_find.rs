/*!
Union-find over keys and rows ("subjects"): a key is tied to the row its rule maps it to, a unit
to every key and row it touches; the groups are the components before they are cut at quiet
gaps.
*/

/// Disjoint sets of nodes `0..n`.
#[derive(Default)]
pub(super) struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    /// A new node, alone in its set.
    pub(super) fn node(&mut self) -> u32 {
        let n = self.parent.len() as u32;
        self.parent.push(n);
        n
    }

    /// The root of `n`'s set (halving the path on the way).
    pub(super) fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let p = self.parent[n as usize];
            self.parent[n as usize] = self.parent[p as usize];
            n = p;
        }
        n
    }

    /// Joins the sets of `a` and `b`.
    pub(super) fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins: deterministic, whatever the order of the calls.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}
