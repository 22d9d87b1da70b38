package extract

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/gob"
	"fmt"
	"image"
	"slices"
	"strings"
	"unicode"

	"github.com/sijill/sijill/archive/extract/internal/glyph"
)

// Eastern Arabic digits (٠-٩) are how many Arab administrations write their
// reference numbers and dates, and Tesseract cannot read them: its best
// Arabic model knows only ٠ and ١ (its character set has no ٢-٩), and reads
// «٣٦٧/٢٠٢٥» as «٠/٠١١» or Latin junk; Debian's fast model and its Arabic
// script model, tried on a clean crop of one reference in one line, read
// «ره ربك» and «VY ‘o> ك», and a whitelist of digits gave nothing better.
// No served model does, and training one is beyond this machine; so Sijill
// reads the digits of a doubtful word itself.
//
// The reader is a nearest-neighbour match of each shape of ink against
// digits, slashes and letters drawn from 36 Arabic fonts of Debian
// (gendigits): Eastern digits are few, each one shape, and unlike each
// other once their size and place on the line are counted, which is what
// a template reader does well. It only looks where Tesseract was unsure:
// words holding digits, Latin letters or a slash that are not plainly
// Western numbers read with confidence, and words of low confidence.
//
//go:generate go run ./internal/gendigits -out digits.gob.gz

//go:embed digits.gob.gz
var digitsGob []byte

// loadDigits decodes the templates (about 10 ms; done once per page that
// needs them, so the extractor holds no state).
func loadDigits() ([]glyph.Template, error) {
	zr, err := gzip.NewReader(bytes.NewReader(digitsGob))
	if err != nil {
		return nil, fmt.Errorf("extract: digit templates: %w", err)
	}
	var set []glyph.Template
	if err := gob.NewDecoder(zr).Decode(&set); err != nil {
		return nil, fmt.Errorf("extract: digit templates: %w", err)
	}
	return set, nil
}

// doubtfulDigits says whether a word may hold digits Tesseract misread.
func doubtfulDigits(w ocrWord) bool {
	text := w.Text()
	plainWestern := w.Conf >= 70
	has := false
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			has = true
		case r == '/' || r == '\\' || r == '|' || r == '٠' || r == '١' || isLatinLetter(r):
			has, plainWestern = true, false
		case isArabicLetter(r):
			plainWestern = false
		}
	}
	// Digits read as Arabic-looking junk («اد كن لاخلا» for a date) are
	// only told by Tesseract's doubt.
	return has && !plainWestern || w.Conf < doubtfulWordBelow
}

// doubtfulWordBelow is the confidence under which any word is looked at for
// digits.
const doubtfulWordBelow = 50

// rewriteLines returns text with the lines fix changes rewritten. The
// lines are found in text as Tesseract wrote them, but for the bidi marks
// it puts around numbers in its plain text and not in its hOCR; a line not
// found is left.
func rewriteLines(text string, lines []ocrLine, fix func(int, ocrLine) (string, bool)) string {
	textLines := strings.Split(text, "\n")
	next := 0
	changed := false
	for li, l := range lines {
		old := dropBidiMarks(l.Text())
		if strings.TrimSpace(old) == "" {
			continue
		}
		at := -1
		for i := next; i < len(textLines); i++ {
			if dropBidiMarks(textLines[i]) == old {
				at = i
				break
			}
		}
		if at < 0 {
			continue
		}
		next = at + 1
		if fixed, ok := fix(li, l); ok && fixed != old {
			textLines[at] = fixed
			changed = true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(textLines, "\n")
}

// latinJunk says which words of a page are Latin junk: words with Latin
// letters that Tesseract doubted (under 60) on a page whose words are
// Arabic four times over. The English model, asked to read a page the
// Arabic one doubted, reads unclear Arabic words as Latin («Lope» for
// «جهويا», «HA!» for «الهيئة») and stamps as words («oral»); they pollute
// search and the text a secretary reads. A Latin word read with confidence
// (an address, «PDF») stays.
func latinJunk(lines []ocrLine) func(ocrWord) bool {
	arabic, latin := 0, 0
	for _, l := range lines {
		for _, w := range l.Words {
			switch text := w.Text(); {
			case strings.ContainsFunc(text, isLatinLetter):
				latin++
			case strings.ContainsFunc(text, isArabicLetter):
				arabic++
			}
		}
	}
	if latin == 0 || arabic < 4*latin {
		return func(ocrWord) bool { return false }
	}
	return func(w ocrWord) bool { return w.Conf < latinJunkBelow && strings.ContainsFunc(w.Text(), isLatinLetter) }
}

const latinJunkBelow = 60

func isLatinLetter(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }

func isArabicLetter(r rune) bool { return unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) }

func dropBidiMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if isBidiMark(r) {
			return -1
		}
		return r
	}, s)
}

