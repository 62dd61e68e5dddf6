package stack

// Caches is `wtenv ls --caches` and `wtenv gc --caches`: the test caches
// (named volumes kept across runs, shared by a repository's worktrees),
// on every engine that answered.
type Caches struct {
	DryRun      bool     `json:"dry_run,omitempty"`
	Caches      []Cache  `json:"caches"`
	Unreachable []string `json:"unreachable,omitempty" jsonschema:"engines that did not answer, with why"`
}

// Cache is one test cache volume.
type Cache struct {
	Engine    string `json:"engine"`
	Volume    string `json:"volume"`
	Repo      string `json:"repo" jsonschema:"the repository (its common git directory) whose worktrees share it"`
	Path      string `json:"path" jsonschema:"the path in the test container it holds"`
	SizeBytes int64  `json:"size_bytes" jsonschema:"-1 when the engine does not say"`
	InUse     bool   `json:"in_use"`
}
