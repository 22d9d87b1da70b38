package export

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
)

//go:embed index.gohtml
var indexHTML string

// indexTemplate is parsed once per bag: a bag is rare and the template small,
// and a package-level template would be shared mutable state.
func indexTemplate() (*template.Template, error) {
	return template.New("index").Parse(indexHTML)
}

// row is one register entry as the index shows it.
type row struct {
	Number       int
	ID           string
	Date         string
	Registered   string
	Party        string
	Subject      string
	Annulled     bool
	AnnulReason  string
	Confidential bool
	Files        []fileLink
	Versions     []link
	Events       string
}

type fileLink struct {
	Name, Path, Text string
	Size             int64
}

type link struct {
	Label, Path string
}

// party is who the entry is from or to, as the book's party column shows it.
func party(r *archive.Record) string {
	first := func(s ...string) string {
		for _, v := range s {
			if v != "" {
				return v
			}
		}
		return ""
	}
	switch r.Register {
	case archive.Incoming:
		return first(r.From, r.To, r.Committee)
	case archive.Outgoing:
		return first(r.To, r.From, r.Committee)
	}
	return first(r.Committee, r.From, r.To)
}

// rel is a payload path as the index in data/ links to it.
func rel(p string) string { return strings.TrimPrefix(p, "data/") }

func (b *bagger) rows(entries []*entry, files map[string]string, texts map[string]bool) []row {
	rows := make([]row, 0, len(entries))
	for _, e := range entries {
		r := e.rec
		date := r.Date
		if date == "" {
			date = r.CreatedAt.In(b.opt.Location).Format(time.DateOnly)
		}
		rw := row{Number: r.Number, ID: r.ID, Date: date,
			Registered: r.CreatedAt.In(b.opt.Location).Format("2006-01-02 15:04"),
			Party:      party(r), Subject: r.Subject, Annulled: r.Status == archive.StatusAnnulled,
			AnnulReason: r.AnnulReason, Confidential: r.Confidentiality == archive.Confidential}
		seen := map[string]bool{}
		for _, v := range e.versions {
			rw.Versions = append(rw.Versions, link{fmt.Sprint(v.Version), rel(recordPath(r, v.Version))})
			for _, a := range v.Attachments {
				if seen[a.SHA256] {
					continue
				}
				seen[a.SHA256] = true
				f := fileLink{Name: a.Name, Path: rel(files[a.SHA256]), Size: a.Size}
				if texts[a.SHA256] {
					f.Text = rel(textPath(a.SHA256))
				}
				rw.Files = append(rw.Files, f)
			}
		}
		if len(e.events) > 0 {
			rw.Events = rel(eventsPath(r))
		}
		rows = append(rows, rw)
	}
	return rows
}

// index writes index.csv (UTF-8 with a byte-order mark, so that spreadsheet
// programs read the Arabic) and index.html, a page that opens offline in any
// browser.
func (b *bagger) index(entries []*entry, files map[string]string, texts map[string]bool) error {
	rows := b.rows(entries, files, texts)
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"number", "id", "date", "registered_at", "party", "subject", "status", "annul_reason",
		"confidentiality", "versions", "files", "record"})
	for i, rw := range rows {
		r := entries[i].rec
		var paths []string
		for _, f := range rw.Files {
			paths = append(paths, f.Path)
		}
		cw.Write([]string{fmt.Sprint(r.Number), r.ID, rw.Date, r.CreatedAt.In(b.opt.Location).Format(time.RFC3339),
			rw.Party, r.Subject, r.Status, r.AnnulReason, r.Confidentiality, fmt.Sprint(len(rw.Versions)),
			strings.Join(paths, " "), rw.Versions[len(rw.Versions)-1].Path})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := b.put("data/index.csv", buf.Bytes()); err != nil {
		return err
	}
	t, err := indexTemplate()
	if err != nil {
		return err
	}
	buf.Reset()
	if err := t.Execute(&buf, map[string]any{
		"Organisation": b.opt.Organisation,
		"Title":        fmt.Sprintf("%s لسنة %d", b.opt.Register.Title(), b.opt.Year),
		"Summary":      b.sum,
		"Rows":         rows,
		"ExportedBy":   b.opt.ExportedBy,
		"ExportedAt":   b.opt.Now.Format("2006-01-02 15:04 MST"),
	}); err != nil {
		return err
	}
	return b.put("data/index.html", buf.Bytes())
}
