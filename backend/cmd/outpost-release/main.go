// Command outpost-release is the administrators' offline tool for the
// update repository: it creates the repository and its keys, adds signed
// releases, refreshes the timestamp, rotates keys and shows the state.
// Private keys are read from and written to the --keys folder only (the
// administrators' removable media), never to the repository, never to the
// output. Run it on an offline computer, never in CI (S28).
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"outpost/backend/cli"
	"outpost/backend/update"
	"outpost/backend/update/repo"
)

type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	rand           io.Reader
}

// version is set at build time with -ldflags "-X main.version=X.Y.Z".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, now: time.Now, rand: rand.Reader}))
}

const usage = `usage: outpost-release <command> [flags]

commands:
  init      --repo DIR --keys DIR [--root-keys 3] [--root-threshold 2]
            create the repository and its keys (root, targets, snapshot,
            timestamp); keys are written to --keys only, mode 0600
  add       --repo DIR --keys DIR --version X.Y.Z --platform OS-ARCH=BINARY...
            [--product outpost] [--security] [--notes FILE]
            add a release and sign new targets, snapshot and timestamp
  sign      --repo DIR --keys DIR [--root] [--expires 7d]
            re-sign targets, snapshot and timestamp (and root with --root)
  timestamp --repo DIR --keys DIR [--expires 7d]
            sign a fresh timestamp: do this at least weekly
  rotate    --repo DIR --keys DIR --role root|targets|snapshot|timestamp
            replace a role's keys; the old ones move to KEYS/retired
  status    --repo DIR [--keys DIR]
            show versions, expiry dates, signatures held and releases
  version   print this tool's version
`

// usageError is a command line that cannot run as typed (exit 2).
type usageError = cli.UsageError

func run(args []string, e env) int {
	return cli.Program{Name: "outpost-release", Usage: usage, Stdout: e.stdout, Stderr: e.stderr,
		Commands: map[string]cli.Command{
			"init":      func(args []string) error { return cmdInit(args, e) },
			"add":       func(args []string) error { return cmdAdd(args, e) },
			"sign":      func(args []string) error { return cmdSign(args, e, false) },
			"timestamp": func(args []string) error { return cmdSign(args, e, true) },
			"rotate":    func(args []string) error { return cmdRotate(args, e) },
			"status":    func(args []string) error { return cmdStatus(args, e) },
			"version":   func([]string) error { fmt.Fprintln(e.stdout, "outpost-release", version); return nil },
			"--version": func([]string) error { fmt.Fprintln(e.stdout, "outpost-release", version); return nil },
		}}.Run(args)
}

type common struct {
	fs         *flag.FlagSet
	repo, keys *string
}

func newFlags(name string, e env) common {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return common{fs: fs, repo: fs.String("repo", "", "repository folder (published)"),
		keys: fs.String("keys", "", "keys folder (removable media; never inside the repository)")}
}

func (c common) parse(args []string, needKeys bool) error {
	if err := c.fs.Parse(args); err != nil {
		return usageError("bad flags")
	}
	if c.fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", c.fs.Arg(0)))
	}
	if *c.repo == "" || (needKeys && *c.keys == "") {
		return usageError("--repo and --keys are required")
	}
	return nil
}

func (c common) options(e env) repo.Options {
	return repo.Options{Dir: *c.repo, KeysDir: *c.keys, Now: e.now, Rand: e.rand,
		Warn: func(s string) { fmt.Fprintln(e.stderr, "warning:", s) }}
}

func cmdInit(args []string, e env) error {
	c := newFlags("init", e)
	n := c.fs.Int("root-keys", 3, "number of root keys")
	t := c.fs.Int("root-threshold", 2, "root signatures required")
	if err := c.parse(args, true); err != nil {
		return err
	}
	r, err := repo.Init(c.options(e), repo.InitOptions{RootKeys: *n, RootThreshold: *t})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `Update repository created in %s (root: %d of %d keys).
Keys written to %s (mode 0600). Keep that folder on removable media, away
from this repository and from CI; give each root key to a different
administrator if you can.

Build Outpost with %s/1.root.json embedded (docs/updates.md), then publish
this folder as it is (web server or USB stick). Refresh the timestamp at
least weekly: outpost-release timestamp.
`, *c.repo, r.Root.Signed.Roles["root"].Threshold, len(r.Root.Signed.Roles["root"].KeyIDs), *c.keys, *c.repo)
	return nil
}

type platforms map[string]string

func (p platforms) String() string { return fmt.Sprint(map[string]string(p)) }
func (p platforms) Set(s string) error {
	name, file, ok := strings.Cut(s, "=")
	if !ok || name == "" || file == "" {
		return errors.New("want OS-ARCH=BINARY, such as linux-amd64=build/bin/outpost")
	}
	if _, dup := p[name]; dup {
		return fmt.Errorf("platform %s given twice", name)
	}
	p[name] = file
	return nil
}

