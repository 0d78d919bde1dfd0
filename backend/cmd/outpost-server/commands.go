package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
	"outpost/backend/syncserver/sqlite"
)

func cmdInit(args []string, e env) error {
	fs := flags("init", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	var hosts multi
	fs.Var(&hosts, "host", "a host name or address the certificate names (repeatable)")
	certPath := fs.String("cert", "", "a PEM certificate (chain) to use instead of a self-signed one")
	keyPath := fs.String("key", "", "the PEM private key of --cert")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required")
	}
	if (*certPath == "") != (*keyPath == "") {
		return usageError("--cert and --key go together")
	}
	if *certPath != "" && len(hosts) > 0 {
		return usageError("--host names a self-signed certificate's hosts; with --cert the certificate names them")
	}
	var certPEM, keyPEM []byte
	if *certPath != "" {
		var err error
		if certPEM, err = os.ReadFile(*certPath); err != nil {
			return fmt.Errorf("read --cert: %w", err)
		}
		if keyPEM, err = os.ReadFile(*keyPath); err != nil {
			return fmt.Errorf("read --key: %w", err)
		}
	} else {
		if len(hosts) == 0 {
			if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
				hosts = append(hosts, name)
			}
			hosts = append(hosts, "localhost", "127.0.0.1", "::1")
		}
		var err error
		if certPEM, keyPEM, err = syncserver.NewCertificate(hosts, e.now(), e.rand); err != nil {
			return err
		}
	}
	defer clear(keyPEM)
	_, fp, err := syncserver.LoadCertificate(certPEM, keyPEM)
	if err != nil {
		return errState{"the certificate and key do not make a pair, or are not PEM: " + err.Error()}
	}

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	if _, err := os.Stat(filepath.Join(*dir, dbFile)); err == nil {
		return errState{fmt.Sprintf("%s already holds a server's state; nothing was changed", *dir)}
	}
	if err := os.Chmod(*dir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(*dir, certFile), certPEM); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(*dir, keyFile), keyPEM); err != nil {
		return err
	}
	receiptKey, err := newReceiptKey(*dir, e.rand)
	if err != nil {
		return err
	}
	defer clear(receiptKey)
	s, err := sqlite.Create(context.Background(), filepath.Join(*dir, dbFile))
	if err != nil {
		return fmt.Errorf("create the database: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("create the database: %w", err)
	}
	fmt.Fprintf(e.stdout, `Server state created in %s.

TLS certificate SHA-256 fingerprint (laptops pin it when they enroll):

    %s

Audit receipt key (laptops pin it when they first ship their audit trail):

    %s

Next: outpost-server enroll --data-dir %s --clinic ID --clinic-name NAME
`, *dir, fp, receiptKeyText(receiptKey), *dir)
	return nil
}

