package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render/internal/fpdf"
)

// StampOptions is how a registration stamp is printed: the mark a
// secretariat puts on a paper letter when it registers it, with the
// organisation, the register, the number and the day of registration, and a
// QR code that opens the entry's page.
type StampOptions struct {
	Organisation  string
	EasternDigits bool
	// Location is the organisation's time zone, for the day of
	// registration; nil means UTC.
	Location *time.Location
	// Now is the time of printing (the file's dates); zero means time.Now().
	Now time.Time
	// URL is the address of the entry's page, which the QR code holds.
	URL string
	// Label is the size of the label the stamp is printed on (StampLabel)
	// and of the stamp drawn on a page (StampedPage); zero: 62 × 29 mm.
	Label LabelSize
}

// LabelSize is a label's width and height in millimetres.
type LabelSize struct{ W, H float64 }

// The label sizes the pages offer: the narrow roll of the common label
// printers (62 mm) and a shipping label.
var (
	LabelSmall = LabelSize{62, 29}
	LabelLarge = LabelSize{100, 50}
)

// ParseLabelSize reads a label size written WxH in millimetres ("62x29",
// "100x50"), between 40 × 20 and 150 × 100 mm: smaller, the QR code would
// not scan; larger, it is no longer a label.
func ParseLabelSize(s string) (LabelSize, error) {
	w, h, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if !ok {
		return LabelSize{}, archive.Errorf(archive.EINVALID, "a label size is written WxH in millimetres, like 62x29")
	}
	fw, err1 := strconv.ParseFloat(w, 64)
	fh, err2 := strconv.ParseFloat(h, 64)
	if err1 != nil || err2 != nil || fw < 40 || fw > 150 || fh < 20 || fh > 100 || fh > fw {
		return LabelSize{}, archive.Errorf(archive.EINVALID, "a label of %s mm cannot hold a stamp: from 40x20 to 150x100, wider than high", s)
	}
	return LabelSize{fw, fh}, nil
}

// StampLabel writes a PDF of one page the size of the label, holding the
// registration stamp of rec, for a label printer.
func StampLabel(ctx context.Context, w io.Writer, opt StampOptions, rec *archive.Record) error {
	d, sz, err := stampDoc(ctx, opt, rec)
	if err != nil {
		return err
	}
	d.pdf.AddPageFormat("P", fpdf.SizeType{Wd: sz.W, Ht: sz.H})
	drawStamp(d, 0, 0, sz, opt, rec, false)
	return d.finish(w)
}

// StampedPage writes an A4 PDF of the first page of a scanned letter (page,
// a JPEG or PNG image of it) with the registration stamp drawn in its top
// left corner, the place Arabic letters leave free, to be printed and
// filed with the paper original. The stored scan is not touched.
func StampedPage(ctx context.Context, w io.Writer, opt StampOptions, rec *archive.Record, page []byte) error {
	d, sz, err := stampDoc(ctx, opt, rec)
	if err != nil {
		return err
	}
	var typ string
	switch http.DetectContentType(page) {
	case "image/jpeg":
		typ = "JPG"
	case "image/png":
		typ = "PNG"
	default:
		return archive.Errorf(archive.EINVALID, "the page to stamp is neither JPEG nor PNG")
	}
	info := d.pdf.RegisterImageOptionsReader("page", fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(page))
	if err := d.pdf.Error(); err != nil || info == nil {
		return archive.Errorf(archive.EINVALID, "the page to stamp cannot be read: %v", err)
	}
	d.pdf.AddPage()
	// The scan fills the page, its proportions kept, centred.
	iw, ih := info.Width(), info.Height()
	scale := min(pageW/iw, pageH/ih)
	pw, ph := iw*scale, ih*scale
	d.pdf.ImageOptions("page", (pageW-pw)/2, (pageH-ph)/2, pw, ph, false, imageOpts, 0, "")
	drawStamp(d, 8, 8, sz, opt, rec, true)
	return d.finish(w)
}

