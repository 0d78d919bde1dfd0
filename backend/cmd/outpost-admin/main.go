// Command outpost-admin is the headless tool for IT staff preparing and
// checking laptops: it creates a clinic's vault, checks one, and puts a
// lost key back with the recovery key. It does not link the desktop UI.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"outpost/backend/cli"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/vault"
)

// env is what a command may touch: injected so tests can supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	keyring        vault.Keyring
	now            func() time.Time
	argon2         vault.Argon2Params
	deps           clinic.Deps
}

func main() {
	host, _ := os.Hostname()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, keyring: vault.SystemKeyring{}, now: time.Now,
		deps: clinic.Deps{Workstation: host}}
	os.Exit(run(context.Background(), os.Args[1:], e))
}

const usage = `usage: outpost-admin <command> [flags]

commands:
  init     --data-dir D --clinic NAME --admin USER [--admin-name NAME] [--key-store keyring|passphrase]
           create a vault and its clinic; the administrator's password is read
           from the first line of standard input (and a key-file passphrase from
           the second, with --key-store passphrase); prints the recovery key once
  check    --data-dir D    verify the vault: page authentication, integrity,
           schema, cipher settings, file modes; exits 1 on any problem
           (a passphrase vault reads its passphrase from standard input)
  recover  --data-dir D    put the vault key back from the recovery key, read
           from standard input (a passphrase vault also reads a new passphrase
           from the second line)
  demo     --data-dir D [--patients N]   create a demo clinic with synthetic
           patients; prints the demo sign-in
  import   --data-dir D --user NAME FILE...   import FHIR R4 Bundles (JSON) as
           a clinical user; prints per resource type what was imported,
           already present or skipped, and why
  export   --data-dir D --user NAME --out FILE [--patient ID]...   write the
           charts (default: every patient) as one FHIR R4 Bundle, mode 0600
           (import and export read, one a line on standard input: the user's
           password; the vault passphrase for a passphrase vault; the
           authenticator code for an account with a second factor)
  audit export --data-dir D --user NAME --out FILE   write the audit trail
           with its signed checkpoints (docs/audit-format.md), mode 0600, as
           a security officer, auditor or administrator (sign-in as export)
  audit verify [--public-key KEY] FILE | --data-dir D   check an exported
           trail (no vault or key needed) or the vault's; names the first bad
           event and exits 1
  update check|apply --repo URL|DIR [--state-dir D] [--ca-cert PEM | --pin SHA256]
           verify the signed update repository (docs/updates.md) and show,
           or install, the newest release of this tool
  report   --data-dir D [--json]   the live security report: every requirement
           (S1 … S35, P1 … P7) with its status on this installation and the
           evidence (docs/security-report.md); exits 0 whatever it finds
  version  print this tool's version
`

func run(ctx context.Context, args []string, e env) int {
	return cli.Program{Name: "outpost-admin", Usage: usage, Stdout: e.stdout, Stderr: e.stderr, Describe: describe,
		Commands: map[string]cli.Command{
			"init":    func(args []string) error { return cmdInit(ctx, args, e) },
			"check":   func(args []string) error { return cmdCheck(ctx, args, e) },
			"recover": func(args []string) error { return cmdRecover(args, e) },
			"demo":    func(args []string) error { return cmdDemo(ctx, args, e) },
			"import":  func(args []string) error { return cmdImport(ctx, args, e) },
			"export":  func(args []string) error { return cmdExport(ctx, args, e) },
			"audit":   func(args []string) error { return cmdAudit(ctx, args, e) },
			"update":  func(args []string) error { return cmdUpdate(ctx, args, e) },
			"report":  func(args []string) error { return cmdReport(ctx, args, e) },
			"version": func([]string) error { return cmdVersion(e) },
		}}.Run(args)
}

// usageError is a command line that cannot run as typed (exit 2).
type usageError = cli.UsageError

