/*!
Sorted-set commands: ZADD (NX / XX / GT / LT / CH / INCR), ZINCRBY, ZREM, ZRANGE (by rank,
BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZSCORE, ZCARD (Redis 7.0's `t_zset.c`). Scores are
`double`s parsed like `strtod` and replied with `%.17g`.
*/

use cachetape_tape::ArgvRef;

use crate::float::{format_double, parse_double, parse_double_lenient};
use crate::number::arg_i64;
use crate::reply::{Bytes, Reply};
use crate::store::{Cx, Store, arg};
use crate::value::{Entry, Value, ZSetValue};

fn score_reply(s: f64) -> Reply {
    Reply::Bulk(Bytes::from(format_double(s).into_bytes()))
}

fn zset_for_read<'a>(
    st: &'a mut Store,
    cx: &Cx,
    key: &[u8],
) -> Result<Option<&'a ZSetValue>, Reply> {
    match st.lookup(cx, key) {
        None => Ok(None),
        Some(Entry { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`;
/// `ZINCRBY key increment member` (`incr_command`).
pub(crate) fn zadd(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, incr_command: bool) -> Reply {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, incr_command);
    let mut idx = 2;
    while idx < a.len() {
        let o = arg(a, idx);
        let is = |s: &str| o.eq_ignore_ascii_case(s.as_bytes());
        if is("nx") {
            nx = true;
        } else if is("xx") {
            xx = true;
        } else if is("ch") {
            ch = true;
        } else if is("incr") {
            incr = true;
        } else if is("gt") {
            gt = true;
        } else if is("lt") {
            lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = a.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return Reply::syntax();
    }
    let elements = elements / 2;
    if nx && xx {
        return Reply::err("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Reply::err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && elements > 1 {
        return Reply::err("ERR INCR option supports a single increment-element pair");
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        match parse_double(arg(a, idx + j * 2)) {
            Some(s) => scores.push(s),
            None => return Reply::err("ERR value is not a valid float"),
        }
    }
    let key = arg(a, 1);
    match st.lookup(cx, key) {
        Some(Entry { value: Value::ZSet(_), .. }) => {}
        Some(_) => return Reply::wrong_type(),
        None if xx => return if incr { Reply::Nil } else { Reply::Integer(0) },
        None => st.put(cx.db, key, Entry::new(Value::ZSet(ZSetValue::default()))),
    }
    let Some(Entry { value: Value::ZSet(z), .. }) = st.dbs[cx.db].keys.get_mut(key) else {
        return Reply::wrong_type();
    };
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    let mut error = None;
    for (j, &score) in scores.iter().enumerate() {
        let member = arg(a, idx + 1 + j * 2);
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let new = if incr { score + cur } else { score };
                if new.is_nan() {
                    error = Some(Reply::err("ERR resulting score is not a number (NaN)"));
                    break;
                }
                if (lt && new >= cur) || (gt && new <= cur) {
                    continue;
                }
                last = new;
                processed += 1;
                if new != cur {
                    z.set(member, new);
                    updated += 1;
                }
            }
            None if xx => {}
            None => {
                z.set(member, score);
                last = score;
                added += 1;
                processed += 1;
            }
        }
    }
    if added + updated > 0 {
        st.signal(cx.db, key);
    }
    if let Some(e) = error {
        return e;
    }
    if incr {
        if processed > 0 { score_reply(last) } else { Reply::Nil }
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    }
}

/// `ZREM key member [member ...]`
pub(crate) fn zrem(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    crate::store::remove_members(st, cx, a, |v| match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    })
}

/// `ZSCORE key member`
pub(crate) fn zscore(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match zset_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(z) => z.and_then(|z| z.score(arg(a, 2))).map_or(Reply::Nil, score_reply),
    }
}

/// `ZCARD key`
pub(crate) fn zcard(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match zset_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(z) => Reply::Integer(z.map_or(0, |z| z.len() as i64)),
    }
}

/// A score bound of BYSCORE.
#[derive(Clone, Copy)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

fn parse_score_bound(s: &[u8]) -> Option<ScoreBound> {
    let (exclusive, rest) = if s.first() == Some(&b'(') { (true, &s[1..]) } else { (false, s) };
    let value = parse_double_lenient(rest)?;
    Some(ScoreBound { value, exclusive })
}

/// A lexicographic bound of BYLEX.
#[derive(Clone)]
enum LexBound {
    NegInf,
    PosInf,
    Value { bytes: Vec<u8>, exclusive: bool },
}

fn parse_lex_bound(s: &[u8]) -> Option<LexBound> {
    match s.first() {
        Some(b'+') if s.len() == 1 => Some(LexBound::PosInf),
        Some(b'-') if s.len() == 1 => Some(LexBound::NegInf),
        Some(b'(') => Some(LexBound::Value { bytes: s[1..].to_vec(), exclusive: true }),
        Some(b'[') => Some(LexBound::Value { bytes: s[1..].to_vec(), exclusive: false }),
        _ => None,
    }
}

fn lex_gte_min(m: &[u8], min: &LexBound) -> bool {
    match min {
        LexBound::NegInf => true,
        LexBound::PosInf => false,
        LexBound::Value { bytes, exclusive } => {
            if *exclusive {
                m > &bytes[..]
            } else {
                m >= &bytes[..]
            }
        }
    }
}

fn lex_lte_max(m: &[u8], max: &LexBound) -> bool {
    match max {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Value { bytes, exclusive } => {
            if *exclusive {
                m < &bytes[..]
            } else {
                m <= &bytes[..]
            }
        }
    }
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub(crate) fn zrange(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    /// What the range is over.
    #[derive(PartialEq)]
    enum By {
        Rank,
        Score,
        Lex,
    }
    let (mut by, mut rev, mut withscores) = (None, false, false);
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = 4;
    while j < a.len() {
        let o = arg(a, j);
        let left = a.len() - j - 1;
        if o.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if o.eq_ignore_ascii_case(b"limit") && left >= 2 {
            match (arg_i64(arg(a, j + 1)), arg_i64(arg(a, j + 2))) {
                (Ok(off), Ok(lim)) => (offset, limit) = (off, lim),
                (Err(e), _) | (_, Err(e)) => return e,
            }
            j += 2;
        } else if !rev && o.eq_ignore_ascii_case(b"rev") {
            rev = true;
        } else if by.is_none() && o.eq_ignore_ascii_case(b"bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && o.eq_ignore_ascii_case(b"byscore") {
            by = Some(By::Score);
        } else {
            return Reply::syntax();
        }
        j += 1;
    }
    let by = by.unwrap_or(By::Rank);
    if limit != -1 && by == By::Rank {
        return Reply::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && by == By::Lex {
        return Reply::err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut min_i, mut max_i) = (2, 3);
    if rev && by != By::Rank {
        (min_i, max_i) = (3, 2);
    }
    /// The range, parsed by its kind.
    enum Range {
        Rank(i64, i64),
        Score(ScoreBound, ScoreBound),
        Lex(LexBound, LexBound),
    }
    let range = match by {
        By::Rank => match (arg_i64(arg(a, min_i)), arg_i64(arg(a, max_i))) {
            (Ok(s), Ok(e)) => Range::Rank(s, e),
            (Err(e), _) | (_, Err(e)) => return e,
        },
        By::Score => match (parse_score_bound(arg(a, min_i)), parse_score_bound(arg(a, max_i))) {
            (Some(min), Some(max)) => Range::Score(min, max),
            _ => return Reply::err("ERR min or max is not a float"),
        },
        By::Lex => match (parse_lex_bound(arg(a, min_i)), parse_lex_bound(arg(a, max_i))) {
            (Some(min), Some(max)) => Range::Lex(min, max),
            _ => return Reply::err("ERR min or max not valid string range item"),
        },
    };
    let z = match zset_for_read(st, cx, arg(a, 1)) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(z)) => z,
    };
    let items = z.items();
    let len = items.len() as i64;
    let mut out = Vec::new();
    let emit = |out: &mut Vec<Reply>, (s, m): &(f64, Bytes)| {
        out.push(Reply::Bulk(m.clone()));
        if withscores {
            out.push(score_reply(*s));
        }
    };
    match range {
        Range::Rank(mut start, mut end) => {
            if start < 0 {
                start += len;
            }
            if end < 0 {
                end += len;
            }
            start = start.max(0);
            if start > end || start >= len {
                return Reply::Array(out);
            }
            end = end.min(len - 1);
            for i in start..=end {
                let i = if rev { len - 1 - i } else { i };
                emit(&mut out, &items[i as usize]);
            }
        }
        Range::Score(min, max) => {
            if offset > 0 && offset >= len {
                return Reply::Array(out);
            }
            let gte = |it: &&(f64, Bytes)| {
                if min.exclusive { it.0 > min.value } else { it.0 >= min.value }
            };
            let lte = |it: &&(f64, Bytes)| {
                if max.exclusive { it.0 < max.value } else { it.0 <= max.value }
            };
            let found = if rev {
                walk(items.iter().rev(), lte, gte, offset, limit)
            } else {
                walk(items.iter(), gte, lte, offset, limit)
            };
            found.into_iter().for_each(|it| emit(&mut out, it));
        }
        Range::Lex(min, max) => {
            if offset > 0 && offset >= len {
                return Reply::Array(out);
            }
            // Redis first checks the range against the first and last members (it assumes
            // equal scores, so with mixed scores this decides the answer).
            let overlaps = items.last().is_some_and(|(_, m)| lex_gte_min(m, &min))
                && items.first().is_some_and(|(_, m)| lex_lte_max(m, &max));
            if !overlaps {
                return Reply::Array(out);
            }
            let gte = |it: &&(f64, Bytes)| lex_gte_min(&it.1, &min);
            let lte = |it: &&(f64, Bytes)| lex_lte_max(&it.1, &max);
            let found = if rev {
                walk(items.iter().rev(), lte, gte, offset, limit)
            } else {
                walk(items.iter(), gte, lte, offset, limit)
            };
            found.into_iter().for_each(|it| emit(&mut out, it));
        }
    }
    Reply::Array(out)
}

/// Redis's range walk: the first element meeting `first` (none if it fails `last`), then,
/// after skipping `offset` elements unchecked (a negative offset skips them all), elements while
/// they meet `last`, at most `limit` of them (negative: no limit).
fn walk<'a>(
    items: impl Iterator<Item = &'a (f64, Bytes)>,
    first: impl Fn(&&'a (f64, Bytes)) -> bool,
    last: impl Fn(&&'a (f64, Bytes)) -> bool,
    offset: i64,
    limit: i64,
) -> Vec<&'a (f64, Bytes)> {
    let mut it = items.skip_while(|x| !first(x)).peekable();
    match it.peek() {
        Some(x) if last(x) => {}
        _ => return Vec::new(),
    }
    if offset < 0 {
        return Vec::new();
    }
    let limit = if limit < 0 { usize::MAX } else { limit as usize };
    it.skip(offset as usize).take_while(|x| last(x)).take(limit).collect()
}
