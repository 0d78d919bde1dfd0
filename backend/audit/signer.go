package audit

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io"
)

// SignDomainPrefix starts every message the device key signs besides
// checkpoints (CheckpointDomain), so a signature made for one protocol
// can never pass as another's.
const SignDomainPrefix = "outpost-"

// DeviceSigner signs with the device's key inside the vault, for the sync
// protocol (the server knows the device by the same public key that
// verifies its audit checkpoints). The private key is read for each
// signature and wiped after; it never leaves this package. Only messages
// that start with SignDomainPrefix and are not checkpoints are signed.
type DeviceSigner struct {
	DB  *sql.DB
	pub ed25519.PublicKey
}

// NewDeviceSigner reads the public key once.
func NewDeviceSigner(ctx context.Context, db *sql.DB) (*DeviceSigner, error) {
	_, pub, err := PublicKey(ctx, db)
	if err != nil {
		return nil, err
	}
	return &DeviceSigner{DB: db, pub: pub}, nil
}

// Public returns the device's public key.
func (d *DeviceSigner) Public() crypto.PublicKey { return d.pub }

// Sign signs msg (Ed25519: opts must be crypto.Hash(0)).
func (d *DeviceSigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != crypto.Hash(0) {
		return nil, errors.New("device key: Ed25519 signs the message itself")
	}
	if len(msg) < len(SignDomainPrefix) || string(msg[:len(SignDomainPrefix)]) != SignDomainPrefix ||
		(len(msg) >= len(CheckpointDomain) && string(msg[:len(CheckpointDomain)]) == CheckpointDomain) {
		return nil, errors.New("device key: refusing to sign a message outside the sync protocol")
	}
	var seed []byte
	if err := d.DB.QueryRowContext(context.Background(), "SELECT private_key FROM audit_key WHERE id = 1").Scan(&seed); err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("device key: damaged")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	defer clear(priv)
	return ed25519.Sign(priv, msg), nil
}