// describe prints an error for an operator: the code and safe message,
// and field messages for invalid input.
func describe(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", ehr.ErrorCode(err), ehr.ErrorMessage(err))
	for f, m := range ehr.ErrorFields(err) {
		fmt.Fprintf(&b, "\n  %s: %s", f, m)
	}
	if ehr.ErrorCode(err) == ehr.EInternal {
		fmt.Fprintf(&b, "\n  cause: %v", err)
	}
	return b.String()
}

func (e env) options(dir string) vault.Options {
	return vault.Options{Dir: dir, Keyring: e.keyring, Now: e.now, Argon2: e.argon2, Rand: e.deps.Rand}
}

func flags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// lines reads up to n lines of standard input, without their line ends.
func lines(r io.Reader, n int) []string {
	sc := bufio.NewScanner(r)
	var out []string
	for len(out) < n && sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	return out
}

func cmdInit(ctx context.Context, args []string, e env) error {
	fs := flags("init", e)
	dir := fs.String("data-dir", "", "vault folder")
	name := fs.String("clinic", "", "clinic name")
	admin := fs.String("admin", "", "administrator username")
	adminName := fs.String("admin-name", "", "administrator full name (default: the username)")
	store := fs.String("key-store", vault.StoreKeyring, "where the vault key is kept: keyring or passphrase")
	if err := fs.Parse(args); err != nil {
		return usageError("bad flags")
	}
	if *dir == "" || *name == "" || *admin == "" {
		return usageError("--data-dir, --clinic and --admin are required")
	}
	if *adminName == "" {
		*adminName = *admin
	}
	in := lines(e.stdin, 2)
	req := clinic.SetupRequest{Clinic: *name, AdminUsername: *admin, AdminName: *adminName, KeyStore: *store}
	if len(in) > 0 {
		req.Password = in[0]
	}
	if len(in) > 1 {
		req.Passphrase = in[1]
	}
	s, recovery, err := clinic.Setup(ctx, e.options(*dir), e.deps, req)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(e.stdout, `Vault created for %q (vault %s).

RECOVERY KEY (shown once, never stored):

    %s

Write it on paper and keep it locked away from this laptop. With it, the
vault's key can be put back if the keyring is lost: outpost-admin recover.
`, s.Info.Name, s.Vault.ID(), recovery)
	return nil
}

func openForAdmin(ctx context.Context, dir string, e env) (*vault.Vault, error) {
	meta, err := vault.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	if meta.KeyStore == vault.StorePassphrase {
		in := lines(e.stdin, 1)
		if len(in) == 0 {
			return nil, usageError("this vault's key is in a passphrase key file: give the passphrase on standard input")
		}
		return vault.OpenPassphrase(ctx, e.options(dir), []byte(in[0]))
	}
	return vault.Open(ctx, e.options(dir))
}

func cmdCheck(ctx context.Context, args []string, e env) error {
	fs := flags("check", e)
	dir := fs.String("data-dir", "", "vault folder")
	if err := fs.Parse(args); err != nil || *dir == "" {
		return usageError("--data-dir is required")
	}
	v, err := openForAdmin(ctx, *dir, e)
	if err != nil {
		return err
	}
	defer v.Close()
	r := v.Check(ctx)
	for _, f := range r.Findings {
		mark := "ok  "
		if !f.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(e.stdout, "%s  %-24s %s\n", mark, f.Name, f.Detail)
	}
	if !r.OK() {
		return ehr.Errorf(ehr.EVault, "The vault did not pass its check. Restore it from a backup or the clinic server before using it.")
	}
	fmt.Fprintln(e.stdout, "vault OK")
	return nil
}

func cmdRecover(args []string, e env) error {
	fs := flags("recover", e)
	dir := fs.String("data-dir", "", "vault folder")
	if err := fs.Parse(args); err != nil || *dir == "" {
		return usageError("--data-dir is required")
	}
	in := lines(e.stdin, 2)
	if len(in) == 0 {
		return usageError("give the recovery key on standard input")
	}
	var pass []byte
	if len(in) > 1 {
		pass = []byte(in[1])
	}
	if err := vault.Recover(e.options(*dir), in[0], pass); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "The vault key is back in place. Outpost can open the vault again.")
	return nil
}
