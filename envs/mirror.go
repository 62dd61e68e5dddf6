package envs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/gofrs/flock"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/filesync"
)

// On an engine that cannot see this machine's files (a remote one), bind
// mounts of folders inside the worktree become volumes on that engine
// holding a copy, refreshed with what changed before each up and test
// run, so the stack runs the code on this machine.

// mirror is one folder of the worktree copied into a volume.
type mirror struct {
	dir string // absolute folder on this machine
	key string // the volume's key in the project
}

// mirrorKey is the project volume key of the copy of folder rel.
func mirrorKey(rel string) string {
	sum := sha256.Sum256([]byte(filepath.ToSlash(rel)))
	return "wtenv-src-" + hex.EncodeToString(sum[:4])
}

// mirrorMounts rewrites, on a remote engine, every bind mount in p's
// services (those up starts and the others) whose source is inside the
// worktree into a volume of the project holding a copy, and returns the
// copies to make. On a local engine it changes nothing.
func (e *Env) mirrorMounts(ctx context.Context, p *types.Project) ([]mirror, error) {
	if e.Local() {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []mirror
	var ferr error
	rewrite := func(s types.ServiceConfig) types.ServiceConfig {
		var vols []types.ServiceVolumeConfig
		for _, v := range s.Volumes {
			rel, err := filepath.Rel(e.Worktree.Root, v.Source)
			if v.Type != types.VolumeTypeBind || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				vols = append(vols, v) // outside the worktree: left as written
				continue
			}
			if info, err := os.Stat(v.Source); err == nil && !info.IsDir() {
				// One file: written into the container before each
				// start, as an inline config is.
				if err := copyFile(p, &s, v, rel, info); err != nil && ferr == nil {
					ferr = err
				}
				continue
			}
			m := mirror{dir: v.Source, key: mirrorKey(rel)}
			vols = append(vols, types.ServiceVolumeConfig{Type: types.VolumeTypeVolume, Source: m.key, Target: v.Target, ReadOnly: v.ReadOnly, Volume: &types.ServiceVolumeVolume{NoCopy: true}})
			if !seen[m.key] {
				seen[m.key] = true
				out = append(out, m)
			}
		}
		s.Volumes = vols
		return s
	}
	for name, s := range p.Services {
		p.Services[name] = rewrite(s)
	}
	for name, s := range p.DisabledServices {
		p.DisabledServices[name] = rewrite(s)
	}
	if p.Volumes == nil {
		p.Volumes = types.Volumes{}
	}
	if ferr != nil {
		return nil, ferr
	}
	for _, m := range out {
		gen, err := e.mirrorGen(m.key)
		if err != nil {
			return nil, err
		}
		useCopy(p, m.key, mirrorVolume(e.Project, m.key, gen))
	}
	return out, nil
}

// copyLabel, with a copy's key, labels each service that mounts the copy
// with the volume it mounts (or, for one file, its content's hash): a new
// generation or content changes the service's configuration, so up
// recreates its container on it.
const copyLabel = "dev.wtenv.copy."

// useCopy makes p's services that mount the copy key mount volume vol.
func useCopy(p *types.Project, key, vol string) {
	p.Volumes[key] = types.VolumeConfig{Name: vol}
	label := func(s types.ServiceConfig) types.ServiceConfig {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == key {
				if s.Labels == nil {
					s.Labels = types.Labels{}
				}
				s.Labels[copyLabel+key] = vol
			}
		}
		return s
	}
	for name, s := range p.Services {
		p.Services[name] = label(s)
	}
	for name, s := range p.DisabledServices {
		p.DisabledServices[name] = label(s)
	}
}

