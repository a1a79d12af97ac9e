package snapshot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name, in          string
		max               int
		wantHead, wantEnd string
	}{
		{"short stays whole", "all fine\n", 64, "all fine\n", "all fine\n"},
		{"long keeps start and end", "START" + strings.Repeat("x", 10_000) + "END", 200, "START", "END"},
		{"escapes count", strings.Repeat("<", 1000), 600, "<", "<"},
		{"runes are not split", strings.Repeat("é", 1000), 101, "é", "é"},
		{"invalid bytes count as \\ufffd", strings.Repeat("\xff", 1000), 300, "\xff", "\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.in, tt.max)
			b, _ := json.Marshal(got)
			if len(b)-2 > tt.max {
				t.Errorf("encoded excerpt is %d bytes, max %d", len(b)-2, tt.max)
			}
			if jsonLen(got) != len(b)-2 {
				t.Errorf("jsonLen %d, encoding/json wrote %d", jsonLen(got), len(b)-2)
			}
			if !strings.HasPrefix(got, tt.wantHead) || !strings.HasSuffix(got, tt.wantEnd) {
				t.Errorf("excerpt %.40q...%.40q", got, got[max(0, len(got)-40):])
			}
			if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
				t.Error("a rune was split")
			}
			if got != tt.in && !strings.Contains(got, " bytes cut ...]") {
				t.Error("a cut excerpt has no marker")
			}
			if got != tt.in && len(b)-2 < tt.max*3/4 {
				t.Errorf("excerpt uses %d of %d bytes", len(b)-2, tt.max)
			}
		})
	}
}

// TestMaxRunBytes: the largest run record pink can write, with the longest
// names and ids, the worst output and error to encode and the longest
// error code, fits in MaxRunBytes.
func TestMaxRunBytes(t *testing.T) {
	name := strings.Repeat("j", 63)
	at := time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	s := Snapshot{
		ID: BackfillID(name, at, strings.Repeat("b", 32)) + "/999", Job: name, Group: strings.Repeat("g", 63),
		Client: strings.Repeat("c", 100) + "-abcdef", Target: strings.Repeat("t", 63), Attempt: 999,
		ShardIndex: 9999, ShardTotal: 10000, Trigger: TriggerCatchup, ScheduledAt: at, DispatchedAt: &at, StartedAt: &at,
		TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
	worst := strings.Repeat("<\x00\xff", MaxOutputBytes/3)
	r := s.Finish(StatusTimedOut, worst, worst, at)
	r.ErrorCode = strings.Repeat("<", MaxErrorCodeBytes)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxRunBytes {
		t.Errorf("a maximal run record is %d bytes, more than MaxRunBytes (%d)", len(b), MaxRunBytes)
	}
	t.Logf("maximal run record: %d bytes", len(b))
}
