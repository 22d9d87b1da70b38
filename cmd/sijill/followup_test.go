package main

import (
	"context"
	"testing"

	"github.com/sijill/sijill/archive"
)

// decision registers a decision for a matrix case about follow-up.
func (f *matrixFixture) decision(t *testing.T, confidential bool) string {
	t.Helper()
	fl := archive.Fields{Subject: ptr("تكليف أمين المال بإعداد الميزانية")}
	if confidential {
		fl.Confidentiality = ptr(archive.Confidential)
	}
	rec, _, err := f.m.Store.Create(context.Background(), "admin", archive.Decisions, fl, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}
