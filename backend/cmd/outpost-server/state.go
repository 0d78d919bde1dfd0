package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"outpost/backend/syncserver"
	"outpost/backend/syncserver/sqlite"
)

// The data folder (0700) holds the database, the TLS certificate and
// key, and the audit receipt key (audit.go), every file 0600 and owned
// by the service's user.
const (
	dbFile   = "server.db"
	certFile = "tls-cert.pem"
	keyFile  = "tls-key.pem"
)

// errState is an operator's problem with the data folder, said plainly.
type errState struct{ msg string }

func (e errState) Error() string { return e.msg }

// checkState refuses a data folder that is missing, not initialised,
// open to other users, or owned by another user than the one running
// the command (which would leave files the service cannot open).
func checkState(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return errState{fmt.Sprintf("%s does not exist: create the server's state with outpost-server init --data-dir %s", dir, dir)}
	}
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if !fi.IsDir() {
		return errState{fmt.Sprintf("%s is not a folder", dir)}
	}
	if err := checkOwner(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return errState{fmt.Sprintf("%s is open to other users (mode %04o): chmod 700 %s", dir, fi.Mode().Perm(), dir)}
	}
	for _, name := range []string{dbFile, certFile, keyFile, dbFile + "-wal", dbFile + "-shm", receiptKeyFile} {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if name == dbFile || name == certFile || name == keyFile {
				return errState{fmt.Sprintf("%s holds no %s: is it the server's data folder? (outpost-server init creates one)", dir, name)}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return errState{fmt.Sprintf("%s is not a regular file", p)}
		}
		if err := checkOwner(p, fi); err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return errState{fmt.Sprintf("%s is open to other users (mode %04o): chmod 600 %s", p, fi.Mode().Perm(), p)}
		}
	}
	return nil
}

// openState checks the folder and opens the store.
func openState(ctx context.Context, dir string) (*sqlite.Store, error) {
	if err := checkState(dir); err != nil {
		return nil, err
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, dbFile))
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	return s, nil
}

// loadCert reads the folder's certificate and key.
func loadCert(dir string) (tls.Certificate, string, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("read the certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("read the certificate's key: %w", err)
	}
	defer clear(keyPEM)
	return syncserver.LoadCertificate(certPEM, keyPEM)
}

// writeFileAtomic writes data to path through a temporary file in the
// same folder, mode 0600, synced, renamed over path, folder synced.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
