package audit

// SkipForBenchmark makes l record nothing (Append and Record return at
// once), so a benchmark can measure what auditing adds to an action. It
// exists only in this package's tests.
func SkipForBenchmark(l *Log, skip bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.skip = skip
}

// SetParallel makes VerifyVault split a chain of from events or more
// into ranges of from events, at most most of them whatever the number of
// processors, and returns a function that puts it back.
func SetParallel(from, most int64) (restore func()) {
	old := parallel
	parallel.from, parallel.most, parallel.perCPU = from, most, false
	return func() { parallel = old }
}
