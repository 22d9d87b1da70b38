package render

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/fonts"
	"github.com/sijill/sijill/render/internal/fpdf"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageW   = 210.0
	pageH   = 297.0
	margin  = 12.0
	right   = pageW - margin
	left    = margin
	bodyW   = pageW - 2*margin
	ptPerMM = 72 / 25.4
)

// Aliases fpdf replaces in the page content once the page count is known. The
// count is drawn right-aligned, so the line holding it is moved left by the
// width of the count's digits through a translation written into the content
// stream (offsetAlias), whose value is also known only at the end.
const (
	countAlias  = "QqSjNbQq"
	offsetAlias = "QqSjOffQq"
)

// font styles
const (
	regular = ""
	bold    = "B"
)

// doc wraps an fpdf document with the Arabic text pipeline. It is used by one
// goroutine for one document.
type doc struct {
	pdf     *fpdf.Fpdf
	pages   *pageFile // where finished pages wait, or nil to keep them in memory
	sh      shaper
	cov     [2]*fonts.Coverage // regular, bold
	style   string
	size    float64             // points
	widths  [2]map[rune]float64 // advance per rune at 1 pt, mm
	eastern bool                // print numbers in Eastern Arabic digits
	shifts  map[shiftKey]string // offset aliases by font and alignment
	buf     []rune              // scratch
	lamAlef *strings.Replacer   // draws lam-alef ligatures by two codes (copyout.go)

	pdfStyle string // the font fpdf was last given
	pdfSize  float64
	pdfPage  int
}

// newDoc starts a document printed at now. The same records printed with the
// same now give the same bytes: the creation date is now, not the clock, and
// resources are written in a fixed order, so an exported bag can be made
// twice and compared.
func newDoc(eastern bool, title, author string, now time.Time) (*doc, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(margin, margin, margin)
	pdf.AddUTF8FontFromBytes("amiri", regular, fonts.AmiriRegular)
	pdf.AddUTF8FontFromBytes("amiri", bold, fonts.AmiriBold)
	pdf.SetTitle(title, true)
	pdf.SetCreator("Sijill", true)
	if author != "" {
		pdf.SetAuthor(author, true)
	}
	archival(pdf, title, author, now)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("render: load fonts: %w", err)
	}
	d := &doc{pdf: pdf, eastern: eastern, widths: [2]map[rune]float64{{}, {}}}
	for i, ttf := range [][]byte{fonts.AmiriRegular, fonts.AmiriBold} {
		c, err := fonts.NewCoverage(ttf)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		d.cov[i] = c
	}
	d.sh.codes, d.lamAlef = glyphCodes(pdf, func(r rune) bool { return d.cov[0].Has(r) && d.cov[1].Has(r) })
	d.setFont(regular, 10)
	d.sync()
	return d, nil
}

func (d *doc) styleIndex() int {
	if d.style == bold {
		return 1
	}
	return 0
}

// setFont chooses the font for measuring and drawing what follows. fpdf is
// told only when something is drawn (sync), so measuring text in another
// style writes nothing into the page.
func (d *doc) setFont(style string, size float64) {
	d.style, d.size = style, size
}

// sync makes fpdf's current font the one chosen with setFont.
func (d *doc) sync() {
	if d.pdfStyle != d.style || d.pdfSize != d.size || d.pdfPage != d.pdf.PageNo() {
		d.pdf.SetFont("amiri", d.style, d.size)
		d.pdfStyle, d.pdfSize, d.pdfPage = d.style, d.size, d.pdf.PageNo()
	}
}

// storePages keeps the finished pages in a temporary file in dir instead of
// memory, for documents whose length has no bound. Call close when done.
func (d *doc) storePages(dir string) error {
	p, err := newPageFile(dir)
	if err != nil {
		return err
	}
	d.pdf.SetPageStore(p)
	if err := d.pdf.Error(); err != nil {
		p.Close()
		return fmt.Errorf("render: %w", err)
	}
	d.pages = p
	return nil
}

// close releases what the document holds outside memory.
func (d *doc) close() {
	if d.pages != nil {
		d.pages.Close()
		d.pages = nil
	}
}

// runeWidth is the advance of r in the current font, in mm.
func (d *doc) runeWidth(r rune) float64 {
	m := d.widths[d.styleIndex()]
	w, ok := m[r]
	if !ok {
		d.sync()
		w = d.pdf.GetStringWidth(string(r)) / d.size
		m[r] = w
	}
	return w * d.size
}

func (d *doc) width(rs []rune) float64 {
	w := 0.0
	for _, r := range rs {
		w += d.runeWidth(r)
	}
	return w
}

func (d *doc) strWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += d.runeWidth(r)
	}
	return w
}

// user prepares text that comes from users (records, the organisation's
// name): it must not contain the page count aliases, which would be replaced.
func user(s string) string {
	if strings.Contains(s, "QqSj") {
		s = strings.ReplaceAll(s, "QqSj", "")
	}
	return s
}

