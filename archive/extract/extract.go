// Package extract reads the text of stored attachments so that scanned
// letters are searchable: the text layer of born-digital PDFs (poppler's
// pdftotext), Arabic and English OCR of scans and photos (Tesseract, PDF pages
// rasterised with pdftoppm first), and the XML of DOCX and ODT documents.
//
// Extraction runs in the background in a bounded pool of workers whose jobs
// are recorded in the bucket (jobs/extract/{sha256}.json), so an upload never
// waits for OCR and a restart finishes what was queued. The text is stored
// once per distinct file with archive.Store.PutText.
//
// extract imports archive only; the server supplies a callback to re-index
// the records that carry a file once its text is known.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sijill/sijill/archive/extract/internal/glyph"
	"golang.org/x/text/unicode/norm"
)

// ErrUnavailable is returned when the tool a file needs is not installed
// (Tesseract with its Arabic data, or poppler-utils). The job is then marked
// unavailable, not failed, and is tried again after a restart.
var ErrUnavailable = errors.New("extract: tool not installed")

// Tools says which external programs this host has. A missing one makes the
// files that need it "unavailable"; the server keeps running.
type Tools struct {
	Tesseract bool `json:"tesseract"`
	// Arabic is whether Tesseract has the ara (and eng) language data.
	Arabic    bool `json:"arabic"`
	Pdftotext bool `json:"pdftotext"`
	Pdftoppm  bool `json:"pdftoppm"`
	Pdfinfo   bool `json:"pdfinfo"`
	// Pdfseparate (with pdfunite, poppler-utils) and Tiffcp (libtiff-tools)
	// split a scan that holds several letters.
	Pdfseparate bool `json:"pdfseparate"`
	Tiffcp      bool `json:"tiffcp"`
	// Tessdata is the folder Tesseract's models are read from (its
	// --tessdata-dir), "" for Tesseract's own.
	Tessdata string `json:"tessdata,omitempty"`
	// Model says which Arabic model reads the scans: ModelBest, or
	// ModelStandard (the distribution's) when no folder holding the better
	// one was given or it lacks a model; ModelNote then says why.
	Model     string `json:"model,omitempty"`
	ModelNote string `json:"model_note,omitempty"`
}

// The Arabic models.
const (
	// ModelBest is Tesseract's "best" Arabic model converted to integers
	// (tessdata_best_int, from npm's @tesseract.js-data/ara, which make deps
	// installs): on the OCR set it halves the character errors of the
	// distribution's "fast" model, at about the same speed per page.
	ModelBest = "best"
	// ModelStandard is whatever ara.traineddata Tesseract finds itself
	// (Debian's tesseract-ocr-ara is the small "fast" model).
	ModelStandard = "standard"
)

// OCR reports whether scans can be read.
func (t Tools) OCR() bool { return t.Tesseract && t.Arabic }

// DetectTools looks the programs up on PATH and asks Tesseract for its
// languages, in tessdata when it is given (SIJILL_TESSDATA) and holds the
// Arabic and English models, else in Tesseract's own folder.
func DetectTools(ctx context.Context, tessdata string) Tools {
	has := func(name string) bool { _, err := exec.LookPath(name); return err == nil }
	t := Tools{Tesseract: has("tesseract"), Pdftotext: has("pdftotext"), Pdftoppm: has("pdftoppm"), Pdfinfo: has("pdfinfo"),
		Pdfseparate: has("pdfseparate") && has("pdfunite"), Tiffcp: has("tiffcp")}
	if !t.Tesseract {
		return t
	}
	langs := func(dir string) map[string]bool {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		args := []string{"--list-langs"}
		if dir != "" {
			args = append([]string{"--tessdata-dir", dir}, args...)
		}
		out, err := exec.CommandContext(ctx, "tesseract", args...).CombinedOutput()
		m := map[string]bool{}
		if err == nil {
			for _, l := range strings.Fields(string(out)) {
				m[l] = true
			}
		}
		return m
	}
	t.Model = ModelStandard
	if tessdata != "" {
		if l := langs(tessdata); l["ara"] && l["eng"] {
			t.Tessdata, t.Model, t.Arabic = tessdata, ModelBest, true
			return t
		}
		t.ModelNote = fmt.Sprintf("no ara and eng models in %s (make deps puts them there); reading with Tesseract's own", tessdata)
	} else {
		t.ModelNote = "SIJILL_TESSDATA is not set (make run sets it after make deps); reading with Tesseract's own model"
	}
	l := langs("")
	t.Arabic = l["ara"] && l["eng"]
	return t
}

