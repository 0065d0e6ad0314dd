/*!
`cachetape import`: MONITOR captures and binlog files into one trace.

Each MONITOR capture is one Redis node; all binlog files belong to one database server. Every
source is read in its own order (MONITOR order, binlog order) and the sources are merged by time
into one trace, so order within a source is exact. The trace is written beside its path and
renamed into place when whole, and never over one of the inputs. Files carry no receive times: a MONITOR line's
own timestamp (µs) and a binlog event's header time (whole seconds) stand in for them, which the
header's notes say.
*/

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cachetape_tape::output::{Input as NamedInput, OutputFile, refuse_inputs};
use cachetape_tape::{
    Capture, EventBody, Header, Micros, Source, SourceId, SourceKind, Writer, WriterOptions,
};

use crate::binlog::{BinlogError, BinlogFile, BinlogOptions, FileReport};
use crate::monitor::{MonitorReader, MonitorReport};
use crate::schema::{Schema, SchemaError};

/// One MONITOR capture and the node name its events get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorInput {
    /// The capture (`redis-cli monitor > FILE`).
    pub path: PathBuf,
    /// The node name (`cache-1`).
    pub node: String,
}

/// What to import.
#[derive(Clone, Debug, Default)]
pub struct ImportPlan {
    /// MONITOR captures, one node each.
    pub monitors: Vec<MonitorInput>,
    /// Binlog files of one database server, in order.
    pub binlogs: Vec<PathBuf>,
    /// DDL with the `CREATE TABLE` statements that name the binlog's columns.
    pub schema: Option<PathBuf>,
    /// The trace to write.
    pub output: PathBuf,
    /// The trace's creation time (µs since the epoch), given by the caller.
    pub created_us: Micros,
    /// zstd level for the trace's frames (0 means the default, 3).
    pub level: i32,
}

impl ImportPlan {
    /// Every file the import reads, named as the command line names it.
    pub fn inputs(&self) -> Vec<NamedInput<'_>> {
        let monitors = self.monitors.iter().map(|m| NamedInput::new("--monitor", &m.path));
        let binlogs = self.binlogs.iter().map(|p| NamedInput::new("--binlog", p));
        let schema = self.schema.iter().map(|p| NamedInput::new("--schema", p));
        monitors.chain(binlogs).chain(schema).collect()
    }
}

/// What an import read and wrote.
#[derive(Clone, Debug, Default)]
pub struct ImportSummary {
    /// Per MONITOR capture, what its reader saw.
    pub monitors: Vec<(MonitorInput, MonitorReport)>,
    /// Per binlog file, what was decoded and what was skipped.
    pub binlogs: Vec<FileReport>,
    /// Errors that stopped one input early: every event read before them is in the trace.
    pub errors: Vec<String>,
    /// Events written.
    pub events: u64,
    /// Bytes of the trace file.
    pub bytes: u64,
    /// Bytes the events took before compression.
    pub raw_bytes: u64,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Nothing to import.
    #[error("nothing to import: give at least one --monitor FILE or --binlog FILE")]
    NoInputs,
    /// Two captures were given the same node name.
    #[error("two MONITOR captures are named `{0}`: give each its own --node NAME")]
    DuplicateNode(String),
    /// An input could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The schema file could not be used.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A binlog file could not be opened.
    #[error(transparent)]
    Binlog(#[from] BinlogError),
    /// Writing the trace failed.
    #[error(transparent)]
    Tape(#[from] cachetape_tape::Error),
}

/// One input being merged into the trace, with its next event.
struct Stream {
    source: SourceId,
    next: Option<(Micros, EventBody)>,
    input: Input,
}

/// Where a stream's events come from.
enum Input {
    Monitor { input: MonitorInput, reader: Box<MonitorReader<BufReader<File>>> },
    Binlog(Box<BinlogFiles>),
}

/// The binlog files of one server, read one after the other with one transaction counter.
struct BinlogFiles {
    current: Option<BinlogFile>,
    waiting: VecDeque<PathBuf>,
    schema: Option<Arc<Schema>>,
    reports: Vec<FileReport>,
}

impl BinlogFiles {
    fn next_txn(&self) -> u64 {
        self.reports.last().map_or(1, FileReport::next_txn)
    }

    fn pull(&mut self) -> Result<Option<(Micros, EventBody)>, String> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.waiting.pop_front() else { return Ok(None) };
                let options = BinlogOptions {
                    schema: self.schema.clone(),
                    first_txn: self.next_txn(),
                    ..BinlogOptions::default()
                };
                self.current = Some(BinlogFile::open(&path, &options).map_err(|e| e.to_string())?);
            }
            let file = self.current.as_mut().expect("opened above");
            match file.next() {
                Some(Ok(event)) => return Ok(Some(event)),
                Some(Err(e)) => {
                    let file = self.current.take().expect("reading it");
                    self.reports.push(file.finish());
                    return Err(e.to_string());
                }
                None => {
                    let file = self.current.take().expect("reading it");
                    self.reports.push(file.finish());
                }
            }
        }
    }
}

