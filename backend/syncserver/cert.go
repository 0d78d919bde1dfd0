package syncserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"time"

	"outpost/backend/syncproto"
)

// CertValidity is how long a self-signed certificate is valid. Devices
// pin the certificate by its fingerprint at enrollment rather than
// trusting a CA, and clinics may be offline for months: a long validity
// spares them an outage, and replacing the certificate means enrolling
// the devices again.
const CertValidity = 10 * 365 * 24 * time.Hour

// NewCertificate makes a self-signed ECDSA P-256 server certificate for
// hosts (DNS names or IP addresses) and returns it and its private key in
// PEM (the key as PKCS #8). rnd is crypto/rand when nil.
func NewCertificate(hosts []string, now time.Time, rnd io.Reader) (certPEM, keyPEM []byte, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if len(hosts) == 0 {
		return nil, nil, errors.New("certificate: no host names")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"Outpost clinic server"}},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(CertValidity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}

// LoadCertificate reads a PEM certificate chain and its key, checks that
// they belong together, and returns them with the fingerprint of the
// leaf (what devices pin).
func LoadCertificate(certPEM, keyPEM []byte) (tls.Certificate, string, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("certificate: %w", err)
	}
	cert.Leaf = leaf
	return cert, syncproto.Fingerprint(cert.Certificate[0]), nil
}

// Serve answers on ln, over TLS with cert only, until ctx ends; then it
// stops taking connections and lets requests under way finish (up to 30
// seconds).
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	hs := s.HTTPServer(cert)
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
