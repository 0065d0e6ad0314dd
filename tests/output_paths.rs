//! No command writes over one of its inputs — given as the same path, another spelling of it, a
//! symbolic link or a hard link — and every output goes into place only when whole: a write that
//! fails half-way (here: the file size limit, `ulimit -f`) leaves the old output as it was and no
//! temporary file behind. `import`, `shrink`, `map --infer -o`, `analyze --html`, `replay
//! --html` and `demo -o`; `record` is in `record_cli.rs` (its `.partial` file).

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use cachetape_testkit::synthetic::cache_aside_monitor_text;

use crate::util::cachetape;

/// Command-line arguments of any printable type, as `OsString`s.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        vec![$(std::ffi::OsStr::new(&$a).to_os_string()),*]
    };
}

type Args = Vec<std::ffi::OsString>;

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces").join(name)
}

/// The directory's file names, sorted (temporary files included: they start with a dot).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs cachetape with `args`; asserts it refused to write `output` over `input` (exit 2, a
/// message naming both) and returns the message.
fn refused(args: &Args, output: &Path, input: &Path) -> String {
    let out = cachetape().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} was not refused:\n{stderr}");
    assert!(stderr.contains("refusing to write"), "{stderr}");
    assert!(stderr.contains(&output.display().to_string()), "names the output: {stderr}");
    assert!(stderr.contains(&input.display().to_string()), "names the input: {stderr}");
    stderr
}

/// Runs cachetape with `args` under a file size limit of 512 bytes (SIGXFSZ ignored, so a write
/// past it fails with EFBIG); returns exit code and stderr.
fn with_size_limit(args: &Args) -> (Option<i32>, String) {
    with_blocks(1, args)
}

/// [`with_size_limit`] with a limit of `blocks` × 512 bytes.
fn with_blocks(blocks: u32, args: &Args) -> (Option<i32>, String) {
    let binary = assert_cmd::cargo::cargo_bin("cachetape");
    let script = format!("ulimit -f {blocks}; trap '' XFSZ; exec \"$@\"");
    let out =
        Command::new("sh").args(["-c", &script, "sh"]).arg(binary).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A directory with the shipped incident as `a.bin` and its mapping as `a.toml`.
fn incident_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(shipped("incident.bin"), dir.path().join("a.bin")).unwrap();
    std::fs::copy(shipped("incident.toml"), dir.path().join("a.toml")).unwrap();
    dir
}

