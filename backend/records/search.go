package records

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/phonetic"
)

// Hit is one patient found by a search.
type Hit struct {
	ID             string
	ClinicNo       string
	Family         string
	Given          string
	Other          string
	Sex            string
	BirthDate      string
	BirthEstimated bool
	Village        string
	Match          string // what matched: name, phonetic, clinic number, national id, birth year
	Restricted     bool

	rank    int // lower is better
	field   int
	word    string // the name word that matched, for ranking
	sortKey string
}

// Match kinds, best first.
const (
	MatchClinicNo   = "clinic number"
	MatchNationalID = "national id"
	MatchName       = "name"
	MatchPhonetic   = "phonetic"
	MatchBirthYear  = "birth year"
)

// Ranks: an identifier beats an exact name, which beats a name prefix,
// which beats a name that only sounds alike.
const (
	rankID = iota
	rankExact
	rankPrefix
	rankSound
)

const (
	maxQuery       = 200
	maxTerms       = 6
	singleTermScan = 2    // rows read for a one-word query, per hit wanted
	multiTermScan  = 2000 // candidates read for the most selective word
	minSoundLen    = 3    // shorter words are matched by prefix only
)

var (
	clinicNoRE = regexp.MustCompile(`^[0-9A-Za-z]{3}-[0-9]{1,9}$`)
	yearRE     = regexp.MustCompile(`^(18|19|20)[0-9]{2}$`)
)

const hitColumns = `p.record_id, p.clinic_no, p.family, p.given, p.other, p.sex, p.birth_date, p.birth_estimated,
	p.village, p.sort_key, p.birth_year, p.restricted_by <> ''`

// SearchPatients audits the search (without its text, which may hold a
// name) and returns the best hits, at most limit.
func (s *Store) SearchPatients(ctx context.Context, a Actor, query string, limit int) ([]Hit, error) {
	hits, err := s.FindPatients(ctx, query, limit)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Audit.Record(ctx, s.w, audit.Event{
		Username: a.Username, Roles: a.Roles, Session: a.Session, Action: "patient.search", Outcome: audit.Success,
		Detail: "hits " + strconv.Itoa(len(hits)),
	}); err != nil {
		return nil, ehr.Wrap(ehr.EInternal, "The search could not be recorded in the audit log, so it was refused. Tell your administrator.", err)
	}
	return hits, nil
}