// sanitize makes text printable: characters the font lacks become '?', so a
// printout never shows an empty box where a character was.
func (d *doc) sanitize(s string) string {
	cov := d.cov[d.styleIndex()]
	ok := true
	for _, r := range s {
		if !cov.Has(r) && !invisible(r) && r != '\n' && r != '\t' && r != '\r' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if cov.Has(r) || r == '\n' || r == '\t' || r == '\r' {
			return r
		}
		if invisible(r) {
			return r // dropped at reordering
		}
		return '?'
	}, s)
}

// num formats an integer in the document's digits.
func (d *doc) num(n int) string { return d.digits(strconv.Itoa(n)) }

// digits turns ASCII digits into Eastern Arabic ones when the document asks.
func (d *doc) digits(s string) string {
	if !d.eastern {
		return s
	}
	return EasternDigits(s)
}

// EasternDigits writes the ASCII digits of s as Eastern Arabic ones (٠١٢٣),
// for prints and pages whose reader asks for them.
func EasternDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '٠'
		}
		return r
	}, s)
}

// wrap breaks logical text into lines no wider than width (mm) in the current
// font, and returns each line shaped and in visual order. Paragraphs are split
// on newlines; lines break at spaces, or inside a word longer than a line.
// Widths are measured on the shaped text, which is what is drawn.
func (d *doc) wrap(text string, width float64) []string {
	var out []string
	text = d.sanitize(text)
	for para := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		para = strings.TrimSpace(clean(para))
		if para == "" {
			out = append(out, "")
			continue
		}
		shaped, levels, level := d.sh.prepare(para)
		n := len(shaped)
		start := 0
		for start < n {
			for start < n && shaped[start] == ' ' {
				start++
			}
			if start == n {
				break
			}
			end, next := n, n
			w, lastSpace := 0.0, -1
			for i := start; i < n; i++ {
				if shaped[i] == ' ' {
					lastSpace = i
				}
				w += d.runeWidth(shaped[i])
				if w > width && i > start {
					if lastSpace > start {
						end, next = lastSpace, lastSpace+1
					} else {
						end, next = i, i
					}
					break
				}
			}
			for end > start && shaped[end-1] == ' ' {
				end--
			}
			d.buf = visual(d.buf[:0], shaped[start:end], levels[start:end], level, d.sh.codes)
			out = append(out, string(d.buf))
			start = next
		}
	}
	return out
}

// fit returns text as one visual line no wider than width, cut at a word
// with an ellipsis at its end (the left, in Arabic) if it is too long.
func (d *doc) fit(text string, width float64) string {
	lines := d.wrap(text, width)
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return lines[0]
	}
	return "… " + d.wrap(text, width-d.strWidth("… "))[0]
}

// line shapes and reorders one line of logical text without wrapping.
func (d *doc) line(text string) string {
	return d.sh.line(d.sanitize(text))
}

// textRight draws logical text as one line whose right end is at x; y is the baseline.
func (d *doc) textRight(x, y float64, text string) {
	d.drawRight(x, y, d.line(text))
}

// textCenter draws logical text centred on x.
func (d *doc) textCenter(x, y float64, text string) {
	v := d.line(text)
	d.drawAt(x-d.strWidth(v)/2, y, v, 0.5)
}

// textLeft draws logical text starting at x.
func (d *doc) textLeft(x, y float64, text string) {
	d.drawAt(x, y, d.line(text), 0)
}

// drawRight draws an already visual line right-aligned at x.
func (d *doc) drawRight(x, y float64, v string) {
	d.drawAt(x-d.strWidth(v), y, v, 1)
}

// drawAt draws a visual line at x. If it holds the page count alias, whose
// digits are known only at the end, the line is drawn as if the alias were
// empty and then moved left by the width of the digits times shift (1 for
// right-aligned text, 0.5 for centred), through a translation whose value is
// itself an alias filled in by finish.
func (d *doc) drawAt(x, y float64, v string, shift float64) {
	d.sync()
	if !strings.Contains(v, countAlias) {
		d.drawMarked(x, y, v)
		return
	}
	x += d.strWidth(countAlias) * shift
	key := shiftKey{d.style, d.size, shift}
	if d.shifts == nil {
		d.shifts = map[shiftKey]string{}
	}
	alias, ok := d.shifts[key]
	if !ok {
		alias = fmt.Sprintf("%s%dx", offsetAlias, len(d.shifts))
		d.shifts[key] = alias
	}
	d.pdf.RawWriteStr(fmt.Sprintf("q 1 0 0 1 -%s 0 cm", alias))
	d.pdf.Text(x, y, d.drawn(v)) // our own text, without harakat
	d.pdf.RawWriteStr("Q")
}

