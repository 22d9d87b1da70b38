package render

import (
	"context"
	"io"
	"strings"
	"testing"
)

func followRows() []FollowRow {
	return []FollowRow{
		{Responsible: "أمين المال", DecisionID: "decisions-2026-4", Number: 4, Year: 2026, Date: "2026-02-10",
			Excerpt: "إعداد الميزانية السنوية للحزب", Due: "2026-03-01", Status: "in_progress",
			LatestNote: "أُنجزت المسودة الأولى", Overdue: true},
		{Responsible: "الكاتب الجهوي بفاس", DecisionID: "decisions-2026-7", Number: 7, Year: 2026, Date: "2026-02-10",
			Excerpt: "تنظيم الندوة الجهوية حول الشباب", Due: "2026-05-15", Status: "pending"},
		{Responsible: "أمين المال", DecisionID: "decisions-2026-2", Number: 2, Year: 2026, Date: "2026-01-20",
			Excerpt: "تسوية مستحقات المقر المركزي", Due: "2026-01-30", Status: "done", LatestNote: "سُدّدت المستحقات كاملة"},
		{DecisionID: "decisions-2026-9", Number: 9, Year: 2026, Date: "2026-03-02",
			Excerpt: "مراسلة وزارة الداخلية بشأن الترخيص", Status: "pending"},
	}
}

func writeReport(t *testing.T, opt ReportOptions, rows []FollowRow) string {
	t.Helper()
	return writePDF(t, "followup.pdf", func(w io.Writer) error { return FollowUpReport(context.Background(), w, opt, rows) })
}

func TestFollowUpReportText(t *testing.T) {
	opt := ReportOptions{Organisation: "حزب التقدم والاشتراكية — الأمانة العامة", Now: printedAt}
	pages := pageTexts(t, writeReport(t, opt, followRows()))
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	text := pages[0]
	for _, want := range []string{ReportTitle, opt.Organisation,
		"المسؤول عن التنفيذ أمين المال 2", "المسؤول عن التنفيذ الكاتب الجهوي بفاس 1", "المسؤول عن التنفيذ غير محدد 1",
		"إعداد الميزانية السنوية للحزب", "2026/03/01", "قيد التنفيذ", "متأخر",
		"أُنجزت المسودة الأولى", "4/2026", "2026/02/10", "منفّذ", "سُدّدت المستحقات كاملة", "لم يبدأ",
	} {
		if !strings.Contains(text, logical(want)) {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
	// Grouped: the treasurer's two decisions (earliest due first), then Fez, then the unassigned.
	order := []string{"تسوية مستحقات المقر المركزي", "إعداد الميزانية السنوية", "تنظيم الندوة الجهوية", "مراسلة وزارة الداخلية"}
	last := -1
	for _, w := range order {
		i := strings.Index(text, logical(w))
		if i < last {
			t.Errorf("%q is out of order in the report:\n%s", w, text)
		}
		last = i
	}
	if strings.Count(text, logical("متأخر")) != 1 {
		t.Errorf("want exactly one overdue mark:\n%s", text)
	}
}

func TestFollowUpReportEmptyAndLong(t *testing.T) {
	pages := pageTexts(t, writeReport(t, ReportOptions{Now: printedAt}, nil))
	if !strings.Contains(pages[0], logical("لا توجد قرارات قيد المتابعة")) {
		t.Errorf("empty report lacks its notice:\n%s", pages[0])
	}
	var rows []FollowRow
	for i := range 120 {
		r := followRows()[i%4]
		r.Number = i + 1
		rows = append(rows, r)
	}
	pages = pageTexts(t, writeReport(t, ReportOptions{Now: printedAt}, rows))
	if len(pages) < 3 {
		t.Fatalf("120 decisions on %d pages, want several", len(pages))
	}
	for i, p := range pages {
		if !strings.Contains(p, logical(ReportTitle)) {
			t.Errorf("page %d lacks the title", i+1)
		}
	}
	if !strings.Contains(pages[len(pages)-1], logical("120/2026")) {
		t.Errorf("the last page lacks the last decision:\n%s", pages[len(pages)-1])
	}
}

func TestFollowUpReportOCR(t *testing.T) {
	needTool(t, "pdftoppm", "poppler-utils")
	needTool(t, "tesseract", "tesseract-ocr-ara")
	path := writeReport(t, ReportOptions{Organisation: "الأمانة العامة", Now: printedAt}, followRows())
	ocr := ocrPage(t, path, 1)
	rate := ocrRecall(t, ocr, []string{ReportTitle, "أمين المال", "الكاتب الجهوي بفاس", "تنظيم الندوة الجهوية حول الشباب",
		"تسوية مستحقات المقر المركزي", "قيد التنفيذ", "متأخر"})
	if rate < 0.85 {
		t.Errorf("OCR found %.1f%% of the words, want >= 85%%; OCR text:\n%s", 100*rate, ocr)
	}
}
