package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// valuesOf fills a register's form with a record's current fields.
func valuesOf(rec *archive.Record) url.Values {
	return url.Values{
		"subject": {rec.Subject}, "body": {rec.Body}, "confidentiality": {rec.Confidentiality},
		"from": {rec.From}, "to": {rec.To}, "reference": {rec.Reference},
		"reference_date": {rec.ReferenceDate}, "received_date": {rec.ReceivedDate}, "reply_due": {rec.ReplyDue}, "date": {rec.Date},
		"in_reply_to": {rec.InReplyTo}, "meeting": {rec.Meeting}, "committee": {rec.Committee},
		"attendees": {strings.Join(rec.Attendees, "\n")}, "apologies": {strings.Join(rec.Apologies, "\n")},
		"agenda": {strings.Join(rec.Agenda, "\n")}, "tags": {strings.Join(rec.Tags, "، ")},
	}
}

// recordEdit shows a record's form filled in, to correct it. The entry as
// registered (number, time, subject and parties) stays in the hash chain;
// the correction is a new, audited version.
func (u *ui) recordEdit(c *fiber.Ctx) error {
	rec, etag, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	if rec.Status == archive.StatusAnnulled {
		return archive.Errorf(archive.ECONFLICT, "an annulled record cannot be edited")
	}
	return u.renderEdit(c, http.StatusOK, rec, etag, valuesOf(rec), nil, false)
}

func (u *ui) renderEdit(c *fiber.Ctx, status int, rec *archive.Record, etag string, vals url.Values, errs map[string]string, conflict bool) error {
	d := formData{Register: rec.Register, Values: vals, Errors: errs, MaxUpload: u.s.cfg.MaxUploadBytes,
		Edit: rec, ETag: etag, Conflict: conflict}
	u.addChoices(c, &d)
	return u.render(c, status, "form", string(rec.Register), d)
}

// recordUpdate saves the corrected form if nobody changed the record since it
// was opened; otherwise it shows the form again, with what was typed.
func (u *ui) recordUpdate(c *fiber.Ctx) error {
	vals, _, err := u.readPostedForm(c, false)
	if err != nil {
		return err
	}
	rec, etag, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	_, _, err = u.s.store.Update(c.UserContext(), user(c).Username, rec.ID, vals.Get("etag"), fieldsFrom(rec.Register, vals))
	var ve *archive.ValidationError
	switch {
	case errors.As(err, &ve):
		return u.renderEdit(c, http.StatusUnprocessableEntity, rec, vals.Get("etag"), vals, fieldErrors(rec.Register, ve), false)
	case archive.ErrorCode(err) == archive.EPRECONDITION:
		// Keep what was typed, against the current version's ETag: saving
		// again is a deliberate choice after reading the other change.
		return u.renderEdit(c, http.StatusConflict, rec, etag, vals, nil, true)
	case err != nil:
		return err
	}
	return c.Redirect("/records/"+rec.ID+"?updated=1", http.StatusSeeOther)
}
