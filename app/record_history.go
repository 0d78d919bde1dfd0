package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"outpost/backend/records"
)

// RecordVersion is one version of any record, with what changed.
type RecordVersion struct {
	VersionID string   `json:"versionId"`
	Kind      string   `json:"kind"`
	At        string   `json:"at"`
	Author    string   `json:"author"`
	Device    string   `json:"device"`
	Reason    string   `json:"reason"`
	Deleted   bool     `json:"deleted"`
	Changes   []Change `json:"changes"`
}

// RecordHistory returns every version of any record (a patient or a
// clinical record), newest first, each with who, when, why and a
// field-by-field diff against the version before (S29).
func (a *App) RecordHistory(id string) ([]RecordVersion, error) {
	c, err := a.begin("RecordHistory")
	if err != nil {
		return nil, err
	}
	versions, err := c.svc.Records.History(c.ctx, c.actor, id)
	if err != nil {
		return nil, problem(a.cfg.Log, "RecordHistory", err)
	}
	out := make([]RecordVersion, 0, len(versions))
	prev := map[string]string{}
	for _, v := range versions {
		val, err := records.Decode(v.Kind, v.Body)
		if err != nil {
			return nil, problem(a.cfg.Log, "RecordHistory", err)
		}
		cur := flatten(val)
		out = append(out, RecordVersion{VersionID: v.VersionID, Kind: v.Kind, At: v.HLC.Time().Format(time.RFC3339), Author: v.Author,
			Device: v.Device, Reason: v.Reason, Deleted: v.Deleted, Changes: diffFields(prev, cur)})
		prev = cur
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// flatten turns a value into field paths and display strings, through its
// JSON form: {"drug":{"text":"x"}} gives "drug.text": "x".
func flatten(v any) map[string]string {
	raw, _ := json.Marshal(v)
	var tree any
	json.Unmarshal(raw, &tree)
	out := map[string]string{}
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				walk(join(prefix, k), v)
			}
		case []any:
			for i, v := range t {
				walk(join(prefix, fmt.Sprint(i+1)), v)
			}
		case nil:
		case string:
			if t != "" {
				out[prefix] = t
			}
		case bool:
			if t {
				out[prefix] = "yes"
			}
		case float64:
			if t != 0 {
				out[prefix] = fmt.Sprint(t)
			}
		}
	}
	walk("", tree)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func diffFields(old, cur map[string]string) []Change {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	changes := []Change{}
	for _, k := range sorted {
		if old[k] != cur[k] {
			changes = append(changes, Change{Field: k, Label: label(k), Old: old[k], New: cur[k]})
		}
	}
	return changes
}

// label makes "drug.coding.1.display" read "Drug coding 1 display".
func label(path string) string {
	var b strings.Builder
	for i, r := range strings.ReplaceAll(path, ".", " ") {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
