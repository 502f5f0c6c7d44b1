// Package web is the analyzer's user interface: plain HTML, CSS and
// JavaScript modules, embedded into the binary and served by the
// analyzer. There is no build step and nothing is fetched from outside:
// the page runs under a Content-Security-Policy of default-src 'self'.
//
// Everything the UI shows from intercepted traffic (subjects, bodies,
// header fields, file names) is untrusted. The scripts build the page
// with document.createElement and textContent only (static/js/dom.js);
// no data is ever parsed as HTML.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the UI's files, rooted at the directory holding index.html.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path literal, fixed at build time.
		return files
	}
	return sub
}
