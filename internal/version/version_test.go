package version

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		info Info
		want string
	}{
		{Info{Version: "v1.2.0", Revision: "567abfd3c1e2aa9f", GoVersion: "go1.26.8", Platform: "linux/amd64"}, "pink v1.2.0 (revision 567abfd3c1e2; go1.26.8 linux/amd64)"},
		{Info{Version: "dev", Revision: "abc", Modified: true, GoVersion: "go1.26.8", Platform: "darwin/arm64"}, "pink dev (revision abc, modified; go1.26.8 darwin/arm64)"},
		{Info{Version: "dev", GoVersion: "go1.26.8", Platform: "linux/amd64"}, "pink dev (revision unknown; go1.26.8 linux/amd64)"},
	} {
		if got := tc.info.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.info, got, tc.want)
		}
	}
	if Get().GoVersion == "" || Get().Version == "" {
		t.Errorf("Get() = %+v", Get())
	}
	Override = "v9.9.9"
	defer func() { Override = "" }()
	if Get().Version != "v9.9.9" {
		t.Errorf("Override ignored: %+v", Get())
	}
}
