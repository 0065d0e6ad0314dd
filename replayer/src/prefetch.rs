/*!
[`Replayer::prefetch`](crate::Replayer::prefetch): a caller that reads a trace ahead can ask for a
command's key to be loaded before the command runs. Replay on a large key space is bound by cache
misses (the control bytes, the bucket, a long value's shared bytes: one after the other, each
needing the one before); started a few events early they overlap the work on the events before.
A hint only: it computes nothing and changes nothing.
*/

/// How far [`Replayer::prefetch`](crate::Replayer::prefetch) goes for one key. Each step reads
/// what the step before loaded, so call them in order, an event or so apart: `Control` for an
/// event three ahead, `Bucket` two ahead, `Value` one ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefetch {
    /// The control bytes where the key's lookup starts (read: the table does not say where
    /// they are without reading them).
    Control,
    /// The bucket those control bytes point to.
    Bucket,
    /// A long string value's shared bytes (their reference count, which a GET's reply bumps).
    Value,
}