// Result is the text read from one file.
type Result struct {
	Text string
	// Pages is the number of pages read (1 for a single image or a document).
	Pages int
	// Method says how: "text" (a PDF text layer), "ocr", "text+ocr" (a PDF
	// mixing both), or "xml" (DOCX, ODT).
	Method string
	// Confidence is Tesseract's mean word confidence (0-100, weighted by
	// letters) over the pages read by OCR; 0 when none was.
	Confidence float64 `json:"confidence,omitempty"`
	// Doubted are the words OCR read under doubtedBelow, for the lexicon to
	// judge (see correct); the reader in the child process has none.
	Doubted []string `json:"doubted,omitempty"`
}

// DoubtfulBelow is the OCR confidence under which a file's text is shown to
// the secretary as doubtful, to be checked against the scan. On the OCR set
// the pages read well score 80-91 and a phone photo that lost a seventh of
// its words 74.
const DoubtfulBelow = 75

// Extractor runs the external tools over one file.
type Extractor struct {
	Tools Tools
	// PageTimeout bounds the work on one page (rasterising and OCR, or the
	// text layer); a page taking longer fails the file.
	PageTimeout time.Duration
	// MaxPages bounds the pages read from one PDF or TIFF; the rest is skipped.
	MaxPages int
	// PSM overrides Tesseract's page segmentation mode, for measuring; ""
	// is the mode chosen below.
	PSM string
	// Lexicon, when set, corrects the words OCR doubted that are no words
	// (see correctWord); nil leaves the text as Tesseract read it.
	Lexicon Lexicon
	// imageSlots bounds the image work done in this process (decoding, the
	// median filter) to one less than GOMAXPROCS, nil: no bound. The OS
	// priority of that work (niced) does not reach Go's scheduler: with
	// every P filtering an image, a search waits for a P until the next
	// preemption, which put the search p99 at 11x idle with 2 workers on 2
	// cores.
	imageSlots chan struct{}
}

// The resolution and page segmentation mode for OCR, measured with
// go run ./bench/ocr -measure: a record print of corpus text
// (Amiri, 194 words), rasterised clean and spoiled like a scan (1.5 degrees
// of skew, grey noise, 1% speckles); the share of its words Tesseract 5.3
// (ara+eng) reads:
//
//	                psm 3   psm 4   psm 6
//	150 dpi clean   0.954   0.954   0.933
//	150 dpi scan    0.778   0.778   0.753
//	200 dpi clean   0.943   0.943   0.964
//	200 dpi scan    0.799   0.789   0.856
//	300 dpi clean   0.943   0.943   0.871
//	300 dpi scan    0.840   0.820   0.830
//	400 dpi clean   0.892   0.892   0.820
//	400 dpi scan    0.830   0.840     -
//
// Scans are what matters: below 300 dpi the dots that tell ب ت ث ن ي apart
// shrink to a pixel or two under noise and words are lost; above it the work
// grows with the square of the resolution and the Arabic model, trained near
// 300 dpi, reads worse. At 300 dpi mode 3 (automatic page layout) reads the
// scan best and ties mode 4 on a clean page; mode 6 (one uniform block)
// mangles the letterhead and right-aligned short lines. Mode 3 also keeps the
// two columns of a bilingual Arabic/French letterhead apart, which mode 4
// would read across, line by line.
//
// Binarisation: Tesseract's default global Otsu threshold lets grey noise
// break the layout analysis, and whole lines vanish. Sauvola's adaptive
// threshold (thresholding_method=2) fixed that: on the same page at 300 dpi,
// psm 3, scan 0.840 -> 0.881, clean 0.943 -> 0.938; over eight noisy seeds of
// a short letter (scantest.ScanPNG: 0.3% speckles, 10 words each, after
// the median filter) psm 3 found 50/80 words with Otsu and 71/80 with
// Sauvola (psm 4: 58 -> 72, psm 6: 61 -> 77, but psm 6 loses the letterhead
// of a full page: 0.835). Reading each page with both psm 3 and psm 6 and
// keeping the more confident reading found 77/80.
//
// Those measures were of Debian's "fast" Arabic model with English beside
// it, on one page. With the best model, on the thirteen letters of the OCR
// set, one reading in mode 6, Arabic alone and Otsu's threshold does better
// still (see firstReading); Sauvola stays for the second reading.
const (
	ocrDPI       = 300
	ocrThreshold = "2"
)

