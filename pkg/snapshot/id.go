package snapshot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// stampLayout formats a fire time into ids: fixed width, UTC, so ids of one
// job sort by time.
const stampLayout = "20060102T150405Z"

// CronID is the id of the snapshot of job's fire at nominal time t. The same
// fire always gets the same id, so it can be written only once.
func CronID(job string, t time.Time) string {
	return job + "@" + t.UTC().Format(stampLayout)
}

// ManualID is a fresh id for a manual trigger of job at time t.
func ManualID(job string, t time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen on Linux
	}
	return job + "@" + t.UTC().Format(stampLayout) + "-m" + hex.EncodeToString(b[:])
}

// BackfillID is the id of the snapshot a backfill makes for the fire at t:
// the same for the same backfill and fire, so its creation cannot repeat.
func BackfillID(job string, t time.Time, backfill string) string {
	return job + "@" + t.UTC().Format(stampLayout) + "-b" + backfill
}

// RunID is the history id of one attempt of a snapshot. The attempt is
// zero-padded so a job's history keys sort by snapshot, then attempt.
func RunID(snapshotID string, attempt int) string {
	return fmt.Sprintf("%s.%03d", snapshotID, attempt)
}

// JobOf returns the job name inside a snapshot or run id.
func JobOf(id string) (string, bool) {
	job, _, ok := strings.Cut(id, "@")
	if !ok || job == "" {
		return "", false
	}
	return job, true
}

// ScheduledAtOf reads the nominal fire time out of a snapshot or run id
// (to the second, as ids hold it).
func ScheduledAtOf(id string) (time.Time, bool) {
	_, rest, ok := strings.Cut(id, "@")
	if !ok || len(rest) < len(stampLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(stampLayout, rest[:len(stampLayout)])
	return t, err == nil
}

// SplitRunID splits a run id into its snapshot id and attempt.
func SplitRunID(id string) (snapshotID string, attempt int, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 || !strings.Contains(id[:i], "@") {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return id[:i], n, true
}
