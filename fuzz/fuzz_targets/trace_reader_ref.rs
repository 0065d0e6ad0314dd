//! The borrowed decoder (`Reader::next_ref`) against the owned one (`Reader::next_event_into`)
//! on arbitrary bytes, plain and in salvage mode: the same events in the same order, the same
//! error (or none), the same loss report — and never a panic. A command's read-ahead hint
//! (`RedisRef::next_key_hint`) is the next event's first argument whenever it is given.
#![no_main]

use cachetape_tape::{Event, EventBody, EventRef, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for salvage in [false, true] {
        let (Ok(owned), Ok(lent)) = (Reader::new(data, "fuzz"), Reader::new(data, "fuzz")) else {
            continue;
        };
        let (mut owned, mut lent) = (owned.salvage(salvage), lent.salvage(salvage));
        let (mut a, mut scratch) = (blank(), blank());
        // The read-ahead hint the previous borrowed command gave for this event.
        let mut hint: Option<Vec<u8>> = None;
        loop {
            let x = owned.next_event_into(&mut a);
            let y = lent.next_ref(&mut scratch).map(|e| {
                e.map(|e| {
                    let next = match e {
                        EventRef::Redis(r) => r.next_key_hint().map(<[u8]>::to_vec),
                        EventRef::Owned(_) => None,
                    };
                    (e.to_event(), next)
                })
            });
            match (x, y) {
                // Compared as text: a float cell may be NaN, which is not equal to itself.
                (Ok(true), Ok(Some((b, next)))) => {
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "borrowed and owned differ");
                    // A hint is only ever the event's own first argument (salvage mode may
                    // skip the rest of a damaged frame, hinted event included).
                    if let Some(key) = hint.take().filter(|_| !salvage) {
                        let EventBody::Redis(c) = &a.body else {
                            panic!("a hint {key:?} for {a:?}")
                        };
                        assert_eq!(c.argv.get(1), Some(&key[..]), "a wrong hint");
                    }
                    hint = next;
                }
                (Ok(false), Ok(None)) => break,
                (Err(e), Err(f)) => {
                    assert_eq!(e.to_string(), f.to_string(), "different errors");
                    break;
                }
                (x, y) => panic!("owned {:?} but borrowed {:?}", x.map(|_| ()), y.map(|_| ())),
            }
        }
        assert_eq!(owned.report().to_string(), lent.report().to_string());
    }
});

fn blank() -> Event {
    Event {
        seq: 0,
        source: cachetape_tape::SourceId(0),
        recv_us: 0,
        body: cachetape_tape::EventBody::Gap(cachetape_tape::Gap {
            from_us: 0,
            to_us: 0,
            reason: String::new(),
        }),
    }
}
