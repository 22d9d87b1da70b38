package index

import (
	"os"
	"testing"
)

func BenchmarkAnalyze(b *testing.B) {
	raw, err := os.ReadFile(corpusDir + "/minutes-general-secretariat.txt")
	if err != nil {
		b.Fatal(err)
	}
	text := raw[:2048]
	a := mustAnalyzers(b)
	b.Run("exact", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			a.exact.Analyze(text)
		}
	})
	b.Run("stemmed", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			a.stemmed.Analyze(text)
		}
	})
}
