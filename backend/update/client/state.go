package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// state is the client's persisted state: the highest version ever
// installed (rollback protection beyond TUF's own) and the freshness of
// the trusted metadata.
type state struct {
	Highest       string    `json:"highest,omitempty"`
	LastRefreshed time.Time `json:"last_refreshed,omitzero"`
	Expires       time.Time `json:"expires,omitzero"`
	Repository    string    `json:"repository,omitempty"`
}

const stateFile = "state.json"

func (c *Client) loadState() (state, error) {
	var s state
	raw, err := os.ReadFile(filepath.Join(c.cfg.StateDir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read update state: %w", err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("update state is damaged: %w", err)
	}
	return s, nil
}

// saveState changes the state atomically (temp file, fsync, rename).
func (c *Client) saveState(change func(*state)) error {
	s, err := c.loadState()
	if err != nil {
		return err
	}
	change(&s)
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.cfg.StateDir, ".state-*")
	if err != nil {
		return fmt.Errorf("write update state: %w", err)
	}
	_, werr := f.Write(raw)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write update state: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(c.cfg.StateDir, stateFile)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write update state: %w", err)
	}
	return nil
}
