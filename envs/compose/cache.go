package compose

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// checkCache refuses cache paths that cannot be mounted.
func (s Suite) checkCache(name string) error {
	if s.Host && len(s.Cache) > 0 {
		return fmt.Errorf("tests.%s.cache applies to suites run in a container (service:); a host suite uses the host's own caches", name)
	}
	for _, p := range s.Cache {
		if !path.IsAbs(p) || path.Clean(p) == "/" {
			return fmt.Errorf("tests.%s.cache: %q is not an absolute path inside the container (such as /root/.cache/go-build)", name, p)
		}
	}
	return nil
}

// Caches returns the suite's cache paths: the ones wtenv.yaml names, or,
// when it names none, the defaults of the toolchain env (the service's
// environment over its image's) and the command make obvious, for a
// container that runs as root (user is the service's user:, else its
// image's): a new volume belongs to root, so another user could not write
// a default cache the image does not already hold for it. An empty cache:
// list turns the defaults off.
func (s Suite) Caches(env map[string]string, user string) []string {
	if s.Cache != nil {
		return slices.Clone(s.Cache)
	}
	if !isRoot(user) {
		return nil
	}
	return DefaultCaches(env, s.Command.Argv())
}

func isRoot(user string) bool {
	name, _, _ := strings.Cut(user, ":")
	return name == "" || name == "root" || name == "0"
}

// DefaultCaches returns the cache paths of the toolchains env and argv make
// obvious: for Go (GOCACHE, GOPATH, GOLANG_VERSION or GOTOOLCHAIN set, or
// the command is go), its build cache and module cache, where env puts
// them. Go's caches are safe to share between concurrent runs.
func DefaultCaches(env map[string]string, argv []string) []string {
	var out []string
	if isGo(env, argv) {
		home := env["HOME"]
		if home == "" {
			home = "/root"
		}
		build := env["GOCACHE"]
		if build == "" || build == "off" {
			build = path.Join(home, ".cache", "go-build")
		}
		mod := env["GOMODCACHE"]
		if mod == "" {
			gopath := env["GOPATH"]
			if gopath == "" {
				gopath = "/go" // the official images' GOPATH
			}
			mod = path.Join(strings.Split(gopath, ":")[0], "pkg", "mod")
		}
		out = append(out, build, mod)
	}
	return out
}

func isGo(env map[string]string, argv []string) bool {
	for _, k := range []string{"GOCACHE", "GOPATH", "GOLANG_VERSION", "GOTOOLCHAIN", "GOMODCACHE"} {
		if env[k] != "" {
			return true
		}
	}
	return len(argv) > 0 && path.Base(argv[0]) == "go"
}
