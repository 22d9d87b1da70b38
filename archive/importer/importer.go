// Package importer brings an existing archive into Sijill from a spreadsheet
// register exported as CSV and a folder of scanned files. Historical numbers
// and years are kept as given; nothing that exists is overwritten; a run that
// was interrupted is simply run again.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
)

// Fields a CSV column can be mapped to.
var knownFields = []string{"register", "year", "number", "date", "subject", "from", "to", "body",
	"committee", "tags", "files", "reference", "reference_date", "received_date", "in_reply_to",
	"refs", "meeting", "attendees", "apologies", "agenda", "confidentiality"}

// KnownFields lists the record fields a column may be mapped to.
func KnownFields() []string { return append([]string(nil), knownFields...) }

// ParseMap reads a column mapping "header=field,header=field" (the form of
// sijill import --map). Headers are matched after trimming, ignoring case.
func ParseMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		col, field, ok := strings.Cut(pair, "=")
		col, field = strings.TrimSpace(col), strings.TrimSpace(strings.ToLower(field))
		if !ok || col == "" || !isKnown(field) {
			return nil, fmt.Errorf("importer: mapping %q: want header=field with field one of %s", pair, strings.Join(knownFields, ", "))
		}
		m[col] = field
	}
	return m, nil
}

func isKnown(f string) bool {
	for _, k := range knownFields {
		if k == f {
			return true
		}
	}
	return false
}

// Options configure an import run.
type Options struct {
	Store *archive.Store
	// Actor is the account the records are registered by.
	Actor string
	// FilesDir holds the files the "files" column names (relative names only).
	FilesDir string
	// Stored are files already stored with PutBlob (uploaded with the admin
	// page's form), by name; a name found here is not looked for in FilesDir.
	Stored map[string]archive.Attachment
	// Map maps CSV header names to record fields; a header equal to a field
	// name (ignoring case) maps to it without being listed.
	Map map[string]string
	// MaxFileSize bounds one attached file (default 1 GiB).
	MaxFileSize int64
	// OnProgress is told, before the first row and after each, how many of
	// the rows that parsed have been handled (imported, skipped or refused).
	OnProgress func(done, total int)
	// OnRecord is called with every record the run created (to index it).
	OnRecord func(context.Context, *archive.Record) error
}

// Refusal is a row that was not imported, and why: Reason in English for
// the command line and the CSV report, Code and Args for a page to say it in
// its own language.
type Refusal struct {
	Line   int      `json:"line"` // line of the CSV file, the header being line 1
	ID     string   `json:"id,omitempty"`
	Reason string   `json:"reason"`
	Code   string   `json:"code"`
	Args   []string `json:"args,omitempty"`
}

// The reasons a row is refused (Refusal.Code), with their English text; the
// Args fill the verbs in order.
const (
	RefusedUnreadable  = "unreadable"   // the CSV line cannot be read: the parser's message
	RefusedRegister    = "register"     // unknown register: the name given
	RefusedNumber      = "number"       // not a positive number: the number given
	RefusedYear        = "year"         // not a year: the year given
	RefusedNoYear      = "no_year"      // neither a year nor a date
	RefusedPath        = "path"         // a file name outside the files folder: the name
	RefusedNotUploaded = "not_uploaded" // a file the form did not carry: the name
	RefusedMissing     = "missing"      // a file not in the files folder: the name
	RefusedFile        = "file"         // a file that cannot be read or stored: the name, why
	RefusedTaken       = "taken"        // the number holds an entry with other content: its ID
	RefusedRecord      = "record"       // the archive refused the entry (a field): why
)

var refusalText = map[string]string{
	RefusedUnreadable:  "unreadable CSV line: %s",
	RefusedRegister:    "unknown register %q",
	RefusedNumber:      "number %q is not a positive number",
	RefusedYear:        "year %q is not a year",
	RefusedNoYear:      "no year and no date to take it from",
	RefusedPath:        "file name %q leaves the files folder",
	RefusedNotUploaded: "file %q was not uploaded",
	RefusedMissing:     "file %q is not in the files folder",
	RefusedFile:        "file %q: %s",
	RefusedTaken:       "%s already exists with other content; it was not overwritten",
	RefusedRecord:      "%s",
}

// RefusalReasons returns every refusal code with its English text, for a
// page's catalogue to be checked against.
func RefusalReasons() map[string]string { return maps.Clone(refusalText) }

