package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/types"
)

// ErrNoComposeFile reports that the worktree has no compose file to load, or
// that a file named in wtenv.yaml or COMPOSE_FILE does not exist.
var ErrNoComposeFile = errors.New("no compose file")

// ErrInvalidCompose reports a compose file the loader rejects: its syntax,
// an unknown dependency, a cycle.
var ErrInvalidCompose = errors.New("invalid compose file")

// Load reads the compose project of the worktree at root, exactly as Docker
// Compose would read it from that directory, under the project name
// projectName. As in Docker Compose, the project directory (where .env is
// read and relative paths start) is the folder of the first compose file,
// which may be a subfolder of the worktree such as docker/. The profiles enabled are those of cfg, else those of
// COMPOSE_PROFILES, as Docker Compose's --profile flag would take precedence.
//
// The files are those named by cfg.Compose (relative to root), else those of
// COMPOSE_FILE (from the environment or root/.env), else the first of the
// default names in root plus its override file. Unlike Docker Compose, the
// search never climbs to parent directories: a linked worktree often lives
// inside the main checkout, and climbing would silently load the main
// checkout's stack instead of reporting that this one has none.
func Load(ctx context.Context, root string, cfg Config, projectName string) (*types.Project, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve worktree root %q: %w", root, err)
	}
	// The worktree root's environment (.env included) may name the files
	// in COMPOSE_FILE, as it does for docker compose run from there.
	atRoot, err := options(root, cfg, projectName)
	if err != nil {
		return nil, err
	}
	files, err := composeFiles(root, cfg.Compose, atRoot.Environment)
	if err != nil {
		return nil, err
	}
	// Docker Compose's project directory is the first file's folder: its
	// .env and every relative path of the files are read from there.
	opts := atRoot
	if dir := filepath.Dir(files[0]); dir != root {
		if opts, err = options(dir, cfg, projectName); err != nil {
			return nil, err
		}
	}
	opts.ConfigPaths = files
	given := opts.Environment[consts.ComposeProjectName]
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, loadError(root, files, err)
	}
	// The loader replaces COMPOSE_PROJECT_NAME with projectName; what the
	// environment or .env said is kept for the note that isolation
	// replaced it.
	if given != "" && p.Environment != nil {
		p.Environment[givenProjectName] = given
	}
	return p, nil
}

// givenProjectName keeps, in the project's environment (used for
// interpolation only, and done with by now), the COMPOSE_PROJECT_NAME
// the loader replaced.
const givenProjectName = "WTENV_GIVEN_COMPOSE_PROJECT_NAME"

// options prepares the loader for the project directory dir: the
// environment of this process, dir/.env and the profiles.
func options(dir string, cfg Config, projectName string) (*cli.ProjectOptions, error) {
	opts, err := cli.NewProjectOptions(nil,
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		withProfiles(cfg.Profiles),
		cli.WithName(projectName),
	)
	if err != nil {
		return nil, fmt.Errorf("prepare compose loader for %s: %w", dir, err)
	}
	return opts, nil
}

// withProfiles enables the named profiles, or when there are none those of
// COMPOSE_PROFILES from the environment or .env. It must follow WithDotEnv so
// that the environment is complete.
func withProfiles(named []string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		profiles := named
		if len(profiles) == 0 {
			for _, p := range strings.Split(o.Environment[consts.ComposeProfiles], ",") {
				if p = strings.TrimSpace(p); p != "" {
					profiles = append(profiles, p)
				}
			}
		}
		return cli.WithProfiles(profiles)(o)
	}
}

// composeFiles picks the compose files to load, in Docker Compose's order of
// precedence, with wtenv.yaml's compose: standing in for -f.
func composeFiles(root string, named []string, env types.Mapping) ([]string, error) {
	if len(named) > 0 {
		return existing(root, named, "under compose: in wtenv.yaml")
	}
	if list := env[consts.ComposeFilePath]; list != "" {
		sep := env[consts.ComposePathSeparator]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		return existing(root, strings.Split(list, sep), "in COMPOSE_FILE")
	}
	main := firstFile(root, cli.DefaultFileNames)
	if main == "" {
		return nil, fmt.Errorf("%w in %s: add compose.yaml, or name the files under compose: in wtenv.yaml", ErrNoComposeFile, root)
	}
	files := []string{main}
	if override := firstFile(root, cli.DefaultOverrideFileNames); override != "" {
		files = append(files, override)
	}
	return files, nil
}

// existing resolves names against root and checks each is a regular file, so
// a typo is reported as such rather than as a loader error.
func existing(root string, names []string, where string) ([]string, error) {
	files := make([]string, 0, len(names))
	for _, name := range names {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		info, err := os.Stat(path)
		if err != nil || !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s named %s is not a file; fix the name or create the file", ErrNoComposeFile, path, where)
		}
		files = append(files, path)
	}
	return files, nil
}

// firstFile returns the first of names that exists in dir, or "".
func firstFile(dir string, names []string) string {
	for _, name := range names {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			return path
		}
	}
	return ""
}

// loadError names the files and adds the next action to a loader error.
// The loader gives the line of a YAML syntax error, but not always the file
// of a semantic one (an unknown dependency, a cycle).
func loadError(root string, files []string, err error) error {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f
		if rel, rerr := filepath.Rel(root, f); rerr == nil && !strings.HasPrefix(rel, "..") {
			names[i] = rel
		}
	}
	return fmt.Errorf("%w: loading %s: %w; fix the compose file and retry", ErrInvalidCompose, strings.Join(names, " + "), err)
}
