/*!
cachetape-perturb: every order of a trace the network could have produced within a window,
searched for reads served stale — as a library, without the command line.

- [`replay`]: the regression API — [`Replay`] a trace (a file, or events in memory) as recorded
  and under perturbation, and get a [`ReplayReport`]: plain data a test asserts on, which the
  `cachetape` binary renders as text, JSON or HTML;
- [`shrink`]: cutting a trace down to the events one finding needs (`cachetape shrink`).

Architecture invariant: no I/O but reading the trace and mapping files a [`Replay`] is given,
no clock, no command line. A report is a pure function of the trace, the mapping, the window,
the seed and the budget.
*/
#![deny(missing_docs)]

pub mod replay;
pub mod shrink;

pub use replay::{PerturbedRead, Replay, ReplayError, ReplayReport};
