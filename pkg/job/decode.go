package job

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Codes of DecodeError, returned by the API as error codes.
const (
	CodeMalformedJSON = "malformed_json"
	CodeUnknownField  = "unknown_field"
	CodeWrongType     = "wrong_type"
)

// DecodeError is a JSON document that is not a well-formed spec.
type DecodeError struct {
	Code    string
	Field   string
	Message string
	// Err is the decoder's own error (for example the body reader's).
	Err error
}

func (e *DecodeError) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeStrict reads exactly one JSON value from r into v, refusing unknown
// fields, wrong types and trailing data, with messages that name the field.
func DecodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return classify(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &DecodeError{Code: CodeMalformedJSON, Message: "body must hold exactly one JSON object"}
	}
	return nil
}

func classify(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &DecodeError{Code: CodeMalformedJSON, Message: "body is empty: send a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Code: CodeMalformedJSON, Message: "body is truncated JSON"}
	case errors.As(err, &syntax):
		return &DecodeError{Code: CodeMalformedJSON, Message: fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())}
	case errors.As(err, &typ):
		field := jsonPath(typ.Field)
		if field == "" {
			return &DecodeError{Code: CodeWrongType, Message: fmt.Sprintf("body must be a JSON object, got %s", typ.Value)}
		}
		return &DecodeError{Code: CodeWrongType, Field: field,
			Message: fmt.Sprintf("field %q must be %s, got %s", field, describeType(typ.Type.String()), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &DecodeError{Code: CodeUnknownField, Field: field, Message: fmt.Sprintf("unknown field %q", truncate(field, 60))}
	default:
		// Errors from a field's own UnmarshalJSON (durations, status lists)
		// or from the reader.
		return &DecodeError{Code: CodeWrongType, Message: err.Error(), Err: err}
	}
}

// jsonPath drops the Go names of embedded structs ("Spec.retries") from a
// decoder's field path; JSON names in pink's types are lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	for len(parts) > 1 && parts[0] != "" && parts[0][0] >= 'A' && parts[0][0] <= 'Z' {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

func describeType(t string) string {
	switch {
	case strings.HasSuffix(t, "job.Duration"):
		return `a duration string such as "30s" or "5m"`
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case t == "string" || strings.HasSuffix(t, "Concurrency") || strings.HasSuffix(t, "Misfire") || strings.HasSuffix(t, "Strategy"):
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "map["):
		return "a JSON object"
	case strings.HasPrefix(t, "[]"):
		return "a JSON array"
	}
	return "of type " + t
}
