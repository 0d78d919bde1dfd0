package vault

import (
	"errors"

	"outpost/backend/ehr"
)

// Sentinels that callers branch on. Each reaches callers wrapped in an
// *ehr.Error whose message says what to do.
var (
	ErrNoVault        = errors.New("no vault")
	ErrExists         = errors.New("vault exists")
	ErrNoKeyring      = errors.New("no usable keyring")
	ErrKeyMissing     = errors.New("vault key missing")
	ErrWrongKey       = errors.New("wrong vault key")
	ErrNeedPassphrase = errors.New("vault needs passphrase")
	ErrPassphrase     = errors.New("wrong passphrase")
	ErrTruncated      = errors.New("vault file truncated")
	ErrCorrupt        = errors.New("vault file damaged")
	ErrSchemaNewer    = errors.New("vault schema newer than this program")
	ErrUnreadable     = errors.New("vault files unreadable")
)

func code(sentinel error) string {
	switch sentinel {
	case ErrNoKeyring, ErrKeyMissing:
		return ehr.EKeyring
	case ErrPassphrase:
		return ehr.EAuth
	}
	return ehr.EVault
}

func fail(sentinel error, msg string) error {
	return &ehr.Error{Code: code(sentinel), Message: msg, Err: sentinel}
}

func failWrap(sentinel error, msg string, cause error) error {
	return &ehr.Error{Code: code(sentinel), Message: msg, Err: errors.Join(sentinel, cause)}
}
