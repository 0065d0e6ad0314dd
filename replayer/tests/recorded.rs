/*!
Differential test (b): a recorded multi-client workload (to be written).
*/