func cmdServe(ctx context.Context, args []string, e env) error {
	fs := flags("serve", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	addr := fs.String("addr", "", "the address to listen on, HOST:PORT (e.g. 0.0.0.0:8443)")
	webhook := fs.String("webhook", "", "POST each new alert as JSON to this URL (https, or http to loopback)")
	if err := fs.Parse(args); err != nil || *dir == "" || *addr == "" || fs.NArg() > 0 {
		return usageError("--data-dir and --addr are required")
	}
	if *webhook != "" {
		if _, err := syncserver.CheckWebhookURL(*webhook); err != nil {
			return usageError("--webhook: " + err.Error())
		}
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	cert, fp, err := loadCert(*dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	receiptKey, made, err := loadReceiptKey(*dir, true, e.rand)
	if err != nil {
		return err
	}
	defer clear(receiptKey)
	if made {
		log.Info("made the audit receipt key", "file", receiptKeyFile)
	}
	cfg := syncserver.Config{Store: store, Log: log, Now: e.now, Rand: e.rand, ReceiptKey: receiptKey}
	if *webhook != "" {
		wh, err := syncserver.NewWebhook(*webhook, nil, log)
		if err != nil {
			return usageError("--webhook: " + err.Error())
		}
		defer wh.Close()
		cfg.Alerted = wh.Notify
	}
	srv, err := syncserver.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	log.Info("serving the sync protocol over TLS", "addr", ln.Addr().String(), "fingerprint", fp,
		"receipt_key", receiptKeyText(receiptKey), "schema", sqlite.SchemaVersion(), "webhook", *webhook != "")
	e.listening(ln.Addr())
	if err := srv.Serve(ctx, ln, cert); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

func cmdEnroll(ctx context.Context, args []string, e env) error {
	fs := flags("enroll", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	clinic := fs.String("clinic", "", "the clinic's id (letters, digits, '.', '_', ':' or '-')")
	name := fs.String("clinic-name", "", "the clinic's name, to create a new clinic")
	if err := fs.Parse(args); err != nil || *dir == "" || *clinic == "" || fs.NArg() > 0 {
		return usageError("--data-dir and --clinic are required")
	}
	if !syncproto.ValidClinicID(*clinic) {
		return usageError("--clinic: up to 40 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
	}
	if *name != "" && !syncproto.ValidName(*name) {
		return usageError("--clinic-name: 1 to 100 printable characters")
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	_, fp, err := loadCert(*dir)
	if err != nil {
		return err
	}
	now := e.now().UTC()
	c, err := store.Clinic(ctx, *clinic)
	switch {
	case errors.Is(err, syncserver.ErrNotFound) && *name == "":
		known, _ := store.Clinics(ctx)
		ids := make([]string, len(known))
		for i, k := range known {
			ids[i] = k.ID
		}
		msg := "there is no clinic " + *clinic + ": give --clinic-name to create it"
		if len(ids) > 0 {
			msg += " (clinics: " + strings.Join(ids, ", ") + ")"
		}
		return usageError(msg)
	case errors.Is(err, syncserver.ErrNotFound):
		c = syncserver.Clinic{ID: *clinic, Name: *name, Created: now}
		if err := store.CreateClinic(ctx, c); err != nil {
			return fmt.Errorf("create the clinic: %w", err)
		}
		fmt.Fprintf(e.stdout, "Clinic %q (%s) created.\n\n", c.Name, c.ID)
	case err != nil:
		return err
	case *name != "" && *name != c.Name:
		return usageError(fmt.Sprintf("clinic %s is named %q already; leave out --clinic-name", c.ID, c.Name))
	}
	tok, err := syncproto.NewToken(e.rand)
	if err != nil {
		return err
	}
	canon, _ := syncproto.NormalizeToken(tok)
	expires := now.Add(syncproto.TokenTTL)
	if err := store.AddToken(ctx, syncserver.Token{Hash: syncproto.TokenHash(canon), Clinic: c.ID, Created: now, Expires: expires}); err != nil {
		return fmt.Errorf("store the token: %w", err)
	}
	fmt.Fprintf(e.stdout, `Enrollment token for one laptop of %q (%s), valid once until %s:

    %s

Server certificate SHA-256 fingerprint:

    %s

Give both to whoever sets up the laptop, by a way only they can read.
This server keeps only a hash of the token.
`, c.Name, c.ID, expires.Format("2006-01-02 15:04 MST"), tok, fp)
	return nil
}

func cmdDevices(ctx context.Context, args []string, e env) error {
	fs := flags("devices", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required")
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	ds, err := store.Devices(ctx)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(e.stdout, "No laptop is enrolled.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tCLINIC\tSTATUS\tENROLLED\tLAST SEEN\tNAME")
	for _, d := range ds {
		status := d.Status
		if !d.Revoked.IsZero() {
			status += " " + d.Revoked.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Clinic, status, stamp(d.Enrolled), stamp(d.LastSeen), d.Name)
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func cmdRevoke(ctx context.Context, args []string, e env) error {
	fs := flags("revoke", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() != 1 {
		return usageError("--data-dir and one device id are required")
	}
	want := strings.ToLower(fs.Arg(0))
	if len(want) < 6 {
		return usageError("give the device's id, or at least its first 6 characters (outpost-server devices lists them)")
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	ds, err := store.Devices(ctx)
	if err != nil {
		return err
	}
	var match []syncserver.Device
	for _, d := range ds {
		if strings.HasPrefix(d.ID, want) {
			match = append(match, d)
		}
	}
	switch len(match) {
	case 0:
		return errState{"no enrolled device has the id " + want}
	case 1:
	default:
		return errState{fmt.Sprintf("%d devices start with %s: give more of the id", len(match), want)}
	}
	d := match[0]
	if d.Status == syncproto.StatusRevoked {
		fmt.Fprintf(e.stdout, "%s (%s, clinic %s) was already revoked on %s.\n", d.ID, d.Name, d.Clinic, stamp(d.Revoked))
		return nil
	}
	if err := store.Revoke(ctx, d.ID, e.now()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `Revoked %s (%s, clinic %s).
The server refuses it from now on; when it next connects it is told to
erase its local data. Anything it had not synced is lost with it.
`, d.ID, d.Name, d.Clinic)
	return nil
}

func cmdFingerprint(args []string, e env) error {
	fs := flags("fingerprint", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required")
	}
	if err := checkState(*dir); err != nil {
		return err
	}
	_, fp, err := loadCert(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, fp)
	return nil
}
