package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// qrOf writes the PDF b to a file, rasterises its first page and returns
// what zbarimg reads in it.
func qrOf(t *testing.T, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "stamp.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", "-f", "1", "-l", "1", path, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", filepath.Join(dir, "p.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg finds no QR code in the stamp: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRegistrationStamp: a registered letter's stamp — as a label of either
// size, and printed on the first page of its scan (an image or a PDF) —
// carries a QR code that reads back as the entry's page at the server's
// public address. An entry a reader may not see cannot be stamped by them;
// an annulled one gets no stamp; a bad label size is a clear 400.
func TestRegistrationStamp(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "zbarimg", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found; `make test` installs it (poppler-utils, zbar-tools)", tool)
		}
	}
	const public = "https://sijill.hizb.example"
	m := startMain(t, map[string]string{"SIJILL_PUBLIC_URL": public + "/"})
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)

	var rec record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{
		"subject": "طلب موعد مع الأمين العام", "from": "جمعية الأمل", "confidentiality": "confidential"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	// A scan as a phone or a scanner sends it, and a PDF (the entry's own print).
	img := image.NewGray(image.Rect(0, 0, 827, 1169))
	for i := range img.Pix {
		img.Pix[i] = 245
	}
	for y := 500; y < 540; y++ {
		for x := 100; x < 700; x++ {
			img.SetGray(x, y, color.Gray{Y: 30})
		}
	}
	var scan bytes.Buffer
	if err := jpeg.Encode(&scan, img, nil); err != nil {
		t.Fatal(err)
	}
	resp, printed := admin.raw("GET", "/api/v1/records/"+rec.ID+"/print.pdf", nil, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("print: %d", resp.StatusCode)
	}
	if resp, body := admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"scan.jpg": scan.Bytes(), "letter.pdf": printed}); resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var got record
	if st := admin.call("GET", "/api/v1/records/"+rec.ID, nil, nil, &got); st != 200 || len(got.Attachments) != 2 {
		t.Fatalf("the entry: %d, %d files", st, len(got.Attachments))
	}
	want := public + "/records/" + rec.ID

	for _, size := range []string{"", "?size=100x50"} {
		resp, b := admin.raw("GET", "/api/v1/records/"+rec.ID+"/stamp.pdf"+size, nil, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("stamp%s: %d %s", size, resp.StatusCode, b)
		}
		if q := qrOf(t, b); q != want {
			t.Errorf("stamp%s: the QR code reads %q, want %q", size, q, want)
		}
	}
	for _, a := range got.Attachments {
		resp, b := admin.raw("GET", "/api/v1/records/"+rec.ID+"/attachments/"+a.SHA256+"/stamped.pdf", nil, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("stamped %s: %d %s", a.Name, resp.StatusCode, b)
		}
		if q := qrOf(t, b); q != want {
			t.Errorf("stamped %s: the QR code reads %q, want %q", a.Name, q, want)
		}
	}

	var e apiError
	if st := admin.call("GET", "/api/v1/records/"+rec.ID+"/stamp.pdf?size=5x5", nil, nil, &e); st != 400 || e.Code != "invalid" {
		t.Errorf("a 5 x 5 mm label: %d %+v, want 400 invalid", st, e)
	}
	if st := admin.call("GET", "/api/v1/records/"+rec.ID+"/attachments/"+strings.Repeat("0", 64)+"/stamped.pdf", nil, nil, &e); st != 404 {
		t.Errorf("a file the entry does not hold: %d, want 404", st)
	}
	// A reader does not see the confidential entry: no stamp of it either.
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "qari", "password": "a long and private phrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, base, "qari", "a long and private phrase")
	for _, p := range []string{"/stamp.pdf", "/attachments/" + got.Attachments[0].SHA256 + "/stamped.pdf"} {
		if st := reader.call("GET", "/api/v1/records/"+rec.ID+p, nil, nil, &e); st != 404 {
			t.Errorf("a reader stamping a confidential entry (%s): %d, want 404", p, st)
		}
	}
	// Annulled: the registration it would prove is void.
	if st := admin.call("POST", "/api/v1/records/"+rec.ID+"/annul", map[string]string{"reason": "سُجّلت مرتين"}, nil, nil); st != 200 {
		t.Fatalf("annul: %d", st)
	}
	if st := admin.call("GET", "/api/v1/records/"+rec.ID+"/stamp.pdf", nil, nil, &e); st != 409 {
		t.Errorf("stamp of an annulled entry: %d %+v, want 409", st, e)
	}
}