func cmdAdd(args []string, e env) error {
	c := newFlags("add", e)
	version := c.fs.String("version", "", "release version X.Y.Z")
	product := c.fs.String("product", "outpost", "product: outpost or outpost-admin")
	security := c.fs.Bool("security", false, "a security release (announced prominently)")
	notes := c.fs.String("notes", "", "file with plain-text release notes")
	plats := platforms{}
	c.fs.Var(plats, "platform", "OS-ARCH=BINARY (repeat for each platform)")
	if err := c.parse(args, true); err != nil {
		return err
	}
	v, err := update.ParseVersion(*version)
	if err != nil {
		return usageError("--version X.Y.Z is required")
	}
	rel := repo.Release{Product: *product, Version: v, Security: *security, Platforms: plats}
	if *notes != "" {
		b, err := os.ReadFile(*notes)
		if err != nil {
			return fmt.Errorf("release notes: %w", err)
		}
		rel.Notes = strings.TrimSpace(string(b))
	}
	r, err := repo.Open(c.options(e))
	if err != nil {
		return err
	}
	if err := r.Add(rel); err != nil {
		return err
	}
	kind := "release"
	if rel.Security {
		kind = "security release"
	}
	fmt.Fprintf(e.stdout, "Added %s %s %s for %d platform(s); targets v%d, snapshot v%d, timestamp v%d (expires %s).\n",
		rel.Product, kind, v, len(plats), r.Targets.Signed.Version, r.Snapshot.Signed.Version, r.Timestamp.Signed.Version,
		r.Timestamp.Signed.Expires.Format(time.RFC3339))
	return nil
}

// parseExpiry accepts "7d", "36h" or any Go duration.
func parseExpiry(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, usageError("--expires: want a number of days (7d) or hours (72h)")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, usageError("--expires: want a number of days (7d) or hours (72h)")
	}
	return d, nil
}

func cmdSign(args []string, e env, timestampOnly bool) error {
	name := "sign"
	if timestampOnly {
		name = "timestamp"
	}
	c := newFlags(name, e)
	exp := c.fs.String("expires", "7d", "timestamp lifetime, at most 7d")
	root := false
	if !timestampOnly {
		c.fs.BoolVar(&root, "root", false, "also re-sign root (a new root version, a year's expiry)")
	}
	if err := c.parse(args, true); err != nil {
		return err
	}
	d, err := parseExpiry(*exp)
	if err != nil {
		return err
	}
	r, err := repo.Open(c.options(e))
	if err != nil {
		return err
	}
	if timestampOnly {
		err = r.RefreshTimestamp(d)
	} else {
		err = r.Sign(root, d)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Signed timestamp v%d, expires %s.\n", r.Timestamp.Signed.Version, r.Timestamp.Signed.Expires.Format(time.RFC3339))
	return nil
}

func cmdRotate(args []string, e env) error {
	c := newFlags("rotate", e)
	role := c.fs.String("role", "", "root, targets, snapshot or timestamp")
	if err := c.parse(args, true); err != nil {
		return err
	}
	if *role == "" {
		return usageError("--role is required")
	}
	r, err := repo.Open(c.options(e))
	if err != nil {
		return err
	}
	if err := r.Rotate(*role, e.rand); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Rotated the %s keys: root is now v%d. The replaced keys are in %s/retired: destroy them once every computer has updated.\n",
		*role, r.Root.Signed.Version, *c.keys)
	return nil
}

func cmdStatus(args []string, e env) error {
	c := newFlags("status", e)
	if err := c.parse(args, false); err != nil {
		return err
	}
	var r *repo.Repo
	var err error
	if *c.keys != "" {
		r, err = repo.Open(c.options(e))
	} else {
		r, err = repo.Load(*c.repo)
	}
	if err != nil {
		return err
	}
	now := e.now()
	fmt.Fprintf(e.stdout, "%-10s %8s  %-20s %-10s %s\n", "ROLE", "VERSION", "EXPIRES", "THRESHOLD", "KEYS HELD")
	for _, role := range r.Roles() {
		held := "-"
		if role.Held >= 0 {
			held = fmt.Sprintf("%d of %d", role.Held, role.Keys)
		}
		note := ""
		soon := 30 * 24 * time.Hour
		if role.Name == "timestamp" {
			soon = 48 * time.Hour
		}
		switch left := role.Expires.Sub(now); {
		case left <= 0:
			note = "  EXPIRED: re-sign now"
		case left < soon:
			note = "  expires soon: re-sign"
		}
		fmt.Fprintf(e.stdout, "%-10s %8d  %-20s %-10d %s%s\n", role.Name, role.Version, role.Expires.Format(time.RFC3339), role.Threshold, held, note)
	}
	rels := r.Releases()
	fmt.Fprintf(e.stdout, "\n%d release binaries\n", len(rels))
	for _, x := range rels {
		sec := ""
		if x.Security {
			sec = "  SECURITY"
		}
		fmt.Fprintf(e.stdout, "  %-14s %-10s %-14s %10d bytes%s\n", x.Product, x.Version, x.Platform, x.Length, sec)
	}
	return nil
}
