package posture

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/sync"
	"outpost/backend/vault"
)

// check computes one row from the facts.
type check func(f *facts) (Status, []string)

// checks maps every row id to its check (rows.go holds the order).
var checks = map[string]check{
	"S1": checkS1, "S2": checkS2, "S3": checkS3, "S4": checkS4, "S5": checkS5, "S6": checkS6, "S7": checkS7,
	"S8": checkS8, "S9": checkS9, "S10": checkS10, "S11": checkS11, "S12": checkS12, "S13": checkS13, "S14": checkS14,
	"S15": checkS15, "S16": checkS16, "S17": checkS17, "S18": checkS18, "S19": checkS19, "S20": checkS20, "S21": checkS21,
	"S22": checkS22, "S23": checkS23, "S24": checkS24, "S25": checkS25, "S26": checkS26, "S27": checkS27, "S28": checkS28,
	"S29": checkS29, "S30": checkS30, "S31": checkS31, "S32": checkS32, "S33": checkS33, "S34": checkS34, "S35": checkS35,
	"P1": checkP1, "P2": checkP2, "P3": checkP3, "P4": checkP4, "P5": checkP5, "P6": checkP6, "P7": checkP7,
}

// worst returns the worse of two statuses (fail > warn > ok).
func worst(a, b Status) Status {
	rank := map[Status]int{OK: 1, Warn: 2, Fail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// alertLine reports the open alerts of kinds; it raises st to warn when
// there are any.
func alertLine(f *facts, st Status, kinds ...string) (Status, string) {
	n := 0
	for _, k := range kinds {
		n += f.openAlerts[k]
	}
	if n == 0 {
		return st, fmt.Sprintf("open alerts (%s): none", strings.Join(kinds, ", "))
	}
	return worst(st, Warn), fmt.Sprintf("open alerts (%s): %d, waiting for the security officer (Security alerts)", strings.Join(kinds, ", "), n)
}

func checkS1(f *facts) (Status, []string) {
	st := OK
	ev := []string{
		fmt.Sprintf("waiting for a second person now: %d record deletion(s), %d account deletion(s), %d audit purge(s)",
			f.pending["record.delete"], f.pending["user.delete"], f.pending[audit.PurgeKind]),
		"enforced in code: backend/records/delete_test.go TestDualControlDeleteAndRestore, app/access_test.go TestUserDeletionDualControl, app/chart_test.go TestRecordDeletionNeedsTwoPeople",
	}
	if !auth.Can([]string{auth.RoleClinician}, auth.PermRecordDelete) || auth.Can([]string{auth.RoleClerk}, auth.PermRecordDelete) {
		st = Fail
		ev = append(ev, "the permission table does not give record deletion to clinicians only among clinical staff")
	}
	return st, ev
}

func checkS2(*facts) (Status, []string) {
	return OK, []string{
		"enforced in code: every record kind is validated before it is stored (backend/ehr)",
		"tests: backend/ehr/patient_test.go TestPatientValidation, backend/ehr/clinical_test.go (TestEncounterValidation … TestNoteValidation); fuzz: FuzzPatientInput, FuzzParse*Body, backend/fhir FuzzImport",
	}
}

func checkS3(*facts) (Status, []string) {
	return OK, []string{
		"enforced in code: every SQL statement is a constant with ? parameters (backend/arch_test.go TestSQLIsNeverBuiltFromStrings)",
		"no shell is spawned with user data (backend/posture/exec_test.go TestNoExecOfInput)",
	}
}

func checkS4(f *facts) (Status, []string) {
	ev := []string{"the UI shows all text as text: no {@html} (frontend e2e xss.test.mjs stores script payloads in every field and sees none run)"}
	if f.in.CSP == "" {
		return Info, append(ev, "the Content-Security-Policy is the desktop window's (app/options.go); open this report in the app's admin area to see it")
	}
	csp := f.in.CSP
	ev = append(ev, "Content-Security-Policy: "+csp)
	st := OK
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*"} {
		if strings.Contains(csp, bad) {
			st = Fail
			ev = append(ev, "the policy allows "+bad)
		}
	}
	for _, need := range []string{"script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, need) {
			st = Fail
			ev = append(ev, "the policy lacks "+need)
		}
	}
	return st, ev
}