// FindPatients runs a search without auditing it; SearchPatients is the
// audited entry point. A query is words: a clinic number (K7Q-00042), a
// national id (any word with a digit), a birth year (1982) and name words,
// each matched by prefix and by sound; every word must match.
func (s *Store) FindPatients(ctx context.Context, query string, limit int) ([]Hit, error) {
	if len(query) > maxQuery {
		query = query[:maxQuery]
	}
	var names, ids []string
	year := 0
	for _, part := range strings.Fields(query) {
		switch {
		case clinicNoRE.MatchString(part):
			ids = append(ids, strings.ToUpper(part))
		case yearRE.MatchString(part):
			year, _ = strconv.Atoi(part)
		case strings.ContainsAny(part, "0123456789"):
			ids = append(ids, part)
		default:
			names = append(names, phonetic.Tokens(part)...)
		}
	}
	if len(names) > maxTerms {
		names = names[:maxTerms]
	}
	var hits []Hit
	var err error
	switch {
	case len(ids) > 0:
		hits, err = s.findByID(ctx, ids)
	case len(names) > 0:
		hits, err = s.findByName(ctx, names, limit, year > 0)
	case year > 0:
		return s.findByYear(ctx, year, limit)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if year > 0 {
		kept := hits[:0]
		for _, h := range hits {
			if h.BirthDate != "" && strings.HasPrefix(h.BirthDate, strconv.Itoa(year)) {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.word, b.word), cmp.Compare(a.sortKey, b.sortKey),
			cmp.Compare(a.field, b.field), cmp.Compare(a.ID, b.ID))
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

func scanHits(rows *sql.Rows, fn func(h Hit, year int)) error {
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var year int
		if err := rows.Scan(&h.ID, &h.ClinicNo, &h.Family, &h.Given, &h.Other, &h.Sex, &h.BirthDate, &h.BirthEstimated,
			&h.Village, &h.sortKey, &year, &h.Restricted); err != nil {
			return err
		}
		fn(h, year)
	}
	return rows.Err()
}

func (s *Store) findByID(ctx context.Context, ids []string) ([]Hit, error) {
	seen := map[string]bool{}
	var hits []Hit
	add := func(match string) func(Hit, int) {
		return func(h Hit, _ int) {
			if !seen[h.ID] {
				seen[h.ID] = true
				h.Match, h.rank = match, rankID
				hits = append(hits, h)
			}
		}
	}
	for _, id := range ids {
		rows, err := s.r.QueryContext(ctx, "SELECT "+hitColumns+" FROM patients p WHERE p.clinic_no = ? AND p.deleted = 0", strings.ToUpper(id))
		if err != nil {
			return nil, err
		}
		if err := scanHits(rows, add(MatchClinicNo)); err != nil {
			return nil, err
		}
		norm := ehr.NormalizeNationalID(id)
		if norm == "" {
			continue
		}
		rows, err = s.r.QueryContext(ctx, "SELECT "+hitColumns+" FROM patients p WHERE p.national_id_norm = ? AND p.deleted = 0", norm)
		if err != nil {
			return nil, err
		}
		if err := scanHits(rows, add(MatchNationalID)); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

func (s *Store) findByYear(ctx context.Context, year, limit int) ([]Hit, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+hitColumns+" FROM patients p WHERE p.birth_year = ? AND p.deleted = 0 ORDER BY p.sort_key LIMIT ?", year, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	var hits []Hit
	err = scanHits(rows, func(h Hit, _ int) {
		h.Match, h.rank = MatchBirthYear, rankID
		hits = append(hits, h)
	})
	return hits, err
}

// findByName finds the candidates of the longest (most selective) word by
// prefix and by sound, then keeps those whose names also match every
// other word.
//
// Ranking: exact word, then prefix, then sound-alike; within each, the
// matched word alphabetically, then the patient's name. Name words are
// indexed in that order, so a one-word query reads only about twice as
// many rows as it returns (a patient can match on two words), and skips
// the sound-alike lookup when prefixes already fill the page.
func (s *Store) findByName(ctx context.Context, terms []string, limit int, filtered bool) ([]Hit, error) {
	driver := terms[0]
	for _, t := range terms[1:] {
		if len(t) > len(driver) {
			driver = t
		}
	}
	single := len(terms) == 1 && !filtered
	scan := singleTermScan * limit
	if !single {
		scan = multiTermScan
	}
	best := map[string]Hit{}
	keep := func(h Hit) {
		if old, ok := best[h.ID]; !ok || h.rank < old.rank || (h.rank == old.rank && h.word < old.word) {
			best[h.ID] = h
		}
	}
	rows, err := s.hot.QueryContext(ctx, `SELECT `+hitColumns+`, w.word, w.field FROM patient_words w
		JOIN patients p ON p.record_id = w.record_id
		WHERE w.word >= ? AND w.word < ? AND p.deleted = 0 ORDER BY w.word, w.sort_key LIMIT ?`, driver, driver+"\U0010ffff", scan)
	if err != nil {
		return nil, err
	}
	if err := scanWordHits(rows, func(h Hit, word string) {
		h.Match, h.rank, h.word = MatchName, rankPrefix, word
		if word == driver {
			h.rank = rankExact
		}
		keep(h)
	}); err != nil {
		return nil, err
	}
	if len(driver) >= minSoundLen && !(single && len(best) >= limit) {
		for _, k := range phonetic.Keys(driver) {
			rows, err := s.hot.QueryContext(ctx, `SELECT `+hitColumns+`, '', w.field FROM patient_sounds w
				JOIN patients p ON p.record_id = w.record_id
				WHERE w.code = ? AND p.deleted = 0 LIMIT ?`, k, scan)
			if err != nil {
				return nil, err
			}
			if err := scanWordHits(rows, func(h Hit, _ string) {
				h.Match, h.rank = MatchPhonetic, rankSound
				keep(h)
			}); err != nil {
				return nil, err
			}
		}
	}
	hits := make([]Hit, 0, len(best))
	for _, h := range best {
		if len(terms) > 1 {
			rank, ok := matchAll(h, terms, driver)
			if !ok {
				continue
			}
			if rank > h.rank {
				h.rank = rank
				if rank == rankSound {
					h.Match = MatchPhonetic
				}
			}
		}
		hits = append(hits, h)
	}
	return hits, nil
}

func scanWordHits(rows *sql.Rows, fn func(h Hit, word string)) error {
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var year int
		var word string
		if err := rows.Scan(&h.ID, &h.ClinicNo, &h.Family, &h.Given, &h.Other, &h.Sex, &h.BirthDate, &h.BirthEstimated,
			&h.Village, &h.sortKey, &year, &h.Restricted, &word, &h.field); err != nil {
			return err
		}
		fn(h, word)
	}
	return rows.Err()
}

// matchAll reports whether every term other than the driver matches a
// word of h's names, and the worst rank among those matches.
func matchAll(h Hit, terms []string, driver string) (int, bool) {
	words := phonetic.Tokens(h.Family + " " + h.Given + " " + h.Other)
	worst := rankExact
	skipped := false
	for _, t := range terms {
		if t == driver && !skipped {
			skipped = true
			continue
		}
		r := bestRank(t, words)
		if r < 0 {
			return 0, false
		}
		if r > worst {
			worst = r
		}
	}
	return worst, true
}

func bestRank(term string, words []string) int {
	best := -1
	for _, w := range words {
		r := -1
		switch {
		case w == term:
			r = rankExact
		case strings.HasPrefix(w, term):
			r = rankPrefix
		case len(term) >= minSoundLen && soundsAlike(term, w):
			r = rankSound
		}
		if r >= 0 && (best < 0 || r < best) {
			best = r
		}
	}
	return best
}

func soundsAlike(a, b string) bool {
	for _, ka := range phonetic.Keys(a) {
		for _, kb := range phonetic.Keys(b) {
			if ka == kb {
				return true
			}
		}
	}
	return false
}
