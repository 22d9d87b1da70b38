package web

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// duplicateWindow is how far back a new incoming letter is compared with
// the entries already registered: a letter registered twice is usually
// registered twice within days (two clerks, or a copy that came by post
// after the fax), and a letter sent again months later is a new letter.
const duplicateWindow = 183 * 24 * time.Hour

// duplicateError refuses a registration that seems to register Match again,
// until the secretary confirms it (confirm_duplicate).
type duplicateError struct{ Match *archive.Record }

func (e *duplicateError) Error() string {
	return "web: the letter may be registered already as " + e.Match.ID
}

// possibleDuplicate returns an incoming entry of the last months that f seems
// to register again — the same sender and sender's reference, or the same
// subject and letter date — among the entries u may see, or nil. The index
// finds the candidates by the reference or the subject as a phrase; the
// comparison is then made on the stored records, ignoring spacing, case and
// the kind of digits (a reference typed ق/٢٠٢٤/١١٧ once and ق/2024/117 the
// next time is the same reference). Without an index nothing is compared.
func (s *Server) possibleDuplicate(ctx context.Context, u *archive.User, f archive.Fields) (*archive.Record, error) {
	if s.index == nil {
		return nil, nil
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return sameText(*p)
	}
	from, ref, subject, date := val(f.From), val(f.Reference), val(f.Subject), val(f.ReferenceDate)
	since := s.store.Now().Add(-duplicateWindow)
	type probe struct {
		phrase string
		// likely is a first look at a hit, so that only likely ones are
		// read from storage; same decides on the stored record.
		likely func(index.Hit) bool
		same   func(*archive.Record) bool
	}
	var probes []probe
	if from != "" && ref != "" {
		probes = append(probes, probe{ref, func(h index.Hit) bool { return sameText(h.From) == from }, func(r *archive.Record) bool {
			return sameText(r.From) == from && sameText(r.Reference) == ref
		}})
	}
	if subject != "" && date != "" {
		probes = append(probes, probe{subject, func(h index.Hit) bool { return sameText(h.Subject) == subject }, func(r *archive.Record) bool {
			return sameText(r.Subject) == subject && r.ReferenceDate == date
		}})
	}
	for _, p := range probes {
		res, err := s.index.Search(ctx, index.Query{Text: `"` + strings.ReplaceAll(p.phrase, `"`, " ") + `"`,
			Register: string(archive.Incoming), Size: 20, SeeConfidential: archive.Can(u.Role, archive.PermConfidential)})
		if archive.ErrorCode(err) == archive.EINVALID {
			continue // a reference the query language cannot take as a phrase
		}
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			if !p.likely(h) {
				continue
			}
			rec, _, err := s.store.Get(ctx, h.ID)
			if err != nil {
				return nil, err
			}
			if rec.Status == archive.StatusActive && rec.CreatedAt.After(since) && canSee(u, rec) && p.same(rec) {
				return rec, nil
			}
		}
	}
	return nil, nil
}

// sameText is s as compared for duplicates: spaces collapsed, lower case,
// Eastern Arabic digits as Western ones, tatweel dropped.
func sameText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == 'ـ' {
			return -1
		}
		return unicode.ToLower(archive.LatinDigit(r))
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