// readDPI is the resolution Tesseract reads a page at: a page scanned or
// rasterised finer (or stating no resolution and guessed finer, see
// guessDPI) is shrunk to it first (see shrink); the digit reader and the
// punctuation still look at the page at full resolution. Tesseract's time goes with the pixels it
// reads, and the best model reads 14-point letters better a little coarser.
// Measured on the OCR set (go run ./bench/ocr -letters), by the resolution
// a 300 dpi page was shrunk to:
//
//	        mean CER  recall  median letter vs plain Tesseract
//	300      0.020     0.962   1.66x
//	260      0.020     0.955   1.56x
//	240      0.016     0.965   1.53x
//	220      0.015     0.965   1.44x  one Western reference lost
//	200      0.016     0.964   1.43x  two Western references and a date lost
//
// At 220 dpi and below Tesseract cuts «163/2023» into «63/2023 1».
const readDPI = 240

// minLettersPerPage is how many letters a PDF page's text layer needs to be
// taken as real text; fewer (a scanner's stamp, a page number, nothing) and
// the page is read by OCR.
const minLettersPerPage = 20

// File extracts the text of the file at path, whose content type archive
// sniffed. dir is a scratch directory for rasterised pages.
func (x *Extractor) File(ctx context.Context, path, contentType, dir string) (Result, error) {
	var (
		res Result
		err error
	)
	switch contentType {
	case "application/pdf":
		res, err = x.pdf(ctx, path, dir)
	case "image/png", "image/jpeg", "image/webp":
		res, err = x.image(ctx, path, 1, false)
	case "image/tiff":
		res, err = x.tiff(ctx, path, dir)
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		res, err = docxText(path)
	case "application/vnd.oasis.opendocument.text":
		res, err = odtText(path)
	default:
		return Result{}, fmt.Errorf("files of type %s have no text to read", contentType)
	}
	if err != nil {
		return Result{}, err
	}
	res.Text = clean(res.Text)
	res.Doubted = distinct(res.Doubted, maxTried) // the child's answer stays small
	if x.Lexicon != nil {
		res = Correct(res, x.Lexicon)
	}
	return res, nil
}

