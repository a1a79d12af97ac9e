package job

// MaxParamsDepth bounds how deeply a job's params may nest: a few bytes of
// deeply nested JSON would otherwise become megabytes in every response
// that shows the job.
const MaxParamsDepth = 32

// JSONDepth is the nesting depth of the JSON text b: 0 for a scalar, 1 for
// a flat object or array, one more for each level inside. It reads b once
// and allocates nothing, so it can check untrusted input before a decoder
// recurses into it. Malformed text gets a depth too; decoding refuses it.
func JSONDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
