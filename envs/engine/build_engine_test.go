package engine

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// buildFixture is a project of build services over files in a temporary
// worktree, on the real engine; whatever it builds is removed by label
// when the test ends, even when it fails.
type buildFixture struct {
	t    *testing.T
	ctx  context.Context
	eng  *Docker
	p    *types.Project
	meta Meta
	root string
	mu   sync.Mutex
	msgs []string
}

func newBuildFixture(t *testing.T, files map[string]string) *buildFixture {
	t.Helper()
	enginetest.LocalImages(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	eng, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	root := t.TempDir()
	for path, body := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	enginetest.Cleanup(t, root)
	name := "bk-" + randomHex(4)
	return &buildFixture{
		t: t, ctx: ctx, eng: eng, root: root,
		p:    &types.Project{Name: name, WorkingDir: root, Services: types.Services{}, Environment: types.Mapping{}},
		meta: Meta{Project: name, Worktree: root, Branch: "main", Version: "test", Host: "test"},
	}
}

// service adds a service building from the folder dir of the worktree.
func (f *buildFixture) service(name, image, dir string, b types.BuildConfig) {
	s := types.ServiceConfig{Name: name}
	s.Image = image
	if dir != "" {
		b.Context = filepath.Join(f.root, dir)
		s.Build = &b
	}
	f.p.Services[name] = s
}

// images obtains every service's image and keeps the progress messages.
func (f *buildFixture) images(rebuild bool) (map[string]imageRef, error) {
	return f.eng.ensureImages(f.ctx, f.p, f.meta, rebuild, func(m string) {
		f.mu.Lock()
		f.msgs = append(f.msgs, m)
		f.mu.Unlock()
	})
}

// run prints what cmd prints in a container of ref.
func (f *buildFixture) run(ref, cmd string) string {
	f.t.Helper()
	out, err := exec.Command("docker", "run", "--rm", ref, "sh", "-c", cmd).CombinedOutput()
	if err != nil {
		f.t.Fatalf("docker run %s %q: %v\n%s", ref, cmd, err, out)
	}
	return strings.TrimSpace(string(out))
}

// With BuildKit, a cache mount outlives the build (a rebuild with another
// argument sees what the first wrote into it), a heredoc runs, a secret
// from a file reaches its RUN --mount and stays out of the image, and each
// step is reported.
func TestBuildKitBuildsCacheMountsHeredocsAndSecrets(t *testing.T) {
	cacheID := "wtenv-test-" + randomHex(4)
	f := newBuildFixture(t, map[string]string{
		"app/Dockerfile": "FROM " + enginetest.BaseImage + "\n" +
			"ARG N=1\n" +
			"RUN --mount=type=cache,id=" + cacheID + ",target=/cache <<EOF\n" +
			"echo $N >> /cache/runs\n" +
			"cp /cache/runs /runs\n" +
			"EOF\n" +
			"RUN --mount=type=secret,id=token test \"$(cat /run/secrets/token)\" = s3cret && echo seen > /secret-seen\n",
		"token.txt": "s3cret",
	})
	one := "1"
	f.service("app", "", "app", types.BuildConfig{Args: types.MappingWithEquals{"N": &one}, Secrets: []types.ServiceSecretConfig{{Source: "token"}}})
	f.p.Secrets = types.Secrets{"token": {File: filepath.Join(f.root, "token.txt")}}
	if _, err := f.images(false); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(f.msgs, func(m string) bool {
		return strings.HasPrefix(m, "building app: [") && strings.Contains(m, " 2/3] RUN --mount=type=cache")
	}) {
		t.Errorf("progress %q lacks the RUN step", f.msgs)
	}
	two := "2"
	f.p.Services["app"].Build.Args["N"] = &two
	imgs, err := f.images(true)
	if err != nil {
		t.Fatal(err)
	}
	ref := imgs["app"].ref
	if got := f.run(ref, "cat /runs | tr '\\n' ' '; cat /secret-seen; ls /run/secrets 2>/dev/null | wc -l"); got != "1 2 seen\n0" {
		t.Errorf("cache runs, secret seen, secrets left in the image: %q, want %q", got, "1 2 seen\n0")
	}
}

// A dockerfile_inline builds with BuildKit (TestClassicBuilderWhenBuildKitIsOff
// builds one with the classic builder), on a context that .dockerignore
// filters.
func TestDockerfileInlineBuilds(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"app/hello.txt": "hello", "app/ignored.txt": "no", "app/.dockerignore": "ignored.txt\n"})
	f.service("app", "", "app", types.BuildConfig{DockerfileInline: "FROM " + enginetest.BaseImage + "\nCOPY . /ctx/\n"})
	imgs, err := f.images(false)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.run(imgs["app"].ref, "cat /ctx/hello.txt; ls /ctx"); got != "hello.dockerignore\nhello.txt" && got != "hellohello.txt" {
		t.Errorf("built from the inline Dockerfile on the filtered context: %q", got)
	}
}

