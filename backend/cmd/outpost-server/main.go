// Command outpost-server is the clinic's sync server: it keeps the sealed
// record versions the clinic's laptops push, and hands them to the other
// laptops. It never holds the clinic key and links nothing that could
// open a record (backend/arch_test.go checks it). It serves TLS only.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"outpost/backend/cli"
)

// env is what a command may touch: injected so tests can supply their own.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	rand           io.Reader
	// listening is told the address serve listens on (tests use port 0).
	listening func(net.Addr)
}

// version is set at build time with -ldflags "-X main.version=X.Y.Z".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdout: os.Stdout, stderr: os.Stderr, now: time.Now, rand: rand.Reader, listening: func(net.Addr) {}}
	os.Exit(run(ctx, os.Args[1:], e))
}

const usage = `usage: outpost-server <command> [flags]

commands:
  init     --data-dir D [--host NAME]... [--cert FILE --key FILE]
           create the server's state in D (mode 0700, files 0600): the
           database and a self-signed TLS certificate (ECDSA P-256) for the
           host names (default: this machine's name, localhost, 127.0.0.1,
           ::1), or a copy of the certificate and key given; prints the
           certificate's SHA-256 fingerprint, which laptops pin
  serve    --data-dir D --addr HOST:PORT [--webhook URL]
           serve the sync protocol over TLS 1.2+ (never plain HTTP) until
           stopped (SIGINT, SIGTERM); logs to standard error; each new
           alert is POSTed as JSON to the webhook (https, or http to a
           loopback address only)
  enroll   --data-dir D --clinic ID [--clinic-name NAME]
           print a one-time enrollment token for a laptop of the clinic,
           valid for 24 hours, and the certificate fingerprint; a new
           clinic needs --clinic-name
  devices  --data-dir D    list the enrolled laptops
  revoke   --data-dir D DEVICE
           revoke a laptop (its id, or a unique start of it): refused from
           now on, and told to erase its data when it next connects
  fingerprint --data-dir D print the certificate's SHA-256 fingerprint
  receipt-key --data-dir D print the public key that signs audit receipts
  alerts   --data-dir D [--limit N] [--ack ID]
           list the server's alerts, newest first (or mark one seen)
  audit verify --data-dir D [--device ID]
           re-verify every device's stored audit chain and checkpoints;
           exits 1 when one does not verify, naming the first bad event
  version  print this program's version

Run every command as the user the service runs as (the owner of D).
`

func run(ctx context.Context, args []string, e env) int {
	return cli.Program{Name: "outpost-server", Usage: usage, Stdout: e.stdout, Stderr: e.stderr,
		Commands: map[string]cli.Command{
			"init":        func(args []string) error { return cmdInit(args, e) },
			"serve":       func(args []string) error { return cmdServe(ctx, args, e) },
			"enroll":      func(args []string) error { return cmdEnroll(ctx, args, e) },
			"devices":     func(args []string) error { return cmdDevices(ctx, args, e) },
			"revoke":      func(args []string) error { return cmdRevoke(ctx, args, e) },
			"fingerprint": func(args []string) error { return cmdFingerprint(args, e) },
			"receipt-key": func(args []string) error { return cmdReceiptKey(args, e) },
			"alerts":      func(args []string) error { return cmdAlerts(ctx, args, e) },
			"audit":       func(args []string) error { return cmdAudit(ctx, args, e) },
			"version":     func([]string) error { fmt.Fprintln(e.stdout, "outpost-server", version); return nil },
			"--version":   func([]string) error { fmt.Fprintln(e.stdout, "outpost-server", version); return nil },
		}}.Run(args)
}

// usageError is a command line that cannot run as typed (exit 2).
type usageError = cli.UsageError

func flags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