/// The `seq` of the incident's order:42 finding.
fn incident_finding(trace: &Path) -> String {
    let out = cachetape().arg("analyze").arg(trace).args(["--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let found = doc["findings"].as_array().unwrap().iter().find(|f| f["key"] == "order:42");
    found.expect("the incident finding")["seq"].as_u64().unwrap().to_string()
}

#[test]
fn import_never_writes_over_its_capture_schema_or_binlog() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cap = d.join("cap.txt");
    let text = cache_aside_monitor_text(500, 1);
    std::fs::write(&cap, &text).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    symlink(&cap, d.join("link.txt")).unwrap();
    std::fs::hard_link(&cap, d.join("hard.txt")).unwrap();
    for out in [cap.clone(), d.join("sub/../cap.txt"), d.join("link.txt"), d.join("hard.txt")] {
        let msg = refused(&args!["import", "--monitor", cap, "-o", out], &out, &cap);
        assert!(msg.contains("--monitor"), "{msg}");
    }
    // The binlog and the schema are inputs too (refused before anything is read).
    let (binlog, schema) = (d.join("binlog.000001"), d.join("shop.sql"));
    std::fs::write(&binlog, b"\xfebin").unwrap();
    std::fs::write(&schema, b"CREATE TABLE t (id INT PRIMARY KEY);").unwrap();
    for input in [&binlog, &schema] {
        let args = args!["import", "--binlog", binlog, "--schema", schema, "-o", input];
        refused(&args, input, input);
    }
    assert_eq!(std::fs::read_to_string(&cap).unwrap(), text, "the capture is untouched");
    assert_eq!(std::fs::read(&binlog).unwrap(), b"\xfebin");
    assert_eq!(
        names(d),
        ["binlog.000001", "cap.txt", "hard.txt", "link.txt", "shop.sql", "sub"],
        "nothing else written"
    );
}

#[test]
fn import_replaces_an_old_trace_only_when_the_new_one_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cap = d.join("cap.txt");
    std::fs::write(&cap, cache_aside_monitor_text(20_000, 2)).unwrap();
    let out = d.join("out.bin");
    std::fs::write(&out, b"the old trace").unwrap();

    let (code, stderr) = with_size_limit(&args!["import", "--monitor", cap, "-o", out]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("out.bin"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the old trace", "the old trace is whole");
    assert_eq!(names(d), ["cap.txt", "out.bin"], "no temporary file left");

    // Without the limit the new trace replaces it, and nothing else is left.
    crate::util::import_monitor(&cap, &out);
    let events = cachetape_tape::Reader::open(&out).unwrap().count();
    assert_eq!(events, 20_000);
    assert_eq!(names(d), ["cap.txt", "out.bin"]);
}

#[test]
fn shrink_never_writes_over_its_trace_or_mapping() {
    let dir = incident_dir();
    let d = dir.path();
    let (trace, mapping) = (d.join("a.bin"), d.join("a.toml"));
    let before = std::fs::read(&trace).unwrap();
    let finding = incident_finding(&trace);
    symlink(&trace, d.join("link.bin")).unwrap();
    let shrink = |out: &Path, input: &Path, map: Option<&Path>| {
        let mut args = args!["shrink", trace, "--finding", finding, "-o", out];
        if let Some(m) = map {
            args.extend(args!["--map", m]);
        }
        refused(&args, out, input)
    };
    shrink(&trace, &trace, None);
    shrink(&d.join("link.bin"), &trace, None);
    // The mapping beside the trace, and one given with --map.
    let msg = shrink(&mapping, &mapping, None);
    assert!(msg.contains("the mapping"), "{msg}");
    let other = d.join("m.toml");
    std::fs::copy(&mapping, &other).unwrap();
    shrink(&other, &other, Some(&other));
    // An output named .toml would be its own mapping.
    let out = cachetape()
        .arg("shrink")
        .arg(&trace)
        .args(["--finding", &finding, "-o"])
        .arg(d.join("small.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another extension"), "{stderr}");
    assert_eq!(std::fs::read(&trace).unwrap(), before, "the trace is untouched");
    assert_eq!(std::fs::read(&mapping).unwrap(), std::fs::read(shipped("incident.toml")).unwrap());

    // A write that fails half-way leaves an older small trace as it was.
    let small = d.join("small.bin");
    std::fs::write(&small, b"an older small trace").unwrap();
    let (code, stderr) =
        with_size_limit(&args!["shrink", trace, "--finding", finding, "-o", small]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(std::fs::read(&small).unwrap(), b"an older small trace");
    assert_eq!(names(d), ["a.bin", "a.toml", "link.bin", "m.toml", "small.bin"]);
}

#[test]
fn map_never_writes_over_its_trace() {
    let dir = incident_dir();
    let d = dir.path();
    let trace = d.join("a.bin");
    let before = std::fs::read(&trace).unwrap();
    symlink(&trace, d.join("link.bin")).unwrap();
    std::fs::hard_link(&trace, d.join("hard.bin")).unwrap();
    for out in [trace.clone(), d.join("link.bin"), d.join("hard.bin")] {
        refused(&args!["map", "--infer", trace, "-o", out], &out, &trace);
    }
    assert_eq!(std::fs::read(&trace).unwrap(), before);

    // Written whole or not at all (the mapping is short: no byte may be written).
    let out = d.join("b.toml");
    std::fs::write(&out, b"# old\n").unwrap();
    let (code, stderr) = with_blocks(0, &args!["map", "--infer", trace, "-o", out]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"# old\n");
    cachetape().args(["map", "--infer"]).arg(&trace).arg("-o").arg(&out).assert().success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("[[rule]]") || text.contains("rule"), "{text}");
    assert_eq!(names(d), ["a.bin", "a.toml", "b.toml", "hard.bin", "link.bin"]);
}

#[test]
fn html_pages_never_write_over_the_trace_or_the_mapping() {
    let dir = incident_dir();
    let d = dir.path();
    let (trace, mapping) = (d.join("a.bin"), d.join("a.toml"));
    let before = std::fs::read(&trace).unwrap();
    let other = d.join("m.toml");
    std::fs::copy(&mapping, &other).unwrap();
    for command in [args!["analyze"], args!["replay", "--perturb", "1ms"]] {
        let with = |extra: Args| [command.clone(), args![trace], extra].concat();
        refused(&with(args!["--html", trace]), &trace, &trace);
        refused(&with(args!["--html", mapping]), &mapping, &mapping);
        refused(&with(args!["--map", other, "--html", other]), &other, &other);
    }
    assert_eq!(std::fs::read(&trace).unwrap(), before);
    assert_eq!(std::fs::read(&mapping).unwrap(), std::fs::read(shipped("incident.toml")).unwrap());

    // A page through a symbolic link replaces the file it points to and keeps the link; a page
    // that cannot be written whole leaves the old one.
    std::fs::create_dir(d.join("pages")).unwrap();
    let real = d.join("pages/report.html");
    std::fs::write(&real, b"old page").unwrap();
    let link = d.join("report.html");
    symlink(&real, &link).unwrap();
    let (code, stderr) = with_size_limit(&args!["analyze", trace, "--html", link]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(std::fs::read(&real).unwrap(), b"old page");
    let out = cachetape().arg("analyze").arg(&trace).arg("--html").arg(&link).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("<html"));
    assert_eq!(names(&d.join("pages")), ["report.html"]);
    assert_eq!(names(d), ["a.bin", "a.toml", "m.toml", "pages", "report.html"]);
}

#[test]
fn demo_refuses_an_output_that_would_be_its_own_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.toml");
    let output = cachetape().args(["demo", "-o"]).arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the same file") && stderr.contains("demo.toml"), "{stderr}");
    assert!(names(dir.path()).is_empty());
}
