package render

import (
	"slices"
	"strings"

	"github.com/sijill/sijill/render/internal/fpdf"
)

// Text copied out of a printed register must be the text typed. Readers
// (poppler's pdftotext, pdf.js, Acrobat) rebuild it from the ToUnicode map
// of the drawn codes, in visual order, and put right-to-left runs back in
// logical order themselves. Two things drawn for Arabic do not survive that
// with a plain map, so they are drawn by private-use codes (U+F700 on, which
// Amiri does not use) that borrow another character's glyph and say what
// they stand for:
//   - a bracket or quote mirrored in a right-to-left run: the glyph of ")"
//     drawn for a typed "(" copies out as "(", not ")";
//   - a lam-alef ligature: one glyph for two letters, which a reader that
//     reverses a right-to-left run letter by letter (poppler does) turns
//     into alef-lam. It is drawn as a glyph without advance standing for
//     the alef, then the ligature standing for the lam, so every code
//     stands for exactly one letter.
//   - punctuation that ends an Arabic word (الجهة: المجلس): poppler puts
//     a right-to-left line back in order by its own rule, which takes
//     : ، . as part of a number and carries the space after them along,
//     so it copied out as "الجهة :المجلس". A right-to-left mark without
//     glyph or advance drawn just left of the mark ends that run, and the
//     copied text is "الجهة:‏ المجلس", the mark invisible and harmless.
//
// Every other code copies out as its letter (presentation forms decomposed,
// see fpdf's tounicode.go).
const (
	lamAlefCodes = 0xF700 // the alef and the lam of each lam-alef ligature
	rlmCode      = 0xF710 // a right-to-left mark
	mirrorCodes  = 0xF711 // one per mirrored character the fonts can draw, to U+F8FF
)

// lamAlefParts lists the lam-alef ligatures with the alef each holds.
var lamAlefParts = []struct{ ligature, alef rune }{
	{0xFEF5, 0x0622}, {0xFEF6, 0x0622},
	{0xFEF7, 0x0623}, {0xFEF8, 0x0623},
	{0xFEF9, 0x0625}, {0xFEFA, 0x0625},
	{0xFEFB, 0x0627}, {0xFEFC, 0x0627},
}

// zeroWidth is a character Amiri draws with no ink and no advance.
const zeroWidth = 0x200B

// drawCodes are the private codes visual draws a line by, in a document.
type drawCodes struct {
	mirrored map[rune]rune // the code each mirrored character is drawn by
	rlm      rune          // drawn around number-like punctuation at a right-to-left level
}

// glyphCodes registers the private codes with pdf and returns those visual
// draws by and the replacer that draws lam-alef ligatures by their two codes.
func glyphCodes(pdf *fpdf.Fpdf, has func(rune) bool) (*drawCodes, *strings.Replacer) {
	typed := make([]rune, 0, len(mirrors))
	for r, m := range mirrors {
		if has(r) && has(m) {
			typed = append(typed, r)
		}
	}
	slices.Sort(typed)
	drawn := make(map[rune]rune, len(typed))
	for i, r := range typed {
		c := rune(mirrorCodes + i)
		if c > 0xF8FF {
			break // drawn as its mirror image, copied out as that
		}
		pdf.SetGlyphText(c, mirrors[r], string(r))
		drawn[r] = c
	}
	var pairs []string
	for i, la := range lamAlefParts {
		lam, alef := rune(lamAlefCodes+2*i), rune(lamAlefCodes+2*i+1)
		pdf.SetGlyphText(lam, la.ligature, "ل")
		pdf.SetGlyphText(alef, zeroWidth, string(la.alef))
		// Visual order, left to right: the alef is the left part.
		pairs = append(pairs, string(la.ligature), string([]rune{alef, lam}))
	}
	pdf.SetGlyphText(rlmCode, zeroWidth, "\u200f")
	return &drawCodes{mirrored: drawn, rlm: rlmCode}, strings.NewReplacer(pairs...)
}

// numberLike reports whether poppler reads r as part of a number (see
// rlmCode).
func numberLike(r rune) bool {
	return strings.ContainsRune(":،.,؛/-+%٫٬", r)
}

// drawn returns the codes that draw the visual line v: lam-alef ligatures
// by two codes (see the codes above).
func (d *doc) drawn(v string) string {
	return d.lamAlef.Replace(v)
}

// mirror returns the code that draws the mirror image of r, if any.
func (c *drawCodes) mirror(r rune) (rune, bool) {
	if c == nil {
		return 0, false
	}
	m, ok := c.mirrored[r]
	return m, ok
}
