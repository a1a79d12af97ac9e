// Package dashboards defines pink's Grafana dashboards in Go and renders
// them to the JSON files in dashboards/ (go test ./internal/dashboards -update).
// Keeping them as code makes the conventions checkable: every panel uses the
// datasource variable, has a unit and a description, rate queries use
// $__rate_interval, and the heavy panels read the recording rules of
// alerts/ (pink:* series) that exist.
package dashboards

import (
	"encoding/json"
)

// Datasource is the reference every panel and query uses: the dashboard's
// datasource variable.
var Datasource = Ref{Type: "prometheus", UID: "${datasource}"}

// Ref points at a Grafana datasource.
type Ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Dashboard is the part of Grafana's dashboard model pink uses.
type Dashboard struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description"`
	Tags          []string    `json:"tags"`
	Editable      bool        `json:"editable"`
	GraphTooltip  int         `json:"graphTooltip"`
	Refresh       string      `json:"refresh"`
	SchemaVersion int         `json:"schemaVersion"`
	Version       int         `json:"version"`
	Time          TimeRange   `json:"time"`
	Timezone      string      `json:"timezone"`
	Templating    Templating  `json:"templating"`
	Annotations   Annotations `json:"annotations"`
	Links         []Link      `json:"links"`
	Panels        []Panel     `json:"panels"`
}

// TimeRange is the default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a dashboard variable.
type Variable struct {
	Name       string  `json:"name"`
	Label      string  `json:"label"`
	Type       string  `json:"type"`
	Query      any     `json:"query"`
	Definition string  `json:"definition,omitempty"`
	Datasource *Ref    `json:"datasource,omitempty"`
	Refresh    int     `json:"refresh,omitempty"`
	IncludeAll bool    `json:"includeAll"`
	Multi      bool    `json:"multi"`
	AllValue   string  `json:"allValue,omitempty"`
	Sort       int     `json:"sort,omitempty"`
	Current    Current `json:"current"`
}

// Current is a variable's selection at load.
type Current struct {
	Text  any `json:"text,omitempty"`
	Value any `json:"value,omitempty"`
}

// Annotations are the dashboard's annotation queries.
type Annotations struct {
	List []Annotation `json:"list"`
}

// Annotation marks events on every time series panel: the times at which
// its PromQL query returns a value.
type Annotation struct {
	Name        string `json:"name"`
	Datasource  Ref    `json:"datasource"`
	Enable      bool   `json:"enable"`
	Expr        string `json:"expr"`
	IconColor   string `json:"iconColor"`
	Step        string `json:"step"`
	TitleFormat string `json:"titleFormat"`
	TextFormat  string `json:"textFormat"`
}

// Link is a link to the other pink dashboards.
type Link struct {
	Title       string   `json:"title"`
	Type        string   `json:"type"`
	Tags        []string `json:"tags"`
	AsDropdown  bool     `json:"asDropdown"`
	IncludeVars bool     `json:"includeVars"`
	KeepTime    bool     `json:"keepTime"`
}

// Panel is one panel.
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  Ref         `json:"datasource"`
	GridPos     GridPos     `json:"gridPos"`
	FieldConfig FieldConfig `json:"fieldConfig"`
	Options     any         `json:"options"`
	Targets     []Target    `json:"targets"`
}

// GridPos places a panel.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// FieldConfig sets a panel's unit and display.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []any         `json:"overrides"`
}

// FieldDefaults are the field defaults pink sets.
type FieldDefaults struct {
	Unit     string `json:"unit"`
	Min      *int   `json:"min,omitempty"`
	Decimals *int   `json:"decimals,omitempty"`
	Custom   any    `json:"custom,omitempty"`
	// Mappings show a value as text (0 as "never").
	Mappings []any `json:"mappings,omitempty"`
}

// Target is one PromQL query of a panel.
type Target struct {
	RefID        string `json:"refId"`
	Datasource   Ref    `json:"datasource"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	Instant      bool   `json:"instant,omitempty"`
	Range        bool   `json:"range"`
	Format       string `json:"format,omitempty"`
	Exemplar     bool   `json:"exemplar"`
}

// JSON renders the dashboard as Grafana reads it.
func (d Dashboard) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
