package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// TestSchedulerListenNeedsAuth: without a tokens file the API serves only
// loopback; another address is refused before anything starts, unless
// authentication is on or explicitly waived.
func TestSchedulerListenNeedsAuth(t *testing.T) {
	e := pinktest.StartEtcd(t)
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(tokens, []byte("tokens:\n  - {name: ci, role: viewer, token_sha256: "+auth.HashToken("t")+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const refused = "refusing to serve the API on 0.0.0.0:0 without authentication: give --api-tokens-file, listen on 127.0.0.1, or pass --insecure-allow-unauthenticated"
	for _, tc := range []struct {
		name, listen, tokens string
		insecure             bool
		wantErr              string
	}{
		{"any address without tokens", "0.0.0.0:0", "", false, refused},
		{"any address, explicitly unauthenticated", "0.0.0.0:0", "", true, ""},
		{"any address with tokens", "0.0.0.0:0", tokens, false, ""},
		{"loopback without tokens", "127.0.0.1:0", "", false, ""},
		{"localhost without tokens", "localhost:0", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &pinktest.Buffer{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				errc <- RunScheduler(ctx, SchedulerConfig{
					Etcd: EtcdConfig{Endpoints: e.Endpoints, Root: "/" + strings.ReplaceAll(tc.name, " ", "-")}, Listen: tc.listen,
					TokensFile: tc.tokens, AllowUnauthenticated: tc.insecure, SessionTTL: 2 * time.Second,
					Logger: slog.New(slog.NewJSONHandler(logs, nil)),
				})
			}()
			if tc.wantErr != "" {
				select {
				case err := <-errc:
					if err == nil || err.Error() != tc.wantErr {
						t.Fatalf("RunScheduler = %v, want %q", err, tc.wantErr)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("RunScheduler did not refuse the address")
				}
				if logs.String() != "" {
					t.Errorf("a refused scheduler started: %s", logs)
				}
				return
			}
			var api string
			pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
				select {
				case err := <-errc:
					t.Fatalf("RunScheduler ended: %v", err)
				default:
				}
				api = startedAPI(logs.String())
				return api != "", "no 'scheduler node starting' line yet"
			})
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(api, "http://"))
			resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("healthz: %d", resp.StatusCode)
			}
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("RunScheduler after cancel: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("RunScheduler did not stop")
			}
		})
	}
}

// startedAPI returns the API address a scheduler logged when it started.
func startedAPI(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		var rec struct {
			Msg string `json:"msg"`
			API string `json:"api"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "scheduler node starting" {
			return rec.API
		}
	}
	return ""
}

// TestHTTPServerTimeouts: every server pink runs (API, worker metrics) has
// the timeouts docs/security.md lists, so a slow client cannot hold a
// connection forever.
func TestHTTPServerTimeouts(t *testing.T) {
	srv, err := listen("127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.ln.Close()
	got := fmt.Sprintf("read header %s, read %s, write %s, idle %s",
		srv.srv.ReadHeaderTimeout, srv.srv.ReadTimeout, srv.srv.WriteTimeout, srv.srv.IdleTimeout)
	if want := "read header 10s, read 30s, write 1m0s, idle 2m0s"; got != want {
		t.Errorf("timeouts: %s, want %s", got, want)
	}
}

// TestWorkerUsesTheConfiguredRoot: the built-in worker registers under the
// root the process was given, as the scheduler reads it, whatever its
// spelling ("/" is the empty prefix for both).
func TestWorkerUsesTheConfiguredRoot(t *testing.T) {
	e := pinktest.StartEtcd(t)
	for _, root := range []string{"/", "/team-a/", "/team-b"} {
		t.Run(root, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				errc <- RunWorker(ctx, WorkerConfig{Etcd: EtcdConfig{Endpoints: e.Endpoints, Root: root}, Group: "g",
					Listen: "127.0.0.1:0", Name: "w", LeaseTTL: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
			}()
			st := store.New(e.Client, root)
			pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
				cs, err := st.ListClients(context.Background(), "g")
				return err == nil && len(cs) == 1, fmt.Sprintf("clients under %q: %v %v", root, cs, err)
			})
			cancel()
			if err := <-errc; err != nil {
				t.Fatalf("RunWorker: %v", err)
			}
		})
	}
}

// TestDevStaysOnLoopback: pink dev refuses an API or an embedded etcd
// beyond loopback before it starts anything, naming only its own flags.
func TestDevStaysOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		name, listen, etcd, want string
	}{
		{"api everywhere", "0.0.0.0:8080", "127.0.0.1:0", "refusing to serve the API on 0.0.0.0:8080: pink dev has no authentication"},
		{"etcd everywhere", "127.0.0.1:0", "0.0.0.0:2379", "refusing to serve the embedded etcd on 0.0.0.0:2379: it has no authentication"},
		{"etcd on a LAN address", "127.0.0.1:0", "192.168.1.10:2379", "refusing to serve the embedded etcd on 192.168.1.10:2379"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := RunDev(context.Background(), DevConfig{DataDir: dir, Listen: tc.listen, EtcdListen: tc.etcd, Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("RunDev = %v, want %q...", err, tc.want)
			}
			for _, flag := range []string{"--insecure-allow-unauthenticated", "--api-tokens-file,"} {
				if strings.Contains(err.Error(), flag) {
					t.Errorf("the message names %s, which pink dev does not have: %v", flag, err)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused pink dev wrote %v", entries)
			}
		})
	}
}
