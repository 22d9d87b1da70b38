package web

import (
	"context"
	"slices"

	"github.com/sijill/sijill/archive"
)

// redacted returns copies of recs as u may see them. Two things a record
// holds are not everyone's:
//   - the chain's salt (archive.Chain): with it, the hash of the entry before
//     a public one could be matched against guesses about a confidential
//     entry. Only those who may audit see it; verification runs on the
//     server.
//   - links to records u may not see (in reply to, references, meeting):
//     their IDs alone say that a confidential letter was answered, or that a
//     decision came from a closed meeting. They are left out for u.
//   - the past of an entry that was confidential and is not any more: its
//     confidential versions (a history is passed through here too) and the
//     copy of its first registration (Registered) when that was
//     confidential.
//
// Every record the API or the pages show goes through it; records u may not
// see at all are dropped, so callers pass records already found visible.
func (s *Server) redacted(ctx context.Context, u *archive.User, recs ...*archive.Record) ([]*archive.Record, error) {
	audit := archive.Can(u.Role, archive.PermAudit)
	hidden := map[string]bool{}
	hideRegistered := map[string]bool{}
	if !archive.Can(u.Role, archive.PermConfidential) {
		recs = slices.DeleteFunc(slices.Clone(recs), func(r *archive.Record) bool { return !canSee(u, r) })
		var err error
		if hideRegistered, err = s.confidentialAtRegistration(ctx, recs); err != nil {
			return nil, err
		}
		var links []string
		for _, r := range recs {
			links = append(links, r.InReplyTo, r.Meeting)
			links = append(links, r.Refs...)
		}
		links = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(links))), func(id string) bool { return id == "" })
		if len(links) > 0 {
			found, err := s.store.GetMany(ctx, links)
			if err != nil {
				return nil, err
			}
			for _, id := range links {
				if r, ok := found[id]; ok && !canSee(u, r) {
					hidden[id] = true
				}
			}
		}
	}
	out := make([]*archive.Record, len(recs))
	for i, r := range recs {
		c := *r
		if !audit {
			c.Chain.Salt = ""
		}
		if hideRegistered[c.ID] {
			c.Registered = nil
		}
		if len(hidden) > 0 {
			if hidden[c.InReplyTo] {
				c.InReplyTo = ""
			}
			if hidden[c.Meeting] {
				c.Meeting = ""
			}
			c.Refs = slices.DeleteFunc(slices.Clone(c.Refs), func(id string) bool { return hidden[id] })
		}
		out[i] = &c
	}
	return out, nil
}

// redactedOne is redacted for one record.
func (s *Server) redactedOne(ctx context.Context, u *archive.User, rec *archive.Record) (*archive.Record, error) {
	out, err := s.redacted(ctx, u, rec)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, archive.Errorf(archive.ENOTFOUND, "no record %s", rec.ID)
	}
	return out[0], nil
}

// confidentialAtRegistration finds the records among recs whose first
// version was confidential though they are not now. Only a record whose
// registration copy says something its live fields do not needs its first
// version read, so a list of records never edited costs nothing.
func (s *Server) confidentialAtRegistration(ctx context.Context, recs []*archive.Record) (map[string]bool, error) {
	out := map[string]bool{}
	checked := map[string]bool{}
	for _, r := range recs {
		g := r.Registered
		if g == nil || r.Version <= 1 || checked[r.ID] || (g.Subject == r.Subject && g.From == r.From && g.To == r.To) {
			continue
		}
		checked[r.ID] = true
		hist, err := s.store.History(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if len(hist) > 0 && hist[0].Confidentiality == archive.Confidential {
			out[r.ID] = true
		}
	}
	return out, nil
}
