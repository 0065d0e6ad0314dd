//! The regression API on the shipped traces, without the command line: a trace in memory
//! replays exactly as the same trace read from its file, a schedule replays from memory too, and
//! the shrinker's perturbation test keeps a finding of the search with no file written.

use std::path::PathBuf;
use std::time::Duration;

use cachetape_analyzer::{Cause, Mapping, Verdict};
use cachetape_perturb::shrink::{Perturbation, Target, perturbation_test, shrink};
use cachetape_perturb::{Replay, ReplayError};
use cachetape_tape::{Event, Header, Reader};

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces").join(name)
}

fn read(name: &str) -> (Header, Vec<Event>) {
    let mut reader = Reader::open(trace(name)).unwrap();
    let header = reader.header().clone();
    let events = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (header, events)
}

fn mapping(name: &str) -> Mapping {
    Mapping::parse(&std::fs::read_to_string(trace(name)).unwrap()).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn events_in_memory_replay_as_their_file_does() {
    let m = mapping("incident.toml");
    let from_file = Replay::open(trace("incident.bin"))
        .unwrap()
        .mapping(m.clone(), "incident.toml")
        .perturb(ms(5))
        .jobs(2)
        .run()
        .unwrap();
    let (header, events) = read("incident.bin");
    let from_events = Replay::from_events(header, events)
        .mapping(m, "incident.toml")
        .perturb(ms(5))
        .jobs(2)
        .run()
        .unwrap();
    assert!(!from_file.is_clean());
    assert!(from_file.stale_reads().iter().any(|r| r.read.verdict == Verdict::StalePossible));
    assert_eq!(from_file, from_events);
}

#[test]
fn a_schedule_replays_from_memory_as_from_its_file() {
    let replay = Replay::open(trace("incident.bin")).unwrap().perturb(ms(5)).jobs(2);
    let report = replay.run().unwrap();
    let found = report
        .stale_reads()
        .iter()
        .find(|r| r.read.verdict == Verdict::StalePossible)
        .expect("a read only a reordering makes stale");
    let (header, events) = read("incident.bin");
    let in_memory = Replay::from_events(header, events)
        .mapping(mapping("incident.toml"), "incident.toml")
        .perturb(ms(5));
    let a = replay.replay_schedule(&found.schedule).unwrap();
    let b = in_memory.replay_schedule(&found.schedule).unwrap();
    assert_eq!(a.steps, b.steps);
    assert_eq!(a.report.findings, b.report.findings);
    assert!(a.report.findings.iter().any(|f| f.seq == found.read.seq));
}

#[test]
fn errors_keep_what_caused_them() {
    let err = Replay::open(trace("incident.bin")).unwrap().map("/nonexistent.toml").run();
    assert!(matches!(err, Err(ReplayError::MappingMissing { .. })), "{err:?}");
    let err = Replay::open("/nonexistent.bin").unwrap_err();
    let source = std::error::Error::source(&err).expect("the operating system's error");
    assert!(source.to_string().contains("No such file"), "{source}");
    let replay = Replay::open(trace("incident.bin")).unwrap().perturb(ms(5));
    let err = replay.replay_schedule("c9999-n1").unwrap_err();
    assert!(matches!(err, ReplayError::NoSuchComponent { component: 9999, .. }), "{err:?}");
    let err = replay.replay_schedule("nonsense").unwrap_err();
    assert!(err.to_string().contains("schedule ids come from"), "{err}");
}

#[test]
fn shrinking_under_perturbation_keeps_the_finding_without_writing_files() {
    let (header, events) = read("incident.bin");
    let m = mapping("incident.toml");
    let perturbation = Perturbation { window: ms(5), seed: 1, db_lag: ms(5) };
    let report = perturbation
        .configure(Replay::from_events(header.clone(), events.clone()).mapping(m.clone(), ""))
        .run()
        .unwrap();
    let found = report
        .stale_reads()
        .iter()
        .find(|r| r.read.verdict == Verdict::StalePossible && r.read.cause != Cause::Unexplained)
        .expect("a read only a reordering makes stale");
    let target = Target::of(&found.read);
    let mut test = perturbation_test(&header, &m, perturbation, &target);
    let shrunk = shrink(&header, &m, &target, events.clone(), 200, &mut test).unwrap();
    assert!(shrunk.events.len() < events.len() / 10, "{} events kept", shrunk.events.len());
    assert!(test(&shrunk.events), "the shrunk events still show the finding");
}
