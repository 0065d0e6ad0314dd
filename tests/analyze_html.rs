//! `analyze --html FILE`: the page renders in headless Chromium (Debian package `chromium`) and
//! shows, for the flagged key, one lane per client that touched it and one for the database, the
//! cached and DB values over time, and the stale window shaded.

use std::process::Command;

use crate::analyze_cases::{MAPPING, create, stale_set};
use crate::util::cachetape;

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn html_page_renders_a_timeline_with_client_and_db_lanes() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: this test renders the HTML report in headless Chromium. Install \
         the Debian package `chromium` (`apt-get install chromium`), or run `scripts/test.sh`, which \
         installs it."
    );
    let dir = tempfile::tempdir().unwrap();
    let mut trace = create(&dir.path().join("case.bin"));
    stale_set(&mut trace);
    trace.finish();
    std::fs::write(dir.path().join("case.toml"), MAPPING).unwrap();
    let page = dir.path().join("case.html");
    let out = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "case.bin", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("src=\""),
        "the page must be self-contained"
    );

    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<svg"),
        "chromium rendered no timeline:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for lane in ["10.0.0.7:51234", "10.0.0.8:41000", "10.0.0.9:40000"] {
        assert!(
            dom.contains(&format!(r#"class="lane client" data-lane="{lane}""#)),
            "no lane for client {lane}"
        );
    }
    assert!(dom.contains(r#"class="lane db" data-lane="database""#), "no database lane");
    assert!(dom.contains(r#"class="value cache""#) && dom.contains(r#"class="value db""#));
    assert!(dom.contains(r#"class="stale""#), "no stale window shaded");
    assert!(dom.contains("mark read stale-definite"), "the stale reads are not marked");
    assert!(dom.contains(r#"data-key="order:42""#));
}
