package archive_test

import (
	"testing"

	"github.com/sijill/sijill/archive"
)

// TestRefID: a reference typed as a secretary writes it becomes the entry's ID.
func TestRefID(t *testing.T) {
	for _, tc := range []struct {
		reg      archive.Register
		in, want string
	}{
		{archive.Incoming, "1/2026", "incoming-2026-1"},
		{archive.Incoming, "١/٢٠٢٦", "incoming-2026-1"},
		{archive.Incoming, " 12 / 2026 ", "incoming-2026-12"},
		{archive.Incoming, "۰۱۲/۲۰۲۶", "incoming-2026-12"},
		{archive.Minutes, "3/2025", "minutes-2025-3"},
		{archive.Incoming, "\u200f١٢/٢٠٢٦", "incoming-2026-12"},
		{archive.Incoming, "incoming-2026-4", "incoming-2026-4"},
		{archive.Incoming, "0/2026", "0/2026"},
		{archive.Incoming, "1/26", "1/26"},
		{archive.Incoming, "2026/1/1", "2026/1/1"},
		{archive.Incoming, "", ""},
	} {
		if got := tc.reg.RefID(tc.in); got != tc.want {
			t.Errorf("%s.RefID(%q) = %q, want %q", tc.reg, tc.in, got, tc.want)
		}
	}
}
