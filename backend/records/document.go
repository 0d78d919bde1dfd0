package records

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"outpost/backend/ehr"
)

// Documents is the document kind: the record holds the description, the
// bytes are a blob in the vault.
var Documents = Kind[ehr.Document]{
	Name:     ehr.KindDocument,
	Validate: func(d *ehr.Document, now time.Time) error { return d.Validate(now) },
	Body:     ehr.DocumentBody,
	Parse:    ehr.ParseDocumentBody,
	Patient:  func(d ehr.Document) string { return d.PatientID },
	Facts:    func(d ehr.Document) Facts { return Facts{Status: "current", At: sortTime(d.Created)} },
}

func init() { projectors[ehr.KindDocument] = projectorOf(Documents) }

// AddDocument stores a document's bytes and its record in one transaction.
// The type comes from the content (PDF, PNG, JPEG), never from a name; the
// size is limited; nothing is written to the file system (P5, S9).
func (s *Store) AddDocument(ctx context.Context, a Actor, patientID, title string, data []byte) (Item[ehr.Document], error) {
	sum := sha256.Sum256(data)
	d := ehr.Document{PatientID: patientID, Title: title, ContentType: ehr.SniffDocument(data), Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Created: s.cfg.Now().UTC().Format(time.RFC3339)}
	if len(data) > ehr.MaxDocument {
		d.Size = int64(len(data)) // Validate names the limit
	}
	if err := d.Validate(s.cfg.Now()); err != nil {
		return Item[ehr.Document]{}, err
	}
	id, err := s.ids.New()
	if err != nil {
		return Item[ehr.Document]{}, err
	}
	var item Item[ehr.Document]
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM patients WHERE record_id = ? AND deleted = 0", patientID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"patientId": "No such patient."}}
		}
		if err := s.checkAccess(ctx, tx, a, patientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)", d.SHA256, d.Size, data); err != nil {
			return fmt.Errorf("store document bytes: %w", err)
		}
		body, err := ehr.DocumentBody(id, d)
		if err != nil {
			return err
		}
		ver, err := s.newVersion(a, ehr.KindDocument, id, nil, "added", body)
		if err != nil {
			return err
		}
		if err := s.put(ctx, tx, a, ver, "document.create", patientID); err != nil {
			return err
		}
		if err := projectChart(ctx, tx, ver, patientID, Documents.Facts(d)); err != nil {
			return err
		}
		item = Item[ehr.Document]{ID: id, VersionID: ver.VersionID, Value: d, HLC: ver.HLC, Author: ver.Author}
		return nil
	})
	if err != nil {
		return Item[ehr.Document]{}, fmt.Errorf("add document: %w", err)
	}
	return item, nil
}

// DocumentData returns a document's description and bytes, audited, after
// checking the bytes against their recorded hash.
func (s *Store) DocumentData(ctx context.Context, a Actor, id string) (ehr.Document, []byte, error) {
	it, err := Get(ctx, s, a, Documents, id)
	if err != nil {
		return ehr.Document{}, nil, err
	}
	var data []byte
	err = s.r.QueryRowContext(ctx, "SELECT data FROM blobs WHERE sha256 = ?", it.Value.SHA256).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return ehr.Document{}, nil, ehr.Errorf(ehr.ENotFound, "The document's content is not on this computer yet.")
	}
	if err != nil {
		return ehr.Document{}, nil, fmt.Errorf("read document: %w", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != it.Value.SHA256 {
		return ehr.Document{}, nil, ehr.Errorf(ehr.EVault, "The document's content does not match its checksum.")
	}
	return it.Value, data, nil
}
