package seal

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Files sealed under a passphrase or a one-time code (a sealed audit copy
// for removable media, an enrollment package for a new laptop): a JSON
// header line naming the format, the argon2id costs, salt and nonce, then
// XChaCha20-Poly1305 ciphertext with the header line as associated data,
// so a header changed to weaken the costs does not open.

// Costs are the argon2id costs that turn a passphrase into a key.
type Costs struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultCosts cost about as much as the vault's passphrase key file.
var DefaultCosts = Costs{Memory: 64 * 1024, Time: 3, Threads: 2}

type fileHeader struct {
	Format  string `json:"format"`
	KDF     string `json:"kdf"`
	Memory  uint32 `json:"m"`
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
	Salt    string `json:"salt"`
	Nonce   string `json:"nonce"`
}

// ErrFile is returned for every file that does not open: another format,
// the wrong passphrase, a changed byte, costs out of bounds.
var ErrFile = errors.New("seal: not such a file, or the wrong passphrase")

// WithPassphrase seals plain as a file of format under passphrase.
func WithPassphrase(format string, plain []byte, passphrase string, c Costs, rnd io.Reader, w io.Writer) error {
	salt := make([]byte, 16)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	line, err := json.Marshal(fileHeader{Format: format, KDF: "argon2id", Memory: c.Memory, Time: c.Time, Threads: c.Threads,
		Salt: base64.StdEncoding.EncodeToString(salt), Nonce: base64.StdEncoding.EncodeToString(nonce)})
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	aead, err := chacha20poly1305.NewX(argon2.IDKey([]byte(passphrase), salt, c.Time, c.Memory, c.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(append(append(line, '\n'), aead.Seal(nil, nonce, plain, line)...)); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return nil
}

// OpenPassphrase opens a file of format sealed by WithPassphrase, reading
// at most max bytes.
func OpenPassphrase(format string, r io.Reader, passphrase string, max int64) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, max+1))
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, ErrFile
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	var h fileHeader
	if err := json.Unmarshal(line, &h); err != nil || h.Format != format || h.KDF != "argon2id" {
		return nil, ErrFile
	}
	// Refuse costs no sealer of ours writes, which a crafted file could use
	// to exhaust memory or time.
	if h.Memory < 8 || h.Memory > 1<<20 || h.Time < 1 || h.Time > 16 || h.Threads < 1 || h.Threads > 16 {
		return nil, ErrFile
	}
	salt, err1 := base64.StdEncoding.DecodeString(h.Salt)
	nonce, err2 := base64.StdEncoding.DecodeString(h.Nonce)
	if err1 != nil || err2 != nil || len(salt) < 16 || len(nonce) != chacha20poly1305.NonceSizeX {
		return nil, ErrFile
	}
	sealed, err := io.ReadAll(br)
	if err != nil || int64(len(line)+1+len(sealed)) > max {
		return nil, fmt.Errorf("%w: the file is larger than expected", ErrFile)
	}
	aead, err := chacha20poly1305.NewX(argon2.IDKey([]byte(passphrase), salt, h.Time, h.Memory, h.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return nil, ErrFile
	}
	plain, err := aead.Open(nil, nonce, sealed, line)
	if err != nil {
		return nil, ErrFile
	}
	return plain, nil
}