// readLineDigits rewrites the runs of doubtful words of a line, each with
// the words beside it that Tesseract was unsure of or that hold digits: a
// reference's digits come out of Tesseract's models as Arabic-looking junk
// («الات») as often as Latin. The junk words outside those runs are dropped;
// inside, they are what the digits are read in place of.
func readLineDigits(l ocrLine, g *image.Gray, set []glyph.Template, junk func(ocrWord) bool) (string, bool) {
	n := len(l.Words)
	doubt := make([]bool, n)
	for i, w := range l.Words {
		doubt[i] = doubtfulDigits(w)
	}
	span := slices.Clone(doubt)
	for i := range n {
		if !doubt[i] {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < n && (l.Words[j].Conf < 65 || strings.ContainsFunc(l.Words[j].Text(), unicode.IsDigit)) {
				span[j] = true
			}
		}
	}
	var out []string
	changed := false
	for i := 0; i < n; {
		if !span[i] {
			if junk(l.Words[i]) {
				changed = true
			} else {
				out = append(out, l.Words[i].Text())
			}
			i++
			continue
		}
		j := i + 1
		for j < n && span[j] {
			j++
		}
		if s, ok := readSpan(l.Words[i:j], l.Box, g, set); ok {
			out = append(out, s)
			changed = true
		} else {
			for _, w := range l.Words[i:j] {
				out = append(out, w.Text())
			}
		}
		i = j
	}
	return strings.Join(out, " "), changed
}

// piece is what a span is rebuilt from: a character Tesseract read and the
// digits did not explain, or a run of digits read here, at its place on the
// line.
type piece struct {
	text string
	box  image.Rectangle
	word int // the word a character came from; -1 for digits
}

