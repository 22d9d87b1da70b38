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
//
// Every record the API or the pages show goes through it.
func (s *Server) redacted(ctx context.Context, u *archive.User, recs ...*archive.Record) ([]*archive.Record, error) {
	audit := archive.Can(u.Role, archive.PermAudit)
	hidden := map[string]bool{}
	if !archive.Can(u.Role, archive.PermConfidential) {
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
	return out[0], nil
}
