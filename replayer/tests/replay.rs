/*!
Replay semantics on hand-written traces (to be written).
*/
