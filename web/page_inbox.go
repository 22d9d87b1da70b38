package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// inboxData is what the inbox page shows: the items, the outcome of the
// last step, and the message of a step refused on one item.
type inboxData struct {
	Items     []inboxView
	MaxUpload int64
	// Done is the last step's outcome (registered, attached, split,
	// discarded), Record the entry it went to.
	Done   string
	Record string
	// ErrItem is the item whose step was refused, Error why (a catalogue
	// key), Detail the message of the archive, Values what was typed.
	ErrItem string
	Error   string
	Detail  string
	Values  url.Values
	// Year is this year, for the example of an entry's number.
	Year int
	// Pending counts the items whose text is still being read: the page
	// looks again until none is.
	Pending int
}

func (u *ui) inboxPage(c *fiber.Ctx) error {
	d := inboxData{Done: c.Query("done"), Record: c.Query("record")}
	return u.renderInbox(c, http.StatusOK, d)
}

func (u *ui) renderInbox(c *fiber.Ctx, status int, d inboxData) error {
	ctx := c.UserContext()
	items, err := u.s.store.InboxItems(ctx)
	if err != nil {
		return err
	}
	d.MaxUpload, d.Year = u.s.cfg.MaxUploadBytes, u.s.store.Now().Year()
	for _, it := range items {
		v := u.s.inboxView(ctx, it)
		if v.Text != nil && v.Text.Status == "pending" {
			d.Pending++
		}
		d.Items = append(d.Items, v)
	}
	return u.render(c, status, "inbox", "inbox", d)
}

// inboxStep runs one step on an item from the inbox page's form for it and
// goes back to the inbox, saying what was done; a refused step shows the
// inbox again with the message beside the item.
func (u *ui) inboxStep(step func(c *fiber.Ctx, item *archive.InboxItem, vals url.Values) (done, record, errKey string, err error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		vals, _, err := u.readPostedForm(c, false)
		if err != nil {
			return err
		}
		item, err := u.s.store.InboxItem(c.UserContext(), c.Params("id"))
		if err != nil {
			return err
		}
		done, record, errKey, err := step(c, item, vals)
		switch code := archive.ErrorCode(err); {
		case err == nil:
			q := url.Values{"done": {done}}
			if record != "" {
				q.Set("record", record)
			}
			return c.Redirect("/inbox?"+q.Encode(), http.StatusSeeOther)
		case code == archive.EINVALID || code == archive.ENOTFOUND || code == archive.ECONFLICT || code == archive.EUNAVAILABLE:
			vals.Del(csrfField)
			d := inboxData{ErrItem: item.ID, Error: errKey, Values: vals}
			var ae *archive.Error
			if code == archive.EINVALID && errors.As(err, &ae) {
				d.Detail = ae.Message // the parts typed to split a scan: said in Arabic
			}
			return u.renderInbox(c, statusOf(code), d)
		default:
			return err
		}
	}
}

func (u *ui) inboxAttach(c *fiber.Ctx, item *archive.InboxItem, vals url.Values) (string, string, string, error) {
	rec, err := u.s.attachItem(c, item, archive.Register(vals.Get("register")), vals.Get("record"))
	if err != nil {
		return "", "", "inbox.attach.error", err
	}
	return "attached", rec.ID, "", nil
}

func (u *ui) inboxSplit(c *fiber.Ctx, item *archive.InboxItem, vals url.Values) (string, string, string, error) {
	if _, err := u.s.splitItem(c, item, vals.Get("pages")); err != nil {
		return "", "", "inbox.split.error", err
	}
	return "split", "", "", nil
}

func (u *ui) inboxDiscard(c *fiber.Ctx, item *archive.InboxItem, _ url.Values) (string, string, string, error) {
	err := u.s.store.TakeFromInbox(c.UserContext(), user(c).Username, c.IP(), archive.ActionInboxDiscard, item, "", "")
	return "discarded", "", "", err
}
