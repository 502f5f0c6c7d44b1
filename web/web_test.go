package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestNoMarkupFromData: the scripts never turn strings into markup or
// code, so intercepted content can only ever become text.
func TestNoMarkupFromData(t *testing.T) {
	forbidden := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setTimeout('", "setTimeout(\"", "DOMParser", "createContextualFragment", "srcdoc"}
	n := 0
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
			return err
		}
		n++
		b, err := fs.ReadFile(FS(), path)
		if err != nil {
			return err
		}
		for _, f := range forbidden {
			if strings.Contains(string(b), f) {
				t.Errorf("%s uses %s", path, f)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d scripts found", n)
	}
}

// TestCSPCompatible: no inline script, style or handler, and nothing
// loaded from another origin (no CDN), so default-src 'self' holds.
func TestCSPCompatible(t *testing.T) {
	scriptTag := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	external := regexp.MustCompile(`(?i)(?:src|href)\s*=\s*["']?(?:https?:)?//`)
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), path)
		if err != nil {
			return err
		}
		s := string(b)
		switch {
		case strings.HasSuffix(path, ".html"):
			for _, m := range scriptTag.FindAllStringSubmatch(s, -1) {
				if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s has an inline script: %.60s", path, m[0])
				}
			}
			if strings.Contains(s, "<style") || strings.Contains(s, " style=") {
				t.Errorf("%s has inline style", path)
			}
			if handler.MatchString(s) {
				t.Errorf("%s has an inline event handler", path)
			}
			if external.MatchString(s) {
				t.Errorf("%s loads from another origin", path)
			}
		case strings.HasSuffix(path, ".css"):
			if strings.Contains(s, "@import") || regexp.MustCompile(`url\(\s*["']?(?:https?:)?//`).MatchString(s) {
				t.Errorf("%s loads from another origin", path)
			}
		case strings.HasSuffix(path, ".js"):
			if regexp.MustCompile(`(?:import|fetch)\s*\(?\s*["'](?:https?:)?//`).MatchString(s) {
				t.Errorf("%s loads from another origin", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(FS(), "index.html"); err != nil {
		t.Errorf("index.html missing: %v", err)
	}
}
