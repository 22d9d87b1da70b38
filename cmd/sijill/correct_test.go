package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/s3/s3test"
)

// TestTextCorrection: a secretary corrects the text read from a scan
// through one process; search on another process of the same bucket finds
// the corrected word, and after a second correction finds the new word and
// no longer the old one. The machine's text is kept, every correction is
// audited and kept in the record's history; a reader cannot correct, an
// empty text is refused, an annulled entry's text stays as it is.
func TestTextCorrection(t *testing.T) {
	cfg := minio.Config(s3test.BucketName())
	env := s3Env(cfg)
	a := startProc(t, t.TempDir(), env)
	b := startProc(t, t.TempDir(), env)
	adminA, adminB := login(t, a.base, "admin", adminPassword), login(t, b.base, "admin", adminPassword)

	var rec record
	if st := adminA.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة بخط اليد", "from": "فرع الجديدة"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if resp, body := adminA.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"note.pdf": pdf}); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var got record
	adminA.call("GET", "/api/v1/records/"+rec.ID, nil, nil, &got)
	sum := got.Attachments[0].SHA256
	textPath := "/api/v1/records/" + rec.ID + "/attachments/" + sum + "/text"

	// found waits until process b's search for q finds the record (or
	// stops finding it), with a ceiling that only catches a hang.
	found := func(q string, want bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for slices.Contains(searchOn(b.base, adminB.token, q), rec.ID) != want {
			if time.Now().After(deadline) {
				t.Fatalf("process b's search for %q: found %v after a minute, want %v", q, !want, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var view struct {
		Text       string
		Correction *struct{ SHA256, By string }
	}
	if st := adminA.call("PUT", textPath, map[string]string{"text": "رسالة من فرع الجديدة إلى اللجنة الزعفرانية"}, nil, nil); st != 200 {
		t.Fatalf("correct: %d", st)
	}
	found("الزعفرانية", true)
	if st := adminB.call("GET", textPath, nil, nil, &view); st != 200 || view.Correction == nil || view.Correction.By != "admin" {
		t.Fatalf("the text on process b: %d %+v", st, view)
	}
	if st := adminA.call("PUT", textPath, map[string]string{"text": "رسالة من فرع الجديدة إلى اللجنة البنفسجية"}, nil, nil); st != 200 {
		t.Fatalf("correct again: %d", st)
	}
	found("البنفسجية", true)
	found("الزعفرانية", false)

	// The machine's text is apart: a new reading of the file (sijill
	// reindex --ocr) is kept as the machine's and does not undo the
	// correction, which search goes on reading.
	store := openS3Store(t, cfg)
	if err := store.PutText(t.Context(), sum, "قراءة آلية جديدة"); err != nil {
		t.Fatal(err)
	}
	if text, ok, err := store.Text(t.Context(), sum); err != nil || !ok || text != "قراءة آلية جديدة" {
		t.Errorf("the machine's text: %q, %v, %v", text, ok, err)
	}
	if st := adminB.call("GET", textPath, nil, nil, &view); st != 200 || view.Text != "رسالة من فرع الجديدة إلى اللجنة البنفسجية" {
		t.Errorf("after a new machine reading the file's text is %q, want the correction", view.Text)
	}
	// The first correction is in the history, both are audited.
	var hist struct{ Versions []json.RawMessage }
	adminA.call("GET", "/api/v1/records/"+rec.ID+"/history", nil, nil, &hist)
	if len(hist.Versions) != 3 || !strings.Contains(string(hist.Versions[2]), `"text_correction"`) {
		t.Errorf("history holds %d earlier versions, want the registration, the upload and the first correction", len(hist.Versions))
	}
	var audit struct {
		Events []struct{ Action, Detail string }
	}
	adminA.call("GET", "/api/v1/audit?target="+rec.ID, nil, nil, &audit)
	n := 0
	for _, e := range audit.Events {
		if e.Action == "record.correct_text" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the audit trail holds %d text corrections, want 2: %+v", n, audit.Events)
	}

	var e apiError
	if st := adminA.call("PUT", textPath, map[string]string{"text": "  \n "}, nil, &e); st != 400 {
		t.Errorf("an empty correction: %d %+v, want 400", st, e)
	}
	if st := adminA.call("POST", "/api/v1/users", map[string]string{"username": "qari", "password": "a long and private phrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, a.base, "qari", "a long and private phrase")
	if st := reader.call("PUT", textPath, map[string]string{"text": "تلاعب"}, nil, &e); st != 403 {
		t.Errorf("a reader's correction: %d, want 403", st)
	}
	if st := adminA.call("POST", "/api/v1/records/"+rec.ID+"/annul", map[string]string{"reason": "مكررة"}, nil, nil); st != 200 {
		t.Fatalf("annul: %d", st)
	}
	if st := adminA.call("PUT", textPath, map[string]string{"text": "بعد الإلغاء"}, nil, &e); st != 409 {
		t.Errorf("correcting an annulled entry's text: %d %+v, want 409", st, e)
	}
}
