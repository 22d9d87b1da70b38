package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Register is one of the secretariat's official registers. Each has its own
// numbering per year.
type Register string

// The registers Sijill keeps.
const (
	Incoming  Register = "incoming"
	Outgoing  Register = "outgoing"
	Decisions Register = "decisions"
	Minutes   Register = "minutes"
)

// Registers lists every register in the order they are shown.
func Registers() []Register { return []Register{Incoming, Outgoing, Decisions, Minutes} }

// Title is the register's Arabic name as printed on its book.
func (r Register) Title() string {
	switch r {
	case Incoming:
		return "سجل الوارد"
	case Outgoing:
		return "سجل الصادر"
	case Decisions:
		return "سجل القرارات"
	case Minutes:
		return "سجل المحاضر"
	}
	return string(r)
}

// LatinDigit returns the ASCII digit for an Arabic-Indic (٠–٩) or Persian
// (۰–۹) digit, and any other rune as it is: numbers are typed in either
// kind, and compared, parsed and stored in one.
func LatinDigit(r rune) rune {
	switch {
	case r >= '٠' && r <= '٩':
		return '0' + r - '٠'
	case r >= '۰' && r <= '۹':
		return '0' + r - '۰'
	}
	return r
}

// RefID turns a reference to an entry of r as a secretary writes it — its
// number and year, "12/2026", in Western or Eastern Arabic digits — into the
// entry's ID ("incoming-2026-12"). Anything else is returned as given, for
// validation to accept (an ID) or refuse.
func (r Register) RefID(s string) string {
	t := strings.Map(func(c rune) rune {
		if c == ' ' || c == '\u200f' || c == '\u200e' || c == '\u061c' {
			return -1
		}
		return LatinDigit(c)
	}, s)
	num, year, ok := strings.Cut(t, "/")
	if !ok || !allDigits(num) || !allDigits(year) || len(year) != 4 || len(num) > 9 {
		return s
	}
	n, _ := strconv.Atoi(num)
	if n < 1 {
		return s
	}
	return fmt.Sprintf("%s-%s-%d", r, year, n)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Valid reports whether r is one of the known registers.
func (r Register) Valid() bool {
	switch r {
	case Incoming, Outgoing, Decisions, Minutes:
		return true
	}
	return false
}

// Record statuses. A record is never deleted; a wrong entry is annulled and stays.
const (
	StatusActive   = "active"
	StatusAnnulled = "annulled"
)

// Confidentiality levels. Confidential records exist only for those allowed to see them.
const (
	Normal       = "normal"
	Confidential = "confidential"
)

// Record is one entry of a register: an incoming or outgoing letter, a decision or
// the minutes of a meeting. Register, Year and Number are its official identity.
type Record struct {
	ID       string   `json:"id"`
	Register Register `json:"register"`
	Year     int      `json:"year"`
	Number   int      `json:"number"`

	// Date is the document's own date (YYYY-MM-DD), which may differ from the
	// registration time in CreatedAt.
	Date      string   `json:"date,omitempty"`
	Subject   string   `json:"subject"`
	Body      string   `json:"body,omitempty"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
	Committee string   `json:"committee,omitempty"`
	Tags      []string `json:"tags,omitempty"`

	// Incoming letters: the sender's own reference and its date, and the day it arrived.
	Reference     string `json:"reference,omitempty"`
	ReferenceDate string `json:"reference_date,omitempty"`
	ReceivedDate  string `json:"received_date,omitempty"`
	// ReplyDue marks an incoming letter that needs an answer, by this day
	// (YYYY-MM-DD). An outgoing letter registered in reply to it (InReplyTo)
	// answers it; nothing here changes then.
	ReplyDue string `json:"reply_due,omitempty"`
	// InReplyTo is the ID of the record this one answers (an outgoing letter
	// answering an incoming one).
	InReplyTo string `json:"in_reply_to,omitempty"`
	// Refs are IDs of other records this one refers to.
	Refs []string `json:"refs,omitempty"`
	// Meeting is the ID of the minutes a decision was taken at.
	Meeting string `json:"meeting,omitempty"`
	// Minutes: who attended, who sent apologies, and the agenda items.
	Attendees []string `json:"attendees,omitempty"`
	Apologies []string `json:"apologies,omitempty"`
	Agenda    []string `json:"agenda,omitempty"`

	Confidentiality string       `json:"confidentiality"`
	Status          string       `json:"status"`
	AnnulReason     string       `json:"annul_reason,omitempty"`
	AnnulledAt      *time.Time   `json:"annulled_at,omitempty"`
	AnnulledBy      string       `json:"annulled_by,omitempty"`
	Attachments     []Attachment `json:"attachments"`

	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
	// Version counts the writes of this record, starting at 1 at registration.
	// Every earlier version is kept under history/.
	Version int `json:"version"`

	// Chain links the immutable part of this entry to the previous entry of its
	// register and year. See Entry.
	Chain Chain `json:"chain"`
	// Registered is the subject and parties as first registered; the live fields
	// above may be corrected later, the chain covers these.
	Registered *Registered `json:"registered,omitempty"`

	// IdempotencyKey is the SHA-256 of the client's Idempotency-Key, so a retried
	// create finds this record instead of taking a second number.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Attachment is a file kept with a record. Its bytes live once, content-addressed,
// under blobs/; the record names them by SHA-256.
type Attachment struct {
	SHA256      string    `json:"sha256"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	AddedAt     time.Time `json:"added_at"`
	AddedBy     string    `json:"added_by,omitempty"`
	// Corrected, when a person has corrected the text read from the file
	// (OCR or its PDF text layer), names the corrected text, kept beside
	// the machine's (see CorrectText); search reads it instead.
	Corrected *TextCorrection `json:"text_correction,omitempty"`
}

// TextCorrection says which corrected text an attachment has, who wrote it
// and when. Earlier corrections stay in the record's earlier versions.
type TextCorrection struct {
	SHA256 string    `json:"sha256"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Chain is the fixity link of a register entry: Prev is the Hash of the previous
// entry of the same register and year ("" for number 1), Hash the SHA-256 of this
// entry's immutable part (which includes Prev).
//
// Salt is a random secret of the entry (chain format 2, V = 2), part of what
// Hash covers. Without it, the Prev that a public entry shows would let a
// reader confirm a guess about the confidential entry before it offline: its
// number, registration time and a short templated subject are few enough to
// try them all. The salt is kept in the record and never shown to those who
// may not audit. Entries made before chain format 2 have neither Salt nor V
// and hash exactly as they did, so existing archives verify unchanged.
type Chain struct {
	Prev string `json:"prev"`
	Hash string `json:"hash"`
	Salt string `json:"salt,omitempty"`
	V    int    `json:"v,omitempty"`
}

// ChainFormat is the format of the chains of new entries (see Chain).
const ChainFormat = 2

// newSalt returns a chain salt: 128 random bits, hex.
func newSalt() string {
	b := make([]byte, 16)
	_, _ = cryptoReader{}.Read(b)
	return hex.EncodeToString(b)
}

// newChain starts the chain link of a new entry after prev.
func newChain(prev string) Chain { return Chain{Prev: prev, Salt: newSalt(), V: ChainFormat} }

// Entry is the immutable part of a register entry: what was registered, when and
// by whom. Later edits never change it, so the hash chain over entries survives
// corrections while any tampering with what was registered shows.
type Entry struct {
	Register     Register  `json:"register"`
	Year         int       `json:"year"`
	Number       int       `json:"number"`
	RegisteredAt time.Time `json:"registered_at"`
	Subject      string    `json:"subject"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	Files        []string  `json:"files"`
	Prev         string    `json:"prev"`
	// Salt and V are the chain's (format 2); empty in older entries, which
	// then hash as they always did.
	Salt string `json:"salt,omitempty"`
	V    int    `json:"v,omitempty"`
}

// Entry returns the immutable part of r as it was registered. Files are the
// attachments added at registration time (at CreatedAt).
func (r *Record) Entry() Entry {
	files := []string{}
	for _, a := range r.Attachments {
		if a.AddedAt.Equal(r.CreatedAt) {
			files = append(files, a.SHA256)
		}
	}
	return Entry{
		Register: r.Register, Year: r.Year, Number: r.Number,
		RegisteredAt: r.CreatedAt.UTC(), Subject: r.entrySubject(), From: r.entryFrom(), To: r.entryTo(),
		Files: files, Prev: r.Chain.Prev, Salt: r.Chain.Salt, V: r.Chain.V,
	}
}

// registered holds the subject and parties as registered, which later edits of
// the live fields do not change. It is kept beside the record.
func (r *Record) entrySubject() string { return r.registered().Subject }
func (r *Record) entryFrom() string    { return r.registered().From }
func (r *Record) entryTo() string      { return r.registered().To }

func (r *Record) registered() Registered {
	if r.Registered != nil {
		return *r.Registered
	}
	return Registered{Subject: r.Subject, From: r.From, To: r.To}
}

// Hash returns the hex SHA-256 of the entry's canonical JSON encoding.
func (e Entry) Hash() string {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("archive: marshal entry: %v", err)) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RecordID is the stable identity of a record in URLs: register-year-number.
func RecordID(reg Register, year, number int) string {
	return fmt.Sprintf("%s-%d-%d", reg, year, number)
}

// ParseRecordID splits an ID made by RecordID. A malformed ID is ENOTFOUND: from
// the caller's side no such record exists.
func ParseRecordID(id string) (Register, int, int, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return "", 0, 0, Errorf(ENOTFOUND, "no record %q", id)
	}
	reg := Register(parts[0])
	year, err1 := strconv.Atoi(parts[1])
	num, err2 := strconv.Atoi(parts[2])
	if !reg.Valid() || err1 != nil || err2 != nil || year < 1 || num < 1 || year > 9999 {
		return "", 0, 0, Errorf(ENOTFOUND, "no record %q", id)
	}
	return reg, year, num, nil
}

