package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// statusOf is the one place where domain error codes become HTTP statuses.
func statusOf(code string) int {
	switch code {
	case archive.EINVALID:
		return http.StatusBadRequest
	case archive.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case archive.EFORBIDDEN:
		return http.StatusForbidden
	case archive.ENOTFOUND:
		return http.StatusNotFound
	case archive.ECONFLICT:
		return http.StatusConflict
	case archive.EPRECONDITION:
		return http.StatusPreconditionFailed
	case archive.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case archive.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case archive.ETOOMANY:
		return http.StatusTooManyRequests
	case archive.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case archive.EUNKNOWN:
		// Not 503, which promises that nothing was written: the storage
		// took the write and did not answer.
		return http.StatusGatewayTimeout
	case archive.ESTORAGEFULL:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error  string               `json:"error"`
	Code   string               `json:"code"`
	Fields []archive.FieldError `json:"fields,omitempty"`
}

// errorHandler answers every error of an API handler as JSON. Internal errors
// are logged with their details and shown to the caller only as "internal error".
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	// A request refused before its streamed body was read (a bad token, storage
	// down while the token is checked) must not leave the body on the connection.
	drain(c)
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == http.StatusBadGateway {
		// Fiber's name for a connection that failed while its request was
		// read (the client went away, or the server is shutting down):
		// nobody to answer, and nothing wrong with the server.
		s.log.Debug("connection ended while its request was read", "err", err)
		c.Context().SetConnectionClose()
		return nil
	}
	if errors.As(err, &fe) {
		code := archive.EINVALID
		switch fe.Code {
		case http.StatusNotFound:
			code = archive.ENOTFOUND
		case http.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case http.StatusRequestEntityTooLarge:
			code = archive.ETOOLARGE
		case http.StatusTooManyRequests:
			code = archive.ETOOMANY
		case http.StatusForbidden:
			code = archive.EFORBIDDEN
		}
		if fe.Code >= 500 {
			s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
			return c.Status(fe.Code).JSON(errorBody{Error: "internal error", Code: archive.EINTERNAL})
		}
		return c.Status(fe.Code).JSON(errorBody{Error: fe.Message, Code: code})
	}
	code := archive.ErrorCode(err)
	status := statusOf(code)
	body := errorBody{Error: archive.ErrorMessage(err), Code: code}
	var ve *archive.ValidationError
	if errors.As(err, &ve) {
		body.Fields = ve.Fields
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.UserContext(), level, "request error", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	if status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	return c.Status(status).JSON(body)
}
