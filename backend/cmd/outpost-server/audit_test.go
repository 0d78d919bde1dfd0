package main

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/backend/syncproto"
)

// init makes the receipt key (0600) and prints its public half, which
// receipt-key prints again and the server hands out; serve makes one
// for a data folder from before audit shipping.
func TestReceiptKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := runCmd(t, "init", "--data-dir", dir, "--host", "127.0.0.1")
	if r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, receiptKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("receipt key file: %v %v", fi, err)
	}
	pub := strings.TrimSpace(runCmd(t, "receipt-key", "--data-dir", dir).stdout)
	if len(pub) != 44 || !strings.Contains(r.stdout, pub) {
		t.Fatalf("receipt-key printed %q; init said:\n%s", pub, r.stdout)
	}
	os.Chmod(filepath.Join(dir, receiptKeyFile), 0o644)
	if r := runCmd(t, "receipt-key", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "open to other users") {
		t.Fatalf("a key open to others: %d %s", r.code, r.stderr)
	}
	// An older data folder has none: serve makes it.
	os.Remove(filepath.Join(dir, receiptKeyFile))
	if r := runCmd(t, "receipt-key", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "serve makes it") {
		t.Fatalf("receipt-key without a key: %d %s", r.code, r.stderr)
	}
	fp := fpRE.FindString(r.stdout)
	url, logs := serve(t, dir)
	made := strings.TrimSpace(runCmd(t, "receipt-key", "--data-dir", dir).stdout)
	if made == "" || made == pub || !strings.Contains(logs.String(), "made the audit receipt key") {
		t.Fatalf("serve made %q (was %q)\n%s", made, pub, logs.String())
	}
	// The server hands out that key.
	tok := tokenRE.FindString(runCmd(t, "enroll", "--data-dir", dir, "--clinic", "hill", "--clinic-name", "Hill").stdout)
	a := newLaptop(t, url, fp)
	if err := a.call(t, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: tok, PublicKey: a.pub, Name: "Front desk"}, nil); err != nil {
		t.Fatal(err)
	}
	var st syncproto.AuditState
	if err := a.call(t, http.MethodGet, syncproto.PathAuditState, nil, &st); err != nil || base64.StdEncoding.EncodeToString(st.ReceiptKey) != made {
		t.Fatalf("audit state: %+v %v", st, err)
	}
}

func TestAlertsAndAuditVerifyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if r := runCmd(t, "init", "--data-dir", dir, "--host", "127.0.0.1"); r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"alerts", "--data-dir", dir}, 0, "No alerts."},
		{[]string{"alerts", "--data-dir", dir, "--ack", "7"}, 1, "no unacknowledged alert 7"},
		{[]string{"alerts", "--data-dir", dir, "--ack", "x"}, 2, "--ack"},
		{[]string{"audit", "verify", "--data-dir", dir}, 0, "No device has shipped"},
		{[]string{"audit", "verify", "--data-dir", dir, "--device", "abcdef"}, 1, "no device with the id abcdef"},
		{[]string{"audit", "--data-dir", dir}, 2, "audit verify"},
		{[]string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--webhook", "http://alerts.example.org/hook"}, 2, "https"},
		{[]string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--webhook", "https://user:pw@alerts.example.org/"}, 2, "password"},
	} {
		r := runCmd(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%v: got %d %q %q, want %d and %q", c.args, r.code, r.stdout, r.stderr, c.code, c.want)
		}
	}
}
