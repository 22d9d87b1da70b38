// Command gen makes the OCR test set in internal/ocrset/testdata: letters of
// a secretariat typeset by Chromium from ../shared/corpus prose in several
// Arabic fonts, with Eastern or Western digits, rasterised by pdftoppm and
// spoiled the ways scans and phone photos are (resolution, rotation, blur,
// noise, JPEG, a keystone warp with uneven light), each beside its ground
// truth. The files are committed, so tests do not need Chromium or the
// fonts; run it again only to change the set:
//
//	go run ./internal/ocrset/gen [-corpus ../shared/corpus]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sijill/sijill/internal/ocrset"
)

// spec is one letter of the set and how it is spoiled.
type spec struct {
	name    string
	font    string
	eastern bool
	words   int // body words
	scan    ocrset.Scan
}

var specs = []spec{
	{name: "01-amiri-300-eastern", font: "Amiri", eastern: true, words: 130, scan: ocrset.Scan{DPI: 300, Format: "png", Degrees: 0.4, Noise: 10}},
	{name: "02-naskh-300-rotated", font: "Noto Naskh Arabic", words: 130, scan: ocrset.Scan{DPI: 300, Format: "png", Degrees: 2, Noise: 14}},
	{name: "03-kufi-300-jpeg", font: "Noto Kufi Arabic", eastern: true, words: 120, scan: ocrset.Scan{DPI: 300, Format: "jpeg", Degrees: -0.7, Noise: 8, Quality: 55}},
	{name: "04-sans-200", font: "Noto Sans Arabic", words: 130, scan: ocrset.Scan{DPI: 200, Format: "png", Degrees: 0.8, Noise: 10}},
	{name: "05-kacstbook-300-blur", font: "KacstBook", eastern: true, words: 120, scan: ocrset.Scan{DPI: 300, Format: "png", Degrees: 0.3, Noise: 8, Blur: 1}},
	{name: "06-kacstnaskh-300-speckles", font: "KacstNaskh", words: 120, scan: ocrset.Scan{DPI: 300, Format: "png", Degrees: -1, Noise: 12, Speckle: 0.002}},
	{name: "07-amiri-200-jpeg", font: "Amiri", eastern: true, words: 130, scan: ocrset.Scan{DPI: 200, Format: "jpeg", Degrees: 1.2, Noise: 8, Quality: 50}},
	{name: "08-naskh-300-grey-tiff", font: "Noto Naskh Arabic", eastern: true, words: 130, scan: ocrset.Scan{DPI: 300, Format: "tiff", Degrees: -0.5, Noise: 16}},
	{name: "09-sans-300-two-page-pdf", font: "Noto Sans Arabic", eastern: true, words: 420, scan: ocrset.Scan{DPI: 300, Format: "pdf", Degrees: 0.6, Noise: 10}},
	{name: "10-amiri-photo", font: "Amiri", eastern: true, words: 110, scan: ocrset.Scan{DPI: 300, Format: "photo", Noise: 6, Quality: 70}},
	{name: "11-kacstoffice-300-rotated", font: "KacstOffice", words: 130, scan: ocrset.Scan{DPI: 300, Format: "png", Degrees: -1.5, Noise: 10}},
	{name: "12-kufi-200-blur", font: "Noto Kufi Arabic", eastern: true, words: 110, scan: ocrset.Scan{DPI: 200, Format: "png", Degrees: 0.5, Noise: 10, Blur: 1}},
	{name: "13-naskh-photo", font: "Noto Naskh Arabic", words: 110, scan: ocrset.Scan{DPI: 300, Format: "photo", Noise: 6, Quality: 65}},
}

func main() {
	corpus := flag.String("corpus", "../shared/corpus", "folder of the domain's prose")
	out := flag.String("out", "internal/ocrset/testdata", "where the set is written")
	flag.Parse()
	if err := run(context.Background(), *corpus, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, corpusDir, out string) error {
	words, err := corpusWords(corpusDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ocrset-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var set []ocrset.Letter
	rng := rand.New(rand.NewPCG(2026, 147))
	for i, s := range specs {
		l := compose(s, i, words, rng)
		pdf, err := typeset(ctx, tmp, s, l)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		l.Name, l.Print, l.Font, l.Eastern = s.name, s.name+".pdf", s.font, s.eastern
		l.Scan = s.scan
		if err := os.WriteFile(filepath.Join(out, l.Print), pdf, 0o644); err != nil {
			return err
		}
		set = append(set, l.Letter)
		fmt.Printf("%-30s %7d bytes\n", l.Print, len(pdf))
	}
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "letters.json"), append(b, '\n'), 0o644)
}

