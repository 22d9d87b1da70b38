// Package export takes a register year out of Sijill as a BagIt bag (RFC 8493),
// the package archives and libraries exchange: every record version as JSON,
// every attachment and its extracted text, the audit events of those records,
// the register book PDF, and an index a person can read offline (CSV and an
// Arabic, right-to-left HTML page), all listed with their SHA-256 in the bag's
// manifests so that any BagIt validator can prove nothing was changed.
//
// It sits above archive and render (web -> export -> {archive, render}):
// a bag holds a printed book, which archive must not know how to draw.
package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"iter"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// Source is what a bag is made from; *archive.Store is one.
type Source interface {
	Records(ctx context.Context, reg archive.Register, year int) iter.Seq2[*archive.Record, error]
	History(ctx context.Context, id string) ([]*archive.Record, error)
	OpenBlob(ctx context.Context, sum string) (io.ReadCloser, archive.ObjectInfo, error)
	Text(ctx context.Context, sum string) (text string, ok bool, err error)
	CorrectedText(ctx context.Context, tsum string) (string, error)
	EachEvent(ctx context.Context, fn func(archive.Event) error) error
}

// Options says which register year goes into the bag, and for whom.
type Options struct {
	// Organisation is named in bag-info.txt, the index and the book.
	Organisation string
	Register     archive.Register
	Year         int
	// Confidential is whether the exporter may see confidential records. When
	// false they are left out, with every version that was confidential, their
	// files, texts and audit events, and the register book (which prints every
	// entry); the bag then says it is not complete.
	Confidential bool
	// ExportedBy names the account in bag-info.txt.
	ExportedBy string
	// Now is the time of the export; zero means time.Now().
	Now time.Time
	// Location is the organisation's time zone for dates; nil means UTC.
	Location *time.Location
	// TempDir holds the book's pages while it is drawn; empty means os.TempDir().
	TempDir string
	// Signer, if set, signs the bag's register book.
	Signer *render.Signer
}

// Summary counts what a bag holds.
type Summary struct {
	Records      int // register entries in the bag
	Annulled     int
	Confidential int // confidential entries in the bag
	Withheld     int // entries left out because the exporter may not see them
	Versions     int // record versions written as JSON
	// WithheldVersions counts confidential versions of entries that are in
	// the bag because they are not confidential now.
	WithheldVersions int
	Files            int // distinct attachments
	Texts            int // extracted texts
	TextsPending     int // attachments whose text is not extracted yet
	Events           int // audit events
	First, Last      int // the first and last number of the register year; 0 when empty
	ChainHead        string
	BookDigest       string // archive.BookDigest over every entry; empty when incomplete
	Book             bool   // the register book PDF is in the bag
	Complete         bool
	PayloadBytes     int64
	PayloadFiles     int
}

// Sink receives the files of a bag by their slash-separated path inside it.
type Sink interface {
	Create(name string) (io.WriteCloser, error)
}

// Name is the bag's base directory name for a register year, such as
// "incoming-2026": ASCII without spaces, so that every tool reads it.
func Name(reg archive.Register, year int) string { return fmt.Sprintf("%s-%d", reg, year) }

// bagger writes one bag.
type bagger struct {
	src      Source
	dst      Sink
	opt      Options
	sum      Summary
	manifest map[string]string // payload path -> sha256
	tags     map[string]string // tag file -> sha256
}

// entry is one record of the bag with the versions that go into it.
type entry struct {
	rec      *archive.Record
	versions []*archive.Record
	events   []archive.Event
}

