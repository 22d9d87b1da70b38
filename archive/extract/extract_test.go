package extract_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/internal/scantest"
)

// The lines printed on the test pages, and words of them OCR must read.
const (
	subject = "دعوة إلى اجتماع المكتب السياسي"
	body    = "يشرفنا أن ندعوكم إلى حضور اجتماع المكتب السياسي لمناقشة التقرير المالي وتحضير المؤتمر الجهوي بمدينة بوزنيقة."
)

// ocrCeiling bounds a page's reading and a wait for the pool in these tests:
// seconds on a quiet machine, minutes on a loaded two-core one running other
// suites; the ceiling catches a reader that never ends, it does not time one.
const ocrCeiling = 10 * time.Minute

var ocrWords = []string{"اجتماع", "المكتب", "السياسي", "التقرير", "المالي", "المؤتمر", "بوزنيقة"}

func TestMain(m *testing.M) {
	extract.RunChildIfAsked() // the pools read files in children of this test binary
	os.Exit(m.Run())
}

// needTools fails, never skips, without the real tools.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"tesseract", "pdftotext", "pdftoppm", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make test` (it installs tesseract-ocr-ara and poppler-utils)", tool)
		}
	}
	if !extract.DetectTools(context.Background(), os.Getenv("SIJILL_TESSDATA")).OCR() {
		t.Fatal("tesseract lacks the ara or eng language data: run `make test` (it installs tesseract-ocr-ara)")
	}
}

// found returns the wanted words missing from text.
func missing(text string, want []string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(text, w) {
			out = append(out, w)
		}
	}
	return out
}

// fold forgives what the search index forgives too: the seat of a hamza,
// alef maqsura for ya and ta marbuta for ha.
func fold(s string) string {
	return strings.NewReplacer("أ", "ا", "إ", "ا", "آ", "ا", "ى", "ي", "ة", "ه").Replace(s)
}

func foldAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = fold(w)
	}
	return out
}

func office(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, _ := zw.Create(n)
		w.Write([]byte(files[n]))
	}
	zw.Close()
	return buf.Bytes()
}

const docxXML = `<?xml version="1.0" encoding="UTF-8"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>محضر اجتماع</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> الكتابة الإقليمية</w:t></w:r></w:p>
<w:p><w:r><w:instrText>PAGE</w:instrText><w:t>صادق الأعضاء على الميزانية</w:t></w:r></w:p>
</w:body></w:document>`