// clean normalises extracted text: NFKC folds the presentation forms of
// Arabic PDF text layers (ﻻ ﺍﻟ) into letters, form feeds become blank lines,
// and runs of blank lines shrink to one.
func clean(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, ""))
	s = strings.ReplaceAll(s, "\f", "\n\n")
	var b strings.Builder
	blank := 0
	for line := range strings.Lines(s) {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			blank++
			if blank > 1 || b.Len() == 0 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func (x *Extractor) pageTimeout() time.Duration {
	if x.PageTimeout <= 0 {
		return 2 * time.Minute
	}
	return x.PageTimeout
}

func (x *Extractor) maxPages() int {
	if x.MaxPages <= 0 {
		return 500
	}
	return x.MaxPages
}

// pdf reads each page's text layer and OCRs the pages that have none, so a
// letter whose cover page was typed and whose annexes were scanned is read
// whole.
func (x *Extractor) pdf(ctx context.Context, path, dir string) (Result, error) {
	if !x.Tools.Pdftotext || !x.Tools.Pdfinfo {
		return Result{}, fmt.Errorf("%w: pdftotext and pdfinfo (poppler-utils)", ErrUnavailable)
	}
	pages, sizes, err := x.pdfPages(ctx, path, x.maxPages())
	if err != nil {
		return Result{}, err
	}
	n := min(pages, x.maxPages())
	var b strings.Builder
	textPages, ocrPages := 0, 0
	var total ocrScore
	for p := 1; p <= n; p++ {
		ps := strconv.Itoa(p)
		out, err := x.run(ctx, "pdftotext", "-enc", "UTF-8", "-f", ps, "-l", ps, path, "-")
		if err != nil {
			return Result{}, fmt.Errorf("page %d: %w", p, err)
		}
		text := norm.NFKC.String(string(out))
		if letters(text) < minLettersPerPage {
			if !x.Tools.Pdftoppm || !x.Tools.OCR() {
				if letters(text) == 0 && p == n && textPages == 0 {
					return Result{}, fmt.Errorf("%w: the PDF is scanned and needs tesseract (tesseract-ocr-ara) and pdftoppm", ErrUnavailable)
				}
			} else {
				dpi, err := pageDPI(sizes[p], p)
				if err != nil {
					return Result{}, err
				}
				ocr, score, err := x.ocrPDFPage(ctx, path, dir, p, dpi)
				if err != nil {
					return Result{}, fmt.Errorf("page %d: %w", p, err)
				}
				if letters(ocr) > letters(text) {
					text = ocr
					ocrPages++
					total.add(score)
				}
			}
		} else {
			textPages++
		}
		b.WriteString(text)
		b.WriteString("\n\n")
	}
	method := "text"
	switch {
	case ocrPages > 0 && textPages > 0:
		method = "text+ocr"
	case ocrPages > 0:
		method = "ocr"
	}
	return Result{Text: b.String(), Pages: n, Method: method, Confidence: total.confidence(), Doubted: total.doubted}, nil
}

// pageSize is a PDF page's size in points.
type pageSize struct{ w, h float64 }

// pdfPages returns the page count of the PDF and the sizes of its first
// upTo pages, by page number.
func (x *Extractor) pdfPages(ctx context.Context, path string, upTo int) (int, map[int]pageSize, error) {
	out, err := x.run(ctx, "pdfinfo", "-f", "1", "-l", strconv.Itoa(upTo), path)
	if err != nil {
		return 0, nil, err
	}
	n := -1
	sizes := map[int]pageSize{}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			n, err = strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return 0, nil, fmt.Errorf("pdfinfo: unreadable page count %q", strings.TrimSpace(v))
			}
		}
		var p int
		var sz pageSize
		if _, err := fmt.Sscanf(line, "Page %d size: %g x %g", &p, &sz.w, &sz.h); err == nil {
			sizes[p] = sz
		}
	}
	switch n {
	case -1:
		return 0, nil, errors.New("pdfinfo: no page count: the PDF is damaged")
	case 0:
		return 0, nil, errors.New("the PDF has no pages")
	}
	return n, sizes, nil
}

// pageDPI is the resolution page p of size sz is rasterised at for OCR:
// ocrDPI, or less for a page so large that ocrDPI would make more than
// maxPixels; a page that even 50 dpi cannot bring under it is refused.
func pageDPI(sz pageSize, p int) (int, error) {
	if sz.w <= 0 || sz.h <= 0 {
		return ocrDPI, nil // unknown: pdftoppm's own limits apply
	}
	inches := sz.w / 72 * sz.h / 72
	dpi := min(ocrDPI, int(math.Sqrt(maxPixels/inches)))
	if dpi < 50 {
		return 0, fmt.Errorf("%w: page %d is %.0f × %.0f inches", errTooLarge, p, sz.w/72, sz.h/72)
	}
	return dpi, nil
}