// copyFile turns the bind mount v of one file of the worktree (at rel)
// into a config of s holding its content, which the engine writes into
// the container before each start, with the file's mode.
func copyFile(p *types.Project, s *types.ServiceConfig, v types.ServiceVolumeConfig, rel string, info os.FileInfo) error {
	data, err := os.ReadFile(v.Source)
	if err != nil {
		return fmt.Errorf("service %q: bind mount %s: %w", s.Name, v.Source, err)
	}
	sum := sha256.Sum256(data)
	key := "wtenv-file-" + mirrorKey(rel)[len("wtenv-src-"):]
	if p.Configs == nil {
		p.Configs = types.Configs{}
	}
	p.Configs[key] = types.ConfigObjConfig{Name: p.Name + "_" + key, Content: string(data)}
	mode := types.FileMode(info.Mode().Perm())
	s.Configs = append(s.Configs, types.ServiceConfigObjConfig{Source: key, Target: v.Target, Mode: &mode})
	if s.Labels == nil {
		s.Labels = types.Labels{}
	}
	s.Labels[copyLabel+key] = hex.EncodeToString(sum[:8])
	return nil
}

// mountMirror mounts a copy of the worktree at service's working
// directory, as a one-off test run has the worktree bound there.
func (e *Env) mountMirror(p *types.Project, service string) (mirror, error) {
	m := mirror{dir: e.Worktree.Root, key: mirrorKey(".")}
	gen, err := e.mirrorGen(m.key)
	if err != nil {
		return m, err
	}
	add := func(s types.ServiceConfig) types.ServiceConfig {
		for _, v := range s.Volumes {
			if v.Target == s.WorkingDir {
				return s
			}
		}
		s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{Type: types.VolumeTypeVolume, Source: m.key, Target: s.WorkingDir, Volume: &types.ServiceVolumeVolume{NoCopy: true}})
		return s
	}
	if s, ok := p.Services[service]; ok {
		p.Services[service] = add(s)
	} else if s, ok := p.DisabledServices[service]; ok {
		p.DisabledServices[service] = add(s)
	}
	if p.Volumes == nil {
		p.Volumes = types.Volumes{}
	}
	useCopy(p, m.key, mirrorVolume(e.Project, m.key, gen))
	return m, nil
}

func mirrorVolume(project, key string, gen int) string {
	return fmt.Sprintf("%s_%s-%d", project, key, gen)
}

// mirrorRecord is what this machine remembers of a copy: the volume's
// generation and token (its LabelCopy), and the files it holds.
type mirrorRecord struct {
	Gen   int               `json:"gen"`
	Token string            `json:"token"`
	Files filesync.Manifest `json:"files"`
}

// newToken is a random token for a volume about to be made.
func newToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *Env) mirrorPath(key string) string {
	return filepath.Join(filepath.Dir(e.store.Path()), "mirrors", e.Project+"-"+key+".json")
}

