package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// readForm reads a page form's fields: url-encoded, or multipart when the
// form takes files, whose parts are stored as they stream in (see
// readMultipart). Fields are bounded like a JSON body. check verifies the
// form's security token; for a multipart form it runs before the first file
// is stored (the token comes first in every form of Sijill), so a forged
// form stores nothing. A form that takes no file refuses multipart.
func (u *ui) readForm(c *fiber.Ctx, takesFiles bool, check func(url.Values) error) (url.Values, []archive.Attachment, error) {
	if isMultipart(c) {
		if !takesFiles {
			drain(c)
			return nil, nil, archive.Errorf(archive.EUNSUPPORTED, "this form takes no files: send it url-encoded")
		}
		vals := url.Values{}
		checked := false
		files, err := u.s.readMultipart(c, func(name string, value []byte) error {
			vals.Add(name, string(value))
			return nil
		}, func() error {
			checked = true
			return check(vals)
		})
		if err == nil && !checked {
			err = check(vals)
		}
		return vals, files, err
	}
	body, err := u.s.readBody(c, jsonLimit)
	if err != nil {
		return nil, nil, err
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, archive.Errorf(archive.EINVALID, "malformed form: %v", err)
	}
	if err := check(vals); err != nil {
		return nil, nil, err
	}
	return vals, nil, nil
}

