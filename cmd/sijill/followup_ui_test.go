package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFollowUpUI follows a decision in headless Chromium: the minutes list
// their decision, the decision's follow-up is filled in and saved, the
// dashboard and the follow-up page show it overdue, the letter shows its
// answer. Screenshots go to testdata/screenshots (fu-*.png).
func TestFollowUpUI(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	year := m.Store.Now().Year()
	mk := func(reg string, fields map[string]any) string {
		t.Helper()
		var rec record
		if st := admin.call("POST", "/api/v1/registers/"+reg+"/records", fields, nil, &rec); st != 201 {
			t.Fatalf("create %s: %d", reg, st)
		}
		return rec.ID
	}
	letter := mk("incoming", map[string]any{"subject": "طلب موعد لقاء مع المكتب السياسي", "from": "جمعية المعطلين"})
	mk("outgoing", map[string]any{"subject": "تحديد موعد اللقاء", "to": "جمعية المعطلين", "in_reply_to": letter})
	minutes := mk("minutes", map[string]any{"subject": "محضر اجتماع المكتب السياسي", "date": fmt.Sprintf("%d-01-15", year),
		"attendees": []string{"أحمد", "فاطمة"}, "agenda": []string{"الميزانية", "المؤتمر"}})
	dec := mk("decisions", map[string]any{"subject": "تكليف أمين المال بإعداد مشروع الميزانية", "meeting": minutes,
		"body": "يكلف المكتب السياسي أمين المال بإعداد مشروع الميزانية السنوية وعرضه في الاجتماع المقبل."})
	mk("decisions", map[string]any{"subject": "تشكيل لجنة تحضيرية للمؤتمر", "meeting": minutes})

	ctx, _ := browser(t)
	step(t, ctx, "log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"), chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".tiles")))

	step(t, ctx, "open the minutes", chromedp.Navigate(base+"/records/"+minutes), chromedp.WaitVisible(chromedp.CSS("#dec-h")))
	if got := text(t, ctx, "#dec-h + ol"); !strings.Contains(got, "تكليف أمين المال") || !strings.Contains(got, "تشكيل لجنة تحضيرية") {
		t.Errorf("the minutes list %q, want both decisions", got)
	}
	shot(t, ctx, "fu-01-minutes")

	due := m.Store.Now().AddDate(0, 0, -2).Format(time.DateOnly)
	step(t, ctx, "fill in the follow-up", chromedp.Navigate(base+"/records/"+dec), chromedp.WaitVisible(chromedp.CSS("#fu-resp")),
		chromedp.SendKeys(chromedp.CSS("#fu-resp"), "أمين المال"),
		chromedp.SetValue(chromedp.CSS("#fu-due"), due),
		chromedp.SetValue(chromedp.CSS("#fu-status"), "in_progress"),
		chromedp.SendKeys(chromedp.CSS("#fu-note"), "أُعدّت المسودة الأولى وتنتظر ملاحظات الأعضاء"),
		chromedp.Click(chromedp.CSS(`#followup button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#followup .alert-ok")))
	if got := text(t, ctx, "#followup"); !strings.Contains(got, "أُعدّت المسودة الأولى") || !strings.Contains(got, "متأخر") || !strings.Contains(got, "قيد التنفيذ") {
		t.Errorf("the saved follow-up shows %q", got)
	}
	shot(t, ctx, "fu-02-decision")

	step(t, ctx, "open the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#overdue-h")))
	if got := text(t, ctx, "#overdue-h + ol"); !strings.Contains(got, "تكليف أمين المال") || !strings.Contains(got, due) {
		t.Errorf("the dashboard's overdue list shows %q", got)
	}
	shot(t, ctx, "fu-03-dashboard")

	step(t, ctx, "open the follow-up page", chromedp.Click(chromedp.CSS(`.mainnav a[href="/followup"]`)), chromedp.WaitVisible(chromedp.CSS("table.table")))
	if got := text(t, ctx, "table.table"); !strings.Contains(got, "أمين المال") || !strings.Contains(got, "يكلف المكتب السياسي") {
		t.Errorf("the follow-up page shows %q", got)
	}
	shot(t, ctx, "fu-04-followup")

	step(t, ctx, "open the letter", chromedp.Navigate(base+"/records/"+letter), chromedp.WaitVisible(chromedp.CSS("#thread-h")))
	if got := text(t, ctx, "#thread-h + ol"); !strings.Contains(got, "أُجيب عنه بـ") || !strings.Contains(got, "تحديد موعد اللقاء") {
		t.Errorf("the letter's thread shows %q", got)
	}
	shot(t, ctx, "fu-05-thread")

	step(t, ctx, "open the import page", chromedp.Navigate(base+"/import"), chromedp.WaitVisible(chromedp.CSS("#imp-csv")))
	shot(t, ctx, "fu-06-import")

	// The form goes out with a progress bar (app.js), then the page that
	// follows the import reloads itself until the report is there.
	dir := t.TempDir()
	var sheet strings.Builder
	sheet.WriteString("السجل,الرقم,السنة,الموضوع,الملفات\n")
	for i := 1; i <= 150; i++ {
		fmt.Fprintf(&sheet, "الصادر,%d,2014,رسالة من الأرشيف الورقي رقم %d,\n", i, i)
	}
	fmt.Fprintf(&sheet, "الوارد,1,2014,رسالة ملفها مفقود,مفقود.pdf\n")
	csvPath := filepath.Join(dir, "archive.csv")
	if err := os.WriteFile(csvPath, []byte(sheet.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "send the import", chromedp.SetUploadFiles(chromedp.CSS("#imp-csv"), []string{csvPath}),
		chromedp.SendKeys(chromedp.CSS("#imp-map"), "السجل=register\nالرقم=number\nالسنة=year\nالموضوع=subject\nالملفات=files"),
		chromedp.Click(chromedp.CSS(`form[data-import-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#imp-res-h")))
	if got := text(t, ctx, "#imp-res-h ~ p[role=status]"); !strings.Contains(got, "الصفوف 151: استُورد 150، وكان موجودًا من قبل 0، ورُفض 1") {
		t.Errorf("the import's report says %q", got)
	}
	if got := text(t, ctx, "table.table"); !strings.Contains(got, "الملف «مفقود.pdf» لم يُرفع مع النموذج") {
		t.Errorf("the refused row is not listed with its reason in Arabic: %q", got)
	}
	shot(t, ctx, "fu-07-import-report")
}