func (e *Env) mirrorRecord(key string) (mirrorRecord, error) {
	var r mirrorRecord
	b, err := os.ReadFile(e.mirrorPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if json.Unmarshal(b, &r) != nil {
		return mirrorRecord{}, nil // unreadable: copy everything again
	}
	return r, nil
}

func (e *Env) mirrorGen(key string) (int, error) {
	r, err := e.mirrorRecord(key)
	return r.Gen, err
}

// refresh brings each copy up to date with its folder: only what changed
// since the last copy is sent. A file gone from the folder, or a volume
// made again by someone else, makes a fresh volume (the next generation)
// filled whole, since a volume cannot lose files through the API; the
// stack's containers then follow the new volume.
func (e *Env) refresh(ctx context.Context, p *types.Project, ms []mirror, progress func(string)) error {
	eng, ok := e.engine().(filler)
	if !ok || len(ms) == 0 {
		return nil
	}
	if progress == nil {
		progress = func(string) {}
	}
	meta := e.meta(p)
	for _, m := range ms {
		if err := e.refreshOne(ctx, eng, p, meta, m, progress); err != nil {
			return err
		}
	}
	return nil
}

// refreshOne refreshes one copy, under a lock of its own: two test runs of
// one worktree at once refresh it one after the other.
func (e *Env) refreshOne(ctx context.Context, eng filler, p *types.Project, meta engine.Meta, m mirror, progress func(string)) error {
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(e.mirrorPath(m.key)), 0o755); err != nil {
		return err
	}
	lock := flock.New(e.mirrorPath(m.key) + ".lock")
	if _, err := lock.TryLockContext(ctx, 50*time.Millisecond); err != nil {
		return err
	}
	defer lock.Unlock()
	r, err := e.mirrorRecord(m.key)
	if err != nil {
		return err
	}
	cur, err := filesync.Walk(m.dir)
	if err != nil {
		return fmt.Errorf("copying %s to engine %s: %w", m.dir, e.slot().name, err)
	}
	vol := mirrorVolume(e.Project, m.key, r.Gen)
	token, err := eng.VolumeToken(ctx, vol)
	if err != nil {
		return err
	}
	changed, gone := filesync.Diff(r.Files, cur)
	fresh := token == "" || token == "-" || token != r.Token || len(gone) > 0
	if fresh {
		// A volume that cannot be trusted, or that must lose files: a
		// fresh one under the next free name, filled whole.
		for token != "" {
			r.Gen++
			vol = mirrorVolume(e.Project, m.key, r.Gen)
			if token, err = eng.VolumeToken(ctx, vol); err != nil {
				return err
			}
		}
		changed, _ = filesync.Diff(nil, cur)
		r.Token = newToken()
	}
	useCopy(p, m.key, vol)
	if len(changed) == 0 && !fresh {
		return nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(filesync.Tar(pw, m.dir, cur, changed)) }()
	token, err = eng.Fill(ctx, engine.FillOptions{Meta: meta, Volume: vol, Key: m.key, Token: r.Token, Tar: pr})
	pr.Close()
	if err != nil {
		return fmt.Errorf("copying %s to engine %s: %w", m.dir, e.slot().name, err)
	}
	progress(fmt.Sprintf("copied %d file(s) of %s to engine %s in %.2fs", len(changed), m.dir, e.slot().name, time.Since(start).Seconds()))
	if err := writeJSON(e.mirrorPath(m.key), mirrorRecord{Gen: r.Gen, Token: token, Files: cur}); err != nil {
		return err
	}
	// Earlier generations go once nothing mounts them (a container still
	// on one keeps it until up recreates it, or down --purge).
	for g := 0; g < r.Gen; g++ {
		eng.RemoveVolume(ctx, mirrorVolume(e.Project, m.key, g))
	}
	return nil
}

// filler is what refresh needs of the engine; the Docker engine has it.
type filler interface {
	Fill(ctx context.Context, o engine.FillOptions) (string, error)
	VolumeToken(ctx context.Context, name string) (string, error)
	RemoveVolume(ctx context.Context, name string) error
}

// writeJSON writes v to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".mirror-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// forgetMirrors drops what this machine remembers of the project's copies
// (down --purge removed their volumes).
func (e *Env) forgetMirrors() {
	paths, _ := filepath.Glob(filepath.Join(filepath.Dir(e.store.Path()), "mirrors", e.Project+"-wtenv-src-*.json"))
	for _, p := range paths {
		os.Remove(p)
	}
}

// Refresh brings the copy of the worktree that test runs mount on a remote
// engine up to date, as a test run does before it starts, and returns how
// many files it sent; on a local engine it does nothing.
func (e *Env) Refresh(ctx context.Context) (int, error) {
	if e.Local() {
		return 0, nil
	}
	p := &types.Project{Name: e.Project, WorkingDir: e.Worktree.Root, Volumes: types.Volumes{}}
	m := mirror{dir: e.Worktree.Root, key: mirrorKey(".")}
	sent := 0
	err := e.refresh(ctx, p, []mirror{m}, func(s string) {
		fmt.Sscanf(s, "copied %d file(s)", &sent)
	})
	return sent, err
}
