package render

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
)

// PrintOptions is how the organisation wants a single record printed.
type PrintOptions struct {
	// Organisation is the name printed at the top of every page.
	Organisation string
	// Logo is an optional PNG or JPEG printed beside the name.
	Logo []byte
	// EasternDigits prints numbers and dates in Eastern Arabic digits (٠١٢٣).
	EasternDigits bool
	// Hijri prints the tabular Islamic date beside the Gregorian one.
	Hijri bool
	// Now is the time of printing, shown in the footer; zero means time.Now().
	Now time.Time
	// Location is the organisation's time zone for printed dates; nil means UTC.
	Location *time.Location
	// Signatory is the title printed over the signature (default: the register's usual signer).
	Signatory string
	// InReplyTo is the letter an outgoing reply answers, and Meeting the
	// minutes of the meeting a decision was taken at, when the reader may see
	// them: a reply cites the letter, a decision names its meeting. nil
	// prints neither (the caller leaves out what the reader may not see).
	InReplyTo, Meeting *archive.Record
	// Signer, if set, signs the PDF with the organisation's key (see Signer).
	Signer *Signer
}

// RecordPrint writes one record as PDF to w in the layout of an official
// document of its register: a decision or the minutes of a meeting with their
// title, a letter with its addressee, the number (117/2026) and date, the body
// wrapped over as many pages as it needs, the signature block and the list of
// attachments. An annulled record is stamped «ملغى» with its reason, so a
// printout can never pass for a valid one.
func RecordPrint(ctx context.Context, w io.Writer, opt PrintOptions, rec *archive.Record) error {
	if rec == nil {
		return archive.Errorf(archive.EINVALID, "no record to print")
	}
	if s := opt.Signer; s != nil {
		opt.Signer = nil
		return s.signed(w, "", "record "+rec.ID, opt.Now, func(w io.Writer) error { return RecordPrint(ctx, w, opt, rec) })
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("render: print %s: %w", rec.ID, err)
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	d, err := newDoc(opt.EasternDigits, fmt.Sprintf("%s %d/%d", rec.Register.Title(), rec.Number, rec.Year), opt.Organisation, opt.Now)
	if err != nil {
		return err
	}
	logo, err := d.image(opt.Logo)
	if err != nil {
		return err
	}
	p := &printer{d: d, opt: opt, rec: rec, logo: logo}
	p.page()
	p.heading()
	p.body()
	p.lists()
	p.signature()
	p.attachments()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("render: print %s: %w", rec.ID, err)
	}
	footer(d, true)
	return d.finish(w)
}

// printer lays out one record top to bottom, breaking pages as it goes.
type printer struct {
	d    *doc
	opt  PrintOptions
	rec  *archive.Record
	logo string
	y    float64
}

const printBottom = pageH - 18.0

// page starts a new page with the letterhead (and the stamp, if annulled).
func (p *printer) page() {
	d := p.d
	if d.pdf.PageNo() > 0 {
		footer(d, false)
	}
	d.pdf.AddPage()
	header(d, p.logo, user(p.opt.Organisation), p.rec.Register.Title())
	if p.rec.Status == archive.StatusAnnulled {
		p.stamp()
	}
	p.y = headerBottom + 4
}

// need makes sure h mm are left on the page, starting a new one if not.
func (p *printer) need(h float64) {
	if p.y+h > printBottom {
		p.page()
	}
}

// number is the record's official number as written in letters: 117/2026.
func (p *printer) number() string {
	return p.d.num(p.rec.Number) + "/" + p.d.num(p.rec.Year)
}

