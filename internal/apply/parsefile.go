package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ParseFile reads an apply file by its type: a .json file must be strict
// JSON (YAML would accept a trailing comma, a comment or a duplicate
// key, and a job would be created from a file JSON tools reject); any
// other file is YAML. A syntax error names its line and column.
func ParseFile(name string, b []byte) (File, error) {
	if strings.EqualFold(filepath.Ext(name), ".json") {
		if err := checkJSON(b); err != nil {
			return File{}, err
		}
	}
	return Parse(b)
}

// checkJSON reports the first syntax error of b as "line L, column C".
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, more := dec.Token(); more != io.EOF {
			return fmt.Errorf("not JSON: %s: more after the document", position(b, dec.InputOffset()))
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("not JSON: %s: %v", position(b, syn.Offset), err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("not JSON: %s: the document ends early", position(b, int64(len(b))))
	}
	return fmt.Errorf("not JSON: %w", err)
}

// position is byte offset off of b as a 1-based line and column.
func position(b []byte, off int64) string {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
