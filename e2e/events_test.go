package e2e

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestEventStreamOnANode: the built binary streams changes to a client,
// counts the open stream in its metrics, and still stops at once on
// SIGTERM with the stream open (a shutdown waits for requests, and a
// stream would never end by itself).
func TestEventStreamOnANode(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	p := pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","), "--listen", "127.0.0.1:0")
	addr := p.SchedulerAddr()
	p.WaitOutput("became leader", 30*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/v1/events?types=job", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	api := pinktest.NewAPI(addr)
	api.JSON(t, "POST", "/api/v1/groups", `{"name":"batch"}`, 201, nil)
	api.JSON(t, "POST", "/api/v1/jobs", `{"name":"nightly","group":"batch","schedule":"0 3 * * *","target":"noop"}`, 201, nil)
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case l := <-lines:
			got = strings.HasPrefix(l, "data: ") && strings.Contains(l, `"job":"nightly"`) && strings.Contains(l, `"group":"batch"`)
		case <-deadline:
			t.Fatal("no event for the new job within 10 s")
		}
	}
	_, metrics := api.Do(t, "GET", "/metrics", nil)
	if !strings.Contains(string(metrics), "\npink_api_event_streams 1\n") {
		t.Errorf("metrics do not count one open stream:\n%s", grepLines(string(metrics), "pink_api_event_streams"))
	}
	p.Stop(5 * time.Second)
	for range lines {
	} // the stream ended with the process
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
