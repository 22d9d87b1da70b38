package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/fonts"
	"golang.org/x/text/unicode/norm"
)

var printedAt = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func bookOptions() BookOptions {
	return BookOptions{
		Organisation: "حزب التقدم والاشتراكية — الأمانة العامة",
		Register:     archive.Outgoing, Year: 2026, Hijri: true, Now: printedAt,
	}
}

// writeBook renders a book into a temporary file and returns its path.
func writeBook(t *testing.T, opt BookOptions, recs iter.Seq2[*archive.Record, error]) string {
	t.Helper()
	return writePDF(t, "book.pdf", func(w io.Writer) error { return Book(context.Background(), w, opt, recs) })
}

// writePDF renders with render into a temporary file named name and returns
// its path; a rendering error fails the test.
func writePDF(t *testing.T, name string, render func(io.Writer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %v: %v: %s", name, args, err, ee.Stderr)
		}
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// pageTexts returns the text of each page as pdftotext extracts it, NFKC
// normalised (presentation forms back to letters) and without the bidi marks
// pdftotext adds, so it can be compared with the logical text.
func pageTexts(t *testing.T, path string) []string {
	t.Helper()
	needTool(t, "pdftotext", "poppler-utils")
	all := run(t, "pdftotext", path, "-")
	pages := strings.Split(strings.TrimRight(all, "\f"), "\f")
	for i, p := range pages {
		pages[i] = logical(p)
	}
	return pages
}

// logical normalises text for comparing what pdftotext extracts with what was
// registered: NFKC (presentation forms back to letters), then without spaces,
// bidi controls, harakat, brackets and quotes. pdftotext puts the letters of
// each run back in logical order, but it spaces mixed Arabic and number runs
// on its own, gives brackets as drawn (mirrored), attaches neutral punctuation
// (colon, dash, full stop) to the number run beside it, and extracts harakat,
// which are drawn apart, out of place. The order of letters and digits, which is
// what a reader would notice, is kept and compared.
func logical(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case invisible(r), unicode.IsSpace(r), unicode.Is(unicode.Mn, r):
			return -1
		case strings.ContainsRune("()[]{}<>«»:-.،", r):
			return -1
		}
		return r
	}, s)
}

func TestBookPages(t *testing.T) {
	const n = 60
	opt := bookOptions()
	opt.TempDir = t.TempDir()
	path := writeBook(t, opt, sampleRecords(n))
	if left, _ := os.ReadDir(opt.TempDir); len(left) > 0 {
		t.Errorf("the book left %d files in its temporary directory", len(left))
	}
	pages := pageTexts(t, path)
	if len(pages) < 4 {
		t.Fatalf("%d pages for %d entries", len(pages), n)
	}
	for i, p := range pages {
		want := fmt.Sprintf("صفحة %d من %d", i+1, len(pages))
		if !strings.Contains(p, logical(want)) {
			t.Errorf("page %d lacks %q:\n%s", i+1, want, p)
		}
	}
	first, last := pages[0], pages[len(pages)-1]
	for _, want := range []string{"محضر افتتاح السجل", "سجل الصادر لسنة 2026", fmt.Sprintf("وصفحاته مرقمة بالتسلسل، وعددها %d،", len(pages)), "حزب التقدم والاشتراكية"} {
		if !strings.Contains(first, logical(want)) {
			t.Errorf("opening certificate lacks %q:\n%s", want, first)
		}
	}
	// The closing certificate carries what `sijill verify` recomputes.
	digest := archive.NewBookDigest()
	annulled, head := 0, ""
	for rec := range sampleRecords(n) {
		digest.Add(rec)
		if rec.Status == archive.StatusAnnulled {
			annulled++
		}
		head = rec.Chain.Hash
	}
	for _, want := range []string{
		"محضر اختتام السجل",
		fmt.Sprintf("عدد القيود: %d", n),
		"أول رقم: 1", fmt.Sprintf("آخر رقم: %d", n),
		fmt.Sprintf("القيود الملغاة: %d", annulled),
		fmt.Sprintf("عدد صفحات السجل: %d", len(pages)),
		digestText(digest.Sum()), digestText(head),
	} {
		if !strings.Contains(last, logical(want)) {
			t.Errorf("closing certificate lacks %q:\n%s", want, last)
		}
	}
	// Annulled entries stay, marked with their reason.
	table := strings.Join(pages[1:len(pages)-1], " ")
	if got := strings.Count(table, "ملغى"); got != 2*annulled { // in the number and notes columns
		t.Errorf("%d entries marked «ملغى», want %d", got, annulled)
	}
	if !strings.Contains(table, logical("السبب: خطأ في المرسل إليه")) {
		t.Errorf("annulment reason not printed")
	}
}

