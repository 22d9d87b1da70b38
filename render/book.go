package render

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
)

// BookOptions describes one register book: which register and year, and how
// the organisation wants it printed.
type BookOptions struct {
	// Organisation is the name printed at the top of every page.
	Organisation string
	// Logo is an optional PNG or JPEG printed beside the name.
	Logo     []byte
	Register archive.Register
	Year     int
	// EasternDigits prints numbers and dates in Eastern Arabic digits (٠١٢٣).
	EasternDigits bool
	// Hijri prints the tabular Islamic date beside every Gregorian one.
	Hijri bool
	// Now is the time of printing, shown on the certificates; zero means time.Now().
	Now time.Time
	// Location is the organisation's time zone for printed dates; nil means UTC.
	Location *time.Location
	// TempDir holds the finished pages until the book is complete; empty
	// means os.TempDir().
	TempDir string
	// Signer, if set, signs the PDF with the organisation's key (see Signer).
	Signer *Signer
}

// Book layout, in mm and points.
const (
	headerBottom = 31.0
	tableTop     = 33.0
	tableBottom  = pageH - 16.0
	footerY      = pageH - 9.0
	cellSize     = 9.5 // pt
	cellPad      = 1.3
)

// column of the register table, listed from the right edge of the page.
type column struct {
	title  string
	width  float64
	center bool
}

var bookColumns = [...]column{
	{"الرقم", 15, true},
	{"التاريخ", 25, true},
	{"الجهة", 36, false},
	{"الموضوع", 62, false},
	{"المرفقات", 22, false},
	{"ملاحظات", 26, false},
}

// Book writes the register book of one register and year as PDF to w: an
// opening certificate, every entry in a numbered table (annulled entries
// included and marked «ملغى» with their reason), and a closing certificate with
// the entry counts, the register digest (archive.BookDigest, which `sijill
// verify` recomputes) and the head of the hash chain, so the signed paper can be
// checked against the archive.
//
// records must yield the register's records for the year in ascending number
// order; they are consumed one at a time, only the current page is in memory
// and every finished page waits in a temporary file under opt.TempDir (about
// 14 KB a page, 8 MB for 10,000 entries), so memory does not grow with the
// register. An error from records, a record of another register or year, or
// numbers out of order stop the book with an error. The PDF is written to w
// only once every entry is laid out, page by page from the temporary file, so
// after an error in the records nothing has been written.
func Book(ctx context.Context, w io.Writer, opt BookOptions, records iter.Seq2[*archive.Record, error]) error {
	if s := opt.Signer; s != nil {
		opt.Signer = nil
		reason := fmt.Sprintf("register book %s %d", opt.Register, opt.Year)
		return s.signed(w, opt.TempDir, reason, opt.Now, func(w io.Writer) error { return Book(ctx, w, opt, records) })
	}
	if !opt.Register.Valid() {
		return archive.Errorf(archive.EINVALID, "unknown register %q", opt.Register)
	}
	if opt.Year < 1 || opt.Year > 9999 {
		return archive.Errorf(archive.EINVALID, "year %d out of range", opt.Year)
	}
	b, err := newBook(opt)
	if err != nil {
		return err
	}
	defer b.d.close()
	b.opening()
	b.tablePage()
	digest := archive.NewBookDigest()
	var st bookStats
	for rec, err := range records {
		if err != nil {
			return fmt.Errorf("render: book %s/%d: read records: %w", opt.Register, opt.Year, err)
		}
		if rec == nil {
			return archive.Errorf(archive.EINVALID, "record %d of register %s/%d is missing", st.count+1, opt.Register, opt.Year)
		}
		if st.count%64 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("render: book %s/%d: %w", opt.Register, opt.Year, err)
			}
		}
		if rec.Register != opt.Register || rec.Year != opt.Year {
			return archive.Errorf(archive.EINVALID, "record %s is not in register %s of %d", rec.ID, opt.Register, opt.Year)
		}
		if st.count > 0 && rec.Number <= st.last {
			return archive.Errorf(archive.EINVALID, "record %s comes after number %d: records must be in ascending order", rec.ID, st.last)
		}
		if st.count == 0 {
			st.first = rec.Number
			st.gaps = rec.Number - 1
		} else {
			st.gaps += rec.Number - st.last - 1
		}
		st.last = rec.Number
		st.count++
		if rec.Status == archive.StatusAnnulled {
			st.annulled++
		}
		st.head = rec.Chain.Hash
		digest.Add(rec)
		b.entry(rec)
	}
	if st.count == 0 {
		b.d.setFont(regular, 12)
		b.d.textCenter(pageW/2, b.y+12, "لم يُقيَّد في هذا السجل أي قيد لهذه السنة.")
	}
	b.closeTable()
	st.digest = digest.Sum()
	b.closing(st)
	return b.d.finish(w)
}