impl Input {
    /// The next event; `Err` is an error that ends this input (what it read is kept).
    fn pull(&mut self) -> Result<Option<(Micros, EventBody)>, String> {
        match self {
            Input::Monitor { input, reader } => match reader.next_command() {
                Ok(next) => Ok(next.map(|c| (c.server_us, EventBody::Redis(c)))),
                Err(e) => Err(format!("cannot read {}: {e}", input.path.display())),
            },
            Input::Binlog(files) => files.pull(),
        }
    }
}

/// Imports according to `plan`.
pub fn import(plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
    if plan.monitors.is_empty() && plan.binlogs.is_empty() {
        return Err(ImportError::NoInputs);
    }
    let mut names: Vec<&str> = plan.monitors.iter().map(|m| m.node.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(ImportError::DuplicateNode(w[0].to_string()));
    }
    refuse_inputs("-o", &plan.output, &plan.inputs())?;

    let mut header = Header::new(plan.created_us);
    header.notes.push(
        "imported from files: receive times are the sources' own timestamps (MONITOR: µs; \
         binlog: whole seconds)"
            .into(),
    );
    let mut streams: Vec<Stream> = Vec::new();
    for input in &plan.monitors {
        let source = header.add_source(Source {
            name: input.node.clone(),
            kind: SourceKind::Redis,
            address: input.path.display().to_string(),
            version: None,
            capture: Capture::Imported { files: vec![input.path.display().to_string()] },
        });
        let reader = open_monitor(&input.path)?;
        streams.push(Stream {
            source,
            next: None,
            input: Input::Monitor { input: input.clone(), reader: Box::new(reader) },
        });
    }

    if !plan.binlogs.is_empty() {
        let schema = match &plan.schema {
            Some(path) => Some(Arc::new(Schema::from_file(path)?)),
            None => {
                header
                    .notes
                    .push("binlog imported without --schema: columns are named @1..@n".into());
                None
            }
        };
        let mut waiting: VecDeque<PathBuf> = plan.binlogs.iter().cloned().collect();
        let first = waiting.pop_front().expect("not empty");
        let options = BinlogOptions { schema: schema.clone(), ..BinlogOptions::default() };
        let file = BinlogFile::open(&first, &options)?;
        let source = header.add_source(Source {
            name: "db".into(),
            kind: file.source_kind().unwrap_or(SourceKind::MySql),
            address: first.display().to_string(),
            version: file.server_version().map(str::to_string),
            capture: Capture::Imported {
                files: plan.binlogs.iter().map(|p| p.display().to_string()).collect(),
            },
        });
        let files = BinlogFiles { current: Some(file), waiting, schema, reports: Vec::new() };
        streams.push(Stream { source, next: None, input: Input::Binlog(Box::new(files)) });
    }

    let mut options = WriterOptions::default();
    if plan.level != 0 {
        options.level = plan.level;
    }
    let mut writer = Writer::to_output(OutputFile::create(&plan.output)?, &header, options)?;
    let mut errors = Vec::new();
    let mut pull = |s: &mut Stream| match s.input.pull() {
        Ok(next) => s.next = next,
        Err(e) => errors.push(e),
    };
    streams.iter_mut().for_each(&mut pull);
    // Merge by time; ties go to the earlier source; each source's own order is never changed.
    while let Some(i) = (0..streams.len())
        .filter(|&i| streams[i].next.is_some())
        .min_by_key(|&i| (streams[i].next.as_ref().map(|n| n.0), i))
    {
        let s = &mut streams[i];
        let (t, body) = s.next.take().expect("filtered on is_some");
        writer.append(s.source, t, body)?;
        pull(s);
    }
    writer.close_frame()?;
    let raw_bytes = writer.raw_bytes();
    let footer = writer.commit()?;
    let bytes = std::fs::metadata(&plan.output).map(|m| m.len()).unwrap_or(0);
    let mut monitors = Vec::new();
    let mut binlogs = Vec::new();
    for s in streams {
        match s.input {
            Input::Monitor { input, reader } => monitors.push((input, reader.report().clone())),
            Input::Binlog(files) => binlogs = files.reports,
        }
    }
    Ok(ImportSummary { monitors, binlogs, errors, events: footer.events, bytes, raw_bytes })
}

fn open_monitor(path: &Path) -> Result<MonitorReader<BufReader<File>>, ImportError> {
    let file = File::open(path)
        .map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    Ok(MonitorReader::new(BufReader::with_capacity(1 << 20, file)))
}
