package importer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/importer"
)

// fastDir is a temporary directory in memory when the host has /dev/shm: the
// folder bucket syncs every write, and 15,000 imported rows on a shared disk
// would take minutes. The bucket is the real one either way.
func fastDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "sijill-import-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func newStore(t testing.TB) *archive.Store {
	t.Helper()
	b, err := folder.Open(filepath.Join(fastDir(t), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	return archive.NewStore(b, archive.Options{TempDir: fastDir(t)})
}

// writePNGs writes n distinct small PNG scans into dir.
func writePNGs(t testing.TB, dir string, n int) {
	t.Helper()
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Set(i%8, i/8%8, color.Gray{Y: uint8(i)})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("scan-%03d.png", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// bigCSV is an exported register of n rows: the Arabic headers of a real
// spreadsheet, rows out of order, each with a scan, plus three bad rows.
func bigCSV(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"السجل", "السنة", "الرقم", "التاريخ", "الموضوع", "الجهة", "الوسوم", "الملفات"})
	for i := n; i >= 1; i-- { // newest first, as registers are often exported
		_, r := expectedRow(i)
		w.Write([]string{r.reg, "2018", strconv.Itoa(r.num), r.date, r.subject, "الأمانة العامة", "أرشيف؛ 2018", r.file})
	}
	w.Write([]string{"unknown", "2018", "1", "", "سجل غير معروف", "", "", ""})
	w.Write([]string{"incoming", "2018", "99999", "", "ملف مفقود", "", "", "missing.pdf"})
	w.Write([]string{"incoming", "2018", "77777", "", "ملف خارج المجلد", "", "", "../etc/passwd"})
	w.Flush()
	return b.String()
}

type sheetRow struct {
	reg                 string
	num                 int
	date, subject, file string
}

// expectedRow is row i of the generated sheet: odd rows incoming, even outgoing.
func expectedRow(i int) (string, sheetRow) {
	r := sheetRow{reg: "وارد", num: (i + 1) / 2, date: fmt.Sprintf("2018-%02d-%02d", 1+i%12, 1+i%28),
		subject: fmt.Sprintf("خطاب رقم %d بشأن اجتماع اللجنة", i), file: fmt.Sprintf("scan-%03d.png", i%100)}
	reg := archive.Incoming
	if i%2 == 0 {
		r.reg, r.num, reg = "outgoing", i/2, archive.Outgoing
	}
	return archive.RecordID(reg, 2018, r.num), r
}

var bigMap = map[string]string{"السجل": "register", "السنة": "year", "الرقم": "number", "التاريخ": "date",
	"الموضوع": "subject", "الجهة": "from", "الوسوم": "tags", "الملفات": "files"}

// state is every record's identity, content and files, for comparing end states.
func state(t *testing.T, s *archive.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rec, err := range s.AllRecords(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, a := range rec.Attachments {
			files = append(files, a.SHA256)
		}
		out[rec.ID] = fmt.Sprint(rec.Subject, rec.From, rec.Date, rec.Tags, files, rec.Version)
	}
	return out
}

func TestInterruptedImportReRunsToTheSameEndState(t *testing.T) {
	const n = 5000
	ctx := context.Background()
	files := t.TempDir()
	writePNGs(t, files, 100)
	data := bigCSV(t, n)

	// A record the organisation already registered in Sijill sits at a number the sheet also uses.
	s := newStore(t)
	if _, _, err := s.CreateAt(ctx, "sec", archive.Outgoing, 2018, 1, archive.Fields{Subject: ptr("قيد سابق مختلف")}, nil, ""); err != nil {
		t.Fatal(err)
	}

	// First run: cancelled halfway through.
	cctx, cancel := context.WithCancel(ctx)
	var seen atomic.Int64
	opt := importer.Options{Store: s, Actor: "admin", FilesDir: files, Map: bigMap,
		OnRecord: func(context.Context, *archive.Record) error {
			if seen.Add(1) == n/2 {
				cancel()
			}
			return nil
		}}
	rep1, err := importer.Run(cctx, opt, strings.NewReader(data))
	if err == nil {
		t.Fatal("the cancelled run reported success")
	}
	if rep1.Imported == 0 || rep1.Imported >= n-1 {
		t.Fatalf("the first run imported %d rows; want it stopped midway", rep1.Imported)
	}

	// Second run: the same file again, to the end.
	opt.OnRecord = nil
	var lastDone, lastTotal int
	opt.OnProgress = func(done, total int) { lastDone, lastTotal = done, total }
	rep2, err := importer.Run(ctx, opt, strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Skipped != rep1.Imported {
		t.Errorf("second run skipped %d rows, want the %d the first run imported", rep2.Skipped, rep1.Imported)
	}
	if got := rep1.Imported + rep2.Imported; got != n-1 {
		t.Errorf("imported %d rows over both runs, want %d (every good row once; outgoing 1 clashes)", got, n-1)
	}
	reasons := map[string]string{}
	for _, r := range rep2.Refused {
		reasons[r.ID+"|"+strconv.Itoa(r.Line)] = r.Reason
	}
	if len(rep2.Refused) != 4 {
		t.Errorf("refused %d rows, want 4 (clash, unknown register, missing file, path escape): %+v", len(rep2.Refused), rep2.Refused)
	}
	var codes []string
	for _, r := range rep2.Refused {
		codes = append(codes, r.Code)
	}
	slices.Sort(codes)
	if want := []string{importer.RefusedMissing, importer.RefusedPath, importer.RefusedRegister, importer.RefusedTaken}; !slices.Equal(codes, want) {
		t.Errorf("refusal codes %v, want %v (a page says them in its own language)", codes, want)
	}
	var report bytes.Buffer
	if err := rep2.WriteCSV(&report); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"outgoing-2018-1", "already exists", "unknown register", "missing.pdf", "leaves the files folder"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("refusal report lacks %q:\n%s", want, report.String())
		}
	}
	// n rows plus the one whose file is missing reach the store; the two others are refused on reading.
	if lastDone != n+1 || lastTotal != n+1 {
		t.Errorf("progress ended at %d/%d, want %d/%d", lastDone, lastTotal, n+1, n+1)
	}

	// The end state is the sheet: every good row once, with its content and scan.
	got := state(t, s)
	if len(got) != n {
		t.Errorf("%d records after the re-run, want %d", len(got), n)
	}
	scans := map[string]string{}
	for i := range 100 {
		b, _ := os.ReadFile(filepath.Join(files, fmt.Sprintf("scan-%03d.png", i)))
		scans[fmt.Sprintf("scan-%03d.png", i)] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	for i := 1; i <= n; i++ {
		id, row := expectedRow(i)
		if id == "outgoing-2018-1" {
			continue // the clash: the earlier entry stays
		}
		want := fmt.Sprint(row.subject, "الأمانة العامة", row.date, []string{"أرشيف", "2018"}, []string{scans[row.file]}, 1)
		if got[id] != want {
			t.Errorf("%s after interruption and re-run:\n got %s\nwant %s", id, got[id], want)
		}
	}
	rec, _, err := s.Get(ctx, "incoming-2018-2500")
	if err != nil || rec.Subject != "خطاب رقم 4999 بشأن اجتماع اللجنة" || len(rec.Attachments) != 1 || rec.Tags[0] != "أرشيف" {
		t.Fatalf("incoming-2018-2500 = %+v %v", rec, err)
	}
	// Historical numbers chain as a register kept in Sijill from the start.
	vr, err := s.Verify(ctx, "auditor", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range vr.Problems {
		t.Errorf("verify after import: %+v", p)
	}
	runs, err := s.AuditEvents(ctx, archive.AuditFilter{Action: archive.ActionImport})
	if err != nil || len(runs) != 2 || !strings.Contains(runs[1].Detail, "interrupted") {
		t.Errorf("audit of import runs = %+v %v, want two, the first interrupted", runs, err)
	}
}

func TestParseMapAndDefaults(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", map[string]string{}, false},
		{"الموضوع=subject, رقم القيد=number", map[string]string{"الموضوع": "subject", "رقم القيد": "number"}, false},
		{"x=colour", nil, true},
		{"nofield", nil, true},
	}
	for _, tc := range tests {
		got, err := importer.ParseMap(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && fmt.Sprint(got) != fmt.Sprint(tc.want)) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	// Headers named like fields need no mapping; Arabic-Indic digits are read; year from the date.
	s := newStore(t)
	data := "register,number,date,subject\nincoming,٣,٢٠١٥-٠٤-٠١,قيد قديم\n"
	rep, err := importer.Run(context.Background(), importer.Options{Store: s, Actor: "admin", FilesDir: t.TempDir()}, strings.NewReader(data))
	if err != nil || rep.Imported != 1 {
		t.Fatalf("import = %+v %v", rep, err)
	}
	if rec, _, err := s.Get(context.Background(), "incoming-2015-3"); err != nil || rec.Date != "2015-04-01" {
		t.Fatalf("incoming-2015-3 = %+v %v", rec, err)
	}
	if _, err := importer.Run(context.Background(), importer.Options{Store: s}, strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("a sheet without a register column was accepted")
	}
}

func ptr(s string) *string { return &s }

// BenchmarkImport measures one run of a 500-row sheet with a scan per row
// into an empty folder archive; rows/s is the figure to watch.
func BenchmarkImport(b *testing.B) {
	files := b.TempDir()
	writePNGs(b, files, 100)
	data := bigCSV(b, 500)
	for b.Loop() {
		bk, err := folder.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		s := archive.NewStore(bk, archive.Options{TempDir: b.TempDir()})
		rep, err := importer.Run(context.Background(), importer.Options{Store: s, Actor: "admin", FilesDir: files, Map: bigMap}, strings.NewReader(data))
		if err != nil || rep.Imported != 500 {
			b.Fatal(rep, err)
		}
	}
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
}
