// Command bench measures printing a 10,000-entry register book: wall time and
// peak memory of render.Book, side by side with headless Chromium printing the
// same table as HTML to PDF, the usual alternative; and the peak memory of
// books of a fifth and of four times the entries, which must stay flat.
//
//	go run ./render/bench [-n 10000] [-chromium=false] [-keep DIR]
//
// Each measurement runs in a child process so its peak RSS (getrusage maxrss)
// is its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/fonts"
	"github.com/sijill/sijill/render"
	"github.com/sijill/sijill/render/internal/sample"
)

func main() {
	n := flag.Int("n", 10000, "entries in the book")
	child := flag.String("child", "", "internal: run one measurement (book) and exit")
	out := flag.String("o", "", "internal: output file of the child")
	chromium := flag.Bool("chromium", true, "also measure headless Chromium")
	keep := flag.String("keep", "", "keep the PDFs and HTML in this directory")
	flag.Parse()
	if *child == "book" {
		if err := book(*n, *out); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := compare(*n, *chromium, *keep); err != nil {
		log.Fatal(err)
	}
}

// book writes the book in this (child) process.
func book(n int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	opt := render.BookOptions{
		Organisation: "حزب التقدم والاشتراكية — الأمانة العامة", Register: archive.Outgoing,
		Year: 2026, Hijri: true, Now: time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC),
	}
	if err := render.Book(context.Background(), f, opt, sample.Records(n)); err != nil {
		return err
	}
	return f.Close()
}

type result struct {
	wall  time.Duration
	cpu   time.Duration // user + system, less sensitive to a busy machine than wall time
	maxKB int64
	size  int64
}

// measure runs a command and reports its wall time and peak RSS.
func measure(name string, args []string, out string) (result, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder // Chromium logs D-Bus noise even when it works
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%s: %w\n%s", name, err, stderr.String())
	}
	r := result{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxKB = ru.Maxrss
	}
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	st, err := os.Stat(out)
	if err != nil {
		return r, fmt.Errorf("%s wrote no output: %w", name, err)
	}
	r.size = st.Size()
	return r, nil
}

func compare(n int, withChromium bool, keep string) error {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "sijill-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pdf := filepath.Join(dir, "book.pdf")
	fmt.Printf("register book, %d entries, A4\n", n)
	g, err := measure(self, []string{"-child", "book", "-n", fmt.Sprint(n), "-o", pdf}, pdf)
	if err != nil {
		return err
	}
	fmt.Printf("  sijill render.Book : %7.2f s wall %7.2f s CPU  peak RSS %6.1f MB  %5.1f MB PDF  %s\n", g.wall.Seconds(), g.cpu.Seconds(), float64(g.maxKB)/1024, float64(g.size)/(1<<20), pages(pdf))
	// Memory must not grow with the register: the same book at a fifth and at
	// four times the entries.
	for _, m := range []int{n / 5, 4 * n} {
		o, err := measure(self, []string{"-child", "book", "-n", fmt.Sprint(m), "-o", pdf}, pdf)
		if err != nil {
			return err
		}
		fmt.Printf("  render.Book, %6d : %7.2f s wall %7.2f s CPU  peak RSS %6.1f MB  %5.1f MB PDF  %s  (peak RSS %.2fx the %d-entry book)\n",
			m, o.wall.Seconds(), o.cpu.Seconds(), float64(o.maxKB)/1024, float64(o.size)/(1<<20), pages(pdf), float64(o.maxKB)/float64(g.maxKB), n)
	}
	if !withChromium {
		return nil
	}
	chrome, err := findChromium()
	if err != nil {
		return err
	}
	page := filepath.Join(dir, "book.html")
	if err := writeHTML(page, dir, n); err != nil {
		return err
	}
	cpdf := filepath.Join(dir, "chromium.pdf")
	profile, err := os.MkdirTemp("", "sijill-bench-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	c, err := measure(chrome, []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--no-pdf-header-footer", "--print-to-pdf=" + cpdf, "file://" + page}, cpdf)
	if err != nil {
		return err
	}
	// Chromium's renderer processes are not its waited-for children, so its CPU
	// time and RSS are those of its largest process only: lower bounds.
	fmt.Printf("  headless Chromium  : %7.2f s wall                peak RSS %6.1f MB  %5.1f MB PDF  %s (RSS: largest process)\n", c.wall.Seconds(), float64(c.maxKB)/1024, float64(c.size)/(1<<20), pages(cpdf))
	fmt.Printf("  speed-up           : %7.1fx (wall time, Chromium / sijill)\n", c.wall.Seconds()/g.wall.Seconds())
	return nil
}

// pages asks pdfinfo for the page count, if it is installed.
func pages(path string) string {
	out, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Pages:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "Pages:")) + " pages"
		}
	}
	return ""
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium found (Debian package chromium; `make bench-print` installs it), run with -chromium=false to skip")
}

// writeHTML writes the same table as an RTL HTML page with the same font.
func writeHTML(path, dir string, n int) error {
	if err := os.WriteFile(filepath.Join(dir, "Amiri-Regular.ttf"), fonts.AmiriRegular, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Amiri-Bold.ttf"), fonts.AmiriBold, 0o644); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &errWriter{w: f}
	w.printf(`<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>سجل الصادر 2026</title><style>
@font-face{font-family:Amiri;src:url(Amiri-Regular.ttf)}
@font-face{font-family:Amiri;font-weight:bold;src:url(Amiri-Bold.ttf)}
@page{size:A4;margin:12mm}
body{font-family:Amiri;font-size:9.5pt}
table{width:100%%;border-collapse:collapse}
th,td{border:0.2mm solid #000;padding:1.3mm;vertical-align:top}
th{background:#e1e1e1}
thead{display:table-header-group}
tr{break-inside:avoid}
tr.annulled{background:#eee}
</style></head><body><h1>حزب التقدم والاشتراكية — الأمانة العامة</h1><h2>سجل الصادر لسنة 2026</h2>
<table><thead><tr><th>الرقم</th><th>التاريخ</th><th>الجهة</th><th>الموضوع</th><th>المرفقات</th><th>ملاحظات</th></tr></thead><tbody>
`)
	for r := range sample.Records(n) {
		cls, notes := "", ""
		if r.Status == archive.StatusAnnulled {
			cls, notes = ` class="annulled"`, "<b>«ملغى»</b><br>السبب: "+html.EscapeString(r.AnnulReason)
		}
		att := "—"
		if len(r.Attachments) > 0 {
			att = html.EscapeString(r.Attachments[0].Name)
		}
		date := strings.ReplaceAll(r.Date, "-", "/")
		w.printf("<tr%s><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			cls, r.Number, date, html.EscapeString(r.To), html.EscapeString(r.Subject), att, notes)
	}
	w.printf("</tbody></table></body></html>\n")
	if w.err != nil {
		return w.err
	}
	return f.Close()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