func checkS5(f *facts) (Status, []string) {
	notice := strings.TrimSpace(f.settings.Notice)
	ev := []string{"the sign-in screen shows the notice and sign-in is refused until it is accepted; each acceptance is audited (notice.accept; app/access_test.go TestNoticeAcknowledgementAudited)"}
	switch notice {
	case "":
		return Fail, append(ev, "no notice is set")
	case strings.TrimSpace(clinic.DefaultNotice):
		return OK, append(ev, "notice: Outpost's default (the clinic may write its own in Settings)")
	}
	return OK, append(ev, fmt.Sprintf("notice: the clinic's own, %d characters", len([]rune(notice))))
}

func checkS6(f *facts) (Status, []string) {
	st := OK
	var ev []string
	if auth.Can([]string{auth.RoleAdmin}, auth.PermChartRead) || auth.Can([]string{auth.RoleAdmin}, auth.PermPatientRead) {
		st = Fail
		ev = append(ev, "the permission table lets an administrator open charts")
	}
	for _, r := range []string{auth.RoleClinician, auth.RoleNurse, auth.RoleClerk} {
		if auth.Can([]string{r}, auth.PermUsersManage) || auth.Can([]string{r}, auth.PermSettingsManage) {
			st = Fail
			ev = append(ev, "the permission table lets a "+r+" manage accounts or settings")
		}
	}
	if st == OK {
		ev = append(ev, "permission table: administrators hold no chart access; clinical roles hold no system functions")
	}
	both := 0
	for _, a := range f.accounts {
		if !a.Disabled && slices.Contains(a.Roles, auth.RoleAdmin) && (slices.Contains(a.Roles, auth.RoleClinician) || slices.Contains(a.Roles, auth.RoleNurse)) {
			both++
		}
	}
	ev = append(ev, fmt.Sprintf("active accounts holding both the administrator and a clinical role: %d (allowed, e.g. a one-person clinic; each role's functions stay apart)", both),
		"checked for every bound method and role: app/access_test.go TestPermissionMatrix")
	return st, ev
}

func checkS7(f *facts) (Status, []string) {
	st := OK
	var ev []string
	switch f.keyStore {
	case vault.StoreKeyring:
		ev = append(ev, "vault key: 32 random bytes in the operating system's keyring")
	case vault.StorePassphrase:
		ev = append(ev, "vault key: in a key file wrapped under a passphrase (argon2id), no keyring on this computer")
	default:
		st = Fail
		ev = append(ev, fmt.Sprintf("vault key store %q is unknown", f.keyStore))
	}
	c := f.cipher
	ev = append(ev, fmt.Sprintf("cipher: SQLCipher %s, page size %s, HMAC %s, KDF %s with %s iterations (unused: the key is raw), memory security %s",
		c["cipher_version"], c["cipher_page_size"], c["cipher_hmac_algorithm"], c["cipher_kdf_algorithm"], c["kdf_iter"], onOff(c["cipher_memory_security"])))
	if !strings.EqualFold(c["cipher_hmac_algorithm"], "HMAC_SHA512") {
		st = Fail
		ev = append(ev, "pages are not authenticated with HMAC-SHA512")
	}
	if c["cipher_memory_security"] != "1" {
		st = Fail
		ev = append(ev, "cipher memory security is off")
	}
	if c["cipher_page_size"] != strconv.Itoa(vault.PageSize) {
		st = Fail
		ev = append(ev, fmt.Sprintf("cipher page size is not %d", vault.PageSize))
	}
	if len(f.modes) > 0 {
		st = Fail
		ev = append(ev, "readable by other users: "+strings.Join(f.modes, ", ")+" (want 0700 and 0600)")
	} else {
		ev = append(ev, "data folder and vault files private to their owner (0700/0600)")
	}
	ev = append(ev, "no key or secret literal in the source: backend/arch_test.go TestNoPrivateKeysInSource")
	return st, ev
}

