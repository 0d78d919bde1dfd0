package syncserver_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"golang.org/x/crypto/chacha20poly1305"

	"outpost/backend/syncproto"
)

// testSealer stands in for the client's sealing (backend/seal, which the
// server must never link): the record compressed, then sealed with
// XChaCha20-Poly1305 under the clinic key, with the record and version
// ids as associated data. Only the clinic's laptops hold the key.
type testSealer struct{ key []byte }

func newSealer(t testing.TB) testSealer {
	k := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return testSealer{k}
}

func (s testSealer) seal(t testing.TB, record, version string, plain []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	return s.sealBytes(t, record, version, z.Bytes())
}

// sealBytes seals data as it is (already compressed).
func (s testSealer) sealBytes(t testing.TB, record, version string, data []byte) []byte {
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(data)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, data, []byte(record+"\n"+version))
}

func (s testSealer) open(t testing.TB, record, version string, sealed []byte) []byte {
	aead, _ := chacha20poly1305.NewX(s.key)
	n := aead.NonceSize()
	z, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(record+"\n"+version))
	if err != nil {
		t.Fatalf("open %s: %v", version, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// A synthetic patient: the marker is a made-up name that appears
// nowhere else, so finding it anywhere on the server is a leak.
const marker = "Zyxwanele Quorthington-Okafor"

func patientBody(i int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient","name":[{"family":"Quorthington-Okafor","given":["Zyxwanele"],"text":%q}],`+
		`"birthDate":"1980-02-%02d","identifier":[{"value":"NID-MARKER-%04d"}],"note":"allergic to penicillin"}`, marker, 1+i%28, i)
}

// dump returns everything in the server's database file as SQL sees it
// (every column of every row of every table) plus the raw bytes of the
// file and its WAL.
func dump(t *testing.T, dbPath string) []byte {
	t.Helper()
	var out bytes.Buffer
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 4 {
		t.Fatalf("tables: %v", tables)
	}
	for _, table := range tables {
		// sqlcheck: a test reading back every table named by sqlite_master.
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(&out, "%s\t", v)
			}
			out.WriteByte('\n')
		}
		rows.Close()
	}
	for _, name := range []string{dbPath, dbPath + "-wal"} {
		raw, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out.Write(raw)
	}
	return out.Bytes()
}

// leaks returns what of the patient's data is found in b, in the clear,
// in base64 or in hex.
func leaks(b []byte) []string {
	var found []string
	low := bytes.ToLower(b)
	for _, needle := range []string{marker, "Zyxwanele", "Quorthington", "NID-MARKER", "penicillin", `"resourceType"`} {
		forms := []string{strings.ToLower(needle), hex.EncodeToString([]byte(needle))}
		for shift := range 3 { // base64 at each alignment
			enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", shift) + needle))
			forms = append(forms, strings.ToLower(enc[4:len(enc)-4]))
		}
		for _, f := range forms {
			if bytes.Contains(low, []byte(f)) {
				found = append(found, needle)
				break
			}
		}
	}
	return found
}

// Zero knowledge: after two laptops sync sealed patient records through
// the server, nothing the server holds, in its database or its log,
// contains the patients' data; the other laptop opens every version.
func TestServerHoldsNoPlaintext(t *testing.T) {
	h := newHarness(t, nil)
	sealer := newSealer(t)
	a, b := h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	const n = 120
	vs := make([]syncproto.Version, n)
	for i := range vs {
		rec, ver := fmt.Sprintf("0190a6b2-0000-7000-8000-%012d", i/3), fmt.Sprintf("0190a6b2-0001-7000-8000-%012d", i)
		vs[i] = syncproto.Version{Record: rec, ID: ver, Sealed: sealer.seal(t, rec, ver, patientBody(i))}
		if i%3 > 0 {
			vs[i].Parents = []string{vs[i-1].ID}
		}
	}
	for i := 0; i < n; i += 40 {
		if _, err := h.push(a, vs[i:i+40]); err != nil {
			t.Fatal(err)
		}
	}
	var got []syncproto.Version
	for after := int64(0); ; {
		page, err := h.pull(b, after, 50)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Versions...)
		if after = page.Next; !page.More {
			break
		}
	}
	if len(got) != n {
		t.Fatalf("pulled %d", len(got))
	}
	for i, v := range got {
		if plain := sealer.open(t, v.Record, v.ID, v.Sealed); !bytes.Equal(plain, patientBody(i)) || !bytes.Contains(plain, []byte(marker)) {
			t.Fatalf("version %d does not open to what was sealed", i)
		}
	}
	// The version a mismatch would carry is not kept either.
	bad := vs[0]
	bad.Sealed = sealer.seal(t, bad.Record, bad.ID, patientBody(0))
	if res, err := h.push(a, []syncproto.Version{bad}); err != nil || res.Results[0].Status != syncproto.PushMismatch {
		t.Fatalf("mismatch: %v", err)
	}

	before := dump(t, h.dbPath)
	if err := h.store.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	after := dump(t, h.dbPath)
	for name, b := range map[string][]byte{"database (WAL)": before, "database (checkpointed)": after, "log": []byte(h.logs.String())} {
		if found := leaks(b); len(found) > 0 {
			t.Errorf("the server's %s holds %v", name, found)
		}
	}
	if !bytes.Contains(after, vs[5].Sealed) {
		t.Fatal("the dump does not hold the ciphertext: it is not looking at the data")
	}
}

// The check above can see a leak: a store given unsealed bodies is
// caught by the same dump.
func TestPlaintextDumpWouldBeCaught(t *testing.T) {
	h := newHarness(t, nil)
	a := h.newDevice()
	h.enroll(a, "hill")
	if _, err := h.push(a, []syncproto.Version{{Record: "r", ID: "v", Sealed: patientBody(1)}}); err != nil {
		t.Fatal(err)
	}
	if found := leaks(dump(t, h.dbPath)); len(found) == 0 {
		t.Fatal("an unsealed body went unnoticed")
	}
	base := base64.StdEncoding.EncodeToString(patientBody(2))
	if found := leaks([]byte(base)); len(found) == 0 {
		t.Fatal("a base64 body went unnoticed")
	}
}