type bookStats struct {
	count, first, last, annulled, gaps int
	head, digest                       string
}

// book is the state of one book being written.
type book struct {
	opt  BookOptions
	d    *doc
	logo string
	y    float64 // top of the next table row
	// inTable: the current page holds a table whose column rules are not drawn yet
	inTable bool
	now     time.Time
}

func newBook(opt BookOptions) (*book, error) {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	d, err := newDoc(opt.EasternDigits, fmt.Sprintf("%s %d", opt.Register.Title(), opt.Year), opt.Organisation, now)
	if err != nil {
		return nil, err
	}
	if err := d.storePages(opt.TempDir); err != nil {
		return nil, err
	}
	b := &book{opt: opt, d: d, now: now.In(opt.Location)}
	if b.logo, err = d.image(opt.Logo); err != nil {
		d.close()
		return nil, err
	}
	return b, nil
}

// title is the register's name and year, as printed in headers.
func (b *book) title() string {
	return fmt.Sprintf("%s لسنة %s", b.opt.Register.Title(), b.d.num(b.opt.Year))
}

// newPage ends the current page with its footer and starts the next one with
// the book's header.
func (b *book) newPage() {
	if b.d.pdf.PageNo() > 0 {
		footer(b.d, false)
	}
	b.d.pdf.AddPage()
	header(b.d, b.logo, user(b.opt.Organisation), b.title())
}

// header prints the organisation, its logo and the document's title.
func header(d *doc, logo, org, title string) {
	if logo != "" {
		d.pdf.ImageOptions(logo, left, 8, 0, 18, false, imageOpts, 0, "")
	}
	w := bodyW
	if logo != "" {
		w -= 30
	}
	d.setFont(bold, 14)
	d.drawRight(right, 15, d.fit(org, w))
	d.setFont(bold, 13)
	d.drawRight(right, 24, d.fit(title, w))
	d.pdf.SetLineWidth(0.4)
	d.pdf.Line(left, headerBottom-2, right, headerBottom-2)
	d.pdf.SetLineWidth(0.2)
}

// footer prints "صفحة X من Y". The count is an alias filled in at the end,
// except on the last page, where it is known and printed as digits.
func footer(d *doc, last bool) {
	d.setFont(regular, 9)
	count := countAlias
	if last {
		count = d.num(d.pdf.PageNo())
	}
	d.textCenter(pageW/2, footerY, fmt.Sprintf("صفحة %s من %s", d.num(d.pdf.PageNo()), count))
}

// tablePage starts a page of the register table with its column headings.
func (b *book) tablePage() {
	b.closeTable()
	b.newPage()
	d := b.d
	d.setFont(bold, 10)
	h := 8.0
	x := right
	d.pdf.SetFillColor(225, 225, 225)
	for _, c := range bookColumns {
		d.pdf.Rect(x-c.width, tableTop, c.width, h, "FD")
		d.textCenter(x-c.width/2, tableTop+h/2+1.4, c.title)
		x -= c.width
	}
	// back to black: fpdf wraps every text in a colour change while fill and
	// text colours differ, which would add to every page kept in memory
	d.pdf.SetFillColor(0, 0, 0)
	b.y = tableTop + h
	b.inTable = true
}

