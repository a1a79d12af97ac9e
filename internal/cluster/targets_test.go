package cluster

import "testing"

// TestTargetWarning: the words the API answers with when no live worker
// would take a job's fires, and "" when one would.
func TestTargetWarning(t *testing.T) {
	live := []Client{{ID: "a", Targets: []string{"shell", "http"}}, {ID: "b", Targets: []string{"http"}}}
	tests := []struct {
		name, target string
		clients      []Client
		reason, want string
	}{
		{"advertised", "shell", live, "", ""},
		{"not advertised", "shel", live, `no live worker of group "default" runs target "shel"`,
			`no live worker of group "default" runs target "shel" (live workers run: http, shell); fires will wait as pending until one does`},
		{"no worker", "shell", nil, `no live worker in group "default"`,
			`no live worker in group "default"; fires will wait as pending until one registers`},
		{"only draining", "shell", []Client{{ID: "a", Targets: []string{"shell"}, Draining: true}}, `no live worker in group "default"`,
			`no live worker in group "default"; fires will wait as pending until one registers`},
		{"lists no targets", "anything", []Client{{ID: "old"}}, "", ""},
	}
	for _, tt := range tests {
		if got := NoWorkerFor("default", tt.target, tt.clients); got != tt.reason {
			t.Errorf("%s: NoWorkerFor = %q, want %q", tt.name, got, tt.reason)
		}
		if got := TargetWarning("default", tt.target, tt.clients); got != tt.want {
			t.Errorf("%s: TargetWarning = %q, want %q", tt.name, got, tt.want)
		}
	}
}