// ocrPDFPage rasterises page p in grey at dpi and reads it.
func (x *Extractor) ocrPDFPage(ctx context.Context, path, dir string, p, dpi int) (string, ocrScore, error) {
	ps := strconv.Itoa(p)
	prefix := filepath.Join(dir, "page")
	if _, err := x.run(ctx, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-f", ps, "-l", ps, "-singlefile", path, prefix); err != nil {
		return "", ocrScore{}, err
	}
	img := prefix + ".pgm"
	defer os.Remove(img)
	out, score, err := x.tesseract(ctx, img, 1, dpi)
	return string(out), score, err
}

// tiff reads a TIFF. A scanner's feeder writes a pile of pages as one TIFF,
// which Go decodes only the first page of: each page is copied out on its
// own (tiffcp) and read as a scan of one page, with the median filter, the
// digit reader and the commas; without tiffcp Tesseract reads the file
// whole, as it is.
func (x *Extractor) tiff(ctx context.Context, path, dir string) (Result, error) {
	pages, err := tiffPages(path)
	if err != nil {
		return Result{}, err
	}
	if pages == 1 || !x.Tools.Tiffcp || !x.Tools.OCR() {
		return x.image(ctx, path, pages, true)
	}
	n := min(pages, x.maxPages())
	var b strings.Builder
	var total ocrScore
	for p := range n {
		page := filepath.Join(dir, "tiff-page.tif")
		if _, err := x.run(ctx, "tiffcp", path+","+strconv.Itoa(p), page); err != nil {
			return Result{}, fmt.Errorf("page %d: %w", p+1, err)
		}
		out, score, err := x.ocrImage(ctx, page, 1, true)
		os.Remove(page)
		if err != nil {
			return Result{}, fmt.Errorf("page %d: %w", p+1, err)
		}
		b.Write(out)
		b.WriteString("\n\n")
		total.add(score)
	}
	return Result{Text: b.String(), Pages: n, Method: "ocr", Confidence: total.confidence(), Doubted: total.doubted}, nil
}

// image reads a scan or photo. A TIFF states its own resolution (scanners
// write it); for a PNG or JPEG without one Sijill guesses (see guessDPI)
// rather than let Tesseract take 70, which ruins the Arabic model's reading.
func (x *Extractor) image(ctx context.Context, path string, pages int, tiff bool) (Result, error) {
	pages = max(pages, 1)
	out, score, err := x.ocrImage(ctx, path, pages, tiff)
	if err != nil {
		return Result{}, err
	}
	return Result{Text: string(out), Pages: pages, Method: "ocr", Confidence: score.confidence(), Doubted: score.doubted}, nil
}

// ocrImage reads the image at path (pages of it, for a TIFF) with Tesseract.
func (x *Extractor) ocrImage(ctx context.Context, path string, pages int, tiff bool) ([]byte, ocrScore, error) {
	if !x.Tools.OCR() {
		return nil, ocrScore{}, fmt.Errorf("%w: tesseract with Arabic (tesseract-ocr-ara)", ErrUnavailable)
	}
	cfg, err := checkImageSize(path)
	if err != nil {
		return nil, ocrScore{}, err
	}
	dpi := 0 // a TIFF of many pages: Tesseract reads each page's own
	switch {
	case !tiff:
		if dpi = imageDPI(path); dpi == 0 {
			dpi = guessDPI(cfg)
		}
	case pages == 1:
		// Decoded and filtered like any scan (see denoise): Tesseract then
		// reads a PGM, which holds no resolution.
		if dpi = tiffDPI(path); dpi == 0 {
			dpi = guessDPI(cfg)
		}
	}
	return x.tesseract(ctx, path, pages, dpi)
}

