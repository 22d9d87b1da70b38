// Package buckettest is the conformance suite every archive.Bucket passes. The
// Store's guarantees (gapless numbering, compare-and-swap updates, nothing half
// written) rest on the Bucket contract, so each implementation runs this one
// suite against its real storage:
//
//	func TestBucket(t *testing.T) {
//		buckettest.Test(t, func(t *testing.T) archive.Bucket { ... a fresh, empty bucket ... })
//	}
//
// TestShared runs the races across two Bucket values on the same storage.
package buckettest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sijill/sijill/archive"
)

// Test runs the suite. newBucket returns a fresh, empty bucket for each subtest;
// it registers its own cleanup with t.
func Test(t *testing.T, newBucket func(t *testing.T) archive.Bucket) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b archive.Bucket)
	}{
		{"Missing", testMissing},
		{"RoundTrip", testRoundTrip},
		{"PutOverwrites", testPutOverwrites},
		{"CreateExisting", testCreateExisting},
		{"CreateRace", func(t *testing.T, b archive.Bucket) { testCreateRace(t, b, b) }},
		{"Replace", testReplace},
		{"ReplaceRace", func(t *testing.T, b archive.Bucket) { testReplaceRace(t, b, b) }},
		{"ETagChanges", testETagChanges},
		{"ETagSameSize", testETagSameSize},
		{"InvalidKeys", testInvalidKeys},
		{"FailedWrite", testFailedWrite},
		{"List", testList},
		{"ListStops", testListStops},
		{"Delete", testDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newBucket(t))
		})
	}
}

// TestShared runs the races of the suite across two Bucket values opened
// independently on the same storage, as two Sijill processes sharing it would:
// exactly one of 32 Creates of a key wins, exactly one of 16 Replaces of a
// version, and what one writes the other reads. newPair returns the two
// Buckets over one fresh, empty storage.
func TestShared(t *testing.T, newPair func(t *testing.T) (archive.Bucket, archive.Bucket)) {
	t.Run("CreateRace", func(t *testing.T) {
		a, b := newPair(t)
		testCreateRace(t, a, b)
	})
	t.Run("ReplaceRace", func(t *testing.T) {
		a, b := newPair(t)
		testReplaceRace(t, a, b)
	})
	t.Run("Visible", func(t *testing.T) {
		a, b := newPair(t)
		ctx := context.Background()
		info, err := a.Create(ctx, "records/incoming/2026/000001.json", strings.NewReader("one"), 3)
		if err != nil {
			t.Fatal(err)
		}
		got, ginfo := read(t, b, "records/incoming/2026/000001.json")
		mustEqual(t, "read through the other Bucket", got, []byte("one"))
		if ginfo.ETag != info.ETag {
			t.Errorf("ETag through the other Bucket %q, writer got %q", ginfo.ETag, info.ETag)
		}
		if _, err := b.Replace(ctx, "records/incoming/2026/000001.json", info.ETag, strings.NewReader("uno"), 3); err != nil {
			t.Fatalf("Replace through the other Bucket with the writer's ETag: %v", err)
		}
		if _, err := a.Replace(ctx, "records/incoming/2026/000001.json", info.ETag, strings.NewReader("eins"), 4); !errors.Is(err, archive.ErrPrecondition) {
			t.Errorf("Replace with an ETag the other Bucket made stale: err = %v, want ErrPrecondition", err)
		}
		var keys []string
		if err := b.List(ctx, "records/", func(oi archive.ObjectInfo) error { keys = append(keys, oi.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, []string{"records/incoming/2026/000001.json"}) {
			t.Errorf("List through the other Bucket: %q", keys)
		}
	})
}

// content returns n deterministic pseudo-random bytes, different per seed.
func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5111111))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// stream hides everything but Read, as an upload from the network would.
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// failing yields n bytes of data and then fails, like a client that hangs up.
type failing struct {
	data []byte
	n    int
}

var errSource = errors.New("buckettest: the source failed")

func (f *failing) Read(p []byte) (int, error) {
	if f.n >= len(f.data) {
		return 0, errSource
	}
	k := copy(p, f.data[f.n:])
	f.n += k
	return k, nil
}

func read(t *testing.T, b archive.Bucket, key string) ([]byte, archive.ObjectInfo) {
	t.Helper()
	rc, info, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): reading: %v", key, err)
	}
	return data, info
}