// recordKey is where a record lives in the bucket.
func recordKey(reg Register, year, number int) string {
	return fmt.Sprintf("records/%s/%d/%06d.json", reg, year, number)
}

// Limits on what a record may hold, so one request cannot fill the storage.
const (
	maxSubject = 1000
	maxBody    = 1 << 20
	maxField   = 500
	maxList    = 200
)

// Fields is the editable content of a record, as a client sends it. A nil field
// of an update is left unchanged.
type Fields struct {
	Date            *string   `json:"date"`
	Subject         *string   `json:"subject"`
	Body            *string   `json:"body"`
	From            *string   `json:"from"`
	To              *string   `json:"to"`
	Committee       *string   `json:"committee"`
	Tags            *[]string `json:"tags"`
	Reference       *string   `json:"reference"`
	ReferenceDate   *string   `json:"reference_date"`
	ReceivedDate    *string   `json:"received_date"`
	ReplyDue        *string   `json:"reply_due"`
	InReplyTo       *string   `json:"in_reply_to"`
	Refs            *[]string `json:"refs"`
	Meeting         *string   `json:"meeting"`
	Attendees       *[]string `json:"attendees"`
	Apologies       *[]string `json:"apologies"`
	Agenda          *[]string `json:"agenda"`
	Confidentiality *string   `json:"confidentiality"`
}

