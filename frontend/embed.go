// Package frontend embeds the built UI (frontend/dist, made by Vite).
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built UI with index.html at its root. Before the
// frontend is built it holds only a placeholder, and Built reports false.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("frontend: embedded dist missing: " + err.Error()) // fixed at compile time
	}
	return sub
}

// Built reports whether the embedded UI has an index.html.
func Built() bool {
	_, err := fs.Stat(Assets(), "index.html")
	return err == nil
}