// readPostedForm reads a form sent by one of Sijill's signed-in pages
// (readForm) and checks its CSRF token, as every page that changes something
// must; takesFiles says whether the form has a file picker.
func (u *ui) readPostedForm(c *fiber.Ctx, takesFiles bool) (url.Values, []archive.Attachment, error) {
	return u.readForm(c, takesFiles, func(vals url.Values) error { return checkFormCSRF(c, vals.Get(csrfField)) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// formData is what the record form shows: the values typed so far and a
// message beside each field that was refused.
type formData struct {
	Register  archive.Register
	Values    url.Values
	Errors    map[string]string
	FilesLost int
	MaxUpload int64
	// Choices for the "in reply to" and "meeting" fields: recent entries of
	// the register they point into.
	Choices []index.Hit
	// Edit is the record being corrected (nil for a new entry), ETag the
	// version the form was filled from, Conflict set when someone else
	// saved a change meanwhile.
	Edit     *archive.Record
	ETag     string
	Conflict bool
	// Duplicate is the entry a new incoming letter seems to register again,
	// shown with a button that registers it all the same.
	Duplicate *archive.Record
	// Inbox is the scan inbox item being registered: its file becomes the
	// entry's first, and the form was filled from its text.
	Inbox *inboxView
}

// V is the value typed in field name.
func (f formData) V(name string) string { return f.Values.Get(name) }

// E is the error message for field name.
func (f formData) E(name string) string { return f.Errors[name] }

// recordNew shows the empty form of a register, with today's dates filled in.
func (u *ui) recordNew(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	today := u.s.today()
	// A key per form: pressing submit twice registers one entry, not two.
	vals := url.Values{"confidentiality": {archive.Normal}, "idempotency_key": {randomHex(16)}}
	switch reg {
	case archive.Incoming:
		vals.Set("received_date", today)
	default:
		vals.Set("date", today)
	}
	if v := c.Query("in_reply_to"); v != "" {
		vals.Set("in_reply_to", v)
		// A reply goes to the letter's sender, about the letter's subject:
		// drafts the secretary edits, filled only from a letter they may see.
		if letter := u.visible(c, archive.Incoming.RefID(v)); letter != nil && reg == archive.Outgoing {
			vals.Set("to", letter.From)
			vals.Set("subject", "ردّ على: "+letter.Subject)
		}
	}
	if v := c.Query("meeting"); v != "" {
		vals.Set("meeting", v)
		// A decision taken at a meeting has the meeting's date and committee.
		if meeting := u.visible(c, archive.Minutes.RefID(v)); meeting != nil && reg == archive.Decisions {
			if meeting.Date != "" {
				vals.Set("date", meeting.Date)
			}
			vals.Set("committee", meeting.Committee)
		}
	}
	d := formData{Register: reg, Values: vals, MaxUpload: u.s.cfg.MaxUploadBytes}
	u.addChoices(c, &d)
	if id := c.Query("inbox"); id != "" {
		// Registering a scan from the inbox: the form is filled with what
		// its text suggests, for the secretary to check.
		item, err := u.s.store.InboxItem(c.UserContext(), id)
		if err != nil {
			return err
		}
		v := u.s.inboxView(c.UserContext(), item)
		d.Inbox = &v
		vals.Set("inbox", item.ID)
		if sg := v.Suggestion; sg != nil && reg == archive.Incoming {
			vals.Set("from", sg.From)
			vals.Set("reference", sg.Reference)
			vals.Set("reference_date", sg.ReferenceDate)
			vals.Set("subject", sg.Subject)
		}
	}
	return u.render(c, http.StatusOK, "form", string(reg), d)
}

// visible returns the record id if the user may see it, else nil.
func (u *ui) visible(c *fiber.Ctx, id string) *archive.Record {
	rec, _, err := u.s.store.Get(c.UserContext(), id)
	if err != nil || !canSee(user(c), rec) {
		return nil
	}
	return rec
}

func (u *ui) renderForm(c *fiber.Ctx, status int, reg archive.Register, vals url.Values, errs map[string]string, lost int) error {
	d := formData{Register: reg, Values: vals, Errors: errs, FilesLost: lost, MaxUpload: u.s.cfg.MaxUploadBytes}
	u.addChoices(c, &d)
	u.addInbox(c, &d)
	return u.render(c, status, "form", string(reg), d)
}

// addInbox shows the inbox item the form registers, if it is one.
func (u *ui) addInbox(c *fiber.Ctx, d *formData) {
	if id := d.V("inbox"); id != "" {
		if item, err := u.s.store.InboxItem(c.UserContext(), id); err == nil {
			v := u.s.inboxView(c.UserContext(), item)
			d.Inbox = &v
		}
	}
}

// addChoices offers recent entries of the register the form's reference
// field points into: incoming letters to reply to, minutes of meetings.
func (u *ui) addChoices(c *fiber.Ctx, d *formData) {
	var from string
	switch d.Register {
	case archive.Outgoing:
		from = string(archive.Incoming)
	case archive.Decisions:
		from = string(archive.Minutes)
	}
	if from != "" && u.s.index != nil {
		res, err := u.s.index.Search(c.UserContext(), index.Query{Register: from, Sort: "-number", Size: 50,
			SeeConfidential: archive.Can(user(c).Role, archive.PermConfidential)})
		if err == nil {
			d.Choices = res.Hits
		}
	}
}

// fieldErrors puts each refused field's message beside the form's field.
func fieldErrors(reg archive.Register, ve *archive.ValidationError) map[string]string {
	errs := map[string]string{}
	for _, fe := range ve.Fields {
		name := fe.Field
		if name == "refs" {
			// In-reply-to and meeting references are checked as refs.
			name = map[archive.Register]string{archive.Outgoing: "in_reply_to", archive.Decisions: "meeting"}[reg]
		}
		if _, dup := errs[name]; !dup {
			errs[name] = fe.Message
		}
	}
	return errs
}

// listField splits a textarea into one item per line.
func listField(v string) *[]string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return &out
}

// tagsField reads the tags typed in one line, separated by commas (Arabic or
// Latin), semicolons or line breaks, each once, in the order typed.
func tagsField(v string) *[]string {
	out := []string{}
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(",،;؛\n\r", r) }) {
		if t = strings.Join(strings.Fields(t), " "); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return &out
}

// fieldsFrom builds the record's fields from the form of reg: only the fields
// its paper original has.
func fieldsFrom(reg archive.Register, v url.Values) archive.Fields {
	s := func(name string) *string { x := strings.TrimSpace(v.Get(name)); return &x }
	body := v.Get("body")
	f := archive.Fields{Subject: s("subject"), Body: &body, Confidentiality: s("confidentiality"), Tags: tagsField(v.Get("tags"))}
	if *f.Confidentiality == "" {
		*f.Confidentiality = archive.Normal
	}
	switch reg {
	case archive.Incoming:
		f.From, f.Reference, f.ReferenceDate, f.ReceivedDate = s("from"), s("reference"), s("reference_date"), s("received_date")
		f.ReplyDue = s("reply_due")
	case archive.Outgoing:
		f.To, f.Date, f.InReplyTo = s("to"), s("date"), s("in_reply_to")
	case archive.Decisions:
		f.Date, f.Meeting, f.Committee = s("date"), s("meeting"), s("committee")
	case archive.Minutes:
		f.Date, f.Committee = s("date"), s("committee")
		f.Attendees, f.Apologies, f.Agenda = listField(v.Get("attendees")), listField(v.Get("apologies")), listField(v.Get("agenda"))
	}
	return f
}

// recordCreate registers the form's record (with the files of a multipart
// form) and opens it. A refused form comes back with everything typed and a
// message beside each wrong field.
//
// The page's script sends the same form, files included, as one request that
// asks for JSON, so that a registration with its scans is one version of the
// entry (not one more per file). Its fields are then checked before any file
// is read: a refused form stores nothing and the files wait in the page, which
// shows each message beside its field.
func (u *ui) recordCreate(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	script := c.Get(fiber.HeaderAccept) == fiber.MIMEApplicationJSON
	check := func(vals url.Values) error {
		if err := checkFormCSRF(c, vals.Get(csrfField)); err != nil {
			return err
		}
		if script {
			if err := archive.CheckFields(reg, fieldsFrom(reg, vals)); err != nil {
				return err
			}
		}
		// Before any file is stored: a letter that seems registered already
		// is shown with its entry, and registered only once confirmed.
		if reg == archive.Incoming && vals.Get("confirm_duplicate") == "" {
			dup, err := u.s.possibleDuplicate(c.UserContext(), user(c), fieldsFrom(reg, vals))
			if err != nil {
				return err
			}
			if dup != nil {
				return &duplicateError{dup}
			}
		}
		return nil
	}
	vals, files, err := u.readForm(c, true, check)
	if err == nil {
		vals.Del(csrfField)
		var rec *archive.Record
		if id := vals.Get("inbox"); id != "" {
			// A scan from the inbox: it is the entry's first file, and
			// leaves the inbox (see registerItem).
			var item *archive.InboxItem
			if item, err = u.s.store.InboxItem(c.UserContext(), id); err == nil {
				rec, _, err = u.s.registerItem(c, item, reg, fieldsFrom(reg, vals), files)
			}
		} else {
			rec, _, err = u.s.store.Create(c.UserContext(), user(c).Username, reg, fieldsFrom(reg, vals), files, vals.Get("idempotency_key"))
			if err == nil {
				u.s.enqueueText(c.UserContext(), rec.ID, files)
			}
		}
		if err == nil {
			next := "/records/" + rec.ID + "?created=1"
			if vals.Get("inbox") != "" {
				next += "&inbox=1"
			}
			if script {
				return c.Status(http.StatusCreated).JSON(fiber.Map{"id": rec.ID, "next": next})
			}
			return c.Redirect(next, http.StatusSeeOther)
		}
	}
	var de *duplicateError
	if errors.As(err, &de) {
		if script {
			drain(c)
			return c.Status(http.StatusConflict).JSON(fiber.Map{"code": "duplicate", "error": u.catalogues[langOf(c)].text("form.duplicate.short"),
				"duplicate": fiber.Map{"id": de.Match.ID, "number": de.Match.Number, "year": de.Match.Year, "subject": de.Match.Subject}})
		}
		d := formData{Register: reg, Values: vals, FilesLost: len(files), MaxUpload: u.s.cfg.MaxUploadBytes, Duplicate: de.Match}
		u.addChoices(c, &d)
		u.addInbox(c, &d)
		return u.render(c, http.StatusConflict, "form", string(reg), d)
	}
	if script {
		return u.s.errorHandler(c, err)
	}
	var ve *archive.ValidationError
	if errors.As(err, &ve) {
		return u.renderForm(c, http.StatusUnprocessableEntity, reg, vals, fieldErrors(reg, ve), len(files))
	}
	return err
}
