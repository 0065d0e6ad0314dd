/*!
`cachetape demo`: turns the flags into a [`DemoConfig`], runs the shop on private (or given)
servers while recording it, and prints where the trace and its mapping went, what the shop did,
the incident as the shop saw it, and the next command to run. Progress goes to stderr.

Exit codes: 0 when the trace was written, 2 on any error (a missing server binary names the
package to install).
*/

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use cachetape_demo::{DemoConfig, Protocol};
use cachetape_tape::format_duration;

use super::{bytes, now_us, thousands};
use crate::cli::{DemoArgs, DemoMode};
use crate::units::parse_duration_us;

/// Writes one line to stdout; a closed pipe (`| head`) is an error, which `main` treats as
/// success, instead of a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

fn duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    let us = parse_duration_us(text).with_context(|| format!("--{flag}"))?;
    if us < 0 {
        bail!("--{flag} {text}: a duration cannot be negative");
    }
    Ok(Duration::from_micros(us as u64))
}

/// The library's config from the flags.
fn config(args: &DemoArgs) -> anyhow::Result<DemoConfig> {
    let mut c = DemoConfig::new(&args.output);
    c.protocol = match args.mode {
        DemoMode::DeleteAfterWrite => Protocol::DeleteAfterWrite,
        DemoMode::DeleteBeforeWrite => Protocol::DeleteBeforeWrite,
        DemoMode::DoubleDelete => Protocol::DoubleDelete { delay: duration("delay", &args.delay)? },
        DemoMode::TtlOnly => Protocol::TtlOnly,
    };
    c.incident = if args.incident {
        true
    } else if args.no_incident {
        false
    } else {
        args.mode == DemoMode::DeleteAfterWrite && args.turns.is_none()
    };
    c.readers = args.readers;
    c.writers = args.writers;
    c.orders = args.orders;
    c.duration = duration("duration", &args.duration)?;
    c.operations = args.operations;
    c.think = duration("think", &args.think)?;
    c.write_think = duration("write-think", &args.write_think)?;
    c.stall_probability = args.stall_probability;
    c.stall = duration("stall", &args.stall)?;
    c.ttl = duration("ttl", &args.ttl)?;
    c.incident_stall = duration("incident-stall", &args.incident_stall)?;
    c.turns = match &args.turns {
        Some(t) => Some(duration("turns", t)?),
        None => None,
    };
    c.seed = args.seed;
    c.redis = args.redis.clone();
    c.mysql = args.mysql.clone();
    c.database = args.database.clone();
    c.level = args.level;
    let probe = duration("probe-interval", &args.probe_interval)?;
    if probe < Duration::from_millis(10) {
        bail!("--probe-interval {} is too short: use 10ms or more", args.probe_interval);
    }
    c.probe_interval = probe;
    c.created_us = now_us();
    Ok(c)
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args)?;
    let mut progress = |line: &str| eprintln!("demo: {line}");
    let summary = cachetape_demo::run(&config, &mut progress)
        .with_context(|| format!("the demo recording {} failed", config.output.display()))?;
    let trace = summary.trace.display().to_string();
    let n = &summary.counts;
    say!(
        "trace:    {trace} ({} events, {}); mapping {}",
        thousands(summary.events),
        bytes(summary.trace_bytes),
        summary.mapping.display()
    );
    say!(
        "shop:     {}; {} readers, {} writers, {} orders, {}{}: {} reads ({} hits, {} misses, {} \
         stalled), {} writes, {} DELs",
        config.protocol,
        config.readers,
        config.writers,
        config.orders,
        format_duration(config.duration.as_micros() as i64),
        config.turns.map_or(String::new(), |p| format!(
            ", taking turns {} apart",
            format_duration(p.as_micros() as i64)
        )),
        thousands(n.reads),
        thousands(n.hits),
        thousands(n.misses),
        thousands(n.stalls),
        thousands(n.writes),
        thousands(n.invalidations)
    );
    if let Some(i) = &summary.incident {
        say!(
            "incident: order:42 — reader {} read {} and stalled; writer {} committed {} and \
             invalidated ({}); the reader's SETEX landed {} after that",
            i.reader,
            status(&i.cached),
            i.writer,
            status(&i.committed),
            config.protocol,
            format_duration(i.setex_after_commit.as_micros() as i64)
        );
        say!(
            "          the cache says {}, the database {}; {} of the reader's next {} reads were \
             served {}",
            status(&i.cached),
            status(&i.committed),
            i.stale_rereads,
            i.rereads,
            status(&i.cached)
        );
    }
    if let Some(w) = summary.recording.perturb_window_us {
        say!(
            "clocks:   the smallest --perturb window covering their uncertainty is {}",
            format_duration(w)
        );
    }
    for w in &summary.recording.warnings {
        say!("warning:  {w}");
    }
    say!("next:     cachetape replay --perturb 5ms {trace}");
    say!("          cachetape analyze {trace}");
    Ok(ExitCode::SUCCESS)
}

/// `CANCELLED` from `{"id":42,"status":"CANCELLED",…}`.
fn status(json: &str) -> &str {
    json.split("\"status\":\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or(json)
}
