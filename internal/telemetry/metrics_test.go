package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// blocking is a collector whose Collect waits until release is closed, so
// that a test can hold scrapes in flight.
type blocking struct {
	desc    *prometheus.Desc
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }
func (b *blocking) Collect(ch chan<- prometheus.Metric) {
	b.entered <- struct{}{}
	<-b.release
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, 1)
}

// TestScrapesInFlightAreBounded: with MaxScrapesInFlight scrapes being
// served, one more is answered 503 at once instead of adding its memory;
// the held ones then finish normally.
func TestScrapesInFlightAreBounded(t *testing.T) {
	reg := NewRegistry()
	b := &blocking{desc: prometheus.NewDesc("pink_test_blocking", "test", nil, nil), entered: make(chan struct{}), release: make(chan struct{})}
	reg.MustRegister(b)
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make(chan int, MaxScrapesInFlight)
	for range MaxScrapesInFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
		<-b.entered
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("scrape %d while %d are served: %d, want 503", MaxScrapesInFlight+1, MaxScrapesInFlight, resp.StatusCode)
	}
	close(b.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a held scrape answered %d", c)
		}
	}
}

// TestSlowScrapesTimeOut: a scrape that takes longer than the timeout is
// answered 503 instead of holding its connection and memory.
func TestSlowScrapesTimeOut(t *testing.T) {
	reg := NewRegistry()
	b := &blocking{desc: prometheus.NewDesc("pink_test_blocking", "test", nil, nil), entered: make(chan struct{}, 1), release: make(chan struct{})}
	reg.MustRegister(b)
	srv := httptest.NewServer(reg.handler(100 * time.Millisecond))
	defer srv.Close()
	defer close(b.release)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Exceeded configured timeout") {
		t.Errorf("a scrape past its timeout: %d %q, want 503", resp.StatusCode, body)
	}
}