const odtXML = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:text><text:h>قرار المجلس الوطني</text:h><text:p>تشكيل<text:s/>لجنة التحكيم</text:p></office:text></office:body></office:document-content>`

// TestFile reads each kind of file a secretariat stores, with the real tools.
func TestFile(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	born, err := os.ReadFile("testdata/letter.pdf") // the print of subject and body (internal/scantest/printed)
	if err != nil {
		t.Fatal(err)
	}
	page, err := scantest.Page(ctx, born, 300)
	if err != nil {
		t.Fatal(err)
	}
	// The print's letterhead, subject and body fill the top of the page; OCR
	// of that part is what the test waits for.
	top := scantest.Crop(page, 0, page.Bounds().Dy()/2)
	scan := scantest.Spoil(top, 1.5, 40, 0.003, 7)
	scanPNG := scantest.EncodePNG(scan)
	scanPDF, err := scantest.ImagePDF(scanPNG)
	if err != nil {
		t.Fatal(err)
	}
	h := top.Bounds().Dy()
	tiff := scantest.TIFF(scantest.Crop(top, 0, h/2), scantest.Crop(top, h/2, h))

	x := &extract.Extractor{Tools: extract.DetectTools(ctx, os.Getenv("SIJILL_TESSDATA")), PageTimeout: ocrCeiling}
	for _, tc := range []struct {
		name, ctype string
		data        []byte
		method      string
		pages       int
		want        []string
		wantErr     string
	}{
		// OCR of a noisy scan misses a word now and then, as on a real
		// scan: one missing word of ocrWords is forgiven below.
		{"born-digital PDF", "application/pdf", born, "text", 1, []string{"دعوة إلى اجتماع المكتب السياسي", "لمناقشة التقرير المالي"}, ""},
		{"scanned PNG", "image/png", scanPNG, "ocr", 1, ocrWords, ""},
		{"scanned PDF", "application/pdf", scanPDF, "ocr", 1, ocrWords, ""},
		{"two-page TIFF", "image/tiff", tiff, "ocr", 2, ocrWords, ""},
		{"DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			office(t, map[string]string{"word/document.xml": docxXML}), "xml", 1, []string{"محضر اجتماع", "الكتابة الإقليمية\nصادق الأعضاء على الميزانية"}, ""},
		{"ODT", "application/vnd.oasis.opendocument.text",
			office(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": odtXML}), "xml", 1,
			[]string{"قرار المجلس الوطني\nتشكيل لجنة التحكيم"}, ""},
		{"corrupt PDF", "application/pdf", []byte("%PDF-1.7\n" + strings.Repeat("\x00garbage\xff", 200)), "", 0, nil, "pdfinfo"},
		{"corrupt PNG", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB}, 500)...), "", 0, nil, "tesseract"},
		{"DOCX without a body", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			office(t, map[string]string{"word/styles.xml": "<x/>"}), "", 0, nil, "no word/document.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "file")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := x.File(ctx, path, tc.ctype, dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != tc.method || res.Pages != tc.pages {
				t.Errorf("method %q pages %d, want %q %d", res.Method, res.Pages, tc.method, tc.pages)
			}
			forgiven := 0
			if tc.method == "ocr" {
				forgiven = 1
			}
			if m := missing(fold(res.Text), foldAll(tc.want)); len(m) > forgiven {
				t.Errorf("the text lacks %q:\n%s", m, res.Text)
			}
			if strings.ContainsFunc(res.Text, func(r rune) bool { return r >= 0xFB50 && r <= 0xFEFF }) {
				t.Errorf("presentation forms left in the text:\n%s", res.Text)
			}
			// The OCR's confidence is kept, and only for what OCR read.
			if ocr := strings.Contains(tc.method, "ocr"); ocr != (res.Confidence > 0) || res.Confidence > 100 {
				t.Errorf("method %q with confidence %.1f", res.Method, res.Confidence)
			}
		})
	}
}

// TestDoubtfulReading: a scan spoiled past reading comes back with a low
// confidence, under the line where the page warns the secretary; a fair
// scan of the same letter does not.
func TestDoubtfulReading(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	pdf, err := os.ReadFile("testdata/letter.pdf")
	if err != nil {
		t.Fatal(err)
	}
	page, err := scantest.Page(ctx, pdf, 300)
	if err != nil {
		t.Fatal(err)
	}
	top := scantest.Crop(page, 0, page.Bounds().Dy()/2)
	x := &extract.Extractor{Tools: extract.DetectTools(ctx, os.Getenv("SIJILL_TESSDATA")), PageTimeout: ocrCeiling}
	read := func(png []byte) extract.Result {
		dir := t.TempDir()
		path := filepath.Join(dir, "scan.png")
		if err := os.WriteFile(path, png, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := x.File(ctx, path, "image/png", dir)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	fair := read(scantest.EncodePNG(scantest.Spoil(top, 0.5, 10, 0, 3)))
	if fair.Confidence < extract.DoubtfulBelow {
		t.Errorf("a fair scan read with confidence %.1f, under the doubtful line %d:\n%s", fair.Confidence, extract.DoubtfulBelow, fair.Text)
	}
	// Printed too small to read, as a fax of a fax: the same letter at 100 dpi.
	small, err := scantest.Page(ctx, pdf, 100)
	if err != nil {
		t.Fatal(err)
	}
	bad := read(scantest.EncodePNG(scantest.Spoil(scantest.Crop(small, 0, small.Bounds().Dy()/2), 1, 30, 0.002, 3)))
	if bad.Confidence == 0 || bad.Confidence >= extract.DoubtfulBelow {
		t.Errorf("a scan spoiled past reading: confidence %.1f, want under %d:\n%s", bad.Confidence, extract.DoubtfulBelow, bad.Text)
	}
}

// TestFileWithoutTools: a host without Tesseract or poppler says the file is
// unavailable rather than failed, and still reads office documents.
func TestFileWithoutTools(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x := &extract.Extractor{}
	for _, ctype := range []string{"image/png", "application/pdf"} {
		path := filepath.Join(dir, "f")
		os.WriteFile(path, []byte("x"), 0o600)
		if _, err := x.File(ctx, path, ctype, dir); !errors.Is(err, extract.ErrUnavailable) {
			t.Errorf("%s without tools: %v, want ErrUnavailable", ctype, err)
		}
	}
	path := filepath.Join(dir, "d")
	os.WriteFile(path, office(t, map[string]string{"word/document.xml": docxXML}), 0o600)
	res, err := x.File(ctx, path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", dir)
	if err != nil || !strings.Contains(res.Text, "محضر اجتماع") {
		t.Errorf("DOCX without tools: %q %v", res.Text, err)
	}
}

func newStore(t *testing.T, dir string) *archive.Store {
	t.Helper()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "bucket", ".tmp")
	os.MkdirAll(tmp, 0o750)
	return archive.NewStore(b, archive.Options{TempDir: tmp})
}

// reindexLog records the pool's calls back to re-index records.
type reindexLog struct {
	mu  sync.Mutex
	ids []string
}

func (r *reindexLog) reindex(_ context.Context, ids []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, ids...)
	return nil
}

func (r *reindexLog) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.ids, id)
}

func put(t *testing.T, s *archive.Store, name string, data []byte) archive.Attachment {
	t.Helper()
	a, err := s.PutBlob(context.Background(), bytes.NewReader(data), name, 50<<20)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPool: jobs are recorded in the bucket, the text is stored once per
// file, every record carrying a file is re-indexed, a bad file fails with its
// reason without stopping the others, and a restart finishes the queue.
func TestPool(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	dir := t.TempDir()
	store := newStore(t, dir)

	born, err := os.ReadFile("testdata/letter.pdf") // the print of subject and body (internal/scantest/printed)
	if err != nil {
		t.Fatal(err)
	}
	docx := put(t, store, "محضر.docx", office(t, map[string]string{"word/document.xml": docxXML}))
	pdf := put(t, store, "letter.pdf", born)
	bad := put(t, store, "bad.pdf", []byte("%PDF-1.4\n"+strings.Repeat("garbage ", 100)))

	// The first pool is closed at once, with its queue unread.
	var log1 reindexLog
	p1 := extract.New(ctx, store, extract.Options{Workers: 1, Reindex: log1.reindex, Tools: &extract.Tools{}})
	// No tools: nothing can be read but the DOCX; closing before Start leaves all pending.
	for id, files := range map[string][]archive.Attachment{
		"incoming-2026-1": {pdf, docx}, "incoming-2026-2": {pdf}, "incoming-2026-3": {bad},
	} {
		if err := p1.Enqueue(ctx, id, files); err != nil {
			t.Fatal(err)
		}
	}
	p1.Close()
	for _, a := range []archive.Attachment{pdf, docx, bad} {
		if st, ok, err := p1.Status(ctx, a.SHA256); err != nil || !ok || st.Status != extract.StatusPending {
			t.Fatalf("%s after close: %+v %v %v, want pending", a.Name, st, ok, err)
		}
	}

	// A restart resumes the queue.
	var log2 reindexLog
	p2 := extract.New(ctx, store, extract.Options{Workers: 2, Reindex: log2.reindex})
	if err := p2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	wctx, cancel := context.WithTimeout(ctx, ocrCeiling)
	defer cancel()
	if err := p2.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a      archive.Attachment
		status string
		text   string
	}{
		{pdf, extract.StatusDone, "لمناقشة التقرير المالي"},
		{docx, extract.StatusDone, "صادق الأعضاء"},
		{bad, extract.StatusFailed, ""},
	} {
		st, _, err := p2.Status(ctx, tc.a.SHA256)
		if err != nil || st.Status != tc.status {
			t.Errorf("%s: %+v %v, want %s", tc.a.Name, st, err, tc.status)
		}
		text, ok, _ := store.Text(ctx, tc.a.SHA256)
		if tc.status == extract.StatusDone && (!ok || !strings.Contains(text, tc.text) || st.Chars != len([]rune(text))) {
			t.Errorf("%s: stored text %q (%v), chars %d", tc.a.Name, text, ok, st.Chars)
		}
		if tc.status == extract.StatusFailed && (st.Error == "" || ok) {
			t.Errorf("%s: failed without a reason (%q) or with text stored (%v)", tc.a.Name, st.Error, ok)
		}
	}
	for _, id := range []string{"incoming-2026-1", "incoming-2026-2"} {
		if !log2.has(id) {
			t.Errorf("%s was not re-indexed after its file's text was read: %v", id, log2.ids)
		}
	}
	if log2.has("incoming-2026-3") {
		t.Errorf("the record of a failed file was re-indexed: %v", log2.ids)
	}

	// A file already read is not read again when another record carries it,
	// unless asked.
	if err := p2.Enqueue(ctx, "outgoing-2026-9", []archive.Attachment{pdf}); err != nil {
		t.Fatal(err)
	}
	again, _ := p2.Job(ctx, pdf.SHA256)
	if again.Status != extract.StatusDone || !slices.Contains(again.Records, "outgoing-2026-9") || p2.Queued() != 0 {
		t.Errorf("second carrier not noted or the file queued again: records %v, queued %d", again.Records, p2.Queued())
	}
	if err := p2.Reextract(ctx, "outgoing-2026-9", []archive.Attachment{pdf}); err != nil {
		t.Fatal(err)
	}
	if err := p2.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if !log2.has("outgoing-2026-9") {
		t.Errorf("re-extraction did not re-index the carriers: %v", log2.ids)
	}
}

// TestPoolWithoutTools: a file whose tool is missing is unavailable, and
// becomes readable after a restart with the tool installed.
func TestPoolWithoutTools(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	store := newStore(t, t.TempDir())
	born, err := os.ReadFile("testdata/letter.pdf") // the print of subject and body (internal/scantest/printed)
	if err != nil {
		t.Fatal(err)
	}
	pdf := put(t, store, "letter.pdf", born)
	p1 := extract.New(ctx, store, extract.Options{Tools: &extract.Tools{}})
	if err := p1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p1.Enqueue(ctx, "incoming-2026-1", []archive.Attachment{pdf})
	p1.Wait(ctx)
	p1.Close()
	st, _, _ := p1.Status(ctx, pdf.SHA256)
	if st.Status != extract.StatusUnavailable || !strings.Contains(st.Error, "poppler-utils") {
		t.Fatalf("without poppler: %+v, want unavailable naming poppler-utils", st)
	}
	p2 := extract.New(ctx, store, extract.Options{})
	if err := p2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	p2.Wait(ctx)
	if st, _, _ := p2.Status(ctx, pdf.SHA256); st.Status != extract.StatusDone || st.Chars == 0 {
		t.Errorf("after installing poppler: %+v, want done", st)
	}
}

// TestPoolNoticesToolsInstalledLater: a server started before Tesseract and
// poppler were installed reads the files that waited for them once they are
// there, without a restart.
func TestPoolNoticesToolsInstalledLater(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	store := newStore(t, t.TempDir())
	born, err := os.ReadFile("testdata/letter.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf := put(t, store, "letter.pdf", born)
	// The pool starts believing nothing is installed; the real tools are
	// what it finds when it looks again.
	p := extract.New(ctx, store, extract.Options{Tools: &extract.Tools{}, ToolsEvery: 200 * time.Millisecond,
		Tessdata: os.Getenv("SIJILL_TESSDATA")})
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Enqueue(ctx, "incoming-2026-1", []archive.Attachment{pdf}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ocrCeiling) // a ceiling that only catches a hang
	for {
		st, _, err := p.Status(ctx, pdf.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == extract.StatusDone && st.Chars > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file is %+v %s after the tools appeared, want done", st, ocrCeiling)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if tools := p.Tools(); !tools.OCR() || !tools.Pdftotext {
		t.Errorf("the pool's tools: %+v, want those installed", tools)
	}
}

// TestReaderThatDiesIsGivenUp: a file whose reader dies every time (killed
// for going over its limits, say) is tried maxAttempts times and then
// failed, with the reason; the pool goes on.
func TestReaderThatDiesIsGivenUp(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, t.TempDir())
	a := put(t, store, "letter.docx", office(t, map[string]string{"word/document.xml": docxXML}))
	// A child reader that is killed as soon as it starts.
	p := extract.New(ctx, store, extract.Options{Workers: 1, RetryAfter: 50 * time.Millisecond,
		Command: []string{"sh", "-c", "kill -9 $$"}})
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Enqueue(ctx, "incoming-2026-1", []archive.Attachment{a}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ocrCeiling)
	for {
		job, err := p.Job(ctx, a.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status == extract.StatusFailed {
			if job.Attempts != 3 || !strings.Contains(job.Error, "given up after 3 attempts") || !strings.Contains(job.Error, "killed") {
				t.Errorf("failed after %d attempts with %q, want 3 and the reason", job.Attempts, job.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the job is %+v, want failed", ocrCeiling, job)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestModelFallback: a model folder without the Arabic model falls back to
// Tesseract's own, and says why, rather than leaving scans unread.
func TestModelFallback(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	empty := extract.DetectTools(ctx, t.TempDir())
	if !empty.OCR() || empty.Model != extract.ModelStandard || empty.Tessdata != "" || !strings.Contains(empty.ModelNote, "no ara") {
		t.Errorf("an empty model folder: %+v, want Tesseract's own model and a note", empty)
	}
	if unset := extract.DetectTools(ctx, ""); unset.Model != extract.ModelStandard || !strings.Contains(unset.ModelNote, "SIJILL_TESSDATA") {
		t.Errorf("no model folder: %+v, want the standard model and a note naming SIJILL_TESSDATA", unset)
	}
	dir := os.Getenv("SIJILL_TESSDATA")
	if dir == "" {
		t.Fatal("SIJILL_TESSDATA is not set: run `make test` (make deps fetches the best Arabic model into bin/tessdata)")
	}
	if best := extract.DetectTools(ctx, dir); best.Model != extract.ModelBest || best.Tessdata != dir || best.ModelNote != "" {
		t.Errorf("the model folder %s: %+v, want the best model", dir, best)
	}
}

// TestEasternDigits reads the heads of three letters of the OCR set
// (internal/ocrset), scanned: two write their reference and date in Eastern
// Arabic digits, which Tesseract's models cannot read (digits.go reads
// them), the third in Western digits, which must come out as Tesseract read
// them.
func TestEasternDigits(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	x := &extract.Extractor{Tools: extract.DetectTools(ctx, os.Getenv("SIJILL_TESSDATA")), PageTimeout: ocrCeiling}
	for _, tc := range []struct {
		print string
		want  []string
	}{
		{"03-kufi-300-jpeg.pdf", []string{"م و/٣٢/٢٠٢٦", "١٢/٠٧/٢٠٢٤"}},
		{"01-amiri-300-eastern.pdf", []string{"/٣٦٧/٢٠٢٥", "١٦/٠٣/٢٠٢٥"}},
		{"04-sans-200.pdf", []string{"ك ع/311/2024", "04/02/2022"}},
	} {
		t.Run(tc.print, func(t *testing.T) {
			res := readLetter(t, x, tc.print, 300, func(page *image.Gray) *image.Gray {
				return scantest.Spoil(scantest.Crop(page, 0, 900), 0, 20, 0, 1)
			})
			text := strings.Map(func(r rune) rune {
				if r == '\u200e' || r == '\u200f' {
					return -1
				}
				return r
			}, res.Text)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q is not in the text read:\n%s", w, res.Text)
				}
			}
		})
	}
}

// TestArabicCommas reads three letters of the OCR set, printed clean: in
// KacstOffice and in Noto Sans Arabic at 200 dpi Tesseract reads the Arabic
// comma as a full stop, and Sijill tells them apart by their marks; the
// letters' true stops stay stops. In Amiri, whose commas Tesseract reads as
// «,» or not at all, the stops must all stay stops.
func TestArabicCommas(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	x := &extract.Extractor{Tools: extract.DetectTools(ctx, os.Getenv("SIJILL_TESSDATA")), PageTimeout: ocrCeiling}
	for _, tc := range []struct {
		print         string
		dpi           int
		commas, stops int    // in the letter as typed
		minCommas     int    // read as commas at least: Tesseract misses a few
		stop          string // a word ending with a true stop
	}{
		{"11-kacstoffice-300-rotated.pdf", 300, 29, 2, 23, "والاحترام."},
		{"04-sans-200.pdf", 200, 13, 3, 10, "والاحترام."},
		{"01-amiri-300-eastern.pdf", 300, 3, 6, 0, "الحزب."},
	} {
		t.Run(tc.print, func(t *testing.T) {
			res := readLetter(t, x, tc.print, tc.dpi, func(page *image.Gray) *image.Gray { return page })
			commas, stops := strings.Count(res.Text, "،"), 0
			for _, w := range strings.Fields(res.Text) {
				if strings.HasSuffix(w, ".") {
					stops++
				}
			}
			if commas < tc.minCommas || commas > tc.commas+2 || stops < tc.stops-1 || stops > tc.stops+2 {
				t.Errorf("%d commas and %d words ending with a stop read, want about %d and %d:\n%s", commas, stops, tc.commas, tc.stops, res.Text)
			}
			if !strings.Contains(res.Text, tc.stop) {
				t.Errorf("%q is not read:\n%s", tc.stop, res.Text)
			}
		})
	}
}

// readLetter reads, as a PNG scan, the first page of one of the OCR set's
// printed letters (internal/ocrset/testdata, read as a file: the package
// imports the archive) rasterised at dpi and passed through scan.
func readLetter(t *testing.T, x *extract.Extractor, print string, dpi int, scan func(*image.Gray) *image.Gray) extract.Result {
	t.Helper()
	page := letterPage(t, print, dpi)
	dir := t.TempDir()
	path := filepath.Join(dir, "scan.png")
	if err := os.WriteFile(path, scantest.EncodePNG(scan(page)), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := x.File(t.Context(), path, "image/png", dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// letterPage rasterises print, a letter of the OCR set
// (internal/ocrset/testdata), at dpi.
func letterPage(t *testing.T, print string, dpi int) *image.Gray {
	t.Helper()
	pdf, err := os.ReadFile(filepath.Join("..", "..", "internal", "ocrset", "testdata", print))
	if err != nil {
		t.Fatal(err)
	}
	page, err := scantest.Page(t.Context(), pdf, dpi)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// askedLexicon knows no word and notes the words it was asked about.
type askedLexicon struct {
	mu    sync.Mutex
	asked []string
}

func (l *askedLexicon) Known(w string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, w)
	return false
}

// TestPoolAsksLexicon reads a scan through the pool's child reader: the words
// Tesseract doubted come back to the server's process, which holds the
// lexicon (the child never loads it), and are judged there.
func TestPoolAsksLexicon(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	store := newStore(t, t.TempDir())
	scan := put(t, store, "scan.png", scantest.EncodePNG(letterPage(t, "11-kacstoffice-300-rotated.pdf", 300)))
	lex := &askedLexicon{}
	p := extract.New(ctx, store, extract.Options{Workers: 1, Lexicon: lex, Tessdata: os.Getenv("SIJILL_TESSDATA")})
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Enqueue(ctx, "incoming-2026-1", []archive.Attachment{scan})
	wctx, cancel := context.WithTimeout(ctx, ocrCeiling)
	defer cancel()
	if err := p.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := p.Status(ctx, scan.SHA256); st.Status != extract.StatusDone {
		t.Fatalf("scan: %+v", st)
	}
	lex.mu.Lock()
	defer lex.mu.Unlock()
	if len(lex.asked) == 0 {
		t.Error("the lexicon was asked about no word: the doubted words did not come back from the child reader")
	}
}