func onOff(v string) string {
	if v == "1" {
		return "on"
	}
	return "off (" + v + ")"
}

func checkS8(f *facts) (Status, []string) {
	ev := []string{"the desktop window serves nothing on the network (its assets load in-process)"}
	if f.enrollment.Enrolled() {
		ev = append(ev, "clinic server "+f.enrollment.Server+": outpost-server runs as a dedicated unprivileged, sandboxed service (build/outpost-server.service)")
	} else {
		ev = append(ev, "no clinic server enrolled")
	}
	return OK, ev
}

func checkS9(*facts) (Status, []string) {
	return OK, []string{
		"enforced in code: documents are addressed by id and kept inside the vault; saved copies go only where the user chooses, under a cleaned name",
		"tests: app/files_test.go TestSafeName, TestSaveDocument; backend/records/document_test.go TestDocuments",
	}
}

// looser lists the session settings looser than the defaults.
func looser(f *facts) []string {
	d := auth.DefaultPolicy
	var out []string
	if f.policy.Idle > d.Idle {
		out = append(out, fmt.Sprintf("idle lock %d min (default %d)", int(f.policy.Idle.Minutes()), int(d.Idle.Minutes())))
	}
	if f.policy.AdminIdle > d.AdminIdle {
		out = append(out, fmt.Sprintf("administrators' idle lock %d min (default %d)", int(f.policy.AdminIdle.Minutes()), int(d.AdminIdle.Minutes())))
	}
	if f.policy.Absolute > d.Absolute {
		out = append(out, fmt.Sprintf("session limit %d h (default %d)", int(f.policy.Absolute.Hours()), int(d.Absolute.Hours())))
	}
	return out
}

func checkS10(f *facts) (Status, []string) {
	ev := []string{"every security setting starts at its strictest sensible value; the sync server refuses plain HTTP (backend/syncserver/hardening_test.go TestTLSSettings)"}
	if l := looser(f); len(l) > 0 {
		return Warn, append(ev, "looser than the defaults on this installation: "+strings.Join(l, "; "))
	}
	ev = append(ev, "session settings at their defaults or stricter")
	if f.enrollment.Enrolled() {
		if _, ok := sync.ValidServer(f.enrollment.Server); !ok {
			return Fail, append(ev, "the enrolled server address is not https: "+f.enrollment.Server)
		}
		ev = append(ev, "clinic server over https with a pinned certificate")
	}
	return OK, ev
}

func checkS11(f *facts) (Status, []string) {
	if !f.enrollment.Enrolled() {
		return NA, []string{"no clinic server enrolled: this laptop serves nothing on the network",
			"the server's limits are tested in backend/syncserver (TestRateLimits, TestKeepsServingUnderFlood, TestOversizedBodies)"}
	}
	return OK, []string{"clinic server " + f.enrollment.Server + ": outpost-server rate-limits per device and per address, bounds bodies and times out slow clients",
		"tests: backend/syncserver/hardening_test.go TestRateLimits, TestKeepsServingUnderFlood; server_test.go TestOversizedBodies"}
}

func checkS12(*facts) (Status, []string) {
	return OK, []string{
		"enforced in code: errors reach the UI as a code, a plain message and an incident id",
		"tests: app/app_test.go TestInternalErrorsCarryNoDetail; backend/syncserver/hardening_test.go TestNoDetailInErrors",
	}
}

func checkS13(*facts) (Status, []string) {
	return OK, []string{"the desktop app uses no cookies; the sync server sets none and authenticates every request by its signature",
		"test: backend/syncserver/server_test.go TestOnlyHealthWithoutSignature"}
}

