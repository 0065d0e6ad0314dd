//! cachetape-perturb's integration tests, as one binary.

mod replay;
