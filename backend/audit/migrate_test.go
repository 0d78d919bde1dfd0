package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/vault"
)

// oldEvent is audit.Event as schema 5 had it; oldAppend is how that
// version appended one.
type oldEvent struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	Username    string    `json:"username"`
	Roles       []string  `json:"roles"`
	Action      string    `json:"action"`
	Outcome     string    `json:"outcome"`
	PatientID   string    `json:"patientId"`
	RecordID    string    `json:"recordId"`
	Device      string    `json:"device"`
	Workstation string    `json:"workstation"`
	Session     string    `json:"session"`
	Detail      string    `json:"detail"`
	PrevHash    string    `json:"prevHash"`
	Hash        string    `json:"hash"`
}

func oldAppend(t *testing.T, v *vault.Vault, e oldEvent) oldEvent {
	t.Helper()
	var prev string
	if err := v.W.QueryRow("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").Scan(&e.Seq, &prev); err != nil {
		e.Seq, prev = 0, audit.Genesis
	}
	e.Seq++
	e.PrevHash = prev
	body, err := ehr.Canonical(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append([]byte(prev), body...))
	e.Hash = hex.EncodeToString(sum[:])
	roles, _ := json.Marshal(e.Roles)
	if _, err := v.W.Exec(`INSERT INTO audit (seq, at, username, roles, action, outcome, patient_id, record_id,
		device, workstation, session, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.Seq, e.At.Format(time.RFC3339Nano), e.Username, string(roles), e.Action, e.Outcome, e.PatientID, e.RecordID,
		e.Device, e.Workstation, e.Session, e.Detail, e.PrevHash, e.Hash); err != nil {
		t.Fatal(err)
	}
	return e
}

// A vault of schema 5 with events written by that version: migrated, it
// gets its device key and a checkpoint on first open, its old events
// still verify (the new members are left out of their canonical form),
// and new events continue the chain.
func TestEventsFromBeforeTheMigrationVerify(t *testing.T) {
	o := vaultOptions(t)
	v, _, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Back to schema 5: everything dropped, then schema files 1 to 5 run
	// again, as that version of Outpost left a vault.
	var names []string
	rows, err := v.W.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := v.W.Exec("DROP TABLE " + n); err != nil { // names read from sqlite_master
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "vault", "schema", "000[1-5]_*.sql"))
	if len(files) != 5 {
		t.Fatalf("schema files 1 to 5: %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.W.Exec(string(raw)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := v.W.Exec("PRAGMA user_version = 5"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 11, 5, 9, 30, 0, 120000000, time.UTC)
	var old []oldEvent
	for i, e := range []oldEvent{
		{Username: "it.admin", Roles: []string{}, Action: "clinic.setup", Outcome: "success", Detail: "key store keyring"},
		{Username: "dr.banda", Roles: []string{"clinician"}, Action: "patient.breakglass", Outcome: "success", PatientID: "p1", RecordID: "p1",
			Detail: "until 2025-11-05T10:30:00Z; reason: unconscious <at> the \"door\" & café"},
		{Username: "nobody", Roles: []string{}, Action: "user.login", Outcome: "failure", Detail: "unknown user"},
	} {
		e.At, e.Device, e.Workstation = at.Add(time.Duration(i)*time.Second), "dev-old", "ws-old"
		old = append(old, oldAppend(t, v, e))
	}
	v.Close()

	v, err = vault.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var version int
	v.R.QueryRow("PRAGMA user_version").Scan(&version)
	if version != vault.SchemaVersion() || version < 6 {
		t.Fatalf("schema %d after opening", version)
	}
	if rep, err := audit.VerifyVault(ctx, v.R); err != nil || rep.Events != 3 || rep.Checkpoints != 0 {
		t.Fatalf("verify after migration, before the key = %+v, %v", rep, err)
	}
	c := &clock{t: at.Add(24 * time.Hour)}
	log := &audit.Log{Device: "dev-old", Workstation: "ws-new", Now: c.Now, OSUser: "ama", Addresses: func() []string { return []string{"10.0.0.7"} }}
	if err := log.Open(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	cps, _ := audit.Checkpoints(ctx, v.R)
	if len(cps) != 1 || cps[0].Seq != 3 || cps[0].Hash != old[2].Hash {
		t.Fatalf("first open: checkpoints %+v", cps)
	}
	if err := log.Record(ctx, v.W, audit.Event{Username: "dr.banda", Roles: []string{"clinician"}, Action: "patient.read", Outcome: "success",
		Reason: "follow-up"}); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyVault(ctx, v.R)
	if err != nil || rep.Events != 4 || rep.Checkpoints != 2 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, v.R, c.t, &buf); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	if rep, err := audit.VerifyFile(bytes.NewReader(file), nil); err != nil || rep.Events != 4 {
		t.Fatalf("verify file = %+v, %v", rep, err)
	}
	// The old events are exported as their old canonical JSON.
	ls := bytes.Split(file, []byte("\n"))
	for i, e := range old {
		want, _ := ehr.Canonical(e)
		if !bytes.Equal(ls[1+i], want) {
			t.Errorf("event %d: %s, want %s", e.Seq, ls[1+i], want)
		}
	}
}