// oldSQLite is the oldest SQLite release not yet two years behind
// current ones; anything before it is reported as outdated.
const oldSQLite = "3.44.0"

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func checkS14(f *facts) (Status, []string) {
	sq, sc := f.cipher["sqlite_version"], f.cipher["cipher_version"]
	ev := []string{fmt.Sprintf("vault engine: SQLCipher %s on SQLite %s; %s", sc, sq, runtime.Version())}
	st := OK
	if sq == "" || versionLess(sq, oldSQLite) {
		st = Warn
		ev = append(ev, fmt.Sprintf("SQLite %s is older than %s: go-sqlcipher bundles it; see docs/dependencies.md for the SQLite fixes since and whether Outpost's use is exposed", sq, oldSQLite))
	}
	ev = append(ev, "known vulnerabilities are checked at build time (govulncheck, npm audit), not on this computer")
	return st, ev
}

// watched are the components the report names, with what is known of
// their maintenance (docs/dependencies.md keeps the full inventory).
var watched = []struct{ path, note string }{
	{"github.com/mutecomm/go-sqlcipher/v4", "maintained, infrequent releases"},
	{"github.com/wailsapp/wails/v2", "active"},
	{"github.com/zalando/go-keyring", "active"},
	{"golang.org/x/crypto", "Go project"},
	{"golang.org/x/text", "Go project"},
	{"github.com/ccojocar/zxcvbn-go", "maintained"},
	{"github.com/theupdateframework/go-tuf/v2", "active (CNCF)"},
	{"github.com/minio/selfupdate", "maintained"},
}

// archived names modules known to be archived or abandoned upstream; a
// build linking one fails S15.
var archived = map[string]string{}

func checkS15(f *facts) (Status, []string) {
	if f.build == nil {
		return Warn, []string{"this program carries no build information: its components cannot be listed"}
	}
	st := OK
	ev := []string{fmt.Sprintf("built with %s from module %s, %d modules linked", f.build.GoVersion, f.build.Main.Path, len(f.build.Deps))}
	for _, w := range watched {
		for _, d := range f.build.Deps {
			if d.Path == w.path {
				v := d.Version
				if d.Replace != nil {
					v += " (replaced by " + d.Replace.Path + " " + d.Replace.Version + ")"
				}
				ev = append(ev, fmt.Sprintf("%s %s: %s", d.Path, v, w.note))
			}
		}
	}
	for _, d := range f.build.Deps {
		if why, ok := archived[d.Path]; ok {
			st = Fail
			ev = append(ev, fmt.Sprintf("%s %s is unmaintained: %s", d.Path, d.Version, why))
		}
	}
	return st, ev
}

func checkS16(f *facts) (Status, []string) {
	u := f.update
	ev := []string{fmt.Sprintf("running version %s", nonEmpty(f.in.Version, "unknown"))}
	if f.updateErr != nil {
		return Fail, append(ev, "the update state cannot be read: "+f.updateErr.Error())
	}
	if u.Highest != "" {
		ev = append(ev, "highest version ever installed: "+u.Highest)
	}
	if u.Repository != "" {
		ev = append(ev, "update repository: "+u.Repository)
	}
	switch {
	case u.LastRefreshed.IsZero():
		return Warn, append(ev, "signed update metadata never checked on this computer: security releases cannot be announced until it is (Updates, or outpost-admin update check)")
	case u.Expired:
		return Fail, append(ev, fmt.Sprintf("update metadata last verified %s, EXPIRED %s: updates are refused until the repository's timestamp is refreshed", day(u.LastRefreshed), day(u.Expires)))
	}
	return OK, append(ev, fmt.Sprintf("update metadata last verified %s, valid until %s", day(u.LastRefreshed), day(u.Expires)))
}

