package render

import (
	"testing"
	"time"
)

func TestHijri(t *testing.T) {
	// Reference dates of the tabular civil calendar (ICU's "islamic-civil");
	// Umm al-Qura gives 1442/4/22 for 2020-12-07, a day later, as expected.
	for _, tc := range []struct {
		g       string
		y, m, d int
	}{
		{"0622-07-19", 1, 1, 1},
		{"2020-12-07", 1442, 4, 21},
		{"2023-07-19", 1445, 1, 1},
		{"2024-03-11", 1445, 9, 1},
		{"2000-01-01", 1420, 9, 24},
	} {
		g, err := time.Parse(time.DateOnly, tc.g)
		if err != nil {
			t.Fatal(err)
		}
		y, m, d := hijri(g)
		if y != tc.y || m != tc.m || d != tc.d {
			t.Errorf("hijri(%s) = %d/%d/%d, want %d/%d/%d", tc.g, y, m, d, tc.y, tc.m, tc.d)
		}
	}
}

// TestHijriRoundTrip checks every day from 1900 to 2100 against the closed
// formula of Reingold & Dershowitz (fixed-from-islamic), an independent derivation.
func TestHijriRoundTrip(t *testing.T) {
	epoch := julianDay(622, 7, 19)
	fixed := func(y, m, d int) int {
		return d + 29*(m-1) + (6*m-1)/11 + (y-1)*354 + (3+11*y)/30 + epoch - 1
	}
	day := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	for ; day.Year() < 2100; day = day.AddDate(0, 0, 1) {
		y, m, d := hijri(day)
		if got, want := fixed(y, m, d), julianDay(day.Year(), int(day.Month()), day.Day()); got != want {
			t.Fatalf("hijri(%s) = %d/%d/%d, which is JDN %d, not %d", day.Format(time.DateOnly), y, m, d, got, want)
		}
	}
}