// citeLetter is how a reply cites the letter it answers: the sender's own
// reference and date when the letter had them, and its number in the
// incoming register.
func (p *printer) citeLetter(l *archive.Record) string {
	d := p.d
	var b strings.Builder
	b.WriteString("كتابكم")
	if l.Reference != "" {
		b.WriteString(" رقم " + l.Reference)
		if t, err := time.Parse(time.DateOnly, l.ReferenceDate); err == nil {
			b.WriteString(" بتاريخ " + d.date(t))
		}
		b.WriteString("،")
	}
	b.WriteString(" المقيد لدينا في " + l.Register.Title() + " برقم " + d.num(l.Number) + "/" + d.num(l.Year))
	if t, err := time.Parse(time.DateOnly, l.ReceivedDate); err == nil {
		b.WriteString(" بتاريخ " + d.date(t))
	}
	return b.String()
}

// citeMeeting names the meeting a decision was taken at: its committee, its
// date and the number of its minutes.
func (p *printer) citeMeeting(m *archive.Record) string {
	d := p.d
	s := "اجتماع"
	if m.Committee != "" {
		s += " " + m.Committee
	}
	if t, err := time.Parse(time.DateOnly, m.Date); err == nil {
		s += " المنعقد بتاريخ " + d.date(t)
	}
	return s + " (محضر رقم " + d.num(m.Number) + "/" + d.num(m.Year) + ")"
}

func (p *printer) date() string {
	t, err := time.Parse(time.DateOnly, p.rec.Date)
	if err != nil {
		t = p.rec.CreatedAt.In(p.opt.Location)
	}
	s := p.d.date(t)
	if p.opt.Hijri {
		s += " الموافق " + p.d.hijriDate(t)
	}
	return s
}

// field prints "label: value" right-aligned, wrapping the value.
func (p *printer) field(label, value string, size float64) {
	if strings.TrimSpace(value) == "" {
		return
	}
	p.text(label+": "+user(value), size, regular, 0)
}

// text prints a wrapped paragraph right-aligned, indented by indent mm.
func (p *printer) text(s string, size float64, style string, indent float64) {
	d := p.d
	d.setFont(style, size)
	lh := leading(size)
	for _, l := range d.wrap(s, bodyW-indent) {
		p.need(lh)
		d.setFont(style, size)
		d.drawRight(right-indent, p.y+lh*0.72, l)
		p.y += lh
	}
}

func (p *printer) heading() {
	d, rec := p.d, p.rec
	// number on the right, date on the left, as on the secretariat's letters
	d.setFont(bold, 12)
	d.textRight(right, p.y+5, "الرقم: "+p.number())
	d.textLeft(left, p.y+5, "التاريخ: "+p.date())
	p.y += 12
	var title string
	switch rec.Register {
	case archive.Decisions:
		title = "قرار رقم " + p.number()
	case archive.Minutes:
		title = "محضر اجتماع"
		if rec.Committee != "" {
			title += " " + user(rec.Committee)
		}
	}
	if title != "" {
		d.setFont(bold, 18)
		for _, l := range d.wrap(title, bodyW) {
			d.drawAt(pageW/2-d.strWidth(l)/2, p.y+8, l, 0)
			p.y += leading(18)
		}
		p.y += 4
	}
	switch rec.Register {
	case archive.Incoming:
		p.field("من", rec.From, 12)
		if rec.Reference != "" {
			ref := rec.Reference
			if t, err := time.Parse(time.DateOnly, rec.ReferenceDate); err == nil {
				ref += " بتاريخ " + d.date(t)
			}
			p.field("مرجع المرسل", ref, 12)
		}
		if t, err := time.Parse(time.DateOnly, rec.ReceivedDate); err == nil {
			p.field("تاريخ الورود", d.date(t), 12)
		}
	case archive.Outgoing:
		p.field("إلى", rec.To, 12)
		if l := p.opt.InReplyTo; l != nil && l.ID == rec.InReplyTo {
			p.field("إشارة", p.citeLetter(l), 12)
		}
	default:
		p.field("من", rec.From, 12)
		p.field("إلى", rec.To, 12)
		if rec.Register != archive.Minutes {
			p.field("الجهة", rec.Committee, 12)
		}
		if m := p.opt.Meeting; m != nil && m.ID == rec.Meeting && rec.Register == archive.Decisions {
			p.field("الاجتماع", p.citeMeeting(m), 12)
		}
	}
	if rec.Confidentiality == archive.Confidential {
		p.text("سري", 12, bold, 0)
	}
	p.y += 3
	p.text("الموضوع: "+user(rec.Subject), 13, bold, 0)
	p.y += 4
	if rec.Status == archive.StatusAnnulled {
		reason := strings.TrimSpace(rec.AnnulReason)
		if reason == "" {
			reason = "—"
		}
		p.text("«ملغى» — سبب الإلغاء: "+user(reason), 12, bold, 0)
		p.y += 3
	}
}