// human writes a duration as people say it: "1 minute", "24 hours".
func human(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func nonEmpty(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func checkS17(f *facts) (Status, []string) {
	p := f.policy
	st := OK
	ev := []string{fmt.Sprintf("lockout threshold: %d failed sign-ins lock the name for %s, doubling up to %s; unknown names lock the same way; the lock survives a restart (it is in the vault)",
		p.Threshold, human(p.LockBase), human(p.LockMax))}
	if p.Threshold < 1 || p.Threshold > auth.DefaultPolicy.Threshold {
		st = Fail
		ev = append(ev, fmt.Sprintf("the threshold is above %d", auth.DefaultPolicy.Threshold))
	}
	locked := 0
	for _, a := range f.accounts {
		if !a.LockedUntil.IsZero() {
			locked++
		}
	}
	ev = append(ev, fmt.Sprintf("accounts locked now: %d", locked))
	st, line := alertLine(f, st, audit.AlertLockout)
	return st, append(ev, line, "test: app/access_test.go TestLockout")
}

func checkS18(*facts) (Status, []string) {
	return OK, []string{"enforced in code: a change of roles, password or authenticator ends that user's sessions on every device",
		"test: app/access_test.go TestAccountChangesEndSessions"}
}

func checkS19(f *facts) (Status, []string) {
	n := 0
	for _, a := range f.accounts {
		if a.TempPassword && !a.Disabled {
			n++
		}
	}
	return OK, []string{fmt.Sprintf("an administrator-set password is temporary: valid %s, once, replaced at the first sign-in", human(f.policy.TempTTL)),
		fmt.Sprintf("accounts with a temporary password still to be replaced: %d", n),
		"test: app/access_test.go TestTemporaryPasswordsAndPolicy"}
}

func checkS20(*facts) (Status, []string) {
	return OK, []string{"after sign-in the user sees the last successful sign-in and every failed attempt since",
		"test: backend/auth/auth_test.go TestLoginHistory"}
}

func checkS21(f *facts) (Status, []string) {
	st := OK
	ev := []string{fmt.Sprintf("passwords: at least %d characters, not common or guessable (zxcvbn); a new one differs from the old in at least %d positions",
		auth.MinPassword, f.policy.Positions)}
	if f.policy.Positions < 8 || auth.MinPassword < 12 {
		st = Fail
		ev = append(ev, "the password rules are weaker than required (8 positions, 12 characters)")
	}
	return st, append(ev, "tests: backend/auth/auth_test.go TestCheckPassword, app/access_test.go TestTemporaryPasswordsAndPolicy")
}

func checkS22(f *facts) (Status, []string) {
	st := OK
	ev := []string{fmt.Sprintf("session limit: at most %d concurrent sessions per account", f.policy.MaxSessions)}
	if f.policy.MaxSessions < 1 || f.policy.MaxSessions > 3 {
		st = Fail
		ev = append(ev, "the limit is above 3")
	}
	ev = append(ev, fmt.Sprintf("the most sessions one account has open now: %d", f.maxOpen))
	if f.enrollment.Enrolled() {
		ev = append(ev, "counted across laptops through the clinic server when online")
	} else {
		ev = append(ev, "counted on this laptop only (no clinic server enrolled)")
	}
	return st, append(ev, "test: app/access_test.go TestSessionLimit")
}

func checkS23(f *facts) (Status, []string) {
	p := f.policy
	st := OK
	ev := []string{fmt.Sprintf("idle lock: %d min (administrators %d min); session limit: %d h",
		int(p.Idle.Minutes()), int(p.AdminIdle.Minutes()), int(p.Absolute.Hours()))}
	if p.Idle <= 0 || p.Absolute <= 0 || p.Idle > auth.MaxIdleMinutes*time.Minute || p.Absolute > auth.MaxAbsoluteHours*time.Hour {
		st = Fail
		ev = append(ev, "outside the allowed bounds")
	} else if l := looser(f); len(l) > 0 {
		st = Warn
		ev = append(ev, "looser than the defaults: "+strings.Join(l, "; "))
	}
	return st, append(ev, "test: app/access_test.go TestIdleLockAndTimeLimit")
}

func checkS24(f *facts) (Status, []string) {
	st := OK
	days := int(f.policy.Inactive.Hours() / 24)
	ev := []string{fmt.Sprintf("accounts unused for %d days are disabled until an administrator enables them", days)}
	if days > 35 || days < 1 {
		st = Fail
		ev = append(ev, "the period is above 35 days")
	}
	n := 0
	for _, a := range f.accounts {
		if a.Disabled && a.DisabledReason == "inactive" {
			n++
		}
	}
	ev = append(ev, fmt.Sprintf("accounts disabled for inactivity now: %d", n))
	st, line := alertLine(f, st, audit.AlertInactive)
	return st, append(ev, line, "test: app/access_test.go TestInactiveAccounts")
}

func setting(f *facts, key string) string {
	if f.build == nil {
		return ""
	}
	for _, s := range f.build.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func checkS25(f *facts) (Status, []string) {
	ev := []string{"go.sum and frontend/package-lock.json pin every component with its hash; builds use -mod=readonly and npm ci"}
	if f.build == nil {
		return Warn, append(ev, "this program carries no build information")
	}
	rev, modified := setting(f, "vcs.revision"), setting(f, "vcs.modified")
	switch {
	case rev == "":
		return Info, append(ev, "this build records no source revision (built with -buildvcs=false, as a test, or outside a git checkout)")
	case modified == "true":
		return Warn, append(ev, "built from revision "+rev+" with uncommitted changes: not a release build")
	}
	return OK, append(ev, "built from revision "+rev+" of a clean checkout")
}

func checkS26(*facts) (Status, []string) {
	return Info, []string{"a property of the build, not of this computer: CI runs govulncheck (pinned, checksummed database) and npm audit; make release writes a CycloneDX SBOM", "see S14 for this program's components"}
}

func checkS27(*facts) (Status, []string) {
	return Info, []string{"a property of the project's process: review rules in CONTRIBUTING.md (a second reviewer for security-sensitive paths); CI must pass before merge"}
}

func checkS28(f *facts) (Status, []string) {
	ev := []string{"releases are signed offline with outpost-release; signing keys never touch CI (docs/updates.md)"}
	if !f.hasRoot {
		return Warn, append(ev, "this build embeds no trusted update root: it cannot verify signed updates (see docs/updates.md)")
	}
	return OK, append(ev, "this build embeds the clinic's trusted update root: it installs only what the offline keys signed")
}

func hasAll(f *facts, names ...string) []string {
	var missing []string
	for _, n := range names {
		if !f.triggers[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

func checkS29(f *facts) (Status, []string) {
	ev := []string{fmt.Sprintf("record versions kept: %d; every change is a new version with author, time and device", f.versions)}
	if m := hasAll(f, "versions_immutable_update", "versions_immutable_delete"); len(m) > 0 {
		return Fail, append(ev, "missing immutability triggers: "+strings.Join(m, ", "))
	}
	return OK, append(ev, "versions cannot be changed or deleted (vault triggers present)",
		"tests: backend/records/records_test.go TestHistoryAndAsOf, TestVersionsAndAuditAreImmutable")
}

func checkS30(f *facts) (Status, []string) {
	e := f.lastEvent
	ev := []string{"each event holds action, user, roles, patient, record, outcome, device, workstation, OS user, addresses when online, emergency reason, substitute decision-maker"}
	if e.device == "" {
		return Fail, append(ev, "the newest audit event carries no device id")
	}
	ev = append(ev, fmt.Sprintf("newest event: device %s, workstation %q, OS user %q", e.device, e.workstation, e.osUser))
	st := OK
	if e.workstation == "" || e.osUser == "" {
		st = Warn
		ev = append(ev, "the newest event lacks the workstation or OS user")
	}
	return st, append(ev, "test: backend/audit/audit_test.go TestEventFields")
}

func checkS31(f *facts) (Status, []string) {
	s := f.shipping
	ev := []string{fmt.Sprintf("the audit trail must leave this laptop at least every %d days", int(audit.ShipWithin.Hours()/24))}
	if f.hasReceipt {
		ev = append(ev, fmt.Sprintf("last shipment to the clinic server: %s (through event %d)", day(f.receipt.ReceivedAt), f.receipt.Seq))
	} else {
		ev = append(ev, "last shipment to the clinic server: never")
	}
	if s.Acknowledged.Seq > 0 {
		ev = append(ev, fmt.Sprintf("newest copy confirmed off the laptop: through event %d, signed %s, confirmed %s", s.Acknowledged.Seq, day(s.Acknowledged.At), day(s.Acknowledged.AcknowledgedAt)))
	} else {
		ev = append(ev, "no copy confirmed off the laptop yet")
	}
	st := OK
	switch {
	case s.Since.IsZero():
		ev = append(ev, "no audit events yet")
	case s.Overdue:
		st = Fail
		ev = append(ev, fmt.Sprintf("OVERDUE: %d days since %s; sync with the clinic server or save and confirm a sealed copy", int(f.now.Sub(s.Since).Hours()/24), day(s.Since)))
	case s.Acknowledged.Seq == 0:
		st = Warn
		ev = append(ev, fmt.Sprintf("due by %s", day(s.Since.Add(audit.ShipWithin))))
	default:
		ev = append(ev, fmt.Sprintf("next copy due by %s", day(s.Since.Add(audit.ShipWithin))))
	}
	st, line := alertLine(f, st, audit.AlertUnshipped)
	return st, append(ev, line)
}

func checkS32(f *facts) (Status, []string) {
	y := f.settings.AuditRetentionYears
	ev := []string{fmt.Sprintf("audit retention: %d years (allowed %d–%d); events before %s may be purged, only with a second person's approval and only once copied off",
		y, audit.MinRetentionYears, audit.MaxRetentionYears, audit.Cutoff(f.now, y).Format("2006-01-02"))}
	if y < audit.MinRetentionYears || y > audit.MaxRetentionYears {
		return Fail, append(ev, "outside the allowed range")
	}
	return OK, append(ev, "test: backend/audit/purge_test.go TestPurgeNeverTakesYoungEvents")
}

func checkS33(f *facts) (Status, []string) {
	if !f.enrollment.Enrolled() {
		return Warn, []string{"no clinic server enrolled: the audit trail is kept centrally only once the laptop is enrolled (until then, sealed copies on removable media; see S31)"}
	}
	ev := []string{"clinic server " + f.enrollment.Server + " stores every laptop's chain and verifies it on receipt"}
	if !f.hasReceipt {
		return Warn, append(ev, "the server has not yet acknowledged this laptop's audit trail")
	}
	ev = append(ev, fmt.Sprintf("the server verified this laptop's chain through event %d on %s (its signed receipt)", f.receipt.Seq, day(f.receipt.ReceivedAt)))
	st, line := alertLine(f, OK, "audit-receipt-key")
	return st, append(ev, line)
}

func checkS34(f *facts) (Status, []string) {
	st, line := alertLine(f, OK, audit.AlertConcurrent)
	return st, []string{"a sign-in while the account is active on another workstation is audited and alerts the officer", line,
		"tests: app/conflict_test.go TestSyncSessionsAcrossLaptops, backend/syncserver/session_test.go TestSessionsAcrossDevices"}
}

func checkS35(f *facts) (Status, []string) {
	st := OK
	var ev []string
	if f.chainErr != nil {
		st = Fail
		ev = append(ev, "the audit chain does NOT verify: "+f.chainErr.Error())
	} else {
		ev = append(ev, fmt.Sprintf("audit chain verified now: %d events, %d signed checkpoints", f.chain.Count(), f.chain.Checkpoints))
	}
	if m := hasAll(f, "audit_immutable_update", "audit_immutable_delete", "audit_checkpoints_immutable_update", "audit_checkpoints_immutable_delete"); len(m) > 0 {
		st = Fail
		ev = append(ev, "missing immutability triggers: "+strings.Join(m, ", "))
	}
	if n := f.openAlerts[audit.AlertAuditFailure] + f.openAlerts[audit.AlertIntegrity]; n > 0 {
		st = Fail
		ev = append(ev, fmt.Sprintf("open alerts (%s, %s): %d: an audit write failed or the chain broke", audit.AlertAuditFailure, audit.AlertIntegrity, n))
	} else {
		ev = append(ev, fmt.Sprintf("open alerts (%s, %s): none", audit.AlertAuditFailure, audit.AlertIntegrity))
	}
	return st, append(ev, "an action whose audit event cannot be written is refused and alerted: backend/audit/alarm_test.go TestFailureAlarm, app/app_test.go TestInternalErrorsCarryNoDetail")
}

func checkP1(f *facts) (Status, []string) {
	ev := []string{"tests: app/app_test.go TestEveryBoundMethodNeedsASession; backend/syncserver/server_test.go TestOnlyHealthWithoutSignature, audit_test.go TestAuditRoutesNeedASignature"}
	if f.in.Methods == nil {
		return OK, ev
	}
	var public, missing []string
	for m, rule := range f.in.Methods {
		switch rule {
		case "":
			missing = append(missing, m)
		case "public":
			public = append(public, m)
		}
	}
	slices.Sort(public)
	slices.Sort(missing)
	if len(missing) > 0 {
		return Fail, append(ev, "bound methods without an access rule: "+strings.Join(missing, ", "))
	}
	return OK, append(ev, fmt.Sprintf("%d bound methods, each with an access rule; callable before sign-in: %s", len(f.in.Methods), strings.Join(public, ", ")))
}

func checkP2(f *facts) (Status, []string) {
	return OK, []string{"as S3, for the server too: constant SQL only (backend/arch_test.go TestSQLIsNeverBuiltFromStrings covers every package)"}
}

func checkP3(*facts) (Status, []string) {
	return OK, []string{"no exec of input, no template evaluation of input, no plugin loading: backend/posture/exec_test.go TestNoExecOfInput",
		"updates install only binaries signed by the offline keys (S28)"}
}

func checkP4(f *facts) (Status, []string) {
	ev := []string{"the server answers nothing but health without a valid device signature, and no version banner: backend/syncserver/server_test.go TestOnlyHealthWithoutSignature"}
	if f.enrollment.Enrolled() {
		ev = append(ev, fmt.Sprintf("this laptop pins the server's certificate %s", f.enrollment.Fingerprint))
	}
	return OK, ev
}

func checkP5(*facts) (Status, []string) {
	return OK, []string{fmt.Sprintf("attachments: PDF, PNG or JPEG recognised by content, at most %d MB, stored encrypted in the vault, never executed or written to a path", ehr.MaxDocument>>20),
		"tests: backend/ehr/document_test.go TestDocument, backend/records/document_test.go TestDocuments"}
}

func checkP6(*facts) (Status, []string) {
	return OK, []string{"the desktop app has no cookies; the server authenticates each request by its signature, not by ambient credentials",
		"test: backend/syncserver/server_test.go TestTamperedRequest"}
}

func checkP7(f *facts) (Status, []string) {
	st := OK
	ev := []string{"admin actions need an administrator's session; deleting an account or purging audit needs a second person (S1)"}
	if !auth.RequiresMFA([]string{auth.RoleAdmin}) || !auth.RequiresMFA([]string{auth.RoleOfficer}) {
		st = Fail
		ev = append(ev, "a second factor is not required for administrators and security officers")
	} else {
		ev = append(ev, "a second factor (TOTP) is required for administrators and security officers")
	}
	var without []string
	admins := 0
	for _, a := range f.accounts {
		if a.Disabled || !auth.RequiresMFA(a.Roles) {
			continue
		}
		admins++
		if !a.MFAEnabled {
			without = append(without, a.Username)
		}
	}
	ev = append(ev, fmt.Sprintf("active administrator and officer accounts: %d", admins))
	if len(without) > 0 {
		st = worst(st, Warn)
		ev = append(ev, "not yet enrolled in the second factor (they must enrol at their next sign-in): "+strings.Join(without, ", "))
	}
	return st, append(ev, "tests: app/access_test.go TestPermissionMatrix, TestUserDeletionDualControl, TestMFARecoveryAndReplay")
}
