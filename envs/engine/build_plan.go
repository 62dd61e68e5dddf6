package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// buildUnit is one image build: one service's, or that of several services
// with the same image: and the same build section, which Compose builds
// once. The image gets each service's per-worktree tag (BuiltImage), so
// each runs its own tag of one image, and the image: name as Compose tags
// it.
type buildUnit struct {
	services []types.ServiceConfig // by name; the first leads: messages name it, and services that only run the image use its tag
	image    string                // the image: name as written, "" without one
	// bases are the images of the project's other builds that this one
	// builds on, by the name the Dockerfile or additional_contexts gives
	// them: built first, and handed to BuildKit as named contexts so
	// each worktree builds on its own copy.
	bases map[string]*buildUnit
	// after are the units in bases, without repeats, by lead name.
	after []*buildUnit
}

func (u *buildUnit) lead() types.ServiceConfig { return u.services[0] }

// names lists the unit's services for messages: "api", or "api (also
// worker, web)".
func (u *buildUnit) names() string {
	if len(u.services) == 1 {
		return u.lead().Name
	}
	var others []string
	for _, s := range u.services[1:] {
		others = append(others, s.Name)
	}
	return u.lead().Name + " (also " + strings.Join(others, ", ") + ")"
}

// ref is the tag that services without a build of their own run when their
// image: names this unit's image.
func (u *buildUnit) ref(project string) string { return BuiltImage(project, u.lead().Name) }

// tags are every name the built image gets: each service's own tag, then
// the image: name and build.tags.
func (u *buildUnit) tags(project string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if t != "" && !seen[imageKey(t)] {
			seen[imageKey(t)] = true
			out = append(out, t)
		}
	}
	for _, s := range u.services {
		add(BuiltImage(project, s.Name))
	}
	add(u.image)
	for _, t := range u.lead().Build.Tags {
		add(t)
	}
	return out
}

// imagePlan says how every service gets its image: by a build of the
// project (its own, or the build whose image: it names), or from the
// engine or a registry.
type imagePlan struct {
	units  []*buildUnit          // every unit after the units it builds on
	unitOf map[string]*buildUnit // service name → the build whose image it runs; absent: pulled or local
}

// planImages plans the images of the project's services and of extra
// (a one-off's service outside the enabled ones, say). Disabled services
// (another profile's, or left out by `up SERVICE`) take part only as
// builds of an image that a planned service uses; where both an enabled
// and a disabled service build one image differently, the enabled one's
// build is the image. A Dockerfile that cannot be read is not an error
// here: its build reports it.
func planImages(p *types.Project, extra ...types.ServiceConfig) (*imagePlan, error) {
	all := map[string]types.ServiceConfig{}
	enabled := map[string]bool{}
	for name, s := range p.DisabledServices {
		all[name] = s
	}
	for name, s := range p.Services {
		all[name] = s
		enabled[name] = true
	}
	for _, s := range extra {
		all[s.Name] = s
		enabled[s.Name] = true
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)

	plan := &imagePlan{unitOf: map[string]*buildUnit{}}
	var units []*buildUnit
	same := map[string]*buildUnit{}      // image and build → unit
	byImage := map[string][]*buildUnit{} // imageKey → units tagging it
	for _, name := range names {
		s := all[name]
		if s.Build == nil {
			continue
		}
		if s.Image != "" {
			key := imageKey(s.Image) + "\x00" + buildKey(s)
			if u, ok := same[key]; ok {
				u.services = append(u.services, s)
				plan.unitOf[name] = u
				continue
			}
			u := &buildUnit{services: []types.ServiceConfig{s}, image: s.Image}
			same[key] = u
			byImage[imageKey(s.Image)] = append(byImage[imageKey(s.Image)], u)
			units = append(units, u)
			plan.unitOf[name] = u
			continue
		}
		u := &buildUnit{services: []types.ServiceConfig{s}}
		units = append(units, u)
		plan.unitOf[name] = u
	}
	// builtAs finds the build that makes the image name, or nil; a name
	// that several different builds make is ambiguous.
	builtAs := func(name, user string) (*buildUnit, error) {
		us := byImage[imageKey(name)]
		if len(us) > 1 {
			var on []*buildUnit
			for _, u := range us {
				if slices.ContainsFunc(u.services, func(s types.ServiceConfig) bool { return enabled[s.Name] }) {
					on = append(on, u)
				}
			}
			if len(on) == 1 {
				return on[0], nil
			}
		}
		if len(us) > 1 {
			return nil, fmt.Errorf("%w: %s uses image %q, which services %q and %q both build, differently; give each build its own image: name, or make their build sections the same", ErrImage, user, name, us[0].lead().Name, us[1].lead().Name)
		}
		if len(us) == 1 {
			return us[0], nil
		}
		return nil, nil
	}
	for _, name := range names {
		s := all[name]
		if s.Build != nil || s.Image == "" {
			continue
		}
		u, err := builtAs(s.Image, fmt.Sprintf("service %q", name))
		if err != nil {
			return nil, err
		}
		if u != nil {
			plan.unitOf[name] = u
		}
	}
	for _, u := range units {
		if err := u.findBases(p.Name, all, plan.unitOf, len(byImage) > 0, builtAs); err != nil {
			return nil, err
		}
	}
	order, err := buildOrder(units)
	if err != nil {
		return nil, err
	}
	plan.units = order
	return plan, nil
}

