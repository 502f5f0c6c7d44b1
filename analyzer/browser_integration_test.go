//go:build integration

package analyzer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium.
const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where screenshots go: $SDNLI_ARTIFACTS or a temporary
// directory of the test.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SDNLI_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "analyzer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// newBrowser starts a headless Chromium with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("%s not found (apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first call starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

const stepTimeout = 30 * time.Second

// do runs browser steps, failing the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one browser action and returns its value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", p)
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

func loginAs(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	do(t, ctx, "login as "+name,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`form[data-test=login-form]`)),
		chromedp.SendKeys(css(`input[name=name]`), name),
		chromedp.SendKeys(css(`input[name=password]`), password),
		chromedp.Click(css(`form[data-test=login-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-test=whoami]`)))
}

// TestBrowser drives the UI in Chromium: log in, search by email, open
// the event, download the .eml and check its SHA-256, see hostile
// content stay inert, toggle a protocol and see the controller change.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := newBrowser(t)
	shots := artifactsDir(t)
	base := e.web.URL

	t.Run("login refused", func(t *testing.T) {
		do(t, ctx, "bad login",
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(css(`form[data-test=login-form]`)),
			chromedp.SendKeys(css(`input[name=name]`), "ann"),
			chromedp.SendKeys(css(`input[name=password]`), "not the password"),
			chromedp.Click(css(`form[data-test=login-form] button[type=submit]`)),
			chromedp.WaitVisible(css(`[data-test=login-error]`)))
		if msg := text(t, ctx, `[data-test=login-error]`); !strings.Contains(msg, "wrong user name or password") {
			t.Errorf("login error = %q", msg)
		}
		shot(t, ctx, shots, "01-login")
	})

	loginAs(t, ctx, base, "ann")
	if who := text(t, ctx, `[data-test=whoami]`); who != "ann" {
		t.Errorf("logged in as %q; want ann", who)
	}

	t.Run("search by email", func(t *testing.T) {
		do(t, ctx, "search",
			chromedp.WaitVisible(css(`form[data-test=search-form]`)),
			chromedp.SendKeys(css(`input[name=email]`), "Alice@Example.org"),
			chromedp.Click(css(`[data-test=search-button]`)),
			chromedp.WaitVisible(css(`table[data-test=results-table]`)))
		count := text(t, ctx, `[data-test=result-count]`)
		rows := value(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll('table[data-test=results-table] tbody tr').length`))
		if count != "3 events" || rows != 3 {
			t.Errorf("results: %q, %d rows; want 3 events", count, rows)
		}
		if loc := value(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "email=Alice%40Example.org") {
			t.Errorf("the search is not in the URL: %s", loc)
		}
		shot(t, ctx, shots, "02-search")
	})

	t.Run("event and eml download", func(t *testing.T) {
		do(t, ctx, "open event",
			chromedp.Click(css(fmt.Sprintf(`tr[data-id="%d"] td.subject`, e.ids["e1"]))),
			chromedp.WaitVisible(css(`[data-test=email-subject]`)))
		subject, sum, body := text(t, ctx, `[data-test=email-subject]`), text(t, ctx, `[data-test=eml-sha256]`), text(t, ctx, `[data-test=email-body]`)
		if subject != "Quarterly report" || sum != e.sums["e1/eml"] || !strings.Contains(body, "numbers are attached") {
			t.Errorf("event view: subject %q, sha %q, body %q", subject, sum, body)
		}
		if att := text(t, ctx, `table[data-test=attachments]`); !strings.Contains(att, "report.pdf") || !strings.Contains(att, e.sums["e1/attachment"]) {
			t.Errorf("attachments table = %q", att)
		}
		shot(t, ctx, shots, "03-event")

		dl := t.TempDir()
		on := true
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: &on}); err != nil {
			t.Fatalf("download behavior: %v", err)
		}
		evctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		progress := chromedp.BrowserEvents(evctx, browser.DownloadProgress)
		do(t, ctx, "click download", chromedp.Click(css(`[data-test=download-eml]`)))
		guid := ""
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("the .eml download did not complete: %v", err)
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				guid = ev.GUID
				break
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				t.Fatalf("the .eml download was cancelled")
			}
		}
		b, err := os.ReadFile(filepath.Join(dl, guid))
		if err != nil {
			t.Fatalf("downloaded file: %v", err)
		}
		if got := sha(b); got != e.sums["e1/eml"] {
			t.Errorf("downloaded .eml SHA-256 %s; want %s", got, e.sums["e1/eml"])
		}
	})

	t.Run("hostile content is inert", func(t *testing.T) {
		do(t, ctx, "hostile search",
			chromedp.Navigate(base+"/#/search?email=mallory%40evil.example"),
			chromedp.WaitVisible(css(`table[data-test=results-table]`)))
		if cell := text(t, ctx, `td.subject`); cell != hostileJS {
			t.Errorf("subject cell = %q; want the markup shown as text", cell)
		}
		do(t, ctx, "hostile event",
			chromedp.Navigate(base+fmt.Sprintf("/#/event/%d", e.ids["e6"])),
			chromedp.WaitVisible(css(`[data-test=email-subject]`)),
			chromedp.Sleep(300*time.Millisecond)) // give any injected handler a chance to fire
		subject, emailSubject := text(t, ctx, `[data-test=event-subject]`), text(t, ctx, `[data-test=email-subject]`)
		if subject != hostileJS || emailSubject != hostileJS {
			t.Errorf("subjects %q / %q; want %q as text", subject, emailSubject, hostileJS)
		}
		pwned := value(t, ctx, "pwned", chromedp.Evaluate[bool](`window.__pwned !== undefined || document.title === 'pwned'`))
		elems := value(t, ctx, "elements", chromedp.Evaluate[int](`document.querySelectorAll('img, svg, iframe, object, embed, b').length`))
		scripts := value(t, ctx, "scripts", chromedp.Evaluate[int](`document.querySelectorAll('script').length`))
		if pwned || elems != 0 || scripts != 1 {
			t.Errorf("hostile content took effect: pwned=%v, %d img/svg/iframe/object/embed/b elements, %d scripts (want only app.js)", pwned, elems, scripts)
		}
		body := text(t, ctx, `[data-test=email-body]`)
		att := text(t, ctx, `table[data-test=attachments]`)
		headers := value(t, ctx, "headers", chromedp.Evaluate[string](`document.querySelector('table[data-test=headers]').textContent`))
		if !strings.Contains(body, "<script>window.__pwned=3</script><b>bold?</b>") || !strings.Contains(att, "<img src=x onerror=window.__pwned=4>.html") ||
			!strings.Contains(headers, "<script>window.__pwned=2</script>") {
			t.Errorf("hostile text not shown as text: body %q, attachment %q, headers %q", body, att, headers)
		}
		shot(t, ctx, shots, "04-hostile-event")
	})

	t.Run("toggle mirroring", func(t *testing.T) {
		do(t, ctx, "logout", chromedp.Click(css(`[data-test=logout]`)), chromedp.WaitVisible(css(`form[data-test=login-form]`)))
		loginAs(t, ctx, base, "root")
		before, err := e.ctl.Policy().Get("smtp")
		if err != nil {
			t.Fatal(err)
		}
		onOff := map[bool]string{true: "on", false: "off"}
		do(t, ctx, "mirror page",
			chromedp.Navigate(base+"/#/mirror"),
			chromedp.WaitVisible(css(`input[data-protocol=smtp] + .slider`)))
		if state := text(t, ctx, `[data-test=state-smtp]`); state != onOff[before.Enabled] {
			t.Errorf("page shows smtp %q; controller has enabled=%v", state, before.Enabled)
		}
		shot(t, ctx, shots, "05-mirror-before")
		do(t, ctx, "toggle", chromedp.Click(css(`input[data-protocol=smtp] + .slider`)), chromedp.WaitVisible(css(`[data-test=toast]`)))
		value(t, ctx, "state after toggle", chromedp.Poll[bool](
			fmt.Sprintf(`document.querySelector('[data-test=state-smtp]').textContent === %q`, onOff[!before.Enabled]),
			chromedp.WithPollingTimeout(20*time.Second)))
		after, err := e.ctl.Policy().Get("smtp")
		if err != nil || after.Enabled == before.Enabled {
			t.Errorf("controller smtp enabled = %v (was %v), %v; want it switched", after.Enabled, before.Enabled, err)
		}
		if e.reg.Enabled("smtp") != after.Enabled {
			t.Errorf("IRS parser smtp = %v; want %v", e.reg.Enabled("smtp"), after.Enabled)
		}
		shot(t, ctx, shots, "06-mirror-after")
	})

	t.Run("status, audit and users pages", func(t *testing.T) {
		card := `[data-test="node-` + nodeName + `"]`
		do(t, ctx, "status", chromedp.Navigate(base+"/#/status"), chromedp.WaitVisible(css(card)))
		if node := text(t, ctx, card); !strings.Contains(node, "1,234") || !strings.Contains(node, "capturing") {
			t.Errorf("node card = %q", node)
		}
		shot(t, ctx, shots, "07-status")
		do(t, ctx, "audit",
			chromedp.Navigate(base+"/#/audit"),
			chromedp.WaitVisible(css(`[data-test=audit-table] table`)),
			chromedp.Click(css(`[data-test=verify]`)),
			chromedp.WaitVisible(css(`.notice.ok`)))
		audit := text(t, ctx, `[data-test=audit-table]`)
		for _, want := range []string{"mirror-toggle", "download", "search", "login"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit page lacks %q", want)
			}
		}
		shot(t, ctx, shots, "08-audit")
		do(t, ctx, "users", chromedp.Navigate(base+"/#/users"), chromedp.WaitVisible(css(`[data-test=users] table`)))
		shot(t, ctx, shots, "09-users")
	})
}
