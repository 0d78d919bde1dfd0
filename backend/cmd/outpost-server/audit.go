package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"outpost/backend/syncserver"
)

// receiptKeyFile holds the Ed25519 key that signs audit receipts (PKCS #8
// PEM, 0600). init makes it; serve makes it for a data folder from before
// audit shipping.
const receiptKeyFile = "receipt-key.pem"

// newReceiptKey writes a new receipt key into dir.
func newReceiptKey(dir string, rnd io.Reader) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("receipt key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("receipt key: %w", err)
	}
	defer clear(der)
	block := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	defer clear(block)
	if err := writeFileAtomic(filepath.Join(dir, receiptKeyFile), block); err != nil {
		return nil, err
	}
	return key, nil
}

// loadReceiptKey reads the folder's receipt key; when there is none and
// create is set, it makes one.
func loadReceiptKey(dir string, create bool, rnd io.Reader) (ed25519.PrivateKey, bool, error) {
	raw, err := os.ReadFile(filepath.Join(dir, receiptKeyFile))
	if errors.Is(err, fs.ErrNotExist) && create {
		key, err := newReceiptKey(dir, rnd)
		return key, true, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, errState{fmt.Sprintf("%s holds no %s yet: outpost-server serve makes it", dir, receiptKeyFile)}
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the receipt key: %w", err)
	}
	defer clear(raw)
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, false, errState{receiptKeyFile + " is not a PEM private key"}
	}
	defer clear(block.Bytes)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	key, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, false, errState{receiptKeyFile + " is not an Ed25519 private key"}
	}
	return key, false, nil
}

// receiptKeyText is how a receipt key's public half is printed: standard
// base64, as laptops show it.
func receiptKeyText(key ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
}

func cmdReceiptKey(args []string, e env) error {
	fs := flags("receipt-key", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required")
	}
	if err := checkState(*dir); err != nil {
		return err
	}
	key, _, err := loadReceiptKey(*dir, false, nil)
	if err != nil {
		return err
	}
	defer clear(key)
	fmt.Fprintln(e.stdout, receiptKeyText(key))
	return nil
}

func cmdAlerts(ctx context.Context, args []string, e env) error {
	fs := flags("alerts", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	limit := fs.Int("limit", 100, "how many alerts to list, newest first")
	ack := fs.String("ack", "", "mark the alert with this id seen")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 || *limit < 1 {
		return usageError("--data-dir is required")
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if *ack != "" {
		id, err := strconv.ParseInt(*ack, 10, 64)
		if err != nil {
			return usageError("--ack takes an alert's number")
		}
		if err := store.AcknowledgeAlert(ctx, id, e.now()); errors.Is(err, syncserver.ErrNotFound) {
			return errState{fmt.Sprintf("there is no unacknowledged alert %d", id)}
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Alert %d marked seen.\n", id)
		return nil
	}
	list, err := store.Alerts(ctx, *limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "No alerts.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tKIND\tFROM\tCLINIC\tDEVICE\tSEEN\tMESSAGE")
	for _, a := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, stamp(a.At), a.Kind, a.Source, a.Clinic, a.Device, stamp(a.Acknowledged), a.Message)
	}
	return tw.Flush()
}

// errBroken: audit verify found a chain that does not verify (it has
// said which).
var errBroken = errors.New("an audit chain does not verify")

func cmdAudit(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError("the audit command is: audit verify --data-dir D [--device ID]")
	}
	fs := flags("audit verify", e)
	dir := fs.String("data-dir", "", "the server's data folder")
	device := fs.String("device", "", "only this device (its id, or a unique start of it)")
	if err := fs.Parse(args[1:]); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required")
	}
	store, err := openState(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	heads, err := store.AuditHeads(ctx)
	if err != nil {
		return err
	}
	want := strings.ToLower(*device)
	var ids []string
	for _, h := range heads {
		if strings.HasPrefix(h.Device, want) {
			ids = append(ids, h.Device)
		}
	}
	switch {
	case want != "" && len(ids) == 0:
		return errState{"no device with the id " + want + " has shipped its audit trail"}
	case want != "" && len(ids) > 1:
		return errState{fmt.Sprintf("%d devices start with %s: give more of the id", len(ids), want)}
	case len(ids) == 0:
		fmt.Fprintln(e.stdout, "No device has shipped its audit trail yet.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tCLINIC\tEVENTS\tLAST SEQ\tLAST CHECKPOINT\tRESULT")
	broken := 0
	for _, id := range ids {
		rep, err := syncserver.VerifyAudit(ctx, store, id)
		if err != nil {
			return err
		}
		result := "OK"
		if rep.Head.AnchorSeq > 0 {
			result = fmt.Sprintf("OK (after purged event %d)", rep.Head.AnchorSeq)
		}
		if rep.Break != nil {
			broken++
			result = "BROKEN: " + rep.Break.Error()
		}
		last := "-"
		if rep.Latest.Seq > 0 {
			last = fmt.Sprintf("%d at %s", rep.Latest.Seq, rep.Latest.At)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", id, rep.Head.Clinic, rep.Events, rep.LastSeq, last, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if broken > 0 {
		return fmt.Errorf("%w: %d of %d devices", errBroken, broken, len(ids))
	}
	return nil
}