// closeTable draws the vertical rules of the page's table down to its last row.
func (b *book) closeTable() {
	if !b.inTable {
		return
	}
	x := right
	for _, c := range bookColumns {
		b.d.pdf.Line(x, tableTop, x, b.y)
		x -= c.width
	}
	b.d.pdf.Line(x, tableTop, x, b.y)
	b.inTable = false
}

// part is a run of a cell's text in one style.
type part struct {
	style string
	text  string
}

type cellLines struct {
	lines  []string
	styles []string
}

// entry prints one record as a table row, on a new page if it does not fit.
func (b *book) entry(rec *archive.Record) {
	d := b.d
	annulled := rec.Status == archive.StatusAnnulled
	cells := [len(bookColumns)][]part{
		b.numberCell(rec, annulled),
		b.dateCell(rec),
		partyCell(rec),
		{{regular, rec.Subject}},
		b.attachmentsCell(rec),
		b.notesCell(rec, annulled),
	}
	for i := range cells {
		for k := range cells[i] {
			cells[i][k].text = user(cells[i][k].text)
		}
	}
	// A cell longer than a page is cut, visibly.
	maxLines := int((tableBottom - tableTop - 8 - 2*cellPad) / leading(cellSize))
	laid, h := d.layCells(bookColumns[:], cells[:], maxLines)
	if b.y+h > tableBottom {
		b.tablePage()
	}
	if annulled { // a grey row; the colour is reset before any text
		d.pdf.SetFillColor(238, 238, 238)
		d.pdf.Rect(left, b.y, bodyW, h, "F")
		d.pdf.SetFillColor(0, 0, 0)
	}
	// One rule under the row; the column rules are drawn once per page
	// (closeTable): every byte drawn stays in memory until the book is written.
	d.pdf.Line(left, b.y+h, right, b.y+h)
	d.drawCells(bookColumns[:], laid, b.y)
	b.y += h
}

// layCells wraps each cell's parts to its column, at most maxLines lines a
// cell (a longer one ends in "…"), and returns the lines and the row's height.
func (d *doc) layCells(cols []column, cells [][]part, maxLines int) ([]cellLines, float64) {
	laid := make([]cellLines, len(cells))
	rows := 1
	for i, c := range cells {
		var cl cellLines
		for _, p := range c {
			d.setFont(p.style, cellSize)
			for _, l := range d.wrap(p.text, cols[i].width-2*cellPad) {
				cl.lines = append(cl.lines, l)
				cl.styles = append(cl.styles, p.style)
			}
		}
		if len(cl.lines) > maxLines {
			cl.lines = append(cl.lines[:maxLines-1], "…")
			cl.styles = cl.styles[:maxLines]
		}
		rows = max(rows, len(cl.lines))
		laid[i] = cl
	}
	return laid, float64(rows)*leading(cellSize) + 2*cellPad
}

// drawCells draws a row's laid cells below top, columns from the right edge,
// each centred or right-aligned as its column says.
func (d *doc) drawCells(cols []column, laid []cellLines, top float64) {
	lh := leading(cellSize)
	x := right
	for i, c := range cols {
		for k, l := range laid[i].lines {
			d.setFont(laid[i].styles[k], cellSize)
			base := top + cellPad + float64(k)*lh + lh*0.72
			if c.center {
				d.drawAt(x-c.width/2-d.strWidth(l)/2, base, l, 0)
			} else {
				d.drawRight(x-cellPad, base, l)
			}
		}
		x -= c.width
	}
}

func (b *book) numberCell(rec *archive.Record, annulled bool) []part {
	p := []part{{bold, b.d.num(rec.Number)}}
	if annulled {
		p = append(p, part{bold, "ملغى"})
	}
	return p
}

func (b *book) dateCell(rec *archive.Record) []part {
	t, err := time.Parse(time.DateOnly, rec.Date)
	if err != nil {
		t = rec.CreatedAt.In(b.opt.Location)
	}
	p := []part{{regular, b.d.date(t)}}
	if b.opt.Hijri {
		p = append(p, part{regular, b.d.hijriDate(t)})
	}
	return p
}