// mustEqual compares stored bytes without printing megabytes on failure.
func mustEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x)",
			what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func put(t *testing.T, b archive.Bucket, key string, data []byte) archive.ObjectInfo {
	t.Helper()
	info, err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func testMissing(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	if rc, _, err := b.Get(ctx, "records/incoming/2026/000001.json"); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Get of a missing key: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := b.Stat(ctx, "records/incoming/2026/000001.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing key: err = %v, want fs.ErrNotExist", err)
	}
	// A key whose "directory" exists is still missing.
	put(t, b, "a/b/c", []byte("x"))
	for _, key := range []string{"a/b", "a/b/c/d", "a/b/cd"} {
		if _, err := b.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) next to a/b/c: err = %v, want fs.ErrNotExist", key, err)
		}
	}
}

func testRoundTrip(t *testing.T, b archive.Bucket) {
	type writeFunc func(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error)
	writes := []struct {
		name  string
		write writeFunc
	}{
		{"Put", b.Put},
		{"Create", b.Create},
	}
	sizes := []struct {
		name    string
		n       int
		unknown bool // size -1, a stream without Seek
	}{
		{"empty", 0, false},
		{"empty-stream", 0, true},
		{"small", 1234, false},
		{"small-stream", 1234, true},
		{"20MB-stream", 20 << 20, true},
	}
	ctx := context.Background()
	for i, w := range writes {
		for j, sz := range sizes {
			t.Run(w.name+"/"+sz.name, func(t *testing.T) {
				key := fmt.Sprintf("round/%s/%s.bin", strings.ToLower(w.name), sz.name)
				data := content(uint64(i*100+j), sz.n)
				var r io.Reader = bytes.NewReader(data)
				size := int64(sz.n)
				if sz.unknown {
					r, size = stream{r}, -1
				}
				info, err := w.write(ctx, key, r, size)
				if err != nil {
					t.Fatalf("%s(%q, %d bytes, size %d): %v", w.name, key, sz.n, size, err)
				}
				if info.Key != key || info.Size != int64(sz.n) || info.ETag == "" {
					t.Errorf("%s returned %+v, want key %q, size %d and an ETag", w.name, info, key, sz.n)
				}
				if strings.Contains(info.ETag, `"`) {
					t.Errorf("ETag %s is quoted", info.ETag)
				}
				got, ginfo := read(t, b, key)
				mustEqual(t, "Get after "+w.name, got, data)
				if ginfo.Size != int64(sz.n) || ginfo.ETag != info.ETag || ginfo.Key != key {
					t.Errorf("Get info = %+v, want size %d, ETag %q, key %q", ginfo, sz.n, info.ETag, key)
				}
				st, err := b.Stat(ctx, key)
				if err != nil {
					t.Fatalf("Stat: %v", err)
				}
				if st.Size != int64(sz.n) || st.ETag != info.ETag || st.Key != key || st.LastModified.IsZero() {
					t.Errorf("Stat = %+v, want size %d, ETag %q, key %q and a modification time", st, sz.n, info.ETag, key)
				}
			})
		}
	}
}

func testPutOverwrites(t *testing.T, b archive.Bucket) {
	first := put(t, b, "tmp/hint", []byte("41"))
	second := put(t, b, "tmp/hint", []byte("42"))
	got, info := read(t, b, "tmp/hint")
	mustEqual(t, "after the second Put", got, []byte("42"))
	if info.ETag != second.ETag || second.ETag == first.ETag {
		t.Errorf("ETags: first Put %q, second %q, Get %q; want Get = second != first", first.ETag, second.ETag, info.ETag)
	}
}

func testCreateExisting(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	key := "records/outgoing/2026/000007.json"
	first := []byte(`{"number":7,"subject":"first"}`)
	info, err := b.Create(ctx, key, bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatalf("first Create: %v", err)
	}
	for _, size := range []int64{-1, 27} {
		second := []byte(`{"number":7,"subject":"2nd"}`)[:27]
		var r io.Reader = bytes.NewReader(second)
		if size < 0 {
			r = stream{r}
		}
		if _, err := b.Create(ctx, key, r, size); !errors.Is(err, fs.ErrExist) {
			t.Errorf("second Create (size %d): err = %v, want fs.ErrExist", size, err)
		}
	}
	// The same bytes again are still a second create.
	if _, err := b.Create(ctx, key, bytes.NewReader(first), int64(len(first))); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create with identical content: err = %v, want fs.ErrExist", err)
	}
	got, ginfo := read(t, b, key)
	mustEqual(t, "after refused Creates", got, first)
	if ginfo.ETag != info.ETag {
		t.Errorf("ETag changed from %q to %q by refused Creates", info.ETag, ginfo.ETag)
	}
}

