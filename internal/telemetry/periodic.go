package telemetry

import "time"

// Periodically calls f every interval with the time since its previous
// call (or since Periodically), and once more when stop is called; stop
// waits for that last call. The INFO summaries that stand in for per-run
// log lines (a scheduler's fires, a worker's runs) are logged this way.
func Periodically(interval time.Duration, f func(since time.Duration)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-quit:
				f(time.Since(last))
				return
			case <-tick.C:
				f(time.Since(last))
				last = time.Now()
			}
		}
	}()
	return func() { close(quit); <-done }
}