// tesseract reads an image (every page of a multi-page TIFF) in Arabic and
// English, after a median filter where Go can decode it (see denoise). dpi is
// the image's resolution, 0 to let Tesseract read it from the file.
func (x *Extractor) tesseract(ctx context.Context, img string, pages, dpi int) ([]byte, ocrScore, error) {
	clean := img + ".median.pgm"
	if x.imageSlots != nil {
		select {
		case x.imageSlots <- struct{}{}:
		case <-ctx.Done():
			return nil, ocrScore{}, ctx.Err()
		}
	}
	// page is the image Tesseract reads, as the digit reader and the
	// one-reading check look at it: filtered, or for a TIFF of one page
	// (which Tesseract reads as it is) decoded; nil for a TIFF of many. raw
	// is it before the filter, which wears thin strokes away (a comma's
	// tail).
	var page, raw *image.Gray
	scale := 1.0
	err := niced(func() (err error) {
		if pages > 1 {
			return nil // a TIFF of many pages, read as it is (Go decodes only its first)
		}
		if raw, page, dpi, scale, err = denoise(img, clean, dpi); err == nil && page != nil {
			img = clean
		} else if err == nil && pages == 1 {
			page = decodeGray(img)
			raw = page
		}
		return err
	})
	if x.imageSlots != nil {
		<-x.imageSlots
	}
	if err != nil {
		return nil, ocrScore{}, fmt.Errorf("extract: denoise: %w", err)
	}
	defer os.Remove(clean)
	// Tesseract's boxes, in the pixels of the image it read, brought back to
	// those of page and raw.
	read := func(r reading) (pageReading, error) {
		pr, err := x.tesseractPSM(ctx, img, pages, dpi, r)
		scaleLines(pr.lines, scale)
		return pr, err
	}
	if x.PSM != "" {
		r, err := read(reading{psm: x.PSM, langs: "ara+eng", threshold: ocrThreshold})
		return finish(r, page, raw), r.score, err
	}
	r, err := read(firstReading)
	if err != nil {
		return nil, ocrScore{}, err
	}
	if r.score.confidence() >= secondReadingBelow {
		// Noise can make mode 6 drop a whole line while staying confident
		// in the lines it kept (the loaded suite caught one: a scanned PDF
		// lost its body), and on a small noisy scan mode 3 can read clearly
		// more confident letters. A page mode 6 read with confidence and
		// whose ink lies within its lines is done; others are read in mode 3
		// too, and that reading wins only when it holds clearly more letters
		// of confident words (70 and over): junk from rules and footers is
		// not confident, and a photo that mode 3 reads out of order holds
		// the same letters, so mode 6's order is kept.
		if r.score.confidence() >= checkReadingBelow && page != nil && uncoveredInk(page, r.lines) <= maxUncoveredInk {
			return finish(r, page, raw), r.score, nil
		}
		r2, err := read(checkReading)
		if err != nil || float64(r2.score.strong) <= float64(r.score.strong)*1.05 {
			return finish(r, page, raw), r.score, nil
		}
		return finish(r2, page, raw), r2.score, nil
	}
	// A doubtful page (Latin words the Arabic model cannot read, a
	// letterhead in two columns read across, a bad scan) is read again with
	// its layout analysed and English too; the reading whose words are more
	// confident on average wins. The mean, not the sum: a reading cannot win
	// by inventing more letters from rules and footers.
	r2, err := read(secondReading)
	if err != nil || r2.score.confidence() <= r.score.confidence() {
		return finish(r, page, raw), r.score, nil
	}
	return finish(r2, page, raw), r2.score, nil
}

// finish drops the Latin junk of a reading (see latinJunk), reads again
// the digits of its doubtful words (see digits.go) from page, the image
// Tesseract read (nil: none to look at), and puts back the Arabic commas,
// those Tesseract read as full stops with the help of raw, the image before
// the filter (see commaStops).
func finish(r pageReading, page, raw *image.Gray) []byte {
	junk := latinJunk(r.lines)
	comma := commaStops(r.lines, raw)
	var set []glyph.Template
	fix := func(i int, l ocrLine) (string, bool) {
		l, stops := withMarks(l, comma[i])
		if page != nil && slices.ContainsFunc(l.Words, doubtfulDigits) {
			if set == nil {
				set, _ = loadDigits() // without them the digits stay as Tesseract read them
			}
			text, ok := readLineDigits(l, page, set, junk)
			return text, ok || stops
		}
		kept := l
		kept.Words = slices.DeleteFunc(slices.Clone(l.Words), junk)
		return kept.Text(), stops || len(kept.Words) != len(l.Words)
	}
	return commas([]byte(rewriteLines(string(r.text), r.lines, fix)))
}

