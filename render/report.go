package render

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// FollowRow is one decision in the follow-up report.
type FollowRow struct {
	Responsible string
	DecisionID  string
	Number      int
	Year        int
	Date        string // YYYY-MM-DD, the decision's date
	Excerpt     string // the decision's text, shortened
	Due         string // YYYY-MM-DD
	Status      string // pending, in_progress, done, cancelled
	LatestNote  string
	Overdue     bool
}

// ReportOptions describes the follow-up report's print settings.
type ReportOptions struct {
	Organisation string
	Logo         []byte
	// EasternDigits prints numbers and dates in Eastern Arabic digits.
	EasternDigits bool
	// Now is the time of printing; zero means time.Now().
	Now time.Time
	// Location is the organisation's time zone; nil means UTC.
	Location *time.Location
	// Signer, if set, signs the PDF with the organisation's key (see Signer).
	Signer *Signer
}

// ReportTitle is the follow-up report's title as printed.
const ReportTitle = "تقرير متابعة تنفيذ القرارات"

var reportColumns = [...]column{
	{"رقم القرار", 18, true},
	{"التاريخ", 21, true},
	{"نص القرار", 58, false},
	{"موعد التنفيذ", 21, true},
	{"الحالة", 20, true},
	{"آخر ملاحظة", 48, false},
}

// FollowStatusTitle is a follow-up status in Arabic, as printed and shown.
func FollowStatusTitle(st string) string {
	switch st {
	case "pending":
		return "لم يبدأ"
	case "in_progress":
		return "قيد التنفيذ"
	case "done":
		return "منفّذ"
	case "cancelled":
		return "ملغى"
	}
	return st
}

// FollowUpReport writes «تقرير متابعة تنفيذ القرارات» as PDF to w: the
// decisions grouped by who is responsible for them (groups in alphabetical
// order, the unassigned last), each with its number, date, an excerpt of its
// text, the due date, the status (overdue ones marked «متأخر») and the latest
// note, ready to be read out at the next meeting. It reuses the register
// book's Arabic pipeline (shaping, bidi, fonts, headers and footers). The PDF
// is written only once complete.
func FollowUpReport(ctx context.Context, w io.Writer, opt ReportOptions, rows []FollowRow) error {
	if s := opt.Signer; s != nil {
		opt.Signer = nil
		return s.signed(w, "", "follow-up report", opt.Now, func(w io.Writer) error { return FollowUpReport(ctx, w, opt, rows) })
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	d, err := newDoc(opt.EasternDigits, ReportTitle, opt.Organisation, opt.Now)
	if err != nil {
		return err
	}
	logo, err := d.image(opt.Logo)
	if err != nil {
		return err
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b FollowRow) int {
		if (a.Responsible == "") != (b.Responsible == "") {
			if a.Responsible == "" {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Responsible, b.Responsible), cmp.Compare(dueKey(a.Due), dueKey(b.Due)),
			cmp.Compare(a.Year, b.Year), cmp.Compare(a.Number, b.Number))
	})
	r := &report{d: d, logo: logo, org: user(opt.Organisation), now: opt.Now.In(opt.Location)}
	r.page()
	if len(rows) == 0 {
		d.setFont(regular, 12)
		d.textCenter(pageW/2, r.y+12, "لا توجد قرارات قيد المتابعة.")
	}
	for i, row := range rows {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("render: follow-up report: %w", err)
			}
		}
		if i == 0 || row.Responsible != rows[i-1].Responsible {
			n := 0
			for _, o := range rows[i:] {
				if o.Responsible != row.Responsible {
					break
				}
				n++
			}
			r.group(row.Responsible, n)
		}
		r.row(row)
	}
	r.closeTable()
	footer(d, true)
	return d.finish(w)
}

// dueKey sorts rows without a due date last.
func dueKey(s string) string {
	if s == "" {
		return "9999"
	}
	return s
}

type report struct {
	d         *doc
	logo, org string
	now       time.Time
	y         float64
	inTable   bool
}

func (r *report) page() {
	r.closeTable()
	d := r.d
	if d.pdf.PageNo() > 0 {
		footer(d, false)
	}
	d.pdf.AddPage()
	header(d, r.logo, r.org, ReportTitle)
	d.setFont(regular, 9)
	d.textLeft(left, 24, "أُعدّ في "+d.date(r.now))
	r.y = tableTop
	d.setFont(bold, 9.5)
	h := 7.5
	x := right
	d.pdf.SetFillColor(225, 225, 225)
	for _, c := range reportColumns {
		d.pdf.Rect(x-c.width, r.y, c.width, h, "FD")
		d.textCenter(x-c.width/2, r.y+h/2+1.3, c.title)
		x -= c.width
	}
	d.pdf.SetFillColor(0, 0, 0)
	r.y += h
	r.inTable = true
}

// closeTable ends the page's table. Column rules are drawn row by row (see
// row), since the group headings span the whole width.
func (r *report) closeTable() { r.inTable = false }

// rules draws the vertical rules of a row from y0 to y1.
func (r *report) rules(y0, y1 float64) {
	x := right
	for _, c := range reportColumns {
		r.d.pdf.Line(x, y0, x, y1)
		x -= c.width
	}
	r.d.pdf.Line(x, y0, x, y1)
}

// group prints the heading row of one responsible's decisions.
func (r *report) group(responsible string, n int) {
	d := r.d
	h := leading(10) + 2*cellPad
	if r.y+h+3*leading(cellSize) > tableBottom {
		r.page()
	}
	name := user(responsible)
	if name == "" {
		name = "غير محدد"
	}
	d.pdf.SetFillColor(242, 242, 242)
	d.pdf.Rect(left, r.y, bodyW, h, "F")
	d.pdf.SetFillColor(0, 0, 0)
	d.pdf.Line(left, r.y+h, right, r.y+h)
	d.pdf.Line(left, r.y, left, r.y+h)
	d.pdf.Line(right, r.y, right, r.y+h)
	d.setFont(bold, 10)
	d.drawRight(right-cellPad, r.y+cellPad+leading(10)*0.72,
		d.fit(fmt.Sprintf("المسؤول عن التنفيذ: %s (%s)", name, d.num(n)), bodyW-2*cellPad))
	r.y += h
}

func (r *report) day(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return ""
	}
	return r.d.date(t)
}

func (r *report) row(row FollowRow) {
	d := r.d
	status := []part{{regular, FollowStatusTitle(row.Status)}}
	if row.Overdue {
		status = append(status, part{bold, "متأخر"})
	}
	cells := [len(reportColumns)][]part{
		{{bold, d.num(row.Number) + "/" + d.num(row.Year)}},
		{{regular, r.day(row.Date)}},
		{{regular, user(row.Excerpt)}},
		{{regular, r.day(row.Due)}},
		status,
		{{regular, user(row.LatestNote)}},
	}
	const maxLines = 8 // an excerpt or note longer than this is cut, visibly
	laid, h := d.layCells(reportColumns[:], cells[:], maxLines)
	if r.y+h > tableBottom {
		r.page()
	}
	d.pdf.Line(left, r.y+h, right, r.y+h)
	r.rules(r.y, r.y+h)
	d.drawCells(reportColumns[:], laid, r.y)
	r.y += h
}
