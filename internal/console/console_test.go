package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":"route_not_found"}}`)
	})
	h, err := Mount(api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestRoutes(t *testing.T) {
	srv := serve(t, Config{GrafanaURL: "https://grafana.example/d/x?var-job={job}"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		contentType  string
		body         string // a substring of the answer
	}{
		{"GET", "/", http.StatusFound, "", ""},
		{"GET", "/ui/", http.StatusOK, "text/html; charset=utf-8", `<script type="module" src="/ui/js/app.js">`},
		{"GET", "/ui/jobs/nightly-report", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"GET", "/ui/runs/nightly@20261201T000000Z.001", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"GET", "/ui/js/app.js", http.StatusOK, "text/javascript; charset=utf-8", "import"},
		{"GET", "/ui/style.css", http.StatusOK, "text/css; charset=utf-8", "prefers-color-scheme"},
		{"GET", "/ui/config.json", http.StatusOK, "application/json", `"grafana_url":"https://grafana.example/d/x?var-job={job}"`},
		{"GET", "/ui/js/missing.js", http.StatusNotFound, "", ""},
		{"GET", "/ui/missing.css", http.StatusNotFound, "", ""},
		{"POST", "/ui/", http.StatusMethodNotAllowed, "", ""},
		{"POST", "/", http.StatusNotFound, "application/json", "route_not_found"}, // the API answers
		{"GET", "/api/v1/nothing", http.StatusNotFound, "application/json", "route_not_found"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, resp.Header.Get("Content-Type"), tc.contentType)
		}
		if !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: body %.200q lacks %q", tc.method, tc.path, b, tc.body)
		}
		if tc.path == "/" && tc.method == "GET" && resp.Header.Get("Location") != "/ui/" {
			t.Errorf("/ redirects to %q", resp.Header.Get("Location"))
		}
		if strings.HasPrefix(tc.path, "/ui/") {
			for k, v := range securityHeaders {
				if resp.Header.Get(k) != v {
					t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, k, resp.Header.Get(k), v)
				}
			}
		}
	}
}

func TestCSPIsStrict(t *testing.T) {
	csp := securityHeaders["Content-Security-Policy"]
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, banned := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, banned) {
			t.Errorf("CSP %q allows %q", csp, banned)
		}
	}
}

// TestFilesAreSafeAndSmall reads every file of the console: under 200 KB
// in all, nothing loaded from another origin, no inline script or style
// (the CSP would refuse them), and no API that turns strings into HTML or
// code — data reaches the page as text only.
func TestFilesAreSafeAndSmall(t *testing.T) {
	total := 0
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(['"]style|\.style\.|javascript:`)
	external := regexp.MustCompile(`(?:src|href)=["']?(?:https?:)?//|import[^;]*from\s+['"]https?:|url\(`)
	err := fs.WalkDir(files, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		total += len(b)
		text := string(b)
		if m := banned.FindString(text); m != "" {
			t.Errorf("%s uses %q", p, m)
		}
		if m := external.FindString(text); m != "" {
			t.Errorf("%s loads from elsewhere: %q", p, m)
		}
		if strings.HasSuffix(p, ".html") {
			for _, m := range regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(text, -1) {
				if !strings.Contains(m[1], " src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s has an inline script: %q", p, m[0])
				}
			}
			if regexp.MustCompile(`\sstyle=|<style|\son[a-z]+=`).MatchString(text) {
				t.Errorf("%s has inline style or an inline handler", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 200<<10 {
		t.Errorf("the console weighs %d bytes, over 200 KB", total)
	}
	t.Logf("console: %d bytes", total)
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{GrafanaURL: "https://grafana.example/d/pink?var-job={job}", TraceURL: "http://jaeger:16686/trace/{trace_id}"}, ""},
		{Config{GrafanaURL: "https://grafana.example/d/pink"}, "--console-grafana-url \"https://grafana.example/d/pink\": the URL needs {job} where the value goes"},
		{Config{GrafanaURL: "javascript:alert({job})"}, "--console-grafana-url \"javascript:alert({job})\": give an http or https URL"},
		{Config{TraceURL: "/trace/{trace_id}"}, "--console-trace-url \"/trace/{trace_id}\": give an http or https URL"},
		{Config{TraceURL: "https://t.example/{job}"}, "--console-trace-url \"https://t.example/{job}\": the URL needs {trace_id} where the value goes"},
	} {
		err := tc.cfg.Check()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Check(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
		if _, herr := Handler(tc.cfg); (herr != nil) != (tc.want != "") {
			t.Errorf("Handler(%+v) error %v", tc.cfg, herr)
		}
	}
}
