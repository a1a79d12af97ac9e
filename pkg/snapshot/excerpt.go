package snapshot

import (
	"fmt"
	"unicode/utf8"
)

// Bounds of what a run keeps. A handler's output is cut to MaxOutputBytes
// on the worker: that much goes to the run's log record (exported over
// OTLP to a log backend that keeps it as long as its owner likes). etcd,
// which holds a bounded window of history, keeps an excerpt: the start and
// the end of the output, at most MaxStoredOutputBytes of them once encoded
// as JSON, and of the error text at most MaxStoredErrorBytes. So one run
// record in etcd is at most MaxRunBytes, which is what sizing the history
// window in bytes rests on (docs/architecture.md).
const (
	MaxStoredOutputBytes = 4 << 10
	MaxStoredErrorBytes  = 1 << 10
	// MaxErrorCodeBytes bounds the code a handler gives its run.
	MaxErrorCodeBytes = 64
	// MaxRunBytes bounds the JSON of one run record in etcd.
	MaxRunBytes = 7 << 10
)

// excerptMarker replaces the middle of a text too long to keep whole.
const excerptMarker = "\n[... %d bytes cut ...]\n"

// Excerpt returns s if its JSON encoding (without quotes) fits in max bytes,
// else its start and its end, with a marker saying how many bytes were cut
// in between, whose encoding fits: an error message usually starts a log
// and a failure usually ends it, so both are kept (a quarter of the room
// for the start, the rest for the end). Runes are never split.
func Excerpt(s string, max int) string {
	if jsonLen(s) <= max {
		return s
	}
	room := max - jsonLen(fmt.Sprintf(excerptMarker, len(s)))
	if room <= 0 {
		return ""
	}
	head, tail := 0, len(s)
	for used, budget := 0, room/4; head < len(s); {
		r, size := utf8.DecodeRuneInString(s[head:])
		if used+runeJSONLen(r, size) > budget {
			break
		}
		used, head = used+runeJSONLen(r, size), head+size
	}
	for used, budget := 0, room-jsonLen(s[:head]); tail > head; {
		r, size := utf8.DecodeLastRuneInString(s[head:tail])
		if used+runeJSONLen(r, size) > budget {
			break
		}
		used, tail = used+runeJSONLen(r, size), tail-size
	}
	return s[:head] + fmt.Sprintf(excerptMarker, tail-head) + s[tail:]
}

// jsonLen is the length of s encoded as a JSON string by encoding/json,
// without the quotes.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += runeJSONLen(r, size)
		i += size
	}
	return n
}

// runeJSONLen is how many bytes encoding/json writes for one rune of a
// string: escapes for quotes, backslashes and control characters, \u00XX
// for <, > and & (HTML-safe encoding), \ufffd for an invalid byte.
func runeJSONLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size == 1:
		return 6
	case r == '"', r == '\\', r == '\n', r == '\r', r == '\t':
		return 2
	case r < 0x20, r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
		return 6
	}
	return size
}
