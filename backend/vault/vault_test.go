package vault_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var ctx = context.Background()

func create(t *testing.T, o vault.Options) (*vault.Vault, string) {
	t.Helper()
	v, rk, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return v, rk
}

// grow writes enough rows that the file spans many pages.
func grow(t *testing.T, v *vault.Vault) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if _, err := v.W.Exec("INSERT INTO counters(name, value) VALUES (?, ?)", strings.Repeat("x", 200)+hex.EncodeToString([]byte{byte(i), byte(i >> 8)}), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}

func TestCreateIsEncryptedAndPrivate(t *testing.T) {
	o := vaulttest.Options(t)
	v, rk := create(t, o)
	grow(t, v)
	v.Close()

	raw, err := os.ReadFile(filepath.Join(o.Dir, vault.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(raw, []byte("SQLite format 3")) {
		t.Fatal("vault file begins with the plain SQLite header")
	}
	if bytes.Contains(raw, []byte("CREATE TABLE")) || bytes.Contains(raw, []byte("xxxxxxxxxx")) {
		t.Fatal("vault file holds plain text")
	}
	if got := len(raw) % vault.PageSize; got != 0 {
		t.Fatalf("file size %% page = %d", got)
	}
	if ok, _ := regexp.MatchString(`^([0-9A-HJKMNP-TV-Z]{4}-){8}[0-9A-HJKMNP-TV-Z]{4}$`, rk); !ok {
		t.Fatalf("recovery key %q is not nine groups of four", rk)
	}
	st, _ := os.Stat(o.Dir)
	if got, want := st.Mode().Perm(), os.FileMode(0o700); got != want {
		t.Errorf("dir mode = %v, want %v", got, want)
	}
	for _, f := range []string{vault.DBFile, vault.MetaFile, vault.RecoveryFile} {
		st, err := os.Stat(filepath.Join(o.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("%s mode = %v, want %v", f, got, want)
		}
	}
	v2, err := vault.Open(ctx, o)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer v2.Close()
	if r := v2.Check(ctx); !r.OK() {
		t.Fatalf("check: %+v", r.Findings)
	}
}

func TestCreateRefusesExistingVault(t *testing.T) {
	o := vaulttest.Options(t)
	v, _ := create(t, o)
	v.Close()
	_, _, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if !errors.Is(err, vault.ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	v2, err := vault.Open(ctx, o)
	if err != nil {
		t.Fatalf("open after refused create: %v", err)
	}
	v2.Close()
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, o vault.Options, id string)
		want    error
		code    string
		message string
	}{
		{"wrong key", func(t *testing.T, o vault.Options, id string) {
			o.Keyring.Set(vault.Service, id, strings.Repeat("ab", 32))
		}, vault.ErrWrongKey, ehr.EVault, "does not open this vault"},
		{"missing keyring entry", func(t *testing.T, o vault.Options, id string) {
			o.Keyring.Delete(vault.Service, id)
		}, vault.ErrKeyMissing, ehr.EKeyring, "recovery key"},
		{"no keyring", func(t *testing.T, o vault.Options, id string) {
			o.Keyring.(*vaulttest.Keyring).Broken = true
		}, vault.ErrNoKeyring, ehr.EKeyring, "keyring"},
		{"truncated", func(t *testing.T, o vault.Options, id string) {
			p := filepath.Join(o.Dir, vault.DBFile)
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-1000); err != nil {
				t.Fatal(err)
			}
		}, vault.ErrTruncated, ehr.EVault, "truncated"},
		{"emptied", func(t *testing.T, o vault.Options, id string) {
			if err := os.Truncate(filepath.Join(o.Dir, vault.DBFile), 0); err != nil {
				t.Fatal(err)
			}
		}, vault.ErrTruncated, ehr.EVault, "truncated"},
		{"tampered first page", func(t *testing.T, o vault.Options, id string) {
			flip(t, filepath.Join(o.Dir, vault.DBFile), 100)
		}, vault.ErrCorrupt, ehr.EVault, "tampered"},
		{"replaced by plain sqlite", func(t *testing.T, o vault.Options, id string) {
			p := filepath.Join(o.Dir, vault.DBFile)
			raw, _ := os.ReadFile(p)
			copy(raw, "SQLite format 3\x00")
			os.WriteFile(p, raw, 0o600)
		}, vault.ErrCorrupt, ehr.EVault, "not encrypted"},
		{"file deleted", func(t *testing.T, o vault.Options, id string) {
			os.Remove(filepath.Join(o.Dir, vault.DBFile))
		}, vault.ErrCorrupt, ehr.EVault, "missing"},
		{"schema from the future", func(t *testing.T, o vault.Options, id string) {
			v, err := vault.Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			v.W.Exec("PRAGMA user_version = 999")
			v.Close()
		}, vault.ErrSchemaNewer, ehr.EVault, "newer version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := vaulttest.Options(t)
			v, _ := create(t, o)
			grow(t, v)
			id := v.ID()
			v.Close()
			before, _ := os.ReadFile(filepath.Join(o.Dir, vault.DBFile))
			tt.damage(t, o, id)
			damaged, _ := os.ReadFile(filepath.Join(o.Dir, vault.DBFile))

			_, err := vault.Open(ctx, o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got := ehr.ErrorCode(err); got != tt.code {
				t.Errorf("code = %s, want %s", got, tt.code)
			}
			msg := ehr.ErrorMessage(err)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not mention %q", msg, tt.message)
			}
			if strings.Contains(msg, o.Dir) {
				t.Errorf("message %q names a path", msg)
			}
			after, _ := os.ReadFile(filepath.Join(o.Dir, vault.DBFile))
			if !bytes.Equal(after, damaged) {
				t.Errorf("a failed open changed the file (%d bytes before damage, %d after open)", len(before), len(after))
			}
		})
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFindsTamperedPage(t *testing.T) {
	o := vaulttest.Options(t)
	v, _ := create(t, o)
	grow(t, v)
	v.Close()
	p := filepath.Join(o.Dir, vault.DBFile)
	st, _ := os.Stat(p)
	flip(t, p, st.Size()/2+123)

	v, err := vault.Open(ctx, o)
	if err != nil {
		if !errors.Is(err, vault.ErrCorrupt) {
			t.Fatalf("open: %v, want success or ErrCorrupt", err)
		}
		return
	}
	defer v.Close()
	r := v.Check(ctx)
	if r.OK() {
		t.Fatalf("check passed a tampered file: %+v", r.Findings)
	}
	var found bool
	for _, f := range r.Findings {
		if f.Name == "page authentication" && !f.OK {
			found = true
		}
	}
	if !found {
		t.Fatalf("no failed page authentication finding: %+v", r.Findings)
	}
}

func TestRecoverPutsKeyBack(t *testing.T) {
	o := vaulttest.Options(t)
	v, rk := create(t, o)
	id := v.ID()
	v.Close()
	// A new laptop user profile: the keyring is empty.
	o.Keyring = vaulttest.NewKeyring()
	if _, err := vault.Open(ctx, o); !errors.Is(err, vault.ErrKeyMissing) {
		t.Fatalf("open with empty keyring: %v", err)
	}
	typo := []byte(rk)
	typo[3] = map[bool]byte{true: 'A', false: 'B'}[typo[3] != 'A']
	if err := vault.Recover(o, string(typo), nil); !errors.Is(err, vault.ErrRecoveryFormat) {
		t.Fatalf("recover with a typo: %v", err)
	}
	// Typed by hand: lower case, spaces instead of hyphens.
	typed := strings.ToLower(strings.ReplaceAll(rk, "-", " "))
	if err := vault.Recover(o, typed, nil); err != nil {
		t.Fatalf("recover: %v", err)
	}
	v, err := vault.Open(ctx, o)
	if err != nil {
		t.Fatalf("open after recover: %v", err)
	}
	if v.ID() != id {
		t.Fatalf("id = %s, want %s", v.ID(), id)
	}
	v.Close()
}

func TestRecoveryKeyOfAnotherVault(t *testing.T) {
	o1, o2 := vaulttest.Options(t), vaulttest.Options(t)
	v1, rk1 := create(t, o1)
	v1.Close()
	v2, _ := create(t, o2)
	v2.Close()
	if err := vault.Recover(o2, rk1, nil); !errors.Is(err, vault.ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
}

func TestNoKeyringAtCreate(t *testing.T) {
	o := vaulttest.Options(t)
	o.Keyring.(*vaulttest.Keyring).Broken = true
	_, _, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if !errors.Is(err, vault.ErrNoKeyring) {
		t.Fatalf("err = %v, want ErrNoKeyring", err)
	}
	if !strings.Contains(ehr.ErrorMessage(err), "passphrase") {
		t.Errorf("message does not name the passphrase fix: %q", ehr.ErrorMessage(err))
	}
	if _, err := vault.ReadMeta(o.Dir); !errors.Is(err, vault.ErrNoVault) {
		t.Fatalf("a failed create left a vault behind: %v", err)
	}
	entries, _ := os.ReadDir(o.Dir)
	if len(entries) != 0 {
		t.Fatalf("a failed create left files: %v", entries)
	}
}

func TestPassphraseVault(t *testing.T) {
	o := vaulttest.Options(t)
	o.Keyring.(*vaulttest.Keyring).Broken = true // no keyring on this machine
	if _, _, err := vault.Create(ctx, o, vault.StorePassphrase, []byte("short")); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Fatalf("short passphrase: %v", err)
	}
	pass := []byte("correct horse battery staple")
	v, rk, err := vault.Create(ctx, o, vault.StorePassphrase, pass)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	v.Close()
	if _, err := vault.Open(ctx, o); !errors.Is(err, vault.ErrNeedPassphrase) {
		t.Fatalf("open without passphrase: %v", err)
	}
	if _, err := vault.OpenPassphrase(ctx, o, []byte("wrong horse battery staple")); !errors.Is(err, vault.ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	v, err = vault.OpenPassphrase(ctx, o, pass)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	v.Close()
	newPass := []byte("a brand new passphrase")
	if err := vault.Recover(o, rk, newPass); err != nil {
		t.Fatalf("recover: %v", err)
	}
	if _, err := vault.OpenPassphrase(ctx, o, pass); !errors.Is(err, vault.ErrPassphrase) {
		t.Fatalf("old passphrase after recover: %v", err)
	}
	v, err = vault.OpenPassphrase(ctx, o, newPass)
	if err != nil {
		t.Fatalf("open with new passphrase: %v", err)
	}
	v.Close()
}

func TestErase(t *testing.T) {
	o := vaulttest.Options(t)
	v, _ := create(t, o)
	id := v.ID()
	v.Close()
	if err := vault.Erase(o); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Keyring.Get(vault.Service, id); !errors.Is(err, vault.ErrKeyNotFound) {
		t.Fatalf("key still in keyring: %v", err)
	}
	if _, err := vault.ReadMeta(o.Dir); !errors.Is(err, vault.ErrNoVault) {
		t.Fatalf("vault still there: %v", err)
	}
}
