package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/fhir"
	"outpost/backend/records"
	"outpost/backend/vault"
)

// FHIR import and export run as a named user, never as "the tool": every
// record written or read is audited under that user, as in the app.
//
// Standard input gives, one per line: the user's password; for a vault
// whose key is in a passphrase key file, the passphrase; and, for an
// account that has a second factor, the current code from its
// authenticator app. A correct password is otherwise enough: an account
// that must still enrol a second factor (an administrator who never signed
// in to the app) is identified by its password alone, since it has no
// second factor yet to check. An account with a temporary password is
// refused: its password was set by an administrator.

// maxSkipLines is how many skip reasons the import summary prints.
const maxSkipLines = 20

type patientList []string

func (p *patientList) String() string { return strings.Join(*p, ",") }
func (p *patientList) Set(s string) error {
	*p = append(*p, strings.ToLower(strings.TrimSpace(s)))
	return nil
}

// clinical opens the vault in dir, signs user in with the lines of
// standard input and checks that they hold perms. The caller must call
// the returned done, which ends the session and closes the vault.
func clinical(ctx context.Context, dir, user string, e env, perms ...string) (*clinic.Services, records.Actor, func(), error) {
	in := lines(e.stdin, 3)
	if len(in) == 0 || in[0] == "" {
		return nil, records.Actor{}, nil, usageError("give the password of --user on the first line of standard input")
	}
	password, rest := in[0], in[1:]
	meta, err := vault.ReadMeta(dir)
	if err != nil {
		return nil, records.Actor{}, nil, err
	}
	var v *vault.Vault
	if meta.KeyStore == vault.StorePassphrase {
		if len(rest) == 0 {
			return nil, records.Actor{}, nil, usageError("this vault's key is in a passphrase key file: give the passphrase on the second line of standard input")
		}
		v, err = vault.OpenPassphrase(ctx, e.options(dir), []byte(rest[0]))
		rest = rest[1:]
	} else {
		v, err = vault.Open(ctx, e.options(dir))
	}
	if err != nil {
		return nil, records.Actor{}, nil, err
	}
	s, err := clinic.Attach(ctx, v, e.deps)
	if err != nil {
		v.Close()
		return nil, records.Actor{}, nil, err
	}
	workstation := e.deps.Workstation
	if workstation == "" {
		workstation = "outpost-admin"
	}
	res, err := s.Users.Login(ctx, user, password, workstation)
	if err != nil {
		s.Close()
		return nil, records.Actor{}, nil, err
	}
	sess := res.Session
	end := func(reason string) {
		_ = s.Users.End(context.WithoutCancel(ctx), sess.ID, reason)
	}
	fail := func(err error) (*clinic.Services, records.Actor, func(), error) {
		end("outpost-admin refused")
		s.Close()
		return nil, records.Actor{}, nil, err
	}
	switch sess.Stage {
	case "", auth.StageEnroll:
	case auth.StageMFA:
		if len(rest) == 0 || strings.TrimSpace(rest[0]) == "" {
			return fail(usageError("this account has a second factor: give the code from its authenticator app on the next line of standard input"))
		}
		if sess, err = s.Users.VerifyMFA(ctx, sess.ID, strings.TrimSpace(rest[0])); err != nil {
			return fail(err)
		}
	case auth.StagePassword:
		return fail(ehr.Errorf(ehr.EAuth, "This account has a temporary password: sign in to Outpost and choose a new one first."))
	default:
		return fail(ehr.Errorf(ehr.EAuth, "This sign-in needs a step outpost-admin cannot take; sign in to Outpost first."))
	}
	for _, p := range perms {
		if !auth.Can(sess.User.Roles, p) {
			return fail(ehr.Errorf(ehr.EForbidden, "%s may not do this: it needs a clinical role (clinician or nurse).", sess.User.Username))
		}
	}
	a := records.Actor{UserID: sess.User.ID, Username: sess.User.Username, Roles: sess.User.Roles, Session: sess.ID}
	return s, a, func() { end("outpost-admin done"); s.Close() }, nil
}

