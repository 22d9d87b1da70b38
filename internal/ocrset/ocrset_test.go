package ocrset_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/internal/ocrset"
	"golang.org/x/image/tiff"
)

// TestCER checks the measure on what it must say.
func TestCER(t *testing.T) {
	for _, tc := range []struct {
		got, truth string
		want       float64
	}{
		{"المرجع: ك ج/١٤٧/٢٠٢٦", "المرجع: ك ج/147/2026", 0}, // the same number in either digits
		{"تحية  طيبة\nوبعد", "تحية طيبة وبعد", 0},           // line breaks and spaces
		{"الحزب", "الحزب", 0},                               // harakat
		{"الحرب", "الحزب", 0.2},                             // one letter of five
		{"", "abcd", 1},
	} {
		if got := ocrset.CER(tc.got, tc.truth); got != tc.want {
			t.Errorf("CER(%q, %q) = %.3f, want %.3f", tc.got, tc.truth, got, tc.want)
		}
	}
}

// The floors the OCR set must keep: a little under what the extraction
// reaches today (mean CER 0.016, recall 0.969, all 16 Eastern-digit
// references and dates found; plain Tesseract with Debian's model 0.104,
// 0.886 and none); issue 21's target for the CER is 0.025. The CER ceiling
// fails when Tesseract reads the pages at 300 dpi (0.020, see readDPI), the
// recall floor without the lexicon's corrections (0.958). Every Eastern
// number is found since search joins initials typed apart (index
// Tokenizer: «أ ع/١٨٩/٢٠٢٥» read «أع/١٨٩/٢٠٢٥»), 15 without; 14 without
// cutting a digit run into its slash (digits.go). Tesseract and the scans
// are deterministic: the same files read the same on every run. Issue 21's
// recall target (0.99) is not reached (see README, OCR).
const (
	maxMeanCER     = 0.02
	minMeanRecall  = 0.96
	minEasternSeen = 16
)

