package render

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

// TestArchivalStructure checks every kind of document Sijill prints for
// what PDF/A-2b needs and a reader of the file can see: XMP that claims
// PDF/A-2B and repeats the Info dictionary's title, an sRGB output intent
// with its ICC profile, every font embedded as a tagged subset with a
// ToUnicode map, no transparency, a file ID, the language, no empty
// EmbeddedFiles tree, dates with their time zone, no encryption or
// JavaScript. (No PDF/A validator is packaged where Sijill is built; this is
// the part of one that poppler and the file's own text can answer.)
func TestArchivalStructure(t *testing.T) {
	needTool(t, "pdfinfo", "poppler-utils")
	annulled := testRecord(3, "قرار ملغى للتجربة", "")
	annulled.Status, annulled.AnnulReason = archive.StatusAnnulled, "قيد مكرر"
	docs := map[string]string{
		"book": writePDF(t, "book.pdf", func(w io.Writer) error {
			return Book(context.Background(), w, BookOptions{Organisation: "حزب التجربة", Register: archive.Outgoing, Year: 2026, Now: printedAt}, sampleRecords(30))
		}),
		"annulled record": writePDF(t, "record.pdf", func(w io.Writer) error {
			return RecordPrint(context.Background(), w, PrintOptions{Organisation: "حزب التجربة", Now: printedAt}, annulled)
		}),
		"follow-up report": writePDF(t, "followup.pdf", func(w io.Writer) error {
			return FollowUpReport(context.Background(), w, ReportOptions{Organisation: "حزب التجربة", Now: printedAt}, followRows())
		}),
		// A signature is an incremental update: what PDF/A asks of the file stays.
		"signed book": writePDF(t, "signed.pdf", func(w io.Writer) error {
			return Book(context.Background(), w, BookOptions{Organisation: "حزب التجربة", Register: archive.Outgoing, Year: 2026, Now: printedAt,
				Signer: testSigner(t, "حزب التجربة")}, sampleRecords(30))
		}),
	}
	for name, path := range docs {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			body := string(raw)
			info := run(t, "pdfinfo", path)
			meta := run(t, "pdfinfo", "-meta", path)
			for _, want := range []string{"<pdfaid:part>2</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>", "<pdf:Producer>" + producer + "</pdf:Producer>"} {
				if !strings.Contains(meta, want) {
					t.Errorf("XMP lacks %s", want)
				}
			}
			title := regexp.MustCompile(`(?m)^Title:\s+(.*)$`).FindStringSubmatch(info)
			if title == nil || !strings.Contains(meta, "<rdf:li xml:lang=\"x-default\">"+title[1]+"</rdf:li>") {
				t.Errorf("XMP's title is not the Info title %q", title)
			}
			for _, want := range []string{"Encrypted:       no", "JavaScript:      no", "Metadata Stream: yes"} {
				if !strings.Contains(info, want) {
					t.Errorf("pdfinfo does not say %q:\n%s", want, info)
				}
			}
			for _, re := range []string{`/OutputIntents \[\s*<< /Type /OutputIntent /S /GTS_PDFA1`, `/DestOutputProfile \d+ 0 R`, `/ID \[<[0-9a-f]{32}> <[0-9a-f]{32}>\]`,
				`/Lang \(ar\)`, `/CreationDate \(D:\d{14}(Z|[+-]\d\d'\d\d')\)`} {
				if !regexp.MustCompile(re).MatchString(body) {
					t.Errorf("the file has no %s", re)
				}
			}
			for _, bad := range []string{"/SMask", "/S /Transparency", "/EmbeddedFiles", "/JavaScript"} {
				if strings.Contains(body, bad) {
					t.Errorf("the file has %s", bad)
				}
			}
			if regexp.MustCompile(`/(ca|CA) 0\.\d`).MatchString(body) {
				t.Error("the file has a constant alpha below 1")
			}
			fonts := strings.Split(strings.TrimSpace(run(t, "pdffonts", path)), "\n")[2:]
			if len(fonts) == 0 {
				t.Fatal("no fonts")
			}
			for _, f := range fonts {
				fs := strings.Fields(f)
				// name type... encoding emb sub uni object ID
				n := len(fs)
				if !regexp.MustCompile(`^[A-Z]{6}\+`).MatchString(fs[0]) || fs[n-5] != "yes" || fs[n-4] != "yes" || fs[n-3] != "yes" {
					t.Errorf("font not an embedded, tagged subset with a ToUnicode map: %s", f)
				}
			}
		})
	}
}