// stampDoc starts the document of a stamp.
func stampDoc(ctx context.Context, opt StampOptions, rec *archive.Record) (*doc, LabelSize, error) {
	if rec == nil {
		return nil, LabelSize{}, archive.Errorf(archive.EINVALID, "no record to stamp")
	}
	if opt.URL == "" {
		return nil, LabelSize{}, archive.Errorf(archive.EINVALID, "a stamp needs the address of the entry's page")
	}
	if err := ctx.Err(); err != nil {
		return nil, LabelSize{}, fmt.Errorf("render: stamp %s: %w", rec.ID, err)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	sz := opt.Label
	if sz == (LabelSize{}) {
		sz = LabelSmall
	}
	d, err := newDoc(opt.EasternDigits, fmt.Sprintf("%s %d/%d", rec.Register.Title(), rec.Number, rec.Year), opt.Organisation, opt.Now)
	if err != nil {
		return nil, LabelSize{}, err
	}
	return d, sz, nil
}

// drawStamp draws the stamp in the box of size sz whose top left corner is
// (x, y): the QR code on the left, a square as high as the box allows, and
// on its right the organisation, the register, the number and the day of
// registration, each line fitted to the room left. framed draws a white,
// bordered box (over a scan); a label is its own frame.
func drawStamp(d *doc, x, y float64, sz LabelSize, opt StampOptions, rec *archive.Record, framed bool) {
	pad := sz.H * 0.07
	if framed {
		d.pdf.SetFillColor(255, 255, 255)
		d.pdf.SetDrawColor(0, 0, 0)
		d.pdf.SetLineWidth(0.4)
		d.pdf.Rect(x, y, sz.W, sz.H, "FD")
	}
	q := sz.H - 2*pad
	drawQR(d, x+pad, y+pad, q, opt.URL)
	textRight := x + sz.W - pad
	textW := sz.W - 3*pad - q
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	number := d.num(rec.Number) + "/" + d.num(rec.Year)
	lines := []struct {
		text  string
		style string
		size  float64
	}{
		{user(opt.Organisation), bold, 1},
		{rec.Register.Title(), regular, 0.9},
		{"رقم التسجيل: " + number, bold, 1.25},
		{"بتاريخ: " + d.date(rec.CreatedAt.In(loc)), regular, 0.9},
	}
	// The type follows the label's height (7.5 pt on a 29 mm label) and
	// shrinks, line by line, until the line fits beside the QR code; only
	// a name too long even at 5 pt is cut, never the number.
	base := sz.H * 7.5 / 29
	sizes := make([]float64, len(lines))
	var total float64
	for i, l := range lines {
		if strings.TrimSpace(l.text) == "" {
			continue
		}
		sizes[i] = base * l.size
		for sizes[i] > 5 {
			d.setFont(l.style, sizes[i])
			if d.strWidth(d.line(l.text)) <= textW {
				break
			}
			sizes[i] = max(5, sizes[i]*0.92)
		}
		total += leading(sizes[i])
	}
	ty := y + (sz.H-total)/2
	for i, l := range lines {
		if sizes[i] == 0 {
			continue
		}
		lh := leading(sizes[i])
		d.setFont(l.style, sizes[i])
		d.drawRight(textRight, ty+lh*0.72, d.fit(l.text, textW))
		ty += lh
	}
}

// drawQR draws a QR code of content as a square of side mm at (x, y),
// module by module in vector rectangles (sharp at any printer's resolution,
// no image for PDF/A to describe), with the code's own quiet zone inside
// the square. Medium error correction (15 %) survives a scratch or a
// stamp's ink over a corner.
func drawQR(d *doc, x, y, side float64, content string) {
	code, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		// Only content past the code's capacity (thousands of bytes)
		// fails; an entry's address is far shorter.
		d.pdf.SetError(fmt.Errorf("render: QR code: %w", err))
		return
	}
	bm := code.Bitmap() // with a 4-module quiet zone
	m := side / float64(len(bm))
	d.pdf.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			e := c
			for e < len(row) && row[e] {
				e++
			}
			d.pdf.Rect(x+float64(c)*m, y+float64(r)*m, float64(e-c)*m, m, "F")
			c = e
		}
	}
}
