package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/update"
	"outpost/backend/update/client"
	"outpost/backend/update/source"
)

// version is set at build time with -ldflags "-X main.version=X.Y.Z".
var version = "dev"

// product is this binary's name in the update repository.
const product = "outpost-admin"

const updateUsage = `usage: outpost-admin update check|apply --repo URL|DIR [--state-dir D] [--ca-cert PEM | --pin SHA256] [--target BINARY]
       outpost-admin update status [--state-dir D]
  check   verify the repository's signed metadata and show the newest release
  apply   install it: verified against its signed length and hash, the old
          program kept next to it as <name>.previous
  status  the installed version, the highest ever installed, the repository,
          when its metadata was last verified and whether it has expired
`

func cmdVersion(e env) error {
	fmt.Fprintln(e.stdout, "outpost-admin", version)
	return nil
}

func cmdUpdate(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "apply" && args[0] != "status") {
		fmt.Fprint(e.stderr, updateUsage)
		return usageError("update check, update apply or update status")
	}
	sub := args[0]
	fs := flags("update "+sub, e)
	repoFlag := fs.String("repo", "", "update repository: https:// URL or folder (USB stick)")
	stateDir := fs.String("state-dir", "", "update state folder (default: the user's config folder/outpost/admin-update)")
	caCert := fs.String("ca-cert", "", "PEM certificate(s) to trust for the https repository (default: the system's)")
	pin := fs.String("pin", "", "SHA-256 fingerprint of the https server's certificate (outpost-server fingerprint)")
	target := fs.String("target", "", "binary to update (default: this program)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError("bad flags")
	}
	if *stateDir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return usageError("no config folder: give --state-dir")
		}
		*stateDir = filepath.Join(base, "outpost", "admin-update")
	}
	if sub == "status" {
		return updateStatus(*stateDir, e)
	}
	if *repoFlag == "" {
		return usageError("--repo is required")
	}
	var opts source.Options
	if *caCert != "" {
		pem, err := os.ReadFile(*caCert)
		if err != nil {
			return usageError(fmt.Sprintf("--ca-cert: %v", err))
		}
		opts.RootCAs = x509.NewCertPool()
		if !opts.RootCAs.AppendCertsFromPEM(pem) {
			return usageError("--ca-cert holds no PEM certificate")
		}
	}
	if *pin != "" {
		p, err := source.ParsePin(*pin)
		if err != nil {
			return usageError("--pin: " + err.Error())
		}
		opts.Pin = p
	}
	src, err := source.Parse(*repoFlag, opts)
	if err != nil {
		return usageError(err.Error())
	}
	c, err := client.New(client.Config{Source: src, StateDir: *stateDir, Product: product, Running: version, Target: *target, Now: e.now})
	if err != nil {
		return updateError(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	a, err := c.Check(ctx)
	if err != nil {
		return updateError(err)
	}
	if !a.Found {
		fmt.Fprintf(e.stdout, "outpost-admin %s is up to date (repository %s).\n", version, src)
		return nil
	}
	kind := "Update"
	if a.Security {
		kind = "SECURITY UPDATE"
	}
	fmt.Fprintf(e.stdout, "%s available: outpost-admin %s (running %s), %d bytes.\n", kind, a.Version, version, a.Size)
	if a.Notes != "" {
		fmt.Fprintf(e.stdout, "Release notes:\n%s\n", a.Notes)
	}
	if sub == "check" {
		return nil
	}
	inst, err := c.Apply(ctx, a)
	if err != nil {
		return updateError(err)
	}
	fmt.Fprintf(e.stdout, "Updated outpost-admin to %s. The previous program is kept at %s.\n", inst.Version, inst.Previous)
	return nil
}

func updateStatus(stateDir string, e env) error {
	st, err := client.ReadStatus(stateDir, version, e.now())
	if err != nil {
		return updateError(err)
	}
	show := func(label, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(e.stdout, "%-16s %s\n", label, v)
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format(time.RFC1123)
	}
	show("installed", st.Running)
	show("highest ever", st.Highest)
	show("repository", st.Repository)
	show("last verified", at(st.LastRefreshed))
	show("metadata expires", at(st.Expires))
	if st.Expired {
		fmt.Fprintln(e.stdout, "WARNING: the update metadata has expired: updates are refused until the administrators refresh the repository's timestamp (outpost-release timestamp) and this computer checks again.")
	}
	return nil
}

// updateError gives an operator the reason in one line.
func updateError(err error) error {
	switch {
	case errors.Is(err, update.ErrRefused):
		return ehr.Wrap(ehr.EForbidden, err.Error()+". The program was not changed.", err)
	case errors.Is(err, update.ErrNoRoot), errors.Is(err, update.ErrUnknownVersion):
		return ehr.Wrap(ehr.EInvalid, err.Error(), err)
	}
	return ehr.Wrap(ehr.ENotFound, "the update could not be completed: "+err.Error(), err)
}
