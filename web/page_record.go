package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
)

type recordData struct {
	Rec     *archive.Record
	ETag    string
	History []*archive.Record
	Created bool
	// FromInbox says the entry was just registered from the scan inbox,
	// InboxLeft how many files are still in it.
	FromInbox bool
	InboxLeft int
	Annulled  bool
	Updated   bool
	Reason    string // the annulment reason typed, kept on an error
	ReasonErr string
	// ConfirmErr: the annulment was sent without its confirmation.
	ConfirmErr string
	Conflict   bool
	MaxUpload  int64
	// Related records named by the record (in reply to, meeting), when visible.
	InReplyTo, Meeting *archive.Record
	// Text is how far the extraction of each file's text (PDF text layer or
	// OCR) has got, by SHA-256, so a secretary knows when a scan is searchable.
	Text map[string]extract.Status
	// TextPending: some file is still being read; the page reloads itself
	// when none is (app.js).
	TextPending bool
	// Texts is the text of each file that has one, by SHA-256: the
	// correction a person made, or what was read from the file — shown on
	// the page, and for writers in a form to correct it.
	Texts map[string]attachmentText
	// TextSaved is the file whose corrected text was just saved.
	TextSaved string
	// Links: the thread, a meeting's decisions, a decision's follow-up (page_followup.go).
	Links recordLinks
	// FollowSaved: the follow-up form was just saved.
	FollowSaved bool
}

// recordShow shows one record: its fields, its files inline, its history, and
// for writers the upload and annulment forms.
func (u *ui) recordShow(c *fiber.Ctx) error {
	rec, etag, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	d, err := u.recordData(c, rec, etag)
	if err != nil {
		return err
	}
	d.Created = c.Query("created") != ""
	if c.Query("inbox") != "" && archive.Can(user(c).Role, archive.PermWrite) {
		// Registered from the scan inbox: the way back to the rest of the pile.
		d.FromInbox = true
		if n, err := u.s.store.InboxCount(c.UserContext()); err == nil {
			d.InboxLeft = n
		}
	}
	d.Annulled = c.Query("annulled") != ""
	d.Updated = c.Query("updated") != ""
	if sum := c.Query("text"); archive.ValidSHA256(sum) {
		d.TextSaved = sum
	}
	return u.render(c, http.StatusOK, "record", string(rec.Register), d)
}

func (u *ui) recordData(c *fiber.Ctx, rec *archive.Record, etag string) (*recordData, error) {
	hist, err := u.s.store.History(c.UserContext(), rec.ID)
	if err != nil {
		return nil, err
	}
	// Newest first, as a secretary reads a change log.
	for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
		hist[i], hist[j] = hist[j], hist[i]
	}
	if rec, err = u.s.redactedOne(c.UserContext(), user(c), rec); err != nil {
		return nil, err
	}
	if hist, err = u.s.redacted(c.UserContext(), user(c), hist...); err != nil {
		return nil, err
	}
	d := &recordData{Rec: rec, ETag: etag, History: hist, MaxUpload: u.s.cfg.MaxUploadBytes}
	d.InReplyTo, d.Meeting = u.s.related(c, rec.InReplyTo), u.s.related(c, rec.Meeting)
	if d.Links, err = u.linksData(c, rec); err != nil {
		return nil, err
	}
	d.FollowSaved = c.Query("followup") != ""
	if d.Texts, err = u.s.attachmentTexts(c, rec); err != nil {
		return nil, err
	}
	if x := u.s.extractor; x != nil {
		d.Text = map[string]extract.Status{}
		for _, a := range rec.Attachments {
			if st, ok, err := x.Status(c.UserContext(), a.SHA256); err == nil && ok {
				d.Text[a.SHA256] = st
				d.TextPending = d.TextPending || st.Status == extract.StatusPending
			}
		}
	}
	return d, nil
}

// recordAnnul annuls the record with the reason typed. The entry keeps its
// number and stays in its register, marked annulled.
func (u *ui) recordAnnul(c *fiber.Ctx) error {
	vals, _, err := u.readPostedForm(c, false)
	if err != nil {
		return err
	}
	rec, etag, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	reason := vals.Get("reason")
	// An annulment cannot be undone: it is asked for twice, by the reason
	// and by ticking the confirmation.
	confirmed := vals.Get("confirm") == "yes"
	if confirmed {
		_, _, err = u.s.store.Annul(c.UserContext(), user(c).Username, rec.ID, vals.Get("etag"), reason)
	}
	var ve *archive.ValidationError
	if !confirmed || errors.As(err, &ve) || archive.ErrorCode(err) == archive.EPRECONDITION {
		d, derr := u.recordData(c, rec, etag)
		if derr != nil {
			return derr
		}
		d.Reason = reason
		switch {
		case !confirmed:
			d.ConfirmErr = u.msgKey(c, "msg.annul_confirm")
			if strings.TrimSpace(reason) == "" {
				d.ReasonErr = u.msgKey(c, "msg.annul_reason")
			}
		case ve != nil && len(ve.Fields) > 0:
			d.ReasonErr = ve.Fields[0].Message
		default:
			d.Conflict = true
		}
		return u.render(c, http.StatusUnprocessableEntity, "record", string(rec.Register), d)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/records/"+rec.ID+"?annulled=1", http.StatusSeeOther)
}

// recordText saves a person's correction of the text read from one of the
// record's files, and shows the record again.
func (u *ui) recordText(c *fiber.Ctx) error {
	vals, _, err := u.readPostedForm(c, false)
	if err != nil {
		return err
	}
	rec, _, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	if _, err := u.s.store.CorrectText(c.UserContext(), user(c).Username, rec.ID, c.Params("sha256"), vals.Get("text")); err != nil {
		return err
	}
	return c.Redirect("/records/"+rec.ID+"?text="+c.Params("sha256")+"#file-"+c.Params("sha256"), http.StatusSeeOther)
}