// Bag writes the bag of opt.Register and opt.Year to dst. The records are read
// once, at the start, and the book, the index and the counts are all made from
// that one reading, so a record registered meanwhile is either wholly in the bag
// or not at all. An attachment whose bytes do not match its SHA-256 stops the
// export: a bag must not certify a damaged file.
func Bag(ctx context.Context, src Source, dst Sink, opt Options) (*Summary, error) {
	if !opt.Register.Valid() {
		return nil, archive.Errorf(archive.EINVALID, "unknown register %q", opt.Register)
	}
	if opt.Year < 1 || opt.Year > 9999 {
		return nil, archive.Errorf(archive.EINVALID, "year %d out of range", opt.Year)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	opt.Now = opt.Now.In(opt.Location)
	b := &bagger{src: src, dst: dst, opt: opt, manifest: map[string]string{}, tags: map[string]string{}}
	if err := b.write(ctx); err != nil {
		return nil, fmt.Errorf("export %s: %w", Name(opt.Register, opt.Year), err)
	}
	return &b.sum, nil
}

func (b *bagger) write(ctx context.Context) error {
	var all []*archive.Record
	for rec, err := range b.src.Records(ctx, b.opt.Register, b.opt.Year) {
		if err != nil {
			return err
		}
		all = append(all, rec)
	}
	digest := archive.NewBookDigest()
	var entries []*entry
	byID := map[string]*entry{}
	for _, rec := range all {
		digest.Add(rec)
		if b.sum.First == 0 {
			b.sum.First = rec.Number
		}
		b.sum.Last, b.sum.ChainHead = rec.Number, rec.Chain.Hash
		if !b.visible(rec) {
			b.sum.Withheld++
			continue
		}
		older, err := b.src.History(ctx, rec.ID)
		if err != nil {
			return err
		}
		e := &entry{rec: rec}
		versions := append(older, rec)
		// Registered repeats the entry as first registered: when that
		// first version is withheld, so is its copy in the later ones.
		hideFirst := !b.visible(versions[0])
		for _, v := range versions {
			if !b.visible(v) {
				b.sum.WithheldVersions++
				continue
			}
			if hideFirst && v.Registered != nil {
				c := *v
				c.Registered = nil
				v = &c
			}
			e.versions = append(e.versions, v)
		}
		entries = append(entries, e)
		byID[rec.ID] = e
	}
	b.sum.Complete = b.sum.Withheld == 0 && b.sum.WithheldVersions == 0
	if b.sum.Complete {
		b.sum.BookDigest = digest.Sum()
	}
	registerTarget := fmt.Sprintf("%s/%d", b.opt.Register, b.opt.Year)
	var registerEvents []archive.Event
	if err := b.src.EachEvent(ctx, func(ev archive.Event) error {
		if e := byID[ev.Target]; e != nil {
			e.events = append(e.events, ev)
			b.sum.Events++
		} else if ev.Target == registerTarget {
			registerEvents = append(registerEvents, ev)
			b.sum.Events++
		}
		return nil
	}); err != nil {
		return err
	}

	files := map[string]string{}   // sha256 -> payload path
	corrected := map[string]bool{} // texts people corrected, by their SHA-256
	for _, e := range entries {
		b.sum.Records++
		if e.rec.Status == archive.StatusAnnulled {
			b.sum.Annulled++
		}
		if e.rec.Confidentiality == archive.Confidential {
			b.sum.Confidential++
		}
		for _, v := range e.versions {
			if err := b.json(recordPath(e.rec, v.Version), v); err != nil {
				return err
			}
			b.sum.Versions++
			for _, a := range v.Attachments {
				if _, ok := files[a.SHA256]; !ok {
					files[a.SHA256] = filePath(a)
				}
				if a.Corrected != nil {
					corrected[a.Corrected.SHA256] = true
				}
			}
		}
		if len(e.events) > 0 {
			if err := b.json(eventsPath(e.rec), e.events); err != nil {
				return err
			}
		}
	}
	if len(registerEvents) > 0 {
		if err := b.json("data/register-events.json", registerEvents); err != nil {
			return err
		}
	}
	texts, err := b.files(ctx, files)
	if err != nil {
		return err
	}
	// The corrections people made of the files' texts, which the record
	// versions name (text_correction), beside the machine's texts.
	for _, tsum := range sortedKeys(corrected) {
		text, err := b.src.CorrectedText(ctx, tsum)
		if err != nil {
			return err
		}
		if err := b.put(correctedPath(tsum), []byte(text)); err != nil {
			return err
		}
	}
	if b.sum.Complete {
		if err := b.book(ctx, all); err != nil {
			return err
		}
	}
	if err := b.index(entries, files, texts); err != nil {
		return err
	}
	return b.tagFiles()
}

// visible reports whether a record version may go into this bag.
func (b *bagger) visible(r *archive.Record) bool {
	return b.opt.Confidential || r.Confidentiality != archive.Confidential
}

func recordDir(r *archive.Record) string { return fmt.Sprintf("data/records/%06d", r.Number) }

func recordPath(r *archive.Record, version int) string {
	return fmt.Sprintf("%s/version-%d.json", recordDir(r), version)
}

func eventsPath(r *archive.Record) string { return recordDir(r) + "/audit-events.json" }

func textPath(sum string) string { return "data/texts/" + sum + ".txt" }

// correctedPath is where a corrected text goes: named by its own SHA-256,
// as the record versions name it.
func correctedPath(tsum string) string { return "data/texts/corrected/" + tsum + ".txt" }

// filePath names an attachment by its SHA-256 with the extension of its
// original name, kept only when it is a short ASCII word, so the path is the
// same on every system; the original name is in the record JSON and the index.
func filePath(a archive.Attachment) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(a.Name), "."))
	ok := ext != "" && len(ext) <= 8
	for _, c := range ext {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			ok = false
		}
	}
	if !ok {
		ext = "bin"
	}
	return "data/files/" + a.SHA256 + "." + ext
}