// pageReading is what one run of Tesseract read: the plain text, the
// confidence and the lines with the boxes of their words and characters.
type pageReading struct {
	text  []byte
	score ocrScore
	lines []ocrLine
}

// reading is one way of running Tesseract over a page.
type reading struct {
	psm       string // page segmentation mode
	langs     string
	threshold string // thresholding_method, "" for Tesseract's default (Otsu)
}

// The readings, measured on the OCR set (internal/ocrset; go run ./bench/ocr
// -letters): thirteen letters in seven fonts, spoiled like scans and phone
// photos. Mean character error rate of plain Tesseract with the best Arabic
// model over the same files:
//
//	ara, psm 3 (Tesseract's default)       0.083
//	ara, psm 3, Sauvola                    0.088
//	ara+eng, psm 3, Sauvola (until now)    0.122  the English model reads unclear Arabic words as Latin junk
//	ara, psm 4                             0.103
//	ara, psm 6                             0.038
//	ara, psm 6, Sauvola                    0.043
//
// Through Sijill's own pipeline (the median filter first) Sauvola's threshold
// helps mode 6 too: mean CER 0.039 with Otsu, 0.035 with Sauvola, and the
// noisy scans of the three-process test (noise 40, 0.3% speckles), half of
// which mode 6 with Otsu read as junk, are all read.
//
// Mode 6 (the page as one block of text) keeps a letter's lines in order
// where mode 3 cuts a photographed page, slanted by perspective, into blocks
// and reads their ends out of order (CER 0.35 -> 0.01 on one photo). It reads
// a letterhead in two columns across; such pages, and pages in English or
// French, which the Arabic model alone cannot read, come out with low
// confidence and get the second reading.
var (
	firstReading  = reading{psm: "6", langs: "ara", threshold: ocrThreshold}
	checkReading  = reading{psm: "3", langs: "ara", threshold: ocrThreshold}
	secondReading = reading{psm: "3", langs: "ara+eng", threshold: ocrThreshold}
)

// secondReadingBelow is the mean word confidence (0-100) under which a page
// is read a second time. On the OCR set, pages read well score 80-91 and a
// blurred phone photo 74.
const secondReadingBelow = 70

// One reading is enough for a page read in mode 6 with a mean confidence of
// checkReadingBelow or more and at most maxUncoveredInk of its ink outside
// the lines read. Measured (go test with the readings logged): on the
// thirteen letters of the OCR set and twenty-seven noisy one-paragraph scans
// (printed.ScanPNG), mode 3 read more confident letters on four scans whose
// mode 6 confidence was 70-77, never on a page of 78 or more; the scanned
// PDF whose body mode 6 lost had 30% of its ink outside its lines (and a
// confidence of 75), the pages read whole 0-7%. The table around a
// photographed sheet is no ink (see uncoveredInk): a phone photo read with
// confidence is read once (the Naskh photo of the set: 1.9 s -> 1.1 s, its
// reading the same; mode 3 never won on a photo).
const (
	checkReadingBelow = 80
	maxUncoveredInk   = 0.1
)

// ocrScore sums Tesseract's word confidences over a reading.
type ocrScore struct {
	letters   int     // letters in words with a confidence
	confident float64 // letters weighted by their word's confidence (0-1)
	strong    int     // letters in words of confidence 70 and over
	doubted   []string
}

func (s *ocrScore) add(o ocrScore) {
	s.letters, s.confident, s.strong = s.letters+o.letters, s.confident+o.confident, s.strong+o.strong
	s.doubted = append(s.doubted, o.doubted...)
}

func (s ocrScore) confidence() float64 {
	if s.letters == 0 {
		return 0
	}
	return 100 * s.confident / float64(s.letters)
}

