package extract

import "testing"

// TestDistinct: the doubted words a child reader sends back are each sent
// once, and no more than the corrector tries.
func TestDistinct(t *testing.T) {
	var many []string
	for i := range 3 * maxTried {
		many = append(many, string(rune('a'+i%26))+string(rune(0x0627+i/26%20))+string(rune(0x0628+i/520)))
	}
	for _, tc := range []struct {
		in   []string
		want int
	}{
		{nil, 0},
		{[]string{"حزب", "حزب", "لجنة"}, 2},
		{many, maxTried},
	} {
		got := distinct(tc.in, maxTried)
		seen := map[string]bool{}
		for _, w := range got {
			if seen[w] {
				t.Fatalf("%q twice", w)
			}
			seen[w] = true
		}
		if len(got) != tc.want {
			t.Errorf("%d words, want %d", len(got), tc.want)
		}
	}
}
