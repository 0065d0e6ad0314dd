/*!
cachetape-analyzer: key→row mapping, the stale-read oracle, causes and exposure (not built yet).
*/
#![deny(missing_docs)]
