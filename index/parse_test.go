package index

import (
	"errors"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"لجنة", "لجنة"},
		{"لجنة مكتب", "(لجنة مكتب)"},
		{`"المجلس الوطني" 2020`, `("المجلس الوطني" 2020)`},
		{"«المجلس الوطني»", `"المجلس الوطني"`},
		{"“المجلس الوطني”", `"المجلس الوطني"`},
		{"لجنة OR مكتب", "(لجنة OR مكتب)"},
		{"لجنة مكتب OR مجلس", "((لجنة مكتب) OR مجلس)"},
		// Initials typed apart are one word (see joinInitials).
		{"أ ع/189/2025", "أ ع/189/2025"},
		{"أ.ع/189 لجنة", "(أ.ع/189 لجنة)"},
		{"و الحزب", "(و الحزب)"},
		{"لجنة -أ ع", "(لجنة -أ ع)"},
		{"أ -ع", "(أ -ع)"},
		{"أ* ع", "(أ* ع)"},
		{"الحزب -المجلس", "(الحزب -المجلس)"},
		{`الحزب -"المجلس الوطني"`, `(الحزب -"المجلس الوطني")`},
		{"الحزب -(أ OR ب)", "(الحزب -((أ OR ب)))"},
		{"تنظيم*", "تنظيم*"},
		{"(أ OR ب) ج", "((أ OR ب) ج)"},
		{"((أ))", "أ"},
		{"or", "or"},
		{"2017-2020", "2017-2020"},
		{"a - b", "(a - b)"},
		{"field:value^2~", "field:value^2~"},
		{"*", "*"},
	}
	for _, tc := range tests {
		n, err := parseQuery(tc.in)
		if err != nil {
			t.Errorf("parseQuery(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("parseQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct{ in, msg string }{
		{`"المجلس الوطني`, msgQuote},
		{`لجنة "`, msgQuote},
		{"«المجلس", msgQuote},
		{"(لجنة", msgOpenParen},
		{"(لجنة OR (مكتب)", msgOpenParen},
		{"لجنة)", msgCloseParen},
		{")لجنة", msgCloseParen},
		{"()", msgEmptyParen},
		{"لجنة ()", msgEmptyParen},
		{"OR", msgLoneOr},
		{"لجنة OR", msgLoneOr},
		{"OR لجنة", msgLoneOr},
		{"لجنة OR OR مكتب", msgLoneOr},
		{"(لجنة OR)", msgLoneOr},
		{"-لجنة", msgOnlyNegative},
		{"-لجنة -مكتب", msgOnlyNegative},
		{"مكتب OR -لجنة", msgOnlyNegative},
		{"(-لجنة) مكتب", msgOnlyNegative},
		{strings.Repeat("ا", 501), msgTooLong},
	}
	for _, tc := range tests {
		_, err := parseQuery(tc.in)
		var ae *archive.Error
		if !errors.As(err, &ae) || ae.Code != archive.EINVALID {
			t.Errorf("parseQuery(%q) error = %v, want an EINVALID *archive.Error", tc.in, err)
			continue
		}
		if ae.Message != tc.msg {
			t.Errorf("parseQuery(%q) message = %q, want %q", tc.in, ae.Message, tc.msg)
		}
	}
	if _, err := parseQuery(strings.Repeat("ا", 500)); err != nil {
		t.Errorf("a query of 500 characters is refused: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", `"a b" OR (c -d) e*`, "((", "))", `"`, "-", "--a", "OR OR", "-(a)", "(a OR b) -c*", "«a»", "“a", "a*b*", strings.Repeat("(", 300)} {
		f.Add(s)
	}
	ix := openTestIndex(f)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseQuery(s)
		if err != nil {
			if archive.ErrorCode(err) != archive.EINVALID {
				t.Fatalf("parseQuery(%q): %v is not EINVALID", s, err)
			}
			return
		}
		if n != nil {
			ix.compile(n, newMarks()) // must not panic
		}
	})
}
