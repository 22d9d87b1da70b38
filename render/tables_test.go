package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTablesGenerated checks that the committed tables.go is what the
// generator makes from the installed Unicode data, so nobody edits it by hand
// and a Unicode update shows up as a diff.
func TestTablesGenerated(t *testing.T) {
	if _, err := os.Stat(ucdDir + "/ArabicShaping.txt"); err != nil {
		t.Fatalf("%v: install Debian package unicode-data (`make test` does)", err)
	}
	out := filepath.Join(t.TempDir(), "tables.go")
	cmd := exec.Command("go", "run", "./internal/gen", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tables.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("tables.go differs from what `go generate ./render` makes from " + ucdDir)
	}
}