// testCreateRace has writers alternate between the Buckets in bs.
func testCreateRace(t *testing.T, bs ...archive.Bucket) {
	const writers = 32
	ctx := context.Background()
	key := "records/decisions/2026/000001.json"
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   = make([]error, writers)
		bodies = make([][]byte, writers)
	)
	for i := range writers {
		bodies[i] = []byte(fmt.Sprintf(`{"number":1,"writer":%d}`, i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = bs[i%len(bs)].Create(ctx, key, bytes.NewReader(bodies[i]), int64(len(bodies[i])))
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("writers %d and %d both created %s", winner, i, key)
			}
			winner = i
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("writer %d: err = %v, want nil or fs.ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer created %s", key)
	}
	got, _ := read(t, bs[len(bs)-1], key)
	mustEqual(t, "stored content", got, bodies[winner])
}

func testReplace(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	key := "records/minutes/2026/000003.json"
	v1 := put(t, b, key, []byte("version 1"))

	v2, err := b.Replace(ctx, key, v1.ETag, strings.NewReader("version 2"), 9)
	if err != nil {
		t.Fatalf("Replace with the current ETag: %v", err)
	}
	if v2.ETag == "" || v2.ETag == v1.ETag || v2.Size != 9 {
		t.Errorf("Replace returned %+v, want size 9 and an ETag other than %q", v2, v1.ETag)
	}
	got, info := read(t, b, key)
	mustEqual(t, "after Replace", got, []byte("version 2"))
	if info.ETag != v2.ETag {
		t.Errorf("Get ETag %q, Replace returned %q", info.ETag, v2.ETag)
	}

	for _, size := range []int64{9, -1} {
		var r io.Reader = strings.NewReader("version 3")
		if size < 0 {
			r = stream{r}
		}
		if _, err := b.Replace(ctx, key, v1.ETag, r, size); !errors.Is(err, archive.ErrPrecondition) {
			t.Errorf("Replace with a stale ETag (size %d): err = %v, want ErrPrecondition", size, err)
		}
	}
	got, info = read(t, b, key)
	mustEqual(t, "after stale Replaces", got, []byte("version 2"))
	if info.ETag != v2.ETag {
		t.Errorf("ETag changed from %q to %q by stale Replaces", v2.ETag, info.ETag)
	}

	v4, err := b.Replace(ctx, key, v2.ETag, stream{strings.NewReader("version 4, longer")}, -1)
	if err != nil {
		t.Fatalf("Replace of a stream with the current ETag: %v", err)
	}
	if v4.Size != 17 {
		t.Errorf("Replace of a stream returned size %d, want 17", v4.Size)
	}
	got, _ = read(t, b, key)
	mustEqual(t, "after Replace of a stream", got, []byte("version 4, longer"))

	if _, err := b.Replace(ctx, "records/minutes/2026/000004.json", v1.ETag, strings.NewReader("x"), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Replace of a missing key: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := b.Stat(ctx, "records/minutes/2026/000004.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Replace of a missing key created it: Stat err = %v", err)
	}
}

// testReplaceRace has writers alternate between the Buckets in bs.
func testReplaceRace(t *testing.T, bs ...archive.Bucket) {
	const writers = 16
	ctx := context.Background()
	key := "records/incoming/2026/000009.json"
	base := put(t, bs[0], key, []byte("base"))
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, writers)
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := fmt.Sprintf("writer %d", i)
			_, errs[i] = bs[i%len(bs)].Replace(ctx, key, base.ETag, strings.NewReader(body), int64(len(body)))
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("writers %d and %d both replaced the same version", winner, i)
			}
			winner = i
		case !errors.Is(err, archive.ErrPrecondition):
			t.Errorf("writer %d: err = %v, want nil or ErrPrecondition", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer replaced the object")
	}
	got, _ := read(t, bs[len(bs)-1], key)
	mustEqual(t, "stored content", got, []byte(fmt.Sprintf("writer %d", winner)))
}

func testETagChanges(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	seen := map[string]int{}
	for i, body := range []string{"a", "b", "ab", "", "some longer content"} {
		info := put(t, b, "etag/key", []byte(body))
		st, err := b.Stat(ctx, "etag/key")
		if err != nil {
			t.Fatal(err)
		}
		if st.ETag != info.ETag {
			t.Errorf("content %d: Put returned ETag %q, Stat %q", i, info.ETag, st.ETag)
		}
		if j, ok := seen[st.ETag]; ok {
			t.Errorf("contents %d and %d have the same ETag %q", j, i, st.ETag)
		}
		seen[st.ETag] = i
	}
}

