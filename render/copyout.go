package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sijill/sijill/render/internal/fpdf"
)

// Text copied out of a printed register must be the text typed. Readers
// (poppler's pdftotext, pdf.js, Acrobat) rebuild it from the ToUnicode map
// of the drawn codes, in visual order, and put right-to-left runs back in
// logical order themselves. What does not survive that with a plain map is
// drawn by private-use codes (U+F6C0–U+F8FF, which Amiri does not use) that
// borrow another character's glyph and say what they stand for
// (fpdf.SetGlyphText):
//   - a bracket or quote mirrored in a right-to-left run: the glyph of ")"
//     drawn for a typed "(" copies out as "(", not ")";
//   - a lam-alef ligature: one glyph for two letters, which a reader that
//     reverses a right-to-left run letter by letter (poppler does) turns
//     into alef-lam. It is drawn as a glyph without advance standing for
//     the alef, then the ligature standing for the lam, so every code
//     stands for exactly one letter;
//   - punctuation in a right-to-left run (الجهة: المجلس, يوم 12/03/2026، ما):
//     poppler puts a right-to-left line back in order by its own rule,
//     which takes : ، . / - as part of a number and carries a space or a
//     number beside them along, so they copied out as "الجهة :المجلس" and
//     "يوم  ،12/03/2026ما"; likewise the space between a number and the
//     Arabic word after it. A right-to-left mark without glyph or advance
//     drawn on each side of such punctuation, and at the left end of a
//     left-to-right run in a right-to-left line, keeps them where they
//     were typed; the copied text holds the marks, invisible and harmless
//     (U+200F);
//   - harakat, in the invisible copy of a word that carries them
//     (copyLayer).
//
// Every other code copies out as its letter (presentation forms decomposed,
// see fpdf's tounicode.go).
const (
	lamAlefCodes = 0xF700 // the alef and the lam of each lam-alef ligature
	rlmCode      = 0xF710 // a right-to-left mark
	markCodes    = 0xF6C0 // the harakat U+064B–U+065F and U+0670, written with an advance (copyLayer)
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
	pdf.SetRuneWidth(tatweel, tatweelWidth)
	for r := rune(0x064B); r <= 0x065F; r++ {
		pdf.SetGlyphText(markCode(r), markGlyph, string(r))
	}
	pdf.SetGlyphText(markCode(0x0670), markGlyph, "\u0670")
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

// markGlyph lends its glyph and advance to the harakat of the copy layer
// (the layer is invisible, so only the advance counts).
const markGlyph = '.'

// markCode returns the private code of a haraka in the copy layer, or r
// itself for another mark.
func markCode(r rune) rune {
	switch {
	case r >= 0x064B && r <= 0x065F:
		return markCodes + r - 0x064B
	case r == 0x0670:
		return markCodes + 0x20
	}
	return r
}

// copyLayer writes the visual word w (with harakat) invisibly over the
// width its letters take from x, for readers to copy. poppler's text extraction takes a
// character drawn where the one before it begins for a duplicate, and one
// drawn more than a tenth of an em after the one before ends for the start
// of a new word; it puts a right-to-left word back in order by reversing
// its characters. So every mark is given an advance of a sixth of an em,
// the letters share the rest of the word's width (horizontal scaling, Tz),
// and each letter's marks are written just before it, last first: reversed,
// they follow their letter in the order typed. A word too short for its
// marks is written without them.
func (d *doc) copyLayer(x, y float64, w []rune) {
	em := d.size / ptPerMM
	markW := em / 6
	letters, nMarks := 0.0, 0
	for _, r := range w {
		if classOf(r) == classNSM {
			nMarks++
		} else {
			letters += d.runeWidth(r)
		}
	}
	scale := (letters - float64(nMarks)*markW) / letters
	withMarks := scale >= 0.5
	if !withMarks {
		scale = 1
	}
	dot := d.runeWidth(markGlyph)
	d.pdf.SetTextRenderingMode(3)
	pos := x
	for i := 0; i < len(w); {
		j := i + 1
		for j < len(w) && classOf(w[j]) == classNSM {
			j++
		}
		if withMarks {
			for k := j - 1; k > i; k-- {
				d.pdf.RawWriteStr(fmt.Sprintf("%.2f Tz", 100*markW/dot))
				d.pdf.Text(pos, y, string(markCode(w[k])))
				pos += markW
			}
		}
		if classOf(w[i]) != classNSM {
			d.pdf.RawWriteStr(fmt.Sprintf("%.2f Tz", 100*scale))
			d.pdf.Text(pos, y, d.drawn(string(w[i])))
			pos += d.runeWidth(w[i]) * scale
		}
		i = j
	}
	d.pdf.RawWriteStr("100 Tz")
	d.pdf.SetTextRenderingMode(0)
}

// tatweel (kashida) lengthens a joined letter. Amiri gives it neither advance
// nor ink (its stretching is left to OpenType justification), so a typed
// tatweel vanished from the print: it is given tatweelWidth thousandths of
// an em and its stroke is drawn as a rule on the baseline (kashidas). It
// copies out as itself.
const (
	tatweel      = 0x0640
	tatweelWidth = 300
)

// kashidas draws the stroke of each tatweel of the visual line v drawn at x
// on baseline y, in the current font's size.
func (d *doc) kashidas(x, y float64, v string) {
	if !strings.ContainsRune(v, tatweel) {
		return
	}
	em := d.size / ptPerMM
	thick := 0.055 * em
	if d.style == bold {
		thick = 0.075 * em
	}
	_, pageH := d.pdf.GetPageSize()
	pos := x
	var b strings.Builder
	for _, r := range v {
		w := d.runeWidth(r)
		if r == tatweel {
			// a little over the neighbours' strokes, so no seam shows
			fmt.Fprintf(&b, "%.2f %.2f %.2f %.2f re ", (pos-0.01*em)*ptPerMM, (pageH-y)*ptPerMM,
				(w+0.02*em)*ptPerMM, thick*ptPerMM)
		}
		pos += w
	}
	d.pdf.RawWriteStr("q 0 g " + b.String() + "f Q")
}