// TestOCRSet reads every letter of the set as the server does and asks
// search for its words, its reference number and its date: every scanned
// letter written with Western digits must be found by both.
func TestOCRSet(t *testing.T) {
	ctx := context.Background()
	dir := os.Getenv("SIJILL_TESSDATA")
	if dir == "" {
		t.Fatal("SIJILL_TESSDATA is not set: run `make test` (make deps fetches the best Arabic model into bin/tessdata)")
	}
	tools := extract.DetectTools(ctx, dir)
	if !tools.OCR() || tools.Model != extract.ModelBest || !tools.Pdftoppm {
		t.Fatalf("OCR tools: %+v: run `make test` (it installs Tesseract, poppler and the best Arabic model)", tools)
	}
	set, err := ocrset.Letters()
	if err != nil {
		t.Fatal(err)
	}
	if len(set) < 12 {
		t.Fatalf("the set has %d letters, want at least 12", len(set))
	}
	words, err := index.NewWords()
	if err != nil {
		t.Fatal(err)
	}
	// As the server reads: with search's lexicon correcting doubted words.
	x := &extract.Extractor{Tools: tools, PageTimeout: 10 * time.Minute, Lexicon: words} // a ceiling that only catches a hang
	readings := make([]string, len(set))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, l := range set {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b, ctype, err := l.File(ctx, uint64(i+1))
			if err != nil {
				t.Errorf("%s: %v", l.Name, err)
				return
			}
			work := t.TempDir()
			path := filepath.Join(work, "scan")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Error(err)
				return
			}
			res, err := x.File(ctx, path, ctype, work)
			if err != nil {
				t.Errorf("%s: %v", l.Name, err)
				return
			}
			readings[i] = res.Text
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	found, err := ocrset.Search(ctx, set, readings)
	if err != nil {
		t.Fatal(err)
	}
	var cer, recall float64
	eastern, seen := 0, 0
	for i, l := range set {
		if l.Eastern {
			eastern += 2
			seen += btoi(found[i].Reference) + btoi(found[i].Date)
		}
		c := ocrset.CER(readings[i], l.Truth)
		cer += c
		recall += found[i].Recall()
		t.Logf("%-28s CER %.3f recall %.3f reference %v date %v", l.Name, c, found[i].Recall(), found[i].Reference, found[i].Date)
		photo := l.Scan.Format == "photo"
		if !l.Eastern && !photo && !(found[i].Reference && found[i].Date) {
			t.Errorf("%s: its reference %q or date %q is not found by search in:\n%s", l.Name, l.Reference, l.Date, readings[i])
		}
	}
	n := float64(len(set))
	t.Logf("mean CER %.3f, mean recall %.3f", cer/n, recall/n)
	if cer/n > maxMeanCER {
		t.Errorf("mean character error rate %.3f, want at most %.3f", cer/n, maxMeanCER)
	}
	if recall/n < minMeanRecall {
		t.Errorf("mean search recall %.3f, want at least %.3f", recall/n, minMeanRecall)
	}
	// Tesseract alone finds none of them: its Arabic models cannot read ٢-٩.
	t.Logf("Eastern-digit references and dates found: %d of %d", seen, eastern)
	if seen < minEasternSeen {
		t.Errorf("%d of the %d references and dates written in Eastern digits are found by search, want at least %d", seen, eastern, minEasternSeen)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCorrect holds the corrector to search's own lexicon: a doubted word
// that is no word is put right when one edit away there is exactly one
// word; a word read with confidence, a word the lexicon knows and a name
// near several words stay as read, and so does the punctuation around them.
func TestCorrect(t *testing.T) {
	words, err := index.NewWords()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		doubted    []string
		want       string
	}{
		{"dots misread", "أمين الصتدوق، المركرية", []string{"الصتدوق", "المركرية"}, "أمين الصندوق، المركزية"},
		{"a letter lost", "السيد الحترم", []string{"الحترم"}, "السيد المحترم"},
		{"a speck read as a letter", "وبعحضور، الأمين", []string{"وبعحضور"}, "وبحضور، الأمين"},
		{"ي and ى are one reading", "بالجهات والأقالم", []string{"والأقالم"}, "بالجهات والأقاليم"},
		{"read with confidence", "أمين الصتدوق", nil, "أمين الصتدوق"},
		{"a name near several words", "إيتاس", []string{"إيتاس"}, "إيتاس"},
		{"a known word", "الجنة", []string{"الجنة"}, "الجنة"},
		{"a word split after a non-joining letter", "انتشار الأمر اض", []string{"اض"}, "انتشار الأمراض"},
		{"a first letter split off", "دين إ سلام", []string{"إ"}, "دين إسلام"},
		{"two words stay two", "وهو في", []string{"وهو", "في"}, "وهو في"},
		{"a function word is no misreading", "هذه وهذا", []string{"هذه", "وهذا"}, "هذه وهذا"},
		{"punctuation before: two words", "“ا نهج", []string{"ا"}, "“ا نهج"},
		{"a comma read as ء", "وبعدء الأمين", []string{"وبعدء"}, "وبعد، الأمين"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := extract.Correct(extract.Result{Text: tc.text, Doubted: tc.doubted}, words)
			if got.Text != tc.want {
				t.Errorf("Correct(%q) = %q, want %q", tc.text, got.Text, tc.want)
			}
		})
	}
}

// countingWords counts the words it is asked about.
type countingWords struct {
	*index.Words
	asked int
	seen  map[string]bool
}

func (c *countingWords) Known(w string) bool {
	c.asked++
	if c.seen != nil {
		c.seen[w] = true
	}
	return c.Words.Known(w)
}

