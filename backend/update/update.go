// Package update holds the domain of signed updates: release versions, what
// a check found, the administrator's install policy, the freshness of the
// trusted metadata, and the refusals a caller branches on. It depends on
// the standard library alone; the TUF client is in update/client, the
// sources in update/source, the repository tools in update/repo.
package update

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Refusals. Every error from a check or an apply that means "the
// repository or the download cannot be trusted" wraps ErrRefused and one of
// the more precise sentinels below, so the app can say why.
var (
	ErrRefused        = errors.New("update refused")
	ErrUntrusted      = errors.New("metadata is not signed by the trusted keys")
	ErrExpired        = errors.New("update metadata has expired")
	ErrRollback       = errors.New("older than what this computer already has")
	ErrMismatch       = errors.New("does not match its signed length and hash")
	ErrTooLarge       = errors.New("larger than its signed length")
	ErrNoRelease      = errors.New("no release for this platform")
	ErrUnknownVersion = errors.New("this build carries no release version")
	ErrNoRoot         = errors.New("this build embeds no trusted update root")
	ErrRollbackFailed = errors.New("the update failed and the previous program could not be put back")
)

// Refusal wraps a precise sentinel in ErrRefused with a safe message.
type Refusal struct {
	Kind error  // one of the sentinels above
	Msg  string // what happened, safe to show
}

func (r *Refusal) Error() string { return "update refused: " + r.Msg }

// Is makes errors.Is(err, ErrRefused) and errors.Is(err, r.Kind) true.
func (r *Refusal) Is(target error) bool { return target == ErrRefused || target == r.Kind }

// Refuse builds a Refusal; the message should say what to do next when it can.
func Refuse(kind error, format string, args ...any) error {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Version is a release version MAJOR.MINOR.PATCH (a leading "v" is accepted).
type Version struct{ Major, Minor, Patch int }

var number = regexp.MustCompile(`^(0|[1-9][0-9]{0,6})$`)

// ParseVersion parses "1.2.3" or "v1.2.3"; pre-release and build suffixes
// are not release versions and are refused.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH: %w", s, ErrUnknownVersion)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || !number.MatchString(p) {
			return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH: %w", s, ErrUnknownVersion)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// IsZero reports whether no version is set.
func (v Version) IsZero() bool { return v == Version{} }

// Compare returns -1, 0 or 1 as v is lower than, equal to or higher than w.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}

// Platform is this build's platform name as releases use it: GOOS-GOARCH.
func Platform() string { return runtime.GOOS + "-" + runtime.GOARCH }

// TargetPath names a release binary in the repository:
// <product>/<version>/<platform>.
func TargetPath(product string, v Version, platform string) string {
	return product + "/" + v.String() + "/" + platform
}

// Custom is the custom data each target carries, signed with the targets.
type Custom struct {
	Version  string `json:"version"`
	Product  string `json:"product"`
	Platform string `json:"platform"`
	Security bool   `json:"security"`
	Notes    string `json:"notes,omitempty"`
}

// Available is the newest release for this product and platform that is
// newer than the running one. Found is false when there is none.
type Available struct {
	Found    bool
	Version  Version
	Security bool   // a security release: show it prominently, with its notes (S16)
	Notes    string // release notes, plain text: show as text, never as markup
	Size     int64  // bytes to download
	Target   string // the TUF target path
}

// Policy is the administrator's choice for installing updates.
type Policy string

const (
	// PolicyAsk shows every update and installs it when a user agrees.
	PolicyAsk Policy = "ask"
	// PolicyAutoSecurity installs security releases without asking and
	// asks for the others.
	PolicyAutoSecurity Policy = "auto-security"
)

// ParsePolicy accepts "ask" and "auto-security".
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyAsk, PolicyAutoSecurity:
		return p, nil
	}
	return "", fmt.Errorf("update policy %q: want %q or %q", s, PolicyAsk, PolicyAutoSecurity)
}

// AutoInstall reports whether a is to be installed without asking.
func (p Policy) AutoInstall(a Available) bool {
	return a.Found && a.Security && p == PolicyAutoSecurity
}

// Status is what the admin view shows.
type Status struct {
	Running       string    // the running version as built
	Highest       string    // the highest version ever installed here ("" when none)
	Repository    string    // where updates come from
	LastRefreshed time.Time // the last time metadata was verified (zero: never)
	Expires       time.Time // when the trusted timestamp expires (zero: never refreshed)
	Expired       bool      // the trusted metadata has expired: the repository must be refreshed
}

// CheckInterval is how often the app checks when online (at start, then daily).
const CheckInterval = 24 * time.Hour