// TestBookLogicalText: copying an entry out of the PDF gives back what was
// registered, in logical order.
func TestBookLogicalText(t *testing.T) {
	recs := []*archive.Record{
		testRecord(1, "الرد على مراسلة وزارة الداخلية رقم 117/2026", "وزارة الداخلية"),
		testRecord(2, "لا مانع من عقد الندوة الجهوية", "الكتابة الجهوية بفاس"),
		testRecord(3, "إحالة محضر «الدورة العادية» (الثانية)", "اللجنة التنفيذية"),
	}
	pages := pageTexts(t, writeBook(t, bookOptions(), seq(recs)))
	table := pages[1]
	for _, r := range recs {
		for _, want := range []string{r.Subject, r.To, "2026/01/0" + fmt.Sprint(r.Number)} {
			if !strings.Contains(table, logical(want)) {
				t.Errorf("pdftotext lacks %q:\n%s", want, table)
			}
		}
	}
}

func TestBookFontsEmbedded(t *testing.T) {
	needTool(t, "pdffonts", "poppler-utils")
	out := run(t, "pdffonts", writeBook(t, bookOptions(), sampleRecords(3)))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 { // heading, rule, regular, bold
		t.Fatalf("pdffonts:\n%s", out)
	}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if !strings.Contains(f[0], "amiri") || f[len(f)-5] != "yes" {
			t.Errorf("font not embedded: %s", l)
		}
	}
}