func (p *printer) body() {
	if strings.TrimSpace(p.rec.Body) == "" {
		return
	}
	p.text(user(p.rec.Body), 12.5, regular, 0)
	p.y += 4
}

// lists prints the minutes' attendance and agenda.
func (p *printer) lists() {
	rec := p.rec
	for _, l := range []struct {
		title string
		items []string
	}{{"الحاضرون", rec.Attendees}, {"المعتذرون", rec.Apologies}, {"جدول الأعمال", rec.Agenda}} {
		if len(l.items) == 0 {
			continue
		}
		p.need(leading(12) * 2)
		p.text(l.title+":", 12, bold, 0)
		for i, it := range l.items {
			p.text(p.d.num(i+1)+". "+user(it), 12, regular, 5)
		}
		p.y += 2
	}
}

func (p *printer) signature() {
	d := p.d
	p.need(32)
	p.y += 6
	signer := p.opt.Signatory
	if signer == "" {
		signer = "أمين السر"
		if p.rec.Register == archive.Decisions {
			signer = "الرئيس"
		}
	}
	d.setFont(bold, 13)
	d.textCenter(left+40, p.y+5, user(signer))
	d.setFont(regular, 11)
	d.textCenter(left+40, p.y+14, "التوقيع: ................................")
	d.textCenter(left+40, p.y+22, "الختم:")
	p.y += 28
}

func (p *printer) attachments() {
	if len(p.rec.Attachments) == 0 {
		return
	}
	p.need(leading(11) * 2)
	p.text("المرفقات:", 11, bold, 0)
	for i, a := range p.rec.Attachments {
		p.text(fmt.Sprintf("%s. %s (%s)", p.d.num(i+1), user(a.Name), p.d.fileSize(a.Size)), 11, regular, 5)
	}
}

// fileSize prints a file size for people: 12 ك.ب, 3.4 م.ب.
func (d *doc) fileSize(n int64) string {
	switch {
	case n < 1024:
		return d.digits(fmt.Sprint(n)) + " بايت"
	case n < 1<<20:
		return d.digits(fmt.Sprintf("%.0f", math.Ceil(float64(n)/1024))) + " ك.ب"
	default:
		return d.digits(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " م.ب"
	}
}

// stamp draws a large rotated «ملغى» across the page, outlined so the text
// beneath stays legible.
func (p *printer) stamp() {
	d := p.d
	d.pdf.TransformBegin()
	d.pdf.TransformRotate(30, pageW/2, pageH/2)
	d.pdf.SetDrawColor(180, 0, 0)
	d.pdf.SetTextColor(180, 0, 0)
	d.pdf.SetLineWidth(1.2)
	d.setFont(bold, 90)
	d.sync()
	v := d.line("ملغى")
	w := d.strWidth(v)
	d.pdf.RoundedRect(pageW/2-w/2-8, pageH/2-25, w+16, 38, 4, "1234", "D")
	// Outlined, not translucent: PDF/A allows no transparency, and the
	// entry's text stays readable through the letters.
	d.pdf.SetTextRenderingMode(1)
	d.pdf.Text(pageW/2-w/2, pageH/2+5, v)
	d.pdf.SetTextRenderingMode(0)
	d.pdf.TransformEnd()
	d.pdf.SetDrawColor(0, 0, 0)
	d.pdf.SetTextColor(0, 0, 0)
	d.pdf.SetLineWidth(0.2)
}
