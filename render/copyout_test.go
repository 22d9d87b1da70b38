package render

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

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
	for l := range strings.SplitSeq(out, "\n") {
		if l = strings.TrimSpace(strings.Trim(l, "\f")); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// withoutHarakat is text as it copies out of a print: the harakat are
// drawn but left out of the copied text (see drawMarked).
func withoutHarakat(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// TestCopyOut: every line of a record print copies out as it was typed —
// letters, not presentation forms; lam-alef as lam then alef; brackets and
// «» as typed; the colon and comma after their word and the space after a
// number where they were; ﷺ as itself; harakat left out without cutting
// their words.
func TestCopyOut(t *testing.T) {
	lines := []string{
		"قرّر المجلسُ الوطنيُّ للحزب، في دورته الاستثنائية المنعقدة يوم 12/03/2026، ما يلي:",
		"أولاً: المصادقة على «التقرير الأدبي» للمكتب السياسي (الجهوية).",
		"الهاتف: +212 661-234567 والبريد contact@example.ma",
		"لا إله إلا الله، والصلاة على رسول الله ﷺ.",
		"ثانياً: إحالة ملف [الانتخابات الجزئية] على لجنة الأخلاقيات؛ تُعقد الجلسة في 3 أبريل.",
	}
	rec := testRecord(117, "اختتام دورة المجلس الوطني (الاستثنائية)", "")
	rec.Register, rec.ID, rec.Committee = archive.Decisions, "decisions-2026-117", "المجلس الوطني"
	rec.Body = strings.Join(lines, "\n")
	var buf bytes.Buffer
	if err := RecordPrint(context.Background(), &buf, PrintOptions{Organisation: "حزب الأصالة والمعاصرة", Now: printedAt}, rec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := copiedText(t, path)
	has := map[string]bool{}
	for _, l := range got {
		has[l] = true
	}
	want := []string{"حزب الأصالة والمعاصرة", "الجهة: المجلس الوطني", "قرار رقم 117/2026",
		"الموضوع: اختتام دورة المجلس الوطني (الاستثنائية)"}
	for _, l := range lines {
		want = append(want, withoutHarakat(l))
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
	var buf bytes.Buffer
	if err := RecordPrint(context.Background(), &buf, PrintOptions{Organisation: "حزب الأصالة والمعاصرة", Now: printedAt}, rec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	copied := " " + strings.Join(strings.Fields(strings.Join(copiedText(t, path), " ")), " ") + " "
	paras, intact := 0, 0
	for p := range strings.SplitSeq(string(body), "\n") {
		p = strings.Join(strings.Fields(withoutHarakat(p)), " ")
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