// commas puts back the Arabic comma. Tesseract's Arabic models have no «،»
// (U+060C) in their character set, so every Arabic comma comes out as «,»,
// «»» or «؛»; after an Arabic letter, «,» and an unopened «»» can only be
// one.
func commas(text []byte) []byte {
	if !bytes.ContainsAny(text, ",»") {
		return text
	}
	var b strings.Builder
	for line := range strings.Lines(string(text)) {
		open := false
		var prev rune
		for _, r := range line {
			switch {
			case r == '«':
				open = true
			case r == '»' && open:
				open = false
			case (r == ',' || r == '»') && isArabicLetter(prev):
				r = '،'
			}
			b.WriteRune(r)
			prev = r
		}
	}
	return []byte(b.String())
}

// tesseractPSM runs Tesseract once the way r says, writing the text, the
// word table (with confidences) and the hOCR (with each character's box,
// for the digit reader) side by side.
func (x *Extractor) tesseractPSM(ctx context.Context, img string, pages, dpi int, r reading) (pageReading, error) {
	base := img + ".ocr" + r.psm
	args := []string{img, base, "-l", r.langs, "--psm", r.psm, "-c", "hocr_char_boxes=1"}
	if r.threshold != "" {
		args = append(args, "-c", "thresholding_method="+r.threshold)
	}
	if x.Tools.Tessdata != "" {
		args = append(args, "--tessdata-dir", x.Tools.Tessdata)
	}
	if dpi > 0 {
		args = append(args, "--dpi", strconv.Itoa(dpi))
	}
	args = append(args, "txt", "tsv", "hocr")
	defer os.Remove(base + ".txt")
	defer os.Remove(base + ".tsv")
	defer os.Remove(base + ".hocr")
	if _, err := x.runFor(ctx, time.Duration(pages)*x.pageTimeout(), "tesseract", args...); err != nil {
		return pageReading{}, err
	}
	text, err := os.ReadFile(base + ".txt")
	if err != nil {
		return pageReading{}, fmt.Errorf("tesseract wrote no text: %w", err)
	}
	out := pageReading{text: text}
	if tsv, err := os.ReadFile(base + ".tsv"); err == nil {
		for line := range strings.Lines(string(tsv)) {
			f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
			if len(f) < 12 || f[0] != "5" {
				continue
			}
			conf, err := strconv.ParseFloat(f[10], 64)
			if err != nil || conf < 0 {
				continue
			}
			n := letters(f[11])
			out.score.letters += n
			out.score.confident += float64(n) * conf / 100
			if conf >= 70 {
				out.score.strong += n
			}
			if w := doubtedWord(f[11]); w != "" && conf < doubtedBelow {
				out.score.doubted = append(out.score.doubted, w)
			}
		}
	}
	if hocr, err := os.ReadFile(base + ".hocr"); err == nil {
		out.lines, _ = parseHOCR(hocr) // without it the digits stay as Tesseract read them
	}
	return out, nil
}

func (x *Extractor) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return x.runFor(ctx, x.pageTimeout(), name, args...)
}

// runFor runs a tool for at most d, at the lowest priority so that OCR never
// competes with the API for the processor, and with OpenMP held to one thread: the pool's
// worker count is then the number of cores OCR uses.
func (x *Extractor) runFor(ctx context.Context, d time.Duration, name string, args ...string) ([]byte, error) {
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(tctx, name, args...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1", "LC_ALL=C.UTF-8")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrUnavailable, name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	nicePID(cmd.Process.Pid)
	err := cmd.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // shutting down: nobody's fault, the job stays queued
		}
		if tctx.Err() != nil {
			return nil, fmt.Errorf("%s took longer than %s", name, d)
		}
		msg := firstLines(stderr.String(), 3)
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	return stdout.Bytes(), nil
}

// firstLines keeps the first n non-empty lines of a tool's complaint, which
// say what is wrong; the rest repeats it.
func firstLines(s string, n int) string {
	var out []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		out = append(out, line)
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, "; ")
}