// TestDrawnCodePointsInFont: whatever users type (emoji, CJK, Hebrew, stray
// controls), every code point in the PDF has a glyph in the embedded font.
func TestDrawnCodePointsInFont(t *testing.T) {
	recs := []*archive.Record{
		testRecord(1, "اجتماع 🎉 مع 中文 ووفد שלום\u0007 و\u200fغيرهم QqSjNbQq", "Ünïcödé ⅧⅨ ﷺ"),
		testRecord(2, "بَيْتٌ لَا لأ لإ لآ «» () [] ٠١٢٣٤٥٦٧٨٩ ۱۲۳ ، ؛ ؟ ـ", "a\u0301 e\u0300"),
	}
	recs[1].Status, recs[1].AnnulReason = archive.StatusAnnulled, "مكرر 😀"
	opt := bookOptions()
	opt.EasternDigits = true
	path := writeBook(t, opt, seq(recs))
	needTool(t, "pdftotext", "poppler-utils")
	text := run(t, "pdftotext", path, "-")
	reg, err := fonts.NewCoverage(fonts.AmiriRegular)
	if err != nil {
		t.Fatal(err)
	}
	bold, err := fonts.NewCoverage(fonts.AmiriBold)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range text {
		if r == '\n' || r == '\f' || r == ' ' || (r >= 0x202A && r <= 0x202E) { // pdftotext's own layout marks
			continue
		}
		checked++
		if !reg.Has(r) && !bold.Has(r) {
			t.Errorf("U+%04X %q drawn but not in Amiri", r, r)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d code points extracted", checked)
	}
	if strings.Contains(text, "QqSj") || !strings.Contains(text, "NbQq") {
		t.Errorf("the page count alias in a record's text was not neutralised:\n%s", text)
	}
	if !strings.Contains(logical(text), logical("اجتماع ? مع ?? ووفد")) {
		t.Errorf("characters without glyphs are not replaced by '?':\n%s", logical(text))
	}
}

// TestBookOCR prints a page at 300 dpi and reads it back with Tesseract: what
// a person sees on paper must be the registered text, joined and in order.
func TestBookOCR(t *testing.T) {
	needTool(t, "pdftoppm", "poppler-utils")
	needTool(t, "tesseract", "tesseract-ocr-ara")
	subjects := []string{
		"الرد على مراسلة وزارة الداخلية رقم 117/2026",
		"دعوة إلى اجتماع المكتب السياسي لمناقشة التقرير المالي",
		"إحالة محضر المجلس الوطني إلى اللجنة التنفيذية",
		"تهنئة الأعضاء بمناسبة الذكرى السنوية لتأسيس الحزب",
		"لا مانع من عقد الندوة الجهوية بمدينة بوزنيقة",
		"طلب تجديد مكتب الفرع الإقليمي وتحديد موعد المؤتمر",
		"الإعلان عن لائحة المرشحين للانتخابات الجماعية",
		"شكر وتقدير للجنة التنظيمية على إنجاح الملتقى",
	}
	parties := []string{"وزارة الداخلية", "الكتابة الجهوية بفاس", "لجنة التحكيم والأخلاقيات", "المجلس الوطني"}
	var recs []*archive.Record
	for i, s := range subjects {
		recs = append(recs, testRecord(i+1, s, parties[i%len(parties)]))
	}
	opt := bookOptions()
	opt.Hijri = false
	path := writeBook(t, opt, seq(recs))
	ocr := ocrPage(t, path, 2)
	source := append([]string{opt.Organisation, "سجل الصادر لسنة 2026", "الرقم التاريخ الجهة الموضوع المرفقات ملاحظات"}, subjects...)
	source = append(source, parties...)
	if rate := ocrRecall(t, ocr, source); rate < 0.90 {
		t.Errorf("OCR found %.1f%% of the words, want >= 90%%; OCR text:\n%s", 100*rate, ocr)
	}
	if !strings.Contains(ocr, "117/2026") || strings.Contains(ocr, "2026/117") {
		t.Errorf("the number 117/2026 is not read in its order:\n%s", ocr)
	}
}

// ocrPage reads one page of a PDF back with Tesseract (Arabic, 300 dpi), as
// a reader of the printout would.
func ocrPage(t *testing.T, path string, page int) string {
	t.Helper()
	dir := t.TempDir()
	n := strconv.Itoa(page)
	run(t, "pdftoppm", "-r", "300", "-png", "-f", n, "-l", n, path, filepath.Join(dir, "p"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm made %v", pngs)
	}
	return run(t, "tesseract", pngs[0], "-", "-l", "ara", "--psm", "4")
}

// ocrRecall is the share of the words of lines that ocr holds (folded by
// ocrWord), logged with the words missed.
func ocrRecall(t *testing.T, ocr string, lines []string) float64 {
	t.Helper()
	seen := map[string]bool{}
	for _, w := range strings.Fields(ocr) {
		seen[ocrWord(w)] = true
	}
	total, found := 0, 0
	var missing []string
	for _, line := range lines {
		for _, w := range strings.Fields(line) {
			w = ocrWord(w)
			if w == "" {
				continue
			}
			total++
			if seen[w] {
				found++
			} else {
				missing = append(missing, w)
			}
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("OCR found %d of %d words (%.1f%%); missing %v", found, total, 100*rate, missing)
	return rate
}

// ocrWord folds what Tesseract commonly confuses or adds: punctuation, harakat
// and tatweel, hamza seats on alef, final yeh and alef maksura.
func ocrWord(w string) string {
	w = norm.NFKC.String(w)
	return strings.Map(func(r rune) rune {
		switch {
		case r == 'أ' || r == 'إ' || r == 'آ':
			return 'ا'
		case r == 'ى':
			return 'ي'
		case r == 'ـ' || unicode.Is(unicode.Mn, r):
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '/':
			return r
		}
		return -1
	}, w)
}

func TestBookEasternDigits(t *testing.T) {
	opt := bookOptions()
	opt.EasternDigits = true
	pages := pageTexts(t, writeBook(t, opt, seq([]*archive.Record{testRecord(117, "قرار", "المجلس")})))
	for i, p := range pages {
		want := fmt.Sprintf("صفحة %s من %s", []string{"١", "٢", "٣"}[i], "٣")
		if !strings.Contains(p, logical(want)) {
			t.Errorf("page %d lacks %q:\n%s", i+1, want, p)
		}
	}
	for _, want := range []string{"١١٧", "٢٠٢٦/٠١/٠٦", "١٤٤٧/٠٧/١٧ هـ"} {
		if !strings.Contains(pages[1], logical(want)) {
			t.Errorf("table lacks %q:\n%s", want, pages[1])
		}
	}
}

func TestBookRejects(t *testing.T) {
	other := testRecord(2, "قرار", "المجلس")
	other.Register = archive.Incoming
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	failing := func(yield func(*archive.Record, error) bool) {
		if yield(testRecord(1, "أ", "ب"), nil) {
			yield(nil, errors.New("bucket unreachable"))
		}
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		opt  func(*BookOptions)
		recs iter.Seq2[*archive.Record, error]
		code string
	}{
		{"unknown register", context.Background(), func(o *BookOptions) { o.Register = "letters" }, seq(nil), archive.EINVALID},
		{"bad year", context.Background(), func(o *BookOptions) { o.Year = 0 }, seq(nil), archive.EINVALID},
		{"other register", context.Background(), nil, seq([]*archive.Record{testRecord(1, "أ", "ب"), other}), archive.EINVALID},
		{"out of order", context.Background(), nil, seq([]*archive.Record{testRecord(2, "أ", "ب"), testRecord(1, "أ", "ب")}), archive.EINVALID},
		{"duplicate", context.Background(), nil, seq([]*archive.Record{testRecord(2, "أ", "ب"), testRecord(2, "أ", "ب")}), archive.EINVALID},
		{"read error", context.Background(), nil, failing, archive.EINTERNAL},
		{"nil record", context.Background(), nil, seq([]*archive.Record{nil}), archive.EINVALID},
		{"canceled", canceled, nil, sampleRecords(5), archive.EINTERNAL},
		{"no temporary directory", context.Background(), func(o *BookOptions) { o.TempDir += "/missing" }, sampleRecords(5), archive.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := bookOptions()
			opt.TempDir = t.TempDir()
			tmp := opt.TempDir
			if tc.opt != nil {
				tc.opt(&opt)
			}
			var buf bytes.Buffer
			err := Book(tc.ctx, &buf, opt, tc.recs)
			if err == nil {
				t.Fatal("no error")
			}
			if buf.Len() > 0 {
				t.Errorf("%d bytes written before the error", buf.Len())
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("the failed book left %d files in its temporary directory", len(left))
			}
			if got := archive.ErrorCode(err); got != tc.code {
				t.Errorf("code %q, want %q (%v)", got, tc.code, err)
			}
			if tc.name == "canceled" && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
		})
	}
}

// TestBookLongFields: an organisation name wider than the page is cut with an
// ellipsis, and a subject longer than a page is cut rather than running off it.
func TestBookLongFields(t *testing.T) {
	opt := bookOptions()
	opt.Organisation = strings.Repeat("الأمانة العامة للحزب ", 20)
	long := testRecord(1, strings.Repeat("موضوع طويل جدا ", 400), "وزارة الداخلية")
	pages := pageTexts(t, writeBook(t, opt, seq([]*archive.Record{long, testRecord(2, "قرار قصير", "المجلس")})))
	if len(pages) != 4 {
		t.Fatalf("%d pages, want opening, 2 table pages, closing", len(pages))
	}
	// pages[0] holds the header and the certificate's full sentence with the name
	if n := strings.Count(pages[2], logical("الأمانة العامة للحزب")); n == 0 || n >= 20 {
		t.Errorf("organisation name printed %d times in the header, want it cut:\n%s", n, pages[2])
	}
	if n := strings.Count(pages[1], logical("موضوع طويل جدا")); n == 0 || n >= 400 {
		t.Errorf("long subject printed %d times, want it cut", n)
	}
	if !strings.Contains(pages[2], logical("قرار قصير")) {
		t.Errorf("long subject not cut, or the next entry not on the next page:\n%s\n%s", pages[1], pages[2])
	}
}

func TestBookEmpty(t *testing.T) {
	pages := pageTexts(t, writeBook(t, bookOptions(), seq(nil)))
	if len(pages) != 3 {
		t.Fatalf("%d pages for an empty register, want opening, table, closing", len(pages))
	}
	if !strings.Contains(pages[1], logical("لم يُقيَّد في هذا السجل أي قيد")) {
		t.Errorf("empty table page does not say so:\n%s", pages[1])
	}
	if !strings.Contains(pages[2], logical("عدد القيود: 0")) {
		t.Errorf("closing certificate:\n%s", pages[2])
	}
}

func TestBookLogo(t *testing.T) {
	png, err := os.ReadFile("testdata/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	opt := bookOptions()
	opt.Logo = png
	needTool(t, "pdfimages", "poppler-utils")
	out := run(t, "pdfimages", "-list", writeBook(t, opt, sampleRecords(2)))
	if n := strings.Count(out, "image"); n < 3 { // one per page
		t.Errorf("logo not on every page:\n%s", out)
	}
	opt.Logo = []byte("GIF89a not a logo")
	if err := Book(context.Background(), &bytes.Buffer{}, opt, seq(nil)); archive.ErrorCode(err) != archive.EINVALID {
		t.Errorf("a GIF logo gave %v, want an EINVALID error", err)
	}
}

func TestRecordPrint(t *testing.T) {
	body, err := os.ReadFile("/work/shared/corpus/decisions-national-council.txt")
	if err != nil {
		body = []byte(strings.Repeat("نص القرار الطويل الذي يمتد على عدة صفحات. ", 400))
	}
	rec := testRecord(117, "اختتام دورة المجلس الوطني الاستثنائية", "")
	rec.Register, rec.ID, rec.Committee = archive.Decisions, "decisions-2026-117", "المجلس الوطني"
	rec.Body = string(body)
	rec.Attachments = []archive.Attachment{{Name: "محضر-الدورة.pdf", Size: 234567}, {Name: "scan.jpg", Size: 1234567}}
	for _, tc := range []struct {
		name     string
		annulled bool
		eastern  bool
		number   string
	}{{"active", false, false, "117/2026"}, {"annulled eastern", true, true, "١١٧/٢٠٢٦"}} {
		t.Run(tc.name, func(t *testing.T) {
			r := *rec
			if tc.annulled {
				r.Status, r.AnnulReason = archive.StatusAnnulled, "قيد مكرر للقرار 116/2026"
			}
			var buf bytes.Buffer
			if err := RecordPrint(context.Background(), &buf, PrintOptions{Organisation: "حزب الأصالة والمعاصرة", EasternDigits: tc.eastern, Now: printedAt}, &r); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "r.pdf")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			pages := pageTexts(t, path)
			all := strings.Join(pages, " ")
			if len(pages) < 2 {
				t.Errorf("a %d-byte body fits on %d page", len(body), len(pages))
			}
			for i, p := range pages {
				d := digitsOf(tc.eastern)
				if want := fmt.Sprintf("صفحة %s من %s", d(i+1), d(len(pages))); !strings.Contains(p, logical(want)) {
					t.Errorf("page %d lacks %q", i+1, want)
				}
			}
			wants := []string{"قرار رقم " + tc.number, "الموضوع: " + rec.Subject, "المرفقات:", "محضر-الدورة", "scan.jpg", "الرئيس", "التوقيع"}
			// the body comes through, line by line
			for _, l := range strings.Split(string(body), "\n") {
				if f := strings.Fields(l); len(f) > 3 {
					wants = append(wants, strings.Join(f[:3], " "))
				}
			}
			if tc.annulled {
				wants = append(wants, "«ملغى» — سبب الإلغاء: قيد مكرر للقرار 116/2026")
			}
			for _, w := range wants {
				if !strings.Contains(all, logical(w)) {
					t.Errorf("print lacks %q", w)
				}
			}
			if got := strings.Contains(all, "ملغى"); got != tc.annulled {
				t.Errorf("«ملغى» printed: %v, annulled: %v", got, tc.annulled)
			}
		})
	}
}

// TestRecordPrintRegisters: each register prints the fields its documents carry.
func TestRecordPrintRegisters(t *testing.T) {
	in := testRecord(12, "طلب تجديد مكتب الفرع", "")
	in.Register, in.ID, in.From = archive.Incoming, "incoming-2026-12", "الكتابة الجهوية بفاس"
	in.Reference, in.ReferenceDate, in.ReceivedDate = "2026/45", "2026-01-10", "2026-01-12"
	min := testRecord(3, "اجتماع الأمانة العامة", "")
	min.Register, min.ID, min.Committee = archive.Minutes, "minutes-2026-3", "الأمانة العامة"
	min.Attendees = []string{"نبيل بنعبد الله", "عائشة لبلق"}
	min.Apologies = []string{"رشيد روكبان"}
	min.Agenda = []string{"تحضير المؤتمر الوطني", "المصادقة على الميزانية"}
	min.Body = "افتتح الاجتماع على الساعة 18:00."
	min.Date = "2026-02-03"
	out := testRecord(117, "دعوة لحضور الدورة العادية", "السيد رئيس جماعة بوزنيقة")
	out.Confidentiality = archive.Confidential
	// A reply cites the letter it answers; a decision names its meeting.
	reply := testRecord(118, "جواب على طلب تجديد مكتب الفرع", "الكتابة الجهوية بفاس")
	reply.ID, reply.InReplyTo = "outgoing-2026-118", in.ID
	decision := testRecord(7, "تجديد مكتب الفرع", "")
	decision.Register, decision.ID, decision.Meeting = archive.Decisions, "decisions-2026-7", min.ID
	for _, tc := range []struct {
		rec                *archive.Record
		inReplyTo, meeting *archive.Record
		wants              []string
	}{
		{rec: reply, inReplyTo: in, wants: []string{"إشارة: كتابكم رقم 2026/45 بتاريخ 2026/01/10، المقيد لدينا في سجل الوارد برقم 12/2026 بتاريخ 2026/01/12"}},
		{rec: decision, meeting: min, wants: []string{"الاجتماع: اجتماع الأمانة العامة المنعقد بتاريخ 2026/02/03 (محضر رقم 3/2026)"}},
		{rec: in, wants: []string{"من: الكتابة الجهوية بفاس", "مرجع المرسل: 2026/45 بتاريخ 2026/01/10", "تاريخ الورود: 2026/01/12", "الرقم: 12/2026", "سجل الوارد"}},
		{rec: min, wants: []string{"محضر اجتماع الأمانة العامة", "الحاضرون", "1. نبيل بنعبد الله", "2. عائشة لبلق", "المعتذرون", "1. رشيد روكبان", "جدول الأعمال", "2. المصادقة على الميزانية", "افتتح الاجتماع", "أمين السر"}},
		{rec: out, wants: []string{"إلى: السيد رئيس جماعة بوزنيقة", "سري", "الرقم: 117/2026", "سجل الصادر"}},
	} {
		t.Run(tc.rec.ID, func(t *testing.T) {
			var buf bytes.Buffer
			opt := PrintOptions{Organisation: "الأمانة العامة", Hijri: true, Now: printedAt, InReplyTo: tc.inReplyTo, Meeting: tc.meeting}
			if err := RecordPrint(context.Background(), &buf, opt, tc.rec); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "r.pdf")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(pageTexts(t, path), " ")
			for _, w := range tc.wants {
				if !strings.Contains(all, logical(w)) {
					t.Errorf("print lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestConcurrentPrints: the server prints for several users at once; run with
// -race, this shows the documents share no state.
func TestConcurrentPrints(t *testing.T) {
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			var buf bytes.Buffer
			if i%2 == 0 {
				errs <- RecordPrint(context.Background(), &buf, PrintOptions{Now: printedAt}, testRecord(i+1, "قرار", "المجلس"))
			} else {
				errs <- Book(context.Background(), &buf, bookOptions(), sampleRecords(40))
			}
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func digitsOf(eastern bool) func(int) string {
	d := &doc{eastern: eastern}
	return d.num
}

func testRecord(n int, subject, to string) *archive.Record {
	created := time.Date(2026, 1, n%28+1, 9, 0, 0, 0, time.UTC)
	if n < 10 {
		created = time.Date(2026, 1, n, 9, 0, 0, 0, time.UTC)
	}
	r := &archive.Record{
		ID: archive.RecordID(archive.Outgoing, 2026, n), Register: archive.Outgoing, Year: 2026, Number: n,
		Date: created.Format(time.DateOnly), Subject: subject, To: to,
		Status: archive.StatusActive, Confidentiality: archive.Normal,
		CreatedAt: created, CreatedBy: "secretary", Version: 1,
	}
	r.Chain.Hash = r.Entry().Hash()
	return r
}

func seq(recs []*archive.Record) iter.Seq2[*archive.Record, error] {
	return func(yield func(*archive.Record, error) bool) {
		for _, r := range slices.Clone(recs) {
			if !yield(r, nil) {
				return
			}
		}
	}
}