func cmdImport(ctx context.Context, args []string, e env) error {
	fs := flags("import", e)
	dir := fs.String("data-dir", "", "vault folder")
	user := fs.String("user", "", "the clinical user the records are imported as")
	if err := fs.Parse(args); err != nil || *dir == "" || *user == "" || fs.NArg() == 0 {
		return usageError("--data-dir, --user and at least one FILE are required")
	}
	// On an interrupt the current record finishes, the summary is printed
	// and the session ended; a rerun picks up where this one stopped.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	s, a, done, err := clinical(ctx, *dir, *user, e, auth.PermPatientWrite, auth.PermChartWrite)
	if err != nil {
		return err
	}
	defer done()
	failed := 0
	var total fhir.Count
	for _, name := range fs.Args() {
		rep, err := importFile(ctx, s, a, name, e)
		t := rep.Total()
		total.Imported += t.Imported
		total.Present += t.Present
		total.Skipped += t.Skipped
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "%s: %s\n", name, describeImport(err))
			if rep.Entries == 0 {
				continue
			}
		}
		printReport(e.stdout, name, rep)
		if errors.Is(err, context.Canceled) {
			break
		}
	}
	_ = s.Audit.Record(context.WithoutCancel(ctx), s.Vault.W, audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session,
		Action: "fhir.import", Outcome: audit.Success,
		Detail: fmt.Sprintf("%d files, %d refused; %d records imported, %d already present, %d skipped",
			fs.NArg(), failed, total.Imported, total.Present, total.Skipped)})
	if failed > 0 {
		return ehr.Errorf(ehr.EInvalid, "%d of %d files could not be imported (see above).", failed, fs.NArg())
	}
	return nil
}

// describeImport explains why a file was refused.
func describeImport(err error) string {
	for _, sentinel := range []error{fhir.ErrMalformed, fhir.ErrNotBundle, fhir.ErrTooLarge} {
		if errors.Is(err, sentinel) {
			return err.Error()
		}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "cannot read the file: " + pe.Err.Error()
	}
	return describe(err)
}

func importFile(ctx context.Context, s *clinic.Services, a records.Actor, name string, e env) (fhir.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return fhir.Report{}, err
	}
	defer f.Close()
	bar := newProgress(e.stderr, "import "+filepath.Base(name))
	rep, err := fhir.Import(ctx, s.Records, a, f, bar.update)
	bar.finish()
	return rep, err
}

// printReport writes an import report: counts per type, then the first
// skip reasons (the types not modelled are summed up on one line).
func printReport(w io.Writer, name string, rep fhir.Report) {
	t := rep.Total()
	fmt.Fprintf(w, "%s: %d entries: %d records imported, %d already present, %d skipped\n",
		name, rep.Entries, t.Imported, t.Present, t.Skipped)
	fmt.Fprintf(w, "  %-22s %9s %9s %9s\n", "resource type", "imported", "present", "skipped")
	var notModelled []string
	counted := map[string]int{}
	for _, sk := range rep.Skipped {
		if sk.Reason == fhir.NotModelled {
			counted[sk.Type]++
		}
	}
	for _, typ := range rep.TypeNames() {
		c := rep.Types[typ]
		if c.Imported == 0 && c.Present == 0 && counted[typ] == c.Skipped && c.Skipped > 0 {
			notModelled = append(notModelled, fmt.Sprintf("%s %d", typ, c.Skipped))
			continue
		}
		fmt.Fprintf(w, "  %-22s %9d %9d %9d\n", typ, c.Imported, c.Present, c.Skipped)
	}
	if len(notModelled) > 0 {
		fmt.Fprintf(w, "  not modelled, skipped: %s\n", strings.Join(notModelled, ", "))
	}
	var reasons []fhir.Skip
	for _, sk := range rep.Skipped {
		if sk.Reason != fhir.NotModelled {
			reasons = append(reasons, sk)
		}
	}
	if len(reasons) > 0 {
		fmt.Fprintf(w, "  skipped (first %d of %d):\n", min(maxSkipLines, len(reasons)), len(reasons)+rep.SkipsOmitted)
		for _, sk := range reasons[:min(maxSkipLines, len(reasons))] {
			fmt.Fprintf(w, "    %s %s: %s\n", sk.Type, sk.ID, sk.Reason)
		}
	}
}