// findBases fills bases: additional_contexts that name another service
// (service:NAME) whose image the project builds, and, when the project
// tags any build with an image: name, the images the Dockerfile names
// that another build makes. A name the user gave in additional_contexts
// wins over one found in the Dockerfile.
func (u *buildUnit) findBases(project string, all map[string]types.ServiceConfig, unitOf map[string]*buildUnit, named bool, builtAs func(name, user string) (*buildUnit, error)) error {
	s := u.lead()
	u.bases = map[string]*buildUnit{}
	if named {
		if df, err := readDockerfile(s.Name, s.Build); err == nil {
			for _, name := range df.images {
				base, err := builtAs(name, fmt.Sprintf("the Dockerfile of service %q", s.Name))
				if err != nil {
					return err
				}
				if base != nil && base != u {
					u.bases[contextName(name)] = base
				}
			}
		}
	}
	for name, value := range s.Build.AdditionalContexts {
		delete(u.bases, name)
		other, ok := strings.CutPrefix(value, types.ServicePrefix)
		if !ok {
			continue
		}
		if _, ok := all[other]; !ok {
			return fmt.Errorf("%w: service %q: build.additional_contexts %s names service %q, which is not in the project; name one of its services", ErrImage, s.Name, name, other)
		}
		if base := unitOf[other]; base != nil && base != u {
			u.bases[name] = base
		}
	}
	seen := map[*buildUnit]bool{}
	for _, base := range u.bases {
		if !seen[base] {
			seen[base] = true
			u.after = append(u.after, base)
		}
	}
	sort.Slice(u.after, func(i, j int) bool { return u.after[i].lead().Name < u.after[j].lead().Name })
	return nil
}

// buildKey is what must be equal for two services with the same image: to
// share one build: the whole build section and the platform.
func buildKey(s types.ServiceConfig) string {
	b, _ := json.Marshal(struct {
		Build    *types.BuildConfig
		Platform string
	}{s.Build, s.Platform})
	return string(b)
}

// buildOrder puts every unit after those it builds on, keeping the given
// (name) order otherwise, and refuses a cycle.
func buildOrder(units []*buildUnit) ([]*buildUnit, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[*buildUnit]int{}
	var order []*buildUnit
	var visit func(u *buildUnit, path []string) error
	visit = func(u *buildUnit, path []string) error {
		path = append(path, u.lead().Name)
		switch state[u] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("%w: the builds of services %s use each other's images; break the cycle in their Dockerfiles or additional_contexts", ErrImage, strings.Join(path, " → "))
		}
		state[u] = visiting
		for _, base := range u.after {
			if err := visit(base, path); err != nil {
				return err
			}
		}
		state[u] = done
		order = append(order, u)
		return nil
	}
	for _, u := range units {
		if err := visit(u, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// needed returns the units that the given services' images take, with the
// units they build on, in build order.
func (plan *imagePlan) needed(services []types.ServiceConfig) []*buildUnit {
	want := map[*buildUnit]bool{}
	var mark func(u *buildUnit)
	mark = func(u *buildUnit) {
		if want[u] {
			return
		}
		want[u] = true
		for _, base := range u.after {
			mark(base)
		}
	}
	for _, s := range services {
		if u := plan.unitOf[s.Name]; u != nil {
			mark(u)
		}
	}
	var out []*buildUnit
	for _, u := range plan.units {
		if want[u] {
			out = append(out, u)
		}
	}
	return out
}
