package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sijill/sijill/archive"
)

// TestThreadWithoutIndex: a server without a search index finds the records
// pointing at a record by reading the registers of its year and the next, in
// both directions, and hides confidential ones from readers.
func TestThreadWithoutIndex(t *testing.T) {
	s := newAdminSite(t)
	ctx := context.Background()
	mk := func(reg archive.Register, f archive.Fields) string {
		t.Helper()
		rec, _, err := s.store.Create(ctx, "secretary", reg, f, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	str := func(v string) *string { return &v }
	letter := mk(archive.Incoming, archive.Fields{Subject: str("طلب")})
	answer := mk(archive.Outgoing, archive.Fields{Subject: str("جواب"), InReplyTo: str(letter)})
	follow := mk(archive.Incoming, archive.Fields{Subject: str("تعقيب على الجواب"), InReplyTo: str(answer)})
	secret := mk(archive.Outgoing, archive.Fields{Subject: str("سري"), Refs: &[]string{letter}, Confidentiality: str(archive.Confidential)})
	alone := mk(archive.Incoming, archive.Fields{Subject: str("لا صلة")})

	thread := func(role, id string) []string {
		t.Helper()
		req := httptest.NewRequest("GET", "http://sijill.test/api/v1/records/"+id+"/thread", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[role])
		resp, err := s.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("thread of %s as %s: %d %s", id, role, resp.StatusCode, b)
		}
		var tv struct{ Records []struct{ ID string } }
		if err := json.Unmarshal(b, &tv); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range tv.Records {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	tests := []struct {
		role, id string
		want     []string
	}{
		{archive.RoleSecretary, letter, sorted(letter, answer, follow, secret)},
		{archive.RoleSecretary, follow, sorted(letter, answer, follow, secret)},
		{archive.RoleReader, letter, sorted(letter, answer, follow)},
		{archive.RoleReader, follow, sorted(letter, answer, follow)},
		{archive.RoleReader, alone, []string{alone}},
	}
	for _, tc := range tests {
		if got := thread(tc.role, tc.id); !slices.Equal(got, tc.want) {
			t.Errorf("thread of %s as %s = %v, want %v", tc.id, tc.role, got, tc.want)
		}
	}
}