// testETagSameSize rewrites one key many times in quick succession with
// contents of equal length: an ETag made of size and a coarse timestamp (or a
// recycled inode number) would repeat, and a stale Replace would then succeed
// and lose an update.
func testETagSameSize(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	const rounds = 40
	key := "records/incoming/2026/000005.json"
	first := put(t, b, key, []byte("version 00"))
	seen := map[string]int{first.ETag: 0}
	cur := first
	for i := 1; i < rounds; i++ {
		body := fmt.Sprintf("version %02d", i)
		var err error
		if i%2 == 0 {
			cur, err = b.Replace(ctx, key, cur.ETag, strings.NewReader(body), int64(len(body)))
		} else {
			cur, err = b.Put(ctx, key, strings.NewReader(body), int64(len(body)))
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if j, ok := seen[cur.ETag]; ok {
			t.Errorf("writes %d and %d of different content have the same ETag %q", j, i, cur.ETag)
		}
		seen[cur.ETag] = i
	}
	if _, err := b.Replace(ctx, key, first.ETag, strings.NewReader("stale 0000"), 10); !errors.Is(err, archive.ErrPrecondition) {
		t.Errorf("Replace with the first of %d ETags: err = %v, want ErrPrecondition", rounds, err)
	}
	got, _ := read(t, b, key)
	mustEqual(t, "after the stale Replace", got, []byte(fmt.Sprintf("version %02d", rounds-1)))
}

// testInvalidKeys checks that keys outside the contract (archive.ValidKey) are
// refused by every write, so no implementation stores what another cannot.
func testInvalidKeys(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for _, key := range []string{"", "/records/x", "records//x", "records/x/", "records/.hidden", "records/../x", "records/é", "records/a b", `records\x`} {
		if archive.ValidKey(key) {
			t.Fatalf("archive.ValidKey(%q) = true; the suite expected it invalid", key)
		}
		if _, err := b.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", key)
		}
		if _, err := b.Create(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Create(%q) succeeded, want an error", key)
		}
	}
	n := 0
	if err := b.List(ctx, "", func(archive.ObjectInfo) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("after refused writes List found %d objects (err %v), want none", n, err)
	}
}

// testFailedWrite checks that a write whose source fails leaves nothing behind:
// no new object, and an existing one unchanged.
func testFailedWrite(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	data := content(7, 20<<20)
	cases := []struct {
		name  string
		n     int   // bytes delivered before the failure
		size  int64 // size announced
		short bool  // the source ends early instead of failing
	}{
		{"small-stream", 100, -1, false},
		{"small-sized", 100, 1000, false},
		{"large-stream", 18 << 20, -1, false},
		{"shorter-than-size", 100, 1000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := func() io.Reader {
				if tc.short {
					return stream{bytes.NewReader(data[:tc.n])}
				}
				return &failing{data: data[:tc.n]}
			}
			key := "failed/" + tc.name
			if _, err := b.Put(ctx, key, src(), tc.size); err == nil {
				t.Error("Put from a failing source succeeded")
			}
			if _, err := b.Create(ctx, key, src(), tc.size); err == nil {
				t.Error("Create from a failing source succeeded")
			}
			if _, err := b.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after failed writes: Stat err = %v, want fs.ErrNotExist", err)
			}
			old := put(t, b, key, []byte("kept"))
			if _, err := b.Put(ctx, key, src(), tc.size); err == nil {
				t.Error("Put over an object from a failing source succeeded")
			}
			if _, err := b.Replace(ctx, key, old.ETag, src(), tc.size); err == nil {
				t.Error("Replace from a failing source succeeded")
			}
			got, info := read(t, b, key)
			mustEqual(t, "after failed overwrites", got, []byte("kept"))
			if info.ETag != old.ETag {
				t.Errorf("ETag changed from %q to %q by failed writes", old.ETag, info.ETag)
			}
		})
	}
}

