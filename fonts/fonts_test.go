package fonts

import (
	"strings"
	"testing"
)

func TestCoverage(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttf  []byte
	}{{"regular", AmiriRegular}, {"bold", AmiriBold}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCoverage(tc.ttf)
			if err != nil {
				t.Fatal(err)
			}
			// Presentation forms, lam-alef, harakat, Latin, digits, punctuation, guillemets.
			for _, r := range "\uFE8D\uFE91\uFE92\uFE90\uFEFB\uFEFC\u064E\u0651abcXYZ0123456789/-()«»٠١٢٣٤٥٦٧٨٩،؛؟" {
				if !c.Has(r) {
					t.Errorf("%s lacks U+%04X %q", tc.name, r, r)
				}
			}
			if c.Has('\U0001F600') || c.Has('中') {
				t.Errorf("%s claims an emoji it does not have", tc.name)
			}
		})
	}
	if !strings.Contains(License, "SIL OPEN FONT LICENSE Version 1.1") || !strings.Contains(License, "Khaled Hosny") {
		t.Error("OFL.txt is not the Amiri licence")
	}
}