func refusal(line int, id, code string, args ...string) Refusal {
	a := make([]any, len(args))
	for i, v := range args {
		a[i] = v
	}
	return Refusal{Line: line, ID: id, Code: code, Args: args, Reason: fmt.Sprintf(refusalText[code], a...)}
}

// why is a parsed row's refusal: its code and arguments.
type why struct {
	code string
	args []string
}

// Report says what a run did. Rows = Imported + Skipped + len(Refused) when
// the run was not interrupted.
type Report struct {
	Rows     int       `json:"rows"`
	Imported int       `json:"imported"`
	Skipped  int       `json:"skipped"` // already imported with identical content by an earlier run
	Refused  []Refusal `json:"refused"`
}

// WriteCSV writes the refused rows as CSV (line, id, reason) for the secretary
// to correct and import again.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "id", "reason"}); err != nil {
		return fmt.Errorf("importer: write report: %w", err)
	}
	for _, f := range r.Refused {
		if err := cw.Write([]string{strconv.Itoa(f.Line), f.ID, f.Reason}); err != nil {
			return fmt.Errorf("importer: write report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("importer: write report: %w", err)
	}
	return nil
}

// row is one parsed CSV line.
type row struct {
	line   int
	reg    archive.Register
	year   int
	number int
	fields archive.Fields
	files  []string
}

// registerNames accepts the registers' English and Arabic names.
var registerNames = map[string]archive.Register{
	"incoming": archive.Incoming, "وارد": archive.Incoming, "الوارد": archive.Incoming,
	"outgoing": archive.Outgoing, "صادر": archive.Outgoing, "الصادر": archive.Outgoing,
	"decisions": archive.Decisions, "decision": archive.Decisions, "قرارات": archive.Decisions, "القرارات": archive.Decisions, "قرار": archive.Decisions,
	"minutes": archive.Minutes, "محاضر": archive.Minutes, "المحاضر": archive.Minutes, "محضر": archive.Minutes,
}

// splitList splits a list cell on ";", the Arabic "؛" or "|".
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '؛' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parse reads the whole CSV: the rows (in file order) and the rows refused
// before anything is stored.
// Check reads a CSV as Run would and returns the error that would stop Run
// before its first row (an unreadable file, a required column missing), so a
// form can refuse it at once and run the import in the background.
func Check(r io.Reader, mapping map[string]string) error {
	_, _, err := parse(r, mapping)
	return err
}

func parse(r io.Reader, mapping map[string]string) ([]row, []Refusal, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("importer: read CSV header: %w", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		field := ""
		for col, f := range mapping {
			if strings.EqualFold(col, h) {
				field = f
			}
		}
		if field == "" && isKnown(strings.ToLower(h)) {
			field = strings.ToLower(h)
		}
		if field != "" {
			cols[field] = i
		}
	}
	for _, need := range []string{"register", "number", "subject"} {
		if _, ok := cols[need]; !ok {
			return nil, nil, fmt.Errorf("importer: no column for %q (headers %q; map one with --map header=%s)", need, header, need)
		}
	}
	var rows []row
	var refused []Refusal
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refused = append(refused, refusal(pe.Line, "", RefusedUnreadable, pe.Err.Error()))
				continue
			}
			return nil, nil, fmt.Errorf("importer: read CSV: %w", err)
		}
		get := func(f string) string {
			if i, ok := cols[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rw, w := parseRow(line, get, cols)
		if w != nil {
			refused = append(refused, refusal(line, rw.id(), w.code, w.args...))
			continue
		}
		rows = append(rows, rw)
	}
	return rows, refused, nil
}

func (r row) id() string {
	if r.reg == "" || r.year == 0 || r.number == 0 {
		return ""
	}
	return archive.RecordID(r.reg, r.year, r.number)
}

