package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
)

// The audit trail leaves the laptop through `audit export` (a signed-in
// security officer, auditor or administrator; the administrator prepares
// off-device copies) and is checked by `audit verify`, on an exported
// file with no vault and no key, or on the vault itself with its key
// from the keyring, as `check` does. docs/audit-format.md describes the
// file, so that other tools can verify it too.

const auditUsage = `usage: outpost-admin audit export --data-dir D --user NAME --out FILE
       outpost-admin audit verify [--public-key BASE64] FILE
       outpost-admin audit verify --data-dir D
`

// mayExportAudit: audit.read (security officer, auditor), or
// audit.manage, off-device copies of the trail (security officer,
// administrator).
func mayExportAudit(roles []string) bool {
	return auth.Can(roles, auth.PermAuditRead) || auth.Can(roles, auth.PermAuditManage)
}

func cmdAudit(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageError("export or verify?\n" + auditUsage)
	}
	switch args[0] {
	case "export":
		return cmdAuditExport(ctx, args[1:], e)
	case "verify":
		return cmdAuditVerify(ctx, args[1:], e)
	}
	return usageError(fmt.Sprintf("unknown audit command %q\n%s", args[0], auditUsage))
}

func cmdAuditExport(ctx context.Context, args []string, e env) error {
	fs := flags("audit export", e)
	dir := fs.String("data-dir", "", "vault folder")
	user := fs.String("user", "", "a security officer, auditor or administrator")
	out := fs.String("out", "", "the file to write (mode 0600), replaced atomically")
	if err := fs.Parse(args); err != nil || *dir == "" || *user == "" || *out == "" || fs.NArg() > 0 {
		return usageError("--data-dir, --user and --out are required")
	}
	if fi, err := os.Stat(*out); err == nil && !fi.Mode().IsRegular() {
		return usageError("--out must name a file")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	s, a, done, err := clinical(ctx, *dir, *user, e)
	if err != nil {
		return err
	}
	defer done()
	ev := audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session, Action: "audit.export"}
	if !mayExportAudit(a.Roles) {
		ev.Outcome, ev.Detail = audit.Denied, "missing permission "+auth.PermAuditRead+" or "+auth.PermAuditManage
		_ = s.Audit.Record(context.WithoutCancel(ctx), s.Vault.W, ev)
		return ehr.Errorf(ehr.EForbidden, "%s may not export the audit trail: it needs the security officer, auditor or administrator role.", a.Username)
	}
	// Sign the newest event (this sign-in's) first, so the file ends
	// under a checkpoint and a cut tail is noticed.
	if _, err := s.Audit.Checkpoint(ctx); err != nil {
		return err
	}
	var st audit.ExportStats
	err = writeAtomic(*out, func(w io.Writer) error {
		var err error
		st, err = audit.Export(ctx, s.Vault.R, e.now(), w)
		return err
	})
	ev.Outcome, ev.Detail = outcome(err), fmt.Sprintf("%d events to %d, %d checkpoints", st.Events, st.LastSeq, st.Checkpoints)
	if rerr := s.Audit.Record(context.WithoutCancel(ctx), s.Vault.W, ev); err == nil && rerr != nil {
		os.Remove(*out) // an export that cannot be audited is not kept
		return rerr
	}
	if err != nil {
		return err
	}
	_, pub, err := audit.PublicKey(ctx, s.Vault.R)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Exported %s (%d to %d) and %s to %s\n",
		plural(int(st.Events), "event"), st.Anchor+1, st.LastSeq, plural(st.Checkpoints, "signed checkpoint"), *out)
	if st.Anchor > 0 {
		fmt.Fprintf(e.stdout, "Events 1 to %d were purged, so the file starts after them (format %s)\n", st.Anchor, audit.FormatAnchored)
	}
	fmt.Fprintf(e.stdout, "Device %s, public key (Ed25519): %s\n", s.Info.DeviceID, base64.StdEncoding.EncodeToString(pub))
	return nil
}

func cmdAuditVerify(ctx context.Context, args []string, e env) error {
	fs := flags("audit verify", e)
	dir := fs.String("data-dir", "", "verify the vault in this folder instead of a file")
	pinned := fs.String("public-key", "", "the device's public key (base64) the file must carry")
	if err := fs.Parse(args); err != nil {
		return usageError("bad flags\n" + auditUsage)
	}
	var rep audit.Report
	var err error
	switch {
	case *dir != "" && fs.NArg() == 0 && *pinned == "":
		v, oerr := openForAdmin(ctx, *dir, e)
		if oerr != nil {
			return oerr
		}
		defer v.Close()
		rep, err = audit.VerifyVault(ctx, v.R)
	case *dir == "" && fs.NArg() == 1:
		var pin ed25519.PublicKey
		if *pinned != "" {
			k, kerr := base64.StdEncoding.DecodeString(*pinned)
			if kerr != nil || len(k) != ed25519.PublicKeySize {
				return usageError("--public-key must be 32 bytes of base64")
			}
			pin = k
		}
		f, oerr := os.Open(fs.Arg(0))
		if oerr != nil {
			return ehr.Errorf(ehr.ENotFound, "Cannot read the file: %v", errors.Unwrap(oerr))
		}
		defer f.Close()
		rep, err = audit.VerifyFile(f, pin)
	default:
		return usageError("give one FILE, or --data-dir\n" + auditUsage)
	}
	var be *audit.BreakError
	var fe *audit.FormatError
	switch {
	case errors.As(err, &be):
		fmt.Fprintf(e.stdout, "FAIL  %s\n", be.Error())
		return ehr.Errorf(ehr.EVault, "The audit trail does not verify: the first bad event is %d.", be.Seq)
	case errors.As(err, &fe):
		fmt.Fprintf(e.stdout, "FAIL  %s\n", fe.Error())
		return ehr.Errorf(ehr.EVault, "The file is not a readable audit export (line %d).", fe.Line)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "audit trail OK: %s", plural(int(rep.Count()), "event"))
	if rep.Count() > 0 {
		fmt.Fprintf(e.stdout, " (%d to %d)", rep.Anchor.Seq+1, rep.Events)
	}
	fmt.Fprintf(e.stdout, ", %s of device %s\n", plural(rep.Checkpoints, "signed checkpoint"), rep.Device)
	if rep.Anchor.Seq > 0 {
		fmt.Fprintf(e.stdout, "events 1 to %d were purged; the chain continues from event %d (hash %s), which a signed checkpoint vouches for\n",
			rep.Anchor.Seq, rep.Anchor.Seq, rep.Anchor.Hash)
	}
	switch {
	case rep.Checkpoints == 0 && rep.Events > 0:
		fmt.Fprintln(e.stdout, "no signed checkpoint yet: events cut from the end could not be noticed")
	case rep.Checkpoints > 0:
		fmt.Fprintf(e.stdout, "the latest checkpoint, signed %s, covers event %d; %s after it\n",
			rep.Latest.At.Format(time.RFC3339), rep.Latest.Seq, plural(int(rep.Uncovered()), "event"))
	}
	if rep.PublicKey != nil {
		fmt.Fprintf(e.stdout, "public key (Ed25519): %s\n", base64.StdEncoding.EncodeToString(rep.PublicKey))
	}
	return nil
}
