package render

//go:generate go run ./internal/gen -o tables.go

import "sort"

// joiningType is the Unicode Joining_Type of a character (ArabicShaping.txt).
type joiningType uint8

const (
	joinU joiningType = iota // non-joining
	joinR                    // right-joining: joins to the preceding letter only
	joinL                    // left-joining: joins to the following letter only
	joinD                    // dual-joining
	joinC                    // join-causing (tatweel, ZWJ)
	joinT                    // transparent (harakat): skipped when deciding joins
)

type joiningRange struct {
	lo, hi rune
	t      joiningType
}

func joining(r rune) joiningType {
	i := sort.Search(len(joiningRanges), func(i int) bool { return joiningRanges[i].hi >= r })
	if i < len(joiningRanges) && joiningRanges[i].lo <= r {
		return joiningRanges[i].t
	}
	return joinU
}

// joinsNext reports whether a letter of type t connects to the letter after it
// (to its left on the page).
func (t joiningType) joinsNext() bool { return t == joinD || t == joinL || t == joinC }

// joinsPrev reports whether a letter of type t connects to the letter before it.
func (t joiningType) joinsPrev() bool { return t == joinD || t == joinR || t == joinC }

const lam = 0x0644

// shape replaces Arabic letters by the presentation form their neighbours call
// for (isolated, final, initial, medial) and lam followed by an alef by the
// lam-alef ligature, in logical order. Harakat and other transparent marks are
// kept and do not break the joins around them. Fonts without OpenType shaping
// (as fpdf uses them) then draw joined script. dst is reused.
func shape(dst, src []rune) []rune {
	dst = dst[:0]
	n := len(src)
	// prevJoins: the last non-transparent letter before i joins towards i's side.
	prevJoins := false
	for i := 0; i < n; i++ {
		r := src[i]
		t := joining(r)
		if t == joinT {
			dst = append(dst, r)
			continue
		}
		// next non-transparent character
		j := i + 1
		for j < n && joining(src[j]) == joinT {
			j++
		}
		if r == lam && j < n {
			if lig, ok := lamAlef[src[j]]; ok {
				form := lig[0]
				if prevJoins {
					form = lig[1]
				}
				dst = append(dst, form)
				dst = append(dst, src[i+1:j]...) // marks on the lam
				i = j                            // the alef is part of the ligature
				prevJoins = false                // alef never joins what follows
				continue
			}
		}
		toPrev := prevJoins && t.joinsPrev()
		toNext := t.joinsNext() && j < n && joining(src[j]).joinsPrev()
		forms, ok := presentationForms[r]
		out := r
		if ok && t != joinU { // non-joining letters (hamza) keep their nominal form
			var f rune
			switch {
			case toPrev && toNext:
				f = forms[3]
				if f == 0 {
					f = forms[1]
				}
			case toPrev:
				f = forms[1]
			case toNext:
				f = forms[2]
			default:
				f = forms[0]
			}
			if f != 0 {
				out = f
			}
		}
		dst = append(dst, out)
		prevJoins = t.joinsNext()
	}
	return dst
}