func parseRow(line int, get func(string) string, cols map[string]int) (row, *why) {
	rw := row{line: line}
	reg, ok := registerNames[strings.ToLower(get("register"))]
	if !ok {
		return rw, &why{RefusedRegister, []string{get("register")}}
	}
	rw.reg = reg
	n, err := strconv.Atoi(toLatinDigits(get("number")))
	if err != nil || n < 1 {
		return rw, &why{RefusedNumber, []string{get("number")}}
	}
	rw.number = n
	date := toLatinDigits(get("date"))
	if y := toLatinDigits(get("year")); y != "" {
		if rw.year, err = strconv.Atoi(y); err != nil || rw.year < 1 || rw.year > 9999 {
			return rw, &why{RefusedYear, []string{get("year")}}
		}
	} else if t, err := time.Parse(time.DateOnly, date); err == nil {
		rw.year = t.Year()
	} else {
		return rw, &why{code: RefusedNoYear}
	}
	f := &rw.fields
	str := func(name string, dst **string) {
		if _, ok := cols[name]; ok {
			v := get(name)
			*dst = &v
		}
	}
	list := func(name string, dst **[]string) {
		if _, ok := cols[name]; ok {
			v := splitList(get(name))
			*dst = &v
		}
	}
	str("subject", &f.Subject)
	str("body", &f.Body)
	str("from", &f.From)
	str("to", &f.To)
	str("committee", &f.Committee)
	str("reference", &f.Reference)
	str("in_reply_to", &f.InReplyTo)
	str("meeting", &f.Meeting)
	str("confidentiality", &f.Confidentiality)
	if f.Confidentiality != nil && *f.Confidentiality == "" {
		f.Confidentiality = nil
	}
	for _, d := range []struct {
		name string
		dst  **string
	}{{"date", &f.Date}, {"reference_date", &f.ReferenceDate}, {"received_date", &f.ReceivedDate}} {
		if _, ok := cols[d.name]; ok {
			v := toLatinDigits(get(d.name))
			*d.dst = &v
		}
	}
	list("tags", &f.Tags)
	list("refs", &f.Refs)
	list("attendees", &f.Attendees)
	list("apologies", &f.Apologies)
	list("agenda", &f.Agenda)
	rw.files = splitList(get("files"))
	for _, name := range rw.files {
		if !filepath.IsLocal(name) {
			return rw, &why{RefusedPath, []string{name}}
		}
	}
	return rw, nil
}

// toLatinDigits turns Arabic-Indic and Persian digits into ASCII ones, as
// spreadsheets typed in Arabic often hold them.
func toLatinDigits(s string) string {
	return strings.Map(archive.LatinDigit, s)
}

