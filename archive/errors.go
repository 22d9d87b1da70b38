// Package archive is Sijill's domain: registers, records, attachments, official
// numbering and the audit trail, kept in a Bucket that is the single source of truth.
//
// archive imports none of Sijill's other packages; the index, the printer and the
// web server depend on it, never the other way round.
package archive

import (
	"errors"
	"fmt"
)

// Error codes. Each becomes an HTTP status in one place only (web), so the domain
// never speaks HTTP and the web layer never guesses what went wrong.
const (
	EINVALID      = "invalid"         // the caller's input is wrong; the message says how
	ENOTFOUND     = "not_found"       // no such record, attachment, user or register
	ECONFLICT     = "conflict"        // the operation clashes with the current state
	EPRECONDITION = "precondition"    // a stale ETag: someone else changed the record first
	EUNAUTHORIZED = "unauthorized"    // no valid credentials
	EFORBIDDEN    = "forbidden"       // valid credentials, not allowed
	ETOOLARGE     = "too_large"       // an upload above the configured limit
	EUNSUPPORTED  = "unsupported"     // a file type Sijill does not accept
	EUNAVAILABLE  = "unavailable"     // storage cannot be reached; retry later, nothing was written
	EUNKNOWN      = "outcome_unknown" // storage took the write but never answered: it may or may not be done
	ESTORAGEFULL  = "storage_full"    // storage has no space left; nothing was written
	ETOOMANY      = "too_many"        // throttled
	EINTERNAL     = "internal"        // a bug or an unexpected state; details only in the log
)

// Error is a failure with a code that callers can act on and a message that is
// safe to show to a user. Internal details travel in Err and are only logged.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("archive: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("archive: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil. Storage failures that a Bucket reports with
// ErrUnavailable or ErrNoSpace map to EUNAVAILABLE and ESTORAGEFULL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	var v *ValidationError
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &v):
		return EINVALID
	case errors.Is(err, ErrOutcomeUnknown):
		return EUNKNOWN
	case errors.Is(err, ErrUnavailable):
		return EUNAVAILABLE
	case errors.Is(err, ErrNoSpace):
		return ESTORAGEFULL
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, hiding internal details.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return "البيانات غير صالحة"
	}
	switch ErrorCode(err) {
	case EUNAVAILABLE:
		return "storage is unavailable; nothing was written, try again shortly"
	case EUNKNOWN:
		return "storage did not answer in time: the change may or may not have been saved. " +
			"Retry with the same Idempotency-Key (a registration) or reload the record (an edit); " +
			"a retry without a key may register the letter twice"
	case ESTORAGEFULL:
		return "storage is full; nothing was written"
	}
	return "internal error"
}
