//! The borrowed decoder (`Reader::next_ref`) against the owned one (`Reader::next_event_into`)
//! on arbitrary bytes, plain and in salvage mode: the same events in the same order, the same
//! error (or none), the same loss report — and never a panic.
#![no_main]

use cachetape_tape::{Event, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for salvage in [false, true] {
        let (Ok(owned), Ok(lent)) = (Reader::new(data, "fuzz"), Reader::new(data, "fuzz")) else {
            continue;
        };
        let (mut owned, mut lent) = (owned.salvage(salvage), lent.salvage(salvage));
        let (mut a, mut scratch) = (blank(), blank());
        loop {
            let x = owned.next_event_into(&mut a);
            let y = lent.next_ref(&mut scratch).map(|e| e.map(|e| e.to_event()));
            match (x, y) {
                // Compared as text: a float cell may be NaN, which is not equal to itself.
                (Ok(true), Ok(Some(b))) => {
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "borrowed and owned differ")
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
