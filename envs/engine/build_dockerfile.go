package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// dockerfile is a service's Dockerfile and what wtenv needs to know of it
// before building: where BuildKit reads it from, the frontend its
// `# syntax=` line asks for, the first instruction only BuildKit runs, and
// the images it builds on.
type dockerfile struct {
	data []byte
	// dir and name locate the file for BuildKit; dir is "" for a
	// dockerfile_inline, which has no file.
	dir, name string
	// path is how messages name the file: its path, or "dockerfile_inline
	// of service X".
	path string

	syntax     string // the image of the `# syntax=` line, "" without one
	syntaxLine int    // its line, from 1
	// kitOnly names the first thing that only BuildKit builds, with its
	// line ("line 3: RUN --mount=type=cache,target=/root/.cache"), or "".
	kitOnly string
	// images are the images that FROM, COPY --from and RUN --mount from=
	// name (build arguments expanded; stage names and numbers left out).
	images []string
}

// readDockerfile reads the Dockerfile of a build section: its
// dockerfile_inline, or the file its dockerfile names (relative to the
// context; Dockerfile when unset).
func readDockerfile(service string, b *types.BuildConfig) (*dockerfile, error) {
	if b.DockerfileInline != "" {
		return parseDockerfile([]byte(b.DockerfileInline), b.Args, "", "Dockerfile", fmt.Sprintf("dockerfile_inline of service %q", service))
	}
	path := dockerfilePath(b)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: service %q: reading the Dockerfile: %w; check build.context and build.dockerfile", ErrImage, service, err)
	}
	return parseDockerfile(data, b.Args, filepath.Dir(path), filepath.Base(path), path)
}

// dockerfilePath is the absolute path of a build section's Dockerfile.
func dockerfilePath(b *types.BuildConfig) string {
	name := b.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(b.Context, name)
}

// parseDockerfile learns what dockerfile holds from data. A Dockerfile the
// parser refuses is returned with only its data: the build reports the
// parse error with the builder's own words.
func parseDockerfile(data []byte, args types.MappingWithEquals, dir, name, path string) (*dockerfile, error) {
	df := &dockerfile{data: data, dir: dir, name: name, path: path}
	if ref, _, loc, ok := parser.DetectSyntax(data); ok {
		df.syntax = ref
		if len(loc) > 0 {
			df.syntaxLine = loc[0].Start.Line
		}
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return df, nil
	}
	lex := shell.NewLex(res.EscapeToken)
	vars := map[string]string{}
	stages := map[string]bool{}
	seenFrom := false
	for _, n := range res.AST.Children {
		if df.kitOnly == "" {
			if what := kitOnly(n); what != "" {
				df.kitOnly = fmt.Sprintf("line %d: %s", n.StartLine, what)
			}
		}
		switch strings.ToLower(n.Value) {
		case "arg":
			if !seenFrom {
				for a := n.Next; a != nil; a = a.Next {
					k, v, _ := strings.Cut(a.Value, "=")
					vars[k] = strings.Trim(v, `"'`)
					if given, ok := args[k]; ok && given != nil {
						vars[k] = *given
					}
				}
			}
		case "from":
			seenFrom = true
			if n.Next == nil {
				continue
			}
			df.addImage(expand(lex, n.Next.Value, vars), stages)
			if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
				stages[strings.ToLower(as.Next.Value)] = true
			}
		case "copy", "add":
			for _, f := range n.Flags {
				if from, ok := strings.CutPrefix(f, "--from="); ok {
					df.addImage(expand(lex, from, vars), stages)
				}
			}
		case "run":
			for _, f := range n.Flags {
				mount, ok := strings.CutPrefix(f, "--mount=")
				if !ok {
					continue
				}
				for _, field := range strings.Split(mount, ",") {
					if from, ok := strings.CutPrefix(field, "from="); ok {
						df.addImage(expand(lex, from, vars), stages)
					}
				}
			}
		}
	}
	return df, nil
}

// addImage records name when it is an image rather than an earlier stage,
// a stage number or scratch.
func (df *dockerfile) addImage(name string, stages map[string]bool) {
	if name == "" || name == "scratch" || stages[strings.ToLower(name)] {
		return
	}
	if _, err := strconv.Atoi(name); err == nil {
		return
	}
	if !slices.Contains(df.images, name) {
		df.images = append(df.images, name)
	}
}

// expand replaces the build arguments in a FROM or --from value; a value
// that does not expand is kept as written.
func expand(lex *shell.Lex, word string, vars map[string]string) string {
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	out, _, err := lex.ProcessWord(word, shell.EnvsFromSlice(env))
	if err != nil {
		return word
	}
	return out
}

// kitOnly names what in one instruction only BuildKit builds, or "".
func kitOnly(n *parser.Node) string {
	if len(n.Heredocs) > 0 {
		return "a heredoc (" + firstLine(n.Original) + ")"
	}
	switch strings.ToLower(n.Value) {
	case "run":
		if len(n.Flags) > 0 {
			return strings.ToUpper(n.Value) + " " + n.Flags[0]
		}
	case "copy", "add":
		for _, f := range n.Flags {
			for _, kit := range []string{"--link", "--parents", "--exclude", "--checksum", "--keep-git-dir"} {
				if f == kit || strings.HasPrefix(f, kit+"=") {
					return strings.ToUpper(n.Value) + " " + f
				}
			}
		}
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// imageKey is how an image name is compared with another: normalized
// (docker.io/library/ added, :latest when untagged), or as written when it
// is no valid reference.
func imageKey(name string) string {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return reference.TagNameOnly(ref).String()
}

// contextName is the name under which the Dockerfile frontend looks up a
// named context for an image a Dockerfile names: its short form, without
// :latest (what the frontend itself derives from FROM's argument).
func contextName(name string) string {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return strings.TrimSuffix(reference.FamiliarString(ref), ":latest")
}