// date prints a day as 2020/12/07: year first and slashes, which the bidi
// algorithm keeps in this order next to Arabic words (7-12-2020 would be
// reordered to 2020-12-7 by rule W2).
func (d *doc) date(t time.Time) string {
	return d.digits(t.Format("2006/01/02"))
}

func (d *doc) hijriDate(t time.Time) string {
	y, m, dd := hijri(t)
	if y == 0 {
		return ""
	}
	return d.digits(fmt.Sprintf("%d/%02d/%02d", y, m, dd)) + " هـ"
}

func partyCell(rec *archive.Record) []part {
	switch rec.Register {
	case archive.Incoming:
		return []part{{regular, rec.From}}
	case archive.Outgoing:
		return []part{{regular, rec.To}}
	}
	var p []part
	if rec.From != "" {
		p = append(p, part{regular, "من: " + rec.From})
	}
	if rec.To != "" {
		p = append(p, part{regular, "إلى: " + rec.To})
	}
	if len(p) == 0 && rec.Committee != "" {
		p = append(p, part{regular, rec.Committee})
	}
	return p
}

func (b *book) attachmentsCell(rec *archive.Record) []part {
	switch n := len(rec.Attachments); {
	case n == 0:
		return []part{{regular, "—"}}
	case n <= 3:
		var p []part
		for _, a := range rec.Attachments {
			p = append(p, part{regular, a.Name})
		}
		return p
	case n <= 10:
		return []part{{regular, fmt.Sprintf("%s مرفقات", b.d.num(n))}}
	default: // Arabic counts from eleven on take the singular
		return []part{{regular, fmt.Sprintf("%s مرفقًا", b.d.num(n))}}
	}
}

func (b *book) notesCell(rec *archive.Record, annulled bool) []part {
	var p []part
	if annulled {
		p = append(p, part{bold, "«ملغى»"})
		if r := strings.TrimSpace(rec.AnnulReason); r != "" {
			p = append(p, part{regular, "السبب: " + r})
		}
	}
	if rec.Reference != "" {
		ref := "مرجع المرسل: " + rec.Reference
		if t, err := time.Parse(time.DateOnly, rec.ReferenceDate); err == nil {
			ref += " بتاريخ " + b.d.date(t)
		}
		p = append(p, part{regular, ref})
	}
	if rec.Confidentiality == archive.Confidential {
		p = append(p, part{regular, "سري"})
	}
	if rec.Version > 1 {
		p = append(p, part{regular, "عُدِّل بعد القيد"})
	}
	return p
}

// registerPurpose says what a register records, for the certificates.
func registerPurpose(r archive.Register) string {
	switch r {
	case archive.Incoming:
		return "لقيد المراسلات الواردة إلى"
	case archive.Outgoing:
		return "لقيد المراسلات الصادرة عن"
	case archive.Decisions:
		return "لقيد القرارات الصادرة عن"
	case archive.Minutes:
		return "لقيد محاضر اجتماعات"
	}
	return "لقيد وثائق"
}

// paragraph prints wrapped logical text right-aligned from y and returns the
// y below it.
func (d *doc) paragraph(y float64, text string, size float64, style string, width float64) float64 {
	d.setFont(style, size)
	lh := leading(size)
	for _, l := range d.wrap(text, width) {
		d.drawRight(right-5, y+lh*0.72, l)
		y += lh
	}
	return y
}

