package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault"
)

// Synthetic names for the demo clinic. They are common given and family
// names from many regions, combined at random: no real person.
var (
	demoFamilies = []string{"Banda", "Phiri", "Mwale", "Osei", "Mensah", "Okafor", "Adeyemi", "Nkosi", "Dlamini", "Kamau",
		"Otieno", "Haile", "Tesfaye", "Mohammed", "Hassan", "Ali", "Khan", "Sharma", "Patel", "Das", "Nguyen", "Tran",
		"García", "Hernández", "López", "Silva", "Santos", "Müller", "Schmidt", "O'Neil", "Smith", "Jones", "Diallo",
		"Traoré", "Keïta", "Rakotomalala", "Moyo", "Ndlovu", "Chukwu", "Abebe"}
	demoFemale = []string{"Amina", "Grace", "Chisomo", "Ama", "Fatima", "Mercy", "Aisha", "Priya", "Lan", "María", "Ana",
		"Catherine", "Esther", "Tiyamike", "Zodwa", "Wanjiru", "Selam", "Mariam", "Joy", "Rose"}
	demoMale = []string{"Kofi", "John", "Kwame", "Joseph", "Chidi", "Tendai", "Sipho", "Omar", "Yusuf", "Ravi", "Minh",
		"José", "Luis", "Peter", "Samuel", "Moussa", "Dawit", "Ibrahim", "Daniel", "Emmanuel"}
	demoVillages = []string{"Lowland", "Upland", "Riverside", "Hilltop", "Lakeshore", "Three Wells", "Market Town", "Baobab Corner"}
)

func demoPatient(r *mrand.Rand, now time.Time) ehr.Patient {
	p := ehr.Patient{Family: demoFamilies[r.IntN(len(demoFamilies))], Village: demoVillages[r.IntN(len(demoVillages))]}
	if r.IntN(2) == 0 {
		p.Sex, p.Given = "female", demoFemale[r.IntN(len(demoFemale))]
	} else {
		p.Sex, p.Given = "male", demoMale[r.IntN(len(demoMale))]
	}
	age := r.IntN(85)
	if r.IntN(10) == 0 {
		p.BirthDate, p.BirthEstimated = fmt.Sprint(now.Year()-age), true
	} else {
		p.BirthDate = now.AddDate(-age, 0, -r.IntN(365)).Format("2006-01-02")
	}
	if r.IntN(3) == 0 {
		p.NationalID = fmt.Sprintf("NI-%06d", r.IntN(1000000))
	}
	if r.IntN(2) == 0 {
		p.Phone = fmt.Sprintf("+265 99 %03d %04d", r.IntN(1000), r.IntN(10000))
	}
	return p
}

func randomSecret() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return fmt.Sprintf("%s-%s-%s-%s", b[0:5], b[5:10], b[10:15], b[15:20]), nil
}

// cmdDemo creates a demo clinic of synthetic patients for training and
// trying Outpost. The sign-in is random and printed (and written to
// --credentials when given); it is never a fixed password.
func cmdDemo(ctx context.Context, args []string, e env) error {
	fs := flags("demo", e)
	dir := fs.String("data-dir", "", "vault folder")
	n := fs.Int("patients", 300, "synthetic patients to register")
	creds := fs.String("credentials", "", "also write the demo sign-in to this file (mode 0600)")
	if err := fs.Parse(args); err != nil || *dir == "" || *n < 0 || *n > 100000 {
		return usageError("--data-dir is required; --patients from 0 to 100000")
	}
	password, err := randomSecret()
	if err != nil {
		return err
	}
	req := clinic.SetupRequest{Clinic: "Demo Health Post", AdminUsername: "demo", AdminName: "Demo Administrator",
		Password: password, KeyStore: vault.StoreKeyring}
	s, _, err := clinic.Setup(ctx, e.options(*dir), e.deps, req)
	if errors.Is(err, vault.ErrNoKeyring) {
		if req.Passphrase, err = randomSecret(); err != nil {
			return err
		}
		req.KeyStore = vault.StorePassphrase
		s, _, err = clinic.Setup(ctx, e.options(*dir), e.deps, req)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	// A clinician's account for trying the clinical screens without an
	// authenticator app (administrators must enrol one at first sign-in).
	clinicianPassword, err := randomSecret()
	if err != nil {
		return err
	}
	tx, err := s.Vault.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	nurse, err := s.Users.CreateUser(ctx, tx, "demo", auth.NewUser{Username: "clinician", Name: "Demo Clinician",
		Password: clinicianPassword, Roles: []string{auth.RoleClinician}})
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	actor := records.Actor{UserID: nurse.ID, Username: nurse.Username, Roles: nurse.Roles, Session: "demo-setup"}
	r := mrand.New(mrand.NewPCG(2026, 11))
	now := e.now()
	for range *n {
		if _, err := s.Records.RegisterPatient(ctx, actor, demoPatient(r, now)); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("Demo clinic with %d synthetic patients.\nSign in as: clinician\nPassword:   %s\n"+
		"(Administrator: demo / %s — enrols an authenticator app at first sign-in.)\n", *n, clinicianPassword, password)
	if req.KeyStore == vault.StorePassphrase {
		msg += fmt.Sprintf("No OS keyring here: unlock the vault with the passphrase %s\n", req.Passphrase)
	}
	fmt.Fprint(e.stdout, msg)
	if *creds != "" {
		if err := os.WriteFile(*creds, []byte(msg), 0o600); err != nil {
			return fmt.Errorf("write credentials: %w", err)
		}
	}
	return nil
}
