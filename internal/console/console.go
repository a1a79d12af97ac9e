// Package console serves pink's web console: plain ES modules, HTML and
// CSS embedded in the binary, that call the public JSON API with the
// user's token like any script. It holds no data and no secret: every
// answer it gives is a static file or the operator's link templates, so
// it needs no authentication; the API it calls checks every request.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed ui
var files embed.FS

// Config is what the operator tells the console.
type Config struct {
	// GrafanaURL links a job to its dashboard; "{job}" is replaced by the
	// job's name. Empty: no link.
	GrafanaURL string
	// TraceURL links a run to its trace; "{trace_id}" is replaced by the
	// run's trace id. Empty: no link.
	TraceURL string
}

// Check refuses link templates that are not http(s) URLs holding their
// placeholder, so a typo is found at start, not by a user clicking.
func (c Config) Check() error {
	for _, t := range []struct{ flag, value, placeholder string }{
		{"--console-grafana-url", c.GrafanaURL, "{job}"},
		{"--console-trace-url", c.TraceURL, "{trace_id}"},
	} {
		if t.value == "" {
			continue
		}
		u, err := url.Parse(strings.ReplaceAll(t.value, t.placeholder, "x"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: give an http or https URL", t.flag, t.value)
		}
		if !strings.Contains(t.value, t.placeholder) {
			return fmt.Errorf("%s %q: the URL needs %s where the value goes", t.flag, t.value, t.placeholder)
		}
	}
	return nil
}

// Prefix is where the console is served.
const Prefix = "/ui/"

// securityHeaders are sent with every console answer: scripts, styles,
// images and connections only from pink itself, no inline script or
// style, never inside a frame, no MIME sniffing, no referrer.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "no-cache",
}

// assetExt are the extensions of the console's files: a missing one is a
// 404, any other path a page of the console (a run id ends in ".001").
var assetExt = map[string]bool{".js": true, ".css": true, ".svg": true, ".json": true, ".html": true, ".png": true, ".ico": true, ".map": true}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the console under Prefix: its files, config.json (the
// link templates), and index.html for every other path under Prefix, so
// that each page's URL (/ui/jobs/<name>) can be opened directly from an
// alert.
func Handler(cfg Config) (http.Handler, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	assets := map[string]asset{}
	err := fs.WalkDir(files, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		assets[strings.TrimPrefix(p, "ui/")] = newAsset(b, mime.TypeByExtension(path.Ext(p)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console files: %w", err)
	}
	conf, err := json.Marshal(map[string]string{"grafana_url": cfg.GrafanaURL, "trace_url": cfg.TraceURL})
	if err != nil {
		return nil, err
	}
	assets["config.json"] = newAsset(conf, "application/json")
	index := assets["index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the console answers GET only", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a, ok := assets[name]
		if !ok {
			if strings.HasPrefix(name, "js/") || assetExt[path.Ext(name)] {
				http.Error(w, "no such file", http.StatusNotFound)
				return
			}
			a = index // a page of the console: the app routes it
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	}), nil
}

func newAsset(b []byte, contentType string) asset {
	sum := sha256.Sum256(b)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return asset{body: b, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Mount serves the console beside api: Prefix to the console, GET / to a
// redirect to it, everything else to api.
func Mount(api http.Handler, cfg Config) (http.Handler, error) {
	ui, err := Handler(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, ui)
	mux.Handle("GET /{$}", http.RedirectHandler(Prefix, http.StatusFound))
	mux.Handle("/", api)
	return mux, nil
}
