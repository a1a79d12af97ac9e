package api

import (
	"encoding/json"
	"net/http"

	"go.yaml.in/yaml/v3"
)

// yamlToJSON reads a YAML body (what `pink apply` files hold, and the
// console's YAML editor sends) as the JSON the API decodes strictly: the
// same fields, limits and errors follow.
func yamlToJSON(body []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, errorf(http.StatusBadRequest, "malformed_yaml", "the body is not valid YAML: "+err.Error())
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errorf(http.StatusBadRequest, "malformed_yaml", "the body must be a YAML mapping of the job's fields")
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "malformed_yaml", "the body must be a YAML mapping with string keys")
	}
	return b, nil
}