func testList(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	keys := []string{
		"records/incoming/2026/000002.json",
		"records/incoming/2026/000010.json",
		"records/incoming/2026/000001.json",
		"records/incoming/2025/000001.json",
		"records/incoming-old/x",
		"records/outgoing/2026/000001.json",
		"records/incoming.hint",
		"blobs/sha256/ab/ab01",
		"blobs/sha256/0f/0f99",
		// Byte order, not directory order: '-' < '.' < '/' < '0' < '_'.
		// (No key is also a "directory" of another: a folder cannot hold both.)
		"a-b",
		"a-B",
		"a.b",
		"a/b",
		"a_b",
		"a0",
	}
	infos := map[string]archive.ObjectInfo{}
	for i, k := range keys {
		infos[k] = put(t, b, k, content(uint64(i), i*10))
	}
	list := func(prefix string) []string {
		t.Helper()
		var got []string
		err := b.List(ctx, prefix, func(oi archive.ObjectInfo) error {
			want := infos[oi.Key]
			if oi.Size != want.Size || oi.ETag != want.ETag || oi.LastModified.IsZero() {
				t.Errorf("List(%q) gave %+v, want size %d, ETag %q and a modification time", prefix, oi, want.Size, want.ETag)
			}
			got = append(got, oi.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		return got
	}
	want := func(prefix string) []string {
		var w []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				w = append(w, k)
			}
		}
		slices.Sort(w)
		return w
	}
	for _, prefix := range []string{
		"",
		"records/",
		"records/incoming/",
		"records/incoming",
		"records/incoming/2026/",
		"records/incoming/2026/00000",
		"blobs/sha256/",
		"a",
		"a-",
		"a/",
		"nothing/",
		"records/incoming/2026/000001.json",
	} {
		got, w := list(prefix), want(prefix)
		if !slices.Equal(got, w) {
			t.Errorf("List(%q):\n got %q\nwant %q", prefix, got, w)
		}
	}
	// ListFrom: the same listing, from the first key after a start that may
	// or may not be a key, may fall inside or outside a "directory", or
	// before or after everything.
	for _, tc := range []struct{ prefix, after string }{
		{"", ""},
		{"records/", "records/incoming/2026/000001.json"},
		{"records/", "records/incoming/2026/000003"},
		{"records/", "records/incoming/"},
		{"records/", "records/incoming"},
		{"records/", "records/incoming-old/x"},
		{"records/", "records/incoming.hint"},
		{"records/incoming/", "records/incoming/2025/999999"},
		{"records/", "records/z"},
		{"records/", "a"},
		{"", "a."},
		{"", "a/b"},
		{"blobs/", "blobs/sha256/ab"},
	} {
		var got []string
		err := b.ListFrom(ctx, tc.prefix, tc.after, func(oi archive.ObjectInfo) error {
			got = append(got, oi.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("ListFrom(%q, %q): %v", tc.prefix, tc.after, err)
		}
		var w []string
		for _, k := range want(tc.prefix) {
			if k > tc.after {
				w = append(w, k)
			}
		}
		if !slices.Equal(got, w) {
			t.Errorf("ListFrom(%q, %q):\n got %q\nwant %q", tc.prefix, tc.after, got, w)
		}
	}
}

func testListStops(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for i := range 10 {
		put(t, b, fmt.Sprintf("stop/%02d", i), []byte{byte(i)})
	}
	errStop := errors.New("enough")
	var seen []string
	err := b.List(ctx, "stop/", func(oi archive.ObjectInfo) error {
		seen = append(seen, oi.Key)
		if len(seen) == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if want := []string{"stop/00", "stop/01", "stop/02"}; !slices.Equal(seen, want) {
		t.Errorf("List called back with %q, want %q and then stop", seen, want)
	}
	// The bucket still works after an abandoned listing.
	n := 0
	if err := b.List(ctx, "stop/", func(archive.ObjectInfo) error { n++; return nil }); err != nil || n != 10 {
		t.Errorf("second List: %d objects, err %v; want 10, nil", n, err)
	}
}

func testDelete(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	if err := b.Delete(ctx, "tmp/never-written"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
	put(t, b, "tmp/upload-1", []byte("partial"))
	put(t, b, "tmp/upload-10", []byte("other"))
	if err := b.Delete(ctx, "tmp/upload-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Stat(ctx, "tmp/upload-1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Delete: err = %v, want fs.ErrNotExist", err)
	}
	if got, _ := read(t, b, "tmp/upload-10"); string(got) != "other" {
		t.Errorf("Delete of tmp/upload-1 touched tmp/upload-10: %q", got)
	}
	if err := b.Delete(ctx, "tmp/upload-1"); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
	// A deleted key can be created again.
	if _, err := b.Create(ctx, "tmp/upload-1", strings.NewReader("again"), 5); err != nil {
		t.Errorf("Create after Delete: %v", err)
	}
}
