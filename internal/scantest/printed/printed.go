// Package printed prints the Arabic pages that text extraction is tested
// and measured on, with the render package: a record print, born-digital, or
// rasterised and spoiled like a scan by scantest.
package printed

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/internal/scantest"
	"github.com/sijill/sijill/render"
)

// PDF renders a record with subject and body as the record print: a
// born-digital Arabic PDF with a text layer.
func PDF(ctx context.Context, subject, body string) ([]byte, error) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rec := &archive.Record{ID: "incoming-2026-1", Register: archive.Incoming, Year: 2026, Number: 1, Subject: subject,
		Body: body, From: "وزارة الداخلية", Confidentiality: archive.Normal, Status: archive.StatusActive,
		CreatedAt: now, CreatedBy: "admin", Version: 1}
	var buf bytes.Buffer
	if err := render.RecordPrint(ctx, &buf, render.PrintOptions{Organisation: "أمانة السر", Now: now}, rec); err != nil {
		return nil, fmt.Errorf("printed: print: %w", err)
	}
	return buf.Bytes(), nil
}

// ScanPNG prints subject and body, rasterises the page at 300 dpi and spoils
// it like a scanner would (1.5 degrees of skew, grey noise, 0.3% speckles): the
// PNG a secretary's scanner might send.
func ScanPNG(ctx context.Context, subject, body string, seed uint64) ([]byte, error) {
	pdf, err := PDF(ctx, subject, body)
	if err != nil {
		return nil, err
	}
	page, err := scantest.Page(ctx, pdf, 300)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, scantest.Spoil(scantest.Trim(page, 90), 1.5, 40, 0.003, seed)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