// With DOCKER_BUILDKIT=0 the classic builder builds as before (here a
// dockerfile_inline, which travels in the context under a name of its
// own), and a Dockerfile that needs BuildKit is refused with what to do.
func TestClassicBuilderWhenBuildKitIsOff(t *testing.T) {
	t.Setenv("DOCKER_BUILDKIT", "0")
	f := newBuildFixture(t, map[string]string{
		"app/hello.txt":    "hello",
		"mount/Dockerfile": "FROM " + enginetest.BaseImage + "\nRUN --mount=type=cache,target=/cache true\n",
	})
	f.service("app", "", "app", types.BuildConfig{DockerfileInline: "FROM " + enginetest.BaseImage + "\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt\n"})
	imgs, err := f.images(false)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.run(imgs["app"].ref, "cat /copy.txt"); got != "hello" {
		t.Errorf("classic build: %q", got)
	}
	if !slices.ContainsFunc(f.msgs, func(m string) bool {
		return strings.HasPrefix(m, "building app: Step 2/") && strings.HasSuffix(m, " : COPY hello.txt /hello.txt")
	}) {
		t.Errorf("progress %q lacks the classic builder's steps", f.msgs)
	}
	f.service("mount", "", "mount", types.BuildConfig{})
	_, err = f.images(false)
	want := `service "mount": ` + filepath.Join(f.root, "mount", "Dockerfile") + ` line 2: RUN --mount=type=cache,target=/cache needs BuildKit, and DOCKER_BUILDKIT=0 turns it off; unset DOCKER_BUILDKIT (or set it to 1) and run up again`
	if !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to hold %q", err, want)
	}
}

// A build service's image: name tags its build as Compose does; services
// with the same image: and build share one build; a service that only
// names the image runs it instead of pulling it; a Dockerfile that builds
// FROM it waits for it and uses this worktree's build even when the
// image: name points elsewhere (BuildKit: a named context; the classic
// builder: the name tagged again just before). The classic builder's run
// is in the full tier: it is slow.
func TestImageNameOfBuildServices(t *testing.T) {
	for _, kit := range []string{"1", "0"} {
		t.Run("DOCKER_BUILDKIT="+kit, func(t *testing.T) {
			if kit == "0" {
				enginetest.Full(t)
			}
			t.Setenv("DOCKER_BUILDKIT", kit)
			testImageNameOfBuildServices(t)
		})
	}
}

func testImageNameOfBuildServices(t *testing.T) {
	image := "wtenv-test-" + randomHex(4) + "/app"
	f := newBuildFixture(t, map[string]string{
		"app/Dockerfile":     "FROM " + enginetest.BaseImage + "\nCOPY who /who\n",
		"app/who":            "app",
		"derived/Dockerfile": "FROM " + image + "\nCOPY more /more\n",
		"derived/more":       "more",
	})
	// The classic builder makes derived a child of app's image, which
	// cannot be removed before it.
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", BuiltImage(f.p.Name, "derived")).Run() })
	f.service("app", image, "app", types.BuildConfig{})
	f.service("app2", image, "app", types.BuildConfig{})
	f.service("runner", image, "", types.BuildConfig{})
	f.service("derived", "", "derived", types.BuildConfig{})
	imgs, err := f.images(false)
	if err != nil {
		t.Fatal(err)
	}
	app := imgs["app"]
	if app.ref != BuiltImage(f.p.Name, "app") || imgs["app2"].ref != BuiltImage(f.p.Name, "app2") || imgs["app2"].id != app.id {
		t.Errorf("app and app2: %+v %+v", app, imgs["app2"])
	}
	if imgs["runner"] != app {
		t.Errorf("runner runs %+v, want app's build %+v", imgs["runner"], app)
	}
	if id, err := f.eng.imageID(f.ctx, image); err != nil || id != app.id {
		t.Errorf("%s is %q (%v), want app's build %s", image, id, err, app.id)
	}
	var builds []string
	for _, m := range f.msgs {
		if strings.HasPrefix(m, "building ") && !strings.Contains(m, ":") {
			builds = append(builds, m)
		}
	}
	if want := []string{"building app (also app2)", "building derived"}; !slices.Equal(builds, want) {
		t.Errorf("builds %q, want %q", builds, want)
	}
	if got := f.run(imgs["derived"].ref, "cat /who /more"); got != "appmore" {
		t.Errorf("derived: %q", got)
	}

	// Another worktree's build now holds the image: name; this
	// worktree's rebuild of derived still builds on its own app.
	if out, err := exec.Command("docker", "tag", enginetest.BaseImage, image).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	derived := f.p.Services["derived"]
	derived.PullPolicy = types.PullPolicyBuild
	f.p.Services["derived"] = derived
	if imgs, err = f.images(false); err != nil {
		t.Fatal(err)
	}
	if got := f.run(imgs["derived"].ref, "cat /who /more"); got != "appmore" {
		t.Errorf("derived rebuilt on another image: %q", got)
	}
}

// A `# syntax=` line whose frontend image cannot be fetched fails with
// what the line asks for and how to build without it.
func TestSyntaxLineWithoutItsFrontendSaysSo(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"app/Dockerfile": "# syntax=registry.invalid/dockerfile:1\nFROM scratch\n"})
	f.service("app", "", "app", types.BuildConfig{})
	_, err := f.images(false)
	want := filepath.Join(f.root, "app", "Dockerfile") + " line 1 `# syntax=registry.invalid/dockerfile:1` asks BuildKit to fetch that Dockerfile frontend from a registry, and it could not"
	if !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "remove the `# syntax=` line, or make the registry reachable") {
		t.Errorf("error %v, want it to hold %q", err, want)
	}
}