func cmdExport(ctx context.Context, args []string, e env) error {
	fs := flags("export", e)
	dir := fs.String("data-dir", "", "vault folder")
	user := fs.String("user", "", "the clinical user the charts are read as")
	out := fs.String("out", "", "the file to write (mode 0600), replaced atomically")
	var patients patientList
	fs.Var(&patients, "patient", "a patient's id (repeat for several; default: every patient)")
	if err := fs.Parse(args); err != nil || *dir == "" || *user == "" || *out == "" || fs.NArg() > 0 {
		return usageError("--data-dir, --user and --out are required")
	}
	if fi, err := os.Stat(*out); err == nil && !fi.Mode().IsRegular() {
		return usageError("--out must name a file")
	}
	// On an interrupt the half-written temporary file is removed.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	s, a, done, err := clinical(ctx, *dir, *user, e, auth.PermPatientRead, auth.PermChartRead)
	if err != nil {
		return err
	}
	defer done()
	bar := newProgress(e.stderr, "export")
	var st fhir.Stats
	err = writeAtomic(*out, func(w io.Writer) error {
		var err error
		st, err = fhir.Export(ctx, s.Records, a, patients, w, bar.update)
		if err == nil && len(patients) > 0 && st.Patients == 0 {
			err = ehr.Errorf(ehr.ERestricted, "The chart is restricted to another clinician; nothing was exported.")
		}
		return err
	})
	bar.finish()
	_ = s.Audit.Record(context.WithoutCancel(ctx), s.Vault.W, audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session,
		Action: "fhir.export", Outcome: outcome(err),
		Detail: fmt.Sprintf("%d patients, %d resources, %d withheld", st.Patients, st.Entries, len(st.Withheld))})
	if err != nil {
		return err
	}
	types := make([]string, 0, len(st.Resources))
	for t := range st.Resources {
		types = append(types, t)
	}
	slices.Sort(types)
	fmt.Fprintf(e.stdout, "Exported %s, %s to %s\n", plural(st.Patients, "patient"), plural(st.Entries, "resource"), *out)
	for _, t := range types {
		fmt.Fprintf(e.stdout, "  %-22s %9d\n", t, st.Resources[t])
	}
	if len(st.Withheld) > 0 {
		fmt.Fprintf(e.stderr, "%d restricted charts were left out (open only to their responsible clinician).\n", len(st.Withheld))
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func outcome(err error) string {
	if err != nil {
		return audit.Failure
	}
	return audit.Success
}

// writeAtomic writes path through a temporary file in the same folder,
// mode 0600, synced to disk and renamed over path only when complete, so
// a reader never sees half an export and a failure leaves nothing behind.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create the export file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write the export file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write the export file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write the export file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// progress shows a bar on a terminal (redrawn at most ten times a
// second) and, on anything else, a plain line at every tenth of the work.
type progress struct {
	w        io.Writer
	label    string
	terminal bool
	last     time.Time
	step     int // the last tenth printed, for plain lines
	drawn    bool
	done     int
	total    int
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, terminal: isTerminal(w), step: -1}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(done, total int) {
	p.done, p.total = done, total
	if total <= 0 {
		return
	}
	if p.terminal {
		if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == total {
			p.last = now
			const width = 30
			fill := done * width / total
			fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", fill), strings.Repeat(" ", width-fill), done, total)
			p.drawn = true
		}
		return
	}
	if tenth := done * 10 / total; tenth != p.step {
		p.step = tenth
		fmt.Fprintf(p.w, "%s: %d/%d\n", p.label, done, total)
	}
}

func (p *progress) finish() {
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
	}
}
