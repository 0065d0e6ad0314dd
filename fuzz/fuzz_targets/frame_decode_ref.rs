//! A frame's raw bytes decoded the way replay reads them (`FrameCursor::decode_ref`: the one-pass
//! short form and the general path, Redis commands lent from the frame) against the owned
//! decoder, past the checksums that keep random damage away from both in `trace_reader_ref`: the
//! same events or the same error, never a panic; and each read-ahead hint
//! (`RedisRef::next_key_hint`) is the next event's first argument.
#![no_main]

use cachetape_tape::EventBody;
use cachetape_tape::wire::{decode_frame, decode_frame_ref};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let owned = decode_frame(data);
    let lent = decode_frame_ref(data);
    match (&owned, &lent) {
        (Ok(owned), Ok(lent)) => {
            assert_eq!(owned.len(), lent.len());
            for (i, (a, (b, hint))) in owned.iter().zip(lent).enumerate() {
                // Compared as text: a float cell may be NaN, which is not equal to itself.
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "event {i} differs");
                if let Some(key) = hint {
                    let Some(EventBody::Redis(c)) = owned.get(i + 1).map(|e| &e.body) else {
                        panic!("event {i} hints {key:?}, the next is {:?}", owned.get(i + 1))
                    };
                    assert_eq!(c.argv.get(1), Some(&key[..]), "event {i}'s hint");
                }
            }
        }
        (Err(e), Err(f)) => assert_eq!(e, f, "different errors"),
        _ => panic!(
            "owned {:?} but lent {:?}",
            owned.as_ref().map(|_| ()),
            lent.as_ref().map(|_| ())
        ),
    }
});
