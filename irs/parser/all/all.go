// Package all links every protocol parser into the binary: importing it
// runs each parser's init(), which registers its detector. Adding a
// protocol adds one line here.
package all
