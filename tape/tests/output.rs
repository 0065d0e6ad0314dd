//! Output files: an input is never overwritten (by path, symbolic link or hard link), a failed
//! write leaves the old file as it was and no temporary file behind, a partial recording is kept.

use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use cachetape_tape::output::{Input, OutputFile, refuse_inputs, write_file};
use cachetape_tape::{Error, Footer, Header, Writer, WriterOptions};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn refused(output: &Path, input: &Path) -> Option<String> {
    match refuse_inputs("-o", output, &[Input::new("the trace", input)]) {
        Ok(()) => None,
        Err(e @ Error::OutputIsInput { .. }) => Some(e.to_string()),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn an_output_that_is_an_input_is_refused_by_path_link_and_inode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("a.bin");
    std::fs::write(&input, b"trace").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();

    // The same path, written differently.
    let msg = refused(&input, &input).expect("same path");
    assert!(msg.contains("a.bin") && msg.contains("the trace") && msg.contains("-o"), "{msg}");
    assert!(refused(&d.join("sub/../a.bin"), &input).is_some());
    // A symbolic link to the input, as output or as input.
    symlink(&input, d.join("link.bin")).unwrap();
    let msg = refused(&d.join("link.bin"), &input).expect("link to the input");
    assert!(msg.contains("through a symbolic link"), "{msg}");
    assert!(refused(&input, &d.join("link.bin")).is_some());
    // A hard link: another name of the same inode.
    std::fs::hard_link(&input, d.join("hard.bin")).unwrap();
    let msg = refused(&d.join("hard.bin"), &input).expect("hard link");
    assert!(msg.contains("hard link"), "{msg}");
    // A dangling link that would create the input's path... is the input's path.
    symlink(d.join("new.bin"), d.join("dangling.bin")).unwrap();
    assert!(refused(&d.join("dangling.bin"), &d.join("new.bin")).is_some());

    // Different files, existing or not, are fine.
    std::fs::write(d.join("b.bin"), b"trace").unwrap();
    assert_eq!(refused(&d.join("b.bin"), &input), None);
    assert_eq!(refused(&d.join("c.bin"), &input), None);
    assert_eq!(refused(&d.join("sub/a.bin"), &input), None);
}

#[test]
fn a_committed_file_replaces_the_old_one_and_a_dropped_one_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.toml");
    std::fs::write(&path, b"old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let mut out = OutputFile::create(&path).unwrap();
    out.write_all(b"half of the n").unwrap();
    assert_eq!(out.temp_path().parent(), Some(dir.path()), "beside the output");
    assert_eq!(std::fs::read(&path).unwrap(), b"old", "nothing replaced before the commit");
    drop(out); // an error on the way
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(names(dir.path()), ["out.toml"], "no temporary file left");

    write_file(&path, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    assert_eq!(names(dir.path()), ["out.toml"]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the replaced file's permissions are kept");
}

#[test]
fn an_output_that_is_a_link_is_written_through_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real/page.html");
    std::fs::write(&real, b"old").unwrap();
    let link = dir.path().join("page.html");
    symlink(&real, &link).unwrap();
    write_file(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "link kept");
    assert_eq!(std::fs::read(&real).unwrap(), b"new");
    assert_eq!(names(&dir.path().join("real")), ["page.html"]);
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_file(dir.path().join("missing/out.bin"), b"x").unwrap_err();
    assert!(err.to_string().contains("missing/out.bin"), "{err}");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_trace_goes_into_place_at_its_commit_and_a_partial_one_is_kept_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.bin");
    let header = Header::new(1_795_666_525_000_000);
    let options = WriterOptions { max_frame_events: 2, ..WriterOptions::default() };

    let out = OutputFile::partial(&path).unwrap();
    let partial = OutputFile::partial_path(&path);
    assert_eq!(out.temp_path(), partial);
    let mut writer = Writer::to_output(out, &header, options.clone()).unwrap();
    for i in 0..5 {
        writer.append(cachetape_tape::SourceId(0), i, gap(i)).unwrap();
    }
    // Stopped without closing (a crash): the partial file stays, with every closed frame.
    drop(writer);
    assert_eq!(names(dir.path()), ["rec.bin.partial"]);
    let mut reader = cachetape_tape::Reader::open(&partial).unwrap();
    assert_eq!(reader.by_ref().count(), 4);
    assert!(reader.report().truncated.is_some());

    // The next recording does not overwrite it.
    let err = OutputFile::partial(&path).unwrap_err();
    assert!(matches!(err, Error::PartialExists { .. }), "{err}");
    assert!(err.to_string().contains("info --salvage"), "{err}");
    std::fs::remove_file(&partial).unwrap();

    // Closed: renamed into place.
    let out = OutputFile::partial(&path).unwrap();
    let mut writer = Writer::to_output(out, &header, options).unwrap();
    writer.append(cachetape_tape::SourceId(0), 1, gap(1)).unwrap();
    let footer: Footer = writer.commit().unwrap();
    assert_eq!(footer.events, 1);
    assert_eq!(names(dir.path()), ["rec.bin"]);
    let mut reader = cachetape_tape::Reader::open(&path).unwrap();
    assert_eq!(reader.by_ref().count(), 1);
    assert!(reader.report().is_complete());

    // Discarded (nothing recorded): removed.
    let out = OutputFile::partial(dir.path().join("other.bin")).unwrap();
    out.discard();
    assert_eq!(names(dir.path()), ["rec.bin"]);
}

fn gap(i: i64) -> cachetape_tape::EventBody {
    cachetape_tape::EventBody::Gap(cachetape_tape::Gap {
        from_us: i,
        to_us: i + 1,
        reason: "test".into(),
    })
}