// create opens a payload or tag file; what is written is hashed and counted.
func (b *bagger) create(name string) (*hashed, error) {
	w, err := b.dst.Create(name)
	if err != nil {
		return nil, err
	}
	return &hashed{w: w, h: sha256.New(), name: name, b: b}, nil
}

// hashed hashes a file of the bag as it is written and lists it on Close.
type hashed struct {
	w    io.WriteCloser
	h    hash.Hash
	n    int64
	name string
	b    *bagger
}

func (h *hashed) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashed) Close() error {
	if err := h.w.Close(); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.h.Sum(nil))
	if strings.HasPrefix(h.name, "data/") {
		h.b.manifest[h.name] = sum
		h.b.sum.PayloadBytes += h.n
		h.b.sum.PayloadFiles++
	} else {
		h.b.tags[h.name] = sum
	}
	return nil
}

// put writes a whole file of the bag.
func (b *bagger) put(name string, content []byte) error {
	w, err := b.create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(content); err != nil {
		w.w.Close()
		return err
	}
	return w.Close()
}

func (b *bagger) json(name string, v any) error {
	j, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return b.put(name, append(j, '\n'))
}

// files copies every attachment and its text into the bag, checking each
// file's bytes against its SHA-256 on the way. It returns the attachments that
// have a text.
func (b *bagger) files(ctx context.Context, files map[string]string) (map[string]bool, error) {
	texts := map[string]bool{}
	for _, sum := range sortedKeys(files) {
		if err := b.file(ctx, sum, files[sum]); err != nil {
			return nil, err
		}
		b.sum.Files++
		text, ok, err := b.src.Text(ctx, sum)
		if err != nil {
			return nil, err
		}
		if !ok {
			b.sum.TextsPending++
			continue
		}
		if err := b.put(textPath(sum), []byte(text)); err != nil {
			return nil, err
		}
		texts[sum] = true
		b.sum.Texts++
	}
	return texts, nil
}

func (b *bagger) file(ctx context.Context, sum, name string) error {
	rc, _, err := b.src.OpenBlob(ctx, sum)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := b.create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		w.w.Close()
		return fmt.Errorf("copy file %s: %w", sum, err)
	}
	if got := hex.EncodeToString(w.h.Sum(nil)); got != sum {
		w.w.Close()
		return fmt.Errorf("file %s reads back with SHA-256 %s: the stored file is damaged, run sijill verify", sum, got)
	}
	return w.Close()
}

// book draws the register book from the records read at the start.
func (b *bagger) book(ctx context.Context, all []*archive.Record) error {
	w, err := b.create("data/register-book.pdf")
	if err != nil {
		return err
	}
	opt := render.BookOptions{Organisation: b.opt.Organisation, Register: b.opt.Register, Year: b.opt.Year,
		Now: b.opt.Now, Location: b.opt.Location, TempDir: b.opt.TempDir, Signer: b.opt.Signer}
	if err := render.Book(ctx, w, opt, each(all)); err != nil {
		w.w.Close()
		return err
	}
	b.sum.Book = true
	return w.Close()
}

