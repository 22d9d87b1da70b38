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
	Error  string
	// Job is the import this page follows: running (Progress.Running) or
	// ended with its report.
	Job      string
	Progress importProgress
	// Interrupted: the run stopped before the end (it may simply be run again).
	Interrupted bool
}

// importPage shows the administrator's import form: a CSV register, the
// scanned files it names, and the column mapping. With ?job= it follows an
// import started from the form: a progress bar while it runs (the page
// reloads itself every second through the Refresh header, no script needed),
// then what was imported and what was refused and why.
func (u *ui) importPage(c *fiber.Ctx) error {
	d := importPageData{Fields: importer.KnownFields()}
	id := c.Query("job")
	if id == "" {
		return u.render(c, http.StatusOK, "import", "import", d)
	}
	var p *importProgress
	var err error
	if validImportID(id) {
		if p, err = u.s.loadImport(c.UserContext(), id); err != nil {
			return err
		}
	}
	if p == nil {
		d.Error = u.msgKey(c, "import.nojob")
		return u.render(c, http.StatusNotFound, "import", "import", d)
	}
	d.Job, d.Progress = id, *p
	switch {
	case d.Progress.Running:
		c.Set("Refresh", "1")
	case d.Progress.Ended.IsZero():
		// Its server stopped in the middle (a crash): sending the same
		// import again finishes it.
		d.Error = u.msgKey(c, "import.interrupted")
	case d.Progress.Report == nil && d.Progress.Error != "":
		d.Error = d.Progress.Error
	case d.Progress.Error != "":
		d.Interrupted = true
	}
	return u.render(c, http.StatusOK, "import", "import", d)
}

// importRun stores the uploaded files (as they stream in), checks the CSV
// and its column mapping, and starts the import in the background, sending
// the browser to the page that follows it. The same form may be sent again:
// rows already imported are skipped.
func (u *ui) importRun(c *fiber.Ctx) error {
	vals, files, err := u.readPostedForm(c, true)
	if err != nil {
		return err
	}
	d := importPageData{Map: vals.Get("map"), Fields: importer.KnownFields()}
	m, err := importer.ParseMap(strings.ReplaceAll(d.Map, "\n", ","))
	if err == nil {
		err = importer.Check(strings.NewReader(vals.Get("csv")), m)
	}
	if err != nil {
		d.Error = err.Error()
		return u.render(c, http.StatusUnprocessableEntity, "import", "import", d)
	}
	stored := map[string]archive.Attachment{}
	for _, f := range files {
		stored[f.Name] = f
	}
	csv, actor := vals.Get("csv"), user(c).Username
	job, err := u.s.startImport(actor, func(ctx context.Context, progress func(done, total int)) (*importer.Report, error) {
		opt := importer.Options{Store: u.s.store, Actor: actor, Map: m, Stored: stored, OnProgress: progress,
			OnRecord: func(ctx context.Context, rec *archive.Record) error {
				// A record stored has its files queued even if shutdown
				// interrupts the run now. (It was indexed as it was stored.)
				u.s.enqueueText(context.WithoutCancel(ctx), rec.ID, rec.Attachments)
				return nil
			}}
		rep, err := importer.Run(ctx, opt, strings.NewReader(csv))
		if err != nil {
			u.s.log.Warn("import interrupted", "err", err)
		}
		return rep, err
	})
	if err != nil {
		return err
	}
	return c.Redirect("/import?job="+job, http.StatusSeeOther)
}
