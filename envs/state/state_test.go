package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "nested", "wtenv"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		name                string
		stateDir, xdg, home string
		want                string
	}{
		{"explicit dir wins", "/srv/wtenv-state", "/xdg", "/home/u", "/srv/wtenv-state"},
		{"xdg state home", "", "/xdg", "/home/u", "/xdg/wtenv"},
		{"relative xdg is ignored", "", "relative/xdg", "/home/u", "/home/u/.local/state/wtenv"},
		{"home fallback", "", "", "/home/u", "/home/u/.local/state/wtenv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WTENV_STATE_DIR", tt.stateDir)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Open did not create %s: %v", dir, err)
	}
	if s.Dir != dir || s.Path() != filepath.Join(dir, "state.json") {
		t.Errorf("store paths: Dir %q Path %q", s.Dir, s.Path())
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	f, err := openTemp(t).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != Version || f.Projects == nil || len(f.Projects) != 0 {
		t.Errorf("Read of a missing file = %+v, want an empty state", f)
	}
}

func TestRoundTrip(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 15, 30, 12, 0, time.UTC)
	want := map[string]*Project{
		"shop-main-1a2b": {
			Worktree: "/src/shop", Branch: "main",
			Ports:      &PortBlock{Start: 21440, Size: 32},
			PeakMemory: 3 << 30, Reserved: 2 << 30, UpdatedAt: at,
		},
		"shop-feature-x-9f00": {Worktree: "/src/wt2", UpdatedAt: at},
	}
	err := s.Update(ctx, func(f *File) error {
		for name, p := range want {
			f.Projects[name] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != Version || !reflect.DeepEqual(got.Projects, want) {
		t.Errorf("Read after Update:\n got %+v\nwant %+v", got.Projects, want)
	}
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version": 1`, `"peak_memory_bytes"`, `"reserved_bytes"`, `"start": 21440`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("state file lacks %s:\n%s", key, raw)
		}
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(f *File) error {
		f.Projects["p"] = &Project{Worktree: "/x"}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file written after fn failed: %v", err)
	}
}

func TestReadIsSnapshot(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(f *File) error {
		f.Projects["p"] = &Project{Worktree: "/x"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap.Projects["p"].Worktree = "/changed"
	again, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Projects["p"].Worktree != "/x" {
		t.Errorf("changing a snapshot changed the state: %q", again.Projects["p"].Worktree)
	}
}

func TestNoTempFilesLeft(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range 10 {
		if err := s.Update(ctx, func(f *File) error {
			f.Projects["p"] = &Project{Reserved: int64(i)}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if want := []string{"state.json", "state.lock"}; !reflect.DeepEqual(names, want) {
		t.Errorf("state dir holds %v, want %v", names, want)
	}
}

func TestBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    error
	}{
		{"garbage", "not json at all", ErrCorrupt},
		{"truncated", `{"version": 1, "projects": {"p": {"worktree": "/x"`, ErrCorrupt},
		{"wrong type", `{"version": "one", "projects": {}}`, ErrCorrupt},
		{"empty file", "", ErrCorrupt},
		{"newer version", `{"version": 99, "projects": {}}`, ErrNewerVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := s.Read(context.Background())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), s.Path()) {
				t.Errorf("error %q does not name the file", err)
			}
			if tt.want == ErrCorrupt && !strings.Contains(err.Error(), "safe to delete") {
				t.Errorf("error %q does not say the file can be deleted", err)
			}
			err = s.Update(context.Background(), func(*File) error { return nil })
			if !errors.Is(err, tt.want) {
				t.Fatalf("Update = %v, want %v", err, tt.want)
			}
			if b, _ := os.ReadFile(s.Path()); string(b) != tt.content {
				t.Errorf("Update overwrote a bad state file with %q", b)
			}
		})
	}
}

func TestNullProjectsBecomeEmpty(t *testing.T) {
	s := openTemp(t)
	if err := os.WriteFile(s.Path(), []byte(`{"version": 1, "projects": null}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.Update(context.Background(), func(f *File) error {
		f.Projects["p"] = &Project{Worktree: "/x"} // panics on a nil map
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	s := openTemp(t)
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(context.Background(), func(*File) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Update(ctx, func(*File) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update while locked = %v, want context.DeadlineExceeded", err)
	}
	if _, err := s.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read while locked = %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Once released, the lock is free again.
	if _, err := s.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
}