// FieldError names the field that is wrong, so forms can show the message beside it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apply copies the set fields of f into r.
func (f *Fields) apply(r *Record) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	setList := func(dst *[]string, src *[]string) {
		if src != nil {
			out := []string{}
			for _, s := range *src {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			*dst = out
		}
	}
	set(&r.Date, f.Date)
	set(&r.Subject, f.Subject)
	if f.Body != nil {
		r.Body = *f.Body
	}
	set(&r.From, f.From)
	set(&r.To, f.To)
	set(&r.Committee, f.Committee)
	setList(&r.Tags, f.Tags)
	set(&r.Reference, f.Reference)
	set(&r.ReferenceDate, f.ReferenceDate)
	set(&r.ReceivedDate, f.ReceivedDate)
	set(&r.ReplyDue, f.ReplyDue)
	set(&r.InReplyTo, f.InReplyTo)
	r.InReplyTo = Incoming.RefID(r.InReplyTo)
	setList(&r.Refs, f.Refs)
	set(&r.Meeting, f.Meeting)
	r.Meeting = Minutes.RefID(r.Meeting)
	setList(&r.Attendees, f.Attendees)
	setList(&r.Apologies, f.Apologies)
	setList(&r.Agenda, f.Agenda)
	set(&r.Confidentiality, f.Confidentiality)
}

// validate checks r's content and returns every problem at once, so a form can
// show them all beside their fields.
func (r *Record) validate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	checkText := func(field, v string, max int) {
		if !utf8.ValidString(v) {
			add(field, "النص ليس UTF-8 صالحًا")
		} else if utf8.RuneCountInString(v) > max {
			add(field, fmt.Sprintf("النص أطول من %d حرفًا", max))
		}
	}
	if strings.TrimSpace(r.Subject) == "" {
		add("subject", "الموضوع مطلوب")
	}
	checkText("subject", r.Subject, maxSubject)
	checkText("body", r.Body, maxBody)
	for _, f := range []struct{ name, v string }{
		{"from", r.From}, {"to", r.To}, {"committee", r.Committee}, {"reference", r.Reference},
	} {
		checkText(f.name, f.v, maxField)
	}
	for _, d := range []struct{ name, v string }{
		{"date", r.Date}, {"reference_date", r.ReferenceDate}, {"received_date", r.ReceivedDate}, {"reply_due", r.ReplyDue},
	} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			add(d.name, "التاريخ غير صالح؛ الصيغة المطلوبة YYYY-MM-DD")
		}
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"tags", r.Tags}, {"refs", r.Refs}, {"attendees", r.Attendees}, {"apologies", r.Apologies}, {"agenda", r.Agenda}} {
		if len(l.v) > maxList {
			add(l.name, fmt.Sprintf("القائمة أطول من %d عنصرًا", maxList))
		}
		for _, s := range l.v {
			checkText(l.name, s, maxField)
		}
	}
	for _, ref := range append([]string{r.InReplyTo, r.Meeting}, r.Refs...) {
		if ref == "" {
			continue
		}
		if _, _, _, err := ParseRecordID(ref); err != nil {
			add("refs", fmt.Sprintf("المرجع %q ليس رقم قيد صالحًا", ref))
		}
	}
	if r.ReplyDue != "" && r.Register != Incoming {
		add("reply_due", "موعد الرد لرسائل الوارد وحدها")
	}
	switch r.Confidentiality {
	case Normal, Confidential:
	default:
		add("confidentiality", "درجة السرية إما normal أو confidential")
	}
	return errs
}

// ValidationError carries every field problem of a rejected record.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("archive: invalid record:")
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s: %s;", f.Field, f.Message)
	}
	return b.String()
}

// Registered keeps the subject and parties exactly as they were registered.
type Registered struct {
	Subject string `json:"subject"`
	From    string `json:"from"`
	To      string `json:"to"`
}