// readSpan reads consecutive doubtful words again: their shapes of ink are
// matched against the templates; a run of shapes taken as digits and
// slashes replaces the characters Tesseract put over them, and the
// characters over shapes that are letters stay.
func readSpan(words []ocrWord, lineBox image.Rectangle, g *image.Gray, set []glyph.Template) (string, bool) {
	var box image.Rectangle
	for _, w := range words {
		box = box.Union(w.Box)
	}
	// The whole height of the line, for digits taller than the words'
	// boxes; a little to either side for the edges of the outer digits.
	box = image.Rect(box.Min.X-2, min(box.Min.Y, lineBox.Min.Y), box.Max.X+2, max(box.Max.Y, lineBox.Max.Y)).Intersect(g.Bounds())
	// A line of type is a few hundred thousand pixels at 300 dpi; a "line"
	// Tesseract found in a picture can be the page, whose labelling would
	// cost a gigabyte.
	if box.Empty() || box.Dx()*box.Dy() > maxSpanPixels {
		return "", false
	}
	h := box.Dy()
	shapes := glyph.Shapes(g, box, glyph.Threshold(g, box), max(3, h*h/1500))
	if len(shapes) == 0 || len(shapes) > 200 {
		return "", false
	}
	band := glyph.BandOf(shapes)
	if band.Height() < 6 {
		return "", false
	}
	type read struct {
		s     glyph.Shape
		label rune // a digit or slash of either script, or glyph.Other
		east  rune // the nearest Eastern digit or slash
		eastD float64
		// letter is the letter the shape is, where its body tells it.
		letter rune
		// dot says the shape is a small lozenge half-way up the band: ٠
		// beside a digit, whatever the font draws it as.
		dot bool
	}
	reads := make([]read, len(shapes))
	for i, s := range shapes {
		f := glyph.Describe(s, band)
		if f.Width > 1.2 || f.Height > 2 {
			// A joined word or a rule: no digit or slash is that wide or
			// tall, and matching it against every template is the reader's
			// whole cost on a page of doubted words.
			reads[i] = read{s: s, label: glyph.Other, east: glyph.Other}
			continue
		}
		label, d, east, eastD := glyph.Nearest(&f, set, isEastern)
		var letter rune
		if !isDigitLabel(label) {
			if label != glyph.Other && d <= 2*maxDigitDistance {
				letter = label // only given back beside a number, where little else can be
			}
			label = glyph.Other
		} else if d > maxDigitDistance {
			label = glyph.Other
		}
		dot := f.Height >= 0.15 && f.Height <= 0.45 && f.Width <= 0.5 && f.Middle >= 0.25 && f.Middle <= 0.7
		reads[i] = read{s, label, east, eastD, letter, dot}
	}
	slices.SortFunc(reads, func(a, b read) int { return a.s.Box.Min.X - b.s.Box.Min.X })
	// Two shapes one above the other, one of them no digit, are tried as
	// one: blur breaks a ٤ at its waist. The pair is kept apart unless
	// together they are an Eastern digit (a letter and its dot are not).
	for i := 0; i+1 < len(reads); i++ {
		a, b := reads[i], reads[i+1]
		if a.label != glyph.Other && b.label != glyph.Other || !overlapX(a.s.Box, b.s.Box) {
			continue
		}
		m := glyph.Merge(a.s, b.s)
		f := glyph.Describe(m, band)
		label, d, east, eastD := glyph.Nearest(&f, set, isEastern)
		if label == east && label != '/' && isEastern(label) && d <= maxDigitDistance {
			reads[i] = read{s: m, label: label, east: east, eastD: eastD}
			reads = slices.Delete(reads, i+1, i+2)
		}
	}
	// A shape no template is near, beside an Eastern digit and about as wide
	// as two, is tried cut in two where its ink is thinnest: blur runs a
	// digit into the slash beside it (٩٤/ in Kufi at 200 dpi, one shape).
	// The cut is kept only when both parts are Eastern digits or slashes,
	// let half as far again from their templates as a whole digit: the cut
	// leaves a little of one in the other (the slash of ٩٤/ is 10.6 away).
	// eastDigit says reads[j] is read as an Eastern digit (or its slash,
	// when slash is set).
	eastDigit := func(j int, slash bool) bool {
		return j >= 0 && j < len(reads) && reads[j].label != glyph.Other && reads[j].label == reads[j].east && (slash || reads[j].east != '/')
	}
	for i := 0; i < len(reads); i++ {
		r := reads[i]
		wide := float64(r.s.Box.Dx()) / float64(band.Height())
		if r.label != glyph.Other || wide < 0.5 || wide > 2 || !eastDigit(i-1, true) && !eastDigit(i+1, true) {
			continue
		}
		a, b, ok := glyph.Cut(r.s)
		if !ok {
			continue
		}
		var parts [2]read
		for k, s := range []glyph.Shape{a, b} {
			f := glyph.Describe(s, band)
			label, d, east, eastD := glyph.Nearest(&f, set, isEastern)
			if label != east || !isEastern(label) || d > 1.5*maxDigitDistance {
				ok = false
				break
			}
			parts[k] = read{s: s, label: label, east: east, eastD: eastD}
		}
		if ok {
			reads = slices.Replace(reads, i, i+1, parts[0], parts[1])
			i++
		}
	}
	// A shape between two Eastern digits is let a little farther from its
	// template: noise wears the small ones (٠ is a few pixels) most.
	// At a number's end, ١ and ٠ are let be as near to their template as
	// alef or a dot is to its own: beside a digit, they are digits.
	near := func(i, j int) bool { return gapX(reads[i].s.Box, reads[j].s.Box) <= band.Height()/2 }
	for i := range reads {
		r := &reads[i]
		if r.label != glyph.Other || r.east == glyph.Other {
			continue
		}
		left, right := eastDigit(i-1, false), eastDigit(i+1, false)
		switch {
		case r.dot && (eastDigit(i-1, true) && near(i, i-1) || eastDigit(i+1, true) && near(i, i+1)):
			r.label, r.east = '٠', '٠'
		case eastDigit(i-1, true) && eastDigit(i+1, true) && r.eastD <= 2*maxDigitDistance:
			r.label = r.east
		case (left && near(i, i-1) || right && near(i, i+1)) && r.eastD <= maxDigitDistance && (r.east == '١' || r.east == '٠'):
			r.label = r.east
		}
	}
	for i := range reads {
		if reads[i].label != reads[i].east && reads[i].eastD > maxDigitDistance {
			reads[i].east = glyph.Other
		}
	}

	// Runs of digits and slashes, left to right, broken by a letter or a gap
	// wider than the band's height. A run is read again only if it is
	// Eastern: Tesseract reads Western digits well, and the reader's Western
	// templates are there so that a Western digit is not taken for an
	// Eastern one.
	var pieces []piece
	var runs []image.Rectangle // where the runs read here lie
	var beside []int           // letters beside them
	var run []int
	flush := func() {
		defer func() { run = run[:0] }()
		east, west := 0, 0
		for _, i := range run {
			switch r := reads[i].label; {
			case r >= '0' && r <= '9':
				west++
			case isEastern(r) && r != '/':
				east++
			}
		}
		if east == 0 || west > east {
			return
		}
		for _, i := range run {
			if reads[i].east == glyph.Other {
				return // a shape nearer a Western digit than any Eastern one
			}
		}
		// Slashes at a run's ends belong to the words beside it («ج/»): in
		// reading order a right one comes before the number, a left one
		// after.
		lo, hi := 0, len(run)
		for lo < hi && reads[run[lo]].east == '/' {
			lo++
		}
		for hi > lo && reads[run[hi-1]].east == '/' {
			hi--
		}
		var all image.Rectangle
		shaped := 0 // digits other than ١ and ٠, which letters share: alef is one stroke, a dot a lozenge
		for _, i := range run {
			all = all.Union(reads[i].s.Box)
			if e := reads[i].east; e != '١' && e != '٠' && e != '/' {
				shaped++
			}
		}
		if shaped < 2 && !tesseractDigitsIn(words, all) {
			return // too little to tell from letters, unless Tesseract saw a digit there too
		}
		runs = append(runs, all)
		// The letters on either side of a number («و/١٣٤/٢٠٢٦») are given
		// back where Tesseract has no letter of its own over them.
		for _, j := range []int{run[0] - 1, run[len(run)-1] + 1} {
			if j >= 0 && j < len(reads) && reads[j].letter != 0 && gapX(reads[j].s.Box, all) <= band.Height()/2 {
				beside = append(beside, j)
			}
		}
		for _, i := range append(slices.Clone(run[:lo]), run[hi:]...) {
			pieces = append(pieces, piece{text: "/", box: reads[i].s.Box, word: -1})
		}
		var b strings.Builder
		var rb image.Rectangle
		for _, i := range run[lo:hi] {
			b.WriteRune(reads[i].east)
			rb = rb.Union(reads[i].s.Box)
		}
		if b.Len() > 0 {
			pieces = append(pieces, piece{text: b.String(), box: rb, word: -1})
		}
	}
	for i, r := range reads {
		if r.label == glyph.Other {
			flush()
			continue
		}
		if len(run) > 0 && r.s.Box.Min.X-reads[run[len(run)-1]].s.Box.Max.X > band.Height() {
			flush()
		}
		run = append(run, i)
	}
	flush()
	if len(pieces) == 0 {
		return "", false
	}
	// Tesseract's characters stay where no run read here lies under them,
	// but for Western digits: in a span where Eastern ones were read, those
	// are Tesseract's junk for them.
	for wi, w := range words {
		for _, c := range w.Chars {
			if strings.TrimFunc(c.Text, isBidiMark) == "" || strings.ContainsFunc(c.Text, func(r rune) bool { return isLatinLetter(r) || r >= '0' && r <= '9' }) {
				continue
			}
			if !slices.ContainsFunc(runs, func(r image.Rectangle) bool { return midIn(c.Box, r) }) {
				pieces = append(pieces, piece{text: c.Text, box: c.Box, word: wi})
			}
		}
	}
	for _, j := range beside {
		box := reads[j].s.Box
		if !slices.ContainsFunc(pieces, func(p piece) bool { return p.word >= 0 && midIn(p.box, box) }) {
			pieces = append(pieces, piece{text: string(reads[j].letter), box: box, word: -1})
		}
	}
	// Reading order is right to left; a run of digits reads left to right
	// inside, which its text already does.
	slices.SortStableFunc(pieces, func(a, b piece) int { return (b.box.Min.X + b.box.Max.X) - (a.box.Min.X + a.box.Max.X) })
	var b strings.Builder
	for i, p := range pieces {
		if i > 0 {
			prev := pieces[i-1]
			sameWord := p.word >= 0 && p.word == prev.word
			gap := prev.box.Min.X - p.box.Max.X
			if !sameWord && (p.word >= 0 && prev.word >= 0 || 3*gap > band.Height()) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

// maxSpanPixels bounds the part of a page the reader cuts into shapes at
// once.
const maxSpanPixels = 4 << 20

// maxDigitDistance is the farthest a shape may be from its nearest digit
// template and still be read as that digit. On the OCR set, digits lie
// within 9 of their templates and letters taken for digits 12 and more.
const maxDigitDistance = 10

// isDigitLabel says whether a template's label is a digit or a slash.
func isDigitLabel(r rune) bool { return isEastern(r) || r >= '0' && r <= '9' }

// isEastern says whether r is an Eastern Arabic digit or a slash.
func isEastern(r rune) bool { return r >= '٠' && r <= '٩' || r == '/' }

// overlapX says whether two boxes overlap across at least half of the
// narrower.
func overlapX(a, b image.Rectangle) bool {
	o := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	return o > 0 && 2*o >= min(a.Dx(), b.Dx())
}

// gapX is the horizontal gap between two boxes, negative where they overlap.
func gapX(a, b image.Rectangle) int { return max(a.Min.X-b.Max.X, b.Min.X-a.Max.X) }

// midIn says whether a's middle, across, lies within b's width.
func midIn(a, b image.Rectangle) bool {
	mid := (a.Min.X + a.Max.X) / 2
	return mid >= b.Min.X && mid < b.Max.X
}

// tesseractDigitsIn says whether Tesseract read a digit of either script
// within r.
func tesseractDigitsIn(words []ocrWord, r image.Rectangle) bool {
	for _, w := range words {
		for _, c := range w.Chars {
			if midIn(c.Box, r) && strings.ContainsFunc(c.Text, unicode.IsDigit) {
				return true
			}
		}
	}
	return false
}

func isBidiMark(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}
