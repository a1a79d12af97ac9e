package scheduler

// Exported for the tests of package scheduler_test.
var HistoryKeep = historyKeep

const HistoryRowBytes = historyRowBytes