// importKey hashes what a row asks to register, so a re-run recognises the
// records an interrupted run made from the same rows.
func importKey(rw row, files []archive.Attachment) string {
	shas := make([]string, len(files))
	for i, f := range files {
		shas[i] = f.SHA256 + ":" + f.Name
	}
	b, err := json.Marshal(struct {
		Reg    archive.Register
		Year   int
		Number int
		Fields archive.Fields
		Files  []string
	}{rw.reg, rw.year, rw.number, rw.fields, shas})
	if err != nil {
		panic(fmt.Sprintf("importer: marshal row: %v", err)) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Workers is how many rows are stored at once: their files, then their
// records. The work is the storage's round trips, so more at once than the
// machine has cores.
const Workers = 16

// Run imports the rows of the CSV in r. A row whose number is taken by other
// content, a missing or refused file, or an invalid field is reported in the
// Report and the run goes on; storage failures and a cancelled ctx stop it,
// returning the report so far. Running it again after an interruption ends in
// the same state as an uninterrupted run (see archive.Store.ImportRows).
// One audit event records each run.
//
// The files of every row are stored first, Workers at a time, then the
// records, likewise: an import of thousands of rows waits for the storage's
// round trips side by side.
func Run(ctx context.Context, opt Options, r io.Reader) (*Report, error) {
	if opt.MaxFileSize <= 0 {
		opt.MaxFileSize = 1 << 30
	}
	rows, refused, err := parse(r, opt.Map)
	if err != nil {
		return nil, err
	}
	rep := &Report{Rows: len(rows) + len(refused), Refused: refused}
	archive.ImportOrder(rows, func(rw row) (archive.Register, int, int) { return rw.reg, rw.year, rw.number })
	if opt.OnProgress != nil {
		opt.OnProgress(0, len(rows))
	}
	var mu sync.Mutex // guards rep and done
	done := 0
	finished := func() {
		done++
		if opt.OnProgress != nil {
			opt.OnProgress(done, len(rows))
		}
	}
	refuse := func(rw row, code string, args ...string) {
		mu.Lock()
		defer mu.Unlock()
		rep.Refused = append(rep.Refused, refusal(rw.line, rw.id(), code, args...))
		finished()
	}

	runErr := func() error {
		// The files, then the rows whose files are all stored.
		files, err := storeFiles(ctx, opt, rows, refuse)
		if err != nil {
			return err
		}
		var todo []archive.ImportRow
		var from []row
		for i, rw := range rows {
			if files[i] == nil {
				continue // refused
			}
			todo = append(todo, archive.ImportRow{Register: rw.reg, Year: rw.year, Number: rw.number,
				Fields: rw.fields, Files: files[i], Key: importKey(rw, files[i])})
			from = append(from, rw)
		}
		var hookErr error
		err = opt.Store.ImportRows(ctx, opt.Actor, todo, Workers, func(i int, o archive.ImportOutcome) {
			rw := from[i]
			switch {
			case o.Err != nil && archive.ErrorCode(o.Err) == archive.ECONFLICT:
				refuse(rw, RefusedTaken, rw.id())
				return
			case o.Err != nil:
				refuse(rw, RefusedRecord, reason(o.Err))
				return
			}
			if opt.OnRecord != nil && hookErr == nil {
				// Also for a skipped row: the interrupted run may have stopped before it.
				if err := opt.OnRecord(ctx, o.Record); err != nil {
					hookErr = fmt.Errorf("after importing %s: %w", o.Record.ID, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if o.Result == archive.AlreadyImported {
				rep.Skipped++
			} else {
				rep.Imported++
			}
			finished()
		})
		if err == nil {
			err = hookErr
		}
		return err
	}()
	slices.SortFunc(rep.Refused, func(a, b Refusal) int { return a.Line - b.Line })
	detail := fmt.Sprintf("rows=%d imported=%d skipped=%d refused=%d", rep.Rows, rep.Imported, rep.Skipped, len(rep.Refused))
	if runErr != nil {
		detail += " interrupted: " + runErr.Error()
	}
	if err := opt.Store.Audit(context.WithoutCancel(ctx), archive.Event{Actor: opt.Actor, Action: archive.ActionImport, Detail: detail}); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return rep, fmt.Errorf("importer: %w", runErr)
	}
	return rep, nil
}

// storeFiles stores the files of every row, Workers at a time, and returns
// each row's attachments (nil for a row refused because of a file, which it
// reports). A failure that should stop the run is returned.
func storeFiles(ctx context.Context, opt Options, rows []row, refuse func(row, string, ...string)) ([][]archive.Attachment, error) {
	out := make([][]archive.Attachment, len(rows))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan int)
	var wg sync.WaitGroup
	for range Workers {
		wg.Go(func() {
			for i := range work {
				files, code, args, err := storeRowFiles(ctx, opt, rows[i])
				switch {
				case err != nil:
					cancel(err)
				case code != "":
					refuse(rows[i], code, args...)
				default:
					out[i] = files
				}
			}
		})
	}
	for i := range rows {
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return out, context.Cause(ctx)
}

// storeRowFiles stores one row's files. A file that refuses the row is
// returned as its refusal code and arguments; an error stops the run.
func storeRowFiles(ctx context.Context, opt Options, rw row) ([]archive.Attachment, string, []string, error) {
	files := []archive.Attachment{}
	for _, name := range rw.files {
		if att, ok := opt.Stored[name]; ok {
			files = append(files, att)
			continue
		}
		if opt.FilesDir == "" {
			return nil, RefusedNotUploaded, []string{name}, nil
		}
		f, err := os.Open(filepath.Join(opt.FilesDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, RefusedMissing, []string{name}, nil
		}
		if err != nil {
			msg := err.Error()
			if u := errors.Unwrap(err); u != nil {
				msg = u.Error() // the reason without the full path
			}
			return nil, RefusedFile, []string{name, msg}, nil
		}
		att, err := opt.Store.PutBlob(ctx, f, filepath.Base(name), opt.MaxFileSize)
		f.Close()
		if err != nil {
			if stops(ctx, err) {
				return nil, "", nil, fmt.Errorf("store file %q of line %d: %w", name, rw.line, err)
			}
			return nil, RefusedFile, []string{name, archive.ErrorMessage(err)}, nil
		}
		files = append(files, att)
	}
	return files, "", nil, nil
}

// stops reports whether err should end the run rather than refuse one row.
func stops(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	switch archive.ErrorCode(err) {
	case archive.EINVALID, archive.ECONFLICT, archive.ETOOLARGE, archive.EUNSUPPORTED, archive.ENOTFOUND:
		return false
	}
	return true
}

// reason is the refusal text for err, naming every wrong field.
func reason(err error) string {
	var v *archive.ValidationError
	if errors.As(err, &v) {
		var parts []string
		for _, f := range v.Fields {
			parts = append(parts, f.Field+": "+f.Message)
		}
		return strings.Join(parts, "; ")
	}
	return archive.ErrorMessage(err)
}
