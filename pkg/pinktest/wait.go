package pinktest

import (
	"net"
	"testing"
	"time"
)

// Eventually polls cond every 20ms until it returns true or timeout passes;
// then it fails the test with the last description cond gave. It is how
// tests wait for a state instead of sleeping.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var why string
	for {
		ok, desc := cond()
		if ok {
			return
		}
		why = desc
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %s", timeout, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
