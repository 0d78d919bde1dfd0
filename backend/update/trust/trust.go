// Package trust holds the update root of trust embedded at build time: the
// first root metadata (root.json) of the clinic's update repository. The
// build places it at backend/update/trust/root/root.json (not committed;
// see docs/updates.md) or maps it there with go build -overlay. A build
// without it cannot update itself.
package trust

import (
	"embed"
	"io/fs"
)

//go:embed root
var files embed.FS

// Root returns the embedded root metadata, or false when the build has none.
func Root() ([]byte, bool) {
	b, err := fs.ReadFile(files, "root/root.json")
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}
