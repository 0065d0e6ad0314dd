/*!
Schedule ids: a short, copy-pasteable name for one schedule of one component.

Format: `c<component>-n<units>` followed by one `-<position>.<jump>` per position of the schedule
whose unit runs ahead of earlier-recorded units, positions increasing, all numbers decimal.
`<jump>` is the permutation's Lehmer code at that position: how many units recorded before the
unit at `<position>` run after it. The recorded order has no such entries (`c3-n7`); moving unit
5 of 6 ahead of units 3 and 4 (schedule `0 1 2 5 3 4`) is `c3-n6-3.2`. Every permutation has
exactly one id and every id names exactly one permutation.
*/

/// Units per component an id may name at most (guards allocations on user input).
pub const MAX_UNITS: u64 = 1 << 24;

/// The id of `schedule` (a permutation of `0..schedule.len()`) of component `component`.
pub fn schedule_id(component: u32, schedule: &[u32]) -> String {
    let n = schedule.len();
    let mut id = format!("c{component}-n{n}");
    // Lehmer code: units smaller than s[p] not yet placed = s[p] − smaller ones placed before.
    let mut tree = vec![0u32; n + 1];
    for (p, &u) in schedule.iter().enumerate() {
        let u = (u as usize).min(n.saturating_sub(1));
        let mut placed_below = 0u32;
        let mut i = u;
        while i > 0 {
            placed_below += tree[i];
            i &= i - 1;
        }
        let jump = u as u32 - placed_below.min(u as u32);
        if jump > 0 {
            id.push_str(&format!("-{p}.{jump}"));
        }
        let mut i = u + 1;
        while i <= n {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    id
}

fn number(id: &str, what: &str, text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "schedule id {id:?}: {what} {text:?} is not a decimal number (ids look like c3-n6-3.2; \
             copy them from the replay report)"
        ));
    }
    text.parse::<u64>().map_err(|_| format!("schedule id {id:?}: {what} {text} is too large"))
}

/// The component and the schedule an id names, or what is wrong with it.
pub fn parse_schedule_id(id: &str) -> Result<(u32, Vec<u32>), String> {
    let trimmed = id.trim();
    let mut parts = trimmed.split('-');
    let head = parts.next().unwrap_or("");
    let Some(component) = head.strip_prefix('c') else {
        return Err(format!(
            "schedule id {id:?}: should start with c<component> (ids look like c3-n6-3.2; copy \
             them from the replay report)"
        ));
    };
    let component = number(id, "component", component)?;
    let component = u32::try_from(component)
        .map_err(|_| format!("schedule id {id:?}: component {component} is too large"))?;
    let Some(n) = parts.next().and_then(|p| p.strip_prefix('n')) else {
        return Err(format!(
            "schedule id {id:?}: the component should be followed by -n<units> (ids look like \
             c3-n6-3.2)"
        ));
    };
    let n = number(id, "unit count", n)?;
    if n > MAX_UNITS {
        return Err(format!("schedule id {id:?}: {n} units is more than ids name ({MAX_UNITS})"));
    }
    let n = n as usize;
    let mut jumps = vec![0u32; n];
    let mut last: Option<usize> = None;
    for part in parts {
        let Some((p, j)) = part.split_once('.') else {
            return Err(format!(
                "schedule id {id:?}: {part:?} should be <position>.<jump> (e.g. 3.2)"
            ));
        };
        let p = number(id, "position", p)? as usize;
        let j = number(id, "jump", j)?;
        if p >= n {
            return Err(format!(
                "schedule id {id:?}: position {p} is outside a schedule of {n} units"
            ));
        }
        if last.is_some_and(|l| p <= l) {
            return Err(format!("schedule id {id:?}: positions must increase (position {p})"));
        }
        if j == 0 || j > (n - 1 - p) as u64 {
            return Err(format!(
                "schedule id {id:?}: at position {p} the jump must be between 1 and {} (got {j})",
                n - 1 - p
            ));
        }
        last = Some(p);
        jumps[p] = j as u32;
    }
    // Decode: at each position, the (jump)-th smallest unit not yet placed.
    let mut tree = vec![0u32; n + 1];
    for u in 0..n {
        let mut i = u + 1;
        while i <= n {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    let mut top = 1usize;
    while top * 2 <= n {
        top *= 2;
    }
    let mut schedule = Vec::with_capacity(n);
    for &jump in &jumps {
        // Find the smallest u with (remaining units ≤ u) > jump.
        let (mut pos, mut left) = (0usize, jump);
        let mut step = top;
        while step > 0 {
            let next = pos + step;
            if next <= n && tree[next] <= left {
                pos = next;
                left -= tree[next];
            }
            step /= 2;
        }
        let u = pos; // 0-based: the tree index pos + 1
        schedule.push(u as u32);
        let mut i = u + 1;
        while i <= n {
            tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
    }
    Ok((component, schedule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn ids_round_trip() {
        assert_eq!(schedule_id(3, &[0, 1, 2, 3, 4, 5, 6]), "c3-n7");
        assert_eq!(schedule_id(3, &[0, 1, 2, 5, 3, 4]), "c3-n6-3.2");
        assert_eq!(parse_schedule_id("c3-n6-3.2"), Ok((3, vec![0, 1, 2, 5, 3, 4])));
        assert_eq!(parse_schedule_id("c0-n0"), Ok((0, vec![])));
        let mut rng = 7u64;
        for n in [1usize, 2, 3, 5, 8, 13, 64, 100, 1000] {
            for _ in 0..20 {
                let mut s: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    s.swap(i, (next(&mut rng) % (i as u64 + 1)) as usize);
                }
                let c = (next(&mut rng) % 1000) as u32;
                let id = schedule_id(c, &s);
                assert_eq!(parse_schedule_id(&id), Ok((c, s)), "{id}");
            }
        }
    }

    #[test]
    fn malformed_ids_say_what_is_wrong() {
        let err = |id: &str| parse_schedule_id(id).unwrap_err();
        assert!(err("").contains("should start with c<component>"));
        assert!(err("x3-n6").contains("should start with c<component>"));
        assert!(err("c-n6").contains("component \"\" is not a decimal number"));
        assert!(err("c3").contains("-n<units>"));
        assert!(err("c3-6").contains("-n<units>"));
        assert!(err("c3-nx").contains("unit count \"x\" is not a decimal number"));
        assert!(err("c3-n6-3").contains("should be <position>.<jump>"));
        assert!(err("c3-n6-6.1").contains("position 6 is outside a schedule of 6 units"));
        assert!(err("c3-n6-3.3").contains("between 1 and 2 (got 3)"));
        assert!(err("c3-n6-3.0").contains("between 1 and 2 (got 0)"));
        assert!(err("c3-n6-3.1-2.1").contains("positions must increase"));
        assert!(err("c3-n99999999999").contains("more than ids name"));
        assert!(err("c99999999999-n1").contains("component 99999999999 is too large"));
        assert!(err("c3-n6-a.1").contains("position \"a\" is not a decimal number"));
    }
}
