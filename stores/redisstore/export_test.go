package redisstore

// ReplaceScript lets the benchmarks send the Replace script raw, as their
// floor.
var ReplaceScript = replaceScript
