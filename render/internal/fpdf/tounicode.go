package fpdf

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// Sijill: a ToUnicode CMap that says which letters each drawn code stands
// for. Upstream writes the identity map, which is right for a font drawn by
// its characters, but Sijill draws Arabic by its presentation forms (fpdf
// has no shaping): with the identity, copying a line out of the PDF gave
// U+FE8D-style forms, not the letters typed, and a search of the file found
// nothing. A presentation form of one letter (U+FB50–U+FDFF, U+FE70–U+FEFF)
// maps to that letter, and a code registered with
// SetGlyphText to the text given there (a bracket drawn mirrored stands for
// the one typed); every other code to itself.

// SetGlyphText registers a private code point cp that is drawn with the
// glyph of the rune glyph and stands for the text text when copied out.
// Sijill draws a bracket mirrored in a right-to-left line: the glyph of ")"
// for a typed "(", which copied out as ")" unless the code says otherwise.
func (f *Fpdf) SetGlyphText(cp, glyph rune, text string) {
	if f.glyphText == nil {
		f.glyphText = map[int]glyphText{}
	}
	f.glyphText[int(cp)] = glyphText{glyph: int(glyph), text: text}
	// The code takes the rune's width in every font loaded (fpdf measures
	// and writes widths by code).
	f.setWidths(cp, func(cw []int) int {
		if int(glyph) >= len(cw) || cw[glyph] == 0 {
			return 65535 // fpdf's mark for a glyph without advance
		}
		return cw[glyph]
	})
}

// setWidths sets the width of code c in every UTF-8 font loaded to what
// width returns from that font's widths.
func (f *Fpdf) setWidths(c rune, width func(cw []int) int) {
	for _, font := range f.fonts {
		if font.Tp == "UTF8" && int(c) < len(font.Cw) {
			font.Cw[c] = width(font.Cw) // Cw is shared with the font's copies
		}
	}
}

type glyphText struct {
	glyph int
	text  string
}

// glyphOf returns the rune whose glyph draws code c.
func (f *Fpdf) glyphOf(c int) int {
	if g, ok := f.glyphText[c]; ok {
		return g.glyph
	}
	return c
}

// unicodeOf returns the text code c stands for.
func (f *Fpdf) unicodeOf(c int) string {
	if g, ok := f.glyphText[c]; ok {
		return g.text
	}
	r := rune(c)
	if (r >= 0xFB50 && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFF) {
		// Only a form of one letter: a word ligature (ﷺ) was typed as such,
		// and a reader may reverse a longer text in a right-to-left run.
		if d := []rune(norm.NFKC.String(string(r))); len(d) == 1 {
			return string(d)
		}
	}
	return string(r)
}

// toUnicodeCMap writes the CMap of the codes used, in sections of at most
// 100 entries as ISO 32000 9.10.3 asks.
func (f *Fpdf) toUnicodeCMap(used map[int]int) string {
	codes := make([]int, 0, len(used))
	for c := range used {
		if c > 0 && c <= 0xFFFF {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(codes) > 0 {
		n := min(len(codes), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, c := range codes[:n] {
			fmt.Fprintf(&b, "<%04X> <", c)
			for _, u := range utf16.Encode([]rune(f.unicodeOf(c))) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
		codes = codes[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.String()
}

// subsetRunes returns the runes whose glyphs the subset of a font must
// hold: the runes drawn, a private code replaced by the rune it borrows.
func (f *Fpdf) subsetRunes(used map[int]int) map[int]int {
	if len(f.glyphText) == 0 {
		return used
	}
	out := make(map[int]int, len(used))
	for c := range used {
		g := f.glyphOf(c)
		out[g] = g
	}
	return out
}

// addGlyphCodes maps each private code drawn to the subset glyph of the rune
// it borrows, in codes (code -> glyph of the subset); its width was set by
// SetGlyphText.
func (f *Fpdf) addGlyphCodes(codes map[int]int, used map[int]int) {
	for c := range used {
		if g, ok := f.glyphText[c]; ok {
			if gid, ok := codes[g.glyph]; ok {
				codes[c] = gid
			}
		}
	}
}

// lastGlyphCode is the highest private code registered, 0 for none.
func (f *Fpdf) lastGlyphCode() int {
	last := 0
	for c := range f.glyphText {
		last = max(last, c)
	}
	return last
}

// SetRuneWidth sets the advance of rune r, in thousandths of an em, in every
// font loaded. Sijill gives the tatweel (U+0640), which Amiri draws with no
// advance (leaving it to OpenType justification fpdf does not do), a width,
// and draws its stroke itself.
func (f *Fpdf) SetRuneWidth(r rune, w int) {
	f.setWidths(r, func([]int) int { return w })
}
