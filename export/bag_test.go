package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/export"
)

func str(s string) *string { return &s }

// Words that only confidential versions contain.
const secretSubject, secretBody = "زمردة", "ياقوتة"

// register is a decisions register as a secretariat keeps one: a decision
// with a scan and its text, a confidential one with its own scan, one
// corrected after registration, one annulled, and one that was confidential
// when registered and made public later; an incoming letter beside them in
// another register, and the register's book printed once.
type register struct {
	s       *archive.Store
	year    int
	records []*archive.Record // the decisions, in number order, as they are now
	secret  archive.Attachment
	incom   *archive.Record
}

func newRegister(t *testing.T) *register {
	t.Helper()
	ctx := context.Background()
	b, err := folder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := archive.NewStore(b, archive.Options{TempDir: t.TempDir()})
	r := &register{s: s}
	put := func(content, name, text string) archive.Attachment {
		a, err := s.PutBlob(ctx, strings.NewReader(content), name, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if text != "" {
			if err := s.PutText(ctx, a.SHA256, text); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	create := func(f archive.Fields, files ...archive.Attachment) *archive.Record {
		rec, _, err := s.Create(ctx, "clerk", archive.Decisions, f, files, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	update := func(rec *archive.Record, f archive.Fields) {
		_, etag, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Update(ctx, "clerk", rec.ID, etag, f); err != nil {
			t.Fatal(err)
		}
	}
	d1 := create(archive.Fields{Subject: str("تعيين أمين الصندوق"), Committee: str("المكتب السياسي")},
		put("%PDF-1.4 the scan of decision one", "قرار التعيين.pdf", "قرر المكتب السياسي تعيين أمين الصندوق"))
	r.secret = put("%PDF-1.4 the scan of a confidential decision", "سري.pdf", "نص سري عن "+secretSubject)
	create(archive.Fields{Subject: str("قرار بشأن " + secretSubject), Body: str(secretBody + " في المتن"),
		Confidentiality: str(archive.Confidential)}, r.secret)
	d3 := create(archive.Fields{Subject: str("موعد المؤتمر العام")})
	update(d3, archive.Fields{Subject: str("موعد المؤتمر العام الخامس")})
	d4 := create(archive.Fields{Subject: str("قرار سُجّل مرتين")})
	_, etag, _ := s.Get(ctx, d4.ID)
	if _, _, err := s.Annul(ctx, "clerk", d4.ID, etag, "مكرر"); err != nil {
		t.Fatal(err)
	}
	d5 := create(archive.Fields{Subject: str("مذكرة " + secretBody), Confidentiality: str(archive.Confidential)})
	update(d5, archive.Fields{Subject: str("مذكرة المالية"), Confidentiality: str(archive.Normal)})
	r.incom, _, err = s.Create(ctx, "clerk", archive.Incoming, archive.Fields{Subject: str("رسالة واردة لا تخص السجل")}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	r.year = d1.Year
	if err := s.Audit(ctx, archive.Event{Actor: "amina", Action: archive.ActionExport,
		Target: "decisions/" + itoa(r.year), Detail: "book.pdf"}); err != nil {
		t.Fatal(err)
	}
	for rec, err := range s.Records(ctx, archive.Decisions, r.year) {
		if err != nil {
			t.Fatal(err)
		}
		r.records = append(r.records, rec)
	}
	return r
}

func itoa(n int) string { return strconv.Itoa(n) }

func (r *register) options(confidential bool) export.Options {
	return export.Options{Organisation: "حزب الأمل — أمانة السر", Register: archive.Decisions, Year: r.year,
		Confidential: confidential, ExportedBy: "auditor", Now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
		TempDir: os.TempDir()}
}

func (r *register) export(t *testing.T, out string, confidential bool) *export.Summary {
	t.Helper()
	sum, err := export.WriteTo(context.Background(), r.s, out, r.options(confidential))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func readFile(t *testing.T, fsys fs.FS, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBagHoldsTheWholeRegisterYear: an auditor's bag of a register year is
// valid, says it is complete, and holds every version, file, text and audit
// event of the year's entries, the book and the index — and nothing of other
// registers.
func TestBagHoldsTheWholeRegisterYear(t *testing.T) {
	ctx := context.Background()
	r := newRegister(t)
	dir := filepath.Join(t.TempDir(), "bag")
	sum := r.export(t, dir, true)
	bag := os.DirFS(dir)
	if err := export.Validate(bag); err != nil {
		t.Fatal(err)
	}
	info, err := export.Info(bag)
	if err != nil {
		t.Fatal(err)
	}
	last := r.records[len(r.records)-1]
	for label, want := range map[string]string{
		"Source-Organization": "حزب الأمل — أمانة السر", "Sijill-Register": "decisions", "Sijill-Year": itoa(r.year),
		"Sijill-Complete": "yes", "Sijill-Records": "5", "Sijill-Withheld-Confidential": "0", "Sijill-Annulled": "1",
		"Sijill-Confidential": "1", "Sijill-Numbers": "1-5", "Sijill-Versions": "8", "Sijill-Files": "2",
		"Sijill-Texts": "2", "Sijill-Chain-Head": last.Chain.Hash, "Sijill-Register-Book": "yes",
		"Bagging-Date": "2026-11-30", "External-Identifier": "decisions-" + itoa(r.year),
	} {
		if info[label] != want {
			t.Errorf("bag-info.txt %s = %q, want %q", label, info[label], want)
		}
	}
	digest := archive.NewBookDigest()
	for _, rec := range r.records {
		digest.Add(rec)
	}
	if info["Sijill-Book-Digest"] != digest.Sum() {
		t.Errorf("the book digest in bag-info.txt is not the register's")
	}
	if !sum.Complete || sum.Records != 5 {
		t.Errorf("summary %+v", sum)
	}

	// Every version of every entry, as stored.
	for _, rec := range r.records {
		older, err := r.s.History(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append(older, rec) {
			var got archive.Record
			name := "data/records/" + pad(rec.Number) + "/version-" + itoa(v.Version) + ".json"
			if err := json.Unmarshal(readFile(t, bag, name), &got); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, _ := json.Marshal(v)
			gotJ, _ := json.Marshal(&got)
			if !bytes.Equal(want, gotJ) {
				t.Errorf("%s is not the stored version:\n%s\n%s", name, gotJ, want)
			}
		}
	}
	// The files, byte for byte, and their texts.
	for _, rec := range r.records {
		for _, a := range rec.Attachments {
			rc, _, err := r.s.OpenBlob(ctx, a.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			want.ReadFrom(rc)
			rc.Close()
			if got := readFile(t, bag, "data/files/"+a.SHA256+".pdf"); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("the file %s of %s differs from the stored one", a.Name, rec.ID)
			}
			text, _, _ := r.s.Text(ctx, a.SHA256)
			if got := string(readFile(t, bag, "data/texts/"+a.SHA256+".txt")); got != text {
				t.Errorf("the text of %s = %q, want %q", a.Name, got, text)
			}
		}
	}
	// The audit events of the entries and of the register, none of others.
	var events []archive.Event
	json.Unmarshal(readFile(t, bag, "data/records/000003/audit-events.json"), &events)
	if actions := eventActions(events); !slices.Equal(actions, []string{archive.ActionCreate, archive.ActionUpdate}) {
		t.Errorf("the audit events of the corrected decision: %v", actions)
	}
	json.Unmarshal(readFile(t, bag, "data/register-events.json"), &events)
	if len(events) != 1 || events[0].Detail != "book.pdf" {
		t.Errorf("the register's own events: %+v", events)
	}
	if b, err := fs.ReadFile(bag, "data/register-book.pdf"); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("no register book in the bag: %v", err)
	}
	everything := allBytes(t, bag)
	if bytes.Contains(everything, []byte(r.incom.Subject)) {
		t.Error("an entry of another register is in the bag")
	}

	// The index lists every entry, annulled and confidential ones marked.
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(readFile(t, bag, "data/index.csv"), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || rows[4][6] != archive.StatusAnnulled || rows[2][8] != archive.Confidential {
		t.Errorf("index.csv:\n%v", rows)
	}
	html := string(readFile(t, bag, "data/index.html"))
	for _, want := range []string{`dir="rtl"`, "سجل القرارات لسنة " + itoa(r.year), "موعد المؤتمر العام الخامس",
		"ملغى", "مكرر", "الحزمة كاملة", `href="register-book.pdf"`, `href="files/` + r.secret.SHA256 + `.pdf"`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func pad(n int) string { return fmt.Sprintf("%06d", n) }

func eventActions(evs []archive.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func allBytes(t *testing.T, fsys fs.FS) []byte {
	t.Helper()
	var all bytes.Buffer
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			all.Write(readFile(t, fsys, p))
			all.WriteString("\n" + p + "\n")
		}
		return nil
	})
	return all.Bytes()
}

// TestBagForWhoMayNotSeeConfidential: without the confidential permission, no
// byte of a confidential version is in the bag — not its subject, body, scan,
// text, audit events, nor the book that prints every entry — and the bag says
// it is incomplete.
func TestBagForWhoMayNotSeeConfidential(t *testing.T) {
	r := newRegister(t)
	dir := filepath.Join(t.TempDir(), "bag")
	sum := r.export(t, dir, false)
	bag := os.DirFS(dir)
	if err := export.Validate(bag); err != nil {
		t.Fatal(err)
	}
	everything := allBytes(t, bag)
	for _, secret := range []string{secretSubject, secretBody, r.secret.SHA256, "the scan of a confidential decision"} {
		if bytes.Contains(everything, []byte(secret)) {
			t.Errorf("%q is in a bag for someone who may not see confidential records", secret)
		}
	}
	info, _ := export.Info(bag)
	if info["Sijill-Complete"] != "no" || info["Sijill-Withheld-Confidential"] != "1" || info["Sijill-Records"] != "4" ||
		info["Sijill-Register-Book"] != "no" || info["Sijill-Book-Digest"] != "" {
		t.Errorf("bag-info.txt of an incomplete bag: %v", info)
	}
	if _, err := fs.Stat(bag, "data/records/000002"); err == nil {
		t.Error("the confidential decision is in the bag")
	}
	// The decision made public later is there, without its confidential first version.
	if _, err := fs.Stat(bag, "data/records/000005/version-1.json"); err == nil {
		t.Error("a version that was confidential is in the bag")
	}
	if _, err := fs.Stat(bag, "data/records/000005/version-2.json"); err != nil {
		t.Error("the public version of a decision made public is missing")
	}
	if sum.Withheld != 1 || sum.Complete {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(string(readFile(t, bag, "data/index.html")), "الحزمة غير كاملة") {
		t.Error("the index does not say the bag is incomplete")
	}
}

// TestZippedBagHasOneBaseDirectory: the zip holds the bag in one directory
// named like it (RFC 8493 §4.2), validates, and carries the same payload as the
// unzipped bag; a failed export leaves nothing under the name asked for.
func TestZippedBagHasOneBaseDirectory(t *testing.T) {
	r := newRegister(t)
	tmp := t.TempDir()
	zipName, dirName := filepath.Join(tmp, "decisions.zip"), filepath.Join(tmp, "bag")
	r.export(t, zipName, true)
	r.export(t, dirName, true)
	bag, closer, err := export.Open(zipName)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if err := export.Validate(bag); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, bag, "manifest-sha256.txt"), readFile(t, os.DirFS(dirName), "manifest-sha256.txt"); !bytes.Equal(got, want) {
		t.Errorf("the zipped bag's payload differs from the directory's:\n%s", lineDiff(string(got), string(want)))
	}
	if _, err := export.WriteTo(context.Background(), r.s, zipName, r.options(true)); err == nil {
		t.Error("an export overwrote an existing bag")
	}
	opt := r.options(true)
	opt.Year = 1999
	if _, err := export.WriteTo(context.Background(), r.s, filepath.Join(tmp, "empty.zip"), opt); err != nil {
		t.Fatal(err) // an empty year is a valid, empty bag
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := export.WriteTo(ctx, r.s, filepath.Join(tmp, "stopped.zip"), r.options(true)); err == nil {
		t.Error("a cancelled export succeeded")
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "stopped*"))
	if len(left) > 0 {
		t.Errorf("a stopped export left %v", left)
	}
}

// TestValidationNamesWhatChanged: every kind of damage makes a bag invalid
// and the error names the file.
func TestValidationNamesWhatChanged(t *testing.T) {
	r := newRegister(t)
	scan := "data/files/" + r.records[0].Attachments[0].SHA256 + ".pdf"
	for _, tc := range []struct {
		name   string
		damage func(dir string) error
		want   []string
	}{
		{"one byte of a scan", func(dir string) error { return flipByte(filepath.Join(dir, scan)) },
			[]string{scan, "was changed"}},
		{"one byte of a record version", func(dir string) error {
			return flipByte(filepath.Join(dir, "data/records/000003/version-2.json"))
		}, []string{"data/records/000003/version-2.json"}},
		{"a file removed", func(dir string) error { return os.Remove(filepath.Join(dir, "data/index.html")) },
			[]string{"data/index.html", "missing"}},
		{"a file added", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "data/files/extra.pdf"), []byte("%PDF"), 0o644)
		}, []string{"data/files/extra.pdf", "not listed", "Payload-Oxum"}},
		{"bag-info.txt edited", func(dir string) error {
			return edit(filepath.Join(dir, "bag-info.txt"), "Sijill-Complete: yes", "Sijill-Complete: no")
		}, []string{"bag-info.txt", "tagmanifest-sha256.txt"}},
		{"a manifest line edited", func(dir string) error {
			return edit(filepath.Join(dir, "manifest-sha256.txt"), "data/index.csv", "data/index.cs")
		}, []string{"manifest-sha256.txt", "data/index.cs"}},
		{"no declaration", func(dir string) error { return os.Remove(filepath.Join(dir, "bagit.txt")) },
			[]string{"bagit.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bag")
			r.export(t, dir, true)
			if err := tc.damage(dir); err != nil {
				t.Fatal(err)
			}
			err := export.Validate(os.DirFS(dir))
			var inv *export.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("a damaged bag validates: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func flipByte(name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	b[len(b)/2] ^= 0x01
	return os.WriteFile(name, b, 0o644)
}

func edit(name, old, new string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(old)) {
		return errors.New(old + " not in " + name)
	}
	return os.WriteFile(name, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}

// TestAnotherBagItImplementationAgrees: bagit-fs (npm, written without our
// code) re-hashes every payload file of our bag against our manifest and
// accepts it; after one byte of a scan is changed it rejects that file.
func TestAnotherBagItImplementationAgrees(t *testing.T) {
	npmDir := os.Getenv("SIJILL_NPM_DIR")
	if npmDir == "" {
		npmDir, _ = filepath.Abs("../bin/npm")
	}
	lib := filepath.Join(npmDir, "node_modules", "bagit-fs")
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("bagit-fs is not installed (%v): run make deps", err)
	}
	r := newRegister(t)
	dir := filepath.Join(t.TempDir(), "bag")
	r.export(t, dir, true)
	check := func() (string, error) {
		out, err := exec.Command("node", "testdata/bagit-fs-check.js", lib, dir).CombinedOutput()
		return string(out), err
	}
	out, err := check()
	if err != nil {
		t.Fatalf("bagit-fs rejects the bag: %v\n%s", err, out)
	}
	manifest := readFile(t, os.DirFS(dir), "manifest-sha256.txt")
	if n := strings.Count(out, "OK data/"); n != bytes.Count(manifest, []byte("\n")) || n < 10 {
		t.Fatalf("bagit-fs checked %d files:\n%s", n, out)
	}
	scan := "data/files/" + r.records[0].Attachments[0].SHA256 + ".pdf"
	if err := flipByte(filepath.Join(dir, scan)); err != nil {
		t.Fatal(err)
	}
	out, err = check()
	if err == nil || !strings.Contains(out, "FAIL "+scan) {
		t.Fatalf("bagit-fs accepts a changed scan: %v\n%s", err, out)
	}
}

// lineDiff lists the lines of a that b lacks and those of b that a lacks.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestBagCarriesCorrectedTexts: a text a person corrected goes into the bag
// beside the machine's, under the name the record version gives it.
func TestBagCarriesCorrectedTexts(t *testing.T) {
	ctx := context.Background()
	r := newRegister(t)
	d1 := r.records[0]
	const fixed = "قرر المكتب السياسي تعيين أمين الصندوق الجديد"
	rec, err := r.s.CorrectText(ctx, "clerk", d1.ID, d1.Attachments[0].SHA256, fixed)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bag")
	r.export(t, dir, true)
	bag := os.DirFS(dir)
	if err := export.Validate(bag); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, bag, "data/texts/corrected/"+rec.Attachments[0].Corrected.SHA256+".txt")); got != fixed {
		t.Errorf("the corrected text in the bag: %q, want %q", got, fixed)
	}
	machine, _, _ := r.s.Text(ctx, d1.Attachments[0].SHA256)
	if got := string(readFile(t, bag, "data/texts/"+d1.Attachments[0].SHA256+".txt")); got != machine {
		t.Errorf("the machine's text in the bag: %q, want %q", got, machine)
	}
}