// corpusWords is the prose of the corpus as one run of words, without the
// typographic quotes and bullets a scan would not show clearly anyway.
func corpusWords(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no corpus in %s (%v)", dir, err)
	}
	var words []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, w := range strings.Fields(string(b)) {
			w = strings.Trim(w, "“”\"«»•*–—")
			if w != "" {
				words = append(words, w)
			}
		}
	}
	return words, nil
}

// letter is a composed letter: its lines, as typed, in reading order.
type letter struct {
	ocrset.Letter
	lines []line
}

type line struct {
	text  string
	class string
}

var (
	orgs      = []string{"حزب الأصالة والمعاصرة", "حزب الدستور", "المجلس الوطني للحزب", "الهيئة التنفيذية للحزب"}
	offices   = []string{"الأمانة العامة", "أمانة السر", "الكتابة الجهوية", "مكتب الأمين العام"}
	addressee = []string{"السيد رئيس المجلس الوطني المحترم", "السيد الأمين العام للحزب المحترم", "السادة أعضاء المكتب السياسي المحترمين", "السيدة رئيسة اللجنة التنظيمية المحترمة"}
	subjects  = []string{"دعوة لحضور اجتماع المكتب السياسي", "محضر اجتماع الأمانة العامة", "تقرير عن أشغال المجلس الوطني", "طلب تعيين ممثل الحزب في اللجنة الجهوية", "تبليغ قرار المجلس الوطني"}
	names     = []string{"محمد خليل", "جميلة إسماعيل", "عبد الرحمن العلوي", "فاطمة الزهراء بنعلي"}
	roles     = []string{"الأمين العام", "رئيسة الحزب", "الكاتب الجهوي", "أمينة السر"}
)

func compose(s spec, i int, words []string, rng *rand.Rand) letter {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	ref := fmt.Sprintf("%s/%d/%d", []string{"ك ج", "أ ع", "م و", "ك ع"}[i%4], 20+rng.IntN(380), 2020+rng.IntN(7))
	date := fmt.Sprintf("%02d/%02d/%d", 1+rng.IntN(28), 1+rng.IntN(12), 2020+rng.IntN(7))
	start := rng.IntN(len(words) - s.words)
	body := words[start : start+s.words]
	var paras []string
	for len(body) > 0 {
		n := min(len(body), 45+rng.IntN(30))
		paras = append(paras, strings.Join(body[:n], " "))
		body = body[n:]
	}
	digits := func(t string) string {
		if !s.eastern {
			return t
		}
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '٠' + (r - '0')
			}
			return r
		}, t)
	}
	var l letter
	l.Reference, l.Date = digits(ref), digits(date)
	add := func(class, t string) { l.lines = append(l.lines, line{digits(t), class}) }
	add("head", pick(orgs))
	add("head", pick(offices))
	add("ref", "المرجع: "+ref)
	add("ref", "التاريخ: "+date)
	add("to", "إلى "+pick(addressee))
	add("subject", "الموضوع: "+pick(subjects))
	add("p", "تحية طيبة وبعد،")
	for _, p := range paras {
		add("p", p)
	}
	add("p", "وتفضلوا بقبول فائق عبارات التقدير والاحترام.")
	add("sign", pick(names))
	add("sign", pick(roles))
	var truth []string
	for _, ln := range l.lines {
		truth = append(truth, ln.text)
	}
	l.Truth = strings.Join(truth, "\n")
	return l
}

// typeset prints the letter to PDF with headless Chromium; the PDF is
// what the scanner saw, spoiled at test time by ocrset.Letter.File.
func typeset(ctx context.Context, dir string, s spec, l letter) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html dir="rtl" lang="ar"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 22mm 20mm; }
body { font-family: %q; font-size: 14pt; line-height: 1.7; }
.head { text-align: center; font-size: 16pt; font-weight: bold; margin: 0; }
.ref { margin: 0; }
.to { margin-top: 8mm; font-weight: bold; }
.subject { font-weight: bold; margin-bottom: 6mm; }
.p { text-align: justify; margin: 0 0 3mm; }
.sign { text-align: left; margin: 0 0 0 10mm; }
.sign.first { margin-top: 10mm; }
</style></head><body>
`, s.font)
	signs := 0
	for _, ln := range l.lines {
		class := ln.class
		if class == "sign" {
			if signs == 0 {
				class += " first"
			}
			signs++
		}
		fmt.Fprintf(&b, "<p class=%q>%s</p>\n", class, html.EscapeString(ln.text))
	}
	b.WriteString("</body></html>\n")
	in := filepath.Join(dir, s.name+".html")
	out := filepath.Join(dir, s.name+".pdf")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--print-to-pdf="+out, "file://"+in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chromium: %v: %s", err, msg)
	}
	return os.ReadFile(out)
}
