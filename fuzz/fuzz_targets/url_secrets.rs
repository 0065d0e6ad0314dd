//! URL handling never panics and never shows a password: for any text, `RedisUrl::parse`
//! returns, and its error, `mask_password` and `strip_credentials` never hold the password
//! planted in the URL's user info (a marker no other part of the input contains).
#![no_main]

use cachetape_recorder::live::RedisUrl;
use cachetape_tape::{mask_password, strip_credentials};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "S3CR3TPW";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = RedisUrl::parse(text);
    let _ = mask_password(text);
    let _ = strip_credentials(text);
    if text.contains("S3C") || text.contains("PW") {
        return;
    }
    // `text` split in two around a planted password: `<a>S3CR3TPW<b>@<host>`.
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid -= 1;
    }
    let (a, b) = text.split_at(mid);
    for scheme in ["redis://", "mysql://", ""] {
        let url = format!("{scheme}u:{a}{SECRET}{b}@h:1");
        if let Err(e) = RedisUrl::parse(&url) {
            assert!(!e.contains(SECRET), "{url}: {e}");
        }
        let masked = mask_password(&url);
        assert!(!masked.contains(SECRET), "{url}: {masked}");
        let stripped = strip_credentials(&url);
        assert!(!stripped.contains(SECRET), "{url}: {stripped}");
    }
});
