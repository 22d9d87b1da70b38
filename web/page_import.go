package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/importer"
)

type importPageData struct {
	Map    string
	Fields []string
	Report *importer.Report
	Error  string
	// Interrupted: the run stopped before the end (it may simply be run again).
	Interrupted bool
}

// importPage shows the administrator's import form: a CSV register, the
// scanned files it names, and the column mapping.
func (u *ui) importPage(c *fiber.Ctx) error {
	return u.render(c, http.StatusOK, "import", "import", importPageData{Fields: importer.KnownFields()})
}

// importRun imports the uploaded CSV with the uploaded files (stored as they
// stream in) and shows what was imported and what was refused and why. The
// same form may be sent again: rows already imported are skipped.
func (u *ui) importRun(c *fiber.Ctx) error {
	vals, files, err := u.readForm(c)
	if err != nil {
		return err
	}
	if err := checkFormCSRF(c, vals.Get(csrfField)); err != nil {
		return err
	}
	d := importPageData{Map: vals.Get("map"), Fields: importer.KnownFields()}
	m, err := importer.ParseMap(strings.ReplaceAll(d.Map, "\n", ","))
	if err != nil {
		d.Error = err.Error()
		return u.render(c, http.StatusUnprocessableEntity, "import", "import", d)
	}
	stored := map[string]archive.Attachment{}
	for _, f := range files {
		stored[f.Name] = f
	}
	opt := importer.Options{Store: u.s.store, Actor: user(c).Username, Map: m, Stored: stored,
		OnRecord: func(ctx context.Context, rec *archive.Record) error {
			u.s.enqueueText(ctx, rec.ID, rec.Attachments)
			u.s.indexRecord(ctx, rec)
			return nil
		}}
	rep, err := importer.Run(c.UserContext(), opt, strings.NewReader(vals.Get("csv")))
	if rep == nil {
		d.Error = err.Error()
		return u.render(c, http.StatusUnprocessableEntity, "import", "import", d)
	}
	if err != nil {
		d.Interrupted = true
		u.s.log.Warn("import interrupted", "err", err)
	}
	d.Report = rep
	return u.render(c, http.StatusOK, "import", "import", d)
}
