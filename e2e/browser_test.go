package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser; the
// README's test command installs it (make deps).
const chromiumPath = "/usr/bin/chromium"

// browser is a headless Chromium tab on a pink console, driven through the
// DevTools protocol. It records what the page writes to its console (a
// script error, a refused Content-Security-Policy); a test fails on any
// error there, and a failed test leaves a screenshot and that log in
// e2e/browser-failures/<test>/.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	console []string
	errors  []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v (make deps installs Debian's chromium)", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1440, 900), chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "en-US"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, base: strings.TrimRight(base, "/")}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			line := fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
			b.mu.Lock()
			b.console = append(b.console, line)
			// An API's 4xx is the page's normal business (a bad schedule
			// being typed, a viewer's forged request); the browser still
			// logs it. Anything else at error level is a fault.
			apiRefusal := m.Source == "network" && strings.Contains(m.URL, "/api/v1/") && strings.Contains(m.Text, "status of 4")
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !apiRefusal {
				b.errors = append(b.errors, line)
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		errs := append([]string(nil), b.errors...)
		b.mu.Unlock()
		for _, e := range errs {
			t.Errorf("the page logged an error: %s", e)
		}
		if t.Failed() {
			b.saveArtifacts()
		}
		cancel()
		cancelAlloc()
		<-done
	})
	return b
}

// saveArtifacts writes a screenshot and the console log of a failed test.
func (b *browser) saveArtifacts() {
	dir := filepath.Join("browser-failures", strings.ReplaceAll(b.t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("artifacts: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), png, 0o644)
	}
	b.mu.Lock()
	log := strings.Join(b.console, "\n")
	b.mu.Unlock()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	_ = os.WriteFile(filepath.Join(dir, "console.log"), []byte("page: "+url+"\n"+log+"\n"), 0o644)
	abs, _ := filepath.Abs(dir)
	b.t.Logf("browser artifacts (screenshot, console log of %s) in %s", url, abs)
}

// open loads a console path and waits until the page has rendered (its
// <main> holds an h1).
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
	b.waitJS(`document.querySelector('main h1') !== null`, "a page heading after opening "+path)
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval runs a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy (the DOM reached a state).
func (b *browser) waitJS(js, what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("waiting for %s: %v\n(page text: %.1500s)", what, err, b.text("main"))
	}
}

// waitText waits until the element matching css shows text.
func (b *browser) waitText(css, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.textContent.includes(%s))`, jsString(css), jsString(text)),
		fmt.Sprintf("%q in %s", text, css))
}

// text is the text of the first element matching css ("" if none).
func (b *browser) text(css string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {textContent: ''}).textContent`, jsString(css))))
	return v
}

// click clicks the element matching css with a real mouse event.
func (b *browser) click(css string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// clickLive clicks the first element matching css in one step in the page.
// For the rows of a table the page redraws while a job fires (each second
// for the tour's hello): between chromedp's lookup of a node and its mouse
// event a redraw may replace the node.
func (b *browser) clickLive(css string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(css)), css)
	ok := eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.scrollIntoView({block: 'center'}); e.click(); return true; })()`, jsString(css)))
	if !ok {
		b.t.Fatalf("no %s to click", css)
	}
}

// clickText clicks the first button or link matching css whose text holds text.
func (b *browser) clickText(css, text string) {
	b.t.Helper()
	b.waitText(css, text)
	ok := eval[bool](b, fmt.Sprintf(`(() => { const e = [...document.querySelectorAll(%s)].find((e) => e.textContent.includes(%s)); if (!e) return false; e.scrollIntoView({block: 'center'}); e.click(); return true; })()`, jsString(css), jsString(text)))
	if !ok {
		b.t.Fatalf("no %s with text %q to click", css, text)
	}
}

// typeInto clears the field matching css and types text key by key.
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = ''; e.focus(); return true; })()`, jsString(css)))
	b.do(chromedp.SendKeys(chromedp.CSS(css), text))
}

// noHorizontalScroll fails unless the page fits the viewport's width.
func (b *browser) noHorizontalScroll(page string) {
	b.t.Helper()
	got := eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if got[0] > got[1] {
		b.t.Errorf("%s at %d px: the page is %d px wide and scrolls sideways", page, got[1], got[0])
	}
}

// screenshot saves the viewport as docs/console/<name>.png when
// PINK_CONSOLE_SCREENSHOTS names the directory (make console-screenshots).
func (b *browser) screenshot(name string) {
	dir := os.Getenv("PINK_CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// emulatePhone makes the tab a 390 px wide phone screen.
func emulatePhone() []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)}
}
