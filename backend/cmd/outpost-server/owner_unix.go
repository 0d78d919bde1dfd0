//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a file or folder owned by another user than the
// one running the command: SQLite would create its WAL files owned by
// this user, and the service could no longer open the database.
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return errState{fmt.Sprintf("%s belongs to user id %d, and this command runs as %d: run it as the service's user, e.g. sudo -u outpost-server outpost-server …", path, st.Uid, uid)}
	}
	return nil
}