// TestCorrectBounded: a "word" longer than any (a crafted scan's line of
// one letter) is not tried at all: its candidates grow with the square of
// its length, and the server's own process corrects.
func TestCorrectBounded(t *testing.T) {
	words, err := index.NewWords()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("ب", 5000)
	c := &countingWords{Words: words}
	if got := extract.Correct(extract.Result{Text: long, Doubted: []string{long}}, c); got.Text != long || c.asked != 0 {
		t.Errorf("a word of 5000 letters: %d lookups, text changed %v", c.asked, got.Text != long)
	}
	// A line of 50000 lone letters that could each begin a split word: at
	// most 2000 pairs are looked up.
	lone := strings.TrimSpace(strings.Repeat("ا ", 50000))
	c = &countingWords{Words: words}
	extract.Correct(extract.Result{Text: lone, Doubted: []string{"ا"}}, c)
	if c.asked > 3*2000 {
		t.Errorf("a line of 50000 lone letters: %d lookups", c.asked)
	}
	// A file of thousands of distinct doubted words: the first 2000 are
	// tried, the rest left as read.
	var junk []string
	letters := []rune("بجدرسصطعفك") // one of each set of confusable letters: no word is another's candidate
	for i := range 3000 {
		junk = append(junk, string([]rune{letters[i%10], letters[i/10%10], letters[i/100%10], letters[i/1000], 'ظ', 'غ'}))
	}
	c = &countingWords{Words: words, seen: map[string]bool{}}
	extract.Correct(extract.Result{Text: strings.Join(junk, " "), Doubted: junk}, c)
	for _, w := range junk[2000:] {
		if c.seen[w] {
			t.Fatalf("word %q, after the first 2000 distinct doubted words, was tried", w)
		}
	}
}

// TestFeederTIFF: a scanner's feeder writes a morning's letters as one TIFF
// of many pages. Each page is read like a scan of its own, so the Eastern
// reference and date of every page are found; read whole by Tesseract, as
// before, the digit reader saw no page and they were read as Latin junk.
func TestFeederTIFF(t *testing.T) {
	ctx := context.Background()
	tools := extract.DetectTools(ctx, os.Getenv("SIJILL_TESSDATA"))
	if !tools.OCR() || tools.Model != extract.ModelBest || !tools.Tiffcp {
		t.Fatalf("OCR tools: %+v: run `make test` (it installs Tesseract, libtiff-tools and the best Arabic model)", tools)
	}
	set, err := ocrset.Letters()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	// The first two Eastern-digit letters, a PNG scan made a TIFF page
	// stating no resolution (as some scanners write them).
	var pages []ocrset.Letter
	var files []string
	for i, l := range set {
		if !l.Eastern || len(pages) == 2 {
			continue
		}
		b, ctype, err := l.File(ctx, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(work, l.Name+".tif")
		switch ctype {
		case "image/tiff":
		case "image/png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
				t.Fatal(err)
			}
			b = buf.Bytes()
		default:
			continue
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		pages, files = append(pages, l), append(files, path)
	}
	if len(pages) != 2 {
		t.Fatalf("the set has %d Eastern-digit letters in TIFF or PNG, want 2", len(pages))
	}
	feeder := filepath.Join(work, "feeder.tif")
	if out, err := exec.CommandContext(ctx, "tiffcp", append(files, feeder)...).CombinedOutput(); err != nil {
		t.Fatalf("tiffcp: %v: %s", err, out)
	}
	words, err := index.NewWords()
	if err != nil {
		t.Fatal(err)
	}
	x := &extract.Extractor{Tools: tools, PageTimeout: 10 * time.Minute, Lexicon: words}
	res, err := x.File(ctx, feeder, "image/tiff", work)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 2 {
		t.Errorf("read %d pages, want 2", res.Pages)
	}
	found, err := ocrset.Search(ctx, pages, []string{res.Text, res.Text})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range pages {
		if !found[i].Reference || !found[i].Date {
			t.Errorf("%s, page %d of the TIFF: reference %q found %v, date %q found %v", l.Name, i+1, l.Reference, found[i].Reference, l.Date, found[i].Date)
		}
	}
	if t.Failed() {
		t.Logf("the text read:\n%s", res.Text)
	}
}
