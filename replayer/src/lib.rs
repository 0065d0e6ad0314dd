/*!
cachetape-replayer: a fake Redis on a virtual clock that re-executes a trace (not built yet).
*/
#![deny(missing_docs)]
