package render

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/sijill/sijill/archive"
)

// copiedText is what a reader gets when copying the text of a PDF out, as
// pdftotext gives it: only the bidi controls are dropped (pdftotext wraps
// right-to-left lines in embeddings; the prints hold invisible
// right-to-left marks, see copyout.go). Letters, brackets, punctuation and
// spaces are kept as they come.
func copiedText(t *testing.T, path string) []string {
	t.Helper()
	needTool(t, "pdftotext", "poppler-utils")
	out := strings.Map(func(r rune) rune {
		if r == 0x200F || (r >= 0x202A && r <= 0x202E) {
			return -1
		}
		return r
	}, run(t, "pdftotext", path, "-"))
	var lines []string
	for l := range strings.SplitSeq(norm.NFC.String(out), "\n") {
		if l = strings.TrimSpace(strings.Trim(l, "\f")); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestCopyOut: every line of a record print copies out as it was typed —
// letters, not presentation forms; lam-alef as lam then alef; brackets and
// «» as typed; the colon and comma after their word and the space after a
// number where they were; ﷺ as itself; harakat after their letters.
func TestCopyOut(t *testing.T) {
	lines := []string{
		"قرّر المجلسُ الوطنيُّ للحزب، في دورته الاستثنائية المنعقدة يوم 12/03/2026، ما يلي:",
		"أولاً: المصادقة على «التقرير الأدبي» للمكتب السياسي (الجهوية).",
		"الهاتف: +212 661-234567 والبريد contact@example.ma",
		"لا إله إلا الله، والصلاة على رسول الله ﷺ.",
		"ثانياً: إحالة ملف [الانتخابات الجزئية] على لجنة الأخلاقيات؛ تُعقد الجلسة في 3 أبريل.",
		"ثالثاً: تُنشر الوثائق على https://hizb.ma/قرارات/2026 للفترة 2017 - 2020 (الصفحات 12–15).",
		"رابعاً: تُوجّه المراسلات إلى 2026.amana@hizb.ma تحت الرقم ك ج/١٤٧/٢٠٢٦ للسنوات ٢٠١٧-٢٠٢٠.",
		"خامساً: يُحفظ الأرشيف على https://hizb.ma/archive/2026 ويُراسل www.hizb.ma.",
	}
	rec := testRecord(117, "اختتام دورة المجلس الوطني (الاستثنائية)", "")
	rec.Register, rec.ID, rec.Committee = archive.Decisions, "decisions-2026-117", "المجلس الوطني"
	rec.Body = strings.Join(lines, "\n")
	path := printRecord(t, rec)
	got := copiedText(t, path)
	has := map[string]bool{}
	for _, l := range got {
		has[l] = true
	}
	want := []string{"حزب الأصالة والمعاصرة", "الجهة: المجلس الوطني", "قرار رقم 117/2026",
		"الموضوع: اختتام دورة المجلس الوطني (الاستثنائية)"}
	for _, l := range lines {
		want = append(want, norm.NFC.String(l))
	}
	intact := 0
	for _, w := range want {
		if has[w] {
			intact++
		} else {
			t.Errorf("the print does not copy out\n%q\nas typed; copied lines:\n%s", w, strings.Join(got, "\n"))
		}
	}
	t.Logf("%d of %d lines copy out as typed", intact, len(want))
}

// TestCopyOutCorpus: the body of a real decision, wrapped over several
// pages, copies out word for word in its order.
func TestCopyOutCorpus(t *testing.T) {
	body, err := os.ReadFile("/work/shared/corpus/decisions-national-council.txt")
	if err != nil {
		t.Fatalf("the shared corpus: %v", err)
	}
	rec := testRecord(117, "اختتام دورة المجلس الوطني", "")
	rec.Register, rec.ID = archive.Decisions, "decisions-2026-117"
	rec.Body = string(body)
	path := printRecord(t, rec)
	copied := " " + strings.Join(strings.Fields(strings.Join(copiedText(t, path), " ")), " ") + " "
	paras, intact := 0, 0
	for p := range strings.SplitSeq(string(body), "\n") {
		p = strings.Join(strings.Fields(norm.NFC.String(p)), " ")
		if p == "" {
			continue
		}
		paras++
		if strings.Contains(copied, " "+p+" ") {
			intact++
		} else {
			t.Errorf("paragraph not copied out as typed:\n%s", p)
		}
	}
	t.Logf("%d of %d paragraphs copy out word for word", intact, paras)
}

// TestCopyOutBook: the cells of a register book copy out as typed — the
// correspondent, the date and the subject, each line it wraps on a piece of
// it in order.
func TestCopyOutBook(t *testing.T) {
	path := writeBook(t, bookOptions(), sampleRecords(12))
	lines := copiedText(t, path)
	cells, intact := 0, 0
	for rec, err := range sampleRecords(12) {
		if err != nil {
			t.Fatal(err)
		}
		for _, cell := range []string{rec.From, rec.Subject, strings.ReplaceAll(rec.Date, "-", "/")} {
			if cell == "" {
				continue
			}
			cells++
			if madeOf(norm.NFC.String(cell), lines) {
				intact++
			} else {
				t.Errorf("book cell %q does not copy out as typed; copied lines:\n%s", cell, strings.Join(lines, "\n"))
			}
		}
	}
	t.Logf("%d of %d cells copy out as typed", intact, cells)
}

// madeOf reports whether text is one of lines or, wrapped, several of them
// one after another (each line a piece of text, the pieces in order).
func madeOf(text string, lines []string) bool {
	for text != "" {
		best := ""
		for _, l := range lines {
			if len(l) > len(best) && (text == l || strings.HasPrefix(text, l+" ")) {
				best = l
			}
		}
		if best == "" {
			return false
		}
		text = strings.TrimPrefix(strings.TrimPrefix(text, best), " ")
	}
	return true
}

// printRecord writes rec's print into a temporary file and returns its path.
func printRecord(t *testing.T, rec *archive.Record) string {
	t.Helper()
	return writePDF(t, "r.pdf", func(w io.Writer) error {
		return RecordPrint(context.Background(), w, PrintOptions{Organisation: "حزب الأصالة والمعاصرة", Now: printedAt}, rec)
	})
}

// TestPrivateCodesFree: the private codes the print draws by (copyout.go)
// are none of the fonts' own characters, which they would hide.
func TestPrivateCodesFree(t *testing.T) {
	d, err := newDoc(false, "t", "", printedAt)
	if err != nil {
		t.Fatal(err)
	}
	for r := rune(markCodes); r <= 0xF8FF; r++ {
		if d.cov[0].Has(r) || d.cov[1].Has(r) {
			t.Errorf("Amiri draws %U, which the print uses as a private code", r)
		}
	}
}