// opening prints the opening certificate, the book's first page.
func (b *book) opening() {
	b.newPage()
	d := b.d
	d.setFont(bold, 20)
	d.textCenter(pageW/2, 62, "محضر افتتاح السجل")
	y := 80.0
	org := user(b.opt.Organisation)
	if org == "" {
		org = "الهيئة"
	}
	text := fmt.Sprintf("يُفتتح هذا السجل، «%s»، %s %s خلال سنة %s.", b.opt.Register.Title(), registerPurpose(b.opt.Register), org, d.num(b.opt.Year))
	y = d.paragraph(y, text, 13, regular, bodyW-10)
	y = d.paragraph(y+3, fmt.Sprintf("وصفحاته مرقمة بالتسلسل، وعددها %s، أولاها هذه الصفحة وآخرها محضر الاختتام.", countAlias), 13, regular, bodyW-10)
	y = d.paragraph(y+3, "تُقيَّد فيه الوثائق بأرقام متسلسلة لا تتكرر ولا تُترك، ولا يُمحى منه قيد؛ والقيد الخاطئ يُلغى ويبقى في موضعه مؤشَّرًا عليه بعبارة «ملغى» مع سبب الإلغاء.", 13, regular, bodyW-10)
	y = d.paragraph(y+3, "حُرِّر بتاريخ "+b.dayText(b.now)+".", 13, regular, bodyW-10)
	signatures(d, y+20)
}

// dayText is a date in Gregorian and, if asked, Hijri.
func (b *book) dayText(t time.Time) string {
	s := b.d.date(t)
	if b.opt.Hijri {
		s += " الموافق " + b.d.hijriDate(t)
	}
	return s
}

// signatures prints the two signature blocks of a certificate or letter.
func signatures(d *doc, y float64) {
	d.setFont(bold, 12)
	d.textCenter(right-40, y, "أمين السر")
	d.textCenter(left+40, y, "الرئيس")
	d.setFont(regular, 11)
	for i, label := range []string{"الاسم: ....................................", "التوقيع: ................................", "الختم:"} {
		yy := y + 10 + float64(i)*9
		d.textCenter(right-40, yy, label)
		d.textCenter(left+40, yy, label)
	}
}

// closing prints the closing certificate, the book's last page.
func (b *book) closing(st bookStats) {
	b.newPage()
	d := b.d
	d.setFont(bold, 20)
	d.textCenter(pageW/2, 62, "محضر اختتام السجل")
	y := 80.0
	y = d.paragraph(y, fmt.Sprintf("يُختتم هذا السجل، «%s» لسنة %s، وفيه البيانات الآتية:", b.opt.Register.Title(), d.num(b.opt.Year)), 13, regular, bodyW-10)
	y += 3
	rows := [][2]string{
		{"عدد القيود", d.num(st.count)},
	}
	if st.count > 0 {
		rows = append(rows,
			[2]string{"أول رقم", d.num(st.first)},
			[2]string{"آخر رقم", d.num(st.last)})
	}
	rows = append(rows, [2]string{"القيود الملغاة", d.num(st.annulled)})
	if st.gaps > 0 {
		rows = append(rows, [2]string{"أرقام غير موجودة في التسلسل", d.num(st.gaps)})
	}
	rows = append(rows,
		[2]string{"عدد صفحات السجل", d.num(d.pdf.PageNo())},
		[2]string{"تاريخ الاختتام", b.dayText(b.now)})
	lh := leading(13)
	d.setFont(regular, 13)
	for _, r := range rows {
		d.textRight(right-5, y+lh*0.72, r[0]+": "+r[1])
		y += lh
	}
	y += 4
	y = d.paragraph(y, "بصمة محتوى السجل (SHA-256)، يعيد الأمر sijill verify حسابها من الأرشيف:", 12, bold, bodyW-10)
	d.setFont(regular, 11)
	d.textRight(right-5, y+5, digestText(st.digest))
	y += 9
	head := st.head
	if head == "" {
		head = "—"
	}
	y = d.paragraph(y, "رأس سلسلة القيود (بصمة آخر قيد):", 12, bold, bodyW-10)
	d.setFont(regular, 11)
	d.textRight(right-5, y+5, digestText(head))
	signatures(d, y+30)
	footer(d, true)
}

// digestText groups a hex digest in blocks of eight so it can be read aloud
// and compared by eye.
func digestText(h string) string {
	var b strings.Builder
	b.WriteRune('\u2066') // LRI: a left-to-right island, whatever the groups start with
	for i := 0; i < len(h); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+8, len(h))])
	}
	b.WriteRune('\u2069') // PDI
	return b.String()
}