// drawMarked draws a visual line whose non-spacing marks (harakat) follow their
// base. fpdf cannot position marks (no OpenType GPOS): Amiri's marks have no
// advance and sit right of their origin, so drawn in sequence they would land
// beside the letter. They are drawn one by one instead, centred over their
// base letter, stacked when a letter carries two marks above (shadda + fatha).
//
// Drawn so, apart from their letters, they came out of a copy as lines of
// their own and cut the words they sat on (poppler joins only Latin accents
// to their letter). So a word with marks is drawn by drawMarkedWord, which
// writes an invisible copy for readers; the other words as they are.
func (d *doc) drawMarked(x, y float64, v string) {
	d.kashidas(x, y, v)
	hasMarks := false
	for _, r := range v {
		if classOf(r) == classNSM {
			hasMarks = true
			break
		}
	}
	if !hasMarks {
		d.pdf.Text(x, y, d.drawn(v))
		return
	}
	rs := []rune(v)
	segX, pos, seg := x, x, 0
	for a := 0; a < len(rs); {
		b := a
		marked := false
		for b < len(rs) && rs[b] != ' ' {
			marked = marked || classOf(rs[b]) == classNSM
			b++
		}
		if !marked {
			for _, r := range rs[a:min(b+1, len(rs))] {
				pos += d.runeWidth(r)
			}
			a = b + 1
			continue
		}
		if seg < a {
			d.pdf.Text(segX, y, d.drawn(string(rs[seg:a])))
		}
		w := d.drawMarkedWord(pos, y, rs[a:b])
		pos += w
		seg, segX = b, pos
		a = b
	}
	if seg < len(rs) {
		d.pdf.Text(segX, y, d.drawn(string(rs[seg:])))
	}
}

// drawMarkedWord draws a visual word with harakat at x and returns its width.
// What is seen is left out of the copied text (an empty ActualText, ISO
// 32000 14.9.4) and the word is written once more, invisibly (text render
// mode 3, as an OCR text layer is), for readers to copy: each mark as a
// private code with an advance, just before its letter (see copyout.go).
func (d *doc) drawMarkedWord(x, y float64, w []rune) float64 {
	em := d.size / ptPerMM
	d.pdf.RawWriteStr("/Span <</ActualText ()>> BDC")
	base := strings.Map(func(r rune) rune {
		if classOf(r) == classNSM {
			return -1
		}
		return r
	}, string(w))
	d.pdf.Text(x, y, d.drawn(base))
	pos, baseX, baseW, above := x, x, 0.0, 0
	for _, r := range w {
		if classOf(r) != classNSM {
			wr := d.runeWidth(r)
			baseX, baseW, above = pos, wr, 0
			pos += wr
			continue
		}
		// Amiri's harakat are drawn from 0.12 to 0.38 em right of their origin.
		mx := baseX + baseW/2 - 0.25*em
		my := y
		if !markBelow(r) {
			my -= float64(above) * 0.2 * em
			above++
		}
		d.pdf.Text(mx, my, string(r))
	}
	d.pdf.RawWriteStr("EMC")
	d.copyLayer(x, y, w)
	return pos - x
}

// markBelow reports whether an Arabic mark is drawn under its letter.
func markBelow(r rune) bool {
	switch r {
	case 0x0650, 0x064D, 0x0655, 0x0656, 0x061A, 0x065C, 0x0325:
		return true
	}
	return false
}

type shiftKey struct {
	style string
	size  float64
	shift float64
}

// finish fills the page count into every page drawn with countAlias and writes
// the PDF. The count must have been drawn once in plain digits (the last
// page's footer does) so that its glyphs are in the embedded font subset.
func (d *doc) finish(w io.Writer) error {
	n := d.num(d.pdf.PageNo())
	d.pdf.RegisterAlias(countAlias, n)
	style, size := d.style, d.size
	for k, alias := range d.shifts {
		d.setFont(k.style, k.size)
		d.pdf.RegisterAlias(alias, strconv.FormatFloat(d.strWidth(n)*k.shift*ptPerMM, 'f', 2, 64))
	}
	d.setFont(style, size)
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("render: write pdf: %w", err)
	}
	return nil
}

// line spacing for a font size in points, in mm
func leading(size float64) float64 { return size / ptPerMM * 1.55 }

// image registers a PNG or JPEG logo and returns its name, or "" if b is empty.
func (d *doc) image(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	var typ string
	switch http.DetectContentType(b) {
	case "image/png":
		typ = "PNG"
	case "image/jpeg":
		typ = "JPG"
	default:
		return "", archive.Errorf(archive.EINVALID, "the logo is neither PNG nor JPEG")
	}
	d.pdf.RegisterImageOptionsReader("logo", fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(b))
	if err := d.pdf.Error(); err != nil {
		return "", archive.Errorf(archive.EINVALID, "the logo cannot be read: %v", err)
	}
	return "logo", nil
}

var imageOpts = fpdf.ImageOptions{ReadDpi: false}
