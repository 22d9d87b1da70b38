package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"
)

// Files made to exhaust whatever reads them, of every type Sijill accepts.
// Each is small; each declares or inflates to gigabytes.

// pngBomb is a small PNG whose header declares 40000 × 40000 pixels: a
// decoder that trusts it allocates 1.6 GB before reading a row.
func pngBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))
	b := buf.Bytes()
	// IHDR: length(4) "IHDR"(4) width(4) height(4) ... crc(4), after the 8-byte signature.
	binary.BigEndian.PutUint32(b[16:], 40000)
	binary.BigEndian.PutUint32(b[20:], 40000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegBomb is a small JPEG whose frame header declares 65000 × 65000.
func jpegBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	b := buf.Bytes()
	sof := bytes.Index(b, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 in the JPEG")
	}
	binary.BigEndian.PutUint16(b[sof+5:], 65000) // height
	binary.BigEndian.PutUint16(b[sof+7:], 65000) // width
	return b
}

// tiffBomb is a TIFF of two pages, the second declaring 50000 × 50000.
func tiffBomb() []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { binary.Write(&b, le, v) }
	b.WriteString("II*\x00")
	w(uint32(8))
	ifd := func(width, height uint32, next uint32) {
		w(uint16(4))
		for _, e := range [][3]uint32{{256, 4, width}, {257, 4, height}, {258, 3, 8}, {262, 3, 1}} {
			w(uint16(e[0]))
			w(uint16(e[1]))
			w(uint32(1))
			w(e[2])
		}
		w(next)
	}
	ifd(8, 8, 8+2+4*12+4)
	ifd(50000, 50000, 0)
	return b.Bytes()
}

// webpBomb is a lossless WebP header declaring 16383 × 16383 (268 million
// pixels).
func webpBomb() []byte {
	var vp8l bytes.Buffer
	vp8l.WriteByte(0x2f)
	binary.Write(&vp8l, binary.LittleEndian, uint32(16382)|uint32(16382)<<14)
	vp8l.Write(make([]byte, 32))
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+vp8l.Len()))
	b.WriteString("WEBPVP8L")
	binary.Write(&b, binary.LittleEndian, uint32(vp8l.Len()))
	b.Write(vp8l.Bytes())
	return b.Bytes()
}

// officeBomb is a zip whose XML parts (names) each inflate to 64 MB of text.
func officeBomb(t *testing.T, mimetype string, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if mimetype != "" {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
		w.Write([]byte(mimetype))
	}
	chunk := bytes.Repeat([]byte("لجنة "), 8192)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="x" xmlns:office="y" xmlns:text="z"><w:body><w:p><w:r><w:t><text:p>`)
		for n := 0; n < 64<<20; n += len(chunk) {
			w.Write(chunk)
		}
		io.WriteString(w, `</text:p></w:t></w:r></w:p></w:body></w:document>`)
	}
	zw.Close()
	return buf.Bytes()
}

// pdfBomb is a one-page PDF whose page is 14,000 inches square: rasterised
// for OCR at 300 dpi it would be 17 billion pixels.
func pdfBomb() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1000000 1000000] /Contents 4 0 R >>",
		"<< /Length 0 >>\nstream\n\nendstream",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

// TestExtractionBombsAreSurvived uploads a bomb of every accepted type to a
// real server. Each file ends as failed with the reason; the server stays
// up and its memory stays where a server's memory belongs (the files are
// read in a child process under limits, and measured before anything is
// decoded); and after a restart nothing is read again nor takes it down.
func TestExtractionBombsAreSurvived(t *testing.T) {
	needOCR(t)
	data := t.TempDir()
	p := startProc(t, data, nil)
	c := login(t, p.base, "admin", adminPassword)
	var rec record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "ملفات مفخخة"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	bombs := map[string][]byte{
		"huge.png":  pngBomb(t),
		"huge.jpg":  jpegBomb(t),
		"huge.tif":  tiffBomb(),
		"huge.webp": webpBomb(),
		"huge.pdf":  pdfBomb(),
		"huge.docx": officeBomb(t, "", "word/document.xml", "word/footnotes.xml", "word/endnotes.xml"),
		"huge.odt":  officeBomb(t, "application/vnd.oasis.opendocument.text", "content.xml"),
	}
	for name, b := range bombs {
		if resp, body := c.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{name: b}); resp.StatusCode != 201 {
			t.Fatalf("upload %s (%d bytes): %d %s", name, len(b), resp.StatusCode, body)
		}
	}
	states := waitText(t, c, rec.ID, ocrCeiling)
	for name := range bombs {
		st := states[name]
		if st.Status != "failed" || !strings.Contains(st.Error, "too large") {
			t.Errorf("%s: %+v, want failed as too large", name, st)
		}
	}
	if p.cmd.ProcessState != nil {
		t.Fatalf("the server died reading the bombs:\n%s", p.out)
	}
	if rss, err := peakRSS(p.cmd.Process.Pid); err != nil || rss > 300 {
		t.Errorf("the server's peak memory: %.0f MB (%v), want under 300 MB", rss, err)
	}
	stopProc(t, p)

	p2 := startProc(t, data, nil)
	c2 := login(t, p2.base, "admin", adminPassword)
	for name, st := range waitText(t, c2, rec.ID, ocrCeiling) {
		if st.Status != "failed" {
			t.Errorf("%s after a restart: %+v", name, st)
		}
	}
	if p2.cmd.ProcessState != nil {
		t.Fatalf("the restarted server died:\n%s", p2.out)
	}
}