// tagFiles writes the payload manifest, the declaration, bag-info.txt and,
// last, the tag manifest over them.
func (b *bagger) tagFiles() error {
	if err := b.put("manifest-sha256.txt", manifestText(b.manifest)); err != nil {
		return err
	}
	if err := b.put("bagit.txt", []byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")); err != nil {
		return err
	}
	if err := b.put("bag-info.txt", b.info()); err != nil {
		return err
	}
	w, err := b.dst.Create("tagmanifest-sha256.txt")
	if err != nil {
		return err
	}
	if _, err := w.Write(manifestText(b.tags)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// manifestText lists files as RFC 8493 manifests do: the checksum, one space,
// the path (with CR, LF and % percent-encoded), sorted by path.
func manifestText(m map[string]string) []byte {
	var sb strings.Builder
	for _, name := range sortedKeys(m) {
		fmt.Fprintf(&sb, "%s %s\n", m[name], encodePath(name))
	}
	return []byte(sb.String())
}

var pathEncoder = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

func encodePath(p string) string { return pathEncoder.Replace(p) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// info is bag-info.txt: the reserved elements of RFC 8493 §2.2.2 that apply,
// then Sijill's own, each on one line.
func (b *bagger) info() []byte {
	s := b.sum
	yes := map[bool]string{true: "yes", false: "no"}
	lines := [][2]string{
		{"Source-Organization", b.opt.Organisation},
		{"Bagging-Date", b.opt.Now.Format(time.DateOnly)},
		{"Bag-Software-Agent", "Sijill"},
		{"External-Identifier", Name(b.opt.Register, b.opt.Year)},
		{"External-Description", fmt.Sprintf("%s لسنة %d", b.opt.Register.Title(), b.opt.Year)},
		{"Payload-Oxum", fmt.Sprintf("%d.%d", s.PayloadBytes, s.PayloadFiles)},
		{"Bag-Size", byteSize(s.PayloadBytes)},
		{"Sijill-Register", string(b.opt.Register)},
		{"Sijill-Year", fmt.Sprint(b.opt.Year)},
		{"Sijill-Complete", yes[s.Complete]},
		{"Sijill-Records", fmt.Sprint(s.Records)},
		{"Sijill-Withheld-Confidential", fmt.Sprint(s.Withheld)},
		{"Sijill-Annulled", fmt.Sprint(s.Annulled)},
		{"Sijill-Confidential", fmt.Sprint(s.Confidential)},
		{"Sijill-Numbers", fmt.Sprintf("%d-%d", s.First, s.Last)},
		{"Sijill-Versions", fmt.Sprint(s.Versions)},
		{"Sijill-Withheld-Versions", fmt.Sprint(s.WithheldVersions)},
		{"Sijill-Files", fmt.Sprint(s.Files)},
		{"Sijill-Texts", fmt.Sprint(s.Texts)},
		{"Sijill-Texts-Pending", fmt.Sprint(s.TextsPending)},
		{"Sijill-Audit-Events", fmt.Sprint(s.Events)},
		{"Sijill-Chain-Head", s.ChainHead},
		{"Sijill-Book-Digest", s.BookDigest},
		{"Sijill-Register-Book", yes[s.Book]},
		{"Sijill-Exported-By", b.opt.ExportedBy},
		{"Sijill-Exported-At", b.opt.Now.Format(time.RFC3339)},
	}
	var sb strings.Builder
	for _, l := range lines {
		if l[1] == "" {
			continue
		}
		// A value is one line: a newline in it would start a new element.
		fmt.Fprintf(&sb, "%s: %s\n", l[0], strings.Join(strings.Fields(l[1]), " "))
	}
	return []byte(sb.String())
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// each yields records read earlier as the book wants them.
func each(recs []*archive.Record) iter.Seq2[*archive.Record, error] {
	return func(yield func(*archive.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}
